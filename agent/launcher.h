/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher process (parent of the target, keeper of the listener) and
 * the messages it exchanges with the runner. Private to target.c and
 * launcher.c. */
#ifndef FG_LAUNCHER_H
#define FG_LAUNCHER_H

#include <stdint.h>
#include <sys/types.h>

struct notify_shared;

/* Which step of the start failed; sent as the arg of LAUNCH_MSG_EXEC_FAIL. */
enum launch_step {
	LAUNCH_STEP_EXEC,
	LAUNCH_STEP_LOG,
	LAUNCH_STEP_CHDIR,
	LAUNCH_STEP_FILTER,
	LAUNCH_STEP_FORK,
};

enum launch_msg_type {
	LAUNCH_MSG_EXEC_OK = 1,	/* value: target pid; SCM_RIGHTS: listener */
	LAUNCH_MSG_EXEC_FAIL,	/* value: positive errno; arg: launch_step */
	LAUNCH_MSG_EXIT,	/* value: wait status; arg: CLOCK_MONOTONIC ns of the exit */
	LAUNCH_MSG_STOP,	/* runner to launcher; arg: grace in ns */
};

struct launch_msg {
	uint32_t type;
	int32_t value;
	int64_t arg;
};

/* Set up by the runner before the fork; read-only in the launcher. */
struct launch_plan {
	int sock;			/* SOCK_SEQPACKET to the runner */
	pid_t runner;
	const char *log_path;
	char *const *argv;
	char *const *envp;
	const char *cwd;
	const void *filter;		/* struct sock_fprog *, or NULL */
	struct notify_shared *shared;
	int64_t stop_grace_ns;
};

/** launcher_main() - run the launcher in the freshly forked child. Never
 * returns. */
__attribute__((noreturn)) void launcher_main(const struct launch_plan *plan);

#endif
