// SPDX-License-Identifier: Apache-2.0
/* faultgate inspect: process vitals from /proc, per-thread state, CPU,
 * run-queue delay and context switches, and for Go programs the version,
 * GOMAXPROCS and goroutine count read from the runtime's memory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "gocall.h"
#include "goruntime.h"
#include "inspect.h"
#include "procfs.h"

#define MAX_THREADS 4096
#define INSPECT_CALL_NS 1000000000LL

struct thread_info {
	pid_t tid;
	char comm[32];
	char state;
	double cpu_ms;
	double wait_ms;			/* run-queue wait, total */
	uint64_t slices;
	uint64_t vol, nonvol;
	char syscall[24];		/* blocked in this syscall, "" when running */
};

struct proc_info {
	pid_t pid;
	char exe[512];
	char comm[32];
	uint64_t rss_bytes;
	unsigned threads;
	uint64_t vol, nonvol;		/* summed over the threads */
	struct thread_info *t;
	size_t n;

	bool is_go;
	int go_err;			/* why the binary could not be read; 0 */
	char state;			/* the process's, from status */
	struct goruntime *rt;
	char go_version[32];
	int gomaxprocs, goroutines;	/* -1 unknown */
	struct goruntime_gstates gstates;
	const char *gomaxprocs_src;
	char gomaxprocs_why[96], goroutines_why[96];
};

static uint64_t status_u64(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* The syscall a blocked thread sits in, from /proc/PID/task/TID/syscall:
 * "running" when it runs, else the number and arguments (the kernel takes
 * them from the thread's saved registers; nothing is stopped). */
static void read_syscall(pid_t pid, struct thread_info *t)
{
	char path[96], buf[256];
	char *name;
	long nr;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)t->tid);
	if (fg_read_text(path, buf, sizeof(buf)) < 0) {
		snprintf(t->syscall, sizeof(t->syscall), "?");
		return;
	}
	if (sscanf(buf, "%ld", &nr) != 1) {	/* "running" */
		t->syscall[0] = '\0';
		return;
	}
	if (nr < 0) {		/* blocked, but not in a syscall (a fault) */
		snprintf(t->syscall, sizeof(t->syscall), "-");
		return;
	}
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
	if (name)
		snprintf(t->syscall, sizeof(t->syscall), "%s", name);
	else
		snprintf(t->syscall, sizeof(t->syscall), "%ld", nr);
	free(name);
}

static void read_thread(pid_t pid, struct thread_info *t)
{
	char path[96], buf[2048];
	unsigned long long ut, st, cpu, wait, slices;
	long tck = sysconf(_SC_CLK_TCK);
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)t->tid);
	if (fg_read_text(path, buf, sizeof(buf)) >= 0 && (p = strrchr(buf, ')'))) {
		char *open = strchr(buf, '(');

		if (open && p > open)
			snprintf(t->comm, sizeof(t->comm), "%.*s", (int)(p - open - 1), open + 1);
		/* after ") ": state, then fields 4.. ; utime is field 14 */
		if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			   &t->state, &ut, &st) == 3 && tck > 0)
			t->cpu_ms = (double)(ut + st) * 1000.0 / (double)tck;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)t->tid);
	if (fg_read_text(path, buf, sizeof(buf)) >= 0 &&
	    sscanf(buf, "%llu %llu %llu", &cpu, &wait, &slices) == 3) {
		t->cpu_ms = (double)cpu / 1e6;
		t->wait_ms = (double)wait / 1e6;
		t->slices = slices;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)t->tid);
	if (fg_read_text(path, buf, sizeof(buf)) >= 0) {
		t->vol = status_u64(buf, "\nvoluntary_ctxt_switches:");
		t->nonvol = status_u64(buf, "\nnonvoluntary_ctxt_switches:");
	}
	read_syscall(pid, t);
}

static int read_threads(struct proc_info *pi)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pi->pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	pi->t = calloc(MAX_THREADS, sizeof(*pi->t));
	if (!pi->t) {
		closedir(d);
		return -ENOMEM;
	}
	while ((de = readdir(d)) && pi->n < MAX_THREADS) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		pi->t[pi->n].tid = (pid_t)strtol(de->d_name, NULL, 10);
		read_thread(pi->pid, &pi->t[pi->n]);
		pi->vol += pi->t[pi->n].vol;
		pi->nonvol += pi->t[pi->n].nonvol;
		pi->n++;
	}
	closedir(d);
	return 0;
}

