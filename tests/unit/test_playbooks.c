// SPDX-License-Identifier: Apache-2.0
/* Unit tests for playbooks/: every valid fixture and example loads, every
 * invalid fixture fails at the line, column and message it records, and
 * the gate grammar and metric catalogue behave. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_expr.h"
#include "playbook.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FIXTURES 256
#define SEC 1000000000LL
#define MS 1000000LL

/* Fixture lists, filled in main() before the runner forks. */
struct fixture_list {
	char *path[MAX_FIXTURES];
	int n;
};

static struct fixture_list valid, invalid, examples;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_yaml(const char *dir, struct fixture_list *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		fprintf(stderr, "# cannot open %s: %s\n", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) && out->n < MAX_FIXTURES) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		if (asprintf(&out->path[out->n], "%s/%s", dir, e->d_name) < 0)
			abort();
		out->n++;
	}
	closedir(d);
	qsort(out->path, (size_t)out->n, sizeof(out->path[0]), cmp_str);
}

static void assert_loads(const char *path)
{
	struct playbook *pb = NULL;
	struct fg_error err = {};
	char buf[700];
	int r;

	r = playbook_load(path, &pb, &err);
	ck_assert_msg(r == 0, "%s",
		      fg_error_format(&err, path, buf, sizeof(buf)));
	ck_assert_ptr_nonnull(pb);
	ck_assert_ptr_nonnull(pb->name);
	playbook_free(pb);
}

START_TEST(playbook_valid_fixtures)
{
	assert_loads(valid.path[_i]);
}
END_TEST

START_TEST(playbook_examples_load)
{
	assert_loads(examples.path[_i]);
}
END_TEST

/* First line: "# expect: LINE:COL: substring". */
static void read_expectation(const char *path, unsigned *line, unsigned *col,
			     char *msg, size_t size)
{
	char first[512];
	FILE *f = fopen(path, "re");
	int n = 0;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_msg(fgets(first, sizeof(first), f) != NULL, "%s: empty",
		      path);
	fclose(f);
	first[strcspn(first, "\n")] = '\0';
	ck_assert_msg(
		sscanf(first, "# expect: %u:%u: %n", line, col, &n) == 2 &&
			n > 0,
		"%s: first line must be '# expect: LINE:COL: message'", path);
	snprintf(msg, size, "%s", first + n);
}

START_TEST(playbook_invalid_fixtures)
{
	const char *path = invalid.path[_i];
	struct playbook *pb = NULL;
	struct fg_error err = {};
	unsigned line, col;
	char want[512], got[700];
	int r;

	read_expectation(path, &line, &col, want, sizeof(want));
	r = playbook_load(path, &pb, &err);
	ck_assert_msg(r < 0, "%s: loaded, but should fail with '%s'", path,
		      want);
	ck_assert_ptr_null(pb);
	ck_assert_int_eq(r, -err.err);
	fg_error_format(&err, path, got, sizeof(got));
	ck_assert_msg(err.line == line && err.col == col, "want %u:%u, got %s",
		      line, col, got);
	ck_assert_msg(strstr(err.msg, want), "want '%s' in %s", want, got);
	ck_assert_msg(!strchr(err.msg, '\n'), "message is not one line: %s",
		      got);
}
END_TEST

START_TEST(playbook_fixture_counts)
{
	ck_assert_int_ge(valid.n, 3);
	ck_assert_int_ge(invalid.n, 40);
	ck_assert_int_ge(examples.n, 3);
}
END_TEST

static struct playbook *load_text(const char *text)
{
	struct playbook *pb = NULL;
	struct fg_error err = {};
	char buf[700];
	int r;

	r = playbook_load_string(text, strlen(text), "test.yaml", &pb, &err);
	ck_assert_msg(r == 0, "%s",
		      fg_error_format(&err, "test.yaml", buf, sizeof(buf)));
	return pb;
}

