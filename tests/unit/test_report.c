// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the reports: report.json read back with jansson, junit.xml
 * structure and escaping, and the console's verdict line. */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "report.h"

#define MIB (1024.0 * 1024.0)
#define N_SAMPLES 300 /* every 100 ms over 30 s */

static struct run_results R;
static struct playbook PB;
static struct fault_spec FAULT;
static struct fault_result FAULT_RES;
static struct vital_sample S[N_SAMPLES];
static struct gate_expr GATES[3];
static char DIR_[PATH_MAX];

static void build_load(void)
{
	static const double ms[PHASE_MAX] = {2, 40, 3};
	uint64_t i;
	int p;

	R.has_load = true;
	for (p = 0; p <= PHASE_ALL; p++)
		hist_init(&R.load[p].latency);
	for (p = 0; p < PHASE_MAX; p++) {
		R.load[p].requests = 100;
		R.load[p].served = 100;
		R.load[p].errors = p == PHASE_FAULT ? 10 : 0;
		R.load[p].seconds = 10;
		for (i = 0; i < 100; i++)
			hist_record(&R.load[p].latency,
				    (uint64_t)(ms[p] * 1e6));
		hist_merge(&R.load[PHASE_ALL].latency, &R.load[p].latency);
	}
	R.load[PHASE_ALL].requests = 300;
	R.load[PHASE_ALL].served = 300;
	R.load[PHASE_ALL].errors = 10;
	R.load[PHASE_ALL].seconds = 30;
}

static struct gate_expr gate(const char *text, enum metric_id m, int phase,
			     enum gate_op op, double value)
{
	struct gate_expr g = {
	    .text = (char *)text,
	    .metric = m,
	    .phase = phase,
	    .op = op,
	    .bound = GATE_BOUND_ABS,
	    .value = value,
	};

	return g;
}

static void setup(void)
{
	size_t i;
	int p;

	memset(&R, 0, sizeof(R));
	memset(&PB, 0, sizeof(PB));
	PB.name = (char *)"checkout";
	PB.path = (char *)"playbooks/checkout.yaml";
	for (p = 0; p < PHASE_MAX; p++) {
		PB.phase_ns[p] = 10000000000LL;
		R.phase_start_s[p] = 10.0 * p;
		R.phase_end_s[p] = 10.0 * (p + 1);
	}
	memset(&FAULT, 0, sizeof(FAULT));
	FAULT.kind = FAULT_SLOW_IO;
	PB.faults = &FAULT;
	PB.n_faults = 1;
	FAULT_RES = (struct fault_result){
	    .backend = FAULT_BACKEND_SECCOMP,
	    .window_start_s = 10,
	    .window_end_s = 20,
	    .applied = true,
	    .seen = 1200,
	    .delayed = 1100,
	    .failed = 0,
	    .delay_total_ns = 55000000000LL,
	};
	R.faults = &FAULT_RES;
	GATES[0] = gate("latency.p99 during fault < 25ms", METRIC_LATENCY_P99,
			PHASE_FAULT, GATE_LT, 25);
	GATES[1] = gate("rss.max < 1GiB", METRIC_RSS_MAX, PHASE_ALL, GATE_LT,
			1024 * MIB);
	GATES[2] = gate("goroutines.max during fault < 500",
			METRIC_GOROUTINES_MAX, PHASE_FAULT, GATE_LT, 500);
	PB.gates = GATES;
	PB.n_gates = 3;
	R.pb = &PB;
	for (i = 0; i < N_SAMPLES; i++) {
		S[i].t_ns = (int64_t)i * 100000000;
		S[i].rss_bytes = (uint64_t)((i < 100 ? 50 : 60) * MIB);
		S[i].threads = i < 100 ? 4 : 6;
		S[i].goroutines = -1;
		S[i].gomaxprocs = -1;
	}
	R.samples = S;
	R.n_samples = N_SAMPLES;
	build_load();
	R.target = (struct target_result){
	    .pid = 777,
	    .exe = "/usr/bin/svc",
	    .alive = true,
	    .exit_status = -1,
	    .exit_phase = -1,
	};
	snprintf(R.started_at, sizeof(R.started_at), "2024-05-01T10:00:00Z");
	R.duration_s = 30;
	ck_assert_int_eq(gates_evaluate(&R), 2);
	R.verdict = VERDICT_FAIL;

	snprintf(DIR_, sizeof(DIR_), "/tmp/fg-report-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(DIR_));
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	free(R.gates);
	(void)nftw(DIR_, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *slurp(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];
	char *buf = NULL;
	size_t len = 0;
	FILE *in, *mem;
	int c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	in = fopen(path, "r");
	ck_assert_msg(in != NULL, "open %s: %s", path, strerror(errno));
	mem = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(mem);
	while ((c = fgetc(in)) != EOF)
		fputc(c, mem);
	fclose(in);
	fclose(mem);
	return buf;
}

static json_t *get(json_t *root, const char *path)
{
	char copy[256], *key, *save = NULL;
	json_t *j = root;

	snprintf(copy, sizeof(copy), "%s", path);
	for (key = strtok_r(copy, ".", &save); key;
	     key = strtok_r(NULL, ".", &save)) {
		j = json_object_get(j, key);
		ck_assert_msg(j != NULL, "missing key '%s' in '%s'", key, path);
	}
	return j;
}

static double number(json_t *root, const char *path)
{
	json_t *j = get(root, path);

	ck_assert_msg(json_is_number(j), "'%s' is not a number", path);
	return json_number_value(j);
}

/* Only the finished file is left in @dir: no temporary file. */
static void assert_only(const char *dir, const char *name)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		ck_assert_str_eq(e->d_name, name);
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, 1);
}

