/* SPDX-License-Identifier: Apache-2.0 */
/* A caller-owned error with errno, position and a bounded message; used by the
 * playbook loader and the start-up path to report one clear line. */
#ifndef FG_ERROR_H
#define FG_ERROR_H

#include <stddef.h>

struct fg_error {
	int err;		/* positive errno value, 0 when unset */
	unsigned line, col;	/* 1-based; 0 when there is no position */
	char msg[512];
};

/**
 * fg_error_set() - fill @e (may be NULL) with a message at a position.
 *
 * Return: -@err, so callers can write `return fg_error_set(...)`.
 */
int fg_error_set(struct fg_error *e, int err, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/** fg_error_prefix() - prepend "CONTEXT: " to the message of @e. */
void fg_error_prefix(struct fg_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * fg_error_format() - "FILE:LINE:COL: MSG" (or "FILE: MSG" without a
 * position, or just "MSG" when @file is NULL) into @buf.
 */
const char *fg_error_format(const struct fg_error *e, const char *file, char *buf, size_t size);

#endif
