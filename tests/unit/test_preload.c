// SPDX-License-Identifier: Apache-2.0
/* The LD_PRELOAD shim driven through its control block directly: the C
 * victim cfile (plain and fortified) under the shim with nothing armed,
 * with a bad block, with io-error and slow-io armed, and with a fault
 * flipped on and off live. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "fault.h"

#define SHIM FG_BINARY_DIR "/lib/libfaultgate-preload.so"
#define VICTIM FG_BINARY_DIR "/victims/cfile"
#define VICTIM_FORTIFY FG_BINARY_DIR "/victims/cfile-fortify"

static char dir[64];
static char data_path[128];
static char block_path[128];
static struct fg_ctl *ctl;

static void setup(void)
{
	FILE *f;
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/fg-preload-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(data_path, sizeof(data_path), "%s/data.txt", dir);
	f = fopen(data_path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 100; i++)
		fprintf(f, "line %02d of the victim's data file\n", i);
	fclose(f);
	snprintf(block_path, sizeof(block_path), "%s/block", dir);
	fd = open(block_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, sizeof(struct fg_ctl)), 0);
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(ctl, MAP_FAILED);
	close(fd);
	ctl->magic = FG_CTL_MAGIC;
	ctl->version = FG_CTL_VERSION;
	ctl->size = sizeof(struct fg_ctl);
	ctl->seed = 42;
}

static void teardown(void)
{
	char cmd[160];

	munmap(ctl, sizeof(*ctl));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

/* Slot 0 as an io fault on files with all selectors open. */
static struct fg_ctl_fault *slot0(enum fault_kind kind)
{
	struct fg_ctl_fault *f = &ctl->faults[0];

	ctl->n_faults = 1;
	f->kind = kind;
	f->syscalls = FAULT_SYS_READ;
	f->fds = FAULT_FDS_FILES;
	f->probability_ppm = 1000000;
	f->err = EIO;
	return f;
}

static void arm(struct fg_ctl_fault *f, bool on)
{
	atomic_store(&f->armed, on);
	atomic_store(&ctl->any_armed, on);
}

enum shim_mode { NO_SHIM, SHIM_NO_BLOCK, SHIM_BLOCK };

