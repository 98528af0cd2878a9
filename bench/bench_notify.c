/* SPDX-License-Identifier: Apache-2.0 */
/* bench_notify: run one command under the seccomp backend, exactly as the
 * runner would launch it, with one slow-io fault and nothing else around it
 * (no load, no sampler), so bench/run.sh can time the backend alone.
 *
 *   bench_notify [-t read|write] [-f any|files|sockets] [-d DELAY_US]
 *		  [-a] -- COMMAND [ARG...]
 *
 * -t  the syscall family the filter traps (default read).
 * -f  the fds selector of the fault (default any).
 * -d  the fault's delay in microseconds (default 1000).
 * -a  arm the fault window from the start; without it the window opens an
 *     hour from now, so every trapped syscall is answered at once and the
 *     run measures the cost of trapping alone.
 *
 * The command's output (target.log) is copied to stdout, followed by one
 * line with the fault's counters. Exit code: the command's, or 2 when the
 * bench could not run it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "notify.h"
#include "playbook.h"
#include "target.h"
#include "units.h"

struct bench_opts {
	unsigned family;
	enum fault_fds fds;
	int64_t delay_ns;
	bool armed;
	char **argv;
	size_t argc;
};

static void usage(FILE *f)
{
	fputs("usage: bench_notify [-t read|write] [-f any|files|sockets] [-d DELAY_US] [-a]\n"
	      "                    -- COMMAND [ARG...]\n",
	      f);
}

/* Return: <0 error, 0 exit successfully (help), >0 run. */
static int parse_argv(int argc, char **argv, struct bench_opts *o)
{
	long long v;
	int opt, r;

	*o = (struct bench_opts){
	    .family = FAULT_SYS_READ, .fds = FAULT_FDS_ANY, .delay_ns = FG_NSEC_PER_MSEC};
	while ((opt = getopt(argc, argv, "+t:f:d:ah")) != -1) {
		switch (opt) {
		case 't':
			if (!strcmp(optarg, "read"))
				o->family = FAULT_SYS_READ;
			else if (!strcmp(optarg, "write"))
				o->family = FAULT_SYS_WRITE;
			else
				goto bad;
			break;
		case 'f':
			r = fault_fds_from_name(optarg);
			if (r < 0)
				goto bad;
			o->fds = (enum fault_fds)r;
			break;
		case 'd':
			if (fg_parse_int(optarg, 0, 60LL * 1000 * 1000, &v) < 0)
				goto bad;
			o->delay_ns = v * FG_NSEC_PER_USEC;
			break;
		case 'a':
			o->armed = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return -EINVAL;
	}
	o->argv = argv + optind;
	o->argc = (size_t)(argc - optind);
	return 1;
bad:
	fprintf(stderr, "bench_notify: bad value for -%c: %s\n", opt, optarg);
	return -EINVAL;
}

static void copy_log(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
}

/* Launch, supervise until the command exits, print what it measured.
 * Return: the command's exit code, or 2. */
static int bench(const struct bench_opts *o, const char *log_path)
{
	enum fault_backend backend = FAULT_BACKEND_SECCOMP;
	struct target_spec spec = {.mode = TARGET_COMMAND};
	struct notify_fault_counters c;
	struct notify_shared *shared;
	struct target_launch_opts lo;
	struct fault_spec f;
	struct fg_error err = {0};
	struct notify *n = NULL;
	struct target *t = NULL;
	int64_t start_ns;
	void *prog = NULL;
	int r, status, rc = 2;

	fault_spec_init(&f, FAULT_SLOW_IO);
	f.backend = FAULT_BACKEND_SECCOMP;
	f.syscalls = o->family;
	f.fds = o->fds;
	f.delay_ns = o->delay_ns;

	r = notify_build_filter(&f, &backend, 1, &prog);
	if (r < 0) {
		fprintf(stderr, "bench_notify: building the filter: %s\n", strerror(-r));
		return 2;
	}
	shared = notify_shared_create();
	if (!shared) {
		fprintf(stderr, "bench_notify: shared block: %s\n", strerror(ENOMEM));
		goto out;
	}
	spec.argv = o->argv;
	spec.argc = o->argc;
	spec.stop_grace_ns = 2 * FG_NSEC_PER_SEC;
	lo = (struct target_launch_opts){.log_path = log_path, .filter = prog, .shared = shared};
	r = target_launch(&spec, &lo, &t, &err);
	if (r < 0) {
		fprintf(stderr, "bench_notify: launching %s: %s\n", o->argv[0],
			err.msg[0] ? err.msg : strerror(-r));
		goto out;
	}
	/* Unarmed: the window opens in an hour, long after the command ends. */
	start_ns = fg_now_ns() + (o->armed ? 0 : 3600 * FG_NSEC_PER_SEC);
	r = notify_start(target_listener(t), target_pid(t), &f, &backend, 1, start_ns,
			 3600 * FG_NSEC_PER_SEC, 1, shared, &n);
	if (r < 0) {
		fprintf(stderr, "bench_notify: supervisor: %s\n", strerror(-r));
		goto out;
	}
	while ((r = target_poll(t)) == 0)
		usleep(10 * 1000);
	notify_stop(n);
	notify_counters(n, 0, &c);
	status = target_exit_status(t);
	copy_log(log_path);
	printf("bench_notify: seen=%" PRIu64 " delayed=%" PRIu64 " delay_total_ms=%.3f\n", c.seen,
	       c.delayed, (double)c.delay_total_ns / 1e6);
	if (r < 0) {
		fprintf(stderr, "bench_notify: lost the launcher: %s\n", strerror(-r));
	} else if (WIFEXITED(status)) {
		rc = WEXITSTATUS(status);
	} else {
		char why[64];

		fprintf(stderr, "bench_notify: %s %s\n", o->argv[0],
			target_describe_exit(status, why, sizeof(why)));
	}
out:
	if (t)
		target_stop(t, 0);
	notify_free(n);
	target_free(t);
	notify_shared_free(shared);
	notify_free_filter(prog);
	return rc;
}

int main(int argc, char **argv)
{
	char log_path[] = "/tmp/fg-bench-notify.XXXXXX";
	struct bench_opts o;
	int r, fd;

	r = parse_argv(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	fd = mkstemp(log_path);
	if (fd < 0) {
		fprintf(stderr, "bench_notify: %s: %s\n", log_path, strerror(errno));
		return 2;
	}
	close(fd);
	r = bench(&o, log_path);
	unlink(log_path);
	return r;
}
