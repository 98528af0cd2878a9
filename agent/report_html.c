// SPDX-License-Identifier: Apache-2.0
/* report.html: the story of a run on one page. Timelines on a shared time
 * axis (inline SVG) with the fault windows shaded, the gates with their
 * verdicts, and the plan. No script and no external asset, so the file can
 * be archived, mailed and printed as it is. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "report.h"
#include "taskstats.h"
#include "units.h"

/* Chart geometry in SVG user units; the SVG scales to the page width. */
#define CW 1000.0
#define CH 188.0
#define PL 64.0		/* plot area: left, right, top, bottom */
#define PR 984.0
#define PT 34.0
#define PB 160.0

struct series {
	const char *name;
	const char *colour;
	double *t, *y;	/* seconds since t0; NAN breaks the line */
	size_t n;
};

struct chart {
	const char *id;
	const char *title;
	const char *unit;
	struct series s[2];
	size_t n_series;
	const char *empty;	/* shown instead of lines when nothing was measured */
};

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static double x_of(double t, double tmax)
{
	return PL + (PR - PL) * (t < 0 ? 0 : t > tmax ? tmax : t) / tmax;
}

static double y_of(double v, double ymax)
{
	return PB - (PB - PT) * (v < 0 ? 0 : v > ymax ? ymax : v) / ymax;
}

/* A round step that cuts @span into about @parts. */
static double nice_step(double span, int parts)
{
	double raw = span / parts, mag = pow(10, floor(log10(raw))), f = raw / mag;

	if (f <= 1)
		return mag;
	if (f <= 2)
		return 2 * mag;
	if (f <= 5)
		return 5 * mag;
	return 10 * mag;
}

static double series_max(const struct chart *c)
{
	double m = 0;

	for (size_t k = 0; k < c->n_series; k++)
		for (size_t i = 0; i < c->s[k].n; i++)
			if (isfinite(c->s[k].y[i]) && c->s[k].y[i] > m)
				m = c->s[k].y[i];
	return m;
}

/* Phase boundaries and fault windows, under the lines. */
static void draw_windows(FILE *f, const struct run_results *r, double tmax)
{
	for (size_t i = 0; r->pb && r->faults && i < r->pb->n_faults; i++) {
		const struct fault_result *fr = &r->faults[i];
		double x0 = x_of(fr->window_start_s, tmax), x1 = x_of(fr->window_end_s, tmax);

		if (!fr->applied || fr->inject_failed || x1 <= x0)
			continue;
		fprintf(f,
			"<rect class=\"win\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
			"<text class=\"winl\" x=\"%.1f\" y=\"%.1f\">fault %zu: %s</text>\n",
			x0, PT, x1 - x0, PB - PT, x0 + 3, PT + 10 + 10.0 * (double)i, i + 1,
			fault_kind_name(r->pb->faults[i].kind));
	}
	for (int p = 1; p < PHASE_MAX; p++) {
		double x = x_of(r->phase_start_s[p], tmax);

		if (r->phase_start_s[p] >= tmax)
			continue;
		fprintf(f,
			"<line class=\"ph\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x,
			PT - 4, x, PB);
	}
	for (int p = 0; p < PHASE_MAX; p++)
		if (r->phase_start_s[p] < tmax)
			fprintf(f, "<text class=\"phl\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
				x_of(r->phase_start_s[p], tmax) + 3, PT - 5,
				phase_name((enum phase)p));
}

static void draw_axes(FILE *f, double tmax, double ymax, const char *unit)
{
	double xs = nice_step(tmax, 10), ys = nice_step(ymax, 4);

	for (double y = 0; y <= ymax + ys / 1e6; y += ys)
		fprintf(f,
			"<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"yl\" x=\"%.1f\" y=\"%.1f\">%g</text>\n",
			PL, y_of(y, ymax), PR, y_of(y, ymax), PL - 6, y_of(y, ymax) + 4, y);
	for (double t = 0; t <= tmax + xs / 1e6; t += xs)
		fprintf(f, "<text class=\"xl\" x=\"%.1f\" y=\"%.1f\">%gs</text>\n", x_of(t, tmax),
			PB + 16, t);
	fprintf(f,
		"<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<text class=\"unit\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
		PL, PB, PR, PB, 4.0, PT - 5, unit);
}

