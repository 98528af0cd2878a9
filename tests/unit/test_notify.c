// SPDX-License-Identifier: Apache-2.0
/* The seccomp supervisor and the keeper, against real filters and real
 * processes. The victim of most tests is this program itself, re-executed
 * with "victim" as its first argument; it prints per-fd-kind timings.
 * "test_notify bench" prints costs and delay precision (not a test). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"
#include "target.h"

#define MS 1000000LL
#define RWCHECK FG_BINARY_DIR "/victims/rwcheck"

static char dir[64];
static char log_path[128];
static char self[4096];

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- victim side --------------------------------------------------- */

struct acc {
	const char *name;
	int ok, eio, other;
	int64_t *us;
	int n;
};

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void acc_add(struct acc *a, ssize_t r, int64_t t0)
{
	a->us[a->n++] = (now_ns() - t0) / 1000;
	if (r == 1)
		a->ok++;
	else if (r < 0 && errno == EIO)
		a->eio++;
	else
		a->other++;
}

static void acc_print(struct acc *a)
{
	qsort(a->us, a->n, sizeof(*a->us), cmp64);
	printf("%s n=%d ok=%d eio=%d other=%d min_us=%lld med_us=%lld p99_us=%lld max_us=%lld\n",
	       a->name, a->n, a->ok, a->eio, a->other, (long long)a->us[0],
	       (long long)a->us[a->n / 2], (long long)a->us[a->n * 99 / 100],
	       (long long)a->us[a->n - 1]);
}

/* victim DIR N: N rounds of 1-byte reads from a file in DIR, a pipe and a
 * socket, each timed. */
static int victim(const char *vdir, int n)
{
	struct acc acc[3] = { { .name = "file" }, { .name = "pipe" }, { .name = "sock" } };
	char path[4096], c;
	int fd, p[2], s[2];

	snprintf(path, sizeof(path), "%s/victim.data", vdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "0123456789", 10) != 10 || pipe2(p, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) < 0)
		return 2;
	for (int k = 0; k < 3; k++)
		acc[k].us = calloc(n, sizeof(int64_t));
	for (int i = 0; i < n; i++) {
		int64_t t0 = now_ns();

		acc_add(&acc[0], pread(fd, &c, 1, 0), t0);
		if (write(p[1], "x", 1) != 1 || write(s[1], "x", 1) != 1)
			return 2;
		t0 = now_ns();
		acc_add(&acc[1], read(p[0], &c, 1), t0);
		t0 = now_ns();
		acc_add(&acc[2], read(s[0], &c, 1), t0);
	}
	for (int k = 0; k < 3; k++)
		acc_print(&acc[k]);
	return 0;
}

/* loop N: N 1-byte reads of /dev/zero; prints the cost per call. */
static int victim_loop(int n)
{
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	int64_t t0 = now_ns();
	char c;

	for (int i = 0; i < n; i++)
		if (read(fd, &c, 1) != 1)
			return 2;
	printf("loop ns_per_read=%lld\n", (long long)((now_ns() - t0) / n));
	return 0;
}

/* ---- runner side --------------------------------------------------- */

struct victim_stats {
	int n, ok, eio, other;
	long long min_us, med_us, p99_us, max_us;
};

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fg-notify-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(log_path, sizeof(log_path), "%s/target.log", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

static int parse_stats(const char *name, struct victim_stats *st)
{
	FILE *f = fopen(log_path, "re");
	size_t len = strlen(name);
	int found = 0;
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, len) || line[len] != ' ')
			continue;
		if (sscanf(line + len,
			   " n=%d ok=%d eio=%d other=%d min_us=%lld med_us=%lld p99_us=%lld "
			   "max_us=%lld", &st->n, &st->ok, &st->eio, &st->other, &st->min_us,
			   &st->med_us, &st->p99_us, &st->max_us) == 8)
			found = 1;
	}
	if (f)
		fclose(f);
	return found;
}

struct run {
	struct fault_spec f;	/* followed by f2 when n_faults is 2 */
	struct fault_spec f2;
	size_t n_faults;
	enum fault_backend backend;
	enum fault_backend backends[2];
	char *paths[2];
	struct notify_shared *shared;
	struct target *t;
	struct notify *n;
	void *prog;
	bool no_filter;		/* bench baseline */
};

