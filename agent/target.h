/* SPDX-License-Identifier: Apache-2.0 */
/* Launched targets. faultgate forks a launcher, which forks the target and
 * stays its parent for the whole run: it saves the target's output to
 * target.log, reaps it, reports its exit, and, when a seccomp filter is in
 * place, keeps a copy of the listener. If the runner dies, the launcher
 * becomes the keeper: it answers CONTINUE to every pending and future
 * notification and stops the target gracefully, so nothing is left harmed or
 * orphaned. */
#ifndef FG_TARGET_H
#define FG_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "playbook.h"

struct target;
struct notify_shared;

struct target_launch_opts {
	const char *log_path;		/* target stdout+stderr, truncated */
	/* Seccomp: a BPF program built by notify_build_filter() before any
	 * thread exists; NULL to launch without a filter. */
	const void *filter;		/* struct sock_fprog * */
	struct notify_shared *shared;	/* in-flight ids the keeper answers */
};

/**
 * target_launch() - start the command of @spec. Returns once the target has
 * called execve (or failed to).
 *
 * Return: 0; -ENOENT/-EACCES/-ENOEXEC... from execve (message in @reterr);
 * -EPERM when the filter cannot be installed; -ENOMEM.
 */
int target_launch(const struct target_spec *spec, const struct target_launch_opts *opts,
		  struct target **ret, struct fg_error *reterr);

/**
 * target_attach() - a target faultgate did not start: @pid is watched
 * through a pidfd (target_poll() sees its exit, with the status where the
 * kernel reports it for a non-child, else -1). target_stop() and
 * target_free() leave it running.
 * Return: 0; -ESRCH (gone); -ENOMEM; -EPERM.
 */
int target_attach(pid_t pid, struct target **ret, struct fg_error *reterr);

/** target_is_attached() - whether faultgate did not start the target. */
bool target_is_attached(const struct target *t);

/** target_pid() - the target's pid. */
pid_t target_pid(const struct target *t);

/** target_listener() - the runner's copy of the seccomp listener, or -1. */
int target_listener(const struct target *t);

/**
 * target_wait_ready() - wait for the readiness condition of @spec.
 *
 * Return: 0 ready; -ETIMEDOUT; -ECHILD when the target exited first (see
 * target_exit_status()). @reterr says which, with the URL or address.
 */
int target_wait_ready(struct target *t, const struct ready_spec *spec, struct fg_error *reterr);

/**
 * target_set_cancel_fd() - make target_wait_ready() give up with -EINTR as
 * soon as @fd becomes readable (the runner's signalfd); -1 for none.
 */
void target_set_cancel_fd(struct target *t, int fd);

/**
 * target_poll() - non-blocking check for the target's exit.
 * Return: 0 running, 1 exited, <0 lost contact with the launcher.
 */
int target_poll(struct target *t);

/**
 * target_exit_time() - CLOCK_MONOTONIC ns at which the target exited, as
 * seen by its launcher (or when the exit was noticed, for attached
 * targets); 0 while it runs.
 */
int64_t target_exit_time(const struct target *t);

/** target_exit_status() - wait(2) status once exited, else -1. */
int target_exit_status(const struct target *t);

/** target_describe_exit() - "exited with code 2", "killed by SIGKILL". */
const char *target_describe_exit(int status, char *buf, size_t size);

/**
 * target_stop() - SIGTERM, then SIGKILL after @grace_ns, wait for the exit,
 * and end the launcher. An attached target is left alone.
 * Return: 0, or -ETIMEDOUT if even SIGKILL did not end it within a second.
 */
int target_stop(struct target *t, int64_t grace_ns);

/**
 * target_log_tail() - the last @lines lines of the target log, for error
 * messages. Return: @buf (empty string on failure).
 */
char *target_log_tail(const char *log_path, int lines, char *buf, size_t size);

struct target *target_free(struct target *t);

#endif
