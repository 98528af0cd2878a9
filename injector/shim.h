/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers shared by the files of the LD_PRELOAD shim: the bootstrap
 * state, the per-thread recursion guard, lookup of the real libc functions,
 * logging without stdio or malloc, the scan of armed slots, delays, a
 * per-thread PRNG and the fd / path / peer selectors. Nothing here is
 * exported from the shared object: only the wrapped libc names are (see
 * symbols.map). */
#ifndef FG_SHIM_H
#define FG_SHIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "control.h"

/* Marks a wrapper that the shim exports (the preset hides everything else).
 * Every name marked so must also be listed in symbols.map. */
#define SHIM_EXPORT __attribute__((visibility("default")))

#define SHIM_LIKELY(x) __builtin_expect(!!(x), 1)
#define SHIM_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Constructor priorities: the bootstrap maps the block first; files that
 * start threads or install hooks from a constructor use SHIM_PRIO_LATE. */
#define SHIM_PRIO_BOOT 101
#define SHIM_PRIO_LATE 200

/* Log levels, numbered like syslog. */
enum {
	SHIM_LOG_ERROR = 3,
	SHIM_LOG_WARN = 4,
	SHIM_LOG_INFO = 6,
	SHIM_LOG_DEBUG = 7,
};

/* Bootstrap state, written once by the constructor in shim.c. */
struct shim_state {
	struct fg_ctl *ctl;		/* NULL: no block or a bad one; inert */
	_Atomic uint32_t *any_armed;	/* &ctl->any_armed, or a word always 0 */
	int log_fd;			/* dup of stderr taken at start-up, or -1 */
	int log_level;
	uint32_t n_faults;		/* min(ctl->n_faults, FG_CTL_MAX_FAULTS) */
};

extern struct shim_state shim;

/**
 * shim_idle() - the hot-path test: true when no slot is armed (or there is no
 * block). One relaxed atomic load; wrappers call the real function at once
 * when this is true.
 */
static inline bool shim_idle(void)
{
	return SHIM_LIKELY(!atomic_load_explicit(shim.any_armed, memory_order_relaxed));
}

/**
 * shim_enter() - take the per-thread recursion guard.
 * Return: true when the caller is the outermost shim frame on this thread
 * and may inject; false when already inside the shim (then call the real
 * function and do not call shim_leave()).
 */
bool shim_enter(void);
/** shim_leave() - release the guard taken by a successful shim_enter(). */
void shim_leave(void);

/**
 * shim_real() - the next definition of @name after the shim (RTLD_NEXT),
 * cached in *@cache. Safe before the constructor ran and from within
 * dlsym itself: returns NULL while a lookup is already under way on this
 * thread, and when the name does not exist. Callers then fail the call
 * with ENOSYS, as libc does for a missing function.
 */
void *shim_real(void *_Atomic *cache, const char *name);

/* Declare-and-fetch helper: SHIM_REAL(read) yields the real read, typed as
 * the libc prototype, or NULL (see shim_real()). */
#define SHIM_REAL(fn)                                                                   \
	({                                                                              \
		static void *_Atomic shim_cache_##fn;                                   \
		void *p_ = atomic_load_explicit(&shim_cache_##fn, memory_order_relaxed); \
		(__typeof__(&fn))(p_ ? p_ : shim_real(&shim_cache_##fn, #fn));          \
	})

/**
 * shim_log() - write one line "faultgate-shim[pid]: message" to the log fd
 * with the real write(), if @level is enabled. Formats into a stack buffer
 * with vsnprintf (no stream, no allocation for %s %d %u %ld %lu %x %p).
 * Preserves errno. Does not re-enter wrappers.
 */
void shim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * shim_slot_next() - index of the next armed slot at or after @from whose
 * kind is in @kinds (bit mask of 1u << enum fault_kind), or -1.
 * Usage: for (int i = shim_slot_next(0, m); i >= 0; i = shim_slot_next(i + 1, m))
 */
int shim_slot_next(int from, unsigned kinds);

/** shim_slot() - slot @i of the block; only for an index shim_slot_next() gave. */
static inline struct fg_ctl_fault *shim_slot(int i)
{
	return &shim.ctl->faults[i];
}

/** shim_rand() - next value of this thread's PRNG (seeded from ctl->seed and the tid). */
uint64_t shim_rand(void);
/** shim_chance() - true with probability @ppm per million. */
bool shim_chance(uint32_t ppm);
/** shim_pick_delay() - delay_ns of @f with jitter uniform in +-jitter_ns, never < 0. */
int64_t shim_pick_delay(const struct fg_ctl_fault *f);
/**
 * shim_delay() - sleep @ns on CLOCK_MONOTONIC (absolute deadline, so signals
 * do not stretch it); errno preserved. Adds to f->delayed and
 * f->delay_total_ns when @f is not NULL.
 */
void shim_delay(struct fg_ctl_fault *f, int64_t ns);

/* Class of an fd, as the seccomp path sees it. */
enum shim_fd_class {
	SHIM_FD_OTHER,		/* pipes, eventfds, anon inodes */
	SHIM_FD_SOCKET,
	SHIM_FD_FILE,		/* regular files and devices (anything with a path) */
};

/** shim_fd_class() - classify @fd with fstat (S_ISSOCK, S_ISREG, ...); errno preserved. */
enum shim_fd_class shim_fd_class(int fd);

/**
 * shim_fd_path() - the target of /proc/self/fd/@fd into @buf (NUL-ended).
 * Return: length, or -1 (errno preserved).
 */
int shim_fd_path(int fd, char *buf, size_t size);

/** shim_peer_matches() - whether @sa is one of the peers of @f (true when it has none). */
bool shim_peer_matches(const struct fg_ctl_fault *f, const struct sockaddr *sa, socklen_t len);

/**
 * shim_fd_matches() - whether the selectors of @f (fds, paths, peers) take
 * @fd. Paths are fnmatch globs without FNM_PATHNAME (a '*' crosses '/'),
 * matched on files only; peers through getpeername on sockets only.
 * Costs a few syscalls: call it only for an armed slot. errno preserved.
 */
bool shim_fd_matches(const struct fg_ctl_fault *f, int fd);

/**
 * shim_fail() - set errno to @err and return -1, for wrappers that inject
 * an error. Counts in f->failed.
 */
long shim_fail(struct fg_ctl_fault *f, int err);

#endif
