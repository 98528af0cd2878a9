// SPDX-License-Identifier: Apache-2.0
/* bench_preload: the idle cost of an LD_PRELOAD wrapper on a libc call that
 * makes no syscall. N calls of fwrite(1 byte) into a fully buffered stream
 * on /dev/null whose buffer is larger than N, so no call reaches the
 * kernel; prints the best and the median ns per call over REPS repetitions.
 *   bench_preload [-r REPS] N
 *   bench_preload -mkblock PATH    write a valid control block, nothing armed */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int mkblock(const char *path)
{
	static struct fg_ctl ctl = {
		.magic = FG_CTL_MAGIC,
		.version = FG_CTL_VERSION,
		.size = sizeof(struct fg_ctl),
	};
	FILE *f = fopen(path, "we");

	if (!f || fwrite(&ctl, sizeof(ctl), 1, f) != 1 || fclose(f) != 0) {
		perror("bench_preload: control block");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long reps = 7, n;
	double per[64];
	char *buf;
	FILE *fp;

	if (argc == 3 && !strcmp(argv[1], "-mkblock"))
		return mkblock(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "-r")) {
		reps = strtol(argv[2], NULL, 10);
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || reps < 1 || reps > 64 || (n = strtol(argv[1], NULL, 10)) < 1) {
		fprintf(stderr, "usage: bench_preload [-r REPS] N\n");
		return 2;
	}
	fp = fopen("/dev/null", "we");
	buf = malloc((size_t)n + 4096);
	if (!fp || !buf || setvbuf(fp, buf, _IOFBF, (size_t)n + 4096) != 0) {
		perror("bench_preload: /dev/null");
		return 1;
	}
	for (long i = 0; i < n / 10; i++)	/* warm-up: page in the buffer */
		fwrite("x", 1, 1, fp);
	fflush(fp);
	for (long r = 0; r < reps; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++)
			fwrite("x", 1, 1, fp);
		per[r] = (double)(now_ns() - t0) / (double)n;
		fflush(fp);
	}
	qsort(per, (size_t)reps, sizeof(per[0]), cmp_double);
	printf("fwrite n=%ld reps=%ld best_ns=%.2f median_ns=%.2f\n", n, reps, per[0],
	       per[reps / 2]);
	fclose(fp);
	free(buf);
	return 0;
}
