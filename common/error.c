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
	char prefix[256], old[sizeof(e->msg)];
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old);
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
