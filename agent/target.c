// SPDX-License-Identifier: Apache-2.0
/* The runner's side of a target: for a launched one, start the launcher,
 * receive the exec result and the listener, wait for readiness, poll, stop;
 * for an attached one (a process faultgate did not start), watch its pidfd
 * and never stop it. */
#define FG_LOG_COMPONENT "target"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "launcher.h"
#include "log.h"
#include "notify.h"
#include "target.h"
#include "units.h"

#define READY_POLL_NS (50 * 1000000LL)
#define DEFAULT_READY_TIMEOUT_NS (10 * 1000000000LL)
#define DEFAULT_GRACE_NS (5 * 1000000000LL)
#define STOP_SLACK_MS 1000
#define EXIT_INFO_TRIES 20
#define EXIT_INFO_WAIT_NS (10 * 1000000LL)

/* PIDFD_GET_INFO (Linux 6.15): the exit status of a process that is not our
 * child, once its parent has reaped it. The first version of the structure
 * is enough; the kernel accepts it by its size. */
struct pidfd_exit_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t ids[11];
	int32_t exit_code;
};
#define FG_PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_exit_info)
#define FG_PIDFD_INFO_EXIT (1ULL << 3)

extern char **environ;

struct target {
	pid_t pid;
	pid_t launcher;
	int sock;
	int listener;
	int pidfd;		/* the target, for a SIGKILL if the launcher is lost */
	int status;
	bool exited;
	bool lost;
	bool launcher_reaped;
	bool attached;		/* not ours: never stopped, exit seen by pidfd */
	int64_t grace_ns;
	CURL *curl;
	int cancel_fd;		/* readable = stop waiting for readiness; -1 none */
	int64_t exit_ns;	/* CLOCK_MONOTONIC of the exit; 0 unknown */
};

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* faultgate's environment with @spec's entries added; a key given in both
 * takes the playbook's value. The strings are borrowed. */
static char **build_env(const struct target_spec *spec)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + spec->n_env + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t keylen = strcspn(environ[i], "=");
		bool overridden = false;

		for (size_t j = 0; j < spec->n_env && !overridden; j++)
			overridden = !strncmp(spec->env[j], environ[i], keylen) &&
				     spec->env[j][keylen] == '=';
		if (!overridden)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < spec->n_env; j++)
		env[k++] = spec->env[j];
	return env;
}

/* Receive one message, with the fd passed along if any (else -1).
 * Return: 1, 0 on EOF, -EAGAIN when @nonblock and nothing is there. */
static int recv_msg(int sock, bool nonblock, struct launch_msg *m, int *ret_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	if (ret_fd)
		*ret_fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | (nonblock ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		if (ret_fd && *ret_fd < 0)
			*ret_fd = fd;
		else
			close(fd);
	}
	if (n == 0)
		return 0;
	return n == (ssize_t)sizeof(*m) ? 1 : -EPROTO;
}

static void reap_launcher(struct target *t)
{
	int status;

	if (t->launcher_reaped || t->launcher <= 0)
		return;
	while (waitpid(t->launcher, &status, 0) < 0 && errno == EINTR)
		;
	t->launcher_reaped = true;
}

static int launch_error(const struct target_spec *spec, const struct target_launch_opts *opts,
			const struct launch_msg *m, struct fg_error *reterr)
{
	int err = m->value;

	switch (m->arg) {
	case LAUNCH_STEP_LOG:
		return fg_error_set(reterr, err, 0, 0, "cannot open target log '%s': %s",
				    opts->log_path, strerror(err));
	case LAUNCH_STEP_CHDIR:
		return fg_error_set(reterr, err, 0, 0, "cannot change to directory '%s': %s",
				    spec->cwd, strerror(err));
	case LAUNCH_STEP_FILTER:
		fg_error_set(reterr, EPERM, 0, 0, "cannot install the seccomp filter: %s",
			     strerror(err));
		return -EPERM;
	case LAUNCH_STEP_FORK:
		return fg_error_set(reterr, err, 0, 0, "cannot start the target: %s",
				    strerror(err));
	case LAUNCH_STEP_EXEC:
	default:
		return fg_error_set(reterr, err, 0, 0, "cannot execute '%s': %s", spec->argv[0],
				    strerror(err));
	}
}

