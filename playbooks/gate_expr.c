// SPDX-License-Identifier: Apache-2.0
/* Parser for gate and stop-condition expressions. A gate reads
 * "METRIC [during PHASE] OP VALUE"; a stop condition reads
 * "METRIC [over WINDOW] OP VALUE" and never refers to the baseline. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_expr.h"
#include "playbook.h"
#include "units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define GATE_MAX_TEXT 256
#define GATE_MAX_TOKENS 12
#define GATE_DEFAULT_OVER_NS (5 * FG_NSEC_PER_SEC)
#define GATE_MAX_OVER_NS (3600 * FG_NSEC_PER_SEC)

struct token {
	char s[64];
	size_t off; /* into the expression text */
};

struct gate_parser {
	const char *text;
	bool is_abort;
	struct token tok[GATE_MAX_TOKENS];
	size_t n, i;
	const struct metric_info *metric;
	char *msg;
	size_t msg_size;
	size_t *err_off;
};

static const char *const op_texts[GATE_OP_MAX] = {
	[GATE_LT] = "<",
	[GATE_LE] = "<=",
	[GATE_GT] = ">",
	[GATE_GE] = ">=",
};

static int fail_at(struct gate_parser *p, size_t off, int err, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static int fail_at(struct gate_parser *p, size_t off, int err, const char *fmt,
		   ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, p->msg_size, fmt, ap);
	va_end(ap);
	if (p->err_off)
		*p->err_off = off;
	return -err;
}

