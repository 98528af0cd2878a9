// SPDX-License-Identifier: Apache-2.0
/* runtime.GOMAXPROCS(n) in a live Go process through debugCallV2. The parent
 * resolves everything from the binary, then forks a tracer child that runs
 * the state machine (seize every thread, find a safe point, arm, serve the
 * protocol stops, restore, detach) and sends back a result. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "gocall.h"
#include "goruntime.h"
#include "procfs.h"
#include "units.h"

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define MAX_THREADS 1024
#define MAX_TRIGGERS 32
#define TRIGGER_REFRESH_MS 50
#define STOP_WAIT_MS 1000
#define XSAVE_MAX 16384
#define FRAME_SIZE 32		/* selects debugCall32: func(int) int */
#define STACK_MARGIN 512
#define STEP_MAX 64
#define G_RUNNING 2
#define G_WAITING 4
#define ATTEMPTS_MAX 50
#define CHILD_GRACE_NS (2 * NS_PER_S)
#define TRACER_COMM "fg-rtcall"
#define OTHER_CALL_POLL_NS (20 * NS_PER_MS)

/* R12 at a protocol stop */
enum {
	PROTO_CALL = 0,
	PROTO_RESULT = 1,
	PROTO_PANIC = 2,
	PROTO_REFUSED = 8,
	PROTO_DONE = 16,
};

/* What the parent resolved, in run-time addresses. */
struct plan {
	pid_t pid;
	int n;
	int go_minor;
	int status_off, sched_bp_off;
	int64_t deadline;
	const struct goelf *elf;
	uint64_t bias;
	uint64_t fn_v2, fn_target, allgs;
	bool no_async_preempt;		/* GODEBUG=asyncpreemptoff=1 */
	pid_t caller;			/* the process that asked for the call */
};

struct thread {
	pid_t tid;
	bool gone;
};

struct tracer {
	const struct plan *p;
	struct thread t[MAX_THREADS];
	size_t n;
	int sfd;			/* signalfd for SIGCHLD */
	/* call state */
	bool armed, redirected, done, aborted;
	pid_t armed_tid;
	struct user_regs_struct saved;
	uint8_t xsave[XSAVE_MAX];
	size_t xsave_len;
	bool refused, panicked;
	/* temporary breakpoints; the list only grows during a call, so a
	 * trap at any address ever used is still recognised */
	uint64_t triggers[MAX_TRIGGERS];
	uint8_t trigger_orig[MAX_TRIGGERS];
	size_t n_triggers;
	bool triggers_in;
	int64_t triggers_picked;	/* when the list was last extended */
	pid_t trigger_hit;
	pid_t only_tid;			/* candidate must be this thread, if set */
	int end_status;			/* wait status of the leader's end, or -1 */
	bool job_stopped;		/* a thread was found in a group-stop */
	uint64_t passed_trap_rip;	/* last SIGTRAP handed to the target */
	struct gocall_result *res;
};

static const char *const denied_prefixes[] = {
	"runtime.", "runtime/", "internal/runtime/", "syscall.", "internal/syscall/",
	"golang.org/x/sys/unix.", "internal/poll.runtime_", "sync.runtime_",
	"sync/atomic.", "internal/bytealg.", "os/signal.signal_", "time.Sleep",
	"time.now", "reflect.", "debugCall", "_cgo_", "x_cgo_", "crosscall",
	"gosave", "gogo", "type..",
};

bool gocall_name_denied(const char *name)
{
	for (size_t i = 0; i < sizeof(denied_prefixes) / sizeof(denied_prefixes[0]); i++)
		if (strncmp(name, denied_prefixes[i], strlen(denied_prefixes[i])) == 0)
			return true;
	return false;
}

void gocall_restore_regs(const struct user_regs_struct *saved,
			 const struct user_regs_struct *now, struct user_regs_struct *ret)
{
	*ret = *saved;
	ret->fs_base = now->fs_base;
	ret->gs_base = now->gs_base;
	ret->fs = now->fs;
	ret->gs = now->gs;
}

static int rd(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	return goruntime_read(pid, addr, buf, len);
}

static int poke(pid_t tid, uint64_t addr, uint64_t v)
{
	return ptrace(PTRACE_POKEDATA, tid, (void *)addr, (void *)v) < 0 ? -errno : 0;
}

static int peek(pid_t tid, uint64_t addr, uint64_t *v)
{
	errno = 0;
	*v = (uint64_t)ptrace(PTRACE_PEEKDATA, tid, (void *)addr, NULL);
	return errno ? -errno : 0;
}

static int getregs(pid_t tid, struct user_regs_struct *r)
{
	return ptrace(PTRACE_GETREGS, tid, NULL, r) < 0 ? -errno : 0;
}

static int setregs(pid_t tid, const struct user_regs_struct *r)
{
	return ptrace(PTRACE_SETREGS, tid, NULL, r) < 0 ? -errno : 0;
}

static struct thread *find_thread(struct tracer *tr, pid_t tid)
{
	for (size_t i = 0; i < tr->n; i++)
		if (tr->t[i].tid == tid)
			return &tr->t[i];
	return NULL;
}

static int live_threads(const struct tracer *tr)
{
	int n = 0;

	for (size_t i = 0; i < tr->n; i++)
		n += !tr->t[i].gone;
	return n;
}

static void add_thread(struct tracer *tr, pid_t tid)
{
	struct thread *t = find_thread(tr, tid);

	if (t) {
		t->gone = false;
		return;
	}
	if (tr->n < MAX_THREADS) {
		tr->t[tr->n++] = (struct thread){ .tid = tid };
		return;
	}
	/* a service that keeps ending and starting threads */
	for (size_t i = 0; i < tr->n; i++) {
		if (tr->t[i].gone) {
			tr->t[i] = (struct thread){ .tid = tid };
			return;
		}
	}
}

