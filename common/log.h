/* SPDX-License-Identifier: Apache-2.0 */
/* One logging module for the agent: levels numbered like syslog, a component
 * per file, stderr by default. Library modules log at debug only. */
#ifndef FG_LOG_H
#define FG_LOG_H

#include <errno.h>

enum fg_log_level {
	FG_LOG_ERROR = 3,
	FG_LOG_WARN = 4,
	FG_LOG_INFO = 6,
	FG_LOG_DEBUG = 7,
};

/* Each .c file that logs defines FG_LOG_COMPONENT before including this. */
#ifndef FG_LOG_COMPONENT
#define FG_LOG_COMPONENT "faultgate"
#endif

/**
 * fg_log_setup() - set the level from a spec such as "info" or
 * "debug,notify:debug,load:warn" (a bare level sets the default).
 *
 * Return: 0, or -EINVAL for an unknown level or malformed spec.
 */
int fg_log_setup(const char *spec);

/** fg_log_enabled() - whether a message at @level for @component is shown. */
int fg_log_enabled(int level, const char *component);

void fg_log_impl(int level, const char *component, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define fg_log(level, ...) fg_log_impl(level, FG_LOG_COMPONENT, 0, __VA_ARGS__)
#define log_error(...) fg_log(FG_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) fg_log(FG_LOG_WARN, __VA_ARGS__)
#define log_info(...) fg_log(FG_LOG_INFO, __VA_ARGS__)
#define log_debug(...) fg_log(FG_LOG_DEBUG, __VA_ARGS__)

/* Log with ": strerror(-r)" appended and evaluate to r (a negative errno). */
#define log_error_errno(r, ...) \
	(fg_log_impl(FG_LOG_ERROR, FG_LOG_COMPONENT, (r), __VA_ARGS__), (r))
#define log_warn_errno(r, ...) \
	(fg_log_impl(FG_LOG_WARN, FG_LOG_COMPONENT, (r), __VA_ARGS__), (r))
#define log_debug_errno(r, ...) \
	(fg_log_impl(FG_LOG_DEBUG, FG_LOG_COMPONENT, (r), __VA_ARGS__), (r))

#endif
