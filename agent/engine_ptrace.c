// SPDX-License-Identifier: Apache-2.0
/* The ptrace engine: freeze-thread, mem-leak by syscall injection, and
 * slow-io/io-error through syscall stops, on launched and running targets.
 * Each fault runs in a tracer thread of its own that seizes threads only
 * inside the fault's window and lets them all go at its end or on disarm.
 * This file holds the engine hooks, the shared helpers and freeze-thread. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FG_LOG_COMPONENT "ptrace"
#include "cleanup.h"
#include "engine.h"
#include "journal.h"
#include "log.h"
#include "ptrace_private.h"
#include "tracee.h"
#include "units.h"

#define MAX_FROZEN 64
#define BUSIEST_SAMPLE_NS (500 * FG_NSEC_PER_MSEC)

struct ptrace_engine {
	struct pt_job *jobs;
	size_t n;
	atomic_bool disarmed;
	int wake_fd;			/* readable once disarmed */
	pthread_mutex_t jlock;
	struct journal *journal;
};

bool pt_disarmed(const struct pt_job *j)
{
	return atomic_load(&j->e->disarmed);
}

bool pt_sleep_until(const struct pt_job *j, int64_t deadline)
{
	struct pollfd pfd = {.fd = j->e->wake_fd, .events = POLLIN};

	for (;;) {
		int64_t left = deadline - fg_now_ns();
		struct timespec ts;

		if (pt_disarmed(j))
			return true;
		if (left <= 0)
			return false;
		ts.tv_sec = left / FG_NSEC_PER_SEC;
		ts.tv_nsec = left % FG_NSEC_PER_SEC;
		(void)ppoll(&pfd, 1, &ts, NULL);
	}
}

int pt_journal_begin(struct pt_job *j, const char *kind, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int id;

	if (!j->e->journal)
		return 0;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&j->e->jlock);
	id = journal_begin(j->e->journal, kind, "%s", buf);
	pthread_mutex_unlock(&j->e->jlock);
	if (id < 0)
		(void)log_debug_errno(id, "journal %s", kind);
	return id;
}

void pt_journal_end(struct pt_job *j, int id)
{
	if (!j->e->journal || id <= 0)
		return;
	pthread_mutex_lock(&j->e->jlock);
	(void)journal_end(j->e->journal, id);
	pthread_mutex_unlock(&j->e->jlock);
}

void pt_max(_Atomic int64_t *v, int64_t x)
{
	int64_t cur = atomic_load(v);

	while (x > cur && !atomic_compare_exchange_weak(v, &cur, x))
		;
}

int pt_list_tasks(pid_t pid, pid_t **ret)
{
	fg_autofree pid_t *tids = NULL;
	DIR *d;
	struct dirent *de;
	char path[64];
	size_t n = 0, cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		char *end;
		long t = strtol(de->d_name, &end, 10);

		if (*end || t <= 0)
			continue;
		if (n == cap) {
			pid_t *p = realloc(tids, (cap = cap ? cap * 2 : 32) * sizeof(*p));

			if (!p) {
				closedir(d);
				return -ENOMEM;
			}
			tids = p;
		}
		tids[n++] = (pid_t)t;
	}
	closedir(d);
	*ret = fg_steal_ptr(tids);
	return (int)n;
}

static void wake_handler(int sig)
{
	(void)sig;
}

int pt_wake_signal(void)
{
	return SIGRTMAX - 3;
}

/* freeze-thread ---------------------------------------------------------- */

struct cpu_sample {
	pid_t tid;
	uint64_t ticks;
};

/* CPU time of one thread: schedstat's on-CPU ns when the kernel has it
 * (clock ticks are too coarse to tell light workers apart), else utime +
 * stime from stat, in ns. */
