// SPDX-License-Identifier: Apache-2.0
/* Unit parsing: number, then a unit from a table; everything else refused. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

struct unit {
	const char *name;
	double scale;
};

static const struct unit duration_units[] = {
	{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
};

static const struct unit size_units[] = {
	{ "B", 1 },
	{ "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
	{ "KB", 1e3 }, { "MB", 1e6 }, { "GB", 1e9 },
};

/* Split "12.5ms" into 12.5 and "ms"; the number must be plain decimal. */
static int split_number(const char *s, double *ret_value, const char **ret_unit)
{
	const char *p = s;
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	/* strtod also takes "inf", "0x10" and leading spaces: refuse those. */
	if (!(*p >= '0' && *p <= '9') && *p != '-' && *p != '.')
		return -EINVAL;
	for (const char *q = p; *q && (*q == '-' || *q == '.' || (*q >= '0' && *q <= '9')); q++)
		if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
			return -EINVAL;
	errno = 0;
	v = strtod(p, &end);
	if (end == p || errno == ERANGE || !isfinite(v))
		return -EINVAL;
	*ret_value = v;
	*ret_unit = end;
	return 0;
}

static int parse_with_units(const char *s, const struct unit *units, size_t n, double *ret)
{
	const char *unit;
	double v;
	int r;

	r = split_number(s, &v, &unit);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(unit, units[i].name) == 0) {
			if (v < 0)
				return -ERANGE;
			*ret = v * units[i].scale;
			return 0;
		}
	}
	return -EINVAL;
}

int fg_parse_duration(const char *s, int64_t *ret_ns)
{
	double ns;
	int r;

	r = parse_with_units(s, duration_units, sizeof(duration_units) / sizeof(duration_units[0]),
			     &ns);
	if (r < 0)
		return r;
	if (ns > 9.2e18)
		return -ERANGE;
	*ret_ns = (int64_t)llround(ns);
	return 0;
}

int fg_parse_size(const char *s, uint64_t *ret_bytes)
{
	double b;
	int r;

	r = parse_with_units(s, size_units, sizeof(size_units) / sizeof(size_units[0]), &b);
	if (r < 0)
		return r;
	if (b > 1.8e19)
		return -ERANGE;
	*ret_bytes = (uint64_t)llround(b);
	return 0;
}

int fg_parse_rate(const char *s, double *ret_per_s)
{
	const char *unit;
	double v;
	int r;

	r = split_number(s, &v, &unit);
	if (r < 0)
		return r;
	if (strcmp(unit, "/s") != 0)
		return -EINVAL;
	if (v <= 0 || v > 1e7)
		return -ERANGE;
	*ret_per_s = v;
	return 0;
}

int fg_parse_percent(const char *s, double *ret_fraction)
{
	const char *unit;
	double v;
	int r;

	r = split_number(s, &v, &unit);
	if (r < 0)
		return r;
	if (strcmp(unit, "%") != 0)
		return -EINVAL;
	if (v < 0 || v > 100)
		return -ERANGE;
	*ret_fraction = v / 100.0;
	return 0;
}

int fg_parse_int(const char *s, long long min, long long max, long long *ret)
{
	char *end;
	long long v;

	if (!s || !*s || !((*s >= '0' && *s <= '9') || *s == '-'))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int fg_parse_double(const char *s, double *ret)
{
	const char *rest;
	double v;
	int r;

	r = split_number(s, &v, &rest);
	if (r < 0)
		return r;
	if (*rest)
		return -EINVAL;
	*ret = v;
	return 0;
}

const char *fg_format_duration(int64_t ns, char *buf, size_t size)
{
	double a = (double)(ns < 0 ? -ns : ns);

	if (a >= 60e9 && ns % (60 * FG_NSEC_PER_SEC) == 0)
		snprintf(buf, size, "%lldm", (long long)(ns / (60 * FG_NSEC_PER_SEC)));
	else if (a >= 1e9)
		snprintf(buf, size, "%.3gs", (double)ns / 1e9);
	else if (a >= 1e6)
		snprintf(buf, size, "%.3gms", (double)ns / 1e6);
	else if (a >= 1e3)
		snprintf(buf, size, "%.3gus", (double)ns / 1e3);
	else
		snprintf(buf, size, "%lldns", (long long)ns);
	return buf;
}

const char *fg_format_size(double bytes, char *buf, size_t size)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double a = bytes < 0 ? -bytes : bytes;
	int i = 0;

	while (a >= 1024 && i < 4) {
		a /= 1024;
		bytes /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, size, "%.0fB", bytes);
	else
		snprintf(buf, size, "%.1f%s", bytes, names[i]);
	return buf;
}
