// SPDX-License-Identifier: Apache-2.0
/* The metric catalogue: names, units and sources of everything a gate can
 * name, and how values print in the metric's unit. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gate_expr.h"
#include "units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* clang-format off */
#define LOAD(n, id, u) { n, id, METRIC_UNIT_##u, METRIC_SRC_LOAD }
#define VITAL(n, id, u) { n, id, METRIC_UNIT_##u, METRIC_SRC_VITALS }
#define VITAL5(base, ID, u)				\
	VITAL(base ".max", METRIC_##ID##_MAX, u),	\
	VITAL(base ".min", METRIC_##ID##_MIN, u),	\
	VITAL(base ".mean", METRIC_##ID##_MEAN, u),	\
	VITAL(base ".end", METRIC_##ID##_END, u),	\
	VITAL(base ".growth", METRIC_##ID##_GROWTH, u)
/* clang-format on */

/* Indexed by enum metric_id. */
static const struct metric_info metrics[METRIC_ID_MAX] = {
	LOAD("latency.p50", METRIC_LATENCY_P50, DURATION),
	LOAD("latency.p90", METRIC_LATENCY_P90, DURATION),
	LOAD("latency.p99", METRIC_LATENCY_P99, DURATION),
	LOAD("latency.p999", METRIC_LATENCY_P999, DURATION),
	LOAD("latency.max", METRIC_LATENCY_MAX, DURATION),
	LOAD("latency.mean", METRIC_LATENCY_MEAN, DURATION),
	LOAD("errors.rate", METRIC_ERRORS_RATE, FRACTION),
	LOAD("errors.count", METRIC_ERRORS_COUNT, COUNT),
	LOAD("requests.count", METRIC_REQUESTS_COUNT, COUNT),
	LOAD("throughput", METRIC_THROUGHPUT, PER_SEC),
	VITAL5("rss", RSS, BYTES),
	VITAL5("threads", THREADS, COUNT),
	VITAL5("goroutines", GOROUTINES, COUNT),
	VITAL5("gomaxprocs", GOMAXPROCS, COUNT),
	VITAL("ctx_switches.nonvoluntary.rate", METRIC_CTX_NONVOLUNTARY_RATE,
	      PER_SEC),
	VITAL("sched_delay.p50", METRIC_SCHED_DELAY_P50, DURATION),
	VITAL("sched_delay.p99", METRIC_SCHED_DELAY_P99, DURATION),
	VITAL("sched_delay.max", METRIC_SCHED_DELAY_MAX, DURATION),
	VITAL("runqueue.wait_rate", METRIC_RUNQUEUE_WAIT_RATE, FRACTION),
	{ "target.alive", METRIC_TARGET_ALIVE, METRIC_UNIT_BOOL,
	  METRIC_SRC_TARGET },
	VITAL("cpu_delay.total", METRIC_CPU_DELAY_TOTAL, DURATION),
	VITAL("blkio_delay.total", METRIC_BLKIO_DELAY_TOTAL, DURATION),
	VITAL("swapin_delay.total", METRIC_SWAPIN_DELAY_TOTAL, DURATION),
	VITAL("reclaim_delay.total", METRIC_RECLAIM_DELAY_TOTAL, DURATION),
	VITAL("thrashing_delay.total", METRIC_THRASHING_DELAY_TOTAL, DURATION),
};

static const struct {
	const char *alias;
	enum metric_id id;
} aliases[] = {
	{ "gomaxprocs", METRIC_GOMAXPROCS_END },
};

const struct metric_info *metric_lookup(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(metrics); i++)
		if (strcmp(metrics[i].name, name) == 0)
			return &metrics[i];
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (strcmp(aliases[i].alias, name) == 0)
			return &metrics[aliases[i].id];
	return NULL;
}

const struct metric_info *metric_info(enum metric_id id)
{
	if ((unsigned)id >= METRIC_ID_MAX)
		return NULL;
	return &metrics[id];
}

const char *metric_name(enum metric_id id)
{
	const struct metric_info *m = metric_info(id);

	return m ? m->name : NULL;
}

/* Length of the family part of a name: "latency" in "latency.p99". */
static size_t family_len(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot ? (size_t)(dot - name) : strlen(name);
}

/* Levenshtein distance, capped: names are short, so a small table does. */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned row[64], la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return 99;
	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diag = row[0], cur;

		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			cur = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = cur;
		}
	}
	return row[lb];
}

static void append(char *buf, size_t size, size_t *len, const char *sep,
		   const char *s)
{
	if (*len >= size)
		return;
	*len += (size_t)snprintf(buf + *len, size - *len, "%s%s",
				 *len ? sep : "", s);
}

const char *metric_suggest(const char *name, char *buf, size_t size)
{
	size_t flen = family_len(name), len = 0;
	unsigned best = 3;

	buf[0] = '\0';
	/* Same family: list its members ("latency.p95" -> latency.p50, ...). */
	for (size_t i = 0; i < ARRAY_SIZE(metrics); i++) {
		const char *m = metrics[i].name;

		if (metrics[i].id == METRIC_TARGET_ALIVE)
			continue;
		if (family_len(m) == flen && strncmp(m, name, flen) == 0)
			append(buf, size, &len, ", ", m);
	}
	if (len)
		return buf;
	/* A typo: the names within two edits. */
	for (size_t i = 0; i < ARRAY_SIZE(metrics); i++) {
		unsigned d = edit_distance(name, metrics[i].name);

		if (d < best)
			best = d;
	}
	for (size_t i = 0; best < 3 && i < ARRAY_SIZE(metrics); i++)
		if (edit_distance(name, metrics[i].name) == best)
			append(buf, size, &len, ", ", metrics[i].name);
	if (len)
		return buf;
	/* Otherwise the families. */
	for (size_t i = 0; i < ARRAY_SIZE(metrics); i++) {
		const char *m = metrics[i].name;
		size_t fl = family_len(m);
		char fam[40];

		if (metrics[i].id == METRIC_TARGET_ALIVE || fl >= sizeof(fam))
			continue;
		if (i > 0 && family_len(metrics[i - 1].name) == fl &&
		    strncmp(metrics[i - 1].name, m, fl) == 0)
			continue;
		snprintf(fam, sizeof(fam), "%.*s%s", (int)fl, m,
			 m[fl] ? ".*" : "");
		append(buf, size, &len, ", ", fam);
	}
	return buf;
}

/* Whole numbers print without decimals, others with one or two. */
static const char *format_plain(double v, const char *suffix, char *buf,
				size_t size)
{
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, size, "%.0f%s", v, suffix);
	else if (fabs(v) < 10)
		snprintf(buf, size, "%.2f%s", v, suffix);
	else
		snprintf(buf, size, "%.1f%s", v, suffix);
	return buf;
}

