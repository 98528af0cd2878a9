// SPDX-License-Identifier: Apache-2.0
/* report.json: the machine-readable result of a run, the contract of
 * docs/report.md (design section 5). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "report.h"

#define REPORT_JSON_VERSION 1
/* Past this many vitals samples the "samples" array keeps every k-th one. */
#define REPORT_MAX_SAMPLES 6000

/* Builder state: a failed allocation anywhere makes the whole report fail
 * instead of silently dropping a key. */
struct jb {
	bool oom;
};

static void put(struct jb *b, json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) < 0)
		b->oom = true;
}

static void push(struct jb *b, json_t *arr, json_t *v)
{
	if (!v || json_array_append_new(arr, v) < 0)
		b->oom = true;
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *uint_json(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX
						    : (json_int_t)v);
}

static const char *phase_key(int p)
{
	return p == PHASE_ALL ? "all" : phase_name((enum phase)p);
}

/* @key = the metric, or null with the reason in @missing (when given). */
static void put_metric(struct jb *b, json_t *obj, json_t *missing,
		       const char *key, const struct run_results *r,
		       enum metric_id m, int p)
{
	char why[192] = "";
	double v;

	if (results_metric(r, m, p, &v, why, sizeof(why)) == 0) {
		put(b, obj, key, num(v));
		return;
	}
	put(b, obj, key, json_null());
	if (missing)
		put(b, missing, key, json_string(why));
}

static json_t *latency_json(struct jb *b, const struct run_results *r, int p)
{
	static const struct {
		const char *key;
		enum metric_id m;
	} keys[] = {
	    {"p50", METRIC_LATENCY_P50}, {"p90", METRIC_LATENCY_P90},
	    {"p99", METRIC_LATENCY_P99}, {"p999", METRIC_LATENCY_P999},
	    {"max", METRIC_LATENCY_MAX}, {"mean", METRIC_LATENCY_MEAN},
	};
	json_t *o = json_object();
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		put_metric(b, o, NULL, keys[i].key, r, keys[i].m, p);
	return o;
}

