// SPDX-License-Identifier: Apache-2.0
/* Gate evaluation: each playbook gate against the run's measurements, plus
 * the built-in target.alive gate. An unmeasured value never passes. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "results.h"

static enum metric_unit unit_of(enum metric_id m)
{
	const struct metric_info *mi = metric_info(m);

	return mi ? mi->unit : METRIC_UNIT_COUNT;
}

/* The bound of @g, with the baseline resolved for relative bounds. */
static int resolve_bound(const struct run_results *r, const struct gate_expr *g,
			 double *ret, char *reason, size_t size)
{
	char why[160];
	double base;

	switch (g->bound) {
	case GATE_BOUND_ABS:
		*ret = g->value;
		return 0;
	case GATE_BOUND_RATIO:
	case GATE_BOUND_BASELINE_PLUS:
		if (results_metric(r, g->metric, PHASE_BASELINE, &base, why,
				   sizeof(why)) < 0) {
			snprintf(reason, size, "baseline not measured: %s",
				 why);
			return -ENODATA;
		}
		*ret = g->bound == GATE_BOUND_RATIO ? g->value * base
						    : base + g->value;
		return 0;
	case GATE_BOUND_MAX:
	default:
		snprintf(reason, size, "invalid bound");
		return -EINVAL;
	}
}

static void evaluate_one(const struct run_results *r, const struct gate_expr *g,
			 struct gate_result *gr)
{
	char v[32], b[32], why[sizeof(gr->reason)];

	gr->expr = g;
	gr->text = g->text;
	gr->phase = g->phase;
	gr->unit = unit_of(g->metric);
	gr->pass = false;
	if (resolve_bound(r, g, &gr->bound, why, sizeof(why)) < 0)
		gr->bound = NAN;
	if (results_metric(r, g->metric, g->phase, &gr->value, gr->reason,
			   sizeof(gr->reason)) < 0)
		return;
	gr->measured = true;
	if (isnan(gr->bound)) {
		snprintf(gr->reason, sizeof(gr->reason), "%s", why);
		return;
	}
	gr->pass = gate_compare(g->op, gr->value, gr->bound);
	if (gr->pass)
		return;
	snprintf(gr->reason, sizeof(gr->reason), "%s is not %s %s",
		 metric_format(gr->unit, gr->value, v, sizeof(v)),
		 gate_op_text(g->op),
		 metric_format(gr->unit, gr->bound, b, sizeof(b)));
}

static void evaluate_alive(const struct run_results *r, struct gate_result *gr)
{
	const struct target_result *t = &r->target;
	char how[96];
	double v = 0;

	gr->expr = NULL;
	gr->text = "target.alive";
	gr->phase = PHASE_ALL;
	gr->unit = METRIC_UNIT_BOOL;
	gr->measured = true;
	gr->bound = 1;
	(void)results_metric(r, METRIC_TARGET_ALIVE, PHASE_ALL, &v, NULL, 0);
	gr->value = v;
	gr->pass = v >= 1;
	if (gr->pass)
		return;
	results_exit_text(t->exit_status, how, sizeof(how));
	if (t->exit_phase >= 0 && t->exit_phase < PHASE_MAX)
		snprintf(gr->reason, sizeof(gr->reason),
			 "target exited during the %s phase: %s",
			 phase_name((enum phase)t->exit_phase), how);
	else
		snprintf(gr->reason, sizeof(gr->reason),
			 "target did not stay alive: %s", how);
}

int gates_evaluate(struct run_results *r)
{
	size_t i, n = r->pb ? r->pb->n_gates : 0;
	int failed = 0;

	free(r->gates);
	r->n_gates = 0;
	r->gates = calloc(n + 1, sizeof(*r->gates));
	if (!r->gates)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		evaluate_one(r, &r->pb->gates[i], &r->gates[i]);
	evaluate_alive(r, &r->gates[n]);
	r->n_gates = n + 1;
	for (i = 0; i < r->n_gates; i++)
		if (!r->gates[i].pass)
			failed++;
	return failed;
}
