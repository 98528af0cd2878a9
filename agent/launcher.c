// SPDX-License-Identifier: Apache-2.0
/* The launcher: forks the target, hands its seccomp listener to the runner,
 * reports its exit, and, if the runner dies, keeps it safe: answers every
 * trapped syscall with CONTINUE and stops it gracefully. */
#define FG_LOG_COMPONENT "launcher"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"
#include "notify.h"
#include "target.h"
#include "units.h"

/* Shared between the launcher and the target until the target's exec. */
struct handoff {
	_Atomic int listener;
	_Atomic int err;
	_Atomic int step;
};

struct launcher {
	const struct launch_plan *plan;
	int sock;
	int runner_pidfd;
	int log;
	pid_t child;
	int child_pidfd;
	int listener;
	bool keeper;
	bool stopping;
	bool killed;
	int64_t kill_at_ns;		/* 0: no SIGKILL scheduled */
	int answered;
	int keeper_efd;
	pthread_t keeper_thread;
	bool keeper_thread_started;
};

struct keeper_args {
	int listener;
	int efd;
};

static struct keeper_args keeper_args;

static void send_msg(int sock, uint32_t type, int32_t value, int64_t arg, int fd)
{
	struct launch_msg m = { .type = type, .value = value, .arg = arg };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	/* The runner may be gone; that is for the poll loop to notice. */
	(void)sendmsg(sock, &mh, MSG_NOSIGNAL);
}

static __attribute__((noreturn)) void child_fail(struct handoff *h, int step, int err)
{
	atomic_store(&h->step, step);
	atomic_store(&h->err, err ? err : EIO);
	_exit(127);
}

/* In the target, between fork and exec. Once the filter is loaded, no
 * syscall the filter may trap is allowed here: nobody would answer it. */
static __attribute__((noreturn)) void child_exec(const struct launch_plan *p, int log,
						  int devnull, struct handoff *h)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	pid_t launcher = getppid();
	sigset_t none;
	int fd;

	/* A group of its own, so leftovers of the target can be killed. */
	(void)setpgid(0, 0);
	/* If the launcher dies too (runner and keeper both killed), nobody is
	 * left to stop the target or answer its filter: end it rather than
	 * leave an orphan whose trapped syscalls fail for ever. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != launcher)
		_exit(127);
	if (dup2(devnull, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		child_fail(h, LAUNCH_STEP_LOG, errno);
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (p->cwd && chdir(p->cwd) < 0)
		child_fail(h, LAUNCH_STEP_CHDIR, errno);

	if (p->filter) {
		fd = notify_load_filter(p->filter);
		if (fd < 0)
			child_fail(h, LAUNCH_STEP_FILTER, -fd);
		atomic_store(&h->listener, fd);
		/* The launcher takes the listener with pidfd_getfd while we
		 * are stopped, then wakes us. */
		raise(SIGSTOP);
		close(fd);
	}
	execvpe(p->argv[0], p->argv, p->envp);
	child_fail(h, LAUNCH_STEP_EXEC, errno);
}

/* Wait for the target to stop after loading its filter and take a copy of
 * its listener. Return: the fd, or -errno (the target is then dead). */
static int take_listener(struct launcher *l, struct handoff *h)
{
	int status, fd;
	pid_t r;

	do
		r = waitpid(l->child, &status, WUNTRACED);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (!WIFSTOPPED(status))
		return -ECHILD;
	fd = pidfd_getfd(l->child_pidfd, atomic_load(&h->listener), 0);
	if (fd < 0) {
		fd = -errno;
		kill(l->child, SIGKILL);
		(void)waitpid(l->child, &status, 0);
		return fd;
	}
	kill(l->child, SIGCONT);
	return fd;
}

static void report_failure(struct launcher *l, struct handoff *h, int step, int err)
{
	int status;

	if (!err) {
		step = atomic_load(&h->step);
		err = atomic_load(&h->err);
	}
	if (l->child > 0)
		while (waitpid(l->child, &status, 0) < 0 && errno == EINTR)
			;
	send_msg(l->sock, LAUNCH_MSG_EXEC_FAIL, err ? err : ECHILD, step, -1);
	_exit(0);
}

/* Fork the target and wait until it has executed. Reports failures to the
 * runner and exits. */
static void start_target(struct launcher *l, int devnull)
{
	struct handoff *h;
	int pfd[2];
	char c;
	int r;

	h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED || pipe2(pfd, O_CLOEXEC) < 0)
		report_failure(l, h, LAUNCH_STEP_FORK, errno);
	atomic_store(&h->listener, -1);
	l->child = fork();
	if (l->child < 0)
		report_failure(l, h, LAUNCH_STEP_FORK, errno);
	if (l->child == 0) {
		close(pfd[0]);
		child_exec(l->plan, l->log, devnull, h);
	}
	close(pfd[1]);
	l->child_pidfd = pidfd_open(l->child, 0);
	if (l->child_pidfd < 0) {
		kill(l->child, SIGKILL);
		report_failure(l, h, LAUNCH_STEP_FORK, errno);
	}
	if (l->plan->filter) {
		r = take_listener(l, h);
		if (r == -ECHILD)
			report_failure(l, h, 0, 0);
		if (r < 0)
			report_failure(l, h, LAUNCH_STEP_FILTER, -r);
		l->listener = r;
	}
	/* EOF comes with the exec (close-on-exec) or with the exit. */
	while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	if (atomic_load(&h->err))
		report_failure(l, h, 0, 0);
	munmap(h, sizeof(*h));
	send_msg(l->sock, LAUNCH_MSG_EXEC_OK, l->child, 0, l->listener);
}

