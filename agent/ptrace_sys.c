// SPDX-License-Identifier: Apache-2.0
/* slow-io and io-error on a process faultgate did not start: inside the
 * fault window every thread is seized and runs under PTRACE_SYSCALL; at the
 * entry of a syscall of the named families whose descriptor matches the
 * selectors, the thread is held (slow-io) or the syscall is skipped and
 * fails with the errno (io-error). Held threads wait on a due time, never
 * on a sleep of the tracer, so the other threads keep going. At the window's
 * end every thread is interrupted and detached. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FG_LOG_COMPONENT "ptrace"
#include "cleanup.h"
#include "fdinfo.h"
#include "log.h"
#include "notify_private.h"
#include "ptrace_private.h"
#include "tracee.h"
#include "units.h"

#define TRACE_OPTIONS (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE)
#define SAFETY_TICK_NS (2 * FG_NSEC_PER_MSEC)
#define DETACH_TIMEOUT_NS (3 * FG_NSEC_PER_SEC)
#define SEIZE_ROUNDS 10

struct traced {
	pid_t tid;
	bool held;		/* in a syscall-entry-stop until due */
	int64_t due;
	int fail_err;		/* the skipped syscall's errno, set at its exit */
};

struct sys_tracer {
	struct pt_job *j;
	struct traced *t;
	size_t n, cap;
	timer_t timer;
	bool have_timer;
	int64_t seized_at;
};

static struct traced *find(struct sys_tracer *s, pid_t tid)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->t[k].tid == tid)
			return &s->t[k];
	return NULL;
}

static struct traced *add(struct sys_tracer *s, pid_t tid)
{
	struct traced *t = find(s, tid);

	if (t)
		return t;
	if (s->n == s->cap) {
		struct traced *p = realloc(s->t, (s->cap = s->cap ? s->cap * 2 : 64) * sizeof(*p));

		if (!p)
			return NULL;
		s->t = p;
	}
	t = &s->t[s->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return t;
}

static void drop(struct sys_tracer *s, pid_t tid)
{
	struct traced *t = find(s, tid);

	if (t)
		*t = s->t[--s->n];
}

/* Arm the wake-up timer for @at, with a short interval as a backstop for a
 * signal that lands just before waitpid blocks. */
static void arm(struct sys_tracer *s, int64_t at)
{
	struct itimerspec its = {0};
	int64_t left = at - fg_now_ns();

	if (!s->have_timer)
		return;
	if (left < 20 * FG_NSEC_PER_USEC)
		left = 20 * FG_NSEC_PER_USEC;
	its.it_value.tv_sec = left / FG_NSEC_PER_SEC;
	its.it_value.tv_nsec = left % FG_NSEC_PER_SEC;
	its.it_interval.tv_nsec = SAFETY_TICK_NS;
	(void)timer_settime(s->timer, 0, &its, NULL);
}

static void disarm_timer(struct sys_tracer *s)
{
	struct itimerspec its = {0};

	if (s->have_timer)
		(void)timer_settime(s->timer, 0, &its, NULL);
}

static int make_timer(struct sys_tracer *s)
{
	struct sigevent sev = {0};

	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = pt_wake_signal();
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &s->timer) < 0)
		return -errno;
	s->have_timer = true;
	return 0;
}

/* Seize every thread, re-listing until no new one shows up. Return: 0, or
 * -errno when not even one thread could be seized. */
static int seize_all(struct sys_tracer *s)
{
	int last = ESRCH;

	for (int round = 0; round < SEIZE_ROUNDS; round++) {
		fg_autofree pid_t *tids = NULL;
		int n, added = 0;

		n = pt_list_tasks(s->j->pid, &tids);
		if (n < 0)
			return n;
		for (int k = 0; k < n; k++) {
			if (find(s, tids[k]))
				continue;
			/* EPERM also for a thread our clone option attached already:
			 * its first stop adds it. */
			if (ptrace(PTRACE_SEIZE, tids[k], 0, TRACE_OPTIONS) < 0) {
				last = errno;
				continue;
			}
			if (!add(s, tids[k]))
				return -ENOMEM;
			(void)ptrace(PTRACE_INTERRUPT, tids[k], 0, 0);
			added++;
		}
		if (!added)
			break;
	}
	return s->n ? 0 : -last;
}

