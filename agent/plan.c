// SPDX-License-Identifier: Apache-2.0
/* The plan of a run: what the target binary is, which backend serves each
 * fault and why, and the `faultgate check` printout of all of it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FG_LOG_COMPONENT "agent"
#include "attach.h"
#include "binfo.h"
#include "log.h"
#include "run.h"
#include "units.h"

/* A duration for the plan; zero reads "0s" rather than in nanoseconds. */
static const char *dur(int64_t ns, char *buf, size_t size)
{
	if (ns == 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	return fg_format_duration(ns, buf, size);
}

/* Why the table picked @b; the resolver only explains refusals. */
static const char *auto_reason(const struct fault_spec *f,
			       const struct target_facts *facts,
			       enum fault_backend b)
{
	switch (b) {
	case FAULT_BACKEND_SECCOMP:
		if (facts->is_go)
			return "launched Go target: its raw syscalls bypass LD_PRELOAD, "
			       "seccomp sees them";
		return "launched target: seccomp traps only the named syscalls";
	case FAULT_BACKEND_PRELOAD:
		return "dynamic binary: the shim wraps the libc calls";
	case FAULT_BACKEND_PTRACE:
		if (f->kind == FAULT_FREEZE_THREAD)
			return "only ptrace can stop a single thread";
		if (f->kind == FAULT_GOMAXPROCS)
			return "live call of runtime.GOMAXPROCS through the "
			       "runtime's debugger call protocol";
		return facts->launched
			   ? "static binary: injected through ptrace"
			   : "running process: ptrace inside the window only";
	case FAULT_BACKEND_AFFINITY:
		return "sched_setaffinity on every thread, masks restored at the end";
	case FAULT_BACKEND_ENV:
		return "mode launch: GOMAXPROCS in the environment, for the whole run";
	case FAULT_BACKEND_AUTO:
	case FAULT_BACKEND_MAX:
	default:
		return "table choice";
	}
}

static void plan_fault(const struct fault_spec *f,
		       const struct target_facts *facts, struct fault_plan *ret)
{
	const char *name = fault_kind_name(f->kind);
	int r;

	ret->why[0] = '\0';
	r = fault_backend_resolve(f, facts, &ret->backend, ret->why,
				  sizeof(ret->why));
	if (r < 0) {
		ret->backend = f->backend;
		ret->status = -ENOTSUP;
		if (!ret->why[0])
			snprintf(ret->why, sizeof(ret->why),
				 "%s cannot be served on this target",
				 name ? name : "fault");
		return;
	}
	if (!fault_backend_available(f->kind, ret->backend, facts->launched)) {
		ret->status = -ENOSYS;
		snprintf(ret->why, sizeof(ret->why),
			 "%s through %s is not in this version",
			 name ? name : "fault",
			 fault_backend_name(ret->backend));
		return;
	}
	ret->status = 0;
	if (f->backend == FAULT_BACKEND_AUTO)
		snprintf(ret->why, sizeof(ret->why), "auto: %s",
			 auto_reason(f, facts, ret->backend));
	else
		snprintf(ret->why, sizeof(ret->why), "as written");
}

/* A running process: which one, whether we may act on it, what it runs.
 * Return: 0 or the selection/pre-flight error (in @reterr). */
static int inspect_process(const struct playbook *pb, struct run_prep *p,
			   struct fg_error *reterr)
{
	char proc[64];
	ssize_t n;
	int r;

	p->binfo_err = -ESRCH;
	r = attach_select(&pb->target, &p->pid, reterr);
	if (r < 0)
		return r;
	snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)p->pid);
	n = readlink(proc, p->exe, sizeof(p->exe) - 1);
	p->exe[n > 0 ? n : 0] = '\0';
	p->binfo_err = binfo_inspect(proc, &p->facts, NULL, 0);
	r = attach_preflight(p->pid, reterr);
	if (r < 0 && reterr) {
		fg_error_prefix(reterr, "target");
		if (!reterr->line) {
			reterr->line = pb->target.line;
			reterr->col = pb->target.col;
		}
	}
	return r;
}

static int inspect_target(const struct playbook *pb, struct run_prep *p,
			  struct fg_error *reterr)
{
	const struct target_spec *t = &pb->target;
	int r = 0;

