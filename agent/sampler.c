// SPDX-License-Identifier: Apache-2.0
/* Vitals sampler: a thread that reads /proc/PID/status and the per-thread
 * schedstat files on a fixed cadence and appends one sample each time. */
#define FG_LOG_COMPONENT "sampler"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "sampler.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define SERIES_FIRST_CAP 256

/* Run-queue counters of one thread, from its schedstat file. */
struct thread_stat {
	pid_t tid;
	uint64_t wait_ns;
	uint64_t slices;
};

struct thread_stats {
	struct thread_stat *v;
	size_t n, cap;
};

struct sampler {
	pid_t pid;
	int64_t t0_ns, interval_ns;
	int proc_fd;		/* /proc/PID */
	int status_fd;		/* /proc/PID/status, re-read from offset 0 */
	DIR *task_dir;		/* /proc/PID/task, rewound for each sample */
	int wake_fd;
	char buf[8192];
	struct thread_stats prev, cur;
	bool have_prev;

	pthread_t thread;
	bool thread_started, joined;

	/* Shared with readers, guarded by lock. The array is replaced when it
	 * fills up; replaced copies are kept until sampler_free() so that a
	 * pointer handed out by sampler_series() never dangles. */
	pthread_mutex_t lock;
	struct vital_sample *series;
	size_t n_series, cap_series;
	void **retired;
	size_t n_retired;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static bool gone_errno(int e)
{
	return e == ESRCH || e == ENOENT;
}

/* The number after "Key:" on a status line. */
static uint64_t field_u64(const char *line, size_t key_len)
{
	return strtoull(line + key_len, NULL, 10);
}

/*
 * Fill the /proc/PID/status part of @v. Return: 0, -ESRCH when the process
 * is gone or a zombie, or another negative errno.
 */
static int read_status(struct sampler *s, struct vital_sample *v)
{
	ssize_t n = pread(s->status_fd, s->buf, sizeof(s->buf) - 1, 0);
	char *line, *end;

	if (n < 0)
		return gone_errno(errno) ? -ESRCH : -errno;
	if (n == 0)
		return -ESRCH;
	s->buf[n] = '\0';
	for (line = s->buf; line && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		if (strncmp(line, "State:", 6) == 0) {
			const char *st = line + 6 + strspn(line + 6, " \t");

			if (*st == 'Z' || *st == 'X')
				return -ESRCH;
		} else if (strncmp(line, "VmRSS:", 6) == 0) {
			v->rss_bytes = field_u64(line, 6) * 1024;
		} else if (strncmp(line, "Threads:", 8) == 0) {
			v->threads = (uint32_t)field_u64(line, 8);
		} else if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0) {
			v->ctx_voluntary = field_u64(line, 24);
		} else if (strncmp(line, "nonvoluntary_ctxt_switches:", 27) == 0) {
			v->ctx_nonvoluntary = field_u64(line, 27);
		}
	}
	return 0;
}

static int stats_push(struct thread_stats *ts, const struct thread_stat *t)
{
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 64;
		struct thread_stat *v = realloc(ts->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ts->v = v;
		ts->cap = cap;
	}
	ts->v[ts->n++] = *t;
	return 0;
}

