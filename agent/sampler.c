// SPDX-License-Identifier: Apache-2.0
/* Vitals sampler: a thread that reads /proc/PID/status and the per-thread
 * schedstat files on a fixed cadence and appends one sample each time. */
#define FG_LOG_COMPONENT "sampler"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "sampler.h"
#include "goruntime.h"
#include "taskstats.h"
#include "units.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define SERIES_FIRST_CAP 256

/* Counters of one thread: schedstat, and taskstats when it answers. */
struct thread_stat {
	pid_t tid;
	uint64_t cpu_ns;
	uint64_t wait_ns;
	uint64_t slices;
	uint64_t nvcsw, nivcsw;		/* voluntary, nonvoluntary switches */
	struct task_delays delays;	/* delays.have == 0 without taskstats */
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
	int64_t prev_t_ns;

	/* taskstats; NULL when it is not available (info says why) */
	struct taskstats_conn *ts;
	/* proc connector: the thread set between rescans */
	int procev_fd;
	pid_t *tids;
	size_t n_tids, cap_tids;
	struct sampler_info info;	/* guarded by lock once running */

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

	/* Go runtime readout; opened lazily, since the target may not have
	 * exec'ed its binary yet when sampling starts. */
	struct goruntime *go;
	unsigned go_tries;

	/* Context switches of the whole process: /proc/PID/status counts the
	 * main thread only, so every thread's deltas are added up here. */
	uint64_t ctx_vol_total, ctx_nonvol_total;
};

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

/* The reason taskstats gives nothing, as the report prints it. */
static void taskstats_missing(struct sampler *s, int err)
{
	const char *why;

	if (err == -EPERM)
		why = "taskstats needs CAP_NET_ADMIN, which faultgate does not have "
		      "(EPERM): CPU, block-I/O, swap-in, reclaim and thrashing delays "
		      "per thread are missing";
	else if (err == -ENOENT)
		why = "the kernel has no taskstats (CONFIG_TASKSTATS): per-thread "
		      "delays are missing";
	else
		why = NULL;
	pthread_mutex_lock(&s->lock);
	s->info.taskstats_err = err;
	if (why)
		snprintf(s->info.taskstats_why, sizeof(s->info.taskstats_why), "%s", why);
	else
		snprintf(s->info.taskstats_why, sizeof(s->info.taskstats_why),
			 "taskstats failed (%s): per-thread delays are missing", strerror(-err));
	pthread_mutex_unlock(&s->lock);
}

/* One thread's taskstats into @ret; a thread that vanished is -ESRCH, and
 * any other failure turns taskstats off for the rest of the run. */
static int thread_delays(struct sampler *s, pid_t tid, struct task_delays *ret)
{
	int r;

	if (!s->ts)
		return 0;
	r = taskstats_query(s->ts, tid, ret);
	if (r == -ESRCH)
		return r;
	if (r < 0) {
		log_debug("taskstats of tid %d: %s, no more taskstats", (int)tid, strerror(-r));
		s->ts = taskstats_close(s->ts);
		taskstats_missing(s, r);
		memset(ret, 0, sizeof(*ret));
	}
	return 0;
}

