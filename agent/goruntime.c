// SPDX-License-Identifier: Apache-2.0
/* Live Go runtime readout without running code in the target. Reads are
 * racy snapshots of aligned words, which is fine for reporting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "cleanup.h"
#include "goruntime.h"

#define MAX_GOMAXPROCS 4096
#define MAX_ALLGS (1u << 22)
#define IOV_BATCH 512
#define G_RUNNABLE 1
#define G_RUNNING 2
#define G_SYSCALL 3
#define G_WAITING 4
#define G_COPYSTACK 8
#define G_PREEMPTED 9
#define G_SCAN 0x1000u

int goruntime_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { .iov_base = buf, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int goruntime_status_offset(int minor)
{
	if (minor >= 16 && minor <= 22)
		return 0x90;
	if (minor == 23 || minor == 24)
		return 0x98;
	if (minor == 25)
		return 0x90;
	return -1;
}

size_t goruntime_riprel(const uint8_t *code, size_t len, uint64_t pc, uint8_t opcode,
			uint64_t *ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i + 7 <= len && n < max; i++) {
		int32_t disp;

		/* REX.W (with or without REX.R), opcode, ModRM mod=00 rm=101 */
		if ((code[i] != 0x48 && code[i] != 0x4c) || code[i + 1] != opcode ||
		    (code[i + 2] & 0xc7) != 0x05)
			continue;
		memcpy(&disp, code + i + 3, 4);
		ret[n++] = pc + i + 7 + (uint64_t)(int64_t)disp;
		i += 6;
	}
	return n;
}

/* The first RIP-relative load with @opcode in function @name, plus @adj.
 * Return: link-time address, or 0. */
static uint64_t decode_first(const struct goelf *g, const char *name, uint8_t opcode,
			     int64_t adj)
{
	const struct goelf_func *f = goelf_func_named(g, name);
	uint8_t code[256];
	uint64_t t;
	size_t len;

	if (!f)
		return 0;
	len = f->end - f->entry < sizeof(code) ? f->end - f->entry : sizeof(code);
	if (goelf_read(g, f->entry, code, len) < 0)
		return 0;
	if (goruntime_riprel(code, len, f->entry, opcode, &t, 1) != 1)
		return 0;
	return t + (uint64_t)adj;
}

static void locate(struct goruntime *rt)
{
	const struct goelf *g = rt->elf;
	uint64_t a;

	if (goelf_symbol(g, "runtime.gomaxprocs", &a, NULL) == 0) {
		rt->gomaxprocs_src = "symbol";
	} else {
		/* GOMAXPROCS(n) reads the old value with a sign-extending load
		 * right after taking sched.lock (Go 1.16 to 1.25). */
		a = decode_first(g, "runtime.GOMAXPROCS", 0x63, 0);
		rt->gomaxprocs_src = a ? "decoded" : NULL;
	}
	rt->gomaxprocs_addr = a ? a + rt->bias : 0;

	rt->status_off = goruntime_status_offset(g->go_minor);
	if (goelf_symbol(g, "runtime.allgs", &a, NULL) == 0) {
		rt->allgs_src = "symbol";
	} else {
		/* allgadd's first 64-bit load is len(allgs), the slice's
		 * second word. */
		a = decode_first(g, "runtime.allgadd", 0x8b, -8);
		rt->allgs_src = a ? "decoded" : NULL;
	}
	rt->allgs_addr = a ? a + rt->bias : 0;
}

int goruntime_open(pid_t pid, struct goruntime **ret)
{
	char path[64];
	struct goruntime *rt;
	int r;

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	r = goelf_open(path, &rt->elf);
	if (r == -ENOENT)
		r = -ESRCH;
	if (r == 0 && !rt->elf->is_go)
		r = -ENOEXEC;
	if (r == 0)
		r = goelf_load_bias(rt->elf, pid, &rt->bias);
	if (r < 0) {
		goruntime_free(rt);
		return r;
	}
	locate(rt);
	*ret = rt;
	return 0;
}

struct goruntime *goruntime_free(struct goruntime *rt)
{
	if (!rt)
		return NULL;
	goelf_free(rt->elf);
	free(rt);
	return NULL;
}

int goruntime_gomaxprocs(const struct goruntime *rt, int *ret)
{
	int32_t v;
	int r;

	if (!rt->gomaxprocs_addr)
		return -ENOENT;
	r = goruntime_read(rt->pid, rt->gomaxprocs_addr, &v, sizeof(v));
	if (r < 0)
		return r;
	if (v < 1 || v > MAX_GOMAXPROCS)
		return -EPROTO;
	*ret = v;
	return 0;
}

/* Sort the live goroutines among @n g pointers by state. */
static int count_states(const struct goruntime *rt, const uint64_t *gs, size_t n,
			struct goruntime_gstates *c)
{
	struct iovec l[IOV_BATCH], r[IOV_BATCH];
	uint32_t st[IOV_BATCH];

	for (size_t i = 0; i < n; i += IOV_BATCH) {
		size_t k = n - i < IOV_BATCH ? n - i : IOV_BATCH, m = 0;
		ssize_t got;

		for (size_t j = 0; j < k; j++) {
			if (!gs[i + j])
				continue;
			l[m].iov_base = &st[m];
			l[m].iov_len = sizeof(st[m]);
			r[m].iov_base = (void *)(uintptr_t)(gs[i + j] + (uint64_t)rt->status_off);
			r[m].iov_len = sizeof(st[m]);
			m++;
		}
		got = process_vm_readv(rt->pid, l, m, r, m, 0);
		if (got < 0)
			return -errno;
		for (size_t j = 0; j < (size_t)got / sizeof(uint32_t); j++) {
			switch (st[j] & ~G_SCAN) {
			case G_RUNNABLE:
			case G_PREEMPTED:
				c->runnable++;
				break;
			case G_RUNNING:
			case G_COPYSTACK:
				c->running++;
				break;
			case G_SYSCALL:
				c->syscall++;
				break;
			case G_WAITING:
				c->waiting++;
				break;
			default:	/* idle, dead, or not a g any more */
				continue;
			}
			c->total++;
		}
	}
	return 0;
}

int goruntime_goroutine_states(const struct goruntime *rt, struct goruntime_gstates *ret)
{
	fg_autofree uint64_t *gs = NULL;
	uint64_t hdr[3];
	int r;

	*ret = (struct goruntime_gstates){ 0 };
	if (!rt->allgs_addr || rt->status_off < 0)
		return -ENOENT;
	r = goruntime_read(rt->pid, rt->allgs_addr, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	if (!hdr[0] || hdr[1] == 0 || hdr[1] > hdr[2] || hdr[1] > MAX_ALLGS)
		return -EPROTO;
	gs = malloc(hdr[1] * sizeof(*gs));
	if (!gs)
		return -ENOMEM;
	r = goruntime_read(rt->pid, hdr[0], gs, hdr[1] * sizeof(*gs));
	if (r < 0)
		return r;
	return count_states(rt, gs, hdr[1], ret);
}

int goruntime_goroutines(const struct goruntime *rt, int *ret)
{
	struct goruntime_gstates c;
	int r = goruntime_goroutine_states(rt, &c);

	if (r == 0)
		*ret = c.total;
	return r;
}
