// SPDX-License-Identifier: Apache-2.0
/* Metric values of a finished run: load metrics from the per-phase
 * histograms, vital summaries from the sample series (design section 3). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "results.h"
#include "taskstats.h"

#define MS_PER_NS 1e-6

/* The four sampled vitals, in the order of their metric ids. */
enum vital_base {
	VITAL_BASE_RSS,
	VITAL_BASE_THREADS,
	VITAL_BASE_GOROUTINES,
	VITAL_BASE_GOMAXPROCS,
	VITAL_BASE_MAX,
};

static void say(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!buf || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

const char *verdict_name(enum verdict v)
{
	static const char *const names[VERDICT_MAX] = {
	    [VERDICT_PASS] = "pass",
	    [VERDICT_FAIL] = "fail",
	    [VERDICT_ABORTED] = "aborted",
	    [VERDICT_ERROR] = "error",
	};

	if ((unsigned)v >= VERDICT_MAX)
		return "unknown";
	return names[v];
}

static bool is_load_metric(enum metric_id m)
{
	return m >= METRIC_LATENCY_P50 && m <= METRIC_THROUGHPUT;
}

static bool is_series_metric(enum metric_id m)
{
	return m >= METRIC_RSS_MAX && m <= METRIC_GOMAXPROCS_GROWTH;
}

/* "in the fault phase", "in the whole run" */
static const char *where(int phase, char *buf, size_t size)
{
	if (phase < 0 || phase >= PHASE_MAX)
		return "in the whole run";
	snprintf(buf, size, "in the %s phase", phase_name((enum phase)phase));
	return buf;
}

static int load_value(const struct load_stats *st, enum metric_id m,
		      double *ret)
{
	const struct fg_hist *h = &st->latency;

	if (st->requests == 0)
		return -ENODATA;
	if (m == METRIC_ERRORS_RATE)
		*ret = (double)st->errors / (double)st->requests;
	else if (m == METRIC_ERRORS_COUNT)
		*ret = (double)st->errors;
	else if (m == METRIC_REQUESTS_COUNT)
		*ret = (double)st->requests;
	else if (m == METRIC_THROUGHPUT)
		*ret = st->seconds > 0 ? (double)st->served / st->seconds : 0;
	else if (h->count == 0)
		return -ENODATA;
	else if (m == METRIC_LATENCY_P50)
		*ret = (double)hist_quantile(h, 0.50) * MS_PER_NS;
	else if (m == METRIC_LATENCY_P90)
		*ret = (double)hist_quantile(h, 0.90) * MS_PER_NS;
	else if (m == METRIC_LATENCY_P99)
		*ret = (double)hist_quantile(h, 0.99) * MS_PER_NS;
	else if (m == METRIC_LATENCY_P999)
		*ret = (double)hist_quantile(h, 0.999) * MS_PER_NS;
	else if (m == METRIC_LATENCY_MAX)
		*ret = (double)h->max_ns * MS_PER_NS;
	else if (m == METRIC_LATENCY_MEAN)
		*ret = hist_mean_ns(h) * MS_PER_NS;
	else
		return -EINVAL;
	return 0;
}

static double sample_s(const struct vital_sample *s)
{
	return (double)s->t_ns / 1e9;
}

static bool in_span(const struct vital_sample *s, double from, double to)
{
	double t = sample_s(s);

	return t >= from && t < to;
}

/* The value of one vital in one sample; false when it was not measured. */
static bool vital_of(const struct vital_sample *s, enum vital_base b,
		     double *ret)
{
	switch (b) {
	case VITAL_BASE_RSS:
		*ret = (double)s->rss_bytes;
		return true;
	case VITAL_BASE_THREADS:
		*ret = s->threads;
		return true;
	case VITAL_BASE_GOROUTINES:
		*ret = s->goroutines;
		return s->goroutines >= 0;
	case VITAL_BASE_GOMAXPROCS:
		*ret = s->gomaxprocs;
		return s->gomaxprocs >= 0;
	case VITAL_BASE_MAX:
	default:
		return false;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank quantile of sorted @v. */
static double sorted_quantile(const double *v, size_t n, double q)
{
	double rank = ceil(q * (double)n);
	size_t i = rank < 1 ? 0 : (size_t)rank - 1;

	return v[i < n ? i : n - 1];
}

static double sorted_median(const double *v, size_t n)
{
	if (n % 2)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median of vital @b over the samples in [from, to). */
static int span_median(const struct vital_sample *s, size_t n,
		       enum vital_base b, double from, double to, double *ret)
{
	fg_autofree double *v = NULL;
	size_t i, k = 0;

	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (in_span(&s[i], from, to) && vital_of(&s[i], b, &v[k]))
			k++;
	if (k == 0)
		return -ENODATA;
	qsort(v, k, sizeof(*v), cmp_double);
	*ret = sorted_median(v, k);
	return 0;
}

/* .end: the median of the span's last second. */
static int span_end(const struct vital_sample *s, size_t n, enum vital_base b,
		    double from, double to, double *ret)
{
	return span_median(s, n, b, to - 1 > from ? to - 1 : from, to, ret);
}

/* .growth of a span measured against its own first second. */
static int span_growth(const struct vital_sample *s, size_t n,
		       enum vital_base b, double from, double to, double *ret)
{
	double first, end;
	int r;

	r = span_end(s, n, b, from, to, &end);
	if (r < 0)
		return r;
	r = span_median(s, n, b, from, from + 1 < to ? from + 1 : to, &first);
	if (r < 0)
		return r;
	*ret = end - first;
	return 0;
}

static int series_summary(const struct vital_sample *s, size_t n,
			  enum metric_id m, double from, double to, double *ret)
{
	enum vital_base b =
	    (enum vital_base)((m - METRIC_RSS_MAX) / VITAL_SUMMARY_MAX);
	enum vital_summary sum =
	    (enum vital_summary)((m - METRIC_RSS_MAX) % VITAL_SUMMARY_MAX);
	double v, lo = INFINITY, hi = -INFINITY, total = 0;
	size_t i, k = 0;

	if (sum == VITAL_END)
		return span_end(s, n, b, from, to, ret);
	if (sum == VITAL_GROWTH)
		return span_growth(s, n, b, from, to, ret);
	for (i = 0; i < n; i++) {
		if (!in_span(&s[i], from, to) || !vital_of(&s[i], b, &v))
			continue;
		lo = fmin(lo, v);
		hi = fmax(hi, v);
		total += v;
		k++;
	}
	if (k == 0)
		return -ENODATA;
	if (sum == VITAL_MAX)
		*ret = hi;
	else if (sum == VITAL_MIN)
		*ret = lo;
	else
		*ret = total / (double)k;
	return 0;
}

/* Nonvoluntary context switches per second between the first and the last
 * sample of the span. */
static int span_ctx_rate(const struct vital_sample *s, size_t n, double from,
			 double to, double *ret)
{
	const struct vital_sample *first = NULL, *last = NULL;
	double dt;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!in_span(&s[i], from, to))
			continue;
		if (!first)
			first = &s[i];
		last = &s[i];
	}
	if (!first || first == last)
		return -ENODATA;
	dt = sample_s(last) - sample_s(first);
	if (dt <= 0)
		return -ENODATA;
	if (last->ctx_nonvoluntary < first->ctx_nonvoluntary)
		*ret = 0;
	else
		*ret =
		    (double)(last->ctx_nonvoluntary - first->ctx_nonvoluntary) /
		    dt;
	return 0;
}

static int span_sched_delay(const struct vital_sample *s, size_t n,
			    enum metric_id m, double from, double to,
			    double *ret)
{
	fg_autofree double *v = NULL;
	size_t i, j, total = 0, k = 0;

	for (i = 0; i < n; i++)
		if (in_span(&s[i], from, to) && s[i].sched_delay_ms)
			total += s[i].n_sched_delays;
	if (total == 0)
		return -ENODATA;
	v = malloc(total * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!in_span(&s[i], from, to) || !s[i].sched_delay_ms)
			continue;
		for (j = 0; j < s[i].n_sched_delays; j++)
			v[k++] = s[i].sched_delay_ms[j];
	}
	qsort(v, k, sizeof(*v), cmp_double);
	if (m == METRIC_SCHED_DELAY_P50)
		*ret = sorted_quantile(v, k, 0.50);
	else if (m == METRIC_SCHED_DELAY_P99)
		*ret = sorted_quantile(v, k, 0.99);
	else
		*ret = v[k - 1];
	return 0;
}

static int span_runqueue_rate(const struct vital_sample *s, size_t n,
			      double from, double to, double *ret)
{
	double wait_ns = 0;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!in_span(&s[i], from, to))
			continue;
		wait_ns += (double)s[i].runqueue_wait_ns;
		k++;
	}
	if (k == 0 || to <= from)
		return -ENODATA;
	*ret = wait_ns / ((to - from) * 1e9);
	return 0;
}

