// SPDX-License-Identifier: Apache-2.0
/* Unit tests of agent/results.c and agent/gates.c on a synthetic run: every
 * metric family, the .end/.growth rules, bounds relative to the baseline,
 * unmeasured metrics, target.alive and stop conditions on vitals. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

#define MIB (1024.0 * 1024.0)
#define N_SAMPLES 400 /* every 100 ms over 40 s */

/* The synthetic run: baseline [0,10) s, fault [10,30) s, recovery [30,40) s.
 * RSS is 98 MiB for the first second, then 100 MiB; 120 MiB in the first half
 * of the fault and 150 MiB in the second; 130 MiB in recovery. Threads are
 * 8, 20 and 10. */
static struct run_results R;
static struct playbook PB;
static struct vital_sample S[N_SAMPLES];
static double DELAYS[N_SAMPLES][2];

static void record_n(struct fg_hist *h, unsigned n, double ms)
{
	unsigned i;

	for (i = 0; i < n; i++)
		hist_record(h, (uint64_t)(ms * 1e6));
}

static void set_load(int p, uint64_t requests, uint64_t errors, double seconds)
{
	R.load[p].requests = requests;
	R.load[p].served = requests;	/* every answer arrived in the phase */
	R.load[p].errors = errors;
	R.load[p].seconds = seconds;
}

static void build_load(void)
{
	int p;

	for (p = 0; p <= PHASE_ALL; p++)
		hist_init(&R.load[p].latency);
	R.has_load = true;
	set_load(PHASE_BASELINE, 1000, 0, 10);
	record_n(&R.load[PHASE_BASELINE].latency, 1000, 2);
	set_load(PHASE_FAULT, 2000, 40, 20);
	record_n(&R.load[PHASE_FAULT].latency, 1900, 10);
	record_n(&R.load[PHASE_FAULT].latency, 100, 300);
	set_load(PHASE_RECOVERY, 1000, 0, 10);
	record_n(&R.load[PHASE_RECOVERY].latency, 1000, 3);
	set_load(PHASE_ALL, 4000, 40, 40);
	for (p = 0; p < PHASE_MAX; p++)
		hist_merge(&R.load[PHASE_ALL].latency, &R.load[p].latency);
}

static void build_samples(void)
{
	uint64_t ctx = 0;
	size_t i;

	for (i = 0; i < N_SAMPLES; i++) {
		struct vital_sample *s = &S[i];
		double t = (double)i / 10;

		s->t_ns = (int64_t)i * 100000000;
		s->goroutines = -1;
		s->gomaxprocs = -1;
		if (t < 10) {
			s->rss_bytes = (uint64_t)((t < 1 ? 98 : 100) * MIB);
			s->threads = 8;
			ctx += 5;
		} else if (t < 30) {
			s->rss_bytes = (uint64_t)((t < 20 ? 120 : 150) * MIB);
			s->threads = 20;
			ctx += 20;
			s->runqueue_wait_ns = 10000000;
			DELAYS[i][0] = 1.0;
			DELAYS[i][1] = i == 250 ? 50.0 : 3.0;
			s->sched_delay_ms = DELAYS[i];
			s->n_sched_delays = 2;
		} else {
			s->rss_bytes = (uint64_t)(130 * MIB);
			s->threads = 10;
			ctx += 5;
		}
		s->ctx_nonvoluntary = ctx;
	}
}

static void setup(void)
{
	memset(&R, 0, sizeof(R));
	memset(&PB, 0, sizeof(PB));
	PB.name = (char *)"synthetic";
	PB.path = (char *)"synthetic.yaml";
	PB.phase_ns[PHASE_BASELINE] = 10000000000LL;
	PB.phase_ns[PHASE_FAULT] = 20000000000LL;
	PB.phase_ns[PHASE_RECOVERY] = 10000000000LL;
	R.pb = &PB;
	R.phase_start_s[PHASE_BASELINE] = 0;
	R.phase_end_s[PHASE_BASELINE] = 10;
	R.phase_start_s[PHASE_FAULT] = 10;
	R.phase_end_s[PHASE_FAULT] = 30;
	R.phase_start_s[PHASE_RECOVERY] = 30;
	R.phase_end_s[PHASE_RECOVERY] = 40;
	R.duration_s = 40;
	R.target.pid = 4242;
	R.target.alive = true;
	R.target.exit_status = -1;
	R.target.exit_phase = -1;
	build_load();
	build_samples();
	R.samples = S;
	R.n_samples = N_SAMPLES;
}

static void teardown(void)
{
	free(R.gates);
}

