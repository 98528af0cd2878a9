/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing and printing of the playbook's units: durations (us ms s m),
 * sizes (B KiB MiB GiB, KB MB GB), rates (N/s) and percentages, plus checked
 * integer parsing and the monotonic clock. No I/O. */
#ifndef FG_UNITS_H
#define FG_UNITS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FG_NSEC_PER_USEC 1000LL
#define FG_NSEC_PER_MSEC 1000000LL
#define FG_NSEC_PER_SEC 1000000000LL

/**
 * fg_parse_duration() - "250ms", "1.5s", "2m", "40us" into nanoseconds.
 * A bare number is refused (units are required).
 *
 * Return: 0, -EINVAL for a malformed value or unknown unit, -ERANGE when
 * negative or too large.
 */
int fg_parse_duration(const char *s, int64_t *ret_ns);

/** fg_parse_size() - "512MiB", "16KB", "100B" into bytes. Same returns. */
int fg_parse_size(const char *s, uint64_t *ret_bytes);

/** fg_parse_rate() - "200/s" (also "1.5/s") into events per second. */
int fg_parse_rate(const char *s, double *ret_per_s);

/**
 * fg_parse_percent() - "5%", "0.5%" into a fraction in [0, 1].
 * Return: 0, -EINVAL (no % sign, malformed), -ERANGE (outside 0..100%).
 */
int fg_parse_percent(const char *s, double *ret_fraction);

/** fg_parse_int() - a whole decimal integer within [min, max]. */
int fg_parse_int(const char *s, long long min, long long max, long long *ret);

/** fg_parse_double() - a finite decimal number, whole string consumed. */
int fg_parse_double(const char *s, double *ret);

/**
 * fg_utf8_trim() - cut an incomplete UTF-8 sequence off the end of @s (what
 * a truncating snprintf can leave), so that JSON and XML writers accept it.
 */
void fg_utf8_trim(char *s);

/** fg_format_duration() - a human duration such as "250ms" or "1.50s". */
const char *fg_format_duration(int64_t ns, char *buf, size_t size);

/** fg_format_size() - a human size such as "64.0MiB". */
const char *fg_format_size(double bytes, char *buf, size_t size);

static inline int64_t fg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * FG_NSEC_PER_SEC + ts.tv_nsec;
}

#endif