static uint64_t task_ticks(pid_t pid, pid_t tid)
{
	fg_autofclose FILE *f = NULL;
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0, ns;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (f && fscanf(f, "%llu", &ns) == 1)
		return ns;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		return 0;
	/* comm may hold spaces and parentheses: count fields after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return 0;
	return (ut + st) * (FG_NSEC_PER_SEC / (unsigned long long)sysconf(_SC_CLK_TCK));
}

static uint64_t prev_ticks(const struct cpu_sample *s, size_t n, pid_t tid)
{
	for (size_t k = 0; k < n; k++)
		if (s[k].tid == tid)
			return s[k].ticks;
	return 0;
}

/* Replace *@prev with a fresh sample; fill @delta (parallel to *@tids). */
static int sample_cpu(pid_t pid, struct cpu_sample **prev, size_t *n_prev, pid_t **tids,
		      uint64_t **delta)
{
	struct cpu_sample *s;
	int n;

	n = pt_list_tasks(pid, tids);
	if (n < 0)
		return n;
	s = calloc(n ? n : 1, sizeof(*s));
	*delta = calloc(n ? n : 1, sizeof(**delta));
	if (!s || !*delta) {
		free(s);
		return -ENOMEM;
	}
	for (int k = 0; k < n; k++) {
		uint64_t t = task_ticks(pid, (*tids)[k]);
		uint64_t p = prev_ticks(*prev, *n_prev, (*tids)[k]);

		s[k].tid = (*tids)[k];
		s[k].ticks = t;
		(*delta)[k] = t >= p ? t - p : 0;
	}
	free(*prev);
	*prev = s;
	*n_prev = (size_t)n;
	return n;
}

/* Choose up to @want tids into @out. Return: the count. */
/* Whether @tid is parked right now: in nanosleep (Go's sysmon, which wakes
 * often enough to look busy on a quiet service) or in a futex wait (an idle
 * thread with no work). Freezing such a thread changes nothing a user
 * would see for a long while; one running code, or the netpoller in
 * epoll_pwait, is what "busiest" should find. */
static bool in_sleep_call(pid_t pid, pid_t tid)
{
	char path[64], buf[32];
	fg_autoclose int fd = -1;
	ssize_t len;
	long nr;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	nr = strtol(buf, NULL, 10);
	return nr == SYS_nanosleep || nr == SYS_clock_nanosleep || nr == SYS_futex;
}

static size_t pick_threads(struct pt_job *j, pid_t *tids, uint64_t *delta, size_t n,
			   pid_t *out, size_t want)
{
	const struct fault_spec *f = j->f;
	size_t got = 0;

	if (f->pick == FAULT_PICK_TIDS) {
		for (size_t t = 0; t < f->n_tids && got < want; t++)
			for (size_t k = 0; k < n; k++)
				if (tids[k] == f->tids[t])
					out[got++] = tids[k];
		return got;
	}
	/* busiest: a thread caught parked counts as idle. */
	if (f->pick == FAULT_PICK_BUSIEST)
		for (size_t k = 0; k < n; k++)
			if (in_sleep_call(j->pid, tids[k]))
				delta[k] = 0;
	while (got < want && n > 0) {
		size_t best = 0;

		if (f->pick == FAULT_PICK_RANDOM) {
			best = fault_rng_next(&j->rng) % n;
		} else {
			for (size_t k = 1; k < n; k++)
				if (delta[k] > delta[best])
					best = k;
		}
		out[got++] = tids[best];
		tids[best] = tids[n - 1];
		delta[best] = delta[n - 1];
		n--;
	}
	return got;
}

struct frozen {
	pid_t tid;
	int sig;
	int journal_id;
	int64_t since;
};

static size_t freeze_some(struct pt_job *j, const pid_t *picked, size_t n, struct frozen *fz)
{
	size_t got = 0;

	for (size_t k = 0; k < n; k++) {
		int64_t t0 = fg_now_ns();
		int id, r;

		id = pt_journal_begin(j, "freeze", "pid=%d tid=%d", (int)j->pid, (int)picked[k]);
		r = tracee_seize_stop(picked[k], PT_STOP_TIMEOUT_NS, &fz[got].sig);
		if (r < 0) {
			(void)log_debug_errno(r, "freeze tid %d", (int)picked[k]);
			pt_journal_end(j, id);
			continue;
		}
		fz[got].since = fg_now_ns();
		pt_max(&j->cnt.stop_latency_max_ns, fz[got].since - t0);
		fz[got].tid = picked[k];
		fz[got].journal_id = id;
		got++;
	}
	return got;
}

static void thaw(struct pt_job *j, struct frozen *fz, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		int r = tracee_release(fz[k].tid, fz[k].sig);

		if (r < 0)
			(void)log_debug_errno(r, "release tid %d", (int)fz[k].tid);
		atomic_fetch_add(&j->cnt.freezes, 1);
		atomic_fetch_add(&j->cnt.frozen_ns, fg_now_ns() - fz[k].since);
		pt_journal_end(j, fz[k].journal_id);
	}
}