static void run_init(struct run *r, enum fault_kind kind, unsigned syscalls,
		     enum fault_fds fds, int64_t delay_ns)
{
	static char glob[128];

	memset(r, 0, sizeof(*r));
	fault_spec_init(&r->f, kind);
	r->f.backend = r->backend = FAULT_BACKEND_SECCOMP;
	r->backends[0] = r->backends[1] = FAULT_BACKEND_SECCOMP;
	r->n_faults = 1;
	r->f.syscalls = syscalls;
	r->f.fds = fds;
	r->f.delay_ns = delay_ns;
	if (fds == FAULT_FDS_FILES) {
		snprintf(glob, sizeof(glob), "%s/*", dir);
		r->paths[0] = glob;
		r->f.paths = r->paths;
		r->f.n_paths = 1;
	}
}

/* Launch @argv under the filter of @r's fault and start the supervisor. */
static void run_start(struct run *r, char **argv)
{
	struct target_spec spec = { .mode = TARGET_COMMAND, .argv = argv };
	struct target_launch_opts o = { .log_path = log_path };
	struct fg_error e = { 0 };

	spec.stop_grace_ns = 2000 * MS;
	r->shared = notify_shared_create();
	ck_assert_ptr_nonnull(r->shared);
	if (r->no_filter) {
		ck_assert_int_eq(target_launch(&spec, &o, &r->t, &e), 0);
		return;
	}
	if (r->n_faults == 2) {
		struct fault_spec *both = calloc(2, sizeof(*both));

		/* The supervisor keeps the array: it must outlive the run. */
		ck_assert_ptr_nonnull(both);
		both[0] = r->f;
		both[1] = r->f2;
		ck_assert_int_eq(notify_build_filter(both, r->backends, 2, &r->prog), 0);
		o.filter = r->prog;
		o.shared = r->shared;
		ck_assert_msg(target_launch(&spec, &o, &r->t, &e) == 0, "launch: %s", e.msg);
		ck_assert_int_eq(notify_start(target_listener(r->t), target_pid(r->t), both,
					      r->backends, 2, now_ns(), 60000 * MS, 42,
					      r->shared, &r->n), 0);
		return;
	}
	ck_assert_int_eq(notify_build_filter(&r->f, &r->backend, 1, &r->prog), 0);
	o.filter = r->prog;
	o.shared = r->shared;
	ck_assert_msg(target_launch(&spec, &o, &r->t, &e) == 0, "launch: %s", e.msg);
	ck_assert_int_ge(target_listener(r->t), 0);
	ck_assert_int_eq(notify_start(target_listener(r->t), target_pid(r->t), &r->f,
				      &r->backend, 1, now_ns(), 60000 * MS, 42, r->shared,
				      &r->n), 0);
}

static int run_wait(struct run *r, int64_t timeout_ns)
{
	int64_t end = now_ns() + timeout_ns;

	while (now_ns() < end) {
		int p = target_poll(r->t);

		if (p != 0)
			return p;
		usleep(5000);
	}
	return 0;
}

static void run_end(struct run *r, struct notify_fault_counters *c)
{
	notify_counters(r->n, 0, c);
	if (r->n_faults == 2)
		notify_counters(r->n, 1, &c[1]);
	notify_stop(r->n);
	r->n = notify_free(r->n);
	r->t = target_free(r->t);
	notify_free_filter(r->prog);
	notify_shared_free(r->shared);
}

static void run_victim(struct run *r, int rounds, struct notify_fault_counters *c)
{
	char nbuf[16];
	char *argv[] = { self, "victim", dir, nbuf, NULL };

	snprintf(nbuf, sizeof(nbuf), "%d", rounds);
	run_start(r, argv);
	ck_assert_int_eq(run_wait(r, 30000 * MS), 1);
	ck_assert_int_eq(target_exit_status(r->t), 0);
	run_end(r, c);
}

START_TEST(notify_filter_needs_a_fault)
{
	struct fault_spec f;
	enum fault_backend b = FAULT_BACKEND_PRELOAD;
	void *prog = (void *)1;

	fault_spec_init(&f, FAULT_SLOW_IO);
	ck_assert_int_eq(notify_build_filter(&f, &b, 1, &prog), -ENOENT);
	ck_assert_ptr_null(prog);
	b = FAULT_BACKEND_SECCOMP;
	ck_assert_int_eq(notify_build_filter(&f, &b, 1, &prog), 0);
	ck_assert_int_gt(((struct sock_fprog *)prog)->len, 4);
	notify_free_filter(prog);
}
END_TEST