static double metric(enum metric_id m, int phase)
{
	char why[192] = "";
	double v = NAN;
	int r;

	r = results_metric(&R, m, phase, &v, why, sizeof(why));
	ck_assert_msg(r == 0, "metric %d phase %d: %d (%s)", m, phase, r, why);
	return v;
}

/* results_metric() must fail with -ENODATA and a reason containing @want. */
static void assert_missing(enum metric_id m, int phase, const char *want)
{
	char why[192] = "";
	double v;

	ck_assert_int_eq(results_metric(&R, m, phase, &v, why, sizeof(why)),
			 -ENODATA);
	ck_assert_msg(strstr(why, want), "reason '%s' lacks '%s'", why, want);
}

#define ck_assert_near(a, b, tol) ck_assert_double_eq_tol((a), (b), (tol))

START_TEST(results_load_metrics)
{
	ck_assert_near(metric(METRIC_LATENCY_P50, PHASE_FAULT), 10, 0.1);
	ck_assert_near(metric(METRIC_LATENCY_P90, PHASE_FAULT), 10, 0.1);
	ck_assert_near(metric(METRIC_LATENCY_P99, PHASE_FAULT), 300, 3);
	ck_assert_near(metric(METRIC_LATENCY_P999, PHASE_FAULT), 300, 3);
	ck_assert_near(metric(METRIC_LATENCY_MAX, PHASE_FAULT), 300, 3);
	ck_assert_near(metric(METRIC_LATENCY_MEAN, PHASE_FAULT), 24.5, 0.3);
	ck_assert_near(metric(METRIC_LATENCY_P99, PHASE_BASELINE), 2, 0.02);
	ck_assert_near(metric(METRIC_ERRORS_RATE, PHASE_FAULT), 0.02, 1e-9);
	ck_assert_near(metric(METRIC_ERRORS_COUNT, PHASE_FAULT), 40, 1e-9);
	ck_assert_near(metric(METRIC_REQUESTS_COUNT, PHASE_FAULT), 2000, 1e-9);
	ck_assert_near(metric(METRIC_THROUGHPUT, PHASE_FAULT), 100, 1e-9);
	ck_assert_near(metric(METRIC_ERRORS_RATE, PHASE_ALL), 0.01, 1e-9);
	ck_assert_near(metric(METRIC_THROUGHPUT, PHASE_ALL), 100, 1e-9);
}
END_TEST

START_TEST(results_load_missing)
{
	memset(&R.load[PHASE_FAULT], 0, sizeof(R.load[PHASE_FAULT]));
	assert_missing(METRIC_LATENCY_P99, PHASE_FAULT,
		       "no requests completed in the fault phase");
	assert_missing(METRIC_ERRORS_RATE, PHASE_FAULT,
		       "no requests completed");
	R.has_load = false;
	assert_missing(METRIC_LATENCY_P99, PHASE_ALL, "no load");
}
END_TEST

START_TEST(results_vital_summaries)
{
	ck_assert_near(metric(METRIC_RSS_MAX, PHASE_FAULT), 150 * MIB, 1);
	ck_assert_near(metric(METRIC_RSS_MIN, PHASE_FAULT), 120 * MIB, 1);
	ck_assert_near(metric(METRIC_RSS_MEAN, PHASE_FAULT), 135 * MIB, 1);
	ck_assert_near(metric(METRIC_THREADS_MAX, PHASE_FAULT), 20, 1e-9);
	ck_assert_near(metric(METRIC_THREADS_MIN, PHASE_RECOVERY), 10, 1e-9);
	ck_assert_near(metric(METRIC_THREADS_MEAN, PHASE_BASELINE), 8, 1e-9);
}
END_TEST

START_TEST(results_end_and_growth)
{
	ck_assert_near(metric(METRIC_RSS_END, PHASE_BASELINE), 100 * MIB, 1);
	ck_assert_near(metric(METRIC_RSS_END, PHASE_FAULT), 150 * MIB, 1);
	ck_assert_near(metric(METRIC_RSS_GROWTH, PHASE_FAULT), 50 * MIB, 1);
	ck_assert_near(metric(METRIC_RSS_GROWTH, PHASE_RECOVERY), 30 * MIB, 1);
	/* the baseline against its own first second */
	ck_assert_near(metric(METRIC_RSS_GROWTH, PHASE_BASELINE), 2 * MIB, 1);
	ck_assert_near(metric(METRIC_THREADS_GROWTH, PHASE_BASELINE), 0, 1e-9);
	ck_assert_near(metric(METRIC_THREADS_GROWTH, PHASE_FAULT), 12, 1e-9);
	/* without during: the last phase */
	ck_assert_near(metric(METRIC_RSS_GROWTH, PHASE_ALL), 30 * MIB, 1);
	ck_assert_near(metric(METRIC_RSS_END, PHASE_ALL), 130 * MIB, 1);
}
END_TEST

