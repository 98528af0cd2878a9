// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the log-linear histogram: quantiles against exact ones over
 * eight decades, merge, empty and clamped values. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "hist.h"

#define N_VALUES 200000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Exact nearest-rank quantile of sorted @v. */
static uint64_t exact_quantile(const uint64_t *v, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	if (rank == 0)
		rank = 1;
	return v[rank - 1];
}

/* Log-uniform values over 1 us .. 100 s, from a fixed seed. */
static uint64_t *make_values(size_t n, unsigned seed)
{
	uint64_t *v = malloc(n * sizeof(*v));

	ck_assert_ptr_nonnull(v);
	srand48(seed);
	for (size_t i = 0; i < n; i++)
		v[i] = (uint64_t)(1e3 * pow(10.0, 8.0 * drand48()));
	return v;
}

static void check_within(uint64_t got, uint64_t want, double q)
{
	double rel = fabs((double)got - (double)want) / (double)want;

	ck_assert_msg(rel <= 0.01, "q=%g: got %llu want %llu (%.4f%%)", q,
		      (unsigned long long)got, (unsigned long long)want, 100 * rel);
}

START_TEST(hist_quantiles_within_one_percent)
{
	static const double qs[] = { 0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75,
				     0.9, 0.99, 0.999, 0.9999, 1.0 };
	struct fg_hist *h = malloc(sizeof(*h));
	uint64_t *v = make_values(N_VALUES, 42);
	double sum = 0;

	ck_assert_ptr_nonnull(h);
	hist_init(h);
	for (size_t i = 0; i < N_VALUES; i++) {
		hist_record(h, v[i]);
		sum += (double)v[i];
	}
	qsort(v, N_VALUES, sizeof(*v), cmp_u64);
	ck_assert_uint_eq(h->count, N_VALUES);
	ck_assert_uint_eq(h->min_ns, v[0]);
	ck_assert_uint_eq(h->max_ns, v[N_VALUES - 1]);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		check_within(hist_quantile(h, qs[i]), exact_quantile(v, N_VALUES, qs[i]), qs[i]);
	/* Every percentile too, not only the usual ones. */
	for (int p = 1; p < 100; p++)
		check_within(hist_quantile(h, p / 100.0), exact_quantile(v, N_VALUES, p / 100.0),
			     p / 100.0);
	ck_assert(fabs(hist_mean_ns(h) - sum / N_VALUES) < 1.0);
	free(v);
	free(h);
}
END_TEST

START_TEST(hist_small_values_exact)
{
	struct fg_hist *h = malloc(sizeof(*h));

	ck_assert_ptr_nonnull(h);
	hist_init(h);
	for (uint64_t i = 1; i <= 200; i++)
		hist_record(h, i);
	ck_assert_uint_eq(hist_quantile(h, 0.5), 100);
	ck_assert_uint_eq(hist_quantile(h, 0.995), 199);
	ck_assert_uint_eq(hist_quantile(h, 1.0), 200);
	ck_assert_uint_eq(hist_quantile(h, 0.0), 1);
	free(h);
}
END_TEST

START_TEST(hist_every_value_within_bound)
{
	struct fg_hist *h = malloc(sizeof(*h));

	ck_assert_ptr_nonnull(h);
	/* The median of {1, v, 2^39} is v's bucket midpoint, not clamped. */
	for (uint64_t v = 255; v < (1ull << 39); v = v * 1.37 + 1) {
		hist_init(h);
		hist_record(h, v);
		hist_record(h, 1);
		hist_record(h, 1ull << 39);
		check_within(hist_quantile(h, 0.5), v, 0.5);
	}
	free(h);
}
END_TEST

START_TEST(hist_merge_equals_recording_both)
{
	struct fg_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct fg_hist *both = malloc(sizeof(*both));
	uint64_t *v = make_values(20000, 7);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(both);
	hist_init(a);
	hist_init(b);
	hist_init(both);
	for (size_t i = 0; i < 20000; i++) {
		hist_record(i % 3 ? a : b, v[i]);
		hist_record(both, v[i]);
	}
	hist_merge(a, b);
	ck_assert_mem_eq(a, both, sizeof(*a));
	/* Merging an empty one changes nothing; into an empty one copies. */
	hist_init(b);
	hist_merge(a, b);
	ck_assert_mem_eq(a, both, sizeof(*a));
	hist_merge(b, both);
	ck_assert_mem_eq(b, both, sizeof(*b));
	free(v);
	free(a);
	free(b);
	free(both);
}
END_TEST

START_TEST(hist_empty)
{
	struct fg_hist *h = malloc(sizeof(*h));

	ck_assert_ptr_nonnull(h);
	hist_init(h);
	ck_assert_uint_eq(h->count, 0);
	ck_assert_uint_eq(hist_quantile(h, 0.5), 0);
	ck_assert_uint_eq(hist_quantile(h, 1.0), 0);
	ck_assert(hist_mean_ns(h) == 0.0);
	free(h);
}
END_TEST

START_TEST(hist_huge_values_clamped)
{
	struct fg_hist *h = malloc(sizeof(*h));

	ck_assert_ptr_nonnull(h);
	hist_init(h);
	hist_record(h, UINT64_MAX / 2);
	hist_record(h, 5000ull * 1000000000ull);
	ck_assert_uint_eq(h->count, 2);
	ck_assert_uint_eq(h->max_ns, UINT64_MAX / 2);
	/* Both land in the last bucket; the answer stays inside [min, max]. */
	ck_assert_uint_ge(hist_quantile(h, 0.5), 5000ull * 1000000000ull);
	ck_assert_uint_le(hist_quantile(h, 1.0), UINT64_MAX / 2);
	free(h);
}
END_TEST

static Suite *hist_suite(void)
{
	Suite *s = suite_create("hist");
	TCase *tc = tcase_create("hist");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, hist_quantiles_within_one_percent);
	tcase_add_test(tc, hist_small_values_exact);
	tcase_add_test(tc, hist_every_value_within_bound);
	tcase_add_test(tc, hist_merge_equals_recording_both);
	tcase_add_test(tc, hist_empty);
	tcase_add_test(tc, hist_huge_values_clamped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hist_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
