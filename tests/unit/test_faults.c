// SPDX-License-Identifier: Apache-2.0
/* Unit tests for faults/: names, peers, windows, the PRNG, jitter and the
 * backend table with its refusals. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "fault.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000000LL
#define SEC 1000000000LL

START_TEST(fault_names_round_trip)
{
	for (int k = 0; k < FAULT_KIND_MAX; k++) {
		const char *n = fault_kind_name((enum fault_kind)k);

		ck_assert_ptr_nonnull(n);
		ck_assert_int_eq(fault_kind_from_name(n), k);
	}
	for (int b = 0; b < FAULT_BACKEND_MAX; b++)
		ck_assert_int_eq(fault_backend_from_name(fault_backend_name(
					 (enum fault_backend)b)),
				 b);
	for (int f = 0; f < FAULT_FDS_MAX; f++)
		ck_assert_int_eq(
			fault_fds_from_name(fault_fds_name((enum fault_fds)f)),
			f);
	ck_assert_ptr_null(fault_kind_name(FAULT_KIND_MAX));
	ck_assert_int_eq(fault_kind_from_name("slow_io"), -EINVAL);
	ck_assert_int_eq(fault_kind_from_name(NULL), -EINVAL);
	ck_assert_int_eq(fault_backend_from_name("Auto"), -EINVAL);
}
END_TEST

START_TEST(fault_errno_table)
{
	char buf[256];

	ck_assert_int_eq(fault_errno_from_name("EIO"), EIO);
	ck_assert_int_eq(fault_errno_from_name("ECONNRESET"), ECONNRESET);
	ck_assert_int_eq(fault_errno_from_name("EFBIG"), EFBIG);
	ck_assert_int_eq(fault_errno_from_name("eio"), -EINVAL);
	ck_assert_int_eq(fault_errno_from_name("EWHATEVER"), -EINVAL);
	ck_assert_str_eq(fault_errno_name(ENOSPC), "ENOSPC");
	ck_assert_ptr_null(fault_errno_name(EXDEV));
	fault_errno_names(buf, sizeof(buf));
	ck_assert(strncmp(buf, "EIO, ECONNRESET, ", 17) == 0);
	ck_assert_ptr_nonnull(strstr(buf, "EFBIG"));
}
END_TEST

static const struct peer_case {
	const char *text;
	int ret;
	const char *host;
	unsigned port;
} peer_cases[] = {
	{ ":5432", 0, "", 5432 },
	{ "127.0.0.1:80", 0, "127.0.0.1", 80 },
	{ "[::1]:443", 0, "::1", 443 },
	{ "[fe80::1]:8080", 0, "fe80::1", 8080 },
	{ "10.0.0.7:*", 0, "10.0.0.7", 0 },
	{ ":*", -EINVAL, NULL, 0 },
	{ ":0", -EINVAL, NULL, 0 },
	{ ":65536", -EINVAL, NULL, 0 },
	{ "5432", -EINVAL, NULL, 0 },
	{ "db.internal:5432", -EINVAL, NULL, 0 },
	{ "::1:80", -EINVAL, NULL, 0 },
	{ "[::1]80", -EINVAL, NULL, 0 },
	{ "[]:80", -EINVAL, NULL, 0 },
	{ "1.2.3.4:", -EINVAL, NULL, 0 },
	{ "", -EINVAL, NULL, 0 },
};

START_TEST(fault_peer_table)
{
	const struct peer_case *c = &peer_cases[_i];
	struct fault_peer p;
	int r;

	r = fault_peer_parse(c->text, &p);
	ck_assert_msg(r == c->ret, "'%s': returned %d, want %d", c->text, r,
		      c->ret);
	if (r == 0) {
		ck_assert_str_eq(p.host, c->host);
		ck_assert_uint_eq(p.port, c->port);
	}
}
END_TEST

START_TEST(fault_defaults)
{
	struct fault_spec f;

	fault_spec_init(&f, FAULT_SLOW_IO);
	ck_assert_int_eq(f.backend, FAULT_BACKEND_AUTO);
	ck_assert_int_eq(f.at_ns, 0);
	ck_assert_int_eq(f.for_ns, -1);
	ck_assert(f.probability == 1.0);
	ck_assert_uint_eq(f.syscalls, FAULT_SYS_READ | FAULT_SYS_WRITE);
	ck_assert_int_eq(f.fds, FAULT_FDS_ANY);
	ck_assert_int_eq(f.err, EIO);
	ck_assert(f.touch && f.release);
	/* delay is required for slow-io */
	ck_assert_int_eq(fault_spec_validate(&f, 20 * SEC, (char[128]){}, 128),
			 -EINVAL);
	f.delay_ns = 50 * MS;
	ck_assert_int_eq(fault_spec_finish(&f), 0);
	ck_assert_int_eq(fault_spec_validate(&f, 20 * SEC, (char[128]){}, 128),
			 0);
	fault_spec_done(&f);

	fault_spec_init(&f, FAULT_CGO_BLOCK);
	f.delay_ns = 2 * SEC;
	ck_assert_int_eq(fault_spec_finish(&f), 0);
	ck_assert_uint_eq(f.n_symbols, 1);
	ck_assert_str_eq(f.symbols[0], "getaddrinfo");
	fault_spec_done(&f);
	ck_assert_ptr_null(f.symbols);

	fault_spec_init(&f, FAULT_FREEZE_THREAD);
	f.hold_ns = 500 * MS;
	ck_assert_int_eq(fault_spec_finish(&f), 0);
	ck_assert_int_eq(f.every_ns, 500 * MS);
	ck_assert_int_eq(f.pick, FAULT_PICK_BUSIEST);
	ck_assert_int_eq(f.threads, 1);
	fault_spec_done(&f);
}
END_TEST

