// SPDX-License-Identifier: Apache-2.0
/* mem-leak by syscall injection: every 100 ms one thread of the target is
 * stopped for one mmap and let go; when the pages are to be touched, they
 * are written from outside afterwards (process_vm_writev), so that no
 * thread is stopped while the kernel fills them, and a runner killed in
 * the middle cannot leave a thread with the injection's registers for
 * longer than the mmap itself takes. The mappings are unmapped the same way
 * at the window's end or on disarm, unless release: false. Threads waiting
 * in a syscall are chosen first: stopping a Go thread in user code can
 * stall the whole process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#define FG_LOG_COMPONENT "ptrace"
#include "cleanup.h"
#include "log.h"
#include "ptrace_private.h"
#include "tracee.h"
#include "units.h"

#define LEAK_STEP_NS (100 * FG_NSEC_PER_MSEC)
#define PAGE 4096ULL
#define UNMAP_PER_STOP 8
#define UNMAP_PATIENCE_NS (10 * FG_NSEC_PER_SEC)
#define TOUCH_BATCH 1024	/* pages per process_vm_writev (IOV_MAX) */

struct mapping {
	uint64_t addr, len;
	int journal_id;
};

/* Lower is better: idle waits first, the netpoller and user code last. */
static int rank_syscall(long nr)
{
	switch (nr) {
	case SYS_futex:
		return 0;
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
		return 1;
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
	case SYS_poll:
	case SYS_ppoll:
	case SYS_select:
	case SYS_pselect6:
		return 3;
	default:
		return nr >= 0 ? 2 : 4;
	}
}

static int task_rank(pid_t pid, pid_t tid)
{
	fg_autofclose FILE *f = NULL;
	char path[64];
	long nr;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%ld", &nr) != 1)
		return 4;	/* "running" */
	return rank_syscall(nr);
}

/* The thread to inject into, or -ESRCH when the process is gone. */
static pid_t choose_thread(pid_t pid)
{
	fg_autofree pid_t *tids = NULL;
	int n, best = 5;
	pid_t pick = -ESRCH;

	n = pt_list_tasks(pid, &tids);
	for (int k = 0; k < n; k++) {
		int r = task_rank(pid, tids[k]);

		if (r < best) {
			best = r;
			pick = tids[k];
		}
	}
	return pick;
}

/* Run @nr with @args in one thread of the target: seize, inject, release. */
static int inject(struct pt_job *j, long nr, const long args[6], long *ret)
{
	pid_t tid = choose_thread(j->pid);
	int sig = 0, r;

	if (tid < 0)
		return -ESRCH;
	r = tracee_seize_stop(tid, PT_STOP_TIMEOUT_NS, &sig);
	if (r < 0)
		return r;
	r = tracee_inject_syscall(j->pid, tid, nr, args, ret, &sig);
	if (tracee_release(tid, sig) < 0 && r == 0)
		r = -ESRCH;
	return r;
}

/* Write one zero byte into every page of [@addr, @addr + @len) of @pid,
 * which makes the kernel give each page its own memory. Return: bytes
 * touched. */
static uint64_t touch_pages(pid_t pid, uint64_t addr, uint64_t len)
{
	static const uint8_t zeros[TOUCH_BATCH];
	struct iovec local = { .iov_base = (void *)zeros }, remote[TOUCH_BATCH];
	uint64_t done = 0;

	while (done < len) {
		size_t n = 0;
		ssize_t got;

		while (n < TOUCH_BATCH && done + n * PAGE < len) {
			remote[n].iov_base = (void *)(uintptr_t)(addr + done + n * PAGE);
			remote[n].iov_len = 1;
			n++;
		}
		local.iov_len = n;
		got = process_vm_writev(pid, &local, 1, remote, n, 0);
		if (got <= 0)
			break;
		done += (uint64_t)got * PAGE;
		if ((size_t)got < n)
			break;
	}
	return done < len ? done : len;
}