static int read_proc(struct proc_info *pi)
{
	char path[64], buf[8192];
	const char *st;
	ssize_t n;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pi->pid);
	r = (int)fg_read_text(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	sscanf(buf, "Name:\t%31s", pi->comm);
	st = strstr(buf, "\nState:\t");
	if (st)
		pi->state = st[8];
	if (pi->state == 'Z' || pi->state == 'X')
		return -ECHILD;	/* exited, not reaped */
	pi->rss_bytes = status_u64(buf, "\nVmRSS:") * 1024;
	pi->threads = (unsigned)status_u64(buf, "\nThreads:");
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pi->pid);
	n = readlink(path, pi->exe, sizeof(pi->exe) - 1);
	pi->exe[n > 0 ? n : 0] = '\0';
	return read_threads(pi);
}

static void why(char *buf, size_t size, int r)
{
	if (r == -ENOENT)
		snprintf(buf, size, "runtime variable not found in the binary");
	else
		snprintf(buf, size, "cannot read the runtime: %s", strerror(-r));
}

static void read_go(struct proc_info *pi)
{
	int r;

	pi->gomaxprocs = -1;
	pi->goroutines = -1;
	r = goruntime_open(pi->pid, &pi->rt);
	if (r < 0) {
		pi->go_err = r == -ENOEXEC ? 0 : r;
		return;
	}
	pi->is_go = true;
	snprintf(pi->go_version, sizeof(pi->go_version), "%s",
		 pi->rt->elf->version[0] ? pi->rt->elf->version : "unknown");
	pi->gomaxprocs_src = pi->rt->gomaxprocs_src;
	r = goruntime_gomaxprocs(pi->rt, &pi->gomaxprocs);
	if (r == -ENOENT) {
		/* not found in the binary: a read-only GOMAXPROCS(0) call,
		 * which stops one thread for a moment */
		struct gocall_result res;

		r = gocall_gomaxprocs(pi->pid, 0, INSPECT_CALL_NS, &res);
		if (r == 0) {
			pi->gomaxprocs = res.prev;
			pi->gomaxprocs_src = "call";
		}
	}
	if (r < 0)
		why(pi->gomaxprocs_why, sizeof(pi->gomaxprocs_why), r);
	r = goruntime_goroutine_states(pi->rt, &pi->gstates);
	if (r < 0)
		why(pi->goroutines_why, sizeof(pi->goroutines_why), r);
	else
		pi->goroutines = pi->gstates.total;
}

static void print_table(const struct proc_info *pi, FILE *out)
{
	const struct goelf *g = pi->rt ? pi->rt->elf : NULL;

	fprintf(out, "process     %d (%s) %s\n", (int)pi->pid, pi->comm,
		pi->exe[0] ? pi->exe : "(executable not readable)");
	if (!pi->is_go && pi->go_err) {
		fprintf(out, "go          unknown: cannot read the executable (%s)\n",
			strerror(-pi->go_err));
	} else if (!pi->is_go) {
		fprintf(out, "go          not a Go program\n");
	} else {
		fprintf(out, "go          %s%s%s%s%s\n", pi->go_version,
			g->pie ? ", PIE" : "", g->stripped ? ", stripped" : "",
			g->cgo ? ", cgo" : "", g->pie || g->cgo ? "" : ", static");
		if (pi->gomaxprocs >= 0)
			fprintf(out, "gomaxprocs  %d\n", pi->gomaxprocs);
		else
			fprintf(out, "gomaxprocs  unknown (%s)\n", pi->gomaxprocs_why);
		if (pi->goroutines >= 0)
			fprintf(out,
				"goroutines  %d: %d running, %d runnable, %d in syscalls, "
				"%d waiting (the runtime's own included)\n",
				pi->goroutines, pi->gstates.running, pi->gstates.runnable,
				pi->gstates.syscall, pi->gstates.waiting);
		else
			fprintf(out, "goroutines  unknown (%s)\n", pi->goroutines_why);
	}
	fprintf(out, "threads     %u\n", pi->threads);
	fprintf(out, "rss         %.1f MiB\n", (double)pi->rss_bytes / (1024.0 * 1024.0));
	fprintf(out,
		"ctxsw       %" PRIu64 " voluntary, %" PRIu64 " nonvoluntary (all threads)\n",
		pi->vol, pi->nonvol);
	fprintf(out, "\n%8s %-16s %5s %-16s %10s %10s %9s %9s %9s %9s\n", "TID", "NAME", "STATE",
		"SYSCALL", "CPU_MS", "RUNQ_MS", "SLICES", "MS/SLICE", "VOL", "NONVOL");
	for (size_t i = 0; i < pi->n; i++) {
		const struct thread_info *t = &pi->t[i];
		double per = t->slices ? t->wait_ms / (double)t->slices : 0.0;

		fprintf(out, "%8d %-16s %5c %-16s %10.1f %10.3f %9" PRIu64 " %9.4f %9" PRIu64
			" %9" PRIu64 "\n",
			(int)t->tid, t->comm, t->state ? t->state : '?',
			t->syscall[0] ? t->syscall : "(on cpu)", t->cpu_ms, t->wait_ms, t->slices,
			per, t->vol, t->nonvol);
	}
}