/* /proc/@pid/task/@tid/status (@tid 0: the process's) into @buf.
 * Return: as fg_read_text(). */
static long task_status(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char path[64];

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return fg_read_text(path, buf, size);
}

/* The thread group (process) of thread @tid, or -1. */
static pid_t tgid_of(pid_t tid)
{
	char buf[2048];
	long long v;

	return task_status(tid, 0, buf, sizeof(buf)) >= 0 && fg_status_field(buf, "Tgid", &v)
		       ? (pid_t)v
		       : -1;
}

/* The tracer of thread @tid of @pid, 0 when none, -1 unknown. */
static pid_t thread_tracer(pid_t pid, pid_t tid)
{
	char buf[2048];
	long long v;

	return task_status(pid, tid, buf, sizeof(buf)) >= 0 &&
			       fg_status_field(buf, "TracerPid", &v)
		       ? (pid_t)v
		       : -1;
}

/* After a refused seize of @tid: whether it is traced by us already (a
 * thread cloned since the seize of its parent is attached by
 * PTRACE_O_TRACECLONE) or on its way out (a zombie cannot be seized). */
static bool thread_ours_or_ending(pid_t pid, pid_t tid)
{
	char buf[2048], *st;
	long long tp;

	if (task_status(pid, tid, buf, sizeof(buf)) < 0)
		return true;	/* gone */
	st = strstr(buf, "\nState:\t");
	if (st && (st[8] == 'Z' || st[8] == 'X'))
		return true;
	return fg_status_field(buf, "TracerPid", &tp) && (pid_t)tp == getpid();
}

/* Whether thread @tid is held, for now, by a thread of the process that
 * asked for the call (its ptrace engine injecting an mmap, say); waits a
 * little, within the call's deadline. */
static bool held_by_caller(struct tracer *tr, pid_t tid)
{
	struct timespec ts = { .tv_nsec = NS_PER_MS };
	pid_t tp = thread_tracer(tr->p->pid, tid);

	if (tp <= 0 || tgid_of(tp) != tr->p->caller || fg_now_ns() >= tr->p->deadline)
		return false;
	nanosleep(&ts, NULL);
	return true;
}

/* Seize every thread of the process; rescan until no new one appears.
 * Return: 0, -EPERM, -ESRCH, -EBUSY. */
static int seize_all(struct tracer *tr)
{
	char path[64];
	bool added = true;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)tr->p->pid);
	while (added) {
		struct dirent *de;
		DIR *d = opendir(path);

		if (!d)
			return -ESRCH;
		added = false;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);

			if (tid <= 0 || find_thread(tr, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, NULL,
				   (void *)(long)PTRACE_O_TRACECLONE) < 0) {
				int e = errno;

				if (e == ESRCH)
					continue;
				if (e == EPERM && thread_ours_or_ending(tr->p->pid, tid)) {
					/* a clone of a thread seized before us
					 * (traced already), or one exiting */
					add_thread(tr, tid);
					continue;
				}
				if (e == EPERM && held_by_caller(tr, tid)) {
					/* the caller's ptrace engine holds it for
					 * a moment: ask again */
					added = true;
					continue;
				}
				closedir(d);
				return -e;
			}
			add_thread(tr, tid);
			added = true;
		}
		closedir(d);
	}
	return tr->n ? 0 : -ESRCH;
}

/* Is this SIGTRAP stop one of debugCallV2's INT3s? Return the R12 code,
 * or -1. */
static int protocol_code(struct tracer *tr, pid_t tid, struct user_regs_struct *r)
{
	const struct goelf_func *f;
	uint64_t w;

	if (getregs(tid, r) < 0 || r->rip < tr->p->bias + 1)
		return -1;
	f = goelf_func_at(tr->p->elf, r->rip - 1 - tr->p->bias);
	if (!f || (strncmp(f->name, "runtime.debugCall", 17) != 0 &&
		   strncmp(f->name, "debugCall", 9) != 0))
		return -1;
	if (peek(tid, r->rip - 1, &w) < 0 || (w & 0xff) != 0xcc)
		return -1;
	return (int)r->r12;
}

static int trigger_index(const struct tracer *tr, uint64_t rip)
{
	for (size_t i = 0; i < tr->n_triggers; i++)
		if (tr->triggers[i] + 1 == rip)
			return (int)i;
	return -1;
}

/* One byte of text. ptrace writes whole words: the other seven bytes are
 * read just before, so a neighbouring breakpoint is never undone. */
static int put_byte(pid_t tid, uint64_t addr, uint8_t b)
{
	uint64_t w;
	int r = peek(tid, addr, &w);

	if (r < 0)
		return r;
	return poke(tid, addr, (w & ~0xffull) | b);
}

/* Write or remove every trigger INT3; @tid must be stopped. Writing is
 * idempotent, so triggers added since the last call are covered too. */
static int set_triggers(struct tracer *tr, pid_t tid, bool in)
{
	if (!in && !tr->triggers_in)
		return 0;
	for (size_t i = 0; i < tr->n_triggers; i++) {
		int r = put_byte(tid, tr->triggers[i], in ? 0xcc : tr->trigger_orig[i]);

		if (r < 0)
			return r;
	}
	tr->triggers_in = in;
	return 0;
}

static void on_protocol(struct tracer *tr, pid_t tid, int code, struct user_regs_struct *r);
static bool sigtrap_pending(pid_t pid, pid_t tid);

