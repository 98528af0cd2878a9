// SPDX-License-Identifier: Apache-2.0
/* The target section of a playbook: a command to launch (with readiness),
 * a pid, or a process found by name or command line. */
#include <errno.h>
#include <regex.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pb_schema.h"
#include "units.h"

#define TS(field) offsetof(struct target_spec, field)
#define RS(field) offsetof(struct ready_spec, field)
#define SEC FG_NSEC_PER_SEC
#define MSEC FG_NSEC_PER_MSEC
#define DURATION_EXPECT "a duration like 50ms or 2s"
#define COMM_MAX 15

static int parse_command(struct pb_ctx *c, const struct pb_key *k,
			 yaml_node_t *v, void *obj)
{
	struct target_spec *t = obj;

	t->mode = TARGET_COMMAND;
	return pb_strv(c, k, v, 1, &t->argv, &t->argc);
}

static int parse_env(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		     void *obj)
{
	struct target_spec *t = obj;

	return pb_map_strv(c, k, v, "=", &t->env, &t->n_env);
}

static int parse_pid(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		     void *obj)
{
	struct target_spec *t = obj;

	t->mode = TARGET_PID;
	return pb_parse_int(c, k, v, obj);
}

/* "HOST:PORT" or "[V6]:PORT"; the host may be a name. */
static int parse_tcp(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		     void *obj)
{
	struct ready_spec *rd = obj;
	const char *s = pb_str(v), *colon = strrchr(s, ':'), *h = s;
	size_t hlen = colon ? (size_t)(colon - s) : 0;
	long long port;

	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (!colon || hlen == 0 || fg_parse_int(colon + 1, 1, 65535, &port) < 0)
		return pb_fail(c, v, EINVAL,
			       "'tcp' must be HOST:PORT like 127.0.0.1:8080, "
			       "got '%.60s'",
			       s);
	rd->tcp_host = strndup(h, hlen);
	if (!rd->tcp_host)
		return pb_fail(c, v, ENOMEM, "out of memory");
	rd->tcp_port = (uint16_t)port;
	rd->kind = READY_TCP;
	return 0;
}

static bool is_http_url(const char *s)
{
	return (strncmp(s, "http://", 7) == 0 && s[7]) ||
	       (strncmp(s, "https://", 8) == 0 && s[8]);
}

static int parse_ready_http(struct pb_ctx *c, const struct pb_key *k,
			    yaml_node_t *v, void *obj)
{
	struct ready_spec *rd = obj;

	if (!is_http_url(pb_str(v)))
		return pb_fail(c, v, EINVAL,
			       "'http' must be a URL starting with http:// or "
			       "https://, got '%.60s'",
			       pb_str(v));
	rd->kind = READY_HTTP;
	return pb_parse_string(c, k, v, obj);
}

static int parse_after(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		       void *obj)
{
	struct ready_spec *rd = obj;

	rd->kind = READY_AFTER;
	return pb_parse_duration(c, k, v, obj);
}

static const struct pb_key ready_keys[] = {
	{ PB_KEY("http", PB_SCALAR, parse_ready_http, RS(http_url)) },
	{ PB_KEY("tcp", PB_SCALAR, parse_tcp, 0) },
	{ PB_KEY("after", PB_SCALAR, parse_after, RS(after_ns)), .min = 0,
	  .max = 600 * SEC, .expect = DURATION_EXPECT },
	{ PB_KEY("timeout", PB_SCALAR, pb_parse_duration, RS(timeout_ns)),
	  .min = MSEC, .max = 3600 * SEC, .expect = DURATION_EXPECT },
};

static int parse_ready(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		       void *obj)
{
	static const struct pb_map m = PB_MAP("target.ready", ready_keys);
	static const size_t one_of[] = { 0, 1, 2 };
	struct target_spec *t = obj;
	yaml_node_t *found[ARRAY_SIZE(ready_keys)];
	int r;

	r = pb_walk(c, v, &m, &t->ready, found);
	if (r < 0)
		return r;
	return pb_exactly_one(c, v, &m, found, one_of, ARRAY_SIZE(one_of));
}

static int parse_name(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	if (v->data.scalar.length > COMM_MAX)
		return pb_fail(
			c, v, EINVAL,
			"'name' is matched against the kernel's 15-character "
			"process name (comm); '%.60s' is longer, use cmdline "
			"instead",
			pb_str(v));
	return pb_parse_string(c, k, v, obj);
}

