// SPDX-License-Identifier: Apache-2.0
/* Unit tests for common/: unit parsing and formatting, the error object. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "procfs.h"
#include "units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum unit_kind {
	U_DURATION,
	U_SIZE,
	U_RATE,
	U_PERCENT,
};

/* One row per input: what it parses to, or which error it gets. */
static const struct unit_case {
	enum unit_kind kind;
	const char *text;
	int ret;
	double want; /* ns, bytes, per second or fraction */
} unit_cases[] = {
	{ U_DURATION, "50ms", 0, 50e6 },
	{ U_DURATION, "1.5s", 0, 1.5e9 },
	{ U_DURATION, "2m", 0, 120e9 },
	{ U_DURATION, "40us", 0, 40e3 },
	{ U_DURATION, "0s", 0, 0 },
	{ U_DURATION, "1h", 0, 3600e9 },
	{ U_DURATION, "50", -EINVAL, 0 }, /* a unit is required */
	{ U_DURATION, "-1s", -ERANGE, 0 },
	{ U_DURATION, "1e3ms", -EINVAL, 0 }, /* plain decimals only */
	{ U_DURATION, "1.s", -EINVAL, 0 },
	{ U_DURATION, ".5s", -EINVAL, 0 },
	{ U_DURATION, " 5s", -EINVAL, 0 },
	{ U_DURATION, "5 s", -EINVAL, 0 },
	{ U_DURATION, "5S", -EINVAL, 0 },
	{ U_DURATION, "inf", -EINVAL, 0 },
	{ U_DURATION, "0x10s", -EINVAL, 0 },
	{ U_DURATION, "", -EINVAL, 0 },
	{ U_DURATION, "5sec", -EINVAL, 0 },
	{ U_SIZE, "16KiB", 0, 16384 },
	{ U_SIZE, "512MiB", 0, 536870912.0 },
	{ U_SIZE, "1GiB", 0, 1073741824.0 },
	{ U_SIZE, "16KB", 0, 16000 },
	{ U_SIZE, "100B", 0, 100 },
	{ U_SIZE, "1.5KiB", 0, 1536 },
	{ U_SIZE, "16", -EINVAL, 0 },
	{ U_SIZE, "16kib", -EINVAL, 0 },
	{ U_SIZE, "-1MiB", -ERANGE, 0 },
	{ U_SIZE, "99999999999GiB", -ERANGE, 0 },
	{ U_RATE, "200/s", 0, 200 },
	{ U_RATE, "1.5/s", 0, 1.5 },
	{ U_RATE, "200", -EINVAL, 0 },
	{ U_RATE, "200/m", -EINVAL, 0 },
	{ U_RATE, "0/s", -ERANGE, 0 },
	{ U_PERCENT, "5%", 0, 0.05 },
	{ U_PERCENT, "0.5%", 0, 0.005 },
	{ U_PERCENT, "100%", 0, 1 },
	{ U_PERCENT, "0%", 0, 0 },
	{ U_PERCENT, "101%", -ERANGE, 0 },
	{ U_PERCENT, "-1%", -ERANGE, 0 },
	{ U_PERCENT, "5", -EINVAL, 0 },
	{ U_PERCENT, "5 %", -EINVAL, 0 },
};

static int parse_case(const struct unit_case *c, double *ret)
{
	uint64_t b;
	int64_t ns;
	int r;

	switch (c->kind) {
	case U_DURATION:
		r = fg_parse_duration(c->text, &ns);
		*ret = (double)ns;
		return r;
	case U_SIZE:
		r = fg_parse_size(c->text, &b);
		*ret = (double)b;
		return r;
	case U_RATE:
		return fg_parse_rate(c->text, ret);
	case U_PERCENT:
		return fg_parse_percent(c->text, ret);
	default:
		ck_abort_msg("bad case kind");
		return -EINVAL;
	}
}

START_TEST(units_parse_table)
{
	const struct unit_case *c = &unit_cases[_i];
	double got = -1;
	int r;

	r = parse_case(c, &got);
	ck_assert_msg(r == c->ret, "'%s': returned %d, want %d", c->text, r,
		      c->ret);
	if (c->ret == 0)
		ck_assert_msg(
			fabs(got - c->want) <= 1e-9 * fabs(c->want) + 1e-12,
			"'%s': got %.17g, want %.17g", c->text, got, c->want);
}
END_TEST