/* A SIGTRAP signal-delivery-stop. Return: the signal to pass on. */
static int on_sigtrap(struct tracer *tr, pid_t tid)
{
	struct user_regs_struct r;
	int code = protocol_code(tr, tid, &r);
	int k;

	if (code >= 0 && tr->armed) {
		on_protocol(tr, tid, code, &r);
		return -1;	/* on_protocol resumed it */
	}
	if (code >= 0)		/* a protocol INT3 outside a call: never Go's */
		return 0;
	k = trigger_index(tr, r.rip);
	if (k >= 0 && getregs(tid, &r) == 0) {
		/* One of our temporary breakpoints: take the first hit as the
		 * candidate, rewind the others past the removed INT3. */
		if (tr->triggers_in)
			(void)set_triggers(tr, tid, false);
		r.rip--;
		(void)setregs(tid, &r);
		if (!tr->trigger_hit && !tr->armed) {
			tr->trigger_hit = tid;
			return -2;	/* keep it stopped */
		}
		return 0;
	}
	tr->passed_trap_rip = r.rip;
	return SIGTRAP;
}

/* Service one wait status of @tid. Return: -2 when the thread was kept
 * stopped for the caller, 0 otherwise; -ESRCH when the process is gone. */
static int service(struct tracer *tr, pid_t tid, int st)
{
	int sig, ev, pass;

	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		struct thread *t = find_thread(tr, tid);

		if (t)
			t->gone = true;
		if (tid != tr->p->pid)
			return 0;
		tr->end_status = st;
		return -ESRCH;
	}
	if (!WIFSTOPPED(st))
		return 0;
	add_thread(tr, tid);
	sig = WSTOPSIG(st);
	ev = st >> 16;
	if (ev == PTRACE_EVENT_STOP) {
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			(void)ptrace(PTRACE_LISTEN, tid, NULL, NULL);
		else
			(void)ptrace(PTRACE_CONT, tid, NULL, NULL);
		return 0;
	}
	if (ev) {		/* clone event: the child reports on its own */
		(void)ptrace(PTRACE_CONT, tid, NULL, NULL);
		return 0;
	}
	pass = sig == SIGTRAP ? on_sigtrap(tr, tid) : sig;
	if (pass == -2)
		return -2;
	if (pass >= 0)
		(void)ptrace(PTRACE_CONT, tid, NULL, (void *)(long)pass);
	return 0;
}

/* Wait up to @ms for SIGCHLD, then service every pending stop. */
static int pump(struct tracer *tr, int ms)
{
	struct pollfd pfd = { .fd = tr->sfd, .events = POLLIN };
	struct signalfd_siginfo si;
	int st, r;
	pid_t tid;

	if (poll(&pfd, 1, ms) > 0)
		while (read(tr->sfd, &si, sizeof(si)) == sizeof(si))
			;
	while ((tid = waitpid(-1, &st, __WALL | WNOHANG)) > 0) {
		r = service(tr, tid, st);
		if (r == -ESRCH)
			return r;
	}
	return 0;
}

/* Wait for a state change of @tid until @until, without blocking the
 * tracer on a thread that does not report. Return: 0, -ETIMEDOUT, -ESRCH. */
static int wait_tid(struct tracer *tr, pid_t tid, int *st, int64_t until)
{
	struct pollfd pfd = { .fd = tr->sfd, .events = POLLIN };
	struct signalfd_siginfo si;

	for (;;) {
		pid_t w = waitpid(tid, st, __WALL | WNOHANG);
		int64_t left = until - fg_now_ns();

		if (w == tid)
			return 0;
		if (w < 0)
			return -ESRCH;
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(left / NS_PER_MS) + 1) > 0)
			while (read(tr->sfd, &si, sizeof(si)) == sizeof(si))
				;
	}
}

/* Stop @tid with PTRACE_INTERRUPT and wait for that stop, servicing what
 * arrives meanwhile. Return: 0 stopped; -ESRCH gone; -EAGAIN stopped by
 * job control (left so); -ETIMEDOUT no stop within STOP_WAIT_MS. */
static int interrupt(struct tracer *tr, pid_t tid)
{
	int64_t until = fg_now_ns() + STOP_WAIT_MS * NS_PER_MS;

	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
		return -ESRCH;
	for (;;) {
		int st, r = wait_tid(tr, tid, &st, until);

		if (r < 0)
			return r;
		if (WIFSTOPPED(st) && st >> 16 == PTRACE_EVENT_STOP && WSTOPSIG(st) != SIGTRAP) {
			/* group-stop: the process is stopped by job control;
			 * leave it so and do not use this thread */
			(void)ptrace(PTRACE_LISTEN, tid, NULL, NULL);
			tr->job_stopped = true;
			return -EAGAIN;
		}
		if (WIFSTOPPED(st) && st >> 16 == PTRACE_EVENT_STOP) {
			/* The kernel reports the interrupt before a pending
			 * signal. If the thread ran into a temporary INT3 just
			 * before, its registers point one byte past the trigger
			 * and the SIGTRAP is still queued: used as a candidate
			 * now, the call would return into the middle of an
			 * instruction and the trap would reach Go. Let the trap
			 * report first; service() rewinds it. */
			if (!tr->n_triggers || !sigtrap_pending(tr->p->pid, tid))
				return 0;
			(void)ptrace(PTRACE_CONT, tid, NULL, NULL);
			continue;
		}
		if (WIFSTOPPED(st) && st >> 16)
			return 0;	/* a clone event: stopped too */
		r = service(tr, tid, st);
		if (r == -2)
			return 0;
		if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		/* Every ptrace stop clears a pending interrupt request:
		 * ask again, or the thread may never stop. */
		if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
			return -ESRCH;
	}
}