bool results_is_delay_metric(enum metric_id m)
{
	return m >= METRIC_CPU_DELAY_TOTAL && m <= METRIC_THRASHING_DELAY_TOTAL;
}

static unsigned delay_bit(enum metric_id m)
{
	return 1u << (m - METRIC_CPU_DELAY_TOTAL);
}

static uint64_t delay_of(const struct vital_sample *s, enum metric_id m)
{
	if (m == METRIC_CPU_DELAY_TOTAL)
		return s->cpu_delay_ns;
	if (m == METRIC_BLKIO_DELAY_TOTAL)
		return s->blkio_delay_ns;
	if (m == METRIC_SWAPIN_DELAY_TOTAL)
		return s->swapin_delay_ns;
	if (m == METRIC_RECLAIM_DELAY_TOTAL)
		return s->reclaim_delay_ns;
	return s->thrashing_delay_ns;
}

/* A taskstats delay summed over threads and samples of the span, in ms. */
static int span_delay_total(const struct vital_sample *s, size_t n, enum metric_id m,
			    double from, double to, double *ret)
{
	unsigned bit = delay_bit(m);
	double total = 0;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!in_span(&s[i], from, to) || !(s[i].has_delays & bit))
			continue;
		total += (double)delay_of(&s[i], m);
		k++;
	}
	if (k == 0)
		return -ENODATA;
	*ret = total * MS_PER_NS;
	return 0;
}

