/* SPDX-License-Identifier: Apache-2.0 */
/* Everything a run measured, in one place: gates read it, reports print it. */
#ifndef FG_RESULTS_H
#define FG_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"
#include "gate_expr.h"
#include "load.h"
#include "playbook.h"
#include "sampler.h"

enum verdict {
	VERDICT_PASS,
	VERDICT_FAIL,
	VERDICT_ABORTED,
	VERDICT_ERROR,
	VERDICT_MAX,
};

struct fault_result {
	enum fault_backend backend;
	double window_start_s, window_end_s;	/* since t0 */
	bool applied;				/* the window was reached */
	bool inject_failed;	/* reached, but the fault could not be put in
				 * place at all (note says why) */
	bool restore_failed;	/* put in place, and not reverted: the target
				 * is left changed (note says why) */
	uint64_t seen, delayed, failed;
	int64_t delay_total_ns;
	/* mem-leak */
	uint64_t bytes_mapped, bytes_touched, bytes_released;
	/* pin-threads */
	uint64_t threads_pinned;
	/* freeze-thread */
	uint64_t freezes;
	int64_t frozen_total_ns;
	int64_t stop_latency_max_ns;
	/* gomaxprocs: values before, after the change and after the
	 * restore, and the time each of the two calls took */
	int gomaxprocs_before, gomaxprocs_after;	/* -1 when not known */
	int gomaxprocs_restored;			/* -1 when not known */
	int64_t change_ns, restore_ns;
	char note[192];		/* what the report should say about this fault */
};

struct target_result {
	int pid;
	char exe[512];
	bool is_go, is_static;
	char go_version[32];
	bool alive;		/* at the end of the recovery phase */
	int exit_status;	/* wait(2) status, -1 when still running */
	double exit_s;		/* since t0 when it exited */
	int exit_phase;		/* enum phase when it exited, -1 if it did not */
};

struct gate_result {
	const struct gate_expr *expr;	/* NULL for the built-in target.alive */
	const char *text;		/* expression as written */
	int phase;			/* enum phase or PHASE_ALL */
	bool measured;
	double value;			/* canonical unit of the metric */
	double bound;			/* resolved bound (baseline applied); NAN
					 * when the baseline was not measured */
	enum metric_unit unit;
	bool pass;
	char reason[192];		/* why it was not measured, or why it failed */
};

/* How the vitals were measured and why some are missing (report.json's
 * "taskstats" and "vitals_missing", the HTML report's notes). */
struct vitals_info {
	bool sampled;			/* a sampler ran; sampler is valid */
	struct sampler_info sampler;
	int delayacct_before;		/* kernel.task_delayacct before the run, -1 unknown */
	bool delayacct_on;		/* it was 1 during the run */
	char delayacct_why[192];	/* why it could not be switched on */
};

struct run_results {
	const struct playbook *pb;
	int64_t t0_ns;				/* monotonic start of the baseline */
	double phase_start_s[PHASE_MAX];	/* actual, since t0 */
	double phase_end_s[PHASE_MAX];		/* actual; < start if never run */
	bool has_load;
	struct load_stats load[PHASE_MAX + 1];	/* [PHASE_ALL] = whole run */
	struct load *load_run;			/* stopped load for the per-second
						 * timeline of reports; may be NULL */
	const struct vital_sample *samples;
	size_t n_samples;
	struct fault_result *faults;		/* pb->n_faults entries */
	struct target_result target;
	struct gate_result *gates;		/* n_gates: playbook gates + target.alive */
	size_t n_gates;
	enum verdict verdict;
	char verdict_reason[512];		/* aborts and errors */
	struct vitals_info vitals;
	char started_at[32];			/* ISO 8601 UTC */
	double duration_s;
};

const char *verdict_name(enum verdict v);

/**
 * results_metric() - the value of @metric over @phase (PHASE_ALL = whole
 * run), in the metric's canonical unit.
 * Return: 0; -ENODATA when it could not be measured (@reason says why).
 */
int results_metric(const struct run_results *r, enum metric_id metric, int phase, double *ret,
		   char *reason, size_t reason_size);

/**
 * results_vital_window() - a vital summary over samples in [@from_s, @to_s)
 * since t0; growth is end minus the first second of the window.
 * Return: 0 or -ENODATA.
 */
int results_vital_window(const struct vital_sample *s, size_t n, enum metric_id metric,
			 double from_s, double to_s, double *ret);

/** results_is_delay_metric() - one of the taskstats *_delay.total metrics. */
bool results_is_delay_metric(enum metric_id m);

/**
 * results_phase_span() - [from, to) of @phase (PHASE_ALL: the whole run)
 * in seconds since t0. Return: 0, or -ENODATA when it did not run.
 */
int results_phase_span(const struct run_results *r, int phase, double *ret_from, double *ret_to);

/**
 * results_delay_missing() - why the taskstats delay @bit (TASK_DELAY_*) is
 * not measured in this run, into @reason. Return: true when it is missing.
 */
bool results_delay_missing(const struct run_results *r, unsigned bit, char *reason, size_t size);

/**
 * results_exit_text() - a wait(2) @status in words: "exited with status 3",
 * "killed by signal 9 (SIGKILL)", or "still running" for -1. Return: @buf.
 */
const char *results_exit_text(int status, char *buf, size_t size);

/**
 * gates_evaluate() - fill r->gates: one result per playbook gate, then the
 * built-in target.alive. Sets no verdict. Replaces (frees) an earlier
 * r->gates; the caller frees r->gates when done.
 * Return: number of failed gates, or -ENOMEM.
 */
int gates_evaluate(struct run_results *r);

/**
 * abort_evaluate() - check one stop condition against the live load and
 * vitals at @now_s since t0. Return: 1 when it fires (with @reason), 0
 * when it does not or cannot be measured yet.
 */
int abort_evaluate(const struct gate_expr *a, struct load *l, const struct vital_sample *s,
		   size_t n, double now_s, char *reason, size_t reason_size);

#endif