/* The safe-point predicate of a stopped thread (go-runtime-injection §8 C). */
static bool candidate(struct tracer *tr, pid_t tid, struct user_regs_struct *r)
{
	const struct plan *p = tr->p;
	const struct goelf_func *f;
	uint64_t stk[2], goid;
	uint32_t status;

	if (getregs(tid, r) < 0 || (int64_t)r->orig_rax >= 0 || r->rip < p->bias ||
	    trigger_index(tr, r->rip) >= 0)
		return false;
	f = goelf_func_at(p->elf, r->rip - p->bias);
	if (!f || (f->flag & GOELF_FUNC_ASM) || gocall_name_denied(f->name))
		return false;
	if (!r->r14 || rd(p->pid, r->r14, stk, sizeof(stk)) < 0)
		return false;
	if (!(stk[0] < r->rsp && r->rsp <= stk[1]) || r->rsp - stk[0] < STACK_MARGIN)
		return false;
	if (rd(p->pid, r->r14 + (uint64_t)p->status_off, &status, sizeof(status)) < 0 ||
	    rd(p->pid, r->r14 + (uint64_t)p->status_off + 8, &goid, sizeof(goid)) < 0)
		return false;
	return status == G_RUNNING && goid > 0 && goid < (1ull << 40);
}

/* Redirect stopped @tid into debugCallV2. */
static int arm(struct tracer *tr, pid_t tid, const struct user_regs_struct *r)
{
	struct iovec iov = { .iov_base = tr->xsave, .iov_len = sizeof(tr->xsave) };
	struct user_regs_struct n = *r;
	int e;

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return -errno;
	tr->xsave_len = iov.iov_len;
	tr->saved = *r;
	n.rsp -= 8;
	e = poke(tid, n.rsp, r->rip);
	if (e == 0)
		e = poke(tid, n.rsp - 16, FRAME_SIZE);
	if (e < 0)
		return e;
	n.rip = tr->p->fn_v2;
	n.orig_rax = (unsigned long long)-1;
	e = setregs(tid, &n);
	if (e < 0)
		return e;
	tr->armed = true;
	tr->armed_tid = tid;
	tr->redirected = tr->done = tr->refused = tr->panicked = false;
	tr->res->attempts++;
	return 0;
}

/* After the 16 stop: registers back, step out of debugCallV2, registers
 * again (its epilogue rewrote the flags), vector state, held signals. */
static void finish(struct tracer *tr, pid_t tid, const struct user_regs_struct *now)
{
	struct iovec iov = { .iov_base = tr->xsave, .iov_len = tr->xsave_len };
	struct user_regs_struct r, cur = *now;
	int held[4], n_held = 0;

	gocall_restore_regs(&tr->saved, now, &r);
	r.rip = now->rip;
	r.rsp = now->rsp;
	(void)setregs(tid, &r);
	for (int i = 0; i < STEP_MAX; i++) {
		int st;

		if (cur.rip == tr->saved.rip && cur.rsp == tr->saved.rsp)
			break;
		if (ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) < 0)
			return;
		if (waitpid(tid, &st, __WALL) < 0 || !WIFSTOPPED(st))
			return;
		if (WSTOPSIG(st) != SIGTRAP && !(st >> 16) && n_held < 4)
			held[n_held++] = WSTOPSIG(st);
		if (getregs(tid, &cur) < 0)
			return;
	}
	gocall_restore_regs(&tr->saved, &cur, &r);
	(void)setregs(tid, &r);
	(void)ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov);
	if (tid != tr->armed_tid)
		tr->res->other_thread = true;
	(void)ptrace(PTRACE_CONT, tid, NULL, (void *)(long)(n_held ? held[0] : 0));
	for (int i = 1; i < n_held; i++)
		(void)syscall(SYS_tgkill, tr->p->pid, tid, held[i]);
	tr->done = true;
	tr->armed = false;
}

static void on_protocol(struct tracer *tr, pid_t tid, int code, struct user_regs_struct *r)
{
	uint64_t sv[2];

	switch (code) {
	case PROTO_CALL:
		if (tr->aborted || fg_now_ns() > tr->p->deadline) {
			tr->aborted = true;
			break;	/* the stub then returns through 1 and 16 */
		}
		r->rax = (unsigned long long)tr->p->n;
		r->rdx = 0;
		r->rsp -= 8;
		if (poke(tid, r->rsp, r->rip) < 0)
			break;
		r->rip = tr->p->fn_target;
		(void)setregs(tid, r);
		tr->redirected = true;
		break;
	case PROTO_RESULT:
		if (tr->redirected) {
			tr->res->prev = (int)(int64_t)r->rax;
			tr->res->landed_at_ns = fg_now_ns();
		}
		break;
	case PROTO_PANIC:
		tr->panicked = true;
		snprintf(tr->res->why, sizeof(tr->res->why), "runtime.GOMAXPROCS panicked");
		break;
	case PROTO_REFUSED:
		tr->refused = true;
		if (rd(tr->p->pid, r->rsp, sv, sizeof(sv)) == 0 && sv[1] < 120) {
			char s[128] = "";

			(void)rd(tr->p->pid, sv[0], s, sv[1]);
			s[sv[1]] = '\0';
			snprintf(tr->res->why, sizeof(tr->res->why), "runtime refused: %s", s);
		}
		break;
	case PROTO_DONE:
		finish(tr, tid, r);
		return;
	default:
		break;
	}
	(void)ptrace(PTRACE_CONT, tid, NULL, NULL);
}

/*
 * Whether @addr follows a call instruction: a direct CALL whose target is
 * a function's entry, or CALL reg (with or without REX.B), the two forms
 * Go emits. The frames are read while their goroutines may wake and run;
 * a stale slot must never put an INT3 inside an instruction.
 */
static bool return_site(struct tracer *tr, pid_t stopped, uint64_t addr)
{
	const struct plan *p = tr->p;
	const struct goelf_func *f;
	uint8_t b[8];
	int32_t rel;
	uint64_t w, target;

	if (addr < p->bias + 8 || peek(stopped, addr - 8, &w) < 0)
		return false;
	memcpy(b, &w, sizeof(b));
	if (b[3] == 0xe8) {
		memcpy(&rel, &b[4], sizeof(rel));
		target = addr + (uint64_t)(int64_t)rel;
		f = target >= p->bias ? goelf_func_at(p->elf, target - p->bias) : NULL;
		return f && f->entry + p->bias == target;
	}
	if ((b[7] & 0xf8) != 0xd0 || b[6] != 0xff)
		return false;
	return true;	/* ff d0+r, or 41 ff d0+r */
}

