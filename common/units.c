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

/*
 * Split "12.5ms" into 12.5 and "ms". The number must be plain decimal: an
 * optional minus, digits, and an optional fraction with digits after the
 * point. strtod alone would also take "inf", "0x10", "1e3" and leading
 * spaces, none of which a playbook should contain.
 */
static int split_number(const char *s, double *ret_value, const char **ret_unit)
{
	const char *p = s;
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	if (*p == '-')
		p++;
	if (!(*p >= '0' && *p <= '9'))
		return -EINVAL;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end != p || errno == ERANGE || !isfinite(v))
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
	/* llround() is only defined up to LLONG_MAX. */
	if (b > 9.2e18)
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

/* Print @v with at most three significant digits, without a trailing ".0". */
static void format_scaled(char *buf, size_t size, double v, const char *unit)
{
	if (v == (double)(long long)v)
		snprintf(buf, size, "%lld%s", (long long)v, unit);
	else if (v < 10 && v > -10)
		snprintf(buf, size, "%.2f%s", v, unit);
	else if (v < 100 && v > -100)
		snprintf(buf, size, "%.1f%s", v, unit);
	else
		snprintf(buf, size, "%.0f%s", v, unit);
}

const char *fg_format_duration(int64_t ns, char *buf, size_t size)
{
	int64_t a = ns < 0 ? -ns : ns;

	if (a >= 3600 * FG_NSEC_PER_SEC && ns % (3600 * FG_NSEC_PER_SEC) == 0)
		snprintf(buf, size, "%lldh", (long long)(ns / (3600 * FG_NSEC_PER_SEC)));
	else if (a >= 60 * FG_NSEC_PER_SEC && ns % (60 * FG_NSEC_PER_SEC) == 0)
		snprintf(buf, size, "%lldm", (long long)(ns / (60 * FG_NSEC_PER_SEC)));
	else if (a >= FG_NSEC_PER_SEC)
		format_scaled(buf, size, (double)ns / 1e9, "s");
	else if (a >= FG_NSEC_PER_MSEC)
		format_scaled(buf, size, (double)ns / 1e6, "ms");
	else if (a >= FG_NSEC_PER_USEC)
		format_scaled(buf, size, (double)ns / 1e3, "us");
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

void fg_utf8_trim(char *s)
{
	size_t n = strlen(s), start = n, need;
	unsigned char c;

	/* back to the lead byte of the last sequence, at most 3 bytes */
	while (start > 0 && n - start < 4 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0)
		return;
	c = (unsigned char)s[start - 1];
	if (c < 0x80)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (n - (start - 1) < need)
		s[start - 1] = '\0';
}