/* Any vital summary except growth across phases, over [from, to). */
static int span_metric(const struct vital_sample *s, size_t n, enum metric_id m,
		       double from, double to, double *ret)
{
	if (is_series_metric(m))
		return series_summary(s, n, m, from, to, ret);
	if (m == METRIC_CTX_NONVOLUNTARY_RATE)
		return span_ctx_rate(s, n, from, to, ret);
	if (m >= METRIC_SCHED_DELAY_P50 && m <= METRIC_SCHED_DELAY_MAX)
		return span_sched_delay(s, n, m, from, to, ret);
	if (m == METRIC_RUNQUEUE_WAIT_RATE)
		return span_runqueue_rate(s, n, from, to, ret);
	if (results_is_delay_metric(m))
		return span_delay_total(s, n, m, from, to, ret);
	return -EINVAL;
}

int results_vital_window(const struct vital_sample *s, size_t n,
			 enum metric_id metric, double from_s, double to_s,
			 double *ret)
{
	int r;

	if (!s || to_s <= from_s)
		return -ENODATA;
	r = span_metric(s, n, metric, from_s, to_s, ret);
	return r == -EINVAL ? -ENODATA : r;
}

static bool phase_ran(const struct run_results *r, int p)
{
	return r->phase_end_s[p] > r->phase_start_s[p];
}

/* The last phase that ran, or -1. */
static int last_phase(const struct run_results *r)
{
	int p;

	for (p = PHASE_MAX - 1; p >= 0; p--)
		if (phase_ran(r, p))
			return p;
	return -1;
}

static int phase_span(const struct run_results *r, int phase, double *from,
		      double *to)
{
	int last;

	if (phase >= 0 && phase < PHASE_MAX) {
		if (!phase_ran(r, phase))
			return -ENODATA;
		*from = r->phase_start_s[phase];
		*to = r->phase_end_s[phase];
		return 0;
	}
	last = last_phase(r);
	if (last < 0)
		return -ENODATA;
	*from = 0;
	*to = r->phase_end_s[last];
	return 0;
}

int results_phase_span(const struct run_results *r, int phase, double *ret_from, double *ret_to)
{
	return phase_span(r, phase, ret_from, ret_to);
}

