// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the vitals sampler against child processes: growth of RSS
 * and threads, run-queue delay under CPU contention, a target that exits. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sampler.h"

#define MS 1000000LL
#define MIB (1024ull * 1024ull)

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * MS };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void *idle_thread(void *arg)
{
	sleep_ms(5000);
	return NULL;
}

/* Child: after 300 ms touch 64 MiB and start 4 threads, then idle. */
static void grower(void)
{
	pthread_t t;
	char *p;

	sleep_ms(300);
	p = malloc(64 * MIB);
	if (!p)
		_exit(1);
	memset(p, 1, 64 * MIB);
	for (int i = 0; i < 4; i++)
		if (pthread_create(&t, NULL, idle_thread, NULL) != 0)
			_exit(1);
	sleep_ms(5000);
	_exit(0);
}

START_TEST(sampler_rss_and_threads_rise)
{
	const struct vital_sample *v;
	struct vital_sample last;
	struct sampler *s;
	uint64_t rss_max = 0;
	uint32_t thr_max = 0;
	size_t n;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		grower();
	ck_assert_int_eq(sampler_start(pid, mono_ns(), 50 * MS, &s), 0);
	sleep_ms(800);
	n = sampler_series(s, &v);
	ck_assert_uint_ge(n, 10);
	for (size_t i = 0; i < n; i++) {
		if (v[i].rss_bytes > rss_max)
			rss_max = v[i].rss_bytes;
		if (v[i].threads > thr_max)
			thr_max = v[i].threads;
		ck_assert_int_eq(v[i].goroutines, -1);
		ck_assert_int_eq(v[i].gomaxprocs, -1);
		if (i > 0)
			ck_assert_int_gt(v[i].t_ns, v[i - 1].t_ns);
	}
	ck_assert_uint_eq(v[0].threads, 1);
	ck_assert_uint_lt(v[0].rss_bytes, 32 * MIB);
	ck_assert_uint_ge(rss_max, v[0].rss_bytes + 60 * MIB);
	ck_assert_uint_eq(thr_max, 5);
	ck_assert_int_lt(v[0].t_ns, 20 * MS);
	ck_assert_int_eq(sampler_last(s, &last), 0);
	ck_assert_uint_eq(last.threads, 5);
	/* At most one delay value per thread; idle ones have none. */
	ck_assert_uint_le(last.n_sched_delays, 5);
	sampler_stop(s);
	sampler_stop(s);
	reap(pid);
	sampler_free(s);
}
END_TEST

static int first_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			return i;
	return 0;
}

/* A child spinning on @cpu for at most 5 s. */
static pid_t spinner(int cpu)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		cpu_set_t set;
		int64_t end = mono_ns() + 5000 * MS;
		volatile unsigned long x = 0;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			_exit(1);
		while (mono_ns() < end)
			for (int i = 0; i < 100000; i++)
				x++;
		_exit(0);
	}
	return pid;
}

START_TEST(sampler_sched_delay_under_contention)
{
	int cpu = first_cpu();
	pid_t target = spinner(cpu), hog = spinner(cpu);
	const struct vital_sample *v;
	uint64_t wait = 0;
	double max_delay = 0;
	size_t n, n_delays = 0;
	struct sampler *s;

	ck_assert_int_eq(sampler_start(target, mono_ns(), 100 * MS, &s), 0);
	sleep_ms(700);
	sampler_stop(s);
	reap(target);
	reap(hog);
	n = sampler_series(s, &v);
	ck_assert_uint_ge(n, 5);
	for (size_t i = 0; i < n; i++) {
		wait += v[i].runqueue_wait_ns;
		n_delays += v[i].n_sched_delays;
		for (uint32_t k = 0; k < v[i].n_sched_delays; k++)
			if (v[i].sched_delay_ms[k] > max_delay)
				max_delay = v[i].sched_delay_ms[k];
	}
	fprintf(stderr, "# contention: %zu samples, %zu delays, max %.3f ms, wait %.1f ms\n", n,
		n_delays, max_delay, wait / 1e6);
	ck_assert_uint_ge(n_delays, n - 2);
	ck_assert(max_delay > 0.1);
	/* Sharing one CPU with a hog, the target waits about half the time. */
	ck_assert_uint_ge(wait, 100 * MS);
	sampler_free(s);
}
END_TEST

START_TEST(sampler_process_exit_ends_cleanly)
{
	const struct vital_sample *v;
	struct sampler *s;
	size_t n1, n2;
	int64_t t0 = mono_ns();
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sleep_ms(200);
		_exit(0);
	}
	ck_assert_int_eq(sampler_start(pid, t0, 20 * MS, &s), 0);
	/* A zombie counts as gone: no waitpid() yet. */
	sleep_ms(400);
	n1 = sampler_series(s, &v);
	ck_assert_uint_ge(n1, 5);
	ck_assert_int_lt(v[n1 - 1].t_ns, 300 * MS);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	sleep_ms(100);
	n2 = sampler_series(s, &v);
	ck_assert_uint_eq(n1, n2);
	sampler_stop(s);
	sampler_free(s);

	/* Reaped already: nothing to sample. */
	ck_assert_int_eq(sampler_start(pid, t0, 20 * MS, &s), -ESRCH);
}
END_TEST

START_TEST(sampler_series_pointer_stays_valid)
{
	struct vital_sample *copy = calloc(200, sizeof(*copy));
	const struct vital_sample *early, *late;
	struct sampler *s;
	size_t n;

	ck_assert_ptr_nonnull(copy);
	ck_assert_int_eq(sampler_start(getpid(), mono_ns(), 1 * MS, &s), 0);
	do {
		sleep_ms(20);
		n = sampler_series(s, &early);
	} while (n < 200);
	memcpy(copy, early, 200 * sizeof(*copy));
	/* Let the series grow past its first capacity more than once. */
	do {
		sleep_ms(50);
		n = sampler_series(s, &late);
	} while (n < 1100);
	ck_assert_ptr_ne(early, late);
	ck_assert_mem_eq(early, copy, 200 * sizeof(*copy));
	ck_assert_mem_eq(late, copy, 200 * sizeof(*copy));
	sampler_free(s);
	free(copy);
}
END_TEST

static Suite *sampler_suite(void)
{
	Suite *s = suite_create("sampler");
	TCase *tc = tcase_create("sampler");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sampler_rss_and_threads_rise);
	tcase_add_test(tc, sampler_sched_delay_under_contention);
	tcase_add_test(tc, sampler_process_exit_ends_cleanly);
	tcase_add_test(tc, sampler_series_pointer_stays_valid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sampler_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