static int parse_cmdline(struct pb_ctx *c, const struct pb_key *k,
			 yaml_node_t *v, void *obj)
{
	char why[128];
	regex_t re;
	int r;

	r = regcomp(&re, pb_str(v), REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		regerror(r, &re, why, sizeof(why));
		return pb_fail(c, v, EINVAL,
			       "'cmdline' is not a valid extended regular "
			       "expression: %s",
			       why);
	}
	regfree(&re);
	return pb_parse_string(c, k, v, obj);
}

static const struct pb_key process_keys[] = {
	{ PB_KEY("name", PB_SCALAR, parse_name, TS(process_name)) },
	{ PB_KEY("cmdline", PB_SCALAR, parse_cmdline, TS(process_cmdline)) },
};

static int parse_process(struct pb_ctx *c, const struct pb_key *k,
			 yaml_node_t *v, void *obj)
{
	static const struct pb_map m = PB_MAP("target.process", process_keys);
	static const size_t one_of[] = { 0, 1 };
	struct target_spec *t = obj;
	yaml_node_t *found[ARRAY_SIZE(process_keys)];
	int r;

	t->mode = TARGET_PROCESS;
	r = pb_walk(c, v, &m, t, found);
	if (r < 0)
		return r;
	return pb_exactly_one(c, v, &m, found, one_of, ARRAY_SIZE(one_of));
}

enum {
	KEY_COMMAND,
	KEY_PID,
	KEY_PROCESS,
	KEY_ENV,
	KEY_CWD,
	KEY_READY,
	KEY_STOP_GRACE,
};

static const struct pb_key target_keys[] = {
	[KEY_COMMAND] = { PB_KEY("command", PB_LIST, parse_command, 0),
			  .expect = "a list such as [./svc, --addr, "
				    "127.0.0.1:8080]" },
	[KEY_PID] = { PB_KEY("pid", PB_SCALAR, parse_pid, TS(pid)), .min = 1,
		      .max = 0x7fffffff },
	[KEY_PROCESS] = { PB_KEY("process", PB_MAP, parse_process, 0),
			  .expect = "a mapping such as { name: svc } or { "
				    "cmdline: REGEX }" },
	[KEY_ENV] = { PB_KEY("env", PB_MAP, parse_env, 0),
		      .expect = "a mapping such as { GODEBUG: netdns=cgo }" },
	[KEY_CWD] = { PB_KEY("cwd", PB_SCALAR, pb_parse_string, TS(cwd)) },
	[KEY_READY] = { PB_KEY("ready", PB_MAP, parse_ready, 0),
			.expect = "a mapping such as { tcp: 127.0.0.1:8080, "
				  "timeout: 10s }" },
	[KEY_STOP_GRACE] = { PB_KEY("stop_grace", PB_SCALAR, pb_parse_duration,
				    TS(stop_grace_ns)),
			     .min = 0, .max = 600 * SEC,
			     .expect = DURATION_EXPECT },
};

int pb_parse_target(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		    void *obj)
{
	static const struct pb_map m = PB_MAP("target", target_keys);
	static const size_t one_of[] = { KEY_COMMAND, KEY_PID, KEY_PROCESS };
	struct target_spec *t = &c->pb->target;
	yaml_node_t *found[ARRAY_SIZE(target_keys)];
	int r;

	t->line = (unsigned)v->start_mark.line + 1;
	t->col = (unsigned)v->start_mark.column + 1;
	t->ready.kind = READY_NONE;
	t->ready.timeout_ns = 10 * SEC;
	t->stop_grace_ns = 5 * SEC;
	r = pb_walk(c, v, &m, t, found);
	if (r < 0)
		return r;
	r = pb_exactly_one(c, v, &m, found, one_of, ARRAY_SIZE(one_of));
	if (r < 0)
		return r;
	if (found[KEY_COMMAND])
		return 0;
	for (size_t i = KEY_ENV; i <= KEY_STOP_GRACE; i++)
		if (found[i])
			return pb_fail(c, found[i], EINVAL,
				       "'%s' only applies to a target "
				       "started with 'command'",
				       target_keys[i].name);
	return 0;
}

void pb_target_done(struct target_spec *t)
{
	pb_strv_free(t->argv, t->argc);
	pb_strv_free(t->env, t->n_env);
	free(t->cwd);
	free(t->ready.http_url);
	free(t->ready.tcp_host);
	free(t->process_name);
	free(t->process_cmdline);
}
