// SPDX-License-Identifier: Apache-2.0
/* The console report (phases, faults, gates, verdict) and the atomic file
 * writer shared by report.json and junit.xml. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "report.h"
#include "taskstats.h"
#include "units.h"

#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

struct console {
	FILE *out;
	bool colour;
};

static bool want_colour(FILE *out)
{
	const char *no = secure_getenv("NO_COLOR");

	if (no && *no)
		return false;
	return isatty(fileno(out)) == 1;
}

static const char *paint(const struct console *c, const char *code)
{
	return c->colour ? code : "";
}

/* Latency in at most 8 columns: "0.42ms", "12.3ms", "850ms", "2.50s". */
static const char *fmt_ms(double ms, char *buf, size_t size)
{
	if (ms < 10)
		snprintf(buf, size, "%.2fms", ms);
	else if (ms < 100)
		snprintf(buf, size, "%.1fms", ms);
	else if (ms < 1000)
		snprintf(buf, size, "%.0fms", ms);
	else
		snprintf(buf, size, "%.2fs", ms / 1000);
	return buf;
}

/* One column of the phases table: the metric, or "-" when unmeasured. */
static const char *cell(const struct run_results *r, enum metric_id m,
			int phase, char *buf, size_t size)
{
	double v;

	if (results_metric(r, m, phase, &v, NULL, 0) < 0)
		return "-";
	if (m >= METRIC_LATENCY_P50 && m <= METRIC_LATENCY_MEAN)
		return fmt_ms(v, buf, size);
	if (m == METRIC_ERRORS_RATE)
		snprintf(buf, size, "%.2f%%", v * 100);
	else if (m == METRIC_THROUGHPUT)
		snprintf(buf, size, "%.1f", v);
	else if (m == METRIC_RSS_MAX)
		fg_format_size(v, buf, size);
	else
		snprintf(buf, size, "%.0f", v);
	return buf;
}

static void print_phase_row(const struct run_results *r, FILE *out, int p)
{
	char win[32], c[8][24];
	const char *name =
	    p == PHASE_ALL ? "whole run" : phase_name((enum phase)p);
	double from = p == PHASE_ALL ? 0 : r->phase_start_s[p];
	double to = p == PHASE_ALL ? r->duration_s : r->phase_end_s[p];

	if (p != PHASE_ALL && to <= from)
		snprintf(win, sizeof(win), "not run");
	else
		snprintf(win, sizeof(win), "%.1f-%.1fs", from, to);
	fprintf(out, "%-9s %11s %8s %8s %8s %8s %8s %7s %9s %7s\n", name, win,
		cell(r, METRIC_REQUESTS_COUNT, p, c[0], sizeof(c[0])),
		cell(r, METRIC_THROUGHPUT, p, c[1], sizeof(c[1])),
		cell(r, METRIC_LATENCY_P50, p, c[2], sizeof(c[2])),
		cell(r, METRIC_LATENCY_P99, p, c[3], sizeof(c[3])),
		cell(r, METRIC_LATENCY_MAX, p, c[4], sizeof(c[4])),
		cell(r, METRIC_ERRORS_RATE, p, c[5], sizeof(c[5])),
		cell(r, METRIC_RSS_MAX, p, c[6], sizeof(c[6])),
		cell(r, METRIC_THREADS_MAX, p, c[7], sizeof(c[7])));
}

static void print_phases(const struct run_results *r, FILE *out)
{
	int p;

	fprintf(out, "%-9s %11s %8s %8s %8s %8s %8s %7s %9s %7s\n", "phase",
		"time", "requests", "rps", "p50", "p99", "max", "errors",
		"rss max", "threads");
	for (p = 0; p < PHASE_MAX; p++)
		print_phase_row(r, out, p);
	print_phase_row(r, out, PHASE_ALL);
}

/* A vital in the metric's own format, "-" when unmeasured. */
static const char *vcell(const struct run_results *r, enum metric_id m, int phase, char *buf,
			 size_t size)
{
	const struct metric_info *mi = metric_info(m);
	double v;

	if (results_metric(r, m, phase, &v, NULL, 0) < 0)
		return "-";
	return metric_format(mi ? mi->unit : METRIC_UNIT_COUNT, v, buf, size);
}