void pt_run_freeze(struct pt_job *j)
{
	const struct fault_spec *f = j->f;
	fg_autofree struct cpu_sample *prev = NULL;
	size_t n_prev = 0, want;
	int64_t next = j->from_ns;

	want = f->pick == FAULT_PICK_TIDS ? f->n_tids : (size_t)(f->threads > 0 ? f->threads : 1);
	if (want > MAX_FROZEN)
		want = MAX_FROZEN;
	if (f->pick == FAULT_PICK_BUSIEST) {
		fg_autofree pid_t *tids = NULL;
		fg_autofree uint64_t *delta = NULL;

		if (pt_sleep_until(j, j->from_ns - BUSIEST_SAMPLE_NS))
			return;
		(void)sample_cpu(j->pid, &prev, &n_prev, &tids, &delta);
	}
	while (next < j->to_ns) {
		fg_autofree pid_t *tids = NULL;
		fg_autofree uint64_t *delta = NULL;
		pid_t picked[MAX_FROZEN];
		struct frozen fz[MAX_FROZEN];
		int64_t until;
		size_t n;
		int k;

		if (pt_sleep_until(j, next))
			return;
		k = sample_cpu(j->pid, &prev, &n_prev, &tids, &delta);
		if (k == -ESRCH)
			return;
		if (k < 0)
			break;
		n = pick_threads(j, tids, delta, (size_t)k, picked, want);
		n = freeze_some(j, picked, n, fz);
		until = fg_now_ns() + f->hold_ns;
		(void)pt_sleep_until(j, until < j->to_ns ? until : j->to_ns);
		thaw(j, fz, n);
		next += f->every_ns > 0 ? f->every_ns : f->hold_ns;
	}
}

/* engine hooks ------------------------------------------------------------ */

static void *job_main(void *arg)
{
	struct pt_job *j = arg;
	sigset_t wake;

	atomic_store(&j->worker_tid, (pid_t)syscall(SYS_gettid));
	sigemptyset(&wake);
	sigaddset(&wake, pt_wake_signal());
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	switch (j->f->kind) {
	case FAULT_FREEZE_THREAD:
		pt_run_freeze(j);
		break;
	case FAULT_MEM_LEAK:
		pt_run_leak(j);
		break;
	case FAULT_SLOW_IO:
	case FAULT_IO_ERROR:
		pt_run_sys(j);
		break;
	case FAULT_CGO_BLOCK:
	case FAULT_PIN_THREADS:
	case FAULT_GOMAXPROCS:
	case FAULT_KIND_MAX:
	default:
		break;
	}
	return NULL;
}

static const unsigned served_kinds = (1u << FAULT_FREEZE_THREAD) | (1u << FAULT_MEM_LEAK) |
				     (1u << FAULT_SLOW_IO) | (1u << FAULT_IO_ERROR);