/* Add return addresses of parked goroutines that land in user code to the
 * temporary breakpoints. Needs allgs. */
static void pick_triggers(struct tracer *tr, pid_t stopped)
{
	const struct plan *p = tr->p;
	uint64_t hdr[3], gs[256];
	size_t n;

	if (!p->allgs || rd(p->pid, p->allgs, hdr, sizeof(hdr)) < 0 || !hdr[1])
		return;
	n = hdr[1] < 256 ? hdr[1] : 256;
	if (rd(p->pid, hdr[0], gs, n * sizeof(*gs)) < 0)
		return;
	for (size_t i = 0; i < n && tr->n_triggers < MAX_TRIGGERS; i++) {
		uint32_t status;
		uint64_t bp, fr[2];

		if (rd(p->pid, gs[i] + (uint64_t)p->status_off, &status, 4) < 0 ||
		    status != G_WAITING ||
		    rd(p->pid, gs[i] + (uint64_t)p->sched_bp_off, &bp, 8) < 0)
			continue;
		for (int depth = 0; bp && depth < 32; depth++) {
			const struct goelf_func *f;

			if (rd(p->pid, bp, fr, sizeof(fr)) < 0)
				break;
			f = goelf_func_at(p->elf, fr[1] - p->bias);
			if (f && !(f->flag & GOELF_FUNC_ASM) && !gocall_name_denied(f->name)) {
				uint64_t w;

				if (trigger_index(tr, fr[1] + 1) < 0 &&
				    return_site(tr, stopped, fr[1]) &&
				    peek(stopped, fr[1], &w) == 0 && (w & 0xff) != 0xcc) {
					tr->trigger_orig[tr->n_triggers] = (uint8_t)w;
					tr->triggers[tr->n_triggers++] = fr[1];
				}
				break;
			}
			if (fr[0] <= bp)
				break;
			bp = fr[0];
		}
	}
}

/* One round over the threads. Return: a stopped candidate's tid, or 0. */
static pid_t sample_round(struct tracer *tr, struct user_regs_struct *r)
{
	for (size_t i = 0; i < tr->n; i++) {
		pid_t tid = tr->t[i].tid;

		if (tr->t[i].gone || (tr->only_tid && tid != tr->only_tid))
			continue;
		/* a thread kept at a trigger is stopped already */
		if (tid != tr->trigger_hit && interrupt(tr, tid) < 0)
			continue;
		tr->res->probes++;
		if (tid == tr->trigger_hit) {
			/* stopped at a trigger while being interrupted */
			tr->trigger_hit = 0;
			tr->res->via_trigger = true;
		}
		if (candidate(tr, tid, r))
			return tid;
		(void)ptrace(PTRACE_CONT, tid, NULL, NULL);
	}
	return 0;
}

/* Serve stops for @ms milliseconds; earlier when a trigger was hit. */
static int pump_for(struct tracer *tr, int ms)
{
	int64_t end = fg_now_ns() + ms * NS_PER_MS;

	while (fg_now_ns() < end && !tr->trigger_hit) {
		int left = (int)((end - fg_now_ns()) / NS_PER_MS);

		if (pump(tr, left > 0 ? left : 1) < 0)
			return -ESRCH;
	}
	return 0;
}

/* A thread kept stopped at a trigger hit that is not going to be used:
 * resume it, or it would stay stopped (and detach_all() would wait on a
 * stop it already saw). */
static void release_trigger_hit(struct tracer *tr, pid_t keep)
{
	if (tr->trigger_hit && tr->trigger_hit != keep)
		(void)ptrace(PTRACE_CONT, tr->trigger_hit, NULL, NULL);
	tr->trigger_hit = 0;
}

/* Phase C': sampling finds nobody in user code, so the process is idle.
 * Put INT3s on the return sites of parked goroutines, and every
 * TRIGGER_REFRESH_MS add the sites of goroutines parked since, until one
 * wakes up into one of them. */
static void refresh_triggers(struct tracer *tr)
{
	pid_t tid;

	tr->triggers_picked = fg_now_ns();
	for (size_t i = 0; i < tr->n; i++) {
		tid = tr->t[i].tid;
		if (tr->t[i].gone || interrupt(tr, tid) < 0)
			continue;
		if (tid == tr->trigger_hit)	/* it hit one meanwhile */
			return;
		pick_triggers(tr, tid);
		(void)set_triggers(tr, tid, true);
		(void)ptrace(PTRACE_CONT, tid, NULL, NULL);
		return;
	}
}

/* Phase C and C': find a thread in user Go code and keep it stopped.
 * Rounds back off from 1 to 8 ms: stopping idle threads is not free. */
static pid_t find_candidate(struct tracer *tr, struct user_regs_struct *r, int64_t until)
{
	int pause = 1;
	pid_t tid;

	while (fg_now_ns() < until) {
		tid = sample_round(tr, r);
		if (tid) {
			release_trigger_hit(tr, tid);
			return tid;
		}
		if (pump_for(tr, pause) < 0)
			return -ESRCH;
		if (pause < 8)
			pause *= 2;
		if (tr->trigger_hit) {
			tid = tr->trigger_hit;
			tr->trigger_hit = 0;
			if ((!tr->only_tid || tid == tr->only_tid) && candidate(tr, tid, r)) {
				tr->res->via_trigger = true;
				return tid;
			}
			(void)ptrace(PTRACE_CONT, tid, NULL, NULL);
		}
		if (tr->res->probes > 3 * live_threads(tr) &&
		    fg_now_ns() - tr->triggers_picked > TRIGGER_REFRESH_MS * NS_PER_MS)
			refresh_triggers(tr);
	}
	release_trigger_hit(tr, 0);
	return 0;
}