static void put_vitals(struct jb *b, json_t *ph, const struct run_results *r,
		       int p)
{
	static const char *const bases[] = {"rss", "threads", "goroutines",
					    "gomaxprocs"};
	static const char *const units[] = {"_bytes", "", "", ""};
	static const char *const sums[VITAL_SUMMARY_MAX] = {
	    "max", "min", "mean", "end", "growth"};
	static const struct {
		const char *key;
		enum metric_id m;
	} more[] = {
	    {"ctx_nonvoluntary_rate", METRIC_CTX_NONVOLUNTARY_RATE},
	    {"sched_delay_p50_ms", METRIC_SCHED_DELAY_P50},
	    {"sched_delay_p99_ms", METRIC_SCHED_DELAY_P99},
	    {"sched_delay_max_ms", METRIC_SCHED_DELAY_MAX},
	    {"runqueue_wait_rate", METRIC_RUNQUEUE_WAIT_RATE},
	    {"cpu_delay_total_ms", METRIC_CPU_DELAY_TOTAL},
	    {"blkio_delay_total_ms", METRIC_BLKIO_DELAY_TOTAL},
	    {"swapin_delay_total_ms", METRIC_SWAPIN_DELAY_TOTAL},
	    {"reclaim_delay_total_ms", METRIC_RECLAIM_DELAY_TOTAL},
	    {"thrashing_delay_total_ms", METRIC_THRASHING_DELAY_TOTAL},
	};
	json_t *v = json_object(), *missing = json_object();
	char key[40];
	size_t i, s;

	if (!v || !missing) {
		json_decref(v);
		json_decref(missing);
		b->oom = true;
		return;
	}
	for (i = 0; i < 4; i++) {
		for (s = 0; s < VITAL_SUMMARY_MAX; s++) {
			snprintf(key, sizeof(key), "%s_%s%s", bases[i], sums[s],
				 units[i]);
			put_metric(b, v, missing, key, r,
				   (enum metric_id)(METRIC_RSS_MAX +
						    i * VITAL_SUMMARY_MAX + s),
				   p);
		}
	}
	for (i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		put_metric(b, v, missing, more[i].key, r, more[i].m, p);
	put(b, ph, "vitals", v);
	put(b, ph, "vitals_missing", missing);
}

static json_t *phase_json(struct jb *b, const struct run_results *r, int p)
{
	json_t *o = json_object(), *err;
	bool ran = p == PHASE_ALL || r->phase_end_s[p] > r->phase_start_s[p];
	const struct load_stats *st = &r->load[p];
	char why[192] = "";
	int r_load;
	double v;

	if (!o)
		return NULL;
	if (p == PHASE_ALL) {
		put(b, o, "start_s", num(0));
		put(b, o, "end_s", num(r->duration_s));
	} else {
		put(b, o, "start_s",
		    ran ? num(r->phase_start_s[p]) : json_null());
		put(b, o, "end_s", ran ? num(r->phase_end_s[p]) : json_null());
		put(b, o, "planned_s",
		    r->pb ? num((double)r->pb->phase_ns[p] / 1e9)
			  : json_null());
	}
	put(b, o, "latency_ms", latency_json(b, r, p));
	put(b, o, "requests",
	    r->has_load ? uint_json(st->requests) : json_null());
	err = json_object();
	if (err) {
		put(b, err, "count",
		    r->has_load ? uint_json(st->errors) : json_null());
		put_metric(b, err, NULL, "rate", r, METRIC_ERRORS_RATE, p);
		/* Why requests failed: timeout, connect, status, other. */
		for (int k = LOAD_ERR_TIMEOUT; k < LOAD_OUTCOME_MAX; k++)
			put(b, err, load_outcome_name((enum load_outcome)k),
			    r->has_load ? uint_json(st->by_outcome[k])
					: json_null());
	}
	put(b, o, "errors", err);
	put_metric(b, o, NULL, "throughput_rps", r, METRIC_THROUGHPUT, p);
	r_load = results_metric(r, METRIC_REQUESTS_COUNT, p, &v, why,
				sizeof(why));
	if (r_load < 0)
		put(b, o, "load_missing", json_string(why));
	put_vitals(b, o, r, p);
	return o;
}

static json_t *phases_json(struct jb *b, const struct run_results *r)
{
	json_t *o = json_object();
	int p;

	if (!o)
		return NULL;
	for (p = 0; p < PHASE_MAX; p++)
		put(b, o, phase_key(p), phase_json(b, r, p));
	return o;
}

static json_t *gate_json(struct jb *b, const struct gate_result *g)
{
	json_t *o = json_object();
	char buf[48];

	if (!o)
		return NULL;
	put(b, o, "expr", json_string(g->text ? g->text : ""));
	put(b, o, "phase", json_string(phase_key(g->phase)));
	put(b, o, "op",
	    json_string(g->expr ? gate_op_text(g->expr->op) : "=="));
	put(b, o, "value", g->measured ? num(g->value) : json_null());
	put(b, o, "bound", num(g->bound));
	put(b, o, "unit", str_or_null(metric_unit_name(g->unit)));
	put(b, o, "value_text",
	    g->measured ? json_string(metric_format(g->unit, g->value, buf,
						    sizeof(buf)))
			: json_null());
	put(b, o, "bound_text",
	    isfinite(g->bound) ? json_string(metric_format(g->unit, g->bound,
							   buf, sizeof(buf)))
			       : json_null());
	put(b, o, "measured", json_boolean(g->measured));
	put(b, o, "pass", json_boolean(g->pass));
	put(b, o, "reason", str_or_null(g->reason));
	return o;
}

static json_t *gates_json(struct jb *b, const struct run_results *r)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < r->n_gates; i++)
		push(b, a, gate_json(b, &r->gates[i]));
	return a;
}

