// SPDX-License-Identifier: Apache-2.0
/* Switching kernel.task_delayacct for a run. The state file holds the value
 * from before the first holder, then the pids of the runners holding the
 * switch: "0 1234 5678". Dead pids are dropped on every change, so a runner
 * and guardian both killed leave the switch on only until the next run. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "delayacct.h"

#define STATE_PATH "/run/faultgate-delayacct"
#define MAX_HOLDERS 64

struct holders {
	int orig;
	pid_t pid[MAX_HOLDERS];
	int n;
};

int delayacct_read(void)
{
	char c = 0;
	int fd, n;

	fd = open(DELAYACCT_SYSCTL, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = (int)read(fd, &c, 1);
	close(fd);
	if (n != 1)
		return -EIO;
	return c == '1';
}

/* Only async-signal-safe calls from here on: the guardian uses them. */
static int write_sysctl(int v)
{
	char c = v ? '1' : '0';
	int fd, r = 0;

	fd = open(DELAYACCT_SYSCTL, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, &c, 1) != 1)
		r = -errno;
	close(fd);
	return r;
}

static long parse_long(const char **p)
{
	long v = 0;

	while (**p == ' ' || **p == '\n')
		(*p)++;
	if (**p < '0' || **p > '9')
		return -1;
	while (**p >= '0' && **p <= '9')
		v = v * 10 + (*(*p)++ - '0');
	return v;
}

/* Read the state, keeping only live holders other than @self. */
static void read_holders(int fd, pid_t self, struct holders *h)
{
	char buf[MAX_HOLDERS * 12 + 16];
	const char *p = buf;
	ssize_t n;
	long v;

	h->n = 0;
	h->orig = -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	h->orig = (int)parse_long(&p);
	while (h->n < MAX_HOLDERS && (v = parse_long(&p)) > 0) {
		if ((pid_t)v == self || (kill((pid_t)v, 0) < 0 && errno == ESRCH))
			continue;
		h->pid[h->n++] = (pid_t)v;
	}
}

static char *put_num(char *p, long v)
{
	char tmp[24];
	int k = 0;

	do {
		tmp[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k)
		*p++ = tmp[--k];
	return p;
}

static void write_holders(int fd, const struct holders *h)
{
	char buf[MAX_HOLDERS * 12 + 16], *p = buf;

	p = put_num(p, h->orig < 0 ? 0 : h->orig);
	for (int i = 0; i < h->n; i++) {
		*p++ = ' ';
		p = put_num(p, h->pid[i]);
	}
	*p++ = '\n';
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, buf, (size_t)(p - buf), 0);
}

/* Drop @self from the holders; the last one out writes the old value. */
static void release(pid_t self)
{
	struct holders h;
	int fd;

	fd = open(STATE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return;
	}
	read_holders(fd, self, &h);
	if (h.n == 0) {
		if (h.orig == 0)
			(void)write_sysctl(0);
		(void)unlink(STATE_PATH);
	} else {
		write_holders(fd, &h);
	}
	close(fd);
}

/* The guardian: wait for the runner's end of the pipe; EOF without a byte
 * means the runner died without restoring. */
static void guardian_main(int rfd, pid_t runner)
{
	char c;
	ssize_t n;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	(void)prctl(PR_SET_NAME, "fg-delayacct", 0, 0, 0);
	do
		n = read(rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		release(runner);
	_exit(0);
}

static int start_guardian(struct delayacct *d)
{
	pid_t self = getpid();
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		/* Hold no copy of the runner's descriptors (a seccomp
		 * listener kept open by us would hang the target). */
		if (p[0] > 0)
			(void)close_range(0, (unsigned)p[0] - 1, 0);
		(void)close_range((unsigned)p[0] + 1, ~0u, 0);
		guardian_main(p[0], self);
	}
	close(p[0]);
	d->guard_fd = p[1];
	d->guardian = pid;
	return 0;
}

static void say_errno(char *why, size_t size, const char *what, int err)
{
	if (why && size)
		snprintf(why, size, "%s: %s", what, strerror(-err));
}

int delayacct_on(struct delayacct *d, char *reterr_why, size_t why_size)
{
	struct holders h;
	int fd, cur, r;

	memset(d, 0, sizeof(*d));
	d->old = -1;
	d->guard_fd = -1;
	cur = delayacct_read();
	if (cur < 0) {
		say_errno(reterr_why, why_size, "read " DELAYACCT_SYSCTL, cur);
		return cur;
	}
	d->old = cur;
	fd = open(STATE_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		if (cur == 1)
			return 0;	/* on already; nothing to restore */
		say_errno(reterr_why, why_size, "open " STATE_PATH, r);
		return r;
	}
	if (flock(fd, LOCK_EX) < 0) {
		r = -errno;
		close(fd);
		say_errno(reterr_why, why_size, "lock " STATE_PATH, r);
		return r;
	}
	read_holders(fd, getpid(), &h);
	if (h.n == 0)
		h.orig = cur;	/* no live holder: what we see is the original */
	d->old = h.orig;
	if (h.orig == 1 || h.n >= MAX_HOLDERS) {
		close(fd);
		return 0;
	}
	if (cur == 0) {
		r = write_sysctl(1);
		if (r < 0) {
			close(fd);
			say_errno(reterr_why, why_size, "write " DELAYACCT_SYSCTL, r);
			return r;
		}
		d->switched = true;
	}
	h.pid[h.n++] = getpid();
	write_holders(fd, &h);
	d->held = true;
	close(fd);
	r = start_guardian(d);
	if (r < 0) {
		delayacct_restore(d);
		say_errno(reterr_why, why_size, "start the delay accounting guardian", r);
		return r;
	}
	return 0;
}

void delayacct_restore(struct delayacct *d)
{
	if (!d->held)
		return;
	release(getpid());
	d->held = false;
	if (d->guard_fd >= 0) {
		(void)!write(d->guard_fd, "d", 1);
		close(d->guard_fd);
		d->guard_fd = -1;
	}
	if (d->guardian > 0) {
		(void)waitpid(d->guardian, NULL, 0);
		d->guardian = 0;
	}
}
