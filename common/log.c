// SPDX-License-Identifier: Apache-2.0
/* Logging: level filter per component, one line per message on stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

#define MAX_COMPONENT_RULES 16

struct component_rule {
	char name[24];
	int level;
};

static int default_level = FG_LOG_INFO;
static struct component_rule rules[MAX_COMPONENT_RULES];
static int n_rules;

static int level_from_name(const char *s, size_t len)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
		{ "error", FG_LOG_ERROR },
		{ "warn", FG_LOG_WARN },
		{ "info", FG_LOG_INFO },
		{ "debug", FG_LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && strncasecmp(s, names[i].name, len) == 0)
			return names[i].level;
	return -EINVAL;
}

int fg_log_setup(const char *spec)
{
	const char *p = spec;

	n_rules = 0;
	while (p && *p) {
		const char *end = strchrnul(p, ',');
		const char *colon = memchr(p, ':', (size_t)(end - p));
		int level;

		if (colon) {
			size_t nlen = (size_t)(colon - p);

			level = level_from_name(colon + 1, (size_t)(end - colon - 1));
			if (level < 0 || nlen == 0 || nlen >= sizeof(rules[0].name) ||
			    n_rules == MAX_COMPONENT_RULES)
				return -EINVAL;
			memcpy(rules[n_rules].name, p, nlen);
			rules[n_rules].name[nlen] = '\0';
			rules[n_rules++].level = level;
		} else {
			level = level_from_name(p, (size_t)(end - p));
			if (level < 0)
				return -EINVAL;
			default_level = level;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

int fg_log_enabled(int level, const char *component)
{
	for (int i = 0; i < n_rules; i++)
		if (strcmp(rules[i].name, component) == 0)
			return level <= rules[i].level;
	return level <= default_level;
}

void fg_log_impl(int level, const char *component, int err, const char *fmt, ...)
{
	static const char *const tags[] = {
		[FG_LOG_ERROR] = "error", [FG_LOG_WARN] = "warning",
		[FG_LOG_INFO] = "info", [FG_LOG_DEBUG] = "debug",
	};
	char buf[1024];
	int saved_errno = errno;
	int n, m;
	va_list ap;

	if (!fg_log_enabled(level, component))
		goto out;
	n = snprintf(buf, sizeof(buf), "faultgate: %s: ", tags[level] ? tags[level] : "log");
	if (level == FG_LOG_DEBUG)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "[%s] ", component);
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	n = m < 0 ? n : n + m;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	if (err)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s",
			      strerror(err < 0 ? -err : err));
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, (size_t)n);
out:
	errno = saved_errno;
}