static json_t *fault_json(struct jb *b, const struct run_results *r, size_t i)
{
	const struct fault_result *f = r->faults ? &r->faults[i] : NULL;
	enum fault_backend be = f ? f->backend : r->pb->faults[i].backend;
	json_t *o = json_object(), *w = json_object(), *c = json_object();

	if (!o || !w || !c) {
		json_decref(o);
		json_decref(w);
		json_decref(c);
		return NULL;
	}
	put(b, o, "kind",
	    str_or_null(fault_kind_name(r->pb->faults[i].kind)));
	put(b, o, "backend", str_or_null(fault_backend_name(be)));
	put(b, o, "applied", json_boolean(f && f->applied));
	put(b, o, "injected", json_boolean(f && f->applied && !f->inject_failed));
	put(b, w, "start",
	    f && f->applied && !f->inject_failed ? num(f->window_start_s) : json_null());
	put(b, w, "end", f && f->applied && !f->inject_failed ? num(f->window_end_s) : json_null());
	put(b, o, "window_s", w);
	put(b, c, "syscalls_seen", uint_json(f ? f->seen : 0));
	put(b, c, "syscalls_delayed", uint_json(f ? f->delayed : 0));
	put(b, c, "errors_injected", uint_json(f ? f->failed : 0));
	put(b, c, "delay_added_ms",
	    num(f ? (double)f->delay_total_ns / 1e6 : 0));
	put(b, c, "bytes_mapped", uint_json(f ? f->bytes_mapped : 0));
	put(b, c, "bytes_touched", uint_json(f ? f->bytes_touched : 0));
	put(b, c, "bytes_released", uint_json(f ? f->bytes_released : 0));
	put(b, c, "threads_pinned", uint_json(f ? f->threads_pinned : 0));
	put(b, c, "threads_frozen", uint_json(f ? f->freezes : 0));
	put(b, c, "frozen_total_ms",
	    num(f ? (double)f->frozen_total_ns / 1e6 : 0));
	put(b, c, "stop_latency_max_ms",
	    num(f ? (double)f->stop_latency_max_ns / 1e6 : 0));
	if (f && r->pb->faults[i].kind == FAULT_GOMAXPROCS) {
		put(b, c, "gomaxprocs_before",
		    f->gomaxprocs_before >= 0 ? json_integer(f->gomaxprocs_before)
					      : json_null());
		put(b, c, "gomaxprocs_after",
		    f->gomaxprocs_after >= 0 ? json_integer(f->gomaxprocs_after)
					     : json_null());
		put(b, c, "gomaxprocs_restored",
		    f->gomaxprocs_restored >= 0 ? json_integer(f->gomaxprocs_restored)
						: json_null());
		put(b, c, "change_ms", num((double)f->change_ns / 1e6));
		put(b, c, "restore_ms", num((double)f->restore_ns / 1e6));
	}
	put(b, o, "counters", c);
	put(b, o, "note", f && f->note[0] ? json_string(f->note) : json_null());
	return o;
}

static json_t *faults_json(struct jb *b, const struct run_results *r)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; r->pb && i < r->pb->n_faults; i++)
		push(b, a, fault_json(b, r, i));
	return a;
}

/* exit_status: null while running, the code for an exit, "SIGKILL" etc. for
 * a signal (or "signal N" when the signal has no name). */
static json_t *exit_status_json(int status)
{
	const char *abbrev;
	char buf[32];

	if (status < 0)
		return json_null();
	if (WIFEXITED(status))
		return json_integer(WEXITSTATUS(status));
	if (!WIFSIGNALED(status))
		return json_integer(status);
	abbrev = sigabbrev_np(WTERMSIG(status));
	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else
		snprintf(buf, sizeof(buf), "signal %d", WTERMSIG(status));
	return json_string(buf);
}

static json_t *target_json(struct jb *b, const struct run_results *r)
{
	const struct target_result *t = &r->target;
	json_t *o = json_object();
	bool exited = t->exit_phase >= 0 && t->exit_phase < PHASE_MAX;
	char how[96];
	double alive = 1;

	if (!o)
		return NULL;
	(void)results_metric(r, METRIC_TARGET_ALIVE, PHASE_ALL, &alive, NULL,
			     0);
	put(b, o, "pid", json_integer(t->pid));
	put(b, o, "exe", json_string(t->exe));
	put(b, o, "go_version",
	    t->is_go ? str_or_null(t->go_version) : json_null());
	put(b, o, "static", json_boolean(t->is_static));
	put(b, o, "alive", json_boolean(alive >= 1));
	put(b, o, "exit_status", exit_status_json(t->exit_status));
	put(b, o, "exit_reason",
	    t->exit_status < 0 ? json_null()
			       : json_string(results_exit_text(
				     t->exit_status, how, sizeof(how))));
	put(b, o, "exit_s", t->exit_status < 0 ? json_null() : num(t->exit_s));
	put(b, o, "exit_phase",
	    exited ? json_string(phase_key(t->exit_phase)) : json_null());
	return o;
}

