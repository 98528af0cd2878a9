/* SPDX-License-Identifier: Apache-2.0 */
/* Calling runtime.GOMAXPROCS inside a live Go process (linux/amd64, Go 1.17
 * to 1.25) through the runtime's debugger call protocol (debugCallV2). The
 * call is made by a short-lived tracer child process, so the caller's own
 * children and signals are left alone and a call already in flight is
 * finished even if the caller dies. */
#ifndef FG_GOCALL_H
#define FG_GOCALL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct user_regs_struct;

#define GOCALL_MAX_PROCS 1024

struct gocall_result {
	int prev;			/* value before the call; -1 unknown */
	int64_t elapsed_ns;		/* attach to detach */
	int64_t landed_at_ns;		/* CLOCK_MONOTONIC when the function
					 * returned (the change in effect); 0 */
	int probes;			/* threads examined for a safe point */
	int attempts;			/* calls started (refusals are retried) */
	bool via_trigger;		/* entered through a temporary breakpoint */
	bool other_thread;		/* a later stop arrived on another thread */
	bool in_flight;			/* gave up waiting while the call ran */
	int go_minor;			/* 1.N of the target */
	int error;			/* the tracer's negative errno, 0 */
	char why[200];			/* failure reason, or a note */
};

/**
 * gocall_gomaxprocs() - call runtime.GOMAXPROCS(@n) in @pid; @n = 0 only
 * reads. @timeout_ns bounds the whole call: when no safe point was found
 * or the call was not under way by then, it is given up before anything
 * ran and the target is left as it was.
 * Return: 0 with @ret->prev; -ENOTSUP (Go version, architecture),
 * -ENOENT (runtime.GOMAXPROCS not linked in), -EBUSY (already traced),
 * -EPERM (ptrace refused), -ESRCH (gone), -ETIMEDOUT (no safe point, or
 * the call is still running: see @ret->in_flight), -EDEADLK (asynchronous
 * preemption is off and goroutines loop without yielding, so the call
 * could never finish), -EPROTO (the runtime
 * refused or panicked); the reason is in @ret->why.
 */
int gocall_gomaxprocs(pid_t pid, int n, int64_t timeout_ns, struct gocall_result *ret);

/**
 * gocall_restore_gomaxprocs() - set GOMAXPROCS of @pid back to @value
 * (for the guardian and `faultgate recover`), with a 5 s bound.
 * Return: 0, or a negative errno as gocall_gomaxprocs(); -ESRCH when the
 * process is gone (nothing to restore).
 */
int gocall_restore_gomaxprocs(pid_t pid, int value);

/**
 * gocall_name_denied() - whether a function called @name must never be
 * interrupted for a call: runtime code, raw syscalls, linknamed runtime
 * bodies, cgo glue. Pure; exported for tests.
 */
bool gocall_name_denied(const char *name);

/**
 * gocall_restore_regs() - the registers to write back at the end of a
 * call: @saved, except the thread-owned FS/GS bases, which stay those of
 * @now (the thread that finished the call may not be the one that began
 * it). Pure; exported for tests.
 */
void gocall_restore_regs(const struct user_regs_struct *saved,
			 const struct user_regs_struct *now, struct user_regs_struct *ret);

#endif
