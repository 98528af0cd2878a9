// SPDX-License-Identifier: Apache-2.0
/* Victim: every 20 ms, append a line to DIR/rwcheck.data, read it back and
 * read /dev/zero, checking every result. On SIGTERM it writes "ok N" or
 * "fail: SYSCALL ERRNO" to STATUS and exits 0 when all succeeded, else 3.
 * Usage: rwcheck DIR STATUS */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static char failure[64];

static void on_term(int sig)
{
	stop = 1;
}

/* Remember the first failure only; @n is the result, @want the size. */
static int check(const char *what, ssize_t n, size_t want)
{
	if (n == (ssize_t)want)
		return 0;
	if (!failure[0]) {
		if (n < 0)
			snprintf(failure, sizeof(failure), "%s %d", what, errno);
		else
			snprintf(failure, sizeof(failure), "%s short %zd/%zu", what, n, want);
	}
	return -1;
}

static int round_trip(int data, int zero, unsigned long i, off_t *off)
{
	char line[64], back[64], z[256];
	int len = snprintf(line, sizeof(line), "rwcheck line %lu\n", i);

	if (check("write", write(data, line, len), len) < 0)
		return -1;
	if (check("pread", pread(data, back, len, *off), len) < 0)
		return -1;
	if (memcmp(line, back, len)) {
		snprintf(failure, sizeof(failure), "pread mismatch");
		return -1;
	}
	*off += len;
	memset(z, 1, sizeof(z));
	if (check("read", read(zero, z, sizeof(z)), sizeof(z)) < 0)
		return -1;
	for (size_t k = 0; k < sizeof(z); k++) {
		if (z[k]) {
			snprintf(failure, sizeof(failure), "read mismatch");
			return -1;
		}
	}
	return 0;
}

static int write_status(const char *path, unsigned long rounds)
{
	char text[96];
	int fd, len;

	if (failure[0])
		len = snprintf(text, sizeof(text), "fail: %s\n", failure);
	else
		len = snprintf(text, sizeof(text), "ok %lu\n", rounds);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, text, len) != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int main(int argc, char **argv)
{
	/* SA_RESTART as signal() gives: a trapped syscall whose notification
	 * has not been received yet is interrupted by a signal, and restarts
	 * only with it. */
	struct sigaction sa = { .sa_handler = on_term, .sa_flags = SA_RESTART };
	struct timespec tick = { .tv_nsec = 20 * 1000000 };
	char path[4096];
	unsigned long rounds = 0;
	off_t off = 0;
	int data, zero;

	if (argc != 3) {
		fprintf(stderr, "usage: rwcheck DIR STATUS\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	snprintf(path, sizeof(path), "%s/rwcheck.data", argv[1]);
	data = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (data < 0 || zero < 0) {
		perror("rwcheck: open");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		if (round_trip(data, zero, rounds, &off) < 0)
			break;
		rounds++;
		nanosleep(&tick, NULL);
	}
	while (!stop)
		nanosleep(&tick, NULL);
	if (write_status(argv[2], rounds) < 0)
		return 4;
	return failure[0] ? 3 : 0;
}