static json_t *timeline_json(struct jb *b, const struct run_results *r)
{
	json_t *a = json_array(), *o;
	size_t i, n = r->load_run ? load_seconds(r->load_run) : 0;
	struct load_stats *st = malloc(sizeof(*st));

	if (!a || !st) {
		free(st);
		return a;
	}
	for (i = 0; i < n; i++) {
		load_second_stats(r->load_run, i, st);
		o = json_object();
		if (!o) {
			b->oom = true;
			break;
		}
		put(b, o, "t_s", json_integer((json_int_t)i));
		put(b, o, "requests", uint_json(st->requests));
		put(b, o, "errors", uint_json(st->errors));
		put(b, o, "p50_ms",
		    st->latency.count
			? num((double)hist_quantile(&st->latency, 0.5) / 1e6)
			: json_null());
		put(b, o, "p99_ms",
		    st->latency.count
			? num((double)hist_quantile(&st->latency, 0.99) / 1e6)
			: json_null());
		push(b, a, o);
	}
	free(st);
	return a;
}

/* [t_s, rss_bytes, threads] rows, thinned to REPORT_MAX_SAMPLES. */
static json_t *samples_json(struct jb *b, const struct run_results *r)
{
	size_t i, step = r->n_samples / REPORT_MAX_SAMPLES + 1;
	json_t *a = json_array(), *row;
	const struct vital_sample *s;

	if (!a)
		return NULL;
	for (i = 0; r->samples && i < r->n_samples; i += step) {
		s = &r->samples[i];
		row = json_array();
		if (!row) {
			b->oom = true;
			break;
		}
		push(b, row, json_real(round((double)s->t_ns / 1e6) / 1e3));
		push(b, row, uint_json(s->rss_bytes));
		push(b, row, json_integer(s->threads));
		push(b, a, row);
	}
	return a;
}

/* Per-thread figures of one phase, summed over its samples. */
struct thread_sum {
	int32_t tid;
	double ms[7];	/* oncpu, runqueue, then the five taskstats delays */
};

static const char *const thread_keys[7] = {
	"oncpu_ms",	  "runqueue_wait_ms", "cpu_delay_ms",	    "blkio_delay_ms",
	"swapin_delay_ms", "reclaim_delay_ms", "thrashing_delay_ms",
};

