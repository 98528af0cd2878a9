// SPDX-License-Identifier: Apache-2.0
/* ptrace on single threads of another process: pre-flight checks, seize and
 * stop one thread, run one syscall inside it, put it back as it was. Every
 * wait names the thread and passes __WNOTHREAD, so several tracer threads of
 * the runner never take each other's stops. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "tracee.h"
#include "units.h"

#define CAP_SYS_PTRACE_BIT 19
#define SCAN_CHUNK (64 * 1024)
#define WAIT_POLL_NS (50 * FG_NSEC_PER_USEC)

/* The fields of /proc/PID/status the checks need. */
struct proc_status {
	pid_t tracer;
	unsigned uid[4];	/* real, effective, saved, fs */
	unsigned gid[4];
	unsigned long long cap_eff;
	char name[32];
};

static int read_status(const char *path, struct proc_status *ret)
{
	fg_autofclose FILE *f = NULL;
	char line[256];

	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(ret, 0, sizeof(*ret));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Name:\t%31s", ret->name) == 1)
			continue;
		if (sscanf(line, "TracerPid:\t%d", &ret->tracer) == 1)
			continue;
		if (sscanf(line, "Uid:\t%u\t%u\t%u\t%u", &ret->uid[0], &ret->uid[1], &ret->uid[2],
			   &ret->uid[3]) == 4)
			continue;
		if (sscanf(line, "Gid:\t%u\t%u\t%u\t%u", &ret->gid[0], &ret->gid[1], &ret->gid[2],
			   &ret->gid[3]) == 4)
			continue;
		(void)sscanf(line, "CapEff:\t%llx", &ret->cap_eff);
	}
	return 0;
}

/* The kernel lets a tracer without CAP_SYS_PTRACE in only when the target's
 * real, effective and saved ids all equal the tracer's. */
static bool same_ids(const struct proc_status *me, const struct proc_status *t)
{
	for (int i = 0; i < 3; i++)
		if (t->uid[i] != me->uid[3] || t->gid[i] != me->gid[3])
			return false;
	return true;
}