START_TEST(playbook_minimal_defaults)
{
	struct playbook *pb = load_text(
		"version: 1\nname: m\ntarget: { command: [./svc] }\n");
	const struct target_spec *t = &pb->target;

	ck_assert_str_eq(pb->path, "test.yaml");
	ck_assert_str_eq(pb->name, "m");
	ck_assert_ptr_null(pb->description);
	ck_assert_int_eq(t->mode, TARGET_COMMAND);
	ck_assert_uint_eq(t->argc, 1);
	ck_assert_str_eq(t->argv[0], "./svc");
	ck_assert_ptr_null(t->argv[1]);
	ck_assert_uint_eq(t->n_env, 0);
	ck_assert_ptr_null(t->cwd);
	ck_assert_int_eq(t->ready.kind, READY_NONE);
	ck_assert_int_eq(t->ready.timeout_ns, 10 * SEC);
	ck_assert_int_eq(t->stop_grace_ns, 5 * SEC);
	ck_assert_int_eq(t->line, 3);
	ck_assert_int_eq(t->col, 9);
	ck_assert_int_eq(pb->load.kind, LOAD_NONE);
	ck_assert_int_eq(pb->phase_ns[PHASE_BASELINE], 10 * SEC);
	ck_assert_int_eq(pb->phase_ns[PHASE_FAULT], 20 * SEC);
	ck_assert_int_eq(pb->phase_ns[PHASE_RECOVERY], 10 * SEC);
	ck_assert_uint_eq(pb->n_faults, 0);
	ck_assert_uint_eq(pb->n_gates, 0);
	ck_assert_uint_eq(pb->n_aborts, 0);
	ck_assert_str_eq(pb->report_dir, "faultgate-out");
	ck_assert(!pb->has_seed);
	playbook_free(pb);
}
END_TEST

START_TEST(playbook_load_defaults)
{
	struct playbook *pb =
		load_text("version: 1\nname: m\ntarget: { pid: 7 }\n"
			  "load: { http: { url: 'http://h/' } }\n");
	const struct load_spec *l = &pb->load;

	ck_assert_int_eq(pb->target.mode, TARGET_PID);
	ck_assert_int_eq(pb->target.pid, 7);
	ck_assert_int_eq(l->kind, LOAD_HTTP);
	ck_assert_str_eq(l->url, "http://h/");
	ck_assert_str_eq(l->method, "GET");
	ck_assert(l->rate_per_s == 100);
	ck_assert_int_eq(l->connections, 64);
	ck_assert_int_eq(l->timeout_ns, 2 * SEC);
	ck_assert_uint_eq(l->n_ok_status, 1);
	ck_assert_int_eq(l->ok_status[0].lo, 200);
	ck_assert_int_eq(l->ok_status[0].hi, 299);
	playbook_free(pb);

	pb = load_text("version: 1\nname: m\ntarget: { pid: 7 }\n"
		       "load: { command: { argv: [./probe] } }\n");
	ck_assert_int_eq(pb->load.kind, LOAD_COMMAND);
	ck_assert_int_eq(pb->load.every_ns, SEC);
	ck_assert_int_eq(pb->load.timeout_ns, 5 * SEC);
	ck_assert_str_eq(pb->load.argv[0], "./probe");
	playbook_free(pb);
}
END_TEST

START_TEST(playbook_fault_defaults)
{
	struct playbook *pb =
		load_text("version: 1\nname: m\ntarget: { command: [./svc] }\n"
			  "faults:\n"
			  "  - { kind: slow-io, delay: 50ms }\n"
			  "  - { kind: mem-leak, limit: 1GiB }\n"
			  "  - { kind: cgo-block, delay: 1s }\n"
			  "  - { kind: freeze-thread, hold: 300ms }\n"
			  "  - { kind: gomaxprocs, value: 2, mode: launch }\n");
	const struct fault_spec *f = pb->faults;

	ck_assert_uint_eq(pb->n_faults, 5);
	ck_assert_int_eq(f[0].kind, FAULT_SLOW_IO);
	ck_assert_int_eq(f[0].delay_ns, 50 * MS);
	ck_assert_int_eq(f[0].jitter_ns, 0);
	ck_assert_int_eq(f[0].for_ns, -1);
	ck_assert_int_eq(f[0].at_ns, 0);
	ck_assert(f[0].probability == 1.0);
	ck_assert_uint_eq(f[0].syscalls, FAULT_SYS_READ | FAULT_SYS_WRITE);
	ck_assert_int_eq(f[0].fds, FAULT_FDS_ANY);
	ck_assert_int_eq(f[0].backend, FAULT_BACKEND_AUTO);
	ck_assert_uint_eq(f[0].line, 5);
	ck_assert_uint_eq(f[0].col, 5);
	ck_assert_uint_eq(f[1].limit_bytes, 1ULL << 30);
	ck_assert(f[1].rate_bytes_per_s == 16.0 * 1024 * 1024);
	ck_assert(f[1].touch && f[1].release);
	ck_assert_uint_eq(f[2].n_symbols, 1);
	ck_assert_str_eq(f[2].symbols[0], "getaddrinfo");
	ck_assert_int_eq(f[3].every_ns, 300 * MS);
	ck_assert_int_eq(f[3].pick, FAULT_PICK_BUSIEST);
	ck_assert_int_eq(f[3].threads, 1);
	ck_assert_int_eq(f[4].gomaxprocs, 2);
	ck_assert_int_eq(f[4].gomaxprocs_mode, FAULT_GOMAXPROCS_LAUNCH);
	playbook_free(pb);
}
END_TEST