#define LONG_RUN_MS 30

/* The goroutine on the CPU of every thread: R14 when the thread is in Go
 * code outside a syscall, else 0. */
static void running_gs(struct tracer *tr, uint64_t *gs)
{
	for (size_t i = 0; i < tr->n; i++) {
		struct user_regs_struct r;
		uint32_t status;

		gs[i] = 0;
		if (tr->t[i].gone || interrupt(tr, tr->t[i].tid) < 0)
			continue;
		if (getregs(tr->t[i].tid, &r) == 0 && (int64_t)r.orig_rax < 0 && r.r14 &&
		    r.rip >= tr->p->bias && goelf_func_at(tr->p->elf, r.rip - tr->p->bias) &&
		    rd(tr->p->pid, r.r14 + (uint64_t)tr->p->status_off, &status, 4) == 0 &&
		    status == G_RUNNING)
			gs[i] = r.r14;
		(void)ptrace(PTRACE_CONT, tr->t[i].tid, NULL, NULL);
	}
}

/*
 * With asynchronous preemption off, a goroutine looping without a
 * preemption point blocks every stop-the-world, and GOMAXPROCS needs one.
 * Goroutines seen on the same thread LONG_RUN_MS apart are taken for such
 * loops. One of them is fine if the call is made on it (it parks during the
 * call); more cannot be served. Return: 0, or -EDEADLK with the reason.
 */
static int check_long_runners(struct tracer *tr)
{
	static uint64_t a[MAX_THREADS], b[MAX_THREADS];
	size_t n_long = 0;
	pid_t one = 0;

	running_gs(tr, a);
	if (pump_for(tr, LONG_RUN_MS) < 0)
		return -ESRCH;
	running_gs(tr, b);
	for (size_t i = 0; i < tr->n; i++) {
		if (a[i] && a[i] == b[i]) {
			n_long++;
			one = tr->t[i].tid;
		}
	}
	if (n_long == 1)
		tr->only_tid = one;
	if (n_long < 2)
		return 0;
	snprintf(tr->res->why, sizeof(tr->res->why),
		 "GODEBUG=asyncpreemptoff=1 and %zu goroutines ran for %d ms without "
		 "yielding: the stop-the-world of GOMAXPROCS could never finish; nothing "
		 "was changed",
		 n_long, LONG_RUN_MS);
	return -EDEADLK;
}

/* Whether @tid has a SIGTRAP queued for it alone (an INT3 it executed
 * whose stop has not been reported yet). */
static bool sigtrap_pending(pid_t pid, pid_t tid)
{
	char path[64], line[128];
	fg_autofclose FILE *f = NULL;
	unsigned long long mask;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigPnd: %llx", &mask) == 1)
			return mask & (1ull << (SIGTRAP - 1));
	return false;
}

/* Detach @tid if we trace it, handing back a signal that stopped it. */
static void detach_one(struct tracer *tr, pid_t tid)
{
	int64_t until = fg_now_ns() + STOP_WAIT_MS * NS_PER_MS;
	int st, sig;

	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
		return;		/* not ours (any more) */
	while (wait_tid(tr, tid, &st, until) == 0 && WIFSTOPPED(st)) {
		/* The kernel reports our interrupt before a pending signal.
		 * A thread that ran into a temporary INT3 just before its
		 * removal has that SIGTRAP still queued: detached now, it
		 * would get it untraced, and Go dies of it. Let the trap
		 * report first; it is rewound and suppressed below. */
		if (st >> 16 == PTRACE_EVENT_STOP && WSTOPSIG(st) == SIGTRAP &&
		    sigtrap_pending(tr->p->pid, tid)) {
			(void)ptrace(PTRACE_CONT, tid, NULL, NULL);
			continue;
		}
		/* a signal-delivery-stop: pass the signal on at detach, unless
		 * it is a trap at a removed trigger (rewound by on_sigtrap) */
		sig = st >> 16 ? 0 : WSTOPSIG(st);
		if (sig == SIGTRAP && on_sigtrap(tr, tid) != SIGTRAP)
			sig = 0;
		/* any other stop (interrupt, clone event, group-stop) is
		 * detached from where it is */
		(void)ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig);
		return;
	}
}

/* Phase F: no breakpoint bytes left, every thread detached, including
 * threads started during the call that never reported. */
static void detach_all(struct tracer *tr)
{
	char path[64];
	int st;

	release_trigger_hit(tr, 0);
	if (tr->triggers_in) {
		for (size_t i = 0; i < tr->n; i++) {
			if (tr->t[i].gone || interrupt(tr, tr->t[i].tid) < 0)
				continue;
			(void)set_triggers(tr, tr->t[i].tid, false);
			(void)ptrace(PTRACE_CONT, tr->t[i].tid, NULL, NULL);
			break;
		}
	}
	for (size_t i = 0; i < tr->n; i++)
		if (!tr->t[i].gone)
			detach_one(tr, tr->t[i].tid);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)tr->p->pid);
	for (int pass = 0; pass < 2; pass++) {
		DIR *d = opendir(path);
		struct dirent *de;

		if (!d)
			break;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);

			if (tid > 0)
				detach_one(tr, tid);
		}
		closedir(d);
	}
	while (waitpid(-1, &st, __WALL | WNOHANG) > 0)
		;		/* reap what ended meanwhile */
}

/* Wait for the armed call to end. Return: 0 done, -ETIMEDOUT, -ESRCH. */
static int serve_call(struct tracer *tr, int64_t give_up)
{
	while (!tr->done) {
		if (pump(tr, 5) < 0)
			return -ESRCH;
		if (fg_now_ns() > give_up && tr->redirected && !tr->done)
			return -ETIMEDOUT;
	}
	return 0;
}