int target_launch(const struct target_spec *spec, const struct target_launch_opts *opts,
		  struct target **ret, struct fg_error *reterr)
{
	fg_autofree char **envp = NULL;
	fg_autofree struct target *t = NULL;
	struct launch_msg m;
	struct launch_plan plan;
	int sv[2], fd, r;

	if (spec->mode != TARGET_COMMAND || !spec->argv || !spec->argv[0])
		return fg_error_set(reterr, EINVAL, spec->line, spec->col,
				    "target has no command to launch");
	envp = build_env(spec);
	t = calloc(1, sizeof(*t));
	if (!envp || !t)
		return fg_error_set(reterr, ENOMEM, 0, 0, "out of memory");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return fg_error_set(reterr, errno, 0, 0, "socketpair: %s", strerror(errno));

	plan = (struct launch_plan){
		.sock = sv[1],
		.runner = getpid(),
		.log_path = opts->log_path,
		.argv = spec->argv,
		.envp = envp,
		.cwd = spec->cwd,
		.filter = opts->filter,
		.shared = opts->shared,
		.stop_grace_ns = spec->stop_grace_ns > 0 ? spec->stop_grace_ns : DEFAULT_GRACE_NS,
	};
	t->launcher = fork();
	if (t->launcher < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return fg_error_set(reterr, r, 0, 0, "fork: %s", strerror(-r));
	}
	if (t->launcher == 0) {
		close(sv[0]);
		launcher_main(&plan);
	}
	close(sv[1]);
	t->sock = sv[0];
	t->listener = -1;
	t->pidfd = -1;
	t->status = -1;
	t->cancel_fd = -1;
	t->grace_ns = plan.stop_grace_ns;

	r = recv_msg(t->sock, false, &m, &fd);
	if (r <= 0 || (m.type != LAUNCH_MSG_EXEC_OK && m.type != LAUNCH_MSG_EXEC_FAIL)) {
		if (r > 0 && fd >= 0)
			close(fd);
		close(t->sock);
		reap_launcher(t);
		return fg_error_set(reterr, EPROTO, 0, 0, "the launcher ended without a report");
	}
	if (m.type == LAUNCH_MSG_EXEC_FAIL) {
		close(t->sock);
		reap_launcher(t);
		return launch_error(spec, opts, &m, reterr);
	}
	t->pid = m.value;
	t->listener = fd;
	t->pidfd = pidfd_open(t->pid, 0);
	*ret = fg_steal_ptr(t);
	return 0;
}

int target_attach(pid_t pid, struct target **ret, struct fg_error *reterr)
{
	struct target *t = calloc(1, sizeof(*t));

	if (!t)
		return fg_error_set(reterr, ENOMEM, 0, 0, "out of memory");
	t->pid = pid;
	t->launcher = -1;
	t->sock = -1;
	t->listener = -1;
	t->status = -1;
	t->cancel_fd = -1;
	t->attached = true;
	t->pidfd = pidfd_open(pid, 0);
	if (t->pidfd < 0) {
		int r = -errno;

		free(t);
		return fg_error_set(reterr, -r, 0, 0, "watch pid %d: %s", (int)pid,
				    r == -ESRCH ? "no such process" : strerror(-r));
	}
	*ret = t;
	return 0;
}

bool target_is_attached(const struct target *t)
{
	return t->attached;
}

/* The wait status of an attached target that exited, if the kernel can tell
 * (its parent must have reaped it; give the parent a moment). */
static void attached_exit_status(struct target *t)
{
	for (int i = 0; i < EXIT_INFO_TRIES; i++) {
		struct pidfd_exit_info info = { .mask = FG_PIDFD_INFO_EXIT };

		if (ioctl(t->pidfd, FG_PIDFD_GET_INFO, &info) < 0)
			return;	/* older kernel: the status stays unknown */
		if (info.mask & FG_PIDFD_INFO_EXIT) {
			t->status = info.exit_code;
			return;
		}
		sleep_ns(EXIT_INFO_WAIT_NS);
	}
}

static int poll_attached(struct target *t)
{
	struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	t->exited = true;
	t->exit_ns = fg_now_ns();
	attached_exit_status(t);
	return 1;
}