START_TEST(results_growth_without_recovery)
{
	/* a zero-length recovery: the whole run ends with the fault phase */
	R.phase_start_s[PHASE_RECOVERY] = 30;
	R.phase_end_s[PHASE_RECOVERY] = 30;
	ck_assert_near(metric(METRIC_RSS_GROWTH, PHASE_ALL), 50 * MIB, 1);
	ck_assert_near(metric(METRIC_RSS_END, PHASE_ALL), 150 * MIB, 1);
	assert_missing(METRIC_RSS_MAX, PHASE_RECOVERY,
		       "the recovery phase did not run");
}
END_TEST

START_TEST(results_whole_run)
{
	ck_assert_near(metric(METRIC_RSS_MAX, PHASE_ALL), 150 * MIB, 1);
	ck_assert_near(metric(METRIC_RSS_MIN, PHASE_ALL), 98 * MIB, 1);
	ck_assert_near(metric(METRIC_THREADS_MAX, PHASE_ALL), 20, 1e-9);
	ck_assert_near(metric(METRIC_THREADS_END, PHASE_ALL), 10, 1e-9);
}
END_TEST

START_TEST(results_scheduling)
{
	ck_assert_near(metric(METRIC_CTX_NONVOLUNTARY_RATE, PHASE_FAULT), 200,
		       1e-6);
	ck_assert_near(metric(METRIC_CTX_NONVOLUNTARY_RATE, PHASE_BASELINE), 50,
		       1e-6);
	ck_assert_near(metric(METRIC_SCHED_DELAY_P50, PHASE_FAULT), 1, 1e-9);
	ck_assert_near(metric(METRIC_SCHED_DELAY_P99, PHASE_FAULT), 3, 1e-9);
	ck_assert_near(metric(METRIC_SCHED_DELAY_MAX, PHASE_FAULT), 50, 1e-9);
	ck_assert_near(metric(METRIC_SCHED_DELAY_MAX, PHASE_ALL), 50, 1e-9);
	ck_assert_near(metric(METRIC_RUNQUEUE_WAIT_RATE, PHASE_FAULT), 0.1,
		       1e-9);
	ck_assert_near(metric(METRIC_RUNQUEUE_WAIT_RATE, PHASE_RECOVERY), 0,
		       1e-9);
	assert_missing(METRIC_SCHED_DELAY_P99, PHASE_BASELINE, "baseline");
}
END_TEST

START_TEST(results_go_vitals_missing)
{
	R.target.is_go = false;
	assert_missing(METRIC_GOROUTINES_MAX, PHASE_FAULT, "not a Go program");
	assert_missing(METRIC_GOMAXPROCS_END, PHASE_ALL, "not a Go program");
	assert_missing(METRIC_GOROUTINES_GROWTH, PHASE_ALL, "not a Go program");
	R.target.is_go = true;
	assert_missing(METRIC_GOROUTINES_MAX, PHASE_FAULT, "Go runtime could not be read");
	R.target.is_go = false;
}
END_TEST

START_TEST(results_vital_window_growth)
{
	double v;

	/* [15, 25): 120 MiB in the first second, 150 MiB in the last */
	ck_assert_int_eq(
	    results_vital_window(S, N_SAMPLES, METRIC_RSS_GROWTH, 15, 25, &v),
	    0);
	ck_assert_near(v, 30 * MIB, 1);
	ck_assert_int_eq(
	    results_vital_window(S, N_SAMPLES, METRIC_THREADS_MAX, 5, 12, &v),
	    0);
	ck_assert_near(v, 20, 1e-9);
	ck_assert_int_eq(
	    results_vital_window(S, N_SAMPLES, METRIC_RSS_MAX, 50, 60, &v),
	    -ENODATA);
}
END_TEST

static struct gate_expr gate(const char *text, enum metric_id m, int phase,
			     enum gate_op op, enum gate_bound bound,
			     double value)
{
	struct gate_expr g = {
	    .text = (char *)text,
	    .metric = m,
	    .phase = phase,
	    .op = op,
	    .bound = bound,
	    .value = value,
	};

	return g;
}