/* Run @argv with its stdout (and stderr) in @out / @err; waits when @wait. */
static pid_t run(char *const argv[], enum shim_mode mode, const char *out, const char *err,
		 bool wait)
{
	char pre[256], ctl_env[192];
	char *envp[] = { pre, ctl_env, "FAULTGATE_SHIM_LOG=warn", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", mode == NO_SHIM ? "" : SHIM);
	snprintf(ctl_env, sizeof(ctl_env), "%s=%s", FG_CTL_ENV,
		 mode == SHIM_BLOCK ? block_path : "");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	if (!wait)
		return pid;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return pid;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Output of cfile -check under @mode, into a static buffer of @slot. */
static const char *check_output(const char *victim, enum shim_mode mode, int slot)
{
	static char outs[4][4096];
	char *argv[] = { (char *)victim, "-check", data_path, NULL };
	char out[160], err[160];

	snprintf(out, sizeof(out), "%s/out%d", dir, slot);
	snprintf(err, sizeof(err), "%s/err%d", dir, slot);
	run(argv, mode, out, err, true);
	snprintf(outs[slot], sizeof(outs[slot]), "%s", slurp(out));
	return outs[slot];
}

static const char *victims[] = { VICTIM, VICTIM_FORTIFY };

START_TEST(preload_idle_identical)
{
	const char *v = victims[_i];
	const char *plain = check_output(v, NO_SHIM, 0);

	ck_assert_ptr_nonnull(strstr(plain, "read-badfd -1 EBADF"));
	ck_assert_ptr_nonnull(strstr(plain, "read-dir -1 EISDIR"));
	ck_assert_ptr_nonnull(strstr(plain, "errno-kept 1 ERANGE"));
	ck_assert_str_eq(check_output(v, SHIM_NO_BLOCK, 1), plain);
	slot0(FAULT_IO_ERROR);
	ck_assert_str_eq(check_output(v, SHIM_BLOCK, 2), plain);
	ck_assert_uint_ne(atomic_load(&ctl->shim_pid), 0);
	ck_assert_uint_eq(atomic_load(&ctl->faults[0].seen), 0);
}
END_TEST

START_TEST(preload_bad_block_inert)
{
	const char *plain = check_output(VICTIM, NO_SHIM, 0);
	char err[160];

	slot0(FAULT_IO_ERROR);
	arm(&ctl->faults[0], true);
	ctl->version = FG_CTL_VERSION + 1;
	ck_assert_str_eq(check_output(VICTIM, SHIM_BLOCK, 1), plain);
	snprintf(err, sizeof(err), "%s/err1", dir);
	ck_assert_ptr_nonnull(strstr(slurp(err), "shim inert"));
	ck_assert_uint_eq(atomic_load(&ctl->shim_pid), 0);
}
END_TEST

START_TEST(preload_io_error_errno)
{
	struct fg_ctl_fault *f = slot0(FAULT_IO_ERROR);
	const char *out;

	f->err = EACCES;
	arm(f, true);
	out = check_output(victims[_i], SHIM_BLOCK, 0);
	ck_assert_ptr_nonnull(strstr(out, "read -1 EACCES"));
	ck_assert_ptr_nonnull(strstr(out, "fread -1 EACCES"));
	/* fds: files leaves the real errors of other calls alone */
	ck_assert_ptr_nonnull(strstr(out, "read-badfd -1 EBADF"));
	ck_assert_uint_ge(atomic_load(&f->failed), 2);
}
END_TEST

START_TEST(preload_selectors_miss)
{
	struct fg_ctl_fault *f = slot0(FAULT_IO_ERROR);
	const char *plain = check_output(VICTIM, NO_SHIM, 0);

	snprintf(f->paths[0], sizeof(f->paths[0]), "*/not-this-file");
	f->n_paths = 1;
	arm(f, true);
	ck_assert_str_eq(check_output(VICTIM, SHIM_BLOCK, 1), plain);
	f->n_paths = 0;
	f->fds = FAULT_FDS_SOCKETS;
	ck_assert_str_eq(check_output(VICTIM, SHIM_BLOCK, 2), plain);
	f->fds = FAULT_FDS_FILES;
	f->syscalls = FAULT_SYS_WRITE;
	ck_assert_str_eq(check_output(VICTIM, SHIM_BLOCK, 3), plain);
	f->syscalls = FAULT_SYS_READ;
	snprintf(f->paths[0], sizeof(f->paths[0]), "*/data.txt");
	f->n_paths = 1;
	ck_assert_ptr_nonnull(strstr(check_output(VICTIM, SHIM_BLOCK, 3), "read -1 EIO"));
}
END_TEST

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One round of read + fread meets 4 delays: data and EOF for each. */
START_TEST(preload_slow_io_delays)
{
	struct fg_ctl_fault *f = slot0(FAULT_SLOW_IO);
	char *argv[] = { (char *)victims[_i], "-loop", data_path, "0", "1", NULL };
	char out[160], err[160];
	long long t0, t1;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	f->delay_ns = 40 * 1000000LL;
	arm(f, true);
	run(argv, SHIM_BLOCK, out, err, true);
	ck_assert_int_eq(sscanf(slurp(out), "%lld %lld", &t0, &t1), 2);
	ck_assert_int_ge(t1 - t0, 4 * 40 * 1000000LL);
	ck_assert_uint_ge(atomic_load(&f->delayed), 4);
	ck_assert_uint_ge(atomic_load(&f->delay_total_ns), 4 * 40 * 1000000ULL);
}
END_TEST

/* Three windows of 300 ms; rounds wholly inside fail, rounds wholly
 * outside (20 ms margins) succeed. */
START_TEST(preload_live_flip)
{
	struct fg_ctl_fault *f = slot0(FAULT_IO_ERROR);
	char *argv[] = { VICTIM, "-loop", data_path, "5", "400", NULL };
	const long long ms = 1000000LL, margin = 20 * ms;
	long long on[3], off[3];
	char out[160], err[160], *line, *save = NULL;
	int in_ok = 0, out_ok = 0, st;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	pid = run(argv, SHIM_BLOCK, out, err, false);
	for (int w = 0; w < 3; w++) {
		usleep(300000);
		on[w] = mono_ns();
		arm(f, true);
		usleep(300000);
		arm(f, false);
		off[w] = mono_ns();
	}
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	for (line = strtok_r(slurp(out), "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long long a, b;
		char e1[16], e2[16];
		int where = 0;	/* 1 inside a window, -1 outside all, 0 at an edge */

		ck_assert_int_eq(sscanf(line, "%lld %lld %15s %15s", &a, &b, e1, e2), 4);
		if (a < on[0] - margin || b > off[2] + margin)
			continue;
		where = -1;
		for (int w = 0; w < 3; w++) {
			if (a >= on[w] + margin && b <= off[w] - margin)
				where = 1;
			if (b > on[w] - margin && a < off[w] + margin && where != 1)
				where = 0;
		}
		if (where == 1) {
			ck_assert_msg(!strcmp(e1, "EIO") && !strcmp(e2, "EIO"), "inside: %s", line);
			in_ok++;
		} else if (where == -1) {
			ck_assert_msg(!strcmp(e1, "0") && !strcmp(e2, "0"), "outside: %s", line);
			out_ok++;
		}
	}
	ck_assert_int_ge(in_ok, 30);
	ck_assert_int_ge(out_ok, 20);
}
END_TEST

static Suite *preload_suite(void)
{
	Suite *s = suite_create("preload");
	TCase *tc = tcase_create("shim");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, preload_idle_identical, 0, 2);
	tcase_add_test(tc, preload_bad_block_inert);
	tcase_add_loop_test(tc, preload_io_error_errno, 0, 2);
	tcase_add_test(tc, preload_selectors_miss);
	tcase_add_loop_test(tc, preload_slow_io_delays, 0, 2);
	tcase_add_test(tc, preload_live_flip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (access(SHIM, R_OK) < 0 || access(VICTIM, X_OK) < 0) {
		printf("# test_preload: skipped: %s or %s is not built\n", SHIM, VICTIM);
		return 77;
	}
	sr = srunner_create(preload_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