/* The context switch counters of one thread, from its status file. */
static void read_thread_switches(struct sampler *s, pid_t tid, struct thread_stat *ret)
{
	char path[32], buf[2048];
	fg_autoclose int fd = -1;
	const char *p;
	ssize_t n;

	ret->nvcsw = ret->nivcsw = 0;
	snprintf(path, sizeof(path), "%d/status", (int)tid);
	fd = openat(dirfd(s->task_dir), path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	if (p)
		ret->nvcsw = field_u64(p + 1, 24);
	p = strstr(buf, "\nnonvoluntary_ctxt_switches:");
	if (p)
		ret->nivcsw = field_u64(p + 1, 27);
}

static int cmp_tid(const void *a, const void *b);

/* Add every thread's switches since the previous sample to the process
 * totals; a thread seen for the first time brings all of its own. */
static void switch_deltas(struct sampler *s, struct vital_sample *v)
{
	for (size_t i = 0; i < s->cur.n; i++) {
		const struct thread_stat *c = &s->cur.v[i], *p = NULL;

		if (s->have_prev)
			p = bsearch(c, s->prev.v, s->prev.n, sizeof(*c), cmp_tid);
		if (p && c->nvcsw >= p->nvcsw && c->nivcsw >= p->nivcsw) {
			s->ctx_vol_total += c->nvcsw - p->nvcsw;
			s->ctx_nonvol_total += c->nivcsw - p->nivcsw;
		} else {
			s->ctx_vol_total += c->nvcsw;
			s->ctx_nonvol_total += c->nivcsw;
		}
	}
	v->ctx_voluntary = s->ctx_vol_total;
	v->ctx_nonvoluntary = s->ctx_nonvol_total;
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
	ret->cpu_ns = cpu;
	ret->wait_ns = wait;
	ret->slices = slices;
	read_thread_switches(s, tid, ret);
	memset(&ret->delays, 0, sizeof(ret->delays));
	return thread_delays(s, tid, &ret->delays);
}

static int cmp_tid(const void *a, const void *b)
{
	const struct thread_stat *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int tids_add(struct sampler *s, pid_t tid)
{
	for (size_t i = 0; i < s->n_tids; i++)
		if (s->tids[i] == tid)
			return 0;
	if (s->n_tids == s->cap_tids) {
		size_t cap = s->cap_tids ? s->cap_tids * 2 : 64;
		pid_t *v = realloc(s->tids, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->tids = v;
		s->cap_tids = cap;
	}
	s->tids[s->n_tids++] = tid;
	return 0;
}

static void tids_del(struct sampler *s, pid_t tid)
{
	for (size_t i = 0; i < s->n_tids; i++) {
		if (s->tids[i] != tid)
			continue;
		s->tids[i] = s->tids[--s->n_tids];
		return;
	}
}

/* The listen (or ignore) request of the proc connector. */
static int procev_send(int fd, enum proc_cn_mcast_op op)
{
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} req;

	memset(&req, 0, sizeof(req));
	req.nl.nlmsg_len = sizeof(req);
	req.nl.nlmsg_type = NLMSG_DONE;
	req.cn.id.idx = CN_IDX_PROC;
	req.cn.id.val = CN_VAL_PROC;
	req.cn.len = sizeof(req.op);
	req.op = op;
	if (send(fd, &req, sizeof(req), 0) < 0)
		return -errno;
	return 0;
}

/*
 * Subscribe to the process events connector (feasibility section 7). It
 * exists only in the initial network namespace: elsewhere the request fails
 * with ECONNREFUSED and the sampler rescans /proc/PID/task instead.
 */
static void procev_open(struct sampler *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	int fd, rcvbuf = 1 << 20, r;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	r = procev_send(fd, PROC_CN_MCAST_LISTEN);
	if (r < 0)
		goto fail;
	s->procev_fd = fd;
	s->info.proc_events = true;
	return;
fail:
	if (fd >= 0)
		close(fd);
	snprintf(s->info.threads_why, sizeof(s->info.threads_why),
		 "the process events connector refused (%s%s), threads are found by "
		 "rescanning /proc/PID/task every sample", strerror(-r),
		 r == -ECONNREFUSED ? ": not the initial network namespace" : "");
}

static void procev_event(struct sampler *s, const struct proc_event *ev)
{
	if (ev->what == PROC_EVENT_FORK && ev->event_data.fork.child_tgid == s->pid) {
		if (tids_add(s, ev->event_data.fork.child_pid) == 0)
			s->info.threads_started++;
	} else if (ev->what == PROC_EVENT_EXIT && ev->event_data.exit.process_tgid == s->pid) {
		tids_del(s, ev->event_data.exit.process_pid);
		s->info.threads_exited++;
	}
}

/* Apply the queued events to s->tids. Return: 0 when the set is up to
 * date, 1 when events were lost (ENOBUFS) and a rescan is due. */
static int procev_update(struct sampler *s)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int lost = 0;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		ssize_t n = recv(s->procev_fd, buf, sizeof(buf), 0);
		int len = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			lost = 1;	/* ENOBUFS: the queue overflowed */
			if (errno != ENOBUFS)
				break;
			continue;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			const struct cn_msg *cn = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_NOOP)
				continue;
			if (cn->id.idx != CN_IDX_PROC || cn->len < sizeof(struct proc_event))
				continue;
			procev_event(s, (const struct proc_event *)cn->data);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return lost;
}

static int rescan_threads(struct sampler *s);