START_TEST(playbook_full_example_values)
{
	struct playbook *pb = NULL;
	struct fg_error err = {};
	const struct target_spec *t;
	int r;

	r = playbook_load(FG_SOURCE_DIR "/playbooks/examples/full.yaml", &pb,
			  &err);
	ck_assert_msg(r == 0, "%u:%u: %s", err.line, err.col, err.msg);
	t = &pb->target;
	ck_assert_uint_eq(t->n_env, 2);
	ck_assert_str_eq(t->env[0], "GODEBUG=netdns=cgo");
	ck_assert_str_eq(t->cwd, ".");
	ck_assert_int_eq(t->ready.kind, READY_HTTP);
	ck_assert_uint_eq(pb->load.n_headers, 2);
	ck_assert_str_eq(pb->load.headers[0], "Accept: text/plain");
	ck_assert_uint_eq(pb->load.n_ok_status, 2);
	ck_assert_int_eq(pb->load.ok_status[1].lo, 404);
	ck_assert_uint_eq(pb->n_faults, 7);
	ck_assert_uint_eq(pb->faults[1].n_peers, 3);
	ck_assert_str_eq(pb->faults[1].peers[2].host, "::1");
	ck_assert_int_eq(pb->faults[1].err, ECONNRESET);
	ck_assert(fabs(pb->faults[1].probability - 0.05) < 1e-12);
	ck_assert_uint_eq(pb->n_gates, 7);
	ck_assert_uint_eq(pb->n_aborts, 1);
	ck_assert_int_eq(pb->aborts[0].over_ns, 5 * SEC);
	ck_assert(pb->has_seed);
	ck_assert_uint_eq(pb->seed, 42);
	playbook_free(pb);
}
END_TEST

START_TEST(playbook_read_errors)
{
	struct playbook *pb = NULL;
	struct fg_error err = {};
	char *big;

	ck_assert_int_eq(playbook_load("/nonexistent/pb.yaml", &pb, &err),
			 -ENOENT);
	ck_assert_int_eq(playbook_load(FG_TEST_DATA_DIR, &pb, &err), -EISDIR);
	big = calloc(1, PLAYBOOK_MAX_BYTES + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, '#', PLAYBOOK_MAX_BYTES + 1);
	ck_assert_int_eq(playbook_load_string(big, PLAYBOOK_MAX_BYTES + 1,
					      "big", &pb, &err),
			 -EFBIG);
	free(big);
	ck_assert_ptr_null(pb);
}
END_TEST

