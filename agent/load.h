/* SPDX-License-Identifier: Apache-2.0 */
/* The load: HTTP requests at a constant arrival rate (open model, libcurl
 * multi) or a probe command run every interval. Latency is measured from the
 * intended send time, so a stalled target cannot hide its stall. */
#ifndef FG_LOAD_H
#define FG_LOAD_H

#include <stdint.h>

#include "error.h"
#include "hist.h"
#include "playbook.h"

struct load;

/* Counts for a span of time; latency of completed requests. */
/* How a request (or probe) ended. */
enum load_outcome {
	LOAD_OK,
	LOAD_ERR_TIMEOUT,	/* no complete answer within the timeout */
	LOAD_ERR_CONNECT,	/* could not connect: refused, unreachable */
	LOAD_ERR_STATUS,	/* an answer outside ok_status; a probe's nonzero exit */
	LOAD_ERR_OTHER,		/* reset, empty reply, not sent, ... */
	LOAD_OUTCOME_MAX,
};

struct load_stats {
	uint64_t requests;	/* completed (ok or not) */
	uint64_t errors;	/* not ok: the sum of by_outcome[1..] */
	uint64_t by_outcome[LOAD_OUTCOME_MAX];
	/* Successful answers that ARRIVED in the span (by completion time,
	 * unlike the counts above): what the target served, whatever was
	 * offered. throughput = served / seconds. */
	uint64_t served;
	double seconds;		/* length of the span */
	/* Latency of the requests that succeeded and of those that timed out
	 * (at the time they were given up): a request refused at once must
	 * not make an outage look fast. */
	struct fg_hist latency;
};

/** load_outcome_name() - "ok", "timeout", "connect", "status", "other". */
const char *load_outcome_name(enum load_outcome o);

/**
 * load_start() - start sending in a thread of its own.
 * @t0_ns: monotonic time at which the baseline starts.
 * @phase_ns: the phases' lengths; each request belongs to the phase in which
 *            it was meant to be sent. Nothing is meant for after the last
 *            phase: the schedule ends there unless load_stop() ends it first.
 *
 * Return: 0, -EINVAL (bad URL or argv, rate, connections or interval not
 * positive, kind LOAD_NONE), -ENOMEM, or a thread error.
 */
int load_start(const struct load_spec *spec, int64_t t0_ns, const int64_t phase_ns[PHASE_MAX],
	       struct load **ret, struct fg_error *reterr);

/**
 * load_stop() - stop scheduling new requests at @end_ns (monotonic; requests
 * meant for later are never sent), wait for those in flight (at most their
 * timeout) and join the thread. Safe to call twice.
 * Requests meant for before @end_ns but still waiting for a free connection
 * (or probe slot) one timeout after max(now, @end_ns) are counted as errors
 * with the wait so far as latency, never dropped.
 */
void load_stop(struct load *l, int64_t end_ns);

/**
 * load_phase_stats() - totals of a phase, or of the whole run for
 * PHASE_ALL. Call after load_stop().
 */
void load_phase_stats(struct load *l, int phase, struct load_stats *ret);

/**
 * load_window_stats() - totals of requests meant to be sent between
 * @from_ns and @to_ns after t0, at one-second resolution; safe while running.
 * The whole slots touched by the span are summed; seconds is their length
 * up to now (or the end of the run), so a rate over a window that ends now
 * is not diluted by the rest of the current second.
 */
void load_window_stats(struct load *l, int64_t from_ns, int64_t to_ns, struct load_stats *ret);

/**
 * load_seconds() - number of one-second timeline slots filled so far; slot
 * i covers [i s, i+1 s) after t0. load_second_stats() reads one.
 */
size_t load_seconds(struct load *l);
void load_second_stats(struct load *l, size_t i, struct load_stats *ret);

struct load *load_free(struct load *l);

#endif