/* The process ended while traced: say how, for the report. */
static void describe_end(struct tracer *tr)
{
	struct gocall_result *res = tr->res;
	int st = tr->end_status, n = 0;

	if (st < 0)
		return;
	if (WIFSIGNALED(st))
		n = snprintf(res->why, sizeof(res->why),
			     "pid %d was killed by signal %d (SIG%s) during the call",
			     (int)tr->p->pid, WTERMSIG(st),
			     sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
	else
		n = snprintf(res->why, sizeof(res->why),
			     "pid %d exited with status %d during the call", (int)tr->p->pid,
			     WEXITSTATUS(st));
	if (tr->passed_trap_rip && n > 0 && (size_t)n < sizeof(res->why))
		snprintf(res->why + n, sizeof(res->why) - (size_t)n,
			 " (it had been handed a SIGTRAP at %#llx)",
			 (unsigned long long)tr->passed_trap_rip);
}

static int tracer_run(struct tracer *tr, int out_fd)
{
	struct gocall_result *res = tr->res;
	int64_t t0 = fg_now_ns();
	struct user_regs_struct r;
	bool reported = false;
	int e;

	e = seize_all(tr);
	if (e < 0) {
		snprintf(res->why, sizeof(res->why), "attach to pid %d: %s", (int)tr->p->pid,
			 strerror(-e));
		goto out_detach;
	}
	if (tr->p->no_async_preempt && tr->p->n > 0) {
		e = check_long_runners(tr);
		if (e < 0)
			goto out_detach;
	}
	for (int attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
		pid_t tid = find_candidate(tr, &r, tr->p->deadline);

		if (tid < 0) {
			e = -ESRCH;
			goto out_detach;
		}
		if (tid == 0 && tr->job_stopped && res->probes == 0) {
			e = -ETIMEDOUT;
			snprintf(res->why, sizeof(res->why),
				 "the process stayed stopped by job control (SIGSTOP) for the "
				 "whole time bound, nothing was changed");
			goto out_detach;
		}
		if (tid == 0) {
			e = -ETIMEDOUT;
			snprintf(res->why, sizeof(res->why),
				 "no goroutine running user code within the time bound "
				 "(%d threads probed %d times), nothing was changed",
				 live_threads(tr), res->probes);
			goto out_detach;
		}
		e = arm(tr, tid, &r);
		(void)ptrace(PTRACE_CONT, tid, NULL, NULL);
		if (e < 0) {
			snprintf(res->why, sizeof(res->why), "arm: %s", strerror(-e));
			goto out_detach;
		}
		e = serve_call(tr, tr->p->deadline + CHILD_GRACE_NS);
		if (e == -ETIMEDOUT) {
			/* The function runs: detaching now would leave INT3s
			 * ahead of the thread. Tell the parent, keep serving. */
			res->in_flight = true;
			snprintf(res->why, sizeof(res->why),
				 "runtime.GOMAXPROCS(%d) has not returned within the time bound "
				 "(a stop-the-world that cannot finish?); the tracer stays "
				 "until it does",
				 tr->p->n);
			res->elapsed_ns = fg_now_ns() - t0;
			(void)!write(out_fd, res, sizeof(*res));
			reported = true;
			e = serve_call(tr, INT64_MAX);
		}
		if (e < 0)
			goto out_detach;
		if (tr->panicked) {
			e = -EPROTO;
			goto out_detach;
		}
		if (tr->aborted) {
			e = -ETIMEDOUT;
			snprintf(res->why, sizeof(res->why),
				 "the call did not start within the time bound; given up "
				 "before anything ran");
			goto out_detach;
		}
		if (!tr->refused)
			break;
		/* transient refusals (not at a safe point, runtime stack):
		 * pick again */
		if (strstr(res->why, "too large") || strstr(res->why, "unknown function")) {
			e = -EPROTO;
			goto out_detach;
		}
	}
	if (!tr->done || tr->refused)
		e = -EPROTO;
out_detach:
	if (e == -ESRCH && !res->why[0])
		describe_end(tr);
	detach_all(tr);
	res->elapsed_ns = fg_now_ns() - t0;
	res->error = e;
	if (!reported || e == 0)
		(void)!write(out_fd, res, sizeof(*res));
	return e;
}

/* The tracer child: never returns. */
static void tracer_child(const struct plan *p, int out_fd)
{
	static struct tracer tr;
	static struct gocall_result res;
	sigset_t set;
	int e, null;

	/* A later call that finds the target traced by this name knows a
	 * call is in flight and waits for it (see wait_for_other_call). */
	(void)prctl(PR_SET_NAME, TRACER_COMM);
	/* The tracer may outlive its caller (a call in flight): it must not
	 * hold the caller's terminal or pipes open. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd <= 2 && null >= 0 && out_fd > 2; fd++)
		(void)dup2(null, fd);
	if (null > 2)
		close(null);

	/* Termination signals wait until the call is over (risk 8). */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	tr.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	tr.p = p;
	res.prev = -1;
	tr.end_status = -1;
	res.go_minor = p->go_minor;
	tr.res = &res;
	e = tracer_run(&tr, out_fd);
	_exit(e < 0 ? (-e & 0x7f) : 0);
}

/* /proc/PID/status TracerPid. Return: the tracer, 0, or -errno. */
static int tracer_of(pid_t pid)
{
	char buf[4096];
	long n = task_status(pid, 0, buf, sizeof(buf));
	long long tp;

	if (n < 0)
		return (int)n;
	return fg_status_field(buf, "TracerPid", &tp) ? (int)tp : 0;
}

/* Whether GODEBUG in the environment the process started with turns
 * asynchronous preemption off. */
static bool async_preempt_off(pid_t pid)
{
	char path[64], buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strncmp(p, "GODEBUG=", 8) == 0 && strstr(p, "asyncpreemptoff=1"))
			return true;
	return false;
}