START_TEST(fault_validate_caps)
{
	struct fault_spec f;
	const char *key;
	char msg[256];

	fault_spec_init(&f, FAULT_SLOW_IO);
	f.delay_ns = 61 * SEC;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 -EINVAL);
	ck_assert_str_eq(key, "delay");
	ck_assert_ptr_nonnull(strstr(msg, "allow_long"));
	f.allow_long = true;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 0);

	f.delay_ns = 10 * MS;
	f.jitter_ns = 20 * MS;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 -EINVAL);
	ck_assert_str_eq(key, "jitter");
	f.jitter_ns = 10 * MS;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 0);

	f.at_ns = 5 * SEC;
	f.for_ns = 20 * SEC;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 -EINVAL);
	ck_assert_str_eq(key, "for");
	ck_assert_str_eq(msg, "window ends at 25s, after the 20s fault phase");
	f.at_ns = 20 * SEC;
	f.for_ns = -1;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 -EINVAL);
	ck_assert_str_eq(key, "at");

	f.at_ns = 0;
	f.backend = FAULT_BACKEND_PTRACE;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 0);
	fault_spec_done(&f);

	fault_spec_init(&f, FAULT_FREEZE_THREAD);
	f.hold_ns = 11 * SEC;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 -EINVAL);
	ck_assert_str_eq(key, "hold");
	f.hold_ns = 500 * MS;
	f.every_ns = 100 * MS;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 -EINVAL);
	ck_assert_str_eq(key, "every");
	f.backend = FAULT_BACKEND_SECCOMP;
	f.every_ns = 2 * SEC;
	ck_assert_int_eq(fault_spec_check(&f, 20 * SEC, &key, msg, sizeof(msg)),
			 -EINVAL);
	ck_assert_str_eq(key, "backend");
	fault_spec_done(&f);
}
END_TEST

START_TEST(fault_window_math)
{
	struct fault_spec f;

	fault_spec_init(&f, FAULT_SLOW_IO);
	ck_assert_int_eq(fault_window_end(&f, 20 * SEC), 20 * SEC);
	ck_assert(fault_window_active(&f, 0, 20 * SEC));
	ck_assert(fault_window_active(&f, 20 * SEC - 1, 20 * SEC));
	ck_assert(!fault_window_active(&f, 20 * SEC, 20 * SEC));
	ck_assert(!fault_window_active(&f, -1, 20 * SEC));

	f.at_ns = 5 * SEC;
	f.for_ns = 10 * SEC;
	ck_assert_int_eq(fault_window_end(&f, 20 * SEC), 15 * SEC);
	ck_assert(!fault_window_active(&f, 5 * SEC - 1, 20 * SEC));
	ck_assert(fault_window_active(&f, 5 * SEC, 20 * SEC));
	ck_assert(fault_window_active(&f, 15 * SEC - 1, 20 * SEC));
	ck_assert(!fault_window_active(&f, 15 * SEC, 20 * SEC));
	/* A window past a shorter phase is cut at the phase end. */
	ck_assert_int_eq(fault_window_end(&f, 12 * SEC), 12 * SEC);
}
END_TEST

