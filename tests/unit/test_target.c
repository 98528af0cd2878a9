// SPDX-License-Identifier: Apache-2.0
/* Launched targets: exit status and log, exec failures, readiness checks,
 * graceful and forced stop. Real processes, no mocks. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

static char dir[64];
static char log_path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fg-target-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(log_path, sizeof(log_path), "%s/target.log", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void spec_sh(struct target_spec *s, char **argv)
{
	memset(s, 0, sizeof(*s));
	s->mode = TARGET_COMMAND;
	s->argv = argv;
	while (argv[s->argc])
		s->argc++;
	s->stop_grace_ns = 1000000000;
}

static int launch(struct target_spec *s, struct target **t, struct fg_error *e)
{
	struct target_launch_opts o = { .log_path = log_path };

	return target_launch(s, &o, t, e);
}

/* Wait up to 5 s for the target to exit. */
static int wait_exit(struct target *t)
{
	for (int i = 0; i < 500; i++) {
		int r = target_poll(t);

		if (r != 0)
			return r;
		usleep(10000);
	}
	return 0;
}

static char *read_log(char *buf, size_t size)
{
	FILE *f = fopen(log_path, "re");
	size_t n = 0;

	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Wait until the log contains @word (the target is past its set-up). */
static void wait_log(const char *word)
{
	char buf[4096];

	for (int i = 0; i < 500; i++) {
		if (strstr(read_log(buf, sizeof(buf)), word))
			return;
		usleep(10000);
	}
	ck_abort_msg("'%s' never appeared in the target log", word);
}

START_TEST(target_exit_status_and_log)
{
	char *argv[] = { "/bin/sh", "-c", "echo hello; echo oops >&2; exit 3", NULL };
	struct target_spec s;
	struct target *t = NULL;
	struct fg_error e = { 0 };
	char buf[4096], what[64];

	spec_sh(&s, argv);
	ck_assert_int_eq(launch(&s, &t, &e), 0);
	ck_assert_int_gt(target_pid(t), 0);
	ck_assert_int_eq(target_listener(t), -1);
	ck_assert_int_eq(wait_exit(t), 1);
	ck_assert(WIFEXITED(target_exit_status(t)));
	ck_assert_int_eq(WEXITSTATUS(target_exit_status(t)), 3);
	ck_assert_str_eq(target_describe_exit(target_exit_status(t), what, sizeof(what)),
			 "exited with code 3");
	ck_assert_ptr_nonnull(strstr(read_log(buf, sizeof(buf)), "hello"));
	ck_assert_str_eq(target_log_tail(log_path, 1, buf, sizeof(buf)), "oops");
	ck_assert_str_eq(target_log_tail(log_path, 5, buf, sizeof(buf)), "hello\noops");
	ck_assert_int_eq(target_stop(t, 0), 0);
	target_free(t);
}
END_TEST

START_TEST(target_env_and_cwd)
{
	char *argv[] = { "/bin/sh", "-c", "echo \"var=$FG_TEST_VAR\"; pwd", NULL };
	char *env[] = { "FG_TEST_VAR=xyz", NULL };
	struct target_spec s;
	struct target *t = NULL;
	struct fg_error e = { 0 };
	char buf[4096], want[96];

	spec_sh(&s, argv);
	s.env = env;
	s.n_env = 1;
	s.cwd = dir;
	setenv("FG_TEST_VAR", "overridden", 1);
	ck_assert_int_eq(launch(&s, &t, &e), 0);
	ck_assert_int_eq(wait_exit(t), 1);
	read_log(buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "var=xyz\n"));
	snprintf(want, sizeof(want), "%s\n", dir);
	ck_assert_ptr_nonnull(strstr(buf, want));
	target_free(t);
}
END_TEST

START_TEST(target_exec_missing)
{
	char *argv[] = { "/nonexistent/fg-missing", NULL };
	struct target_spec s;
	struct target *t = NULL;
	struct fg_error e = { 0 };

	spec_sh(&s, argv);
	ck_assert_int_eq(launch(&s, &t, &e), -ENOENT);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(e.err, ENOENT);
	ck_assert_str_eq(e.msg,
			 "cannot execute '/nonexistent/fg-missing': No such file or directory");
}
END_TEST

START_TEST(target_bad_cwd)
{
	char *argv[] = { "/bin/true", NULL };
	struct target_spec s;
	struct target *t = NULL;
	struct fg_error e = { 0 };

	spec_sh(&s, argv);
	s.cwd = "/nonexistent-dir";
	ck_assert_int_eq(launch(&s, &t, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "'/nonexistent-dir'"));
}
END_TEST

/* A listening socket on an ephemeral port of 127.0.0.1; @listen_too false
 * leaves it bound only, so connects are refused. */