/* Gate expressions: what parses, to which value. */
static const struct gate_case {
	const char *text;
	bool is_abort;
	int ret;
	enum metric_id metric;
	int phase;
	enum gate_op op;
	enum gate_bound bound;
	double value;
} gate_cases[] = {
	{ "latency.p99 during fault < 250ms", false, 0, METRIC_LATENCY_P99,
	  PHASE_FAULT, GATE_LT, GATE_BOUND_ABS, 250 },
	{ "latency.p99<1.5s", false, 0, METRIC_LATENCY_P99, PHASE_ALL, GATE_LT,
	  GATE_BOUND_ABS, 1500 },
	{ "errors.rate < 1%", false, 0, METRIC_ERRORS_RATE, PHASE_ALL, GATE_LT,
	  GATE_BOUND_ABS, 0.01 },
	{ "errors.rate <= 0.02", false, 0, METRIC_ERRORS_RATE, PHASE_ALL,
	  GATE_LE, GATE_BOUND_ABS, 0.02 },
	{ "latency.p99 during recovery < 1.2x baseline", false, 0,
	  METRIC_LATENCY_P99, PHASE_RECOVERY, GATE_LT, GATE_BOUND_RATIO, 1.2 },
	{ "latency.p99 during recovery < 2 x baseline", false, 0,
	  METRIC_LATENCY_P99, PHASE_RECOVERY, GATE_LT, GATE_BOUND_RATIO, 2 },
	{ "throughput >= baseline", false, 0, METRIC_THROUGHPUT, PHASE_ALL,
	  GATE_GE, GATE_BOUND_RATIO, 1 },
	{ "latency.p99 during fault < baseline + 50ms", false, 0,
	  METRIC_LATENCY_P99, PHASE_FAULT, GATE_LT, GATE_BOUND_BASELINE_PLUS,
	  50 },
	{ "goroutines.end during recovery < baseline+50", false, 0,
	  METRIC_GOROUTINES_END, PHASE_RECOVERY, GATE_LT,
	  GATE_BOUND_BASELINE_PLUS, 50 },
	{ "rss.growth < 64MiB", false, 0, METRIC_RSS_GROWTH, PHASE_ALL, GATE_LT,
	  GATE_BOUND_ABS, 64.0 * 1024 * 1024 },
	{ "gomaxprocs > 1", false, 0, METRIC_GOMAXPROCS_END, PHASE_ALL, GATE_GT,
	  GATE_BOUND_ABS, 1 },
	{ "throughput > 100/s", false, 0, METRIC_THROUGHPUT, PHASE_ALL, GATE_GT,
	  GATE_BOUND_ABS, 100 },
	{ "ctx_switches.nonvoluntary.rate < 500", false, 0,
	  METRIC_CTX_NONVOLUNTARY_RATE, PHASE_ALL, GATE_LT, GATE_BOUND_ABS,
	  500 },
	{ "sched_delay.p99 >= 40us", false, 0, METRIC_SCHED_DELAY_P99,
	  PHASE_ALL, GATE_GE, GATE_BOUND_ABS, 0.04 },
	{ "errors.rate over 5s > 50%", true, 0, METRIC_ERRORS_RATE, PHASE_ALL,
	  GATE_GT, GATE_BOUND_ABS, 0.5 },
	{ "errors.rate > 50%", true, 0, METRIC_ERRORS_RATE, PHASE_ALL, GATE_GT,
	  GATE_BOUND_ABS, 0.5 },
	{ "latency.p99 < 250", false, -EINVAL, .metric = 0 },
	{ "latency.p99 = 250ms", false, -EINVAL, .metric = 0 },
	{ "latency.p99 during fault", false, -EINVAL, .metric = 0 },
	{ "latency.p99 during fault < 0x baseline", false, -ERANGE,
	  .metric = 0 },
	{ "errors.rate < 2", false, -ERANGE, .metric = 0 },
	{ "errors.rate over 5s > 50%", false, -EINVAL, .metric = 0 },
	{ "errors.rate during fault > 50%", true, -EINVAL, .metric = 0 },
	{ "latency.p99 > 2x baseline", true, -EINVAL, .metric = 0 },
	{ "target.alive >= 1", false, -EINVAL, .metric = 0 },
	{ "latency.p42 < 1s", false, -EINVAL, .metric = 0 },
	{ "", false, -EINVAL, .metric = 0 },
	{ "rss.max < 1GiB and more", false, -EINVAL, .metric = 0 },
};

START_TEST(gate_expr_table)
{
	const struct gate_case *c = &gate_cases[_i];
	struct gate_expr g = {};
	char msg[256] = "";
	size_t off = 0;
	int r;

	r = gate_expr_parse(c->text, c->is_abort, &g, msg, sizeof(msg), &off);
	ck_assert_msg(r == c->ret, "'%s': returned %d (%s), want %d", c->text,
		      r, msg, c->ret);
	if (r < 0) {
		ck_assert_uint_le(off, strlen(c->text));
		return;
	}
	ck_assert_str_eq(g.text, c->text);
	ck_assert_int_eq(g.metric, c->metric);
	ck_assert_int_eq(g.phase, c->phase);
	ck_assert_int_eq(g.op, c->op);
	ck_assert_int_eq(g.bound, c->bound);
	ck_assert_msg(fabs(g.value - c->value) < 1e-9 * fabs(c->value) + 1e-12,
		      "'%s': value %.17g, want %.17g", c->text, g.value,
		      c->value);
	ck_assert_int_eq(g.over_ns, c->is_abort ? 5 * SEC : 0);
	gate_expr_done(&g);
}
END_TEST

START_TEST(gate_expr_error_offsets)
{
	struct gate_expr g = {};
	char msg[256];
	size_t off;

	ck_assert_int_lt(gate_expr_parse("latency.p99 during fault < 250",
					 false, &g, msg, sizeof(msg), &off),
			 0);
	ck_assert_uint_eq(off, 27);
	ck_assert_str_eq(msg, "'250' needs a unit, like 250ms");
	ck_assert_int_lt(gate_expr_parse("latency.p95 < 1s", false, &g, msg,
					 sizeof(msg), &off),
			 0);
	ck_assert_uint_eq(off, 0);
	ck_assert_ptr_nonnull(strstr(msg, "latency.p99"));
	ck_assert_int_lt(gate_expr_parse("lantecy.p99 < 1s", false, &g, msg,
					 sizeof(msg), &off),
			 0);
	ck_assert_ptr_nonnull(strstr(msg, "known: latency.p99"));
	ck_assert_int_lt(
		gate_expr_parse("bogus < 1", false, &g, msg, sizeof(msg), &off),
		0);
	ck_assert_ptr_nonnull(strstr(msg, "latency.*, errors.*"));
	ck_assert_ptr_nonnull(strstr(msg, "throughput"));
}
END_TEST

