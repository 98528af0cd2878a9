// SPDX-License-Identifier: Apache-2.0
/* Victim for the shim's pthread_create hook: every 50 ms it starts a thread
 * that prints, as its very first action, the CPUs it may run on ("spawn
 * MS MASK", MS since start, MASK as hex), then lives 300 ms. A thread that
 * is pinned at creation shows the pinned mask here; one pinned later by a
 * rescan from outside does not. With -r the creating thread first widens
 * its own mask to every CPU, so a new thread cannot simply inherit a pin
 * set on its creator from outside. Runs until SIGTERM. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static struct timespec start;

static long ms_since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
}

static void *worker(void *arg)
{
	cpu_set_t set;
	unsigned long mask = 0;

	(void)arg;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < 64; c++)
			if (CPU_ISSET(c, &set))
				mask |= 1ul << c;
	printf("spawn %ld %lx\n", ms_since_start(), mask);
	fflush(stdout);
	usleep(300 * 1000);
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec step = { 0, 50 * 1000000L };
	int widen = argc > 1 && argv[1][0] == '-' && argv[1][1] == 'r';
	cpu_set_t all;

	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	CPU_ZERO(&all);
	for (int c = 0; c < (int)sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	for (;;) {
		pthread_t t;

		if (widen)
			(void)sched_setaffinity(0, sizeof(all), &all);
		if (pthread_create(&t, NULL, worker, NULL) == 0)
			pthread_detach(t);
		nanosleep(&step, NULL);
	}
}