START_TEST(fault_rng_chance_tolerance)
{
	static const double ps[] = { 0.01, 0.05, 0.5, 0.9 };
	struct fault_rng rng;
	const int draws = 100000;

	for (size_t i = 0; i < ARRAY_SIZE(ps); i++) {
		int hits = 0;
		double sd = sqrt(draws * ps[i] * (1 - ps[i]));

		fault_rng_seed(&rng, 42 + i);
		for (int d = 0; d < draws; d++)
			hits += fault_rng_chance(&rng, ps[i]);
		/* Five standard deviations: a false alarm is practically
		 * impossible. */
		ck_assert_msg(fabs(hits - draws * ps[i]) < 5 * sd,
			      "p=%.2f: %d hits of %d", ps[i], hits, draws);
	}
	fault_rng_seed(&rng, 1);
	for (int d = 0; d < 1000; d++) {
		ck_assert(fault_rng_chance(&rng, 1.0));
		ck_assert(!fault_rng_chance(&rng, 0.0));
	}
}
END_TEST

START_TEST(fault_rng_reproducible)
{
	struct fault_rng a, b, z;

	fault_rng_seed(&a, 7);
	fault_rng_seed(&b, 7);
	fault_rng_seed(&z, 0);
	for (int i = 0; i < 100; i++) {
		uint64_t x = fault_rng_next(&a);

		ck_assert_uint_eq(x, fault_rng_next(&b));
		ck_assert_uint_ne(fault_rng_next(&z), 0);
	}
}
END_TEST

