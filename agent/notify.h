/* SPDX-License-Identifier: Apache-2.0 */
/* The seccomp user-notification backend: slow-io and io-error for launched
 * targets, static Go binaries included. The filter traps only the syscalls
 * the playbook's faults name; the supervisor answers at once outside fault
 * windows, delays through a timer heap (never a thread per request), fails
 * with the configured errno, and counts what it did. */
#ifndef FG_NOTIFY_H
#define FG_NOTIFY_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "fault.h"

/* Shared (MAP_SHARED) between the supervisor in the runner and the keeper in
 * the launcher: the ids the supervisor holds without an answer yet, so the
 * keeper can answer them if the runner dies. */
#define NOTIFY_SHARED_SLOTS 1024

struct notify_shared {
	_Atomic uint64_t max_id;			/* highest id received */
	_Atomic uint64_t inflight[NOTIFY_SHARED_SLOTS];	/* 0 = free slot */
};

/** notify_shared_create() - an anonymous shared mapping; NULL on failure. */
struct notify_shared *notify_shared_create(void);
void notify_shared_free(struct notify_shared *s);

/**
 * notify_keeper_takeover() - used by the keeper when the runner is gone:
 * answer CONTINUE to every id the runner held and to any received since.
 * Return: number of notifications answered.
 */
int notify_keeper_takeover(int listener, struct notify_shared *s);

/** notify_continue_loop() - answer CONTINUE to every new notification until
 * @stop_fd becomes readable or the listener reports no tasks left. */
void notify_continue_loop(int listener, int stop_fd);

/**
 * notify_build_filter() - the BPF program (a struct sock_fprog, malloc'ed)
 * that traps the syscalls of every fault served by seccomp, in @faults.
 * Built with libseccomp in the runner, before any fork, so the child only
 * has to load it. Return: 0, -ENOENT (no fault needs seccomp: *ret NULL),
 * -ENOMEM, -EINVAL.
 */
int notify_build_filter(const struct fault_spec *faults, const enum fault_backend *backends,
			size_t n, void **ret_prog);
void notify_free_filter(void *prog);

/**
 * notify_load_filter() - in the child, between fork and exec: no-new-privs,
 * then seccomp(SET_MODE_FILTER, NEW_LISTENER | WAIT_KILLABLE_RECV if the
 * kernel has it). Async-signal-safe. Return: listener fd, or -errno.
 */
int notify_load_filter(const void *prog);

struct notify;

struct notify_fault_counters {
	uint64_t seen;		/* trapped syscalls matching the selectors inside the window */
	uint64_t delayed;
	uint64_t failed;
	int64_t delay_total_ns;
};

/**
 * notify_start() - run the supervisor in a thread of its own.
 * @fault_start_ns: monotonic time the fault phase starts; windows count
 *                  from there.
 * @fault_phase_ns: length of the fault phase.
 * Faults whose backend is not FAULT_BACKEND_SECCOMP are ignored.
 * Return: 0, -ENOMEM, or a thread error.
 */
int notify_start(int listener, pid_t target, const struct fault_spec *faults,
		 const enum fault_backend *backends, size_t n, int64_t fault_start_ns,
		 int64_t fault_phase_ns, uint64_t seed, struct notify_shared *shared,
		 struct notify **ret);

/** notify_disarm() - revert now: answer all delayed syscalls, no new faults. */
void notify_disarm(struct notify *n);

/** notify_counters() - counters of fault @i (index into the faults array). */
void notify_counters(struct notify *n, size_t i, struct notify_fault_counters *ret);

/** notify_stop() - disarm, then end the thread once the target is gone or
 * after answering what is pending. Safe to call twice. */
void notify_stop(struct notify *n);

struct notify *notify_free(struct notify *n);

#endif
