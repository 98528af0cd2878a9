/* SPDX-License-Identifier: Apache-2.0 */
/* Vitals sampler: reads the target's /proc entries every interval (100 ms by
 * default) in a thread of its own and keeps the series. */
#ifndef FG_SAMPLER_H
#define FG_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
	int goroutines;			/* -1 when not measured */
	int gomaxprocs;			/* -1 when not measured */
};

struct sampler;

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

struct sampler *sampler_free(struct sampler *s);

#endif