bool results_delay_missing(const struct run_results *r, unsigned bit, char *reason, size_t size)
{
	const struct vitals_info *vi = &r->vitals;

	if (!vi->sampled) {
		say(reason, size, "no vitals were sampled");
		return true;
	}
	if (vi->sampler.taskstats_err < 0) {
		say(reason, size, "%s", vi->sampler.taskstats_why);
		return true;
	}
	/* cpu_delay comes from the scheduler's own run_delay: it counts
	 * whatever kernel.task_delayacct says (feasibility section 6). */
	if (bit != TASK_DELAY_CPU && !vi->delayacct_on) {
		say(reason, size,
		    "kernel.task_delayacct was off and could not be switched on (%s)",
		    vi->delayacct_why[0] ? vi->delayacct_why : "unknown reason");
		return true;
	}
	return false;
}

static int delay_metric(const struct run_results *r, enum metric_id m, int phase, double *ret,
			char *reason, size_t size)
{
	double from, to;
	char w[48];

	if (results_delay_missing(r, delay_bit(m), reason, size))
		return -ENODATA;
	if (phase_span(r, phase, &from, &to) < 0) {
		say(reason, size, "the %s phase did not run", phase_name((enum phase)phase));
		return -ENODATA;
	}
	if (span_delay_total(r->samples, r->n_samples, m, from, to, ret) == 0)
		return 0;
	say(reason, size, "the kernel's taskstats record has no such figure, or no "
			  "thread was sampled twice %s", where(phase, w, sizeof(w)));
	return -ENODATA;
}

/* .growth during @phase: its end against the baseline's end; the baseline
 * against its own first second; the whole run means the last phase. */
static int phase_growth(const struct run_results *r, enum metric_id m,
			int phase, double *ret)
{
	enum vital_base b =
	    (enum vital_base)((m - METRIC_RSS_MAX) / VITAL_SUMMARY_MAX);
	double from, to, end, base;
	int rr;

	if (phase == PHASE_ALL)
		phase =
		    phase_ran(r, PHASE_RECOVERY) ? PHASE_RECOVERY : PHASE_FAULT;
	rr = phase_span(r, phase, &from, &to);
	if (rr < 0)
		return rr;
	if (phase == PHASE_BASELINE)
		return span_growth(r->samples, r->n_samples, b, from, to, ret);
	rr = span_end(r->samples, r->n_samples, b, from, to, &end);
	if (rr < 0)
		return rr;
	rr = phase_span(r, PHASE_BASELINE, &from, &to);
	if (rr < 0)
		return rr;
	rr = span_end(r->samples, r->n_samples, b, from, to, &base);
	if (rr < 0)
		return rr;
	*ret = end - base;
	return 0;
}

static bool is_go_vital(enum metric_id m)
{
	return m >= METRIC_GOROUTINES_MAX && m <= METRIC_GOMAXPROCS_GROWTH;
}

static int vitals_metric(const struct run_results *r, enum metric_id m,
			 int phase, double *ret, char *reason, size_t size)
{
	enum vital_summary sum =
	    (enum vital_summary)((m - METRIC_RSS_MAX) % VITAL_SUMMARY_MAX);
	double from, to;
	char w[48];
	int rr;

	if (phase_span(r, phase, &from, &to) < 0) {
		if (phase == PHASE_ALL)
			say(reason, size, "no phase of the run took place");
		else
			say(reason, size, "the %s phase did not run",
			    phase_name((enum phase)phase));
		return -ENODATA;
	}
	if (is_series_metric(m) && sum == VITAL_GROWTH)
		rr = phase_growth(r, m, phase, ret);
	else
		rr = span_metric(r->samples, r->n_samples, m, from, to, ret);
	if (rr == 0)
		return 0;
	if (rr == -ENOMEM)
		say(reason, size, "out of memory");
	else if (is_go_vital(m) && !r->target.is_go)
		say(reason, size, "the target is not a Go program");
	else if (is_go_vital(m))
		say(reason, size,
		    "the Go runtime could not be read (a Go version or build whose runtime "
		    "variables were not found)");
	else if (sum == VITAL_GROWTH && is_series_metric(m))
		say(reason, size,
		    "no vitals samples to compare with the baseline");
	else if (m >= METRIC_SCHED_DELAY_P50 && m <= METRIC_SCHED_DELAY_MAX)
		say(reason, size, "no run-queue delays were sampled %s",
		    where(phase, w, sizeof(w)));
	else
		say(reason, size, "not enough vitals samples %s",
		    where(phase, w, sizeof(w)));
	return -ENODATA;
}