START_TEST(metric_catalogue)
{
	char buf[64];

	for (int i = 0; i < METRIC_ID_MAX; i++) {
		const struct metric_info *m = metric_info((enum metric_id)i);

		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq(m->id, i);
		ck_assert_ptr_eq(metric_lookup(m->name), m);
	}
	ck_assert_int_eq(metric_lookup("gomaxprocs")->id,
			 METRIC_GOMAXPROCS_END);
	ck_assert_int_eq(metric_lookup("rss.growth")->unit, METRIC_UNIT_BYTES);
	ck_assert_int_eq(metric_lookup("runqueue.wait_rate")->unit,
			 METRIC_UNIT_FRACTION);
	ck_assert_ptr_null(metric_lookup("rss"));
	ck_assert_str_eq(
		metric_format(METRIC_UNIT_DURATION, 12.34, buf, sizeof(buf)),
		"12.3ms");
	ck_assert_str_eq(
		metric_format(METRIC_UNIT_DURATION, 1500, buf, sizeof(buf)),
		"1.50s");
	ck_assert_str_eq(
		metric_format(METRIC_UNIT_FRACTION, 0.012, buf, sizeof(buf)),
		"1.20%");
	ck_assert_str_eq(metric_format(METRIC_UNIT_BYTES, 64.0 * 1024 * 1024,
				       buf, sizeof(buf)),
			 "64.0MiB");
	ck_assert_str_eq(
		metric_format(METRIC_UNIT_PER_SEC, 200, buf, sizeof(buf)),
		"200.0/s");
	ck_assert_str_eq(metric_format(METRIC_UNIT_COUNT, 12, buf, sizeof(buf)),
			 "12");
	ck_assert_str_eq(metric_unit_name(METRIC_UNIT_DURATION), "ms");
	ck_assert(gate_compare(GATE_LT, 1, 2) && !gate_compare(GATE_LT, 2, 2));
	ck_assert(gate_compare(GATE_LE, 2, 2) && gate_compare(GATE_GE, 2, 2));
	ck_assert(gate_compare(GATE_GT, 3, 2) && !gate_compare(GATE_GT, 2, 2));
	ck_assert_str_eq(gate_op_text(GATE_GE), ">=");
	ck_assert_str_eq(phase_name(PHASE_RECOVERY), "recovery");
	ck_assert_int_eq(phase_from_name("fault"), PHASE_FAULT);
	ck_assert_int_eq(phase_from_name("all"), -EINVAL);
}
END_TEST

static Suite *playbooks_suite(void)
{
	Suite *s = suite_create("playbooks");
	TCase *pb = tcase_create("playbook");
	TCase *gate = tcase_create("gate_expr");

	tcase_add_test(pb, playbook_fixture_counts);
	tcase_add_loop_test(pb, playbook_valid_fixtures, 0, valid.n);
	tcase_add_loop_test(pb, playbook_invalid_fixtures, 0, invalid.n);
	tcase_add_loop_test(pb, playbook_examples_load, 0, examples.n);
	tcase_add_test(pb, playbook_minimal_defaults);
	tcase_add_test(pb, playbook_load_defaults);
	tcase_add_test(pb, playbook_fault_defaults);
	tcase_add_test(pb, playbook_full_example_values);
	tcase_add_test(pb, playbook_read_errors);
	suite_add_tcase(s, pb);
	tcase_add_loop_test(gate, gate_expr_table, 0,
			    (int)ARRAY_SIZE(gate_cases));
	tcase_add_test(gate, gate_expr_error_offsets);
	tcase_add_test(gate, metric_catalogue);
	suite_add_tcase(s, gate);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	list_yaml(FG_TEST_DATA_DIR "/playbooks/valid", &valid);
	list_yaml(FG_TEST_DATA_DIR "/playbooks/invalid", &invalid);
	list_yaml(FG_SOURCE_DIR "/playbooks/examples", &examples);
	sr = srunner_create(playbooks_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