pid_t target_pid(const struct target *t)
{
	return t->pid;
}

int target_listener(const struct target *t)
{
	return t->listener;
}

/* The launcher is gone without a report: the target must not outlive it. */
static void launcher_lost(struct target *t)
{
	t->lost = true;
	if (t->pidfd >= 0)
		(void)pidfd_send_signal(t->pidfd, SIGKILL, NULL, 0);
	reap_launcher(t);
}

static int handle_msg(struct target *t, bool nonblock)
{
	struct launch_msg m;
	int r = recv_msg(t->sock, nonblock, &m, NULL);

	if (r == -EAGAIN)
		return 0;
	if (r <= 0) {
		launcher_lost(t);
		return -EPIPE;
	}
	if (m.type == LAUNCH_MSG_EXIT) {
		t->exited = true;
		t->status = m.value;
		t->exit_ns = m.arg > 0 ? m.arg : fg_now_ns();
		reap_launcher(t);
		return 1;
	}
	return 0;
}

int target_poll(struct target *t)
{
	if (t->exited)
		return 1;
	if (t->lost)
		return -EPIPE;
	if (t->attached)
		return poll_attached(t);
	return handle_msg(t, true);
}

int target_exit_status(const struct target *t)
{
	return t->exited ? t->status : -1;
}

const char *target_describe_exit(int status, char *buf, size_t size)
{
	if (status < 0)
		snprintf(buf, size, "still running");
	else if (WIFEXITED(status))
		snprintf(buf, size, "exited with code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (SIG%s)%s", WTERMSIG(status),
			 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?",
			 WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, size, "wait status %#x", (unsigned)status);
	return buf;
}

int target_stop(struct target *t, int64_t grace_ns)
{
	struct launch_msg m = { .type = LAUNCH_MSG_STOP, .arg = grace_ns };
	int64_t deadline = fg_now_ns() + (grace_ns > 0 ? grace_ns : 0) +
			   STOP_SLACK_MS * 1000000LL;

	if (t->exited || t->lost || t->attached) {
		reap_launcher(t);
		return 0;
	}
	if (send(t->sock, &m, sizeof(m), MSG_NOSIGNAL) < 0) {
		launcher_lost(t);
		return 0;
	}
	while (!t->exited && !t->lost) {
		struct pollfd pfd = { .fd = t->sock, .events = POLLIN };
		int64_t left = deadline - fg_now_ns();

		if (left <= 0) {
			launcher_lost(t);
			return -ETIMEDOUT;
		}
		if (poll(&pfd, 1, (int)((left + 999999) / 1000000)) > 0)
			(void)handle_msg(t, true);
	}
	return 0;
}

static int probe_tcp(const char *host, uint16_t port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char service[8];
	int r = -ECONNREFUSED;

	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return -EHOSTUNREACH;
	for (ai = res; ai && r < 0; ai = ai->ai_next) {
		fg_autoclose int fd = socket(ai->ai_family,
					     ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct pollfd pfd = { .events = POLLOUT };
		socklen_t len = sizeof(int);
		int err = 0;

		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			r = 0;
			break;
		}
		if (errno != EINPROGRESS)
			continue;
		pfd.fd = fd;
		if (poll(&pfd, 1, 200) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
			r = 0;
	}
	freeaddrinfo(res);
	return r;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	return size * n;
}

static int probe_http(struct target *t, const char *url, int64_t left_ns)
{
	long code = 0;
	long ms = left_ns / 1000000;

	if (!t->curl) {
		t->curl = curl_easy_init();
		if (!t->curl)
			return -ENOMEM;
	}
	curl_easy_reset(t->curl);
	curl_easy_setopt(t->curl, CURLOPT_URL, url);
	curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, ms < 50 ? 50L : ms > 1000 ? 1000L : ms);
	if (curl_easy_perform(t->curl) != CURLE_OK)
		return -ECONNREFUSED;
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
	return code >= 200 && code < 400 ? 0 : -EAGAIN;
}