static void *keeper_loop(void *arg)
{
	const struct keeper_args *a = arg;

	notify_continue_loop(a->listener, a->efd);
	return NULL;
}

static void begin_stop(struct launcher *l, int64_t grace_ns)
{
	int64_t at = fg_now_ns() + (grace_ns > 0 ? grace_ns : 0);

	if (!l->stopping) {
		l->stopping = true;
		kill(l->child, SIGTERM);
		l->kill_at_ns = at;
	} else if (l->kill_at_ns && at < l->kill_at_ns) {
		l->kill_at_ns = at;
	}
	if (grace_ns <= 0 && !l->killed) {
		kill(l->child, SIGKILL);
		l->killed = true;
		l->kill_at_ns = 0;
	}
}

/* The runner is gone: answer what it held, keep answering, stop the
 * target the way the run would have. */
static void become_keeper(struct launcher *l)
{
	if (l->keeper)
		return;
	l->keeper = true;
	if (l->listener >= 0) {
		l->answered = notify_keeper_takeover(l->listener, l->plan->shared);
		l->keeper_efd = eventfd(0, EFD_CLOEXEC);
		keeper_args.listener = l->listener;
		keeper_args.efd = l->keeper_efd;
		if (l->keeper_efd >= 0 &&
		    pthread_create(&l->keeper_thread, NULL, keeper_loop, &keeper_args) == 0)
			l->keeper_thread_started = true;
	}
	begin_stop(l, l->plan->stop_grace_ns);
}

static void handle_runner_msg(struct launcher *l)
{
	struct launch_msg m;
	ssize_t n = recv(l->sock, &m, sizeof(m), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != (ssize_t)sizeof(m)) {
		become_keeper(l);
		return;
	}
	if (m.type == LAUNCH_MSG_STOP)
		begin_stop(l, m.arg);
}

static void finish(struct launcher *l, int status)
{
	char what[96];
	uint64_t one = 1;

	/* Whatever the target left in its process group goes with it. */
	kill(-l->child, SIGKILL);
	if (!l->keeper) {
		struct timespec ts;

		/* When it ended, on the clock the runner reads too: the runner
		 * may notice only later and must still know the phase. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		send_msg(l->sock, LAUNCH_MSG_EXIT, status,
			 (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, -1);
		_exit(0);
	}
	if (l->keeper_thread_started) {
		(void)write(l->keeper_efd, &one, sizeof(one));
		pthread_join(l->keeper_thread, NULL);
	}
	dprintf(l->log,
		"faultgate keeper: runner (pid %d) is gone; answered %d held syscalls, "
		"stopped the target (pid %d) with SIGTERM%s: %s\n",
		(int)l->plan->runner, l->answered, (int)l->child,
		l->killed ? " then SIGKILL" : "",
		target_describe_exit(status, what, sizeof(what)));
	_exit(0);
}

static void run_loop(struct launcher *l)
{
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = l->child_pidfd, .events = POLLIN },
			{ .fd = l->keeper ? -1 : l->sock, .events = POLLIN },
			{ .fd = l->keeper ? -1 : l->runner_pidfd, .events = POLLIN },
		};
		int timeout = -1, status;

		if (l->kill_at_ns) {
			int64_t left = l->kill_at_ns - fg_now_ns();

			timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
		}
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
			_exit(1);
		if (pfd[0].revents && waitpid(l->child, &status, WNOHANG) == l->child)
			finish(l, status);
		if (pfd[1].revents)
			handle_runner_msg(l);
		if (pfd[2].revents)
			become_keeper(l);
		if (l->kill_at_ns && fg_now_ns() >= l->kill_at_ns) {
			kill(l->child, SIGKILL);
			l->killed = true;
			l->kill_at_ns = 0;
		}
	}
}

/* Keep only stdio and the runner's socket. */
static void close_other_fds(int keep)
{
	if (keep > 3)
		(void)close_range(3, keep - 1, 0);
	(void)close_range(keep + 1, ~0U, 0);
}

void launcher_main(const struct launch_plan *plan)
{
	struct launcher l = {
		.plan = plan,
		.sock = plan->sock,
		.listener = -1,
		.child = -1,
		.keeper_efd = -1,
	};
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int devnull;

	(void)setpgid(0, 0);
	(void)sigaction(SIGINT, &ign, NULL);
	(void)sigaction(SIGHUP, &ign, NULL);
	(void)sigaction(SIGPIPE, &ign, NULL);
	(void)sigaction(SIGCHLD, &dfl, NULL);
	/* The runner may have blocked signals it reads through a signalfd. */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	close_other_fds(l.sock);

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0)
		(void)dup2(devnull, 0);
	l.runner_pidfd = pidfd_open(plan->runner, 0);
	/* The runner died before we could watch it: start nothing. */
	if (l.runner_pidfd < 0 || getppid() != plan->runner)
		_exit(0);
	l.log = open(plan->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (l.log < 0 || devnull < 0)
		report_failure(&l, NULL, LAUNCH_STEP_LOG, errno);

	start_target(&l, devnull);
	close(devnull);
	run_loop(&l);
	_exit(0);
}