/* Scheduler and kernel delay figures per phase, then what is missing. */
static void print_sched(const struct run_results *r, FILE *out)
{
	const struct sampler_info *si = &r->vitals.sampler;
	char c[6][24], why[192];

	if (!r->vitals.sampled)
		return;
	fprintf(out, "\n%-9s %9s %9s %9s %9s %10s %10s\n", "phase", "sched p50", "sched p99",
		"rq wait", "nvcsw/s", "cpu delay", "blkio dly");
	for (int p = 0; p <= PHASE_ALL; p++) {
		if (p < PHASE_MAX && r->phase_end_s[p] <= r->phase_start_s[p])
			continue;
		fprintf(out, "%-9s %9s %9s %9s %9s %10s %10s\n",
			p == PHASE_ALL ? "whole run" : phase_name((enum phase)p),
			vcell(r, METRIC_SCHED_DELAY_P50, p, c[0], sizeof(c[0])),
			vcell(r, METRIC_SCHED_DELAY_P99, p, c[1], sizeof(c[1])),
			vcell(r, METRIC_RUNQUEUE_WAIT_RATE, p, c[2], sizeof(c[2])),
			vcell(r, METRIC_CTX_NONVOLUNTARY_RATE, p, c[3], sizeof(c[3])),
			vcell(r, METRIC_CPU_DELAY_TOTAL, p, c[4], sizeof(c[4])),
			vcell(r, METRIC_BLKIO_DELAY_TOTAL, p, c[5], sizeof(c[5])));
	}
	if (results_delay_missing(r, TASK_DELAY_BLKIO, why, sizeof(why)))
		fprintf(out, "  delays missing: %s\n", why);
	fprintf(out, "  sampled every %.0fms, threads followed by %s\n",
		(double)si->interval_ns / 1e6,
		si->proc_events ? "the proc connector" : "rescans of /proc");
}

static const char *known(const char *name)
{
	return name ? name : "?";
}

const char *report_fault_summary(const struct fault_spec *spec, const struct fault_result *f,
				 char *buf, size_t size)
{
	char a[32], b[32], c[32];

	switch (spec->kind) {
	case FAULT_MEM_LEAK:
		snprintf(buf, size, "mapped %s touched %s released %s",
			 fg_format_size((double)f->bytes_mapped, a, sizeof(a)),
			 fg_format_size((double)f->bytes_touched, b, sizeof(b)),
			 fg_format_size((double)f->bytes_released, c, sizeof(c)));
		break;
	case FAULT_PIN_THREADS:
		snprintf(buf, size, "threads pinned %llu", (unsigned long long)f->threads_pinned);
		break;
	case FAULT_FREEZE_THREAD:
		snprintf(buf, size, "frozen %llu times, %s in all, stop latency max %s",
			 (unsigned long long)f->freezes,
			 fg_format_duration(f->frozen_total_ns, a, sizeof(a)),
			 fg_format_duration(f->stop_latency_max_ns, b, sizeof(b)));
		break;
	case FAULT_GOMAXPROCS:
		if (f->backend == FAULT_BACKEND_ENV) {
			snprintf(buf, size, "GOMAXPROCS=%d in the environment from the start",
				 spec->gomaxprocs);
			break;
		}
		if (f->gomaxprocs_before < 0) {
			snprintf(buf, size, "GOMAXPROCS not changed");
			break;
		}
		if (f->restore_ns <= 0)
			snprintf(c, sizeof(c), "not put back");
		else if (f->gomaxprocs_restored >= 0)
			snprintf(c, sizeof(c), "back to %d in %s", f->gomaxprocs_restored,
				 fg_format_duration(f->restore_ns, b, sizeof(b)));
		else
			snprintf(c, sizeof(c), "put back in %s",
				 fg_format_duration(f->restore_ns, b, sizeof(b)));
		snprintf(buf, size, "GOMAXPROCS %d -> %d in %s, %s", f->gomaxprocs_before,
			 f->gomaxprocs_after, fg_format_duration(f->change_ns, a, sizeof(a)), c);
		break;
	case FAULT_SLOW_IO:
	case FAULT_IO_ERROR:
	case FAULT_CGO_BLOCK:
	case FAULT_KIND_MAX:
	default:
		snprintf(buf, size, "seen %-7llu delayed %-7llu failed %-5llu added %s",
			 (unsigned long long)f->seen, (unsigned long long)f->delayed,
			 (unsigned long long)f->failed,
			 fg_format_duration(f->delay_total_ns, a, sizeof(a)));
		break;
	}
	return buf;
}

static void print_faults(const struct run_results *r, FILE *out)
{
	const struct fault_result *f;
	char win[32], what[160];
	size_t i;

	if (!r->pb || r->pb->n_faults == 0 || !r->faults)
		return;
	fprintf(out, "\nfaults\n");
	for (i = 0; i < r->pb->n_faults; i++) {
		f = &r->faults[i];
		if (f->applied && !f->inject_failed)
			snprintf(win, sizeof(win), "%.1f-%.1fs",
				 f->window_start_s, f->window_end_s);
		else
			snprintf(win, sizeof(win), f->applied ? "not injected" : "not reached");
		report_fault_summary(&r->pb->faults[i], f, what, sizeof(what));
		fprintf(out, "  %-13s %-8s %12s  %s\n",
			known(fault_kind_name(r->pb->faults[i].kind)),
			known(fault_backend_name(f->backend)), win, what);
		if (f->note[0])
			fprintf(out, "  %13s %s\n", "", f->note);
	}
}