static int cmp_tid_sum(const void *a, const void *b)
{
	const struct thread_sum *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

static void add_row(struct thread_sum *t, const struct thread_delta *d)
{
	const uint64_t ns[7] = {
		d->oncpu_ns,	    d->runqueue_ns,	 d->cpu_delay_ns,	  d->blkio_delay_ns,
		d->swapin_delay_ns, d->reclaim_delay_ns, d->thrashing_delay_ns,
	};

	for (int k = 0; k < 7; k++)
		t->ms[k] += (double)ns[k] / 1e6;
}

/* Every tid with a row in [from, to), sorted, with its sums. */
static size_t thread_sums(const struct run_results *r, double from, double to,
			  struct thread_sum **ret)
{
	struct thread_sum *v = NULL, key, *hit;
	size_t n = 0, cap = 0;

	for (size_t i = 0; r->samples && i < r->n_samples; i++) {
		const struct vital_sample *s = &r->samples[i];
		double t = (double)s->t_ns / 1e9;

		if (t < from || t >= to)
			continue;
		for (uint32_t j = 0; j < s->n_thread_deltas; j++) {
			key.tid = s->thread_deltas[j].tid;
			hit = n ? bsearch(&key, v, n, sizeof(*v), cmp_tid_sum) : NULL;
			if (!hit) {
				if (n == cap) {
					struct thread_sum *nv;

					cap = cap ? cap * 2 : 32;
					nv = realloc(v, cap * sizeof(*v));
					if (!nv) {
						free(v);
						*ret = NULL;
						return 0;
					}
					v = nv;
				}
				memset(&v[n], 0, sizeof(v[n]));
				v[n++].tid = key.tid;
				qsort(v, n, sizeof(*v), cmp_tid_sum);
				hit = bsearch(&key, v, n, sizeof(*v), cmp_tid_sum);
			}
			add_row(hit, &s->thread_deltas[j]);
		}
	}
	*ret = v;
	return n;
}

/* { "tid": {"oncpu_ms": ..}, ... } for one phase; taskstats figures null
 * when they are missing (the reasons are in "missing"). */
static json_t *phase_threads_json(struct jb *b, const struct run_results *r, int p,
				  const bool miss[7])
{
	json_t *o = json_object(), *row;
	struct thread_sum *v = NULL;
	double from, to;
	char tid[16];
	size_t n;

	if (!o || results_phase_span(r, p, &from, &to) < 0)
		return o;
	n = thread_sums(r, from, to, &v);
	for (size_t i = 0; i < n; i++) {
		row = json_object();
		if (!row) {
			b->oom = true;
			break;
		}
		for (int k = 0; k < 7; k++)
			put(b, row, thread_keys[k], miss[k] ? json_null() : num(v[i].ms[k]));
		snprintf(tid, sizeof(tid), "%d", (int)v[i].tid);
		put(b, o, tid, row);
	}
	free(v);
	return o;
}

/* "taskstats": how per-thread figures were measured, what is missing and
 * why, and per phase one row per thread. */
static json_t *taskstats_json(struct jb *b, const struct run_results *r)
{
	const struct vitals_info *vi = &r->vitals;
	const struct sampler_info *si = &vi->sampler;
	json_t *o = json_object(), *missing = json_object(), *da = json_object();
	json_t *phases = json_object();
	bool miss[7] = {false, false};
	char why[192];
	int p;

	if (!o || !missing || !da || !phases) {
		json_decref(o);
		json_decref(missing);
		json_decref(da);
		json_decref(phases);
		return NULL;
	}
	put(b, o, "available", json_boolean(vi->sampled && si->taskstats_err == 0));
	put(b, o, "sample_interval_ms", num(vi->sampled ? (double)si->interval_ns / 1e6 : NAN));
	put(b, o, "thread_events",
	    json_string(!vi->sampled ? "none" : si->proc_events ? "proc_connector" : "rescan"));
	put(b, o, "thread_events_reason", str_or_null(si->proc_events ? NULL : si->threads_why));
	put(b, o, "threads_started",
	    si->proc_events ? uint_json(si->threads_started) : json_null());
	put(b, o, "threads_exited", si->proc_events ? uint_json(si->threads_exited) : json_null());
	put(b, o, "deltas_discarded", uint_json(si->delays_discarded));
	put(b, da, "before", vi->delayacct_before >= 0 ? json_integer(vi->delayacct_before)
						      : json_null());
	put(b, da, "on_during_run", json_boolean(vi->delayacct_on));
	put(b, da, "reason", str_or_null(vi->delayacct_on ? NULL : vi->delayacct_why));
	put(b, da, "note",
	    json_string("delay accounting was switched on before the target started; "
			"threads that existed before that count fully only from then on"));
	put(b, o, "delayacct", da);
	for (int k = 2; k < 7; k++) {
		why[0] = '\0';
		miss[k] = results_delay_missing(r, 1u << (k - 2), why, sizeof(why));
		if (miss[k])
			put(b, missing, thread_keys[k], json_string(why));
	}
	put(b, o, "missing", missing);
	for (p = 0; p < PHASE_MAX; p++)
		put(b, phases, phase_key(p), phase_threads_json(b, r, p, miss));
	put(b, o, "threads", phases);
	return o;
}

static json_t *report_json(struct jb *b, const struct run_results *r)
{
	json_t *root = json_object(), *pb = json_object(), *cols;

	if (!root || !pb) {
		json_decref(root);
		json_decref(pb);
		return NULL;
	}
	put(b, root, "report_version", json_integer(REPORT_JSON_VERSION));
	put(b, root, "verdict", json_string(verdict_name(r->verdict)));
	put(b, root, "verdict_reason", str_or_null(r->verdict_reason));
	put(b, pb, "name", str_or_null(r->pb ? r->pb->name : NULL));
	put(b, pb, "path", str_or_null(r->pb ? r->pb->path : NULL));
	put(b, root, "playbook", pb);
	put(b, root, "started_at", str_or_null(r->started_at));
	put(b, root, "duration_s", num(r->duration_s));
	put(b, root, "phases", phases_json(b, r));
	put(b, root, "whole_run", phase_json(b, r, PHASE_ALL));
	put(b, root, "gates", gates_json(b, r));
	put(b, root, "faults", faults_json(b, r));
	put(b, root, "target", target_json(b, r));
	put(b, root, "timeline", timeline_json(b, r));
	put(b, root, "taskstats", taskstats_json(b, r));
	cols = json_pack("[sss]", "t_s", "rss_bytes", "threads");
	put(b, root, "sample_columns", cols);
	put(b, root, "samples", samples_json(b, r));
	return root;
}

int report_write_json(const struct run_results *r, const char *dir)
{
	fg_autofree char *text = NULL;
	struct jb b = {.oom = false};
	json_t *root;
	size_t len;

	root = report_json(&b, r);
	if (!root)
		return -ENOMEM;
	if (!b.oom)
		text =
		    json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	/* json_dumps leaves no final newline; the buffer has room for the NUL
	 */
	text[len] = '\n';
	return report_write_file(dir, "report.json", text, len + 1);
}