	switch (t->mode) {
	case TARGET_COMMAND:
		p->binfo_err = binfo_inspect_at(t->argv[0], t->cwd, &p->facts,
						p->exe, sizeof(p->exe));
		break;
	case TARGET_PID:
	case TARGET_PROCESS:
		r = inspect_process(pb, p, reterr);
		break;
	case TARGET_MODE_MAX:
	default:
		p->binfo_err = -ENOENT;
		break;
	}
	p->facts.launched = t->mode == TARGET_COMMAND;
	return r;
}

int run_prepare(const struct playbook *pb, struct run_prep *ret,
		struct fg_error *reterr)
{
	struct fg_error target_err = {0};
	int r = 0, target_r;

	memset(ret, 0, sizeof(*ret));
	target_r = inspect_target(pb, ret, &target_err);
	ret->faults =
	    calloc(pb->n_faults ? pb->n_faults : 1, sizeof(*ret->faults));
	ret->backends =
	    calloc(pb->n_faults ? pb->n_faults : 1, sizeof(*ret->backends));
	if (!ret->faults || !ret->backends) {
		run_prep_done(ret);
		return fg_error_set(reterr, ENOMEM, 0, 0, "out of memory");
	}
	for (size_t i = 0; i < pb->n_faults; i++) {
		struct fault_plan *fp = &ret->faults[i];

		plan_fault(&pb->faults[i], &ret->facts, fp);
		ret->backends[i] = fp->backend;
		if (fp->status < 0 && r == 0)
			r = fg_error_set(
			    reterr, ENOTSUP, pb->faults[i].line,
			    pb->faults[i].col, "fault %zu (%s): %s", i + 1,
			    fault_kind_name(pb->faults[i].kind), fp->why);
	}
	/* Which process, and whether we may touch it, comes first: a
	 * refused fault on the wrong process is the lesser news. */
	if (target_r < 0) {
		if (reterr)
			*reterr = target_err;
		return target_r;
	}
	return r;
}

void run_prep_done(struct run_prep *p)
{
	free(p->faults);
	free(p->backends);
	p->faults = NULL;
	p->backends = NULL;
}

const char *run_binary_summary(const struct run_prep *p, char *buf, size_t size)
{
	if (p->binfo_err == -ENOEXEC)
		snprintf(buf, size, "script or not ELF (facts unknown)");
	else if (p->binfo_err < 0)
		snprintf(buf, size, "unknown (%s)", strerror(-p->binfo_err));
	else if (p->facts.is_go)
		snprintf(buf, size, "%s Go %s",
			 p->facts.is_static ? "static" : "dynamic",
			 p->facts.go_version[0] ? p->facts.go_version
						: "(version unknown)");
	else
		snprintf(buf, size, "%s ELF",
			 p->facts.is_static ? "static" : "dynamic");
	return buf;
}

static void print_argv(FILE *out, char *const *argv)
{
	for (size_t i = 0; argv && argv[i]; i++) {
		const char *a = argv[i];
		bool quote = !*a || strpbrk(a, " \t\"'$\\*?;&|<>()");

		if (i)
			fputc(' ', out);
		if (quote)
			fprintf(out, "'%s'", a);
		else
			fputs(a, out);
	}
}

static void print_attached(const struct playbook *pb, const struct run_prep *p,
			   FILE *out)
{
	const struct target_spec *t = &pb->target;
	char sum[160], cmd[256];

	if (t->mode == TARGET_PID)
		fprintf(out, "target     pid %d (attach)", t->pid);
	else if (t->process_name)
		fprintf(out, "target     process named '%s' (attach)",
			t->process_name);
	else
		fprintf(out, "target     process matching /%s/ (attach)",
			t->process_cmdline ? t->process_cmdline : "");
	if (p->pid <= 0) {
		fprintf(out, ": no process selected (the error below says why)\n");
		return;
	}
	fprintf(out, "\n           pid %d: %s\n", (int)p->pid,
		attach_cmdline(p->pid, cmd, sizeof(cmd)));
	fprintf(out, "           binary %s: %s\n", p->exe[0] ? p->exe : "?",
		run_binary_summary(p, sum, sizeof(sum)));
	fprintf(out, "stop       never: the process is left running, every "
		     "fault reverted\n");
}

