/* SPDX-License-Identifier: Apache-2.0 */
/* kernel.task_delayacct on for a run and back to its old value after, also
 * when the runner is killed: a small guardian process restores it when the
 * runner's end of a pipe closes without a "done". Concurrent runs share the
 * switch through a state file that lists the runners holding it. */
#ifndef FG_DELAYACCT_H
#define FG_DELAYACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define DELAYACCT_SYSCTL "/proc/sys/kernel/task_delayacct"

struct delayacct {
	int old;		/* value before the run; -1 unknown */
	bool held;		/* we are listed in the state file */
	bool switched;		/* the value was 0 and we set it to 1 */
	int guard_fd;		/* write end of the guardian's pipe, or -1 */
	pid_t guardian;
};

/**
 * delayacct_on() - switch kernel.task_delayacct to 1 for this process's
 * run. Call while the process has no other threads (it forks).
 * @reterr_why: the reason when it fails, for the report.
 * Return: 0 (it is on: switched or already on); -EACCES/-EPERM/-EROFS
 * when the sysctl cannot be written; -ENOENT when the kernel has none;
 * -errno of the state file.
 */
int delayacct_on(struct delayacct *d, char *reterr_why, size_t why_size);

/** delayacct_restore() - put the old value back if no other run holds it. Safe twice. */
void delayacct_restore(struct delayacct *d);

/** delayacct_read() - the current value, or -errno. */
int delayacct_read(void);

#endif