/* Alive through the end of @phase (the whole run: through recovery). */
static bool alive_through(const struct target_result *t, int phase)
{
	if (t->alive || t->exit_phase < 0)
		return true;
	if (phase >= 0 && phase < PHASE_MAX)
		return t->exit_phase > phase;
	return false;
}

int results_metric(const struct run_results *r, enum metric_id metric,
		   int phase, double *ret, char *reason, size_t reason_size)
{
	char w[48];
	int rr;

	if (phase < 0 || phase > PHASE_ALL)
		return -EINVAL;
	if (metric == METRIC_TARGET_ALIVE) {
		*ret = alive_through(&r->target, phase) ? 1 : 0;
		return 0;
	}
	if (is_load_metric(metric)) {
		if (!r->has_load) {
			say(reason, reason_size,
			    "no load configured (the playbook has no load:)");
			return -ENODATA;
		}
		rr = load_value(&r->load[phase], metric, ret);
		if (rr < 0 && r->load[phase].requests > 0)
			say(reason, reason_size,
			    "no request succeeded or timed out %s (%llu failed)",
			    where(phase, w, sizeof(w)),
			    (unsigned long long)r->load[phase].errors);
		else if (rr < 0)
			say(reason, reason_size, "no requests completed %s",
			    where(phase, w, sizeof(w)));
		return rr < 0 ? -ENODATA : 0;
	}
	if (metric >= METRIC_RSS_MAX && metric <= METRIC_RUNQUEUE_WAIT_RATE) {
		if (!r->samples || r->n_samples == 0) {
			say(reason, reason_size, "no vitals were sampled");
			return -ENODATA;
		}
		return vitals_metric(r, metric, phase, ret, reason,
				     reason_size);
	}
	if (results_is_delay_metric(metric))
		return delay_metric(r, metric, phase, ret, reason, reason_size);
	say(reason, reason_size, "unknown metric");
	return -EINVAL;
}

/* "exited with status 3", "killed by signal 9 (SIGKILL)" */
const char *results_exit_text(int status, char *buf, size_t size)
{
	const char *abbrev;

	if (status < 0) {
		snprintf(buf, size, "still running");
	} else if (WIFEXITED(status)) {
		snprintf(buf, size, "exited with status %d",
			 WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		abbrev = sigabbrev_np(WTERMSIG(status));
		snprintf(buf, size, "killed by signal %d (SIG%s)%s",
			 WTERMSIG(status), abbrev ? abbrev : "?",
			 WCOREDUMP(status) ? ", core dumped" : "");
	} else {
		snprintf(buf, size, "wait status 0x%x", (unsigned)status);
	}
	return buf;
}

int abort_evaluate(const struct gate_expr *a, struct load *l,
		   const struct vital_sample *s, size_t n, double now_s,
		   char *reason, size_t reason_size)
{
	const struct metric_info *mi = metric_info(a->metric);
	double w = (a->over_ns > 0 ? (double)a->over_ns : 5e9) / 1e9;
	double from = now_s - w > 0 ? now_s - w : 0, v;
	struct load_stats st;
	char vb[32];

	if (a->bound != GATE_BOUND_ABS)
		return 0;
	if (is_load_metric(a->metric)) {
		if (!l)
			return 0;
		load_window_stats(l, (int64_t)(from * 1e9),
				  (int64_t)(now_s * 1e9), &st);
		if (st.requests == 0)
			return 0;
		if (a->metric == METRIC_ERRORS_RATE && st.requests < 5)
			return 0;
		if (load_value(&st, a->metric, &v) < 0)
			return 0;
	} else if ((a->metric >= METRIC_RSS_MAX &&
		    a->metric <= METRIC_RUNQUEUE_WAIT_RATE) ||
		   results_is_delay_metric(a->metric)) {
		/* the window is closed at now: the newest sample counts */
		if (results_vital_window(s, n, a->metric, from, now_s + 1e-9,
					 &v) < 0)
			return 0;
	} else {
		return 0;
	}
	if (!gate_compare(a->op, v, a->value))
		return 0;
	say(reason, reason_size, "stop condition '%s' fired: %s at %.1fs",
	    a->text,
	    metric_format(mi ? mi->unit : METRIC_UNIT_COUNT, v, vb, sizeof(vb)),
	    now_s);
	return 1;
}