static void print_target(const struct playbook *pb, const struct run_prep *p,
			 FILE *out)
{
	const struct target_spec *t = &pb->target;
	const struct ready_spec *rd = &t->ready;
	char b1[32], b2[32], sum[160];

	switch (t->mode) {
	case TARGET_COMMAND:
		fprintf(out, "target     ");
		print_argv(out, t->argv);
		fprintf(out, "\n           binary %s: %s\n",
			p->exe[0] ? p->exe : t->argv[0],
			run_binary_summary(p, sum, sizeof(sum)));
		if (t->cwd)
			fprintf(out, "           cwd %s\n", t->cwd);
		for (size_t i = 0; i < t->n_env; i++)
			fprintf(out, "           env %s\n", t->env[i]);
		break;
	case TARGET_PID:
	case TARGET_PROCESS:
	case TARGET_MODE_MAX:
	default:
		print_attached(pb, p, out);
		return;
	}
	dur(rd->timeout_ns, b1, sizeof(b1));
	switch (rd->kind) {
	case READY_HTTP:
		fprintf(out, "ready      http %s (timeout %s)\n", rd->http_url,
			b1);
		break;
	case READY_TCP:
		fprintf(out, "ready      tcp %s:%u (timeout %s)\n",
			rd->tcp_host, rd->tcp_port, b1);
		break;
	case READY_AFTER:
		fprintf(out, "ready      after %s\n",
			dur(rd->after_ns, b2, sizeof(b2)));
		break;
	case READY_NONE:
	case READY_KIND_MAX:
	default:
		fprintf(out, "ready      as soon as the command runs\n");
		break;
	}
	fprintf(out, "stop       SIGTERM, SIGKILL after %s\n",
		dur(t->stop_grace_ns, b2, sizeof(b2)));
}

static void print_load(const struct load_spec *l, FILE *out)
{
	char b1[32], b2[32];

	switch (l->kind) {
	case LOAD_HTTP:
		fprintf(
		    out,
		    "load       http %s %s at %g/s, up to %d in flight, timeout %s\n",
		    l->method ? l->method : "GET", l->url, l->rate_per_s,
		    l->connections,
		    dur(l->timeout_ns, b1, sizeof(b1)));
		break;
	case LOAD_COMMAND:
		fprintf(out, "load       command ");
		print_argv(out, l->argv);
		fprintf(out, " every %s, timeout %s\n",
			dur(l->every_ns, b1, sizeof(b1)),
			dur(l->timeout_ns, b2, sizeof(b2)));
		break;
	case LOAD_NONE:
	case LOAD_KIND_MAX:
	default:
		fprintf(
		    out,
		    "load       none (latency and error gates cannot be measured)\n");
		break;
	}
}

static void print_phases(const struct playbook *pb, FILE *out)
{
	int64_t t = 0;
	char b1[32], b2[32], b3[32];

	fprintf(out, "phases\n");
	for (int i = 0; i < PHASE_MAX; i++) {
		fprintf(
		    out, "  %-9s %-6s %s..%s\n", phase_name(i),
		    dur(pb->phase_ns[i], b1, sizeof(b1)),
		    dur(t, b2, sizeof(b2)),
		    dur(t + pb->phase_ns[i], b3, sizeof(b3)));
		t += pb->phase_ns[i];
	}
}

static void print_selectors(const struct fault_spec *f, FILE *out)
{
	char b1[32], b2[32];

	if (f->kind != FAULT_SLOW_IO && f->kind != FAULT_IO_ERROR)
		return;
	fprintf(out, "      %s%s%s on %s",
		f->syscalls & FAULT_SYS_READ ? "read" : "",
		(f->syscalls & FAULT_SYS_READ) &&
			(f->syscalls & FAULT_SYS_WRITE)
		    ? ","
		    : "",
		f->syscalls & FAULT_SYS_WRITE ? "write" : "",
		fault_fds_name(f->fds));
	for (size_t i = 0; i < f->n_paths; i++)
		fprintf(out, "%s'%s'", i ? ", " : ", paths ", f->paths[i]);
	for (size_t i = 0; i < f->n_peers; i++)
		fprintf(out, "%s%s:%u", i ? ", " : ", peers ", f->peers[i].host,
			f->peers[i].port);
	if (f->kind == FAULT_SLOW_IO)
		fprintf(out, ", delay %s +-%s",
			dur(f->delay_ns, b1, sizeof(b1)),
			dur(f->jitter_ns, b2, sizeof(b2)));
	else
		fprintf(out, ", errno %s",
			fault_errno_name(f->err) ? fault_errno_name(f->err)
						 : "?");
	fprintf(out, ", probability %g%%\n", f->probability * 100.0);
}