/* Read thread @tid into s->cur; a thread that has just exited is skipped. */
static int add_thread(struct sampler *s, pid_t tid)
{
	struct thread_stat t;
	int r;

	r = read_thread(s, tid, &t);
	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	return stats_push(&s->cur, &t);
}

/* Gather every thread's counters into s->cur, sorted by tid: from the proc
 * connector's thread set when it is trustworthy, else a rescan. */
static int read_threads(struct sampler *s)
{
	int r;

	if (s->procev_fd >= 0 && s->have_prev && procev_update(s) == 0) {
		s->cur.n = 0;
		for (size_t i = 0; i < s->n_tids; i++) {
			r = add_thread(s, s->tids[i]);
			if (r < 0)
				return r;
		}
		qsort(s->cur.v, s->cur.n, sizeof(*s->cur.v), cmp_tid);
		return 0;
	}
	r = rescan_threads(s);
	if (r < 0 || s->procev_fd < 0)
		return r;
	/* The rescan is the thread set from now on. */
	s->n_tids = 0;
	for (size_t i = 0; i < s->cur.n; i++)
		if (tids_add(s, s->cur.v[i].tid) < 0)
			return -ENOMEM;
	return 0;
}

static int rescan_threads(struct sampler *s)
{
	struct dirent *de;

	s->cur.n = 0;
	rewinddir(s->task_dir);
	errno = 0;
	while ((de = readdir(s->task_dir))) {
		int r;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		r = add_thread(s, (pid_t)strtol(de->d_name, NULL, 10));
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

/* @now minus @before when @bit was measured in both and the difference is
 * possible within @wall; otherwise 0, and @bit goes into @discarded. */
static uint64_t delay_delta(uint64_t now, uint64_t before, uint64_t wall, unsigned bit,
			   unsigned have, uint32_t *discarded)
{
	if (!(have & bit))
		return 0;
	if (now < before || now - before > wall) {
		*discarded |= bit;
		return 0;
	}
	return now - before;
}

static bool delta_nonzero(const struct thread_delta *d)
{
	return d->oncpu_ns || d->runqueue_ns || d->cpu_delay_ns || d->blkio_delay_ns ||
	       d->swapin_delay_ns || d->reclaim_delay_ns || d->thrashing_delay_ns;
}

static void sum_delta(struct vital_sample *v, const struct thread_delta *d)
{
	v->cpu_delay_ns += d->cpu_delay_ns;
	v->blkio_delay_ns += d->blkio_delay_ns;
	v->swapin_delay_ns += d->swapin_delay_ns;
	v->reclaim_delay_ns += d->reclaim_delay_ns;
	v->thrashing_delay_ns += d->thrashing_delay_ns;
}

/*
 * Per-thread rows since the previous sample, and the taskstats sums. Only
 * deltas are trusted, and a delta larger than the wall time between the two
 * samples is impossible for one thread (a first reading after delay
 * accounting was switched on can be off by the uptime): it is dropped.
 */
static int delta_rows(struct sampler *s, struct vital_sample *v)
{
	uint64_t wall = (uint64_t)(v->t_ns - s->prev_t_ns) + NS_PER_MS;
	unsigned have = ~0u;
	uint64_t dropped = 0;
	struct thread_delta *rows;
	bool any = false;
	uint32_t n = 0;

	if (!s->have_prev || s->cur.n == 0)
		return 0;
	rows = malloc(s->cur.n * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < s->cur.n; i++) {
		const struct thread_stat *c = &s->cur.v[i], *p;
		const struct task_delays *a = &c->delays, *b;
		struct thread_delta d = { .tid = c->tid };
		unsigned both;

		p = bsearch(c, s->prev.v, s->prev.n, sizeof(*c), cmp_tid);
		if (!p || c->wait_ns < p->wait_ns || c->cpu_ns < p->cpu_ns)
			continue;
		b = &p->delays;
		both = a->have & b->have;
		d.oncpu_ns = c->cpu_ns - p->cpu_ns;
		d.runqueue_ns = c->wait_ns - p->wait_ns;
		d.cpu_delay_ns = delay_delta(a->cpu_ns, b->cpu_ns, wall, TASK_DELAY_CPU, both,
					     &d.discarded);
		d.blkio_delay_ns = delay_delta(a->blkio_ns, b->blkio_ns, wall, TASK_DELAY_BLKIO,
					       both, &d.discarded);
		d.swapin_delay_ns = delay_delta(a->swapin_ns, b->swapin_ns, wall,
						TASK_DELAY_SWAPIN, both, &d.discarded);
		d.reclaim_delay_ns = delay_delta(a->reclaim_ns, b->reclaim_ns, wall,
						 TASK_DELAY_RECLAIM, both, &d.discarded);
		d.thrashing_delay_ns = delay_delta(a->thrashing_ns, b->thrashing_ns, wall,
						   TASK_DELAY_THRASHING, both, &d.discarded);
		if (both) {
			any = true;
			have &= both;
		}
		dropped += (uint64_t)__builtin_popcount(d.discarded);
		sum_delta(v, &d);
		if (delta_nonzero(&d) || d.discarded)
			rows[n++] = d;
	}
	v->has_delays = any ? have : 0;
	if (dropped) {
		pthread_mutex_lock(&s->lock);
		s->info.delays_discarded += dropped;
		pthread_mutex_unlock(&s->lock);
	}
	if (n == 0) {
		free(rows);
		return 0;
	}
	v->n_thread_deltas = n;
	v->thread_deltas = rows;
	return 0;
}

#define GO_OPEN_TRIES 10

/* Goroutines and GOMAXPROCS read from the runtime's memory, without
 * stopping the target; left at -1 when not a Go program or not readable. */
static void read_go(struct sampler *s, struct vital_sample *v)
{
	int n;

	if (!s->go && s->go_tries < GO_OPEN_TRIES) {
		s->go_tries++;
		if (goruntime_open(s->pid, &s->go) < 0)
			s->go = NULL;
	}
	if (!s->go)
		return;
	if (goruntime_gomaxprocs(s->go, &n) == 0)
		v->gomaxprocs = n;
	if (goruntime_goroutines(s->go, &n) == 0)
		v->goroutines = n;
}

/* Take one sample. Return: 0, -ESRCH when the process is gone, or <0. */
static int sample_once(struct sampler *s, struct vital_sample *v)
{
	struct thread_stats tmp;
	int r;

	memset(v, 0, sizeof(*v));
	v->goroutines = -1;
	v->gomaxprocs = -1;
	v->t_ns = fg_now_ns() - s->t0_ns;
	r = read_status(s, v);
	if (r < 0)
		return r;
	read_go(s, v);
	r = read_threads(s);
	if (r < 0)
		return r;
	r = sched_deltas(s, v);
	if (r < 0)
		return r;
	switch_deltas(s, v);
	r = delta_rows(s, v);
	if (r < 0) {
		free(v->sched_delay_ms);
		v->sched_delay_ms = NULL;
		return r;
	}
	tmp = s->prev;
	s->prev = s->cur;
	s->cur = tmp;
	s->have_prev = true;
	s->prev_t_ns = v->t_ns;
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
	int64_t next = fg_now_ns();

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
			free(v.thread_deltas);
			(void)log_debug_errno(r, "sample of %d lost", (int)s->pid);
		}

		/* Keep the cadence; after a long stall skip the missed ticks
		 * rather than sampling in a burst. */
		now = fg_now_ns();
		next += s->interval_ns;
		if (next <= now)
			next = now + s->interval_ns;
		r = poll(&pfd, 1, (int)((next - now + NS_PER_MS - 1) / NS_PER_MS));
		if (r > 0)
			break;
	}
	return NULL;
}

/* taskstats, when this process may use it; the report says why not. */
static void taskstats_start(struct sampler *s)
{
	int r = taskstats_open(&s->ts);

	if (r < 0)
		taskstats_missing(s, r);
}

void sampler_info(struct sampler *s, struct sampler_info *ret)
{
	pthread_mutex_lock(&s->lock);
	*ret = s->info;
	pthread_mutex_unlock(&s->lock);
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
	s->procev_fd = -1;
	s->info.interval_ns = interval_ns;

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
	taskstats_start(s);
	procev_open(s);

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
	for (size_t i = 0; i < s->n_series; i++) {
		free(s->series[i].sched_delay_ms);
		free(s->series[i].thread_deltas);
	}
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
	s->ts = taskstats_close(s->ts);
	if (s->procev_fd >= 0) {
		(void)procev_send(s->procev_fd, PROC_CN_MCAST_IGNORE);
		close(s->procev_fd);
	}
	free(s->tids);
	goruntime_free(s->go);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}