START_TEST(fault_delay_jitter_bounds)
{
	struct fault_spec f;
	struct fault_rng rng;
	int64_t lo = INT64_MAX, hi = 0;

	fault_spec_init(&f, FAULT_SLOW_IO);
	f.delay_ns = 50 * MS;
	fault_rng_seed(&rng, 3);
	ck_assert_int_eq(fault_pick_delay(&f, &rng), 50 * MS);
	f.jitter_ns = 10 * MS;
	for (int i = 0; i < 100000; i++) {
		int64_t d = fault_pick_delay(&f, &rng);

		ck_assert(d >= 40 * MS && d <= 60 * MS);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	/* The whole range is used. */
	ck_assert(lo < 40 * MS + MS / 10);
	ck_assert(hi > 60 * MS - MS / 10);
	f.jitter_ns = f.delay_ns;
	for (int i = 0; i < 1000; i++)
		ck_assert(fault_pick_delay(&f, &rng) >= 0);
}
END_TEST

START_TEST(fault_paths)
{
	struct fault_spec f;
	char *globs[] = { "/var/lib/app/*", "*.log" };

	fault_spec_init(&f, FAULT_IO_ERROR);
	ck_assert(fault_path_matches(&f, "/anything"));
	f.paths = globs;
	f.n_paths = 2;
	ck_assert(fault_path_matches(&f, "/var/lib/app/data"));
	ck_assert(fault_path_matches(&f, "/var/lib/app/sub/dir/file"));
	ck_assert(fault_path_matches(&f, "/tmp/x/app.log"));
	ck_assert(!fault_path_matches(&f, "/var/lib/other"));
	ck_assert(!fault_path_matches(&f, NULL));
}
END_TEST

static const struct target_facts launched_dyn = { .launched = true,
						  .known = true };
static const struct target_facts launched_cgo = { .launched = true,
						  .known = true,
						  .is_go = true };
static const struct target_facts launched_static_go = {
	.launched = true, .known = true, .is_go = true, .is_static = true
};
static const struct target_facts attached_go = {
	.launched = false, .known = true, .is_go = true, .is_static = true
};
static const struct target_facts launched_script = { .launched = true,
						     .known = false };

static const struct backend_case {
	enum fault_kind kind;
	enum fault_backend written;
	int mode;
	const struct target_facts *facts;
	int ret;
	enum fault_backend want;
	const char *why; /* substring of the refusal */
} backend_cases[] = {
	{ FAULT_SLOW_IO, FAULT_BACKEND_AUTO, 0, &launched_dyn, 0,
	  FAULT_BACKEND_SECCOMP, NULL },
	{ FAULT_SLOW_IO, FAULT_BACKEND_AUTO, 0, &launched_static_go, 0,
	  FAULT_BACKEND_SECCOMP, NULL },
	{ FAULT_IO_ERROR, FAULT_BACKEND_AUTO, 0, &attached_go, 0,
	  FAULT_BACKEND_PTRACE, NULL },
	{ FAULT_IO_ERROR, FAULT_BACKEND_SECCOMP, 0, &attached_go, -ENOTSUP, 0,
	  "starts" },
	{ FAULT_SLOW_IO, FAULT_BACKEND_PRELOAD, 0, &launched_cgo, 0,
	  FAULT_BACKEND_PRELOAD, NULL },
	{ FAULT_SLOW_IO, FAULT_BACKEND_PRELOAD, 0, &launched_static_go,
	  -ENOTSUP, 0, "static binary: LD_PRELOAD cannot reach it" },
	{ FAULT_MEM_LEAK, FAULT_BACKEND_AUTO, 0, &launched_dyn, 0,
	  FAULT_BACKEND_PRELOAD, NULL },
	{ FAULT_MEM_LEAK, FAULT_BACKEND_AUTO, 0, &launched_script, 0,
	  FAULT_BACKEND_PRELOAD, NULL },
	{ FAULT_MEM_LEAK, FAULT_BACKEND_AUTO, 0, &launched_static_go, 0,
	  FAULT_BACKEND_PTRACE, NULL },
	{ FAULT_MEM_LEAK, FAULT_BACKEND_AUTO, 0, &attached_go, 0,
	  FAULT_BACKEND_PTRACE, NULL },
	{ FAULT_MEM_LEAK, FAULT_BACKEND_SECCOMP, 0, &launched_dyn, -ENOTSUP, 0,
	  "cannot use" },
	{ FAULT_CGO_BLOCK, FAULT_BACKEND_AUTO, 0, &launched_cgo, 0,
	  FAULT_BACKEND_PRELOAD, NULL },
	{ FAULT_CGO_BLOCK, FAULT_BACKEND_AUTO, 0, &launched_static_go, -ENOTSUP,
	  0, "static binary: LD_PRELOAD cannot reach it" },
	{ FAULT_CGO_BLOCK, FAULT_BACKEND_AUTO, 0, &attached_go, -ENOTSUP, 0,
	  "running process" },
	{ FAULT_PIN_THREADS, FAULT_BACKEND_AUTO, 0, &attached_go, 0,
	  FAULT_BACKEND_AFFINITY, NULL },
	{ FAULT_PIN_THREADS, FAULT_BACKEND_PTRACE, 0, &attached_go, -ENOTSUP, 0,
	  "cannot use" },
	{ FAULT_GOMAXPROCS, FAULT_BACKEND_AUTO, FAULT_GOMAXPROCS_LIVE,
	  &attached_go, 0, FAULT_BACKEND_PTRACE, NULL },
	{ FAULT_GOMAXPROCS, FAULT_BACKEND_AUTO, FAULT_GOMAXPROCS_LAUNCH,
	  &launched_static_go, 0, FAULT_BACKEND_ENV, NULL },
	{ FAULT_GOMAXPROCS, FAULT_BACKEND_AUTO, FAULT_GOMAXPROCS_LAUNCH,
	  &attached_go, -ENOTSUP, 0, "mode: live" },
	{ FAULT_GOMAXPROCS, FAULT_BACKEND_PTRACE, FAULT_GOMAXPROCS_LAUNCH,
	  &launched_cgo, -ENOTSUP, 0, "served by 'env'" },
	{ FAULT_GOMAXPROCS, FAULT_BACKEND_AUTO, FAULT_GOMAXPROCS_LIVE,
	  &launched_dyn, -ENOTSUP, 0, "needs a Go program" },
	{ FAULT_FREEZE_THREAD, FAULT_BACKEND_AUTO, 0, &launched_dyn, 0,
	  FAULT_BACKEND_PTRACE, NULL },
	{ FAULT_FREEZE_THREAD, FAULT_BACKEND_PRELOAD, 0, &launched_dyn,
	  -ENOTSUP, 0, "cannot use" },
};

START_TEST(fault_backend_table)
{
	const struct backend_case *c = &backend_cases[_i];
	enum fault_backend got = FAULT_BACKEND_MAX;
	struct fault_spec f;
	char why[256] = "";
	int r;

	fault_spec_init(&f, c->kind);
	f.backend = c->written;
	f.gomaxprocs_mode = (enum fault_gomaxprocs_mode)c->mode;
	r = fault_backend_resolve(&f, c->facts, &got, why, sizeof(why));
	ck_assert_msg(r == c->ret, "case %d: returned %d (%s), want %d", _i, r,
		      why, c->ret);
	if (r == 0)
		ck_assert_msg(got == c->want, "case %d: got %s, want %s", _i,
			      fault_backend_name(got),
			      fault_backend_name(c->want));
	else
		ck_assert_msg(strstr(why, c->why), "case %d: '%s' lacks '%s'",
			      _i, why, c->why);
}
END_TEST

START_TEST(fault_peer_matching)
{
	struct sockaddr_storage v4 = { 0 }, v6 = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&v4;
	struct sockaddr_in6 *b = (struct sockaddr_in6 *)&v6;
	struct fault_peer p;

	a->sin_family = AF_INET;
	a->sin_port = htons(5432);
	inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
	b->sin6_family = AF_INET6;
	b->sin6_port = htons(5432);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &b->sin6_addr);

	ck_assert_int_eq(fault_peer_parse(":5432", &p), 0);
	ck_assert(fault_peer_matches(&p, &v4));
	ck_assert(fault_peer_matches(&p, &v6));
	ck_assert_int_eq(fault_peer_parse("127.0.0.1:5432", &p), 0);
	ck_assert(fault_peer_matches(&p, &v6));	/* IPv4-mapped compares as IPv4 */
	ck_assert_int_eq(fault_peer_parse(":80", &p), 0);
	ck_assert(!fault_peer_matches(&p, &v4));
	ck_assert_int_eq(fault_peer_parse("[::1]:5432", &p), 0);
	ck_assert(!fault_peer_matches(&p, &v4));
}
END_TEST

