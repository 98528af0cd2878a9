/* SPDX-License-Identifier: Apache-2.0 */
/* The live one-line progress of `faultgate run`: shown only on a terminal,
 * rewritten in place with \r, cleared before log lines and at the end. */
#ifndef FG_PROGRESS_H
#define FG_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress_state {
	const char *phase; /* "baseline", ... */
	double left_s;	   /* time left in the phase */
	bool has_load;
	double rps; /* completed requests per second, last second */
	double p99_ms;
	uint64_t errors; /* over the last second */
	bool has_vitals;
	uint64_t rss_bytes;
	uint32_t threads;
};

struct progress {
	FILE *out;
	bool on;    /* enabled and a terminal */
	bool shown; /* a line is on screen */
	int width;  /* of the line on screen */
};

/** progress_init() - enabled only if @want and @out is a terminal. */
void progress_init(struct progress *p, FILE *out, bool want);

/** progress_update() - draw @s over the previous line. */
void progress_update(struct progress *p, const struct progress_state *s);

/** progress_clear() - erase the line (before logging, and at the end). */
void progress_clear(struct progress *p);

#endif