START_TEST(report_json_contract)
{
	static const char *const vitals[] = {
	    "rss_max_bytes",	  "rss_min_bytes",	   "rss_mean_bytes",
	    "rss_end_bytes",	  "rss_growth_bytes",	   "threads_max",
	    "threads_end",	  "threads_growth",	   "goroutines_max",
	    "gomaxprocs_end",	  "ctx_nonvoluntary_rate", "sched_delay_p50_ms",
	    "sched_delay_p99_ms", "sched_delay_max_ms",	   "runqueue_wait_rate",
	};
	char dir[PATH_MAX + 16];
	json_error_t jerr;
	json_t *root, *g, *f;
	char path[PATH_MAX + 32];
	size_t i;

	/* a missing directory is created, parents included */
	snprintf(dir, sizeof(dir), "%s/out/run1", DIR_);
	ck_assert_int_eq(report_write_json(&R, dir), 0);
	assert_only(dir, "report.json");
	snprintf(path, sizeof(path), "%s/report.json", dir);
	root = json_load_file(path, 0, &jerr);
	ck_assert_msg(root != NULL, "%s:%d: %s", path, jerr.line, jerr.text);

	ck_assert_str_eq(json_string_value(get(root, "verdict")), "fail");
	ck_assert(json_is_null(get(root, "verdict_reason")));
	ck_assert_str_eq(json_string_value(get(root, "playbook.name")),
			 "checkout");
	ck_assert_str_eq(json_string_value(get(root, "playbook.path")),
			 "playbooks/checkout.yaml");
	ck_assert_str_eq(json_string_value(get(root, "started_at")),
			 "2024-05-01T10:00:00Z");
	ck_assert_double_eq_tol(number(root, "duration_s"), 30, 1e-9);

	ck_assert_double_eq_tol(number(root, "phases.baseline.start_s"), 0,
				1e-9);
	ck_assert_double_eq_tol(number(root, "phases.recovery.end_s"), 30,
				1e-9);
	ck_assert_double_eq_tol(number(root, "phases.fault.latency_ms.p99"), 40,
				0.4);
	number(root, "phases.fault.latency_ms.p50");
	number(root, "phases.fault.latency_ms.p90");
	number(root, "phases.fault.latency_ms.p999");
	number(root, "phases.fault.latency_ms.max");
	number(root, "phases.fault.latency_ms.mean");
	ck_assert_double_eq_tol(number(root, "phases.fault.requests"), 100,
				1e-9);
	ck_assert_double_eq_tol(number(root, "phases.fault.errors.count"), 10,
				1e-9);
	ck_assert_double_eq_tol(number(root, "phases.fault.errors.rate"), 0.1,
				1e-9);
	ck_assert_double_eq_tol(number(root, "phases.fault.throughput_rps"), 10,
				1e-9);
	for (i = 0; i < sizeof(vitals) / sizeof(vitals[0]); i++)
		get(get(root, "phases.recovery.vitals"), vitals[i]);
	ck_assert_double_eq_tol(
	    number(root, "phases.fault.vitals.rss_growth_bytes"), 10 * MIB, 1);
	ck_assert(
	    json_is_null(get(root, "phases.fault.vitals.goroutines_max")));
	ck_assert_msg(
	    strstr(json_string_value(
		       get(root, "phases.fault.vitals_missing.goroutines_max")),
		   "not a Go program"),
	    "reason for goroutines_max");
	ck_assert(
	    json_is_null(get(root, "phases.fault.vitals.sched_delay_p99_ms")));
	ck_assert(json_is_string(
	    get(root, "phases.fault.vitals_missing.sched_delay_p99_ms")));

	g = get(root, "gates");
	ck_assert_uint_eq(json_array_size(g), 4);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(g, 0), "expr")),
	    "latency.p99 during fault < 25ms");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(g, 0), "phase")),
	    "fault");
	ck_assert(json_is_false(json_object_get(json_array_get(g, 0), "pass")));
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(g, 1), "phase")),
	    "all");
	ck_assert(json_is_true(json_object_get(json_array_get(g, 1), "pass")));
	ck_assert(json_is_null(json_object_get(json_array_get(g, 2), "value")));
	ck_assert(
	    json_is_string(json_object_get(json_array_get(g, 2), "reason")));
	ck_assert(
	    json_is_string(json_object_get(json_array_get(g, 2), "unit")));
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(g, 3), "expr")),
	    "target.alive");

	f = json_array_get(get(root, "faults"), 0);
	ck_assert_ptr_nonnull(f);
	ck_assert(json_is_string(get(f, "kind")));
	ck_assert(json_is_string(get(f, "backend")));
	ck_assert_double_eq_tol(number(f, "window_s.start"), 10, 1e-9);
	ck_assert_double_eq_tol(number(f, "counters.syscalls_delayed"), 1100,
				1e-9);
	ck_assert_double_eq_tol(number(f, "counters.delay_added_ms"), 55000,
				1e-6);

	ck_assert_double_eq_tol(number(root, "target.pid"), 777, 1e-9);
	ck_assert(json_is_null(get(root, "target.go_version")));
	ck_assert(json_is_true(get(root, "target.alive")));
	ck_assert(json_is_null(get(root, "target.exit_status")));
	ck_assert(json_is_array(get(root, "timeline")));
	ck_assert_uint_eq(json_array_size(get(root, "samples")), N_SAMPLES);
	ck_assert_uint_eq(
	    json_array_size(json_array_get(get(root, "samples"), 0)), 3);
	json_decref(root);
}
END_TEST