static json_t *int_or_null(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static void print_json(const struct proc_info *pi, FILE *out)
{
	const struct goelf *g = pi->rt ? pi->rt->elf : NULL;
	json_t *root = json_object(), *threads = json_array(), *go;

	json_object_set_new(root, "pid", json_integer(pi->pid));
	json_object_set_new(root, "exe", json_string(pi->exe));
	json_object_set_new(root, "name", json_string(pi->comm));
	json_object_set_new(root, "is_go", pi->go_err ? json_null() : json_boolean(pi->is_go));
	if (pi->is_go) {
		go = json_object();
		json_object_set_new(go, "version", json_string(pi->go_version));
		json_object_set_new(go, "pie", json_boolean(g->pie));
		json_object_set_new(go, "stripped", json_boolean(g->stripped));
		json_object_set_new(go, "cgo", json_boolean(g->cgo));
		json_object_set_new(go, "gomaxprocs", int_or_null(pi->gomaxprocs));
		json_object_set_new(go, "gomaxprocs_source",
				    pi->gomaxprocs_src ? json_string(pi->gomaxprocs_src)
						       : json_null());
		json_object_set_new(go, "goroutines", int_or_null(pi->goroutines));
		json_object_set_new(
		    go, "goroutine_states",
		    pi->goroutines < 0
			? json_null()
			: json_pack("{s:i, s:i, s:i, s:i}", "running", pi->gstates.running,
				    "runnable", pi->gstates.runnable, "syscall",
				    pi->gstates.syscall, "waiting", pi->gstates.waiting));
		json_object_set_new(root, "go", go);
	} else {
		json_object_set_new(root, "go", json_null());
	}
	json_object_set_new(root, "threads", json_integer(pi->threads));
	json_object_set_new(root, "rss_bytes", json_integer((json_int_t)pi->rss_bytes));
	json_object_set_new(root, "ctx_voluntary", json_integer((json_int_t)pi->vol));
	json_object_set_new(root, "ctx_nonvoluntary", json_integer((json_int_t)pi->nonvol));
	for (size_t i = 0; i < pi->n; i++) {
		const struct thread_info *t = &pi->t[i];
		char st[2] = { t->state ? t->state : '?', '\0' };

		json_array_append_new(
		    threads,
		    json_pack("{s:i, s:s, s:s, s:o, s:f, s:f, s:I, s:I, s:I}", "tid", (int)t->tid,
			      "name", t->comm, "state", st, "syscall",
			      t->syscall[0] ? json_string(t->syscall) : json_null(), "cpu_ms",
			      t->cpu_ms, "runq_wait_ms", t->wait_ms, "timeslices",
			      (json_int_t)t->slices, "ctx_voluntary", (json_int_t)t->vol,
			      "ctx_nonvoluntary", (json_int_t)t->nonvol));
	}
	json_object_set_new(root, "thread_list", threads);
	json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	fputc('\n', out);
	json_decref(root);
}

int inspect_print(pid_t pid, bool json, FILE *out)
{
	struct proc_info pi = { .pid = pid };
	int r;

	r = read_proc(&pi);
	if (r < 0) {
		fprintf(stderr, "faultgate inspect: process %d: %s\n", (int)pid,
			r == -ESRCH    ? "no such process"
			: r == -ECHILD ? "it has exited (a zombie its parent has not reaped)"
				       : strerror(-r));
		free(pi.t);
		return r;
	}
	read_go(&pi);
	if (json)
		print_json(&pi, out);
	else
		print_table(&pi, out);
	goruntime_free(pi.rt);
	free(pi.t);
	return 0;
}