static int tcp_socket(uint16_t *port, int listen_too)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	if (listen_too)
		ck_assert_int_eq(listen(fd, 4), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

START_TEST(target_ready_tcp)
{
	char *argv[] = { "/bin/sleep", "30", NULL };
	struct target_spec s;
	struct target *t = NULL;
	struct fg_error e = { 0 };
	uint16_t port;
	int fd = tcp_socket(&port, 1);
	char what[64];

	spec_sh(&s, argv);
	s.ready.kind = READY_TCP;
	s.ready.tcp_host = "127.0.0.1";
	s.ready.tcp_port = port;
	s.ready.timeout_ns = 2000000000;
	ck_assert_int_eq(launch(&s, &t, &e), 0);
	ck_assert_int_eq(target_wait_ready(t, &s.ready, &e), 0);
	ck_assert_int_eq(target_stop(t, 1000000000), 0);
	ck_assert_str_eq(target_describe_exit(target_exit_status(t), what, sizeof(what)),
			 "killed by signal 15 (SIGTERM)");
	target_free(t);
	close(fd);
}
END_TEST

START_TEST(target_ready_timeout)
{
	char *argv[] = { "/bin/sleep", "30", NULL };
	struct target_spec s;
	struct target *t = NULL;
	struct fg_error e = { 0 };
	uint16_t port;
	int fd = tcp_socket(&port, 0);
	int64_t t0;

	spec_sh(&s, argv);
	s.ready.kind = READY_TCP;
	s.ready.tcp_host = "127.0.0.1";
	s.ready.tcp_port = port;
	s.ready.timeout_ns = 300000000;
	ck_assert_int_eq(launch(&s, &t, &e), 0);
	t0 = now_ns();
	ck_assert_int_eq(target_wait_ready(t, &s.ready, &e), -ETIMEDOUT);
	ck_assert_int_ge(now_ns() - t0, 300000000);
	ck_assert_int_lt(now_ns() - t0, 1000000000);
	ck_assert_ptr_nonnull(strstr(e.msg, "127.0.0.1:"));
	target_free(t);
	close(fd);
}
END_TEST

START_TEST(target_ready_exited)
{
	char *argv[] = { "/bin/sh", "-c", "exit 2", NULL };
	struct target_spec s;
	struct target *t = NULL;
	struct fg_error e = { 0 };

	spec_sh(&s, argv);
	s.ready.kind = READY_AFTER;
	s.ready.after_ns = 3000000000LL;
	ck_assert_int_eq(launch(&s, &t, &e), 0);
	ck_assert_int_eq(target_wait_ready(t, &s.ready, &e), -ECHILD);
	ck_assert_str_eq(e.msg, "target exited with code 2 before it was ready");
	target_free(t);
}
END_TEST

START_TEST(target_stop_grace_kills)
{
	char *argv[] = { "/bin/sh", "-c",
			 "trap '' TERM; echo ready; while :; do sleep 0.05; done", NULL };
	struct target_spec s;
	struct target *t = NULL;
	struct fg_error e = { 0 };
	char what[64];
	int64_t t0, took;
	pid_t pid;

	spec_sh(&s, argv);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ck_assert_int_eq(launch(&s, &t, &e), 0);
	pid = target_pid(t);
	wait_log("ready");
	t0 = now_ns();
	ck_assert_int_eq(target_stop(t, 300000000), 0);
	took = now_ns() - t0;
	ck_assert_int_ge(took, 300000000);
	ck_assert_int_lt(took, 1000000000);
	ck_assert_str_eq(target_describe_exit(target_exit_status(t), what, sizeof(what)),
			 "killed by signal 9 (SIGKILL)");
	target_free(t);
	/* Neither the shell nor its sleeping child is left. */
	ck_assert_int_eq(kill(pid, 0), -1);
	/* Orphans come to us (subreaper): reap them, zombies answer kill(). */
	for (int i = 0; i < 100 && kill(-pid, 0) == 0; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(10000);
	}
	ck_assert_int_eq(kill(-pid, 0), -1);
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

START_TEST(target_launcher_lost)
{
	char *argv[] = { "/bin/sleep", "30", NULL };
	struct target_spec s;
	struct target *t = NULL;
	struct fg_error e = { 0 };
	pid_t pid;
	int r = 0;

	spec_sh(&s, argv);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ck_assert_int_eq(launch(&s, &t, &e), 0);
	pid = target_pid(t);
	ck_assert_int_eq(kill(ppid_of(pid), SIGKILL), 0);
	for (int i = 0; i < 100 && r == 0; i++) {
		r = target_poll(t);
		usleep(10000);
	}
	ck_assert_int_lt(r, 0);
	for (int i = 0; i < 100 && kill(pid, 0) == 0; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(10000);
	}
	ck_assert_int_eq(kill(pid, 0), -1);
	target_free(t);
}
END_TEST

START_TEST(target_describe)
{
	char buf[64];

	ck_assert_str_eq(target_describe_exit(0, buf, sizeof(buf)), "exited with code 0");
	ck_assert_str_eq(target_describe_exit(2 << 8, buf, sizeof(buf)), "exited with code 2");
	ck_assert_str_eq(target_describe_exit(SIGKILL, buf, sizeof(buf)),
			 "killed by signal 9 (SIGKILL)");
	ck_assert_str_eq(target_log_tail("/nonexistent/log", 3, buf, sizeof(buf)), "");
}
END_TEST

static Suite *target_suite(void)
{
	Suite *s = suite_create("target");
	TCase *tc = tcase_create("target");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, target_exit_status_and_log);
	tcase_add_test(tc, target_env_and_cwd);
	tcase_add_test(tc, target_exec_missing);
	tcase_add_test(tc, target_bad_cwd);
	tcase_add_test(tc, target_ready_tcp);
	tcase_add_test(tc, target_ready_timeout);
	tcase_add_test(tc, target_ready_exited);
	tcase_add_test(tc, target_stop_grace_kills);
	tcase_add_test(tc, target_launcher_lost);
	tcase_add_test(tc, target_describe);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(target_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