static int plan_call(struct goruntime *rt, int n, int64_t timeout_ns, struct plan *p,
		     char *why, size_t size)
{
	const struct goelf *g = rt->elf;
	const struct goelf_func *v2, *fn;
	int tp;

#if !defined(__x86_64__)
	snprintf(why, size, "live runtime calls are built for linux/amd64 only");
	return -ENOTSUP;
#endif
	if (g->machine != EM_X86_64) {
		snprintf(why, size, "the target is not an amd64 program");
		return -ENOTSUP;
	}
	if (n < 0 || n > GOCALL_MAX_PROCS) {
		snprintf(why, size, "GOMAXPROCS %d is out of range (1 to %d)", n,
			 GOCALL_MAX_PROCS);
		return -EINVAL;
	}
	if (!g->is_go || g->go_major != 1 || g->go_minor < 17 || g->go_minor > 25) {
		snprintf(why, size, "Go '%s': live calls need Go 1.17 to 1.25 (debugCallV2)",
			 g->version[0] ? g->version : "unknown");
		return -ENOTSUP;
	}
	v2 = goelf_func_named(g, "runtime.debugCallV2");
	if (!v2) {
		snprintf(why, size, "runtime.debugCallV2 not found in the binary");
		return -ENOTSUP;
	}
	fn = goelf_func_named(g, "runtime.GOMAXPROCS");
	if (!fn) {
		snprintf(why, size, "runtime.GOMAXPROCS is not linked into the binary "
				    "(the program never references it)");
		return -ENOENT;
	}
	tp = tracer_of(rt->pid);
	if (tp < 0)
		return tp;
	if (tp > 0) {
		snprintf(why, size, "pid %d is already traced by pid %d", (int)rt->pid, tp);
		return -EBUSY;
	}
	*p = (struct plan){
		.pid = rt->pid,
		.n = n,
		.go_minor = g->go_minor,
		.status_off = rt->status_off,
		.sched_bp_off = g->go_minor >= 25 ? 0x60 : 0x68,
		.deadline = fg_now_ns() + timeout_ns,
		.elf = g,
		.bias = rt->bias,
		.fn_v2 = v2->entry + rt->bias,
		.fn_target = fn->entry + rt->bias,
		.allgs = rt->allgs_addr,
		.no_async_preempt = async_preempt_off(rt->pid),
		.caller = getpid(),
	};
	return 0;
}

/* Fork twice so the tracer is nobody's child but init's: the caller's
 * waitpid and SIGCHLD stay its own, and a call in flight outlives it. */
static pid_t spawn_tracer(const struct plan *p, int out_fd, int in_fd)
{
	pid_t mid = fork();
	int st;

	if (mid < 0)
		return -errno;
	if (mid == 0) {
		pid_t t;

		close(in_fd);
		t = fork();
		if (t == 0)
			tracer_child(p, out_fd);
		_exit(t < 0 ? 1 : 0);
	}
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? mid : -EAGAIN;
}

/* Whether @pid is traced by another call's tracer (a caller killed during
 * its call leaves it running to the end), or by a thread of @caller (its
 * ptrace engine stops a thread for a moment now and then). */
static bool other_call_in_flight(pid_t pid, pid_t caller)
{
	char path[64], comm[32];
	int tp = tracer_of(pid);

	if (tp <= 0)
		return false;
	if (tgid_of(tp) == caller)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/comm", tp);
	if (fg_read_text(path, comm, sizeof(comm)) < 0)
		return false;
	return strcmp(comm, TRACER_COMM "\n") == 0;
}

/* Let a call already in flight finish, within @until. Return: true when
 * the target is free now. */
static bool wait_for_other_call(pid_t pid, int64_t until)
{
	struct timespec ts = { .tv_nsec = OTHER_CALL_POLL_NS };

	while (other_call_in_flight(pid, getpid())) {
		if (fg_now_ns() >= until)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

int gocall_gomaxprocs(pid_t pid, int n, int64_t timeout_ns, struct gocall_result *ret)
{
	struct goruntime *rt = NULL;
	struct pollfd pfd;
	struct plan p;
	int fds[2], r;
	ssize_t got;

	memset(ret, 0, sizeof(*ret));
	ret->prev = -1;
	r = goruntime_open(pid, &rt);
	if (r == -ENOEXEC)
		snprintf(ret->why, sizeof(ret->why), "pid %d is not a Go program", (int)pid);
	if (r < 0)
		return r;
	ret->go_minor = rt->elf->go_minor;
	(void)wait_for_other_call(pid, fg_now_ns() + timeout_ns);
	r = plan_call(rt, n, timeout_ns, &p, ret->why, sizeof(ret->why));
	if (r < 0)
		goto out;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	r = spawn_tracer(&p, fds[1], fds[0]);
	close(fds[1]);
	if (r < 0) {
		close(fds[0]);
		goto out;
	}
	pfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	r = poll(&pfd, 1, (int)((timeout_ns + 2 * CHILD_GRACE_NS) / NS_PER_MS));
	got = r > 0 ? read(fds[0], ret, sizeof(*ret)) : 0;
	close(fds[0]);
	if (got != (ssize_t)sizeof(*ret)) {
		if (!ret->why[0])
			snprintf(ret->why, sizeof(ret->why), "the tracer gave no answer");
		r = -ETIMEDOUT;
	} else if (ret->in_flight) {
		r = -ETIMEDOUT;
	} else {
		r = ret->error;
		if (r == 0 && ret->prev < 1)
			r = -EPROTO;
	}
out:
	goruntime_free(rt);
	return r;
}

int gocall_restore_gomaxprocs(pid_t pid, int value)
{
	struct gocall_result res;

	if (value < 1)
		return -EINVAL;
	return gocall_gomaxprocs(pid, value, 5 * NS_PER_S, &res);
}
