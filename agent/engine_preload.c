// SPDX-License-Identifier: Apache-2.0
/* The preload engine: a control block in /dev/shm that the LD_PRELOAD shim
 * maps in the target, one slot per preload fault, armed and disarmed at the
 * window edges from the tick hook. Arming is kind-agnostic: every preload
 * fault gets its slot filled from its fault_spec, and the shim file that
 * serves the kind reads it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FG_LOG_COMPONENT "preload"
#include "control.h"
#include "engine.h"
#include "log.h"

#define SHIM_NAME "libfaultgate-preload.so"
#define PRELOAD_ENV "FAULTGATE_PRELOAD"
/* The kinds the shim serves (injector/io.c, cgo_block.c, leak.c). */
#define PRELOAD_KINDS                                                                   \
	((1u << FAULT_SLOW_IO) | (1u << FAULT_IO_ERROR) | (1u << FAULT_CGO_BLOCK) |     \
	 (1u << FAULT_MEM_LEAK))

struct preload_engine {
	struct fg_ctl *ctl;
	char path[64];			/* the block's /dev/shm file */
	size_t n_faults;		/* of the playbook */
	int slot_of[FG_CTL_MAX_FAULTS];	/* playbook fault -> slot, or -1 */
	int fault_of[FG_CTL_MAX_FAULTS]; /* slot -> playbook fault */
	bool disarmed;			/* for good: ticks no longer arm */
};