static bool selectors_match(const struct fault_spec *f, pid_t pid, int fd)
{
	struct sockaddr_storage ss;
	char path[PATH_MAX];
	enum fault_fds cls;

	if (f->fds == FAULT_FDS_ANY && !f->n_paths && !f->n_peers)
		return true;
	cls = fdinfo_classify(pid, fd, path, sizeof(path), NULL);
	if (f->fds != FAULT_FDS_ANY && cls != f->fds)
		return false;
	if (f->n_paths && (cls != FAULT_FDS_FILES || !fault_path_matches(f, path)))
		return false;
	if (!f->n_peers)
		return true;
	if (cls != FAULT_FDS_SOCKETS || fdinfo_peer(pid, fd, &ss) < 0)
		return false;
	for (size_t k = 0; k < f->n_peers; k++)
		if (fault_peer_matches(&f->peers[k], &ss))
			return true;
	return false;
}

static void resume(pid_t tid, int sig)
{
	if (ptrace(PTRACE_SYSCALL, tid, 0, sig) < 0 && errno != ESRCH)
		log_debug("resume tid %d: %s", (int)tid, strerror(errno));
}

/* A syscall-entry stop: decide; returns true when the thread stays held. */
static bool on_entry(struct sys_tracer *s, struct traced *t, const struct __ptrace_syscall_info *in)
{
	struct pt_job *j = s->j;
	const struct fault_spec *f = j->f;
	struct user_regs_struct regs;
	unsigned family = notify_syscall_family((long)in->entry.nr);

	if (!(family & f->syscalls) || fg_now_ns() >= j->to_ns || pt_disarmed(j))
		return false;
	if (!selectors_match(f, j->pid, (int)in->entry.args[0]))
		return false;
	atomic_fetch_add(&j->cnt.seen, 1);
	if (!fault_rng_chance(&j->rng, f->probability))
		return false;
	if (f->kind == FAULT_SLOW_IO) {
		int64_t d = fault_pick_delay(f, &j->rng);

		t->held = true;
		t->due = fg_now_ns() + d;
		atomic_fetch_add(&j->cnt.delayed, 1);
		atomic_fetch_add(&j->cnt.delay_total_ns, d);
		return true;
	}
	/* io-error: orig_rax -1 skips the syscall; its exit stop sets rax. */
	if (tracee_getregs(t->tid, &regs) < 0)
		return false;
	regs.orig_rax = (unsigned long long)-1;
	if (tracee_setregs(t->tid, &regs) < 0)
		return false;
	t->fail_err = f->err ? f->err : EIO;
	atomic_fetch_add(&j->cnt.failed, 1);
	return false;
}

static void on_exit_stop(struct traced *t)
{
	struct user_regs_struct regs;

	if (!t->fail_err)
		return;
	if (tracee_getregs(t->tid, &regs) == 0) {
		regs.rax = (unsigned long long)(long)-t->fail_err;
		(void)tracee_setregs(t->tid, &regs);
	}
	t->fail_err = 0;
}

static bool is_group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* One waited status while tracing. */
static void on_status(struct sys_tracer *s, pid_t tid, int status)
{
	struct __ptrace_syscall_info in;
	struct traced *t;
	int sig;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		drop(s, tid);
		return;
	}
	t = add(s, tid);
	if (!t)
		return;
	sig = WSTOPSIG(status);
	if (sig == (SIGTRAP | 0x80)) {
		atomic_fetch_add(&s->j->cnt.stops, 1);
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(in), &in) <= 0) {
			resume(tid, 0);
			return;
		}
		if (in.op == PTRACE_SYSCALL_INFO_ENTRY && on_entry(s, t, &in))
			return;
		if (in.op == PTRACE_SYSCALL_INFO_EXIT)
			on_exit_stop(t);
		resume(tid, 0);
		return;
	}
	if ((status >> 16) == PTRACE_EVENT_STOP) {
		if (is_group_stop_sig(sig))
			(void)ptrace(PTRACE_LISTEN, tid, 0, 0);
		else
			resume(tid, 0);
		return;
	}
	if (status >> 16) {
		resume(tid, 0);
		return;
	}
	resume(tid, sig);	/* a signal for the target: deliver it */
}