static bool is_op_char(char c)
{
	return c == '<' || c == '>' || c == '=' || c == '!';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Words end at blanks; operators and '+' are tokens of their own, so
 * "p99<250ms" and "baseline+50" read like their spaced forms. */
static int tokenize(struct gate_parser *p)
{
	const char *t = p->text;
	size_t i = 0;

	while (t[i]) {
		size_t start, len;

		if (is_space(t[i])) {
			i++;
			continue;
		}
		start = i;
		if (is_op_char(t[i]))
			while (is_op_char(t[i]))
				i++;
		else if (t[i] == '+')
			i++;
		else
			while (t[i] && !is_space(t[i]) && !is_op_char(t[i]) &&
			       t[i] != '+')
				i++;
		len = i - start;
		if (p->n == GATE_MAX_TOKENS)
			return fail_at(p, start, EINVAL,
				       "unexpected '%.*s': the expression is "
				       "too long",
				       (int)(len > 32 ? 32 : len), t + start);
		if (len >= sizeof(p->tok[0].s))
			return fail_at(p, start, EINVAL,
				       "'%.20s...' is too long", t + start);
		memcpy(p->tok[p->n].s, t + start, len);
		p->tok[p->n].s[len] = '\0';
		p->tok[p->n].off = start;
		p->n++;
	}
	return 0;
}

static const struct token *peek(struct gate_parser *p)
{
	return p->i < p->n ? &p->tok[p->i] : NULL;
}

/* Offset for "expected X, got end of text". */
static size_t end_off(const struct gate_parser *p)
{
	return strlen(p->text);
}

static int parse_metric(struct gate_parser *p, struct gate_expr *g)
{
	const struct token *t = peek(p);
	char near[256];

	if (!t)
		return fail_at(p, 0, EINVAL,
			       "empty expression; write METRIC %s OP VALUE, "
			       "for example %s",
			       p->is_abort ? "[over WINDOW]" : "[during PHASE]",
			       p->is_abort
				       ? "'errors.rate over 5s > 50%'"
				       : "'latency.p99 during fault < 250ms'");
	p->metric = metric_lookup(t->s);
	if (!p->metric)
		return fail_at(p, t->off, EINVAL,
			       "unknown metric '%s'; known: %s", t->s,
			       metric_suggest(t->s, near, sizeof(near)));
	if (p->metric->id == METRIC_TARGET_ALIVE)
		return fail_at(
			p, t->off, EINVAL,
			"target.alive is always checked; remove this gate");
	g->metric = p->metric->id;
	p->i++;
	return 0;
}

static int parse_during(struct gate_parser *p, struct gate_expr *g)
{
	const struct token *t;
	int ph;

	if (p->is_abort)
		return fail_at(p, p->tok[p->i].off, EINVAL,
			       "stop conditions watch a trailing "
			       "window, not a phase; write 'over 5s' instead "
			       "of 'during'");
	p->i++;
	t = peek(p);
	if (!t)
		return fail_at(p, end_off(p), EINVAL,
			       "expected a phase after 'during': baseline, "
			       "fault or recovery");
	ph = phase_from_name(t->s);
	if (ph < 0)
		return fail_at(p, t->off, EINVAL,
			       "unknown phase '%s'; use baseline, fault or "
			       "recovery",
			       t->s);
	g->phase = ph;
	p->i++;
	return 0;
}

static int parse_over(struct gate_parser *p, struct gate_expr *g)
{
	const struct token *t;
	int r;

	if (!p->is_abort)
		return fail_at(p, p->tok[p->i].off, EINVAL,
			       "'over WINDOW' is for abort "
			       "conditions; gates use 'during PHASE'");
	p->i++;
	t = peek(p);
	if (!t)
		return fail_at(p, end_off(p), EINVAL,
			       "expected a window after 'over', like 5s");
	r = fg_parse_duration(t->s, &g->over_ns);
	if (r < 0 || g->over_ns <= 0 || g->over_ns > GATE_MAX_OVER_NS)
		return fail_at(p, t->off, r == -EINVAL ? EINVAL : ERANGE,
			       "'over' needs a window between 1ms and 1h like "
			       "5s, got '%s'",
			       t->s);
	p->i++;
	return 0;
}

static int parse_op(struct gate_parser *p, struct gate_expr *g)
{
	const struct token *t = peek(p);

	if (!t)
		return fail_at(p, end_off(p), EINVAL,
			       "expected a comparison (< <= > >=) after '%s'",
			       p->metric->name);
	for (size_t i = 0; i < ARRAY_SIZE(op_texts); i++) {
		if (strcmp(t->s, op_texts[i]) == 0) {
			g->op = (enum gate_op)i;
			p->i++;
			return 0;
		}
	}
	if (strcmp(t->s, "during") == 0 || strcmp(t->s, "over") == 0)
		return fail_at(p, t->off, EINVAL,
			       "'%s' must come right after the metric name",
			       t->s);
	return fail_at(p, t->off, EINVAL,
		       "expected a comparison (< <= > >=), got '%s'", t->s);
}

static bool is_plain_number(const char *s)
{
	double v;

	return fg_parse_double(s, &v) == 0;
}

/* An absolute bound in the metric's canonical unit. */
static int parse_abs(struct gate_parser *p, const struct token *t, double *ret)
{
	enum metric_unit u = p->metric->unit;
	const char *s = t->s;
	char num[64];
	uint64_t bytes;
	int64_t ns;
	size_t len;
	double v;

	switch (u) {
	case METRIC_UNIT_DURATION:
		if (is_plain_number(s))
			return fail_at(p, t->off, EINVAL,
				       "'%s' needs a unit, like %sms", s, s);
		if (fg_parse_duration(s, &ns) < 0)
			return fail_at(
				p, t->off, EINVAL,
				"'%s' is not a duration like 250ms or 1.5s", s);
		*ret = (double)ns / (double)FG_NSEC_PER_MSEC;
		return 0;
	case METRIC_UNIT_BYTES:
		if (is_plain_number(s))
			return fail_at(p, t->off, EINVAL,
				       "'%s' needs a size unit, like %sMiB", s,
				       s);
		if (fg_parse_size(s, &bytes) < 0)
			return fail_at(p, t->off, EINVAL,
				       "'%s' is not a size like 64MiB", s);
		*ret = (double)bytes;
		return 0;
	case METRIC_UNIT_FRACTION:
		len = strlen(s);
		if (len && s[len - 1] == '%') {
			snprintf(num, sizeof(num), "%.*s", (int)(len - 1), s);
			if (fg_parse_double(num, &v) < 0 || v < 0)
				return fail_at(
					p, t->off, EINVAL,
					"'%s' is not a percentage like 1%%", s);
			v /= 100;
		} else if (fg_parse_double(s, &v) < 0 || v < 0) {
			return fail_at(p, t->off, EINVAL,
				       "'%s' is not a percentage like 1%% "
				       "or a fraction like 0.01",
				       s);
		}
		/* runqueue.wait_rate sums over threads and may exceed 1. */
		if (v > 1 && p->metric->id != METRIC_RUNQUEUE_WAIT_RATE)
			return fail_at(p, t->off, ERANGE,
				       "'%s' is more than 100%%", s);
		*ret = v;
		return 0;
	case METRIC_UNIT_COUNT:
		if (fg_parse_double(s, &v) < 0)
			return fail_at(p, t->off, EINVAL,
				       "'%s' must be a plain number for %s", s,
				       p->metric->name);
		*ret = v;
		return 0;
	case METRIC_UNIT_PER_SEC:
		len = strlen(s);
		if (len > 2 && strcmp(s + len - 2, "/s") == 0)
			snprintf(num, sizeof(num), "%.*s", (int)(len - 2), s);
		else
			snprintf(num, sizeof(num), "%s", s);
		if (fg_parse_double(num, &v) < 0 || v < 0)
			return fail_at(p, t->off, EINVAL,
				       "'%s' is not a rate like 100/s", s);
		*ret = v;
		return 0;
	case METRIC_UNIT_BOOL:
	case METRIC_UNIT_MAX:
	default:
		return fail_at(p, t->off, EINVAL, "'%s' cannot be compared",
			       p->metric->name);
	}
}

static int no_baseline_in_abort(struct gate_parser *p, const struct token *t)
{
	if (!p->is_abort)
		return 0;
	return fail_at(
		p, t->off, EINVAL,
		"stop conditions cannot refer to the baseline; use "
		"an absolute bound such as 'errors.rate over 5s > 50%%'");
}

/* "N" "x" "baseline" or "Nx" "baseline": the factor, then the keyword. */
static int parse_ratio(struct gate_parser *p, struct gate_expr *g,
		       const struct token *t)
{
	char num[64];
	size_t len = strlen(t->s);
	const struct token *kw;
	double v;

	if (len > 1 && t->s[len - 1] == 'x')
		snprintf(num, sizeof(num), "%.*s", (int)(len - 1), t->s);
	else
		snprintf(num, sizeof(num), "%s", t->s);
	if (fg_parse_double(num, &v) < 0)
		return 1;
	if (len <= 1 || t->s[len - 1] != 'x') {
		kw = p->i + 1 < p->n ? &p->tok[p->i + 1] : NULL;
		if (!kw || strcmp(kw->s, "x") != 0)
			return 1;
		p->i++;
	}
	kw = p->i + 1 < p->n ? &p->tok[p->i + 1] : NULL;
	if (!kw || strcmp(kw->s, "baseline") != 0)
		return fail_at(p, kw ? kw->off : end_off(p), EINVAL,
			       "expected 'baseline' after '%s'", t->s);
	if (no_baseline_in_abort(p, t) < 0)
		return -EINVAL;
	if (v <= 0)
		return fail_at(p, t->off, ERANGE,
			       "the factor before 'baseline' must be more "
			       "than 0, got '%s'",
			       num);
	g->bound = GATE_BOUND_RATIO;
	g->value = v;
	p->i += 2;
	return 0;
}

static int parse_value(struct gate_parser *p, struct gate_expr *g)
{
	const struct token *t = peek(p), *next;
	int r;

	if (!t)
		return fail_at(p, end_off(p), EINVAL,
			       "expected a bound after '%s'", op_texts[g->op]);
	if (strcmp(t->s, "baseline") == 0) {
		if (no_baseline_in_abort(p, t) < 0)
			return -EINVAL;
		p->i++;
		next = peek(p);
		if (!next) {
			g->bound = GATE_BOUND_RATIO;
			g->value = 1;
			return 0;
		}
		if (strcmp(next->s, "+") != 0)
			return fail_at(p, next->off, EINVAL,
				       "expected '+' after 'baseline', got "
				       "'%s'",
				       next->s);
		p->i++;
		t = peek(p);
		if (!t)
			return fail_at(p, end_off(p), EINVAL,
				       "expected a value after 'baseline +'");
		g->bound = GATE_BOUND_BASELINE_PLUS;
		r = parse_abs(p, t, &g->value);
		if (r < 0)
			return r;
		p->i++;
		return 0;
	}
	r = parse_ratio(p, g, t);
	if (r <= 0)
		return r;
	g->bound = GATE_BOUND_ABS;
	r = parse_abs(p, t, &g->value);
	if (r < 0)
		return r;
	p->i++;
	return 0;
}

int gate_expr_parse(const char *text, bool is_abort, struct gate_expr *ret,
		    char *reterr_msg, size_t msg_size, size_t *reterr_offset)
{
	struct gate_parser p = {
		.text = text,
		.is_abort = is_abort,
		.msg = reterr_msg,
		.msg_size = msg_size,
		.err_off = reterr_offset,
	};
	struct gate_expr g = {
		.phase = PHASE_ALL,
		.over_ns = is_abort ? GATE_DEFAULT_OVER_NS : 0,
	};
	const struct token *t;
	int r;

	if (!text)
		return fail_at(&p, 0, EINVAL, "missing expression");
	if (strlen(text) > GATE_MAX_TEXT)
		return fail_at(&p, GATE_MAX_TEXT, EINVAL,
			       "expression longer than %d characters",
			       GATE_MAX_TEXT);
	r = tokenize(&p);
	if (r < 0)
		return r;
	r = parse_metric(&p, &g);
	if (r < 0)
		return r;
	t = peek(&p);
	if (t && strcmp(t->s, "during") == 0)
		r = parse_during(&p, &g);
	else if (t && strcmp(t->s, "over") == 0)
		r = parse_over(&p, &g);
	if (r < 0)
		return r;
	r = parse_op(&p, &g);
	if (r < 0)
		return r;
	r = parse_value(&p, &g);
	if (r < 0)
		return r;
	t = peek(&p);
	if (t)
		return fail_at(&p, t->off, EINVAL,
			       "unexpected '%s' after the bound", t->s);
	g.text = strdup(text);
	if (!g.text)
		return fail_at(&p, 0, ENOMEM, "out of memory");
	*ret = g;
	return 0;
}

void gate_expr_done(struct gate_expr *g)
{
	if (!g)
		return;
	free(g->text);
	g->text = NULL;
}

const char *gate_op_text(enum gate_op op)
{
	if ((unsigned)op >= GATE_OP_MAX)
		return NULL;
	return op_texts[op];
}

bool gate_compare(enum gate_op op, double value, double bound)
{
	switch (op) {
	case GATE_LT:
		return value < bound;
	case GATE_LE:
		return value <= bound;
	case GATE_GT:
		return value > bound;
	case GATE_GE:
		return value >= bound;
	case GATE_OP_MAX:
	default:
		return false;
	}
}