/* The value or bound of a gate as the user would write it. */
static const char *gate_text(const struct gate_result *g, double v, char *buf,
			     size_t size)
{
	if (g->unit == METRIC_UNIT_BOOL)
		return v >= 1 ? "yes" : "no";
	return metric_format(g->unit, v, buf, size);
}

static void print_gate(const struct console *c, const struct gate_result *g)
{
	const char *phase =
	    g->phase == PHASE_ALL ? "all" : phase_name((enum phase)g->phase);
	const char *op = g->expr ? gate_op_text(g->expr->op) : "=";
	const char *value = "-";
	char vb[32], bb[32], bound[48];
	bool cut = strlen(g->text) > 40;

	if (g->measured)
		value = gate_text(g, g->value, vb, sizeof(vb));
	if (isfinite(g->bound))
		snprintf(bound, sizeof(bound), "%s %s", op,
			 gate_text(g, g->bound, bb, sizeof(bb)));
	else
		snprintf(bound, sizeof(bound), "%s ?", op);
	fprintf(c->out, "  %-*.*s%s %-8s %10s %-12s %s%s%s\n", cut ? 37 : 40,
		cut ? 37 : 40, g->text, cut ? "..." : "", phase, value, bound,
		paint(c, g->pass ? C_GREEN : C_RED), g->pass ? "PASS" : "FAIL",
		paint(c, C_OFF));
	if (!g->pass && g->reason[0])
		fprintf(c->out, "      %s\n", g->reason);
}

static void print_gates(const struct console *c, const struct run_results *r)
{
	size_t i;

	if (r->n_gates == 0)
		return;
	fprintf(c->out, "\n  %-40s %-8s %10s %-12s %s\n", "gate", "phase",
		"value", "bound", "result");
	for (i = 0; i < r->n_gates; i++)
		print_gate(c, &r->gates[i]);
}

static void print_verdict(const struct console *c, const struct run_results *r)
{
	size_t i, failed = 0;

	for (i = 0; i < r->n_gates; i++)
		if (!r->gates[i].pass)
			failed++;
	fprintf(c->out, "\n%sverdict: ", paint(c, C_BOLD));
	switch (r->verdict) {
	case VERDICT_PASS:
		fprintf(c->out, "%sPASS%s (%zu/%zu gates)", paint(c, C_GREEN),
			paint(c, C_OFF), r->n_gates - failed, r->n_gates);
		break;
	case VERDICT_FAIL:
		fprintf(c->out, "%sFAIL%s (%zu of %zu gates failed)",
			paint(c, C_RED), paint(c, C_OFF), failed, r->n_gates);
		break;
	case VERDICT_ABORTED:
		fprintf(c->out, "%sABORTED%s: %s", paint(c, C_YELLOW),
			paint(c, C_OFF),
			r->verdict_reason[0] ? r->verdict_reason
					     : "stopped early");
		break;
	case VERDICT_ERROR:
	case VERDICT_MAX:
	default:
		fprintf(c->out, "%sERROR%s: %s", paint(c, C_RED),
			paint(c, C_OFF),
			r->verdict_reason[0] ? r->verdict_reason
					     : "the run could not complete");
		break;
	}
	fprintf(c->out, "%s\n", paint(c, C_OFF));
}

void report_console(const struct run_results *r, FILE *out)
{
	struct console c = {.out = out, .colour = want_colour(out)};

	if (r->pb)
		fprintf(out,
			"%splaybook '%s'%s  started %s  duration %.1fs\n\n",
			paint(&c, C_BOLD), r->pb->name ? r->pb->name : "?",
			paint(&c, C_OFF),
			r->started_at[0] ? r->started_at : "-", r->duration_s);
	print_phases(r, out);
	print_sched(r, out);
	print_faults(r, out);
	print_gates(&c, r);
	print_verdict(&c, r);
	fflush(out);
}

/* mkdir -p: create @dir and any missing parent. */
static int mkdir_parents(const char *dir)
{
	fg_autofree char *p = strdup(dir);
	char *s;

	if (!p)
		return -ENOMEM;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int report_write_file(const char *dir, const char *name, const char *data,
		      size_t len)
{
	fg_autofree char *tmp = NULL, *dst = NULL;
	fg_autoclose int fd = -1;
	int r;

	r = mkdir_parents(dir);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, name) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	if (asprintf(&dst, "%s/%s", dir, name) < 0) {
		dst = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}
