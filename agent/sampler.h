/* SPDX-License-Identifier: Apache-2.0 */
/* Vitals sampler: reads the target's /proc entries every interval (100 ms by
 * default) in a thread of its own and keeps the series. */
#ifndef FG_SAMPLER_H
#define FG_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One thread's figures over one sample interval; only threads with a
 * nonzero figure get a row. */
struct thread_delta {
	int32_t tid;
	uint32_t discarded;		/* TASK_DELAY_* bits dropped as impossible */
	uint64_t oncpu_ns;		/* schedstat */
	uint64_t runqueue_ns;		/* schedstat */
	uint64_t cpu_delay_ns;		/* taskstats from here on */
	uint64_t blkio_delay_ns;
	uint64_t swapin_delay_ns;
	uint64_t reclaim_delay_ns;
	uint64_t thrashing_delay_ns;
};

struct vital_sample {
	int64_t t_ns;			/* since t0 (may be negative before the baseline) */
	uint64_t rss_bytes;
	uint32_t threads;
	uint64_t ctx_voluntary;
	uint64_t ctx_nonvoluntary;
	/* Run-queue delay over the interval since the previous sample, from
	 * /proc/PID/task/TID/schedstat: total wait, and the per-thread
	 * per-timeslice averages (thread-intervals with >= 1 timeslice). */
	uint64_t runqueue_wait_ns;
	uint32_t n_sched_delays;
	double *sched_delay_ms;		/* n_sched_delays values, owned by the sampler */
	/* Kernel delay accounting (taskstats) over the interval, summed
	 * over threads; has_delays holds the TASK_DELAY_* bits measured. */
	unsigned has_delays;
	uint64_t cpu_delay_ns;
	uint64_t blkio_delay_ns;
	uint64_t swapin_delay_ns;
	uint64_t reclaim_delay_ns;
	uint64_t thrashing_delay_ns;
	uint32_t n_thread_deltas;
	struct thread_delta *thread_deltas;	/* owned by the sampler */
	int goroutines;			/* -1 when not measured */
	int gomaxprocs;			/* -1 when not measured */
};

struct sampler;

/* How the sampler measures, for the report. */
struct sampler_info {
	int64_t interval_ns;
	int taskstats_err;		/* 0 when taskstats answers, else -errno */
	char taskstats_why[192];	/* why not, in words */
	bool proc_events;		/* threads followed through the proc connector */
	char threads_why[160];		/* why rescans, when they are used */
	uint64_t threads_started;	/* seen by the proc connector */
	uint64_t threads_exited;
	uint64_t delays_discarded;	/* per-thread taskstats deltas > wall time */
};

/**
 * sampler_start() - sample @pid every @interval_ns, times relative to @t0_ns.
 * The first sample is taken at once. Sampling ends by itself when the process
 * is gone or a zombie.
 * Return: 0, -ESRCH (no such process), -EINVAL (pid or interval <= 0),
 * -ENOMEM, or a thread error.
 */
int sampler_start(pid_t pid, int64_t t0_ns, int64_t interval_ns, struct sampler **ret);

/** sampler_stop() - end sampling (the series stays readable). Safe twice. */
void sampler_stop(struct sampler *s);

/**
 * sampler_series() - the samples so far; valid until the next call while
 * running, and for good after sampler_stop(). Return: the count.
 * (In fact a returned array, and the count of samples in it, stay valid until
 * sampler_free(): when the series outgrows its array, the old copy is kept.)
 */
size_t sampler_series(struct sampler *s, const struct vital_sample **ret);

/** sampler_last() - copy of the latest sample; -ENODATA if none yet. */
int sampler_last(struct sampler *s, struct vital_sample *ret);

/** sampler_info() - how this sampler measures (see struct sampler_info). */
void sampler_info(struct sampler *s, struct sampler_info *ret);

struct sampler *sampler_free(struct sampler *s);

#endif
