// SPDX-License-Identifier: Apache-2.0
/* `faultgate recover`: replay one journal given by hand, or every journal
 * linked in the run-state directory whose runner is no longer alive. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FG_LOG_COMPONENT "recover"
#include "inject.h"
#include "journal.h"
#include "log.h"

#define EXIT_REVERT_FAILED 1
#define EXIT_UNREADABLE 2

/* One journal. Return: the exit code for it. */
static int recover_one(const char *path)
{
	int reverted = 0, failed = 0, left = 0, closed, r;

	closed = journal_state(path, &left);
	if (closed < 0) {
		fprintf(stderr, "faultgate recover: cannot read journal '%s': %s\n", path,
			strerror(-closed));
		return EXIT_UNREADABLE;
	}
	if (!left) {
		printf("%s: nothing left to revert%s\n", path,
		       closed ? " (the run ended cleanly)" : "");
		return 0;
	}
	r = journal_replay(path, &reverted, &failed);
	if (r < 0 && r != -EIO) {
		fprintf(stderr, "faultgate recover: cannot replay '%s': %s\n", path,
			strerror(-r));
		return EXIT_UNREADABLE;
	}
	printf("%s: reverted %d change%s%s\n", path, reverted, reverted == 1 ? "" : "s",
	       failed ? "" : ", nothing left");
	if (failed) {
		fprintf(stderr,
			"faultgate recover: %d change%s in '%s' could not be reverted "
			"(see the lines above); run it again once fixed\n",
			failed, failed == 1 ? "" : "s", path);
		return EXIT_REVERT_FAILED;
	}
	return 0;
}

/* "<pid>.journal" -> pid, or 0. */
static pid_t runner_of(const char *name)
{
	char *end;
	long pid = strtol(name, &end, 10);

	return pid > 0 && strcmp(end, ".journal") == 0 ? (pid_t)pid : 0;
}

/* A runner that is still alive owns its journal: leave it alone. A link
 * whose journal was deleted (report directory removed) is dropped. */
static int recover_linked(const char *dir, const char *name, bool *ret_found)
{
	char link[PATH_MAX], target[PATH_MAX];
	pid_t runner = runner_of(name);
	ssize_t n;
	int code;

	if (!runner)
		return 0;
	snprintf(link, sizeof(link), "%s/%s", dir, name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	*ret_found = true;
	if (kill(runner, 0) == 0 || errno == EPERM) {
		printf("%s: runner %d is still running; not touching it\n", target, (int)runner);
		return 0;
	}
	if (access(target, F_OK) < 0) {
		printf("%s: gone (runner %d); dropping the link\n", target, (int)runner);
		(void)unlink(link);
		return 0;
	}
	code = recover_one(target);
	if (code == 0)
		(void)unlink(link);
	return code;
}

int recover_run(const char *journal)
{
	char dir[PATH_MAX - 256];
	struct dirent *de;
	bool found = false;
	DIR *d;
	int code = 0, r;

	if (journal)
		return recover_one(journal);
	r = journal_run_dir(dir, sizeof(dir));
	d = r < 0 ? NULL : opendir(dir);
	if (!d) {
		printf("no journal left in %s: nothing to recover\n", dir);
		return 0;
	}
	while ((de = readdir(d))) {
		int k = recover_linked(dir, de->d_name, &found);

		if (k > code)
			code = k;
	}
	closedir(d);
	if (!found)
		printf("no journal left in %s: nothing to recover\n", dir);
	return code;
}