static void draw_series(FILE *f, const struct series *s, double tmax, double ymax)
{
	bool open = false;

	for (size_t i = 0; i < s->n; i++) {
		if (!isfinite(s->y[i])) {
			if (open)
				fputs("\"/>\n", f);
			open = false;
			continue;
		}
		if (!open)
			fprintf(f, "<polyline class=\"ln\" stroke=\"%s\" points=\"", s->colour);
		fprintf(f, "%.1f,%.1f ", x_of(s->t[i], tmax), y_of(s->y[i], ymax));
		open = true;
	}
	if (open)
		fputs("\"/>\n", f);
}

static void draw_chart(FILE *f, const struct run_results *r, const struct chart *c,
		       double tmax)
{
	double ymax = series_max(c);
	double x = PR;

	ymax = ymax > 0 ? nice_step(ymax * 1.1, 4) * ceil(ymax * 1.1 / nice_step(ymax * 1.1, 4))
			: 1;
	fprintf(f, "<figure class=\"chart\"><figcaption>%s</figcaption>\n", c->title);
	fprintf(f,
		"<svg id=\"%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n",
		c->id, CW, CH, c->title);
	draw_windows(f, r, tmax);
	draw_axes(f, tmax, ymax, c->unit);
	for (size_t k = 0; k < c->n_series; k++)
		draw_series(f, &c->s[k], tmax, ymax);
	for (size_t k = c->n_series; k-- > 0;) {
		x -= 8.0 * (double)strlen(c->s[k].name) + 26;
		fprintf(f,
			"<rect x=\"%.1f\" y=\"6\" width=\"12\" height=\"4\" fill=\"%s\"/>"
			"<text class=\"lg\" x=\"%.1f\" y=\"13\">%s</text>\n",
			x, c->s[k].colour, x + 16, c->s[k].name);
	}
	if (c->empty)
		fprintf(f, "<text class=\"empty\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
			(PL + PR) / 2, (PT + PB) / 2, c->empty);
	fputs("</svg></figure>\n", f);
}

/* Series storage: every chart's arrays live in one arena freed at the end. */
struct arena {
	double *mem;
	size_t used, cap;
};