START_TEST(gates_bounds)
{
	struct gate_expr g[] = {
	    gate("latency.p99 during fault < 250ms", METRIC_LATENCY_P99,
		 PHASE_FAULT, GATE_LT, GATE_BOUND_ABS, 250),
	    gate("latency.p99 during recovery < 1.2x baseline",
		 METRIC_LATENCY_P99, PHASE_RECOVERY, GATE_LT, GATE_BOUND_RATIO,
		 1.2),
	    gate("latency.p99 during recovery < 2x baseline",
		 METRIC_LATENCY_P99, PHASE_RECOVERY, GATE_LT, GATE_BOUND_RATIO,
		 2),
	    gate("latency.p99 during fault < baseline + 50ms",
		 METRIC_LATENCY_P99, PHASE_FAULT, GATE_LT,
		 GATE_BOUND_BASELINE_PLUS, 50),
	    gate("rss.growth < 64MiB", METRIC_RSS_GROWTH, PHASE_ALL, GATE_LT,
		 GATE_BOUND_ABS, 64 * MIB),
	    gate("threads.max during fault < 200", METRIC_THREADS_MAX,
		 PHASE_FAULT, GATE_LT, GATE_BOUND_ABS, 200),
	};
	struct gate_result *gr;

	PB.gates = g;
	PB.n_gates = sizeof(g) / sizeof(g[0]);
	ck_assert_int_eq(gates_evaluate(&R), 3);
	ck_assert_uint_eq(R.n_gates, PB.n_gates + 1);
	gr = R.gates;
	ck_assert(!gr[0].pass && gr[0].measured);
	ck_assert_int_eq(gr[0].phase, PHASE_FAULT);
	ck_assert_near(gr[0].bound, 250, 1e-9);
	ck_assert(gr[0].reason[0] != '\0');
	ck_assert(!gr[1].pass);
	ck_assert_near(gr[1].bound, 2.4, 0.05);
	ck_assert(gr[2].pass);
	ck_assert_near(gr[2].bound, 4, 0.05);
	ck_assert(!gr[3].pass);
	ck_assert_near(gr[3].bound, 52, 0.05);
	ck_assert(gr[4].pass);
	ck_assert_int_eq(gr[4].phase, PHASE_ALL);
	ck_assert_near(gr[4].value, 30 * MIB, 1);
	ck_assert(gr[5].pass);
	ck_assert_str_eq(gr[6].text, "target.alive");
	ck_assert(gr[6].pass);
	ck_assert_ptr_null(gr[6].expr);
}
END_TEST

START_TEST(gates_unmeasured_fail)
{
	struct gate_expr g[] = {
	    gate("goroutines.end during recovery < baseline + 50",
		 METRIC_GOROUTINES_END, PHASE_RECOVERY, GATE_LT,
		 GATE_BOUND_BASELINE_PLUS, 50),
	    gate("latency.p99 during fault < 2x baseline", METRIC_LATENCY_P99,
		 PHASE_FAULT, GATE_LT, GATE_BOUND_RATIO, 2),
	    gate("errors.rate < 1%", METRIC_ERRORS_RATE, PHASE_ALL, GATE_LT,
		 GATE_BOUND_ABS, 0.01),
	};

	PB.gates = g;
	PB.n_gates = 3;
	/* no baseline requests: the ratio cannot be resolved */
	set_load(PHASE_BASELINE, 0, 0, 10);
	hist_init(&R.load[PHASE_BASELINE].latency);
	set_load(PHASE_ALL, 0, 0, 40);
	ck_assert_int_eq(gates_evaluate(&R), 3);
	ck_assert(!R.gates[0].measured && !R.gates[0].pass);
	ck_assert_msg(strstr(R.gates[0].reason, "not a Go program"), "%s",
		      R.gates[0].reason);
	ck_assert(R.gates[1].measured && !R.gates[1].pass);
	ck_assert(isnan(R.gates[1].bound));
	ck_assert_msg(strstr(R.gates[1].reason, "baseline not measured"), "%s",
		      R.gates[1].reason);
	ck_assert(!R.gates[2].measured && !R.gates[2].pass);
	ck_assert_msg(strstr(R.gates[2].reason, "in the whole run"), "%s",
		      R.gates[2].reason);
	ck_assert(R.gates[3].pass);
}
END_TEST

