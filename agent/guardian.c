// SPDX-License-Identifier: Apache-2.0
/* The guardian: a small process forked by the runner that outlives it only
 * long enough to undo what the kernel does not undo by itself (affinity
 * masks, injected mappings, GOMAXPROCS) when the runner dies without
 * closing its journal. It has its own session, so the terminal's ^C and
 * hang-up do not reach it, and it holds nothing but a pidfd of the runner
 * and stderr for one line of news. */
#define FG_LOG_COMPONENT "guardian"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"

#define STOP_WAIT_MS 2000
#define STOP_POLL_MS 10

static volatile sig_atomic_t told_to_check;

static void on_usr1(int sig)
{
	told_to_check = 1;
}

/* Everything but stderr and @keep goes; stdin and stdout read /dev/null. */
static int shed_fds(int keep)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		(void)dup2(null, STDIN_FILENO);
		(void)dup2(null, STDOUT_FILENO);
	}
	if (dup2(keep, 3) < 0)
		return -errno;
	if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0) {
		for (int fd = 4; fd < 1024; fd++)
			(void)close(fd);
	}
	return 3;
}

/* The runner is gone: replay unless it closed the journal. */
static int finish(const char *path, pid_t runner)
{
	int reverted = 0, failed = 0, left = 0, r;
	char link[PATH_MAX], dir[PATH_MAX - 32];

	r = journal_state(path, &left);
	if (r == 1 && !left)
		return 0;
	if (r < 0) {
		(void)log_error_errno(r, "runner %d died; cannot read its journal %s", (int)runner,
				path);
		return 1;
	}
	r = journal_replay(path, &reverted, &failed);
	if (r < 0 && r != -EIO) {
		(void)log_error_errno(r, "runner %d died; cannot replay %s", (int)runner, path);
		return 1;
	}
	if (failed) {
		log_error("runner %d died; reverted %d change%s, %d failed; "
			  "try 'faultgate recover --journal %s'",
			  (int)runner, reverted, reverted == 1 ? "" : "s", failed, path);
		return 1;
	}
	log_warn("runner %d died; reverted %d change%s it left (journal %s)", (int)runner,
		 reverted, reverted == 1 ? "" : "s", path);
	if (journal_run_dir(dir, sizeof(dir)) == 0) {
		snprintf(link, sizeof(link), "%s/%d.journal", dir, (int)runner);
		(void)unlink(link);
	}
	return 0;
}

static __attribute__((noreturn)) void guardian_main(const char *path, pid_t runner)
{
	sigset_t wait_mask;
	struct pollfd pfd;
	int pidfd;

	(void)setsid();
	(void)prctl(PR_SET_NAME, "fg-guardian");
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	pidfd = pidfd_open(runner, 0);
	if (pidfd < 0 || getppid() != runner)
		_exit(finish(path, runner));
	pidfd = shed_fds(pidfd);
	if (pidfd < 0)
		_exit(finish(path, runner));
	if (chdir("/") < 0)
		log_debug("chdir /: %s", strerror(errno));
	/* SIGUSR1 was blocked across the fork; it is let in only while
	 * waiting, so the check cannot be missed. */
	sigprocmask(SIG_SETMASK, NULL, &wait_mask);
	sigdelset(&wait_mask, SIGUSR1);
	pfd = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	for (;;) {
		int left = 0;

		if (ppoll(&pfd, 1, NULL, &wait_mask) > 0)
			_exit(finish(path, runner));
		if (told_to_check) {
			told_to_check = 0;
			if (journal_state(path, &left) == 1 && !left)
				_exit(0);
		}
	}
}

pid_t journal_guardian_start(const char *path)
{
	char abs[PATH_MAX];
	sigset_t usr1, old;
	pid_t runner = getpid(), pid;
	int saved;

	if (!realpath(path, abs))
		return -errno;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, &old);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		guardian_main(abs, runner);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -saved;
	log_debug("guardian %d watches journal %s", (int)pid, abs);
	return pid;
}

int journal_guardian_stop(pid_t guardian)
{
	if (guardian <= 0)
		return 0;
	if (kill(guardian, SIGUSR1) < 0)
		return -errno;
	for (int waited = 0; waited < STOP_WAIT_MS; waited += STOP_POLL_MS) {
		struct timespec ts = { 0, STOP_POLL_MS * 1000000L };
		pid_t r = waitpid(guardian, NULL, WNOHANG);

		if (r == guardian)
			return 0;
		if (r < 0)
			return -errno;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}