START_TEST(units_parse_int)
{
	long long v;

	ck_assert_int_eq(fg_parse_int("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(fg_parse_int("-3", -5, 5, &v), 0);
	ck_assert_int_eq(v, -3);
	ck_assert_int_eq(fg_parse_int("101", 0, 100, &v), -ERANGE);
	ck_assert_int_eq(fg_parse_int("4x", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_int("", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_int("+4", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(fg_parse_int("99999999999999999999", 0, 100, &v),
			 -ERANGE);
}
END_TEST

START_TEST(units_parse_double)
{
	double v;

	ck_assert_int_eq(fg_parse_double("0.25", &v), 0);
	ck_assert(v == 0.25);
	ck_assert_int_eq(fg_parse_double("-2", &v), 0);
	ck_assert(v == -2);
	ck_assert_int_eq(fg_parse_double("1e3", &v), -EINVAL);
	ck_assert_int_eq(fg_parse_double("nan", &v), -EINVAL);
	ck_assert_int_eq(fg_parse_double("2ms", &v), -EINVAL);
}
END_TEST

START_TEST(units_format)
{
	char buf[32];

	ck_assert_str_eq(
		fg_format_duration(250 * FG_NSEC_PER_MSEC, buf, sizeof(buf)),
		"250ms");
	ck_assert_str_eq(
		fg_format_duration(1500 * FG_NSEC_PER_MSEC, buf, sizeof(buf)),
		"1.50s");
	ck_assert_str_eq(
		fg_format_duration(20 * FG_NSEC_PER_SEC, buf, sizeof(buf)),
		"20s");
	ck_assert_str_eq(
		fg_format_duration(120 * FG_NSEC_PER_SEC, buf, sizeof(buf)),
		"2m");
	ck_assert_str_eq(fg_format_duration(24 * 3600 * FG_NSEC_PER_SEC, buf,
					    sizeof(buf)),
			 "24h");
	ck_assert_str_eq(
		fg_format_duration(1234 * FG_NSEC_PER_SEC, buf, sizeof(buf)),
		"1234s");
	ck_assert_str_eq(
		fg_format_duration(40 * FG_NSEC_PER_USEC, buf, sizeof(buf)),
		"40us");
	ck_assert_str_eq(fg_format_size(64.0 * 1024 * 1024, buf, sizeof(buf)),
			 "64.0MiB");
	ck_assert_str_eq(fg_format_size(100, buf, sizeof(buf)), "100B");
}
END_TEST

START_TEST(units_utf8_trim)
{
	char a[] = "caf\xc3\xa9", b[] = "caf\xc3", c[] = "x\xe2\x82", d[] = "x\xe2\x82\xac",
	     e[] = "\xf0\x9f\x98", f[] = "plain";

	fg_utf8_trim(a);
	fg_utf8_trim(b);
	fg_utf8_trim(c);
	fg_utf8_trim(d);
	fg_utf8_trim(e);
	fg_utf8_trim(f);
	ck_assert_str_eq(a, "caf\xc3\xa9");
	ck_assert_str_eq(b, "caf");
	ck_assert_str_eq(c, "x");
	ck_assert_str_eq(d, "x\xe2\x82\xac");
	ck_assert_str_eq(e, "");
	ck_assert_str_eq(f, "plain");
}
END_TEST

START_TEST(procfs_status_field)
{
	const char *st = "Name:\tx\nPid:\t12\nPPid:\t1\nTracerPid:\t0\nTgid:\t12\n";
	char buf[4096];
	long long v = -1;

	ck_assert(fg_status_field(st, "Pid", &v) && v == 12);
	ck_assert(fg_status_field(st, "PPid", &v) && v == 1);
	ck_assert(fg_status_field(st, "TracerPid", &v) && v == 0);
	ck_assert(!fg_status_field(st, "VmRSS", &v));
	ck_assert_int_gt(fg_read_text("/proc/self/status", buf, sizeof(buf)), 0);
	ck_assert(fg_status_field(buf, "Tgid", &v) && v == getpid());
	ck_assert_int_eq(fg_read_text("/proc/0/status", buf, sizeof(buf)), -ESRCH);
}
END_TEST

START_TEST(error_set_and_format)
{
	struct fg_error e = {};
	char buf[600];

	ck_assert_int_eq(
		fg_error_set(&e, EINVAL, 12, 14, "'%s' is bad", "delay"),
		-EINVAL);
	ck_assert_int_eq(e.err, EINVAL);
	ck_assert_str_eq(fg_error_format(&e, "pb.yaml", buf, sizeof(buf)),
			 "pb.yaml:12:14: 'delay' is bad");
	fg_error_prefix(&e, "playbook '%s'", "x");
	ck_assert_str_eq(e.msg, "playbook 'x': 'delay' is bad");
	ck_assert_int_eq(fg_error_set(&e, -ENOENT, 0, 0, "gone"), -ENOENT);
	ck_assert_str_eq(fg_error_format(&e, "pb.yaml", buf, sizeof(buf)),
			 "pb.yaml: gone");
	ck_assert_int_eq(fg_error_set(NULL, EIO, 0, 0, "ignored"), -EIO);
}
END_TEST

START_TEST(error_prefix_truncates)
{
	struct fg_error e = {};

	memset(e.msg, 'a', sizeof(e.msg) - 1);
	fg_error_prefix(&e, "context");
	ck_assert_uint_eq(strlen(e.msg), sizeof(e.msg) - 1);
	ck_assert(strncmp(e.msg, "context: aaa", 12) == 0);
}
END_TEST

static Suite *common_suite(void)
{
	Suite *s = suite_create("common");
	TCase *units = tcase_create("units");
	TCase *error = tcase_create("error");

	tcase_add_loop_test(units, units_parse_table, 0,
			    (int)ARRAY_SIZE(unit_cases));
	tcase_add_test(units, units_parse_int);
	tcase_add_test(units, units_utf8_trim);
	tcase_add_test(units, procfs_status_field);
	tcase_add_test(units, units_parse_double);
	tcase_add_test(units, units_format);
	suite_add_tcase(s, units);
	tcase_add_test(error, error_set_and_format);
	tcase_add_test(error, error_prefix_truncates);
	suite_add_tcase(s, error);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(common_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