static int64_t next_due(const struct sys_tracer *s, int64_t limit)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->t[k].held && s->t[k].due < limit)
			limit = s->t[k].due;
	return limit;
}

static void release_due(struct sys_tracer *s, int64_t now)
{
	for (size_t k = 0; k < s->n; k++) {
		if (!s->t[k].held || s->t[k].due > now)
			continue;
		s->t[k].held = false;
		resume(s->t[k].tid, 0);
	}
}

static void trace_loop(struct sys_tracer *s)
{
	int status;
	pid_t w;

	while (s->n) {
		int64_t now = fg_now_ns();

		if (pt_disarmed(s->j) || now >= s->j->to_ns)
			return;
		release_due(s, now);
		arm(s, next_due(s, s->j->to_ns));
		w = waitpid(-1, &status, __WALL | __WNOTHREAD);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return;
		on_status(s, w, status);
	}
}

/* The stop of one thread while detaching: detach it there, with its
 * signal and its failed syscall's errno. */
static void detach_at(struct sys_tracer *s, pid_t tid, int status)
{
	struct traced *t;
	int sig = 0;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		drop(s, tid);
		return;
	}
	t = add(s, tid);
	if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
		if (t)
			on_exit_stop(t);
	} else if (!(status >> 16)) {
		sig = WSTOPSIG(status);
	}
	(void)ptrace(PTRACE_DETACH, tid, 0, sig);
	drop(s, tid);
}

static void detach_all(struct sys_tracer *s)
{
	int64_t deadline = fg_now_ns() + DETACH_TIMEOUT_NS;
	int status;
	pid_t w;

	for (size_t k = 0; k < s->n;) {
		/* A held thread sits in a syscall-entry-stop: let it go as is. */
		if (s->t[k].held && ptrace(PTRACE_DETACH, s->t[k].tid, 0, 0) == 0) {
			s->t[k] = s->t[--s->n];
			continue;
		}
		(void)ptrace(PTRACE_INTERRUPT, s->t[k].tid, 0, 0);
		k++;
	}
	while (s->n && fg_now_ns() < deadline) {
		arm(s, fg_now_ns() + 10 * FG_NSEC_PER_MSEC);
		w = waitpid(-1, &status, __WALL | __WNOTHREAD);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		detach_at(s, w, status);
	}
	if (s->n)
		log_debug("%zu threads of pid %d did not stop for the detach; they are released "
			  "when the tracer thread ends", s->n, (int)s->j->pid);
}

void pt_run_sys(struct pt_job *j)
{
	struct sys_tracer s = {.j = j};
	int64_t traced;
	int r;

	if (pt_sleep_until(j, j->from_ns))
		return;
	r = make_timer(&s);
	if (r < 0) {
		snprintf(j->note, sizeof(j->note), "no timer for the tracer: %s", strerror(-r));
		return;
	}
	s.seized_at = fg_now_ns();
	r = seize_all(&s);
	if (r < 0) {
		snprintf(j->note, sizeof(j->note), "could not trace pid %d: %s", (int)j->pid,
			 strerror(-r));
		log_warn("trace pid %d for %s: %s, continuing without this fault", (int)j->pid,
			 fault_kind_name(j->f->kind), strerror(-r));
	} else {
		trace_loop(&s);
	}
	detach_all(&s);
	disarm_timer(&s);
	timer_delete(s.timer);
	traced = fg_now_ns() - s.seized_at;
	atomic_store(&j->cnt.traced_ns, traced);
	if (!j->note[0] && r == 0)
		snprintf(j->note, sizeof(j->note),
			 "every thread traced for %.1f s: %llu syscall stops (%.0f/s)",
			 (double)traced / FG_NSEC_PER_SEC,
			 (unsigned long long)atomic_load(&j->cnt.stops),
			 (double)atomic_load(&j->cnt.stops) * FG_NSEC_PER_SEC /
				 (double)(traced > 0 ? traced : 1));
	free(s.t);
}