/* The shim: FAULTGATE_PRELOAD, else ../lib/ next to our own binary. */
static int find_shim(char *buf, size_t size)
{
	const char *env = secure_getenv(PRELOAD_ENV);
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		if (access(env, R_OK) < 0)
			return log_error_errno(-errno, "%s '%s'", PRELOAD_ENV, env);
		snprintf(buf, size, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return log_error_errno(-errno, "readlink /proc/self/exe");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	if (snprintf(buf, size, "%s/../lib/%s", exe, SHIM_NAME) >= (int)size)
		return -ENAMETOOLONG;
	if (access(buf, R_OK) < 0)
		return log_error_errno(-errno, "shim '%s' not found; set %s", buf, PRELOAD_ENV);
	return 0;
}

/* The LD_PRELOAD the target would get without us: the playbook's, else ours. */
static const char *current_preload(const struct run_ctx *c)
{
	const struct target_spec *t = &c->pb->target;
	const char *v = NULL;

	for (size_t i = 0; i < t->n_env; i++)
		if (!strncmp(t->env[i], "LD_PRELOAD=", 11))
			v = t->env[i] + 11;
	return v ? v : secure_getenv("LD_PRELOAD");
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* Fill slot @s from fault @f; lists longer than the slot are cut, with a warning. */
static void slot_fill(struct fg_ctl_fault *s, const struct fault_spec *f, size_t i)
{
	s->kind = (uint32_t)f->kind;
	s->syscalls = f->syscalls;
	s->fds = (uint32_t)f->fds;
	s->probability_ppm = (uint32_t)lround(f->probability * 1e6);
	s->err = f->err;
	s->delay_ns = f->delay_ns;
	s->jitter_ns = f->jitter_ns;
	if (f->n_paths > FG_CTL_MAX_PATHS || f->n_peers > FG_CTL_MAX_PEERS ||
	    f->n_symbols > FG_CTL_MAX_SYMBOLS)
		log_warn("fault %zu: the shim takes at most %d paths, %d peers, %d symbols; "
			 "the rest are ignored",
			 i + 1, FG_CTL_MAX_PATHS, FG_CTL_MAX_PEERS, FG_CTL_MAX_SYMBOLS);
	for (size_t k = 0; k < f->n_paths && k < FG_CTL_MAX_PATHS; k++, s->n_paths++)
		copy_str(s->paths[k], sizeof(s->paths[k]), f->paths[k]);
	for (size_t k = 0; k < f->n_peers && k < FG_CTL_MAX_PEERS; k++, s->n_peers++) {
		copy_str(s->peers[k].host, sizeof(s->peers[k].host), f->peers[k].host);
		s->peers[k].port = f->peers[k].port;
	}
	for (size_t k = 0; k < f->n_symbols && k < FG_CTL_MAX_SYMBOLS; k++, s->n_symbols++)
		copy_str(s->symbols[k], sizeof(s->symbols[k]), f->symbols[k]);
	s->leak_rate_bps = f->rate_bytes_per_s > 0 ? (uint64_t)f->rate_bytes_per_s : 0;
	s->leak_limit = f->limit_bytes;
	s->touch = f->touch;
	s->release = f->release;
	for (size_t k = 0; k < f->n_cpus; k++)
		if (f->cpus[k] >= 0 && f->cpus[k] < 64 * FG_CTL_CPU_WORDS)
			s->cpus[f->cpus[k] / 64] |= 1ull << (f->cpus[k] % 64);
}

static int block_create(struct preload_engine *e, uint64_t seed)
{
	static unsigned serial;
	int fd, r;

	snprintf(e->path, sizeof(e->path), "/dev/shm/faultgate-%d-%u", (int)getpid(), serial++);
	fd = open(e->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		e->path[0] = '\0';
		return log_error_errno(r, "create control block");
	}
	if (ftruncate(fd, sizeof(struct fg_ctl)) < 0) {
		r = -errno;
		close(fd);
		return log_error_errno(r, "size control block '%s'", e->path);
	}
	e->ctl = mmap(NULL, sizeof(struct fg_ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	r = -errno;
	close(fd);
	if (e->ctl == MAP_FAILED) {
		e->ctl = NULL;
		return log_error_errno(r, "map control block '%s'", e->path);
	}
	e->ctl->version = FG_CTL_VERSION;
	e->ctl->size = sizeof(struct fg_ctl);
	e->ctl->seed = seed;
	return 0;
}

static int preload_env(struct preload_engine *e, struct run_ctx *c)
{
	char shim[PATH_MAX], *value = NULL;
	const char *old;
	int r;

	r = find_shim(shim, sizeof(shim));
	if (r < 0)
		return r;
	old = current_preload(c);
	if (old && *old) {
		if (asprintf(&value, "%s:%s", old, shim) < 0)
			return -ENOMEM;
	}
	r = run_ctx_add_env(c, "LD_PRELOAD", value ? value : shim);
	free(value);
	if (r < 0)
		return r;
	return run_ctx_add_env(c, FG_CTL_ENV, e->path);
}

static int preload_prepare(struct run_ctx *c, void **ret_state)
{
	struct preload_engine *e;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < c->pb->n_faults; i++)
		n += engine_serves(&engine_preload, c, i) ||
		     engine_assists(&engine_preload, c, i);
	*ret_state = NULL;
	if (!n)
		return 0;
	if (n > FG_CTL_MAX_FAULTS)
		return log_error_errno(-E2BIG, "%zu preload faults, the shim takes at most %d", n,
				       FG_CTL_MAX_FAULTS);
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*ret_state = e;
	e->n_faults = c->pb->n_faults;
	r = block_create(e, c->seed);
	if (r < 0)
		return r;
	for (size_t i = 0, s = 0; i < c->pb->n_faults; i++) {
		if (i < FG_CTL_MAX_FAULTS)
			e->slot_of[i] = -1;
		if (!engine_serves(&engine_preload, c, i) &&
		    !engine_assists(&engine_preload, c, i))
			continue;
		slot_fill(&e->ctl->faults[s], &c->pb->faults[i], i);
		e->slot_of[i] = (int)s;
		e->fault_of[s++] = (int)i;
	}
	e->ctl->n_faults = (uint32_t)n;
	/* The shim checks the magic last: write it once the block is complete. */
	atomic_thread_fence(memory_order_release);
	e->ctl->magic = FG_CTL_MAGIC;
	return preload_env(e, c);
}

static void set_armed(struct preload_engine *e, uint32_t slot, bool on)
{
	struct fg_ctl *ctl = e->ctl;
	uint32_t any = 0;

	atomic_store_explicit(&ctl->faults[slot].armed, on, memory_order_release);
	for (uint32_t s = 0; s < ctl->n_faults; s++)
		any |= atomic_load_explicit(&ctl->faults[s].armed, memory_order_relaxed);
	atomic_store_explicit(&ctl->any_armed, any, memory_order_release);
}

static void preload_tick(void *state, struct run_ctx *c, int64_t elapsed_ns)
{
	struct preload_engine *e = state;

	if (!e || e->disarmed)
		return;
	for (uint32_t s = 0; s < e->ctl->n_faults; s++) {
		size_t i = (size_t)e->fault_of[s];
		int64_t from, to;
		bool want, now;

		run_ctx_window(c, i, &from, &to);
		want = elapsed_ns >= from && elapsed_ns < to;
		now = atomic_load_explicit(&e->ctl->faults[s].armed, memory_order_relaxed);
		if (want != now) {
			log_debug("fault %zu %s at %.3f s", i + 1, want ? "armed" : "disarmed",
				  elapsed_ns / 1e9);
			set_armed(e, s, want);
		}
	}
}

static void preload_disarm(void *state)
{
	struct preload_engine *e = state;

	if (!e || !e->ctl)
		return;
	e->disarmed = true;
	atomic_store_explicit(&e->ctl->any_armed, 0, memory_order_release);
	for (uint32_t s = 0; s < e->ctl->n_faults; s++)
		atomic_store_explicit(&e->ctl->faults[s].armed, 0, memory_order_release);
}

static void preload_counters(void *state, size_t i, struct fault_result *ret)
{
	struct preload_engine *e = state;
	struct fg_ctl_fault *s;

	if (!e || !e->ctl || i >= e->n_faults || i >= FG_CTL_MAX_FAULTS || e->slot_of[i] < 0)
		return;
	s = &e->ctl->faults[e->slot_of[i]];
	if (s->kind == FAULT_PIN_THREADS) {
		/* Helping the affinity engine: threads the hook pinned. */
		ret->threads_pinned += atomic_load(&s->threads_pinned);
		return;
	}
	ret->seen = atomic_load(&s->seen);
	ret->delayed = atomic_load(&s->delayed);
	ret->failed = atomic_load(&s->failed);
	ret->delay_total_ns = (int64_t)atomic_load(&s->delay_total_ns);
	ret->bytes_mapped = atomic_load(&s->bytes_mapped);
	ret->bytes_touched = atomic_load(&s->bytes_touched);
	ret->threads_pinned = atomic_load(&s->threads_pinned);
	if (!atomic_load(&e->ctl->shim_pid))
		snprintf(ret->note, sizeof(ret->note),
			 "the shim never attached to the control block (static binary, "
			 "or LD_PRELOAD dropped by the target)");
}

static void preload_free(void *state)
{
	struct preload_engine *e = state;

	if (!e)
		return;
	preload_disarm(e);
	if (e->ctl)
		munmap(e->ctl, sizeof(struct fg_ctl));
	if (e->path[0] && unlink(e->path) < 0 && errno != ENOENT)
		(void)log_warn_errno(-errno, "remove control block '%s', continuing", e->path);
	free(e);
}

/* The shim can pin the threads a launched, dynamically linked target
 * creates during a pin-threads window, at creation, before they run. */
static bool preload_can_assist(const struct run_ctx *c)
{
	const struct target_facts *f = &c->prep->facts;

	return f->launched && !(f->known && f->is_static);
}

const struct engine_ops engine_preload = {
	.name = "preload",
	.backend = FAULT_BACKEND_PRELOAD,
	.kinds = PRELOAD_KINDS,
	.assist_kinds = 1u << FAULT_PIN_THREADS,
	.can_assist = preload_can_assist,
	.prepare = preload_prepare,
	.tick = preload_tick,
	.disarm = preload_disarm,
	.counters = preload_counters,
	.free = preload_free,
};