START_TEST(fault_backend_built)
{
	ck_assert(fault_backend_available(FAULT_SLOW_IO, FAULT_BACKEND_SECCOMP,
					  true));
	ck_assert(fault_backend_available(FAULT_IO_ERROR, FAULT_BACKEND_SECCOMP,
					  true));
	ck_assert(!fault_backend_available(FAULT_IO_ERROR,
					   FAULT_BACKEND_SECCOMP, false));
	ck_assert(fault_backend_available(FAULT_GOMAXPROCS, FAULT_BACKEND_ENV,
					  true));
	/* Running processes: ptrace and affinity only. */
	ck_assert(fault_backend_available(FAULT_SLOW_IO, FAULT_BACKEND_PTRACE,
					  false));
	ck_assert(fault_backend_available(FAULT_FREEZE_THREAD,
					  FAULT_BACKEND_PTRACE, false));
	ck_assert(fault_backend_available(FAULT_PIN_THREADS,
					  FAULT_BACKEND_AFFINITY, false));
	ck_assert(fault_backend_available(FAULT_MEM_LEAK,
					  FAULT_BACKEND_PRELOAD, true));
	ck_assert(!fault_backend_available(FAULT_MEM_LEAK,
					   FAULT_BACKEND_PRELOAD, false));
	ck_assert(!fault_backend_available(FAULT_CGO_BLOCK,
					   FAULT_BACKEND_PRELOAD, false));
	ck_assert(
		fault_backend_possible(FAULT_PIN_THREADS, FAULT_BACKEND_AUTO));
	ck_assert(
		!fault_backend_possible(FAULT_CGO_BLOCK, FAULT_BACKEND_PTRACE));
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *fault = tcase_create("fault");
	TCase *backend = tcase_create("backend");

	tcase_add_test(fault, fault_names_round_trip);
	tcase_add_test(fault, fault_errno_table);
	tcase_add_loop_test(fault, fault_peer_table, 0,
			    (int)ARRAY_SIZE(peer_cases));
	tcase_add_test(fault, fault_defaults);
	tcase_add_test(fault, fault_validate_caps);
	tcase_add_test(fault, fault_window_math);
	tcase_add_test(fault, fault_rng_chance_tolerance);
	tcase_add_test(fault, fault_rng_reproducible);
	tcase_add_test(fault, fault_delay_jitter_bounds);
	tcase_add_test(fault, fault_paths);
	suite_add_tcase(s, fault);
	tcase_add_loop_test(backend, fault_backend_table, 0,
			    (int)ARRAY_SIZE(backend_cases));
	tcase_add_test(backend, fault_backend_built);
	tcase_add_test(backend, fault_peer_matching);
	suite_add_tcase(s, backend);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(faults_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