static int ptrace_prepare(struct run_ctx *c, void **ret_state)
{
	struct ptrace_engine *e;
	struct sigaction sa = {.sa_handler = wake_handler};

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*ret_state = e;
	pthread_mutex_init(&e->jlock, NULL);
	e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->wake_fd < 0)
		return -errno;
	e->jobs = calloc(c->pb->n_faults, sizeof(*e->jobs));
	if (!e->jobs)
		return -ENOMEM;
	/* No SA_RESTART: the signal exists to break a tracer's waitpid. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(pt_wake_signal(), &sa, NULL) < 0)
		return -errno;
	return 0;
}

static int ptrace_start(void *state, struct run_ctx *c)
{
	struct ptrace_engine *e = state;
	sigset_t wake, old;
	int r = 0;

	e->journal = c->journal;
	/* Threads start with the wake signal blocked; only tracers unblock it. */
	sigemptyset(&wake);
	sigaddset(&wake, pt_wake_signal());
	pthread_sigmask(SIG_BLOCK, &wake, &old);
	for (size_t i = 0; i < c->pb->n_faults; i++) {
		struct pt_job *j = &e->jobs[e->n];
		int64_t from, to;

		if (!run_ctx_uses(c, i, FAULT_BACKEND_PTRACE) ||
		    !(served_kinds & (1u << c->pb->faults[i].kind)))
			continue;
		run_ctx_window(c, i, &from, &to);
		j->e = e;
		j->i = i;
		j->f = &c->pb->faults[i];
		j->pid = c->pid;
		j->from_ns = c->t0 + from;
		j->to_ns = c->t0 + to;
		fault_rng_seed(&j->rng, c->seed + i);
		e->n++;
		r = -pthread_create(&j->thread, NULL, job_main, j);
		if (r < 0)
			break;
		j->running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void ptrace_disarm(void *state)
{
	struct ptrace_engine *e = state;
	uint64_t one = 1;

	if (!e)
		return;
	atomic_store(&e->disarmed, true);
	(void)!write(e->wake_fd, &one, sizeof(one));
	for (size_t k = 0; k < e->n; k++) {
		struct pt_job *j = &e->jobs[k];
		pid_t tid;

		if (!j->running)
			continue;
		tid = atomic_load(&j->worker_tid);
		if (tid > 0)
			(void)syscall(SYS_tgkill, getpid(), tid, pt_wake_signal());
		pthread_join(j->thread, NULL);
		j->running = false;
	}
}

static void ptrace_counters(void *state, size_t i, struct fault_result *ret)
{
	struct ptrace_engine *e = state;

	for (size_t k = 0; e && k < e->n; k++) {
		struct pt_job *j = &e->jobs[k];

		if (j->i != i)
			continue;
		ret->seen = atomic_load(&j->cnt.seen);
		ret->delayed = atomic_load(&j->cnt.delayed);
		ret->failed = atomic_load(&j->cnt.failed);
		ret->delay_total_ns = atomic_load(&j->cnt.delay_total_ns);
		ret->bytes_mapped = atomic_load(&j->cnt.mapped);
		ret->bytes_touched = atomic_load(&j->cnt.touched);
		ret->bytes_released = atomic_load(&j->cnt.released);
		ret->freezes = atomic_load(&j->cnt.freezes);
		ret->frozen_total_ns = atomic_load(&j->cnt.frozen_ns);
		ret->stop_latency_max_ns = atomic_load(&j->cnt.stop_latency_max_ns);
		if (j->note[0])
			snprintf(ret->note, sizeof(ret->note), "%s", j->note);
	}
}

static void ptrace_free(void *state)
{
	struct ptrace_engine *e = state;

	if (!e)
		return;
	ptrace_disarm(e);
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	pthread_mutex_destroy(&e->jlock);
	free(e->jobs);
	free(e);
}

const struct engine_ops engine_ptrace = {
	.name = "ptrace",
	.backend = FAULT_BACKEND_PTRACE,
	.kinds = (1u << FAULT_FREEZE_THREAD) | (1u << FAULT_MEM_LEAK) | (1u << FAULT_SLOW_IO) |
		 (1u << FAULT_IO_ERROR),
	.prepare = ptrace_prepare,
	.start = ptrace_start,
	.disarm = ptrace_disarm,
	.stop = ptrace_disarm,
	.counters = ptrace_counters,
	.free = ptrace_free,
};