/* Keys the playbook may give every fault, but that this one ignores. */
static void print_no_effect(const struct fault_spec *f, const struct fault_plan *fp, FILE *out)
{
	bool rolls = f->kind == FAULT_SLOW_IO || f->kind == FAULT_IO_ERROR ||
		     f->kind == FAULT_CGO_BLOCK;

	if (f->probability < 1.0 && !rolls)
		fprintf(out, "      note: 'probability' has no effect on %s (only slow-io, "
			     "io-error and cgo-block roll it)\n",
			fault_kind_name(f->kind));
	if (fp->status == 0 && fp->backend == FAULT_BACKEND_ENV && (f->at_ns > 0 || f->for_ns >= 0))
		fprintf(out, "      note: 'at' and 'for' have no effect with mode: launch "
			     "(the value holds from the start)\n");
}

static void print_fault(const struct playbook *pb, size_t i,
			const struct fault_plan *fp, FILE *out)
{
	const struct fault_spec *f = &pb->faults[i];
	int64_t base = pb->phase_ns[PHASE_BASELINE];
	int64_t end = fault_window_end(f, pb->phase_ns[PHASE_FAULT]);
	char b[4][32];

	if (fp->status == 0 && fp->backend == FAULT_BACKEND_ENV) {
		fprintf(out, "  %zu %s, the whole run (set at launch)\n", i + 1,
			fault_kind_name(f->kind));
		goto params;
	}
	fprintf(out,
		"  %zu %s, window %s..%s of the fault phase (run %s..%s)\n",
		i + 1, fault_kind_name(f->kind),
		dur(f->at_ns, b[0], sizeof(b[0])),
		dur(end, b[1], sizeof(b[1])),
		dur(base + f->at_ns, b[2], sizeof(b[2])),
		dur(base + end, b[3], sizeof(b[3])));
params:
	print_selectors(f, out);
	if (f->kind == FAULT_GOMAXPROCS)
		fprintf(
		    out, "      GOMAXPROCS=%d%s\n", f->gomaxprocs,
		    f->gomaxprocs_mode == FAULT_GOMAXPROCS_LAUNCH
			? ", set at launch: applies for the whole run, not only the window"
			: "");
	print_no_effect(f, fp, out);
	if (fp->status == 0)
		fprintf(out, "      backend %s (%s)\n",
			fault_backend_name(fp->backend), fp->why);
	else if (fp->status == -ENOSYS)
		fprintf(out, "      backend %s: not in this version\n",
			fault_backend_name(fp->backend));
	else
		fprintf(out, "      cannot be served: %s\n", fp->why);
}

static void print_exprs(const char *title, const struct gate_expr *g, size_t n,
			FILE *out)
{
	if (n && title)
		fprintf(out, "%s\n", title);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %s\n", g[i].text);
}

int run_plan_print(const struct playbook *pb, FILE *out)
{
	struct fg_error err = {0};
	struct run_prep p;
	char line[700];
	int r;

	r = run_prepare(pb, &p, &err);
	if (r == -ENOMEM) {
		log_error("%s", err.msg);
		return 2;
	}
	fprintf(out, "playbook   %s (%s)\n", pb->name, pb->path);
	if (pb->description) {
		int len = (int)strlen(pb->description);

		/* Block scalars keep their final newline; the layout adds one. */
		while (len > 0 && isspace((unsigned char)pb->description[len - 1]))
			len--;
		fprintf(out, "           %.*s\n", len, pb->description);
	}
	print_target(pb, &p, out);
	print_load(&pb->load, out);
	print_phases(pb, out);
	fputs(pb->n_faults ? "faults\n" : "faults     none\n", out);
	for (size_t i = 0; i < pb->n_faults; i++)
		print_fault(pb, i, &p.faults[i], out);
	fprintf(out, "gates\n");
	print_exprs(NULL, pb->gates, pb->n_gates, out);
	fprintf(
	    out,
	    "  target.alive (built in: the target must live through the run)\n");
	print_exprs("abort", pb->aborts, pb->n_aborts, out);
	fprintf(out, "report     %s/\n", pb->report_dir);
	run_prep_done(&p);
	if (r < 0) {
		fflush(out);
		fprintf(stderr, "%s\n", fg_error_format(&err, pb->path, line, sizeof(line)));
		return 2;
	}
	return 0;
}