static double *take(struct arena *a, size_t n)
{
	double *p;

	if (a->used + n > a->cap)
		return NULL;
	p = a->mem + a->used;
	a->used += n;
	for (size_t i = 0; i < n; i++)
		p[i] = NAN;
	return p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Per-second load figures: p50, p99, requests, errors. */
static void load_series(const struct run_results *r, struct arena *a, struct chart *lat,
			struct chart *tp, struct chart *err)
{
	size_t n = r->load_run ? load_seconds(r->load_run) : 0;
	struct load_stats *st = malloc(sizeof(*st));
	double *t = take(a, n), *p50 = take(a, n), *p99 = take(a, n);
	double *rq = take(a, n), *er = take(a, n);

	if (!st || !t || !p50 || !p99 || !rq || !er || n == 0) {
		free(st);
		lat->empty = tp->empty = err->empty = "no load configured or no request completed";
		return;
	}
	for (size_t i = 0; i < n; i++) {
		load_second_stats(r->load_run, i, st);
		t[i] = (double)i + 0.5;
		rq[i] = (double)st->served;
		er[i] = (double)st->errors;
		if (st->latency.count) {
			p50[i] = (double)hist_quantile(&st->latency, 0.5) / 1e6;
			p99[i] = (double)hist_quantile(&st->latency, 0.99) / 1e6;
		}
	}
	free(st);
	*lat = (struct chart){ lat->id, lat->title, lat->unit,
			       { { "p50", "#2f6fb5", t, p50, n }, { "p99", "#d9480f", t, p99, n } },
			       2, NULL };
	tp->s[0] = (struct series){ "answered/s", "#2b8a3e", t, rq, n };
	tp->n_series = 1;
	err->s[0] = (struct series){ "errors/s", "#c92a2a", t, er, n };
	err->n_series = 1;
}

static void vitals_series(const struct run_results *r, struct arena *a, struct chart *rss,
			  struct chart *thr)
{
	size_t n = r->samples ? r->n_samples : 0;
	double *t = take(a, n), *m = take(a, n), *th = take(a, n);

	if (!t || !m || !th || n == 0) {
		rss->empty = thr->empty = "no vitals were sampled";
		return;
	}
	for (size_t i = 0; i < n; i++) {
		t[i] = (double)r->samples[i].t_ns / 1e9;
		m[i] = (double)r->samples[i].rss_bytes / (1024.0 * 1024.0);
		th[i] = r->samples[i].threads;
	}
	rss->s[0] = (struct series){ "RSS", "#5f3dc4", t, m, n };
	rss->n_series = 1;
	thr->s[0] = (struct series){ "threads", "#0b7285", t, th, n };
	thr->n_series = 1;
}

/* Run-queue delay per second: p50 and p99 of the per-thread sched delays of
 * the second's samples (the sched_delay metrics, one second at a time). */
static void runqueue_series(const struct run_results *r, struct arena *a, struct chart *c)
{
	double last = r->n_samples ? (double)r->samples[r->n_samples - 1].t_ns / 1e9 : 0;
	size_t n = last > 0 ? (size_t)ceil(last) + 1 : 0, i = 0;
	double *t = take(a, n), *p99 = take(a, n), *p50 = take(a, n);
	fg_autofree double *buf = NULL;
	size_t cap = 0;

	if (!t || !p99 || !p50 || n == 0) {
		c->empty = "no vitals were sampled";
		return;
	}
	for (size_t k = 0; k < r->n_samples; k++)
		cap += r->samples[k].n_sched_delays;
	buf = malloc((cap ? cap : 1) * sizeof(*buf));
	if (!buf)
		return;
	for (size_t sec = 0; sec < n; sec++) {
		size_t m = 0;

		t[sec] = (double)sec + 0.5;
		for (; i < r->n_samples && r->samples[i].t_ns < (int64_t)(sec + 1) * 1000000000LL;
		     i++) {
			const struct vital_sample *s = &r->samples[i];

			if (s->t_ns < 0)
				continue;
			for (uint32_t j = 0; j < s->n_sched_delays; j++)
				buf[m++] = s->sched_delay_ms[j];
		}
		if (m) {
			qsort(buf, m, sizeof(*buf), cmp_double);
			p50[sec] = buf[(size_t)ceil(0.50 * (double)m) - 1];
			p99[sec] = buf[(size_t)ceil(0.99 * (double)m) - 1];
		}
	}
	c->s[0] = (struct series){ "p50", "#2f6fb5", t, p50, n };
	c->s[1] = (struct series){ "p99", "#e8590c", t, p99, n };
	c->n_series = 2;
}

/* taskstats delays per second, summed over threads: CPU and block I/O. */
static void delay_series(const struct run_results *r, struct arena *a, struct chart *c)
{
	static char why[192];
	double last = r->n_samples ? (double)r->samples[r->n_samples - 1].t_ns / 1e9 : 0;
	size_t n = last > 0 ? (size_t)ceil(last) + 1 : 0;
	double *t = take(a, n), *cpu = take(a, n), *blk = take(a, n);
	bool no_blk = results_delay_missing(r, TASK_DELAY_BLKIO, why, sizeof(why));

	if (results_delay_missing(r, TASK_DELAY_CPU, why, sizeof(why)) || !t || !cpu || !blk ||
	    n == 0) {
		c->empty = why[0] ? why : "no vitals were sampled";
		return;
	}
	for (size_t sec = 0; sec < n; sec++)
		t[sec] = (double)sec + 0.5;
	for (size_t i = 0; i < r->n_samples; i++) {
		const struct vital_sample *s = &r->samples[i];
		size_t sec;

		if (s->t_ns < 0 || !s->has_delays)
			continue;
		sec = (size_t)(s->t_ns / 1000000000LL);
		if (sec >= n)
			continue;
		cpu[sec] = (isfinite(cpu[sec]) ? cpu[sec] : 0) + (double)s->cpu_delay_ns / 1e6;
		if (!no_blk)
			blk[sec] = (isfinite(blk[sec]) ? blk[sec] : 0) +
				   (double)s->blkio_delay_ns / 1e6;
	}
	c->s[0] = (struct series){ "CPU delay", "#e8590c", t, cpu, n };
	c->s[1] = (struct series){ no_blk ? "block I/O (missing)" : "block-I/O delay", "#1971c2",
				   t, blk, n };
	c->n_series = 2;
}

static void write_charts(FILE *f, const struct run_results *r)
{
	struct chart c[7] = {
		{ "chart-latency", "Latency per second", "ms", {}, 0, NULL },
		{ "chart-throughput", "Throughput", "req/s", {}, 0, NULL },
		{ "chart-errors", "Errors", "per s", {}, 0, NULL },
		{ "chart-rss", "Resident memory", "MiB", {}, 0, NULL },
		{ "chart-threads", "Threads", "count", {}, 0, NULL },
		{ "chart-runqueue",
		  "Run-queue delay per scheduling (sched_delay, per thread)", "ms",
		  {}, 0, NULL },
		{ "chart-delays", "Kernel delay accounting (taskstats), summed over threads",
		  "ms/s", {}, 0, NULL },
	};
	size_t secs = r->load_run ? load_seconds(r->load_run) : 0;
	size_t need = 5 * secs + 3 * r->n_samples + 6 * ((size_t)r->duration_s + 2) + 16;
	struct arena a = { .mem = malloc(need * sizeof(double)), .cap = need };
	double tmax = r->duration_s > 0.5 ? r->duration_s : 1;

	if (!a.mem) {
		fputs("<p class=\"note\">out of memory drawing the charts</p>\n", f);
		return;
	}
	load_series(r, &a, &c[0], &c[1], &c[2]);
	vitals_series(r, &a, &c[3], &c[4]);
	runqueue_series(r, &a, &c[5]);
	delay_series(r, &a, &c[6]);
	fputs("<section><h2>Timelines</h2>\n<p class=\"hint\">Shaded: fault windows. "
	      "Dashed lines: phase boundaries. Every chart shares the time axis.</p>\n",
	      f);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		draw_chart(f, r, &c[i], tmax);
	fputs("</section>\n", f);
	free(a.mem);
}

static void write_gates(FILE *f, const struct run_results *r)
{
	char vb[48], bb[48];

	fputs("<section><h2>Gates</h2>\n<table><thead><tr><th>gate</th><th>phase</th>"
	      "<th>value</th><th>bound</th><th>result</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < r->n_gates; i++) {
		const struct gate_result *g = &r->gates[i];

		fputs("<tr><td><code>", f);
		esc(f, g->text);
		fprintf(f, "</code></td><td>%s</td><td>%s</td><td>",
			g->phase == PHASE_ALL ? "all" : phase_name((enum phase)g->phase),
			g->measured ? metric_format(g->unit, g->value, vb, sizeof(vb)) : "-");
		esc(f, g->expr ? gate_op_text(g->expr->op) : "=");
		fprintf(f, " %s</td>",
			isfinite(g->bound) ? metric_format(g->unit, g->bound, bb, sizeof(bb))
					   : "?");
		fprintf(f, "<td class=\"%s\">%s", g->pass ? "pass" : "fail",
			g->pass ? "PASS" : "FAIL");
		if (!g->pass && g->reason[0]) {
			fputs("<div class=\"why\">", f);
			esc(f, g->reason);
			fputs("</div>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

static void write_target(FILE *f, const struct run_results *r)
{
	const struct target_spec *t = &r->pb->target;
	char how[96];

	fputs("<dt>target</dt><dd><code>", f);
	for (size_t i = 0; t->argv && t->argv[i]; i++) {
		esc(f, t->argv[i]);
		fputc(' ', f);
	}
	fprintf(f, "</code> pid %d", r->target.pid);
	if (r->target.is_go) {
		fputs(", Go ", f);
		esc(f, r->target.go_version);
	}
	fprintf(f, "%s; %s</dd>\n", r->target.is_static ? ", static" : "",
		results_exit_text(r->target.exit_status, how, sizeof(how)));
}

static void write_plan(FILE *f, const struct run_results *r)
{
	const struct playbook *pb = r->pb;
	const struct load_spec *l = &pb->load;
	char d[3][32], what[160];

	fputs("<section><h2>Plan</h2><dl>\n", f);
	write_target(f, r);
	fputs("<dt>load</dt><dd>", f);
	if (l->kind == LOAD_HTTP) {
		esc(f, l->method ? l->method : "GET");
		fputs(" <code>", f);
		esc(f, l->url);
		fprintf(f, "</code> at %.0f/s, %d connections</dd>\n", l->rate_per_s,
			l->connections);
	} else if (l->kind == LOAD_COMMAND) {
		fputs("command <code>", f);
		for (size_t i = 0; l->argv && l->argv[i]; i++) {
			esc(f, l->argv[i]);
			fputc(' ', f);
		}
		fprintf(f, "</code> every %s</dd>\n",
			fg_format_duration(l->every_ns, d[0], sizeof(d[0])));
	} else {
		fputs("none</dd>\n", f);
	}
	fprintf(f, "<dt>phases</dt><dd>baseline %s, fault %s, recovery %s</dd>\n",
		fg_format_duration(pb->phase_ns[PHASE_BASELINE], d[0], sizeof(d[0])),
		fg_format_duration(pb->phase_ns[PHASE_FAULT], d[1], sizeof(d[1])),
		fg_format_duration(pb->phase_ns[PHASE_RECOVERY], d[2], sizeof(d[2])));
	fputs("</dl>\n<table><thead><tr><th>#</th><th>fault</th><th>backend</th><th>window</th>"
	      "<th>counters</th><th>note</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < pb->n_faults; i++) {
		const struct fault_result *fr = &r->faults[i];

		fprintf(f, "<tr><td>%zu</td><td>%s</td><td>%s</td>", i + 1,
			fault_kind_name(pb->faults[i].kind), fault_backend_name(fr->backend));
		if (fr->applied && !fr->inject_failed)
			fprintf(f, "<td>%.1f&ndash;%.1fs</td>", fr->window_start_s,
				fr->window_end_s);
		else
			fputs(fr->applied ? "<td>not injected</td>" : "<td>not reached</td>", f);
		fputs("<td>", f);
		esc(f, report_fault_summary(&pb->faults[i], fr, what, sizeof(what)));
		fputs("</td><td>", f);
		esc(f, fr->note);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

/* What the vitals could not measure, and how threads were followed. */
static void write_notes(FILE *f, const struct run_results *r)
{
	const struct vitals_info *vi = &r->vitals;
	char why[192];

	fputs("<section><h2>Measurement notes</h2><ul class=\"notes\">\n", f);
	if (!vi->sampled) {
		fputs("<li>No vitals were sampled.</li></ul></section>\n", f);
		return;
	}
	fprintf(f, "<li>Vitals sampled every %.0f ms; threads followed by %s.", 
		(double)vi->sampler.interval_ns / 1e6,
		vi->sampler.proc_events ? "the process events connector" : "rescans of /proc");
	if (!vi->sampler.proc_events && vi->sampler.threads_why[0]) {
		fputc(' ', f);
		esc(f, vi->sampler.threads_why);
	}
	fputs("</li>\n", f);
	if (results_delay_missing(r, TASK_DELAY_CPU, why, sizeof(why))) {
		fputs("<li class=\"miss\">", f);
		esc(f, why);
		fputs("</li>\n", f);
	} else if (results_delay_missing(r, TASK_DELAY_BLKIO, why, sizeof(why))) {
		fputs("<li class=\"miss\">Block-I/O, swap-in, reclaim and thrashing delays: ", f);
		esc(f, why);
		fputs("</li>\n", f);
	}
	if (vi->delayacct_on)
		fputs("<li>kernel.task_delayacct was on for the run and set back afterwards; "
		      "threads that existed before it was switched on count fully only from "
		      "then on.</li>\n",
		      f);
	if (vi->sampler.delays_discarded)
		fprintf(f, "<li>%llu per-thread delay readings were larger than the wall time "
			   "between samples and were dropped.</li>\n",
			(unsigned long long)vi->sampler.delays_discarded);
	fputs("</ul></section>\n", f);
}

static const char css[] =
	"body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;color:#212529;"
	"margin:0 auto;max-width:1180px;padding:16px 20px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px;"
	"border-bottom:1px solid #dee2e6;padding-bottom:3px}"
	".verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;"
	"font-weight:600;margin-left:8px}.v-pass{background:#2b8a3e}.v-fail{background:#c92a2a}"
	".v-aborted{background:#e67700}.v-error{background:#862e9c}"
	".meta{color:#495057}.hint{color:#868e96;font-size:12px;margin:0 0 6px}"
	"figure.chart{margin:0 0 4px;break-inside:avoid}"
	"figcaption{font-weight:600;font-size:13px}"
	"svg{width:100%;height:auto;display:block}"
	"svg text{font:11px system-ui,sans-serif;fill:#495057}"
	".yl{text-anchor:end}.xl{text-anchor:middle}.lg{font-size:12px}"
	".grid{stroke:#e9ecef}.axis{stroke:#adb5bd}"
	".ph{stroke:#495057;stroke-dasharray:4 3}.phl{font-weight:600}"
	".win{fill:#fa5252;fill-opacity:.13}.winl{fill:#c92a2a;font-weight:600}"
	".ln{fill:none;stroke-width:1.8;stroke-linejoin:round}"
	".empty{text-anchor:middle;fill:#868e96;font-style:italic}"
	"table{border-collapse:collapse;width:100%;font-size:13px}"
	"th,td{border-bottom:1px solid #e9ecef;padding:4px 6px;text-align:left;"
	"vertical-align:top}th{background:#f8f9fa}"
	".pass{color:#2b8a3e;font-weight:600}.fail{color:#c92a2a;font-weight:600}"
	".why{color:#495057;font-weight:400;font-size:12px}"
	"dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 8px}"
	"dt{font-weight:600}dd{margin:0}.miss{color:#c92a2a}"
	"code{font:12px ui-monospace,monospace;word-break:break-all}"
	"@media print{body{max-width:none;padding:0;font-size:11px}"
	"h2{break-after:avoid}section{break-inside:auto}tr{break-inside:avoid}"
	"figure.chart{break-inside:avoid}}";

static void write_page(FILE *f, const struct run_results *r)
{
	const char *v = verdict_name(r->verdict);

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      f);
	esc(f, r->pb && r->pb->name ? r->pb->name : "faultgate run");
	fprintf(f, " &ndash; faultgate</title>\n<style>%s</style></head><body>\n<h1>", css);
	esc(f, r->pb && r->pb->name ? r->pb->name : "faultgate run");
	fprintf(f, "<span class=\"verdict v-%s\">%s</span></h1>\n<p class=\"meta\">", v, v);
	fprintf(f, "started %s, %.1f s", r->started_at[0] ? r->started_at : "-", r->duration_s);
	if (r->verdict_reason[0]) {
		fputs(" &mdash; ", f);
		esc(f, r->verdict_reason);
	}
	fputs("</p>\n", f);
	write_charts(f, r);
	write_gates(f, r);
	if (r->pb)
		write_plan(f, r);
	write_notes(f, r);
	fputs("</body></html>\n", f);
}

int report_write_html(const struct run_results *r, const char *dir)
{
	fg_autofree char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int k;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	write_page(f, r);
	k = fclose(f) == 0 ? 0 : -ENOMEM;
	if (k < 0)
		return k;
	return report_write_file(dir, "report.html", buf, len);
}