START_TEST(notify_slow_file_reads)
{
	struct run r;
	struct notify_fault_counters c;
	struct victim_stats file, pipe_st, sock;

	run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_FILES, 100 * MS);
	run_victim(&r, 5, &c);
	ck_assert(parse_stats("file", &file));
	ck_assert(parse_stats("pipe", &pipe_st));
	ck_assert(parse_stats("sock", &sock));
	ck_assert_int_eq(file.ok, 5);
	ck_assert_int_ge(file.min_us, 100000);
	ck_assert_int_lt(file.med_us, 150000);
	ck_assert_int_lt(pipe_st.max_us, 20000);
	ck_assert_int_lt(sock.max_us, 20000);
	ck_assert_uint_eq(c.seen, 5);
	ck_assert_uint_eq(c.delayed, 5);
	ck_assert_uint_eq(c.failed, 0);
	ck_assert_int_eq(c.delay_total_ns, 500 * MS);
}
END_TEST

START_TEST(notify_slow_socket_reads)
{
	struct run r;
	struct notify_fault_counters c;
	struct victim_stats file, pipe_st, sock;

	run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_SOCKETS, 50 * MS);
	run_victim(&r, 4, &c);
	ck_assert(parse_stats("file", &file));
	ck_assert(parse_stats("pipe", &pipe_st));
	ck_assert(parse_stats("sock", &sock));
	ck_assert_int_ge(sock.min_us, 50000);
	ck_assert_int_lt(file.max_us, 20000);
	ck_assert_int_lt(pipe_st.max_us, 20000);
	ck_assert_uint_eq(c.delayed, 4);
}
END_TEST

START_TEST(notify_io_error_probability)
{
	struct run r;
	struct notify_fault_counters c;
	struct victim_stats file, pipe_st;

	run_init(&r, FAULT_IO_ERROR, FAULT_SYS_READ, FAULT_FDS_FILES, -1);
	r.f.err = EIO;
	r.f.probability = 0.3;
	run_victim(&r, 1000, &c);
	ck_assert(parse_stats("file", &file));
	ck_assert(parse_stats("pipe", &pipe_st));
	ck_assert_int_eq(file.other, 0);
	ck_assert_int_gt(file.eio, 240);
	ck_assert_int_lt(file.eio, 360);
	ck_assert_int_eq(file.eio + file.ok, 1000);
	ck_assert_int_eq(pipe_st.ok, 1000);
	ck_assert_uint_eq(c.seen, 1000);
	ck_assert_uint_eq(c.failed, (uint64_t)file.eio);
	ck_assert_uint_eq(c.delayed, 0);
}
END_TEST

/* Two faults on the same reads act independently: delays add up, and an
 * io-error that fires wins over a delay. */
START_TEST(notify_overlapping_faults)
{
	struct run r;
	struct notify_fault_counters c[2];
	struct victim_stats file;

	run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_FILES, 40 * MS);
	r.f2 = r.f;
	r.f2.delay_ns = 60 * MS;
	r.n_faults = 2;
	run_victim(&r, 4, c);
	ck_assert(parse_stats("file", &file));
	ck_assert_int_eq(file.ok, 4);
	ck_assert_int_ge(file.min_us, 100000);
	ck_assert_uint_eq(c[0].delayed, 4);
	ck_assert_uint_eq(c[1].delayed, 4);
	ck_assert_int_eq(c[1].delay_total_ns, 240 * MS);

	run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_FILES, 40 * MS);
	r.f2 = r.f;
	r.f2.kind = FAULT_IO_ERROR;
	r.f2.err = ENOSPC;
	r.n_faults = 2;
	run_victim(&r, 4, c);
	ck_assert(parse_stats("file", &file));
	ck_assert_int_eq(file.ok, 0);
	ck_assert_int_lt(file.max_us, 30000);
	ck_assert_uint_eq(c[0].seen, 4);
	ck_assert_uint_eq(c[0].delayed, 0);
	ck_assert_uint_eq(c[1].failed, 4);
}
END_TEST