START_TEST(report_json_target_killed)
{
	char path[PATH_MAX + 32];
	json_t *root;

	R.target.alive = false;
	R.target.exit_status = SIGKILL;
	R.target.exit_phase = PHASE_FAULT;
	R.target.exit_s = 12.5;
	R.verdict = VERDICT_ABORTED;
	snprintf(R.verdict_reason, sizeof(R.verdict_reason),
		 "stop condition fired");
	ck_assert_int_eq(report_write_json(&R, DIR_), 0);
	/* a second write replaces the first in place */
	ck_assert_int_eq(report_write_json(&R, DIR_), 0);
	assert_only(DIR_, "report.json");
	snprintf(path, sizeof(path), "%s/report.json", DIR_);
	root = json_load_file(path, 0, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(json_string_value(get(root, "verdict")), "aborted");
	ck_assert_str_eq(json_string_value(get(root, "verdict_reason")),
			 "stop condition fired");
	ck_assert(json_is_false(get(root, "target.alive")));
	ck_assert_str_eq(json_string_value(get(root, "target.exit_status")),
			 "SIGKILL");
	ck_assert_str_eq(json_string_value(get(root, "target.exit_phase")),
			 "fault");
	json_decref(root);
}
END_TEST

START_TEST(report_junit_structure)
{
	fg_autofree char *x = NULL;

	PB.name = (char *)"svc<&\"x";
	R.verdict = VERDICT_ERROR;
	snprintf(R.verdict_reason, sizeof(R.verdict_reason),
		 "target exited: a < b & \"c\"");
	ck_assert_int_eq(report_write_junit(&R, DIR_), 0);
	x = slurp(DIR_, "junit.xml");
	ck_assert_msg(strncmp(x, "<?xml version=\"1.0\"", 19) == 0, "%s", x);
	ck_assert_msg(
	    strstr(x, "<testsuite name=\"svc&lt;&amp;&quot;x\" tests=\"5\" "
		      "failures=\"3\""),
	    "%s", x);
	ck_assert_msg(
	    strstr(x, "<testcase name=\"latency.p99 during fault &lt; 25ms\" "
		      "classname=\"faultgate.svc&lt;&amp;&quot;x\""),
	    "%s", x);
	ck_assert_msg(strstr(x, "<testcase name=\"target.alive\""), "%s", x);
	ck_assert_msg(strstr(x, "<testcase name=\"faultgate.run\""), "%s", x);
	ck_assert_msg(
	    strstr(x,
		   "message=\"target exited: a &lt; b &amp; &quot;c&quot;\""),
	    "%s", x);
	ck_assert_msg(strstr(x, "<failure type=\"gate\" message=\"value "),
		      "%s", x);
	ck_assert_msg(strstr(x, "message=\"not measured: "), "%s", x);
	ck_assert_ptr_null(strstr(x, "< 25ms"));
	ck_assert_ptr_null(strstr(x, "<skipped"));
	ck_assert_msg(strstr(x, "</testsuite>\n</testsuites>\n"), "%s", x);
}
END_TEST

static char *console(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	report_console(&R, f);
	fclose(f);
	return buf;
}

START_TEST(report_console_verdict)
{
	fg_autofree char *fail = NULL, *pass = NULL, *aborted = NULL;
	char *line, *save = NULL;

	fail = console();
	ck_assert_msg(strstr(fail, "\nverdict: FAIL (2 of 4 gates failed)\n"),
		      "%s", fail);
	ck_assert_ptr_null(strchr(fail, '\033'));
	for (line = strtok_r(fail, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		ck_assert_msg(strlen(line) < 100, "too long: '%s'", line);

	PB.n_gates = 1;
	GATES[0].value = 100;
	ck_assert_int_eq(gates_evaluate(&R), 0);
	R.verdict = VERDICT_PASS;
	pass = console();
	ck_assert_msg(strstr(pass, "verdict: PASS (2/2 gates)\n"), "%s", pass);

	R.verdict = VERDICT_ABORTED;
	snprintf(R.verdict_reason, sizeof(R.verdict_reason),
		 "stop condition 'errors.rate over 5s > 50%%' fired: 62.0%% at "
		 "14.3s");
	aborted = console();
	ck_assert_msg(
	    strstr(aborted,
		   "verdict: ABORTED: stop condition 'errors.rate over 5s "
		   "> 50%' fired: 62.0% at 14.3s\n"),
	    "%s", aborted);
}
END_TEST

static Suite *agent_suite(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("report");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, report_json_contract);
	tcase_add_test(tc, report_json_target_killed);
	tcase_add_test(tc, report_junit_structure);
	tcase_add_test(tc, report_console_verdict);
	suite_add_tcase(s, tc);
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