static int probe(struct target *t, const struct ready_spec *spec, int64_t start, int64_t deadline)
{
	switch (spec->kind) {
	case READY_NONE:
		return 0;
	case READY_AFTER:
		return fg_now_ns() - start >= spec->after_ns ? 0 : -EAGAIN;
	case READY_TCP:
		return probe_tcp(spec->tcp_host, spec->tcp_port);
	case READY_HTTP:
		return probe_http(t, spec->http_url, deadline - fg_now_ns());
	case READY_KIND_MAX:
	default:
		return -EINVAL;
	}
}

static int not_ready(const struct ready_spec *spec, struct fg_error *reterr)
{
	double s = (spec->timeout_ns > 0 ? spec->timeout_ns : DEFAULT_READY_TIMEOUT_NS) / 1e9;

	if (spec->kind == READY_HTTP)
		return fg_error_set(reterr, ETIMEDOUT, 0, 0,
				    "target not ready after %.3gs: no 2xx/3xx answer from '%s'",
				    s, spec->http_url);
	return fg_error_set(reterr, ETIMEDOUT, 0, 0,
			    "target not ready after %.3gs: cannot connect to '%s:%u'", s,
			    spec->tcp_host ? spec->tcp_host : "?", spec->tcp_port);
}

/* Sleep @ns, or less if the cancel fd becomes readable. Return: true then. */
static bool wait_cancel(struct target *t, int64_t ns)
{
	struct pollfd pfd = { .fd = t->cancel_fd, .events = POLLIN };

	if (t->cancel_fd < 0) {
		sleep_ns(ns);
		return false;
	}
	return poll(&pfd, 1, (int)(ns / 1000000)) == 1;
}

int target_wait_ready(struct target *t, const struct ready_spec *spec, struct fg_error *reterr)
{
	int64_t start = fg_now_ns();
	int64_t deadline = start + (spec->timeout_ns > 0 ? spec->timeout_ns
							  : DEFAULT_READY_TIMEOUT_NS);
	char what[96];
	int r;

	if (spec->kind == READY_AFTER && start + spec->after_ns > deadline)
		deadline = start + spec->after_ns;
	for (;;) {
		r = target_poll(t);
		if (r == 1)
			return fg_error_set(reterr, ECHILD, 0, 0,
					    "target %s before it was ready",
					    target_describe_exit(t->status, what, sizeof(what)));
		if (r < 0)
			return fg_error_set(reterr, ECHILD, 0, 0,
					    "lost contact with the target's launcher");
		r = probe(t, spec, start, deadline);
		if (r == 0)
			return 0;
		if (r == -EINVAL)
			return fg_error_set(reterr, EINVAL, 0, 0, "unknown readiness check");
		if (fg_now_ns() >= deadline)
			return not_ready(spec, reterr);
		if (wait_cancel(t, READY_POLL_NS))
			return fg_error_set(reterr, EINTR, 0, 0,
					    "interrupted while waiting for the target to be ready");
	}
}

void target_set_cancel_fd(struct target *t, int fd)
{
	t->cancel_fd = fd;
}

int64_t target_exit_time(const struct target *t)
{
	return t->exited ? t->exit_ns : 0;
}

char *target_log_tail(const char *log_path, int lines, char *buf, size_t size)
{
	fg_autoclose int fd = -1;
	struct stat st;
	off_t off;
	ssize_t n;
	size_t len;
	char *p;

	if (!size)
		return buf;
	buf[0] = '\0';
	fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return buf;
	off = st.st_size > (off_t)(size - 1) ? st.st_size - (off_t)(size - 1) : 0;
	n = pread(fd, buf, size - 1, off);
	if (n <= 0)
		return buf;
	len = (size_t)n;
	while (len && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	/* Walk back over @lines newlines; what precedes is dropped. */
	p = buf + len;
	while (p > buf) {
		if (p[-1] == '\n' && --lines <= 0)
			break;
		p--;
	}
	memmove(buf, p, strlen(p) + 1);
	return buf;
}

struct target *target_free(struct target *t)
{
	if (!t)
		return NULL;
	if (!t->exited && !t->lost && !t->attached)
		(void)target_stop(t, t->grace_ns);
	reap_launcher(t);
	if (t->sock >= 0)
		close(t->sock);
	if (t->listener >= 0)
		close(t->listener);
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->curl)
		curl_easy_cleanup(t->curl);
	free(t);
	return NULL;
}
