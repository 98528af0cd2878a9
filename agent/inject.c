// SPDX-License-Identifier: Apache-2.0
/* `faultgate inject KIND --pid N key=value ...`: the arguments become a
 * small playbook text, which the ordinary loader validates, so a parameter
 * means and checks exactly what it does in a playbook. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "inject.h"

#define INJECT_NAME "faultgate inject"
/* The runner's baseline is short: the fault starts almost at once. */
#define BASELINE "100ms"
/* "Until Ctrl-C": the longest a run may last. */
#define FOREVER "1439m"
#define MAX_TEXT (64 * 1024)

/* Keys whose value is a list: "cpus=0,1" is written [0, 1]. */
static const char *const list_keys[] = {
	"syscalls", "paths", "peers", "symbols", "cpus", "tids",
};

struct text {
	char buf[MAX_TEXT];
	size_t len;
	bool overflow;
	unsigned line;		/* lines written so far */
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len) {
		t->overflow = true;
		return;
	}
	for (int i = 0; i < n; i++)
		t->line += t->buf[t->len + (size_t)i] == '\n';
	t->len += (size_t)n;
}

/* A scalar: plain when it cannot be mistaken for YAML syntax, otherwise
 * double-quoted with \ and " escaped. */
static void put_scalar(struct text *t, const char *s, size_t len)
{
	bool plain = len > 0 && isalnum((unsigned char)s[0]);

	for (size_t i = 0; i < len && plain; i++)
		plain = isalnum((unsigned char)s[i]) || strchr("._%+-", s[i]);
	if (plain) {
		put(t, "%.*s", (int)len, s);
		return;
	}
	put(t, "\"");
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			put(t, "\\%c", s[i]);
		else if ((unsigned char)s[i] < 0x20)
			put(t, "\\x%02x", (unsigned char)s[i]);
		else
			put(t, "%c", s[i]);
	}
	put(t, "\"");
}

static bool is_list_key(const char *key, size_t len)
{
	for (size_t i = 0; i < sizeof(list_keys) / sizeof(list_keys[0]); i++)
		if (strlen(list_keys[i]) == len && strncmp(list_keys[i], key, len) == 0)
			return true;
	return false;
}

static void put_value(struct text *t, const char *key, size_t klen, const char *v)
{
	if (!is_list_key(key, klen) || v[0] == '[') {
		if (v[0] == '[')
			put(t, "%s", v);
		else
			put_scalar(t, v, strlen(v));
		return;
	}
	put(t, "[");
	for (const char *p = v;;) {
		size_t n = strcspn(p, ",");

		put_scalar(t, p, n);
		if (!p[n])
			break;
		put(t, ", ");
		p += n + 1;
	}
	put(t, "]");
}

static bool valid_key(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

int inject_build(const char *kind, pid_t pid, const char *for_text, char *const *params,
		 size_t n_params, struct playbook **ret, struct fg_error *reterr)
{
	fg_autofree struct text *tp = calloc(1, sizeof(*tp));
	unsigned for_line, kind_line, first_param;
	struct fg_error err = {0};
	int r;

	if (!tp)
		return fg_error_set(reterr, ENOMEM, 0, 0, "out of memory");
	put(tp, "version: 1\nname: inject\ntarget: { pid: %d }\nphases:\n", (int)pid);
	put(tp, "  baseline: %s\n", BASELINE);
	for_line = tp->line + 1;
	put(tp, "  fault: ");
	put_scalar(tp, for_text ? for_text : FOREVER, strlen(for_text ? for_text : FOREVER));
	put(tp, "\n  recovery: 0s\nfaults:\n");
	kind_line = tp->line + 1;
	put(tp, "  - kind: ");
	put_scalar(tp, kind, strlen(kind));
	put(tp, "\n");
	first_param = tp->line + 1;
	for (size_t i = 0; i < n_params; i++) {
		const char *eq = strchr(params[i], '=');
		size_t klen = eq ? (size_t)(eq - params[i]) : 0;

		if (!eq || !valid_key(params[i], klen) || !eq[1])
			return fg_error_set(reterr, EINVAL, 0, 0,
					    "'%s': parameters are KEY=VALUE, such as delay=50ms",
					    params[i]);
		put(tp, "    %.*s: ", (int)klen, params[i]);
		put_value(tp, params[i], klen, eq + 1);
		put(tp, "\n");
	}
	if (tp->overflow)
		return fg_error_set(reterr, E2BIG, 0, 0, "the parameters are too long");
	r = playbook_load_string(tp->buf, tp->len, INJECT_NAME, ret, &err);
	if (r >= 0)
		return 0;
	/* Name the argument the loader blames instead of a line of text the
	 * user never saw. */
	if (err.line >= first_param && err.line - first_param < n_params)
		return fg_error_set(reterr, err.err ? err.err : -r, 0, 0, "'%s': %s",
				    params[err.line - first_param], err.msg);
	/* the loader speaks of the fault phase, which --for becomes */
	if (err.line == for_line)
		return fg_error_set(reterr, err.err ? err.err : -r, 0, 0,
				    "--for %s: give a duration above 0 and up to 24h, "
				    "such as 30s or 5m",
				    for_text ? for_text : FOREVER);
	if (err.line == kind_line)
		return fg_error_set(reterr, err.err ? err.err : -r, 0, 0, "%s", err.msg);
	return fg_error_set(reterr, err.err ? err.err : -r, 0, 0, "%s",
			    err.msg[0] ? err.msg : strerror(-r));
}
