// SPDX-License-Identifier: Apache-2.0
/* The caller-owned error object. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int fg_error_set(struct fg_error *e, int err, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	if (err < 0)
		err = -err;
	if (!e)
		return -err;
	e->err = err;
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -err;
}

void fg_error_prefix(struct fg_error *e, const char *fmt, ...)
{
	char old[sizeof(e->msg)];
	size_t len, rest;
	va_list ap;
	int n;

	if (!e)
		return;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	len = (size_t)n < sizeof(e->msg) ? (size_t)n : sizeof(e->msg) - 1;
	/* Append ": OLD", cut to fit; the message stays NUL-terminated. */
	rest = sizeof(e->msg) - len;
	if (rest > 2) {
		memcpy(e->msg + len, ": ", 2);
		len += 2;
		rest -= 2;
		n = (int)strnlen(old, sizeof(old) - 1);
		if ((size_t)n >= rest)
			n = (int)rest - 1;
		memcpy(e->msg + len, old, (size_t)n);
		e->msg[len + (size_t)n] = '\0';
	}
}

const char *fg_error_format(const struct fg_error *e, const char *file, char *buf, size_t size)
{
	if (file && e->line)
		snprintf(buf, size, "%s:%u:%u: %s", file, e->line, e->col, e->msg);
	else if (file)
		snprintf(buf, size, "%s: %s", file, e->msg);
	else
		snprintf(buf, size, "%s", e->msg);
	return buf;
}