int tracee_check_attachable(pid_t pid, char *why, size_t why_size)
{
	struct proc_status me, t;
	struct stat mine, theirs;
	char path[64];
	int r;

	if (pid <= 0) {
		snprintf(why, why_size, "pid %d is not a valid process id", (int)pid);
		return -ESRCH;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = read_status(path, &t);
	if (r < 0) {
		snprintf(why, why_size, "no process with pid %d", (int)pid);
		return -ESRCH;
	}
	if (t.tracer != 0) {
		struct proc_status tr;
		char tpath[64];

		snprintf(tpath, sizeof(tpath), "/proc/%d/status", (int)t.tracer);
		if (read_status(tpath, &tr) < 0)
			snprintf(tr.name, sizeof(tr.name), "?");
		snprintf(why, why_size,
			 "pid %d ('%s') is already traced by pid %d ('%s'); only one tracer "
			 "at a time", (int)pid, t.name, (int)t.tracer, tr.name);
		return -EBUSY;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (stat(path, &theirs) == 0 && stat("/proc/self/ns/user", &mine) == 0 &&
	    (theirs.st_ino != mine.st_ino || theirs.st_dev != mine.st_dev)) {
		snprintf(why, why_size,
			 "pid %d ('%s') lives in another user namespace; run faultgate in "
			 "that namespace", (int)pid, t.name);
		return -EPERM;
	}
	r = read_status("/proc/self/status", &me);
	if (r < 0) {
		snprintf(why, why_size, "cannot read /proc/self/status: %s", strerror(-r));
		return -EPERM;
	}
	if (!(me.cap_eff & (1ULL << CAP_SYS_PTRACE_BIT)) && !same_ids(&me, &t)) {
		snprintf(why, why_size,
			 "missing CAP_SYS_PTRACE: pid %d ('%s') runs as uid %u, faultgate as "
			 "uid %u", (int)pid, t.name, t.uid[1], me.uid[1]);
		return -EPERM;
	}
	if (why_size)
		why[0] = '\0';
	return 0;
}

/* One stop of @tid: waits at most until @deadline (monotonic ns; < 0 = no
 * limit). Return: 0 with *status, -ESRCH, -ETIMEDOUT, -errno. */
static int wait_tid(pid_t tid, int64_t deadline, int *status)
{
	struct timespec nap = {0, WAIT_POLL_NS};
	pid_t w;

	for (;;) {
		w = waitpid(tid, status, __WALL | __WNOTHREAD | (deadline < 0 ? 0 : WNOHANG));
		if (w == tid)
			break;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == ECHILD ? -ESRCH : -errno;
		if (fg_now_ns() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status))
		return -ESRCH;
	return 0;
}

static bool is_event_stop(int status)
{
	return (status >> 16) == PTRACE_EVENT_STOP;
}

/* Keep the first signal for the release; pass any later one through now. */
static int hold_signal(int sig, int *pending)
{
	if (!*pending) {
		*pending = sig;
		return 0;
	}
	return sig == *pending ? 0 : sig;
}

int tracee_seize_stop(pid_t tid, int64_t timeout_ns, int *ret_pending_sig)
{
	int64_t deadline = fg_now_ns() + timeout_ns;
	int pending = 0, status, r;

	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		r = -errno;
		goto fail;
	}
	for (;;) {
		r = wait_tid(tid, deadline, &status);
		if (r < 0)
			goto fail;
		if (is_event_stop(status))
			break;
		/* A signal-delivery-stop before ours: hold it back. Any
		 * ptrace stop may have cleared our request: ask again. */
		if (ptrace(PTRACE_CONT, tid, 0, hold_signal(WSTOPSIG(status), &pending)) < 0 ||
		    ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
			r = -errno;
			goto fail;
		}
	}
	*ret_pending_sig = pending;
	return 0;

fail:
	/* Seized but not stopped (timeout), or gone: leave it as it was. The
	 * interrupt is still queued, so its stop comes soon; detach then. */
	if (r == -ETIMEDOUT) {
		if (wait_tid(tid, fg_now_ns() + 2 * FG_NSEC_PER_SEC, &status) == 0)
			(void)ptrace(PTRACE_DETACH, tid, 0,
				     is_event_stop(status) ? pending : WSTOPSIG(status));
	} else if (r == -ESRCH) {
		(void)waitpid(tid, &status, __WALL | __WNOTHREAD | WNOHANG);
	}
	return r;
}

int tracee_release(pid_t tid, int sig)
{
	int status;

	if (ptrace(PTRACE_DETACH, tid, 0, sig) == 0)
		return 0;
	/* Gone: reap the traced thread so its real parent hears of its end. */
	for (int i = 0; i < 100; i++) {
		pid_t w = waitpid(tid, &status, __WALL | __WNOTHREAD | WNOHANG);

		if (w == tid && (WIFEXITED(status) || WIFSIGNALED(status)))
			break;
		if (w < 0 && errno != EINTR)
			break;
		if (w == tid && WIFSTOPPED(status)) {
			if (ptrace(PTRACE_DETACH, tid, 0, sig) == 0)
				return 0;
			continue;
		}
		usleep(1000);
	}
	return -ESRCH;
}

int tracee_getregs(pid_t tid, struct user_regs_struct *ret)
{
	if (ptrace(PTRACE_GETREGS, tid, 0, ret) < 0)
		return -errno;
	return 0;
}

int tracee_setregs(pid_t tid, const struct user_regs_struct *regs)
{
	if (ptrace(PTRACE_SETREGS, tid, 0, regs) < 0)
		return -errno;
	return 0;
}

int tracee_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	ssize_t n;

	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int tracee_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {(void *)buf, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	ssize_t n;

	n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* The first 0f 05 in [@from, @to) of @pid. */
static int scan_range(pid_t pid, uint64_t from, uint64_t to, uint64_t *ret)
{
	fg_autofree unsigned char *buf = malloc(SCAN_CHUNK + 1);

	if (!buf)
		return -ENOMEM;
	for (uint64_t a = from; a < to; a += SCAN_CHUNK) {
		size_t len = to - a < SCAN_CHUNK + 1 ? to - a : SCAN_CHUNK + 1;

		if (tracee_read(pid, a, buf, len) < 0)
			return -ENOENT;
		for (size_t k = 0; k + 1 < len; k++) {
			if (buf[k] == 0x0f && buf[k + 1] == 0x05) {
				*ret = a + k;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int tracee_syscall_insn(pid_t pid, pid_t tid, const struct user_regs_struct *regs,
			uint64_t *ret_addr)
{
	fg_autofclose FILE *f = NULL;
	unsigned char insn[2];
	char path[64], line[512];

	(void)tid;
	if ((int64_t)regs->orig_rax >= 0 && regs->rip >= 2 &&
	    tracee_read(pid, regs->rip - 2, insn, 2) == 0 && insn[0] == 0x0f && insn[1] == 0x05) {
		*ret_addr = regs->rip - 2;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long from, to;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s", &from, &to, perms) != 3)
			continue;
		if (perms[0] != 'r' || perms[2] != 'x')
			continue;
		if (scan_range(pid, from, to, ret_addr) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Single-step @tid until the step's SIGTRAP; other stops are held or
 * stepped over. */
static int step_once(pid_t tid, int *pending)
{
	int sig = 0, status, r;

	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, tid, 0, sig) < 0)
			return errno == ESRCH ? -ESRCH : -EIO;
		r = wait_tid(tid, -1, &status);
		if (r < 0)
			return r;
		sig = 0;
		if (is_event_stop(status))
			continue;
		if (WSTOPSIG(status) == SIGTRAP)
			return 0;
		sig = hold_signal(WSTOPSIG(status), pending);
	}
}

int tracee_inject_syscall(pid_t pid, pid_t tid, long nr, const long args[6], long *ret,
			  int *pending_sig)
{
	struct user_regs_struct saved, regs;
	uint64_t insn;
	int r;

	r = tracee_getregs(tid, &saved);
	if (r < 0)
		return r == -ESRCH ? -ESRCH : -EIO;
	r = tracee_syscall_insn(pid, tid, &saved, &insn);
	if (r < 0)
		return -EIO;

	regs = saved;
	regs.rax = (unsigned long long)nr;
	regs.rdi = (unsigned long long)args[0];
	regs.rsi = (unsigned long long)args[1];
	regs.rdx = (unsigned long long)args[2];
	regs.r10 = (unsigned long long)args[3];
	regs.r8 = (unsigned long long)args[4];
	regs.r9 = (unsigned long long)args[5];
	regs.rip = insn;
	/* No restart logic may rewrite rip while our registers are in. */
	regs.orig_rax = (unsigned long long)-1;
	r = tracee_setregs(tid, &regs);
	if (r < 0)
		goto out_restore;

	r = step_once(tid, pending_sig);
	if (r < 0)
		goto out_restore;
	r = tracee_getregs(tid, &regs);
	if (r < 0)
		goto out_restore;
	if (regs.rip != insn + 2) {
		r = -EIO;
		goto out_restore;
	}
	*ret = (long)regs.rax;

out_restore:
	/* The saved orig_rax and -ERESTART* rax make an interrupted syscall
	 * restart when the thread resumes. */
	if (tracee_setregs(tid, &saved) < 0)
		return -ESRCH;
	if (r < 0)
		return r == -ESRCH ? -ESRCH : -EIO;
	return 0;
}
