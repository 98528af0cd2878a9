/* SPDX-License-Identifier: Apache-2.0 */
/* Gate and stop-condition expressions: METRIC [during PHASE] [over WINDOW]
 * OP VALUE, where VALUE is absolute, "Nx baseline" or "baseline + ABS".
 * Parsing and the metric catalogue only; evaluation lives in the agent. */
#ifndef FG_GATE_EXPR_H
#define FG_GATE_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum metric_unit {
	METRIC_UNIT_DURATION,	/* canonical value: milliseconds */
	METRIC_UNIT_BYTES,
	METRIC_UNIT_FRACTION,	/* 0..1, written as a percentage or a plain number */
	METRIC_UNIT_COUNT,
	METRIC_UNIT_PER_SEC,	/* events per second, "N/s" or a plain number */
	METRIC_UNIT_BOOL,	/* target.alive: 1 or 0 */
	METRIC_UNIT_MAX,
};

enum metric_source {
	METRIC_SRC_LOAD,
	METRIC_SRC_VITALS,
	METRIC_SRC_TARGET,
	METRIC_SRC_MAX,
};

enum metric_id {
	METRIC_LATENCY_P50,
	METRIC_LATENCY_P90,
	METRIC_LATENCY_P99,
	METRIC_LATENCY_P999,
	METRIC_LATENCY_MAX,
	METRIC_LATENCY_MEAN,
	METRIC_ERRORS_RATE,
	METRIC_ERRORS_COUNT,
	METRIC_REQUESTS_COUNT,
	METRIC_THROUGHPUT,
	/* Vitals: each base has the summaries max, min, mean, end, growth in
	 * this order, so id = base + summary. */
	METRIC_RSS_MAX,
	METRIC_RSS_MIN,
	METRIC_RSS_MEAN,
	METRIC_RSS_END,
	METRIC_RSS_GROWTH,
	METRIC_THREADS_MAX,
	METRIC_THREADS_MIN,
	METRIC_THREADS_MEAN,
	METRIC_THREADS_END,
	METRIC_THREADS_GROWTH,
	METRIC_GOROUTINES_MAX,
	METRIC_GOROUTINES_MIN,
	METRIC_GOROUTINES_MEAN,
	METRIC_GOROUTINES_END,
	METRIC_GOROUTINES_GROWTH,
	METRIC_GOMAXPROCS_MAX,
	METRIC_GOMAXPROCS_MIN,
	METRIC_GOMAXPROCS_MEAN,
	METRIC_GOMAXPROCS_END,
	METRIC_GOMAXPROCS_GROWTH,
	METRIC_CTX_NONVOLUNTARY_RATE,
	METRIC_SCHED_DELAY_P50,
	METRIC_SCHED_DELAY_P99,
	METRIC_SCHED_DELAY_MAX,
	METRIC_RUNQUEUE_WAIT_RATE,
	METRIC_TARGET_ALIVE,
	/* Kernel delay accounting (taskstats), summed over threads: ms. */
	METRIC_CPU_DELAY_TOTAL,
	METRIC_BLKIO_DELAY_TOTAL,
	METRIC_SWAPIN_DELAY_TOTAL,
	METRIC_RECLAIM_DELAY_TOTAL,
	METRIC_THRASHING_DELAY_TOTAL,
	METRIC_ID_MAX,
};

enum vital_summary {
	VITAL_MAX,
	VITAL_MIN,
	VITAL_MEAN,
	VITAL_END,
	VITAL_GROWTH,
	VITAL_SUMMARY_MAX,
};

struct metric_info {
	const char *name;	/* "latency.p99" */
	enum metric_id id;
	enum metric_unit unit;
	enum metric_source source;
};

/** metric_lookup() - by name, including aliases ("gomaxprocs" = gomaxprocs.end). */
const struct metric_info *metric_lookup(const char *name);
const struct metric_info *metric_info(enum metric_id id);
/** metric_name() - "latency.p99"; NULL for an invalid id. */
const char *metric_name(enum metric_id id);

/**
 * metric_suggest() - names to offer for the unknown metric @name, comma
 * separated into @buf: its family's members, else the names within two
 * edits, else every family ("latency.*, errors.*, ...").
 */
const char *metric_suggest(const char *name, char *buf, size_t size);

/**
 * metric_format() - @value (canonical unit) as text a user would write,
 * e.g. "12.3ms", "1.2%", "64.0MiB", "200/s".
 */
const char *metric_format(enum metric_unit unit, double value, char *buf, size_t size);
/** metric_unit_name() - the unit word for reports: "ms", "bytes", "ratio", ... */
const char *metric_unit_name(enum metric_unit unit);

enum gate_op {
	GATE_LT,
	GATE_LE,
	GATE_GT,
	GATE_GE,
	GATE_OP_MAX,
};

enum gate_bound {
	GATE_BOUND_ABS,			/* VALUE */
	GATE_BOUND_RATIO,		/* VALUE x baseline */
	GATE_BOUND_BASELINE_PLUS,	/* baseline + VALUE */
	GATE_BOUND_MAX,
};

struct gate_expr {
	char *text;		/* as written */
	unsigned line, col;	/* position of the expression in the playbook */
	enum metric_id metric;
	int phase;		/* enum phase, or PHASE_ALL */
	int64_t over_ns;	/* stop conditions: trailing window; 0 for gates */
	enum gate_op op;
	enum gate_bound bound;
	double value;		/* canonical unit; the factor for RATIO */
};

/**
 * gate_expr_parse() - parse @text into @ret (ret->text is strdup'ed).
 * @is_abort: a stop condition ("over WINDOW" allowed, default 5 s; no
 *            "during", no baseline-relative bounds).
 * @reterr_msg: message on failure.
 * @reterr_offset: 0-based offset into @text of the offending token.
 *
 * Return: 0, -EINVAL, -ERANGE, -ENOMEM.
 */
int gate_expr_parse(const char *text, bool is_abort, struct gate_expr *ret, char *reterr_msg,
		    size_t msg_size, size_t *reterr_offset);

void gate_expr_done(struct gate_expr *g);

const char *gate_op_text(enum gate_op op);

/** gate_compare() - @value OP @bound. */
bool gate_compare(enum gate_op op, double value, double bound);

#endif
