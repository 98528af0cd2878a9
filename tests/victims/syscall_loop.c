/* SPDX-License-Identifier: Apache-2.0 */
/* syscall_loop: the workload of bench/. It makes one kind of syscall many
 * times and prints one stable line with what it measured.
 *
 *   syscall_loop [-r REPS] [-c CPU] [-H] zero N
 *	N 1-byte reads of /dev/zero per repetition, after a warm-up; prints
 *	the best and the median ns per call over REPS repetitions.
 *   syscall_loop [-c CPU] [-g GAP_US] [-H] file PATH N
 *	N 1-byte preads of PATH at offset 0, each timed on its own, with an
 *	optional pause between them; prints latency quantiles in us. Under a
 *	delay fault this is the achieved delay per call.
 *
 * -H holds after printing until SIGTERM or SIGINT, so the loop can be the
 * target of a playbook, whose baseline must not see it exit. -s MS waits
 * before the loop, so a tracer can attach to a process already running. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The value at quantile @q of the sorted array @v: the smallest sample with
 * at least q*n samples at or below it. */
static int64_t quantile(const int64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n + 0.999999);

	if (i == 0)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

/* One repetition: ns per read over @n reads, or -errno on a failed read. */
static int64_t zero_round(int fd, long n)
{
	char c;
	int64_t t0 = now_ns();

	for (long i = 0; i < n; i++) {
		if (read(fd, &c, 1) != 1)
			return -errno;
	}
	return (now_ns() - t0) / n;
}

static int run_zero(long n, long reps)
{
	int64_t *per = calloc((size_t)reps, sizeof(*per));
	int64_t r;
	int fd;

	if (!per)
		return -ENOMEM;
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(per);
		return -errno;
	}
	r = zero_round(fd, n / 10 + 1); /* warm-up: caches, branch predictors */
	for (long i = 0; r >= 0 && i < reps; i++) {
		r = zero_round(fd, n);
		per[i] = r;
	}
	close(fd);
	if (r < 0) {
		free(per);
		return (int)r;
	}
	qsort(per, (size_t)reps, sizeof(*per), cmp_i64);
	printf("zero reads=%ld reps=%ld best_ns=%" PRId64 " median_ns=%" PRId64 "\n", n, reps,
	       per[0], per[reps / 2]);
	free(per);
	return 0;
}

static int run_file(const char *path, long n, long gap_us)
{
	struct timespec gap = {gap_us / 1000000, (gap_us % 1000000) * 1000};
	int64_t *lat = calloc((size_t)n, sizeof(*lat));
	int64_t sum = 0;
	char c;
	int fd;

	if (!lat)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(lat);
		return -errno;
	}
	for (long i = 0; i < n; i++) {
		int64_t t0 = now_ns();
		ssize_t got = pread(fd, &c, 1, 0);

		lat[i] = now_ns() - t0;
		if (got != 1) {
			int err = got < 0 ? errno : EIO;

			fprintf(stderr, "syscall_loop: pread %s #%ld: %s\n", path, i,
				strerror(err));
			close(fd);
			free(lat);
			return -err;
		}
		sum += lat[i];
		if (gap_us > 0)
			nanosleep(&gap, NULL);
	}
	close(fd);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	printf("file reads=%ld p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f\n", n,
	       quantile(lat, (size_t)n, 0.50) / 1e3, quantile(lat, (size_t)n, 0.90) / 1e3,
	       quantile(lat, (size_t)n, 0.99) / 1e3, lat[n - 1] / 1e3, (double)sum / n / 1e3);
	free(lat);
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: syscall_loop [-r REPS] [-c CPU] [-s MS] [-H] zero N\n"
	      "       syscall_loop [-c CPU] [-g GAP_US] [-s MS] [-H] file PATH N\n",
	      f);
}

int main(int argc, char **argv)
{
	long reps = 5, cpu = -1, gap_us = 0, start_ms = 0, n;
	struct sigaction sa = {.sa_handler = on_stop};
	bool hold = false;
	int opt, r;

	while ((opt = getopt(argc, argv, "r:c:g:s:Hh")) != -1) {
		switch (opt) {
		case 'r':
			r = parse_long(optarg, 1, 1000, &reps);
			break;
		case 'c':
			r = parse_long(optarg, 0, CPU_SETSIZE - 1, &cpu);
			break;
		case 'g':
			r = parse_long(optarg, 0, 10000000, &gap_us);
			break;
		case 's':
			r = parse_long(optarg, 0, 600000, &start_ms);
			break;
		case 'H':
			hold = true;
			r = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (r < 0) {
			fprintf(stderr, "syscall_loop: bad value for -%c: %s\n", opt, optarg);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			fprintf(stderr, "syscall_loop: cpu %ld: %s\n", cpu, strerror(errno));
	}

	if (start_ms) {
		struct timespec ts = { start_ms / 1000, (start_ms % 1000) * 1000000 };

		nanosleep(&ts, NULL);
	}
	if (argc == 2 && !strcmp(argv[0], "zero") && parse_long(argv[1], 1, 1000000000, &n) == 0) {
		r = run_zero(n, reps);
	} else if (argc == 3 && !strcmp(argv[0], "file") &&
		   parse_long(argv[2], 1, 10000000, &n) == 0) {
		r = run_file(argv[1], n, gap_us);
	} else {
		usage(stderr);
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "syscall_loop: %s\n", strerror(-r));
		return 1;
	}
	fflush(stdout);
	while (hold && !stop_requested)
		pause();
	return 0;
}