/* Read one thread's schedstat: on-CPU ns, run-queue wait ns, timeslices. */
static int read_thread(struct sampler *s, pid_t tid, struct thread_stat *ret)
{
	char path[32], buf[128];
	unsigned long long cpu, wait, slices;
	fg_autoclose int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%d/schedstat", (int)tid);
	fd = openat(dirfd(s->task_dir), path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu %llu", &cpu, &wait, &slices) != 3)
		return -EPROTO;
	ret->tid = tid;
	ret->wait_ns = wait;
	ret->slices = slices;
	return 0;
}

static int cmp_tid(const void *a, const void *b)
{
	const struct thread_stat *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* Gather every thread's counters into s->cur, sorted by tid. */
static int read_threads(struct sampler *s)
{
	struct dirent *de;

	s->cur.n = 0;
	rewinddir(s->task_dir);
	errno = 0;
	while ((de = readdir(s->task_dir))) {
		struct thread_stat t;
		int r;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		r = read_thread(s, (pid_t)strtol(de->d_name, NULL, 10), &t);
		if (r == -ENOENT || r == -ESRCH)
			continue;	/* the thread has just exited */
		if (r < 0)
			return r;
		r = stats_push(&s->cur, &t);
		if (r < 0)
			return r;
		errno = 0;
	}
	if (errno)
		return gone_errno(errno) ? -ESRCH : -errno;
	qsort(s->cur.v, s->cur.n, sizeof(*s->cur.v), cmp_tid);
	return 0;
}

/* Compare s->cur with s->prev into the run-queue fields of @v. */
static int sched_deltas(struct sampler *s, struct vital_sample *v)
{
	double *delays;
	uint32_t n = 0;

	if (!s->have_prev || s->cur.n == 0)
		return 0;
	delays = malloc(s->cur.n * sizeof(*delays));
	if (!delays)
		return -ENOMEM;
	for (size_t i = 0; i < s->cur.n; i++) {
		const struct thread_stat *c = &s->cur.v[i], *p;
		uint64_t dwait, dslices;

		p = bsearch(c, s->prev.v, s->prev.n, sizeof(*c), cmp_tid);
		/* Counters that went back mean a new thread with an old tid. */
		if (!p || c->wait_ns < p->wait_ns || c->slices < p->slices)
			continue;
		dwait = c->wait_ns - p->wait_ns;
		dslices = c->slices - p->slices;
		v->runqueue_wait_ns += dwait;
		if (dslices >= 1)
			delays[n++] = (double)dwait / (double)dslices / 1e6;
	}
	if (n == 0) {
		free(delays);
		return 0;
	}
	v->n_sched_delays = n;
	v->sched_delay_ms = delays;
	return 0;
}

/* Take one sample. Return: 0, -ESRCH when the process is gone, or <0. */
static int sample_once(struct sampler *s, struct vital_sample *v)
{
	struct thread_stats tmp;
	int r;

	memset(v, 0, sizeof(*v));
	v->goroutines = -1;
	v->gomaxprocs = -1;
	v->t_ns = now_ns() - s->t0_ns;
	r = read_status(s, v);
	if (r < 0)
		return r;
	r = read_threads(s);
	if (r < 0)
		return r;
	r = sched_deltas(s, v);
	if (r < 0)
		return r;
	tmp = s->prev;
	s->prev = s->cur;
	s->cur = tmp;
	s->have_prev = true;
	return 0;
}

static int series_append(struct sampler *s, const struct vital_sample *v)
{
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (s->n_series == s->cap_series) {
		size_t cap = s->cap_series ? s->cap_series * 2 : SERIES_FIRST_CAP;
		struct vital_sample *series = malloc(cap * sizeof(*series));
		void **retired = realloc(s->retired, (s->n_retired + 1) * sizeof(*retired));

		if (retired)
			s->retired = retired;
		if (!series || !retired) {
			free(series);
			r = -ENOMEM;
			goto out;
		}
		if (s->n_series)
			memcpy(series, s->series, s->n_series * sizeof(*series));
		if (s->series)
			s->retired[s->n_retired++] = s->series;
		s->series = series;
		s->cap_series = cap;
	}
	s->series[s->n_series++] = *v;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void *sampler_main(void *arg)
{
	struct sampler *s = arg;
	struct pollfd pfd = { .fd = s->wake_fd, .events = POLLIN };
	int64_t next = now_ns();

	for (;;) {
		struct vital_sample v;
		int64_t now;
		int r;

		r = sample_once(s, &v);
		if (r == -ESRCH) {
			log_debug("process %d is gone, sampling ends", (int)s->pid);
			break;
		}
		if (r == 0)
			r = series_append(s, &v);
		if (r < 0) {
			free(v.sched_delay_ms);
			(void)log_debug_errno(r, "sample of %d lost", (int)s->pid);
		}

		/* Keep the cadence; after a long stall skip the missed ticks
		 * rather than sampling in a burst. */
		now = now_ns();
		next += s->interval_ns;
		if (next <= now)
			next = now + s->interval_ns;
		r = poll(&pfd, 1, (int)((next - now + NS_PER_MS - 1) / NS_PER_MS));
		if (r > 0)
			break;
	}
	return NULL;
}

int sampler_start(pid_t pid, int64_t t0_ns, int64_t interval_ns, struct sampler **ret)
{
	char path[32];
	struct sampler *s;
	sigset_t all, old;
	int fd, r;

	if (pid <= 0 || interval_ns <= 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->pid = pid;
	s->t0_ns = t0_ns;
	s->interval_ns = interval_ns;
	s->status_fd = -1;
	s->wake_fd = -1;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	s->proc_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->proc_fd < 0) {
		r = gone_errno(errno) ? -ESRCH : -errno;
		goto fail;
	}
	s->status_fd = openat(s->proc_fd, "status", O_RDONLY | O_CLOEXEC);
	if (s->status_fd < 0) {
		r = gone_errno(errno) ? -ESRCH : -errno;
		goto fail;
	}
	fd = openat(s->proc_fd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = gone_errno(errno) ? -ESRCH : -errno;
		goto fail;
	}
	s->task_dir = fdopendir(fd);
	if (!s->task_dir) {
		r = -errno;
		close(fd);
		goto fail;
	}
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		r = -errno;
		goto fail;
	}

	/* Signals belong to the runner's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&s->thread, NULL, sampler_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto fail;
	s->thread_started = true;
	*ret = s;
	return 0;
fail:
	sampler_free(s);
	return r;
}

void sampler_stop(struct sampler *s)
{
	uint64_t one = 1;

	if (!s || s->joined)
		return;
	if (s->thread_started) {
		(void)!write(s->wake_fd, &one, sizeof(one));
		pthread_join(s->thread, NULL);
	}
	s->joined = true;
}

size_t sampler_series(struct sampler *s, const struct vital_sample **ret)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	*ret = s->series;
	n = s->n_series;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int sampler_last(struct sampler *s, struct vital_sample *ret)
{
	int r = -ENODATA;

	pthread_mutex_lock(&s->lock);
	if (s->n_series) {
		*ret = s->series[s->n_series - 1];
		r = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

struct sampler *sampler_free(struct sampler *s)
{
	if (!s)
		return NULL;
	sampler_stop(s);
	for (size_t i = 0; i < s->n_series; i++)
		free(s->series[i].sched_delay_ms);
	free(s->series);
	for (size_t i = 0; i < s->n_retired; i++)
		free(s->retired[i]);
	free(s->retired);
	free(s->prev.v);
	free(s->cur.v);
	if (s->task_dir)
		closedir(s->task_dir);
	if (s->status_fd >= 0)
		close(s->status_fd);
	if (s->proc_fd >= 0)
		close(s->proc_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}