START_TEST(gates_target_alive)
{
	double v;

	R.target.alive = false;
	R.target.exit_status = SIGKILL; /* wait status of a SIGKILL death */
	R.target.exit_s = 14.2;
	R.target.exit_phase = PHASE_FAULT;
	ck_assert_int_eq(gates_evaluate(&R), 1);
	ck_assert_uint_eq(R.n_gates, 1);
	ck_assert(!R.gates[0].pass);
	ck_assert_str_eq(R.gates[0].reason,
			 "target exited during the fault phase: killed by "
			 "signal 9 (SIGKILL)");
	ck_assert_int_eq(results_metric(&R, METRIC_TARGET_ALIVE, PHASE_BASELINE,
					&v, NULL, 0),
			 0);
	ck_assert_near(v, 1, 1e-9);
	ck_assert_int_eq(
	    results_metric(&R, METRIC_TARGET_ALIVE, PHASE_ALL, &v, NULL, 0), 0);
	ck_assert_near(v, 0, 1e-9);

	R.target.exit_status = 3 << 8;
	R.target.exit_phase = PHASE_RECOVERY;
	ck_assert_int_eq(gates_evaluate(&R), 1);
	ck_assert_str_eq(
	    R.gates[0].reason,
	    "target exited during the recovery phase: exited with status 3");
}
END_TEST

START_TEST(abort_vitals_window)
{
	struct gate_expr a =
	    gate("rss.max over 2s > 140MiB", METRIC_RSS_MAX, PHASE_ALL, GATE_GT,
		 GATE_BOUND_ABS, 140 * MIB);
	char why[256] = "";

	a.over_ns = 2000000000LL;
	ck_assert_int_eq(abort_evaluate(&a, NULL, S, 150, 15, why, sizeof(why)),
			 0);
	ck_assert_int_eq(
	    abort_evaluate(&a, NULL, S, 220, 21.9, why, sizeof(why)), 1);
	ck_assert_msg(
	    strncmp(
		why, "stop condition 'rss.max over 2s > 140MiB' fired: ",
		strlen("stop condition 'rss.max over 2s > 140MiB' fired: ")) ==
		0,
	    "%s", why);
	ck_assert_msg(strstr(why, " at 21.9s"), "%s", why);
	/* the window only sees samples so far: nothing yet */
	ck_assert_int_eq(abort_evaluate(&a, NULL, S, 0, 1, why, sizeof(why)),
			 0);
}
END_TEST

START_TEST(abort_growth_and_load_without_load)
{
	struct gate_expr g =
	    gate("rss.growth over 5s > 20MiB", METRIC_RSS_GROWTH, PHASE_ALL,
		 GATE_GT, GATE_BOUND_ABS, 20 * MIB);
	struct gate_expr e =
	    gate("errors.rate over 5s > 50%", METRIC_ERRORS_RATE, PHASE_ALL,
		 GATE_GT, GATE_BOUND_ABS, 0.5);
	char why[256] = "";

	g.over_ns = 5000000000LL;
	/* [17, 22): 120 MiB at the start, 150 MiB at the end */
	ck_assert_int_eq(
	    abort_evaluate(&g, NULL, S, 221, 22.05, why, sizeof(why)), 1);
	ck_assert_int_eq(
	    abort_evaluate(&g, NULL, S, 300, 29.9, why, sizeof(why)), 0);
	/* a load metric with no load running never fires */
	ck_assert_int_eq(
	    abort_evaluate(&e, NULL, S, 300, 29.9, why, sizeof(why)), 0);
}
END_TEST

START_TEST(verdict_names)
{
	ck_assert_str_eq(verdict_name(VERDICT_PASS), "pass");
	ck_assert_str_eq(verdict_name(VERDICT_FAIL), "fail");
	ck_assert_str_eq(verdict_name(VERDICT_ABORTED), "aborted");
	ck_assert_str_eq(verdict_name(VERDICT_ERROR), "error");
}
END_TEST

static Suite *agent_suite(void)
{
	Suite *s = suite_create("agent");
	TCase *res = tcase_create("results"), *gt = tcase_create("gates");

	tcase_add_checked_fixture(res, setup, teardown);
	tcase_add_test(res, results_load_metrics);
	tcase_add_test(res, results_load_missing);
	tcase_add_test(res, results_vital_summaries);
	tcase_add_test(res, results_end_and_growth);
	tcase_add_test(res, results_growth_without_recovery);
	tcase_add_test(res, results_whole_run);
	tcase_add_test(res, results_scheduling);
	tcase_add_test(res, results_go_vitals_missing);
	tcase_add_test(res, results_vital_window_growth);
	tcase_add_test(res, verdict_names);
	suite_add_tcase(s, res);

	tcase_add_checked_fixture(gt, setup, teardown);
	tcase_add_test(gt, gates_bounds);
	tcase_add_test(gt, gates_unmeasured_fail);
	tcase_add_test(gt, gates_target_alive);
	tcase_add_test(gt, abort_vitals_window);
	tcase_add_test(gt, abort_growth_and_load_without_load);
	suite_add_tcase(s, gt);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(agent_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
