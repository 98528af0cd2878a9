// SPDX-License-Identifier: Apache-2.0
/* bench_ptrace: what the tracee helpers cost on a 50-thread process.
 *   inject: seize + stop one idle thread, inject mmap(4 MiB, populated)
 *           and munmap, detach; ROUNDS times, a different thread each time
 *   stop:   seize + stop a thread spinning in user code, detach (the stop
 *           latency of a freeze)
 * Prints one markdown table row per measurement: p50 and max in us.
 * Usage: bench_ptrace [ROUNDS] */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracee.h"
#include "units.h"

#define THREADS 50

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int report_fd;

static void *spin(void *arg)
{
	volatile unsigned long *n = arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	(void)!write(report_fd, &tid, sizeof(tid));
	for (;;)
		(*n)++;
	return NULL;
}

static pid_t victim(int fds[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		static unsigned long counter;
		pthread_t t;

		report_fd = fds[1];
		for (int k = 2; k < THREADS; k++)
			pthread_create(&t, NULL, idle, NULL);
		pthread_create(&t, NULL, spin, &counter);
		for (;;)
			pause();
	}
	return pid;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void row(const char *what, int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("| %s | %d | %.0f | %.0f |\n", what, n, (double)v[n / 2] / 1e3,
	       (double)v[n - 1] / 1e3);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20;
	int64_t *inj, *stop;
	pid_t pid, spinner, *tids = NULL;
	int fds[2], n = 0, got = 0, nt = 0;

	if (rounds < 1 || pipe(fds) < 0)
		return 2;
	inj = calloc((size_t)rounds, sizeof(*inj));
	stop = calloc((size_t)rounds, sizeof(*stop));
	pid = victim(fds);
	if (pid < 0 || !inj || !stop || read(fds[0], &spinner, sizeof(spinner)) != sizeof(spinner))
		return 2;
	usleep(200000);
	{
		char path[64];
		FILE *f;
		pid_t t;

		tids = calloc(THREADS + 1, sizeof(*tids));
		snprintf(path, sizeof(path), "/bin/ls /proc/%d/task", (int)pid);
		f = popen(path, "r");
		while (f && tids && nt < THREADS && fscanf(f, "%d", &t) == 1)
			if (t != pid && t != spinner)
				tids[1 + nt++ - 1] = t;
		if (f)
			pclose(f);
		if (nt < 2)
			return 2;
	}
	for (int r = 0; r < rounds; r++) {
		/* Every thread but the leader and the spinner sits in pause(). */
		pid_t tid = tids[1 + r % (nt - 1)];
		long a[6] = {0, 4 << 20, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0};
		long ret = 0, ign;
		int64_t t0 = fg_now_ns();
		int sig = 0;

		if (tracee_seize_stop(tid, FG_NSEC_PER_SEC, &sig) < 0)
			continue;
		if (tracee_inject_syscall(pid, tid, SYS_mmap, a, &ret, &sig) == 0) {
			long b[6] = {ret, 4 << 20, 0, 0, 0, 0};

			(void)tracee_inject_syscall(pid, tid, SYS_munmap, b, &ign, &sig);
		}
		(void)tracee_release(tid, sig);
		inj[n++] = fg_now_ns() - t0;
	}
	for (int r = 0; r < rounds; r++) {
		int64_t t0 = fg_now_ns();
		int sig = 0;

		if (tracee_seize_stop(spinner, FG_NSEC_PER_SEC, &sig) < 0)
			continue;
		stop[got++] = fg_now_ns() - t0;
		(void)tracee_release(spinner, sig);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("| measurement (%d threads) | rounds | p50 us | max us |\n|---|---|---|---|\n",
	       THREADS);
	if (n)
		row("seize + stop + mmap 4 MiB (MAP_POPULATE) + munmap + detach, idle thread", inj,
		    n);
	if (got)
		row("freeze stop latency: seize + interrupt until stopped, spinning thread", stop,
		    got);
	free(tids);
	free(inj);
	free(stop);
	return 0;
}