static int map_chunk(struct pt_job *j, uint64_t len, struct mapping *m)
{
	long flags = MAP_PRIVATE | MAP_ANONYMOUS;
	long args[6] = {0, (long)len, PROT_READ | PROT_WRITE, flags, -1, 0};
	long ret = 0;
	int r;

	r = inject(j, SYS_mmap, args, &ret);
	if (r < 0)
		return r;
	if (ret < 0 && ret > -4096)
		return (int)ret;
	m->addr = (uint64_t)ret;
	m->len = len;
	m->journal_id = pt_journal_begin(j, "mmap", "pid=%d addr=%#llx len=%llu", (int)j->pid,
					 (unsigned long long)m->addr, (unsigned long long)len);
	atomic_fetch_add(&j->cnt.mapped, len);
	if (j->f->touch)
		atomic_fetch_add(&j->cnt.touched, touch_pages(j->pid, m->addr, len));
	return 0;
}

/* Unmap m[0..n) with a few munmaps per stop; stops early when the process
 * is gone (the mappings went with it). */
static void unmap_all(struct pt_job *j, struct mapping *m, size_t n)
{
	const struct timespec pause = { .tv_nsec = 5 * FG_NSEC_PER_MSEC };
	int64_t give_up = fg_now_ns() + UNMAP_PATIENCE_NS;
	size_t k = 0;

	while (k < n && fg_now_ns() < give_up) {
		pid_t tid = choose_thread(j->pid);
		int sig = 0, r;
		size_t stop = k + UNMAP_PER_STOP < n ? k + UNMAP_PER_STOP : n;

		if (tid < 0)
			break;
		r = tracee_seize_stop(tid, PT_STOP_TIMEOUT_NS, &sig);
		if (r == -ETIMEDOUT || r == -EBUSY || r == -EPERM) {
			/* held by another tracer of ours (a live runtime
			 * call seizes every thread for a moment) */
			nanosleep(&pause, NULL);
			continue;
		}
		if (r < 0)
			break;
		for (; k < stop; k++) {
			long args[6] = {(long)m[k].addr, (long)m[k].len, 0, 0, 0, 0};
			long ret = 0;

			r = tracee_inject_syscall(j->pid, tid, SYS_munmap, args, &ret, &sig);
			if (r < 0)
				break;
			if (ret == 0)
				atomic_fetch_add(&j->cnt.released, m[k].len);
			pt_journal_end(j, m[k].journal_id);
		}
		(void)tracee_release(tid, sig);
		if (r < 0) {
			(void)log_debug_errno(r, "munmap in pid %d", (int)j->pid);
			break;
		}
	}
}

void pt_run_leak(struct pt_job *j)
{
	const struct fault_spec *f = j->f;
	fg_autofree struct mapping *maps = NULL;
	uint64_t chunk, mapped = 0;
	size_t n = 0, cap = 0;
	int fails = 0;
	int64_t next = j->from_ns;

	chunk = (uint64_t)(f->rate_bytes_per_s * LEAK_STEP_NS / FG_NSEC_PER_SEC);
	chunk = (chunk + PAGE - 1) / PAGE * PAGE;
	if (chunk == 0)
		chunk = PAGE;
	while (mapped < f->limit_bytes && next < j->to_ns) {
		uint64_t len = f->limit_bytes - mapped < chunk ? f->limit_bytes - mapped : chunk;
		int r;

		if (pt_sleep_until(j, next))
			break;
		next += LEAK_STEP_NS;
		len = (len + PAGE - 1) / PAGE * PAGE;
		if (n == cap) {
			struct mapping *p = realloc(maps, (cap = cap ? cap * 2 : 64) * sizeof(*p));

			if (!p)
				break;
			maps = p;
		}
		r = map_chunk(j, len, &maps[n]);
		if (r == -ESRCH)
			break;
		if (r < 0) {
			(void)log_debug_errno(r, "mmap %llu bytes in pid %d",
					      (unsigned long long)len, (int)j->pid);
			fails++;
			snprintf(j->note, sizeof(j->note), "%d injected mmaps failed, the last "
				 "with: %s", fails, strerror(-r));
			continue;
		}
		mapped += len;
		n++;
	}
	(void)pt_sleep_until(j, j->to_ns);
	if (!f->release) {
		/* Left on purpose: nothing for a recovery to undo. */
		for (size_t k = 0; k < n; k++)
			pt_journal_end(j, maps[k].journal_id);
		return;
	}
	unmap_all(j, maps, n);
}