START_TEST(notify_outside_window)
{
	struct run r;
	struct notify_fault_counters c;
	struct victim_stats file;

	run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_ANY, 100 * MS);
	r.f.at_ns = 30000 * MS;
	run_victim(&r, 20, &c);
	ck_assert(parse_stats("file", &file));
	ck_assert_int_lt(file.max_us, 20000);
	ck_assert_uint_eq(c.seen, 0);
}
END_TEST

START_TEST(notify_disarm_releases)
{
	struct run r;
	struct notify_fault_counters c;
	struct victim_stats file;
	char *argv[] = { self, "victim", dir, "3", NULL };
	int64_t t0;

	run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_FILES, 5000 * MS);
	run_start(&r, argv);
	t0 = now_ns();
	usleep(300000);
	notify_disarm(r.n);
	ck_assert_int_eq(run_wait(&r, 2000 * MS), 1);
	ck_assert_int_lt(now_ns() - t0, 1500 * MS);
	run_end(&r, &c);
	ck_assert(parse_stats("file", &file));
	ck_assert_int_eq(file.ok, 3);
	ck_assert_uint_eq(c.delayed, 1);
}
END_TEST

static pid_t ppid_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %d", &ppid);
	fclose(f);
	return ppid;
}

static bool any_held(struct notify_shared *s)
{
	for (size_t i = 0; i < NOTIFY_SHARED_SLOTS; i++)
		if (atomic_load(&s->inflight[i]))
			return true;
	return false;
}

/* The runner, in a child: launch rwcheck under a 2 s read delay, supervise,
 * tell the test the target's pid, then wait to be killed. */
static __attribute__((noreturn)) void play_runner(struct notify_shared *shared, int out)
{
	struct run r;
	char status[128];
	char *argv[] = { RWCHECK, dir, status, NULL };
	struct target_spec spec = { .mode = TARGET_COMMAND, .argv = argv };
	struct target_launch_opts o = { .log_path = log_path, .shared = shared };
	struct fg_error e = { 0 };
	pid_t pid;

	snprintf(status, sizeof(status), "%s/status", dir);
	run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_FILES, 2000 * MS);
	spec.stop_grace_ns = 3000 * MS;
	if (notify_build_filter(&r.f, &r.backend, 1, &r.prog) < 0)
		_exit(1);
	o.filter = r.prog;
	if (target_launch(&spec, &o, &r.t, &e) < 0)
		_exit(2);
	if (notify_start(target_listener(r.t), target_pid(r.t), &r.f, &r.backend, 1, now_ns(),
			 60000 * MS, 1, shared, &r.n) < 0)
		_exit(3);
	pid = target_pid(r.t);
	if (write(out, &pid, sizeof(pid)) != sizeof(pid))
		_exit(4);
	for (;;)
		pause();
}

START_TEST(notify_keeper_takes_over)
{
	struct notify_shared *shared = notify_shared_create();
	char buf[4096], path[128];
	pid_t runner, target, launcher, w;
	int p[2], status, lstatus = -1;
	int64_t killed_at, end;
	FILE *f;

	ck_assert_ptr_nonnull(shared);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	runner = fork();
	ck_assert_int_ge(runner, 0);
	if (runner == 0)
		play_runner(shared, p[1]);
	ck_assert_int_eq(read(p[0], &target, sizeof(target)), sizeof(target));
	launcher = ppid_of(target);
	ck_assert_int_gt(launcher, 0);

	/* Kill the runner while it holds a read in its 2 s delay. */
	end = now_ns() + 5000 * MS;
	while (!any_held(shared) && now_ns() < end)
		usleep(5000);
	ck_assert_msg(any_held(shared), "no read was ever held");
	usleep(300000);
	ck_assert(any_held(shared));
	kill(runner, SIGKILL);
	killed_at = now_ns();
	ck_assert_int_eq(waitpid(runner, &status, 0), runner);

	/* The launcher, now ours, must stop the target and exit by itself. */
	end = now_ns() + 10000 * MS;
	while (now_ns() < end) {
		w = waitpid(-1, &status, WNOHANG);
		if (w == launcher)
			lstatus = status;
		if (w <= 0 && lstatus >= 0)
			break;
		if (w <= 0)
			usleep(10000);
	}
	ck_assert_msg(lstatus >= 0, "the keeper did not exit");
	ck_assert(WIFEXITED(lstatus) && WEXITSTATUS(lstatus) == 0);
	ck_assert_int_lt(now_ns() - killed_at, 1500 * MS);
	ck_assert_int_eq(kill(target, 0), -1);
	ck_assert_int_eq(kill(launcher, 0), -1);

	snprintf(path, sizeof(path), "%s/status", dir);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_msg(!strncmp(buf, "ok ", 3), "rwcheck says '%s'", buf);

	f = fopen(log_path, "re");
	ck_assert_ptr_nonnull(f);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "ready\n"));
	ck_assert_msg(strstr(buf, "faultgate keeper: runner") && strstr(buf, "exited with code 0"),
		      "log: %s", buf);
	ck_assert_ptr_null(strstr(buf, "answered 0 held"));
	notify_shared_free(shared);
}
END_TEST