const char *metric_format(enum metric_unit unit, double value, char *buf,
			  size_t size)
{
	if (!isfinite(value)) {
		snprintf(buf, size, "%s", "n/a");
		return buf;
	}
	switch (unit) {
	case METRIC_UNIT_DURATION:
		if (fabs(value) >= 1000)
			snprintf(buf, size, "%.2fs", value / 1000);
		else if (fabs(value) >= 1 || value == 0)
			snprintf(buf, size, "%.1fms", value);
		else
			snprintf(buf, size, "%.0fus", value * 1000);
		return buf;
	case METRIC_UNIT_BYTES:
		return fg_format_size(value, buf, size);
	case METRIC_UNIT_FRACTION:
		snprintf(buf, size, "%.2f%%", value * 100);
		return buf;
	case METRIC_UNIT_COUNT:
		return format_plain(value, "", buf, size);
	case METRIC_UNIT_PER_SEC:
		snprintf(buf, size, "%.1f/s", value);
		return buf;
	case METRIC_UNIT_BOOL:
		snprintf(buf, size, "%s", value != 0 ? "true" : "false");
		return buf;
	case METRIC_UNIT_MAX:
	default:
		snprintf(buf, size, "%g", value);
		return buf;
	}
}

const char *metric_unit_name(enum metric_unit unit)
{
	static const char *const names[METRIC_UNIT_MAX] = {
		[METRIC_UNIT_DURATION] = "ms",
		[METRIC_UNIT_BYTES] = "bytes",
		[METRIC_UNIT_FRACTION] = "ratio",
		[METRIC_UNIT_COUNT] = "count",
		[METRIC_UNIT_PER_SEC] = "per_second",
		[METRIC_UNIT_BOOL] = "bool",
	};

	if ((unsigned)unit >= METRIC_UNIT_MAX)
		return NULL;
	return names[unit];
}