/* ---- bench (manual) ------------------------------------------------ */

static void bench_one(const char *what, struct run *r, char **argv, const char *stat)
{
	struct notify_fault_counters c;
	struct victim_stats st;
	char buf[512];

	run_start(r, argv);
	run_wait(r, 60000 * MS);
	run_end(r, &c);
	if (stat && parse_stats(stat, &st))
		printf("%-28s n=%d min=%.3fms med=%.3fms p99=%.3fms max=%.3fms\n", what, st.n,
		       st.min_us / 1e3, st.med_us / 1e3, st.p99_us / 1e3, st.max_us / 1e3);
	else
		printf("%-28s %s\n", what, target_log_tail(log_path, 1, buf, sizeof(buf)));
}

START_TEST(notify_bench)
{
	char *loop[] = { self, "loop", "200000", NULL };
	char *vict[] = { self, "victim", dir, "200", NULL };
	static const int64_t delays[] = { 1, 10, 50 };
	static const char *const rounds[] = { "300", "100", "40" };
	struct run r;
	char what[64];

	setup();
	fflush(stdout);
	for (int k = 0; k < 3; k++) {
		run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_FILES, 1 * MS);
		r.no_filter = true;
		bench_one("no filter", &r, loop, NULL);
	}
	for (int k = 0; k < 3; k++) {
		run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_FILES, 1 * MS);
		r.f.at_ns = 3600000 * MS;
		bench_one("trapped, outside window", &r, loop, NULL);
	}
	for (int k = 0; k < 3; k++) {
		run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_FILES, 1 * MS);
		bench_one("trapped, in window, no match", &r, loop, NULL);
	}
	for (int k = 0; k < 3; k++) {
		run_init(&r, FAULT_SLOW_IO, FAULT_SYS_READ, FAULT_FDS_FILES, delays[k] * MS);
		vict[3] = (char *)rounds[k];
		snprintf(what, sizeof(what), "delay %lld ms", (long long)delays[k]);
		bench_one(what, &r, vict, "file");
	}
	teardown();
}
END_TEST

/* Whether this kernel lets us create a listener. */
static int probe_user_notif(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(notify_load_filter(&prog) >= 0 ? 0 : 1);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static Suite *notify_suite(bool with_bench)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	if (with_bench) {
		tcase_set_timeout(tc, 300);
		tcase_add_test(tc, notify_bench);
		suite_add_tcase(s, tc);
		return s;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, notify_filter_needs_a_fault);
	tcase_add_test(tc, notify_slow_file_reads);
	tcase_add_test(tc, notify_slow_socket_reads);
	tcase_add_test(tc, notify_io_error_probability);
	tcase_add_test(tc, notify_overlapping_faults);
	tcase_add_test(tc, notify_outside_window);
	tcase_add_test(tc, notify_disarm_releases);
	tcase_add_test(tc, notify_keeper_takes_over);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;
	ssize_t n;

	if (argc == 4 && !strcmp(argv[1], "victim"))
		return victim(argv[2], (int)strtol(argv[3], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "loop"))
		return victim_loop((int)strtol(argv[2], NULL, 10));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = '\0';
	if (!probe_user_notif()) {
		printf("# seccomp user notification is not available here\n");
		return 77;
	}
	sr = srunner_create(notify_suite(argc == 2 && !strcmp(argv[1], "bench")));
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
