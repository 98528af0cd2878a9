// SPDX-License-Identifier: Apache-2.0
/* The load section of a playbook: an open-model HTTP load or a probe
 * command run on a schedule. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pb_schema.h"
#include "units.h"

#define LS(field) offsetof(struct load_spec, field)
#define SEC FG_NSEC_PER_SEC
#define MSEC FG_NSEC_PER_MSEC
#define DURATION_EXPECT "a duration like 50ms or 2s"
#define MAX_RATE 100000.0

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
};

static int parse_url(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		     void *obj)
{
	const char *s = pb_str(v);

	if (!((strncmp(s, "http://", 7) == 0 && s[7]) ||
	      (strncmp(s, "https://", 8) == 0 && s[8])))
		return pb_fail(c, v, EINVAL,
			       "'url' must start with http:// or https://, "
			       "got '%.60s'",
			       s);
	return pb_parse_string(c, k, v, obj);
}

static int parse_method(struct pb_ctx *c, const struct pb_key *k,
			yaml_node_t *v, void *obj)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(pb_str(v), methods[i]) == 0)
			return pb_parse_string(c, k, v, obj);
	return pb_fail(c, v, EINVAL,
		       "'method' must be one of GET, HEAD, POST, PUT, PATCH, "
		       "DELETE, OPTIONS, got '%.60s'",
		       pb_str(v));
}

static int parse_headers(struct pb_ctx *c, const struct pb_key *k,
			 yaml_node_t *v, void *obj)
{
	struct load_spec *l = obj;

	return pb_map_strv(c, k, v, ": ", &l->headers, &l->n_headers);
}

static int parse_rate(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	struct load_spec *l = obj;
	double rate;
	int r;

	r = fg_parse_rate(pb_str(v), &rate);
	if (r == -EINVAL)
		return pb_fail(c, v, EINVAL,
			       "'rate' must be a rate like 200/s, got '%.60s'",
			       pb_str(v));
	if (r < 0 || rate > MAX_RATE)
		return pb_fail(c, v, ERANGE,
			       "'rate' must be more than 0/s and at most "
			       "100000/s, got '%.60s'",
			       pb_str(v));
	l->rate_per_s = rate;
	return 0;
}

/* 204, or "200-299". */
static int parse_status(struct pb_ctx *c, yaml_node_t *it,
			struct status_range *ret)
{
	const char *s = pb_str(it), *dash = strchr(s, '-');
	char lo[16];
	long long a, b;

	if (it->type != YAML_SCALAR_NODE)
		goto bad;
	if (!dash) {
		if (fg_parse_int(s, 100, 599, &a) < 0)
			goto bad;
		*ret = (struct status_range){ (int)a, (int)a };
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(lo))
		goto bad;
	memcpy(lo, s, (size_t)(dash - s));
	lo[dash - s] = '\0';
	if (fg_parse_int(lo, 100, 599, &a) < 0 ||
	    fg_parse_int(dash + 1, 100, 599, &b) < 0 || a > b)
		goto bad;
	*ret = (struct status_range){ (int)a, (int)b };
	return 0;
bad:
	return pb_fail(c, it, EINVAL,
		       "'ok_status' items must be status codes 100..599 or "
		       "ranges like 200-299, got '%.60s'",
		       it->type == YAML_SCALAR_NODE ? s : "a list or mapping");
}

static int parse_ok_status(struct pb_ctx *c, const struct pb_key *k,
			   yaml_node_t *v, void *obj)
{
	struct load_spec *l = obj;
	struct status_range *out;
	size_t n = pb_len(v);
	int r;

	if (n == 0 || n > 64)
		return pb_fail(c, v, EINVAL,
			       "'ok_status' needs between 1 and 64 items");
	out = calloc(n, sizeof(*out));
	if (!out)
		return pb_fail(c, v, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		r = parse_status(c, pb_item(c, v, i), &out[i]);
		if (r < 0) {
			free(out);
			return r;
		}
	}
	free(l->ok_status);
	l->ok_status = out;
	l->n_ok_status = n;
	return 0;
}

static const struct pb_key http_keys[] = {
	{ PB_KEY("url", PB_SCALAR, parse_url, LS(url)), .flags = PB_REQUIRED },
	{ PB_KEY("method", PB_SCALAR, parse_method, LS(method)) },
	{ PB_KEY("headers", PB_MAP, parse_headers, 0),
	  .expect = "a mapping such as { Accept: application/json }" },
	{ PB_KEY("body", PB_SCALAR, pb_parse_text, LS(body)) },
	{ PB_KEY("rate", PB_SCALAR, parse_rate, 0) },
	{ PB_KEY("connections", PB_SCALAR, pb_parse_int, LS(connections)),
	  .min = 1, .max = 10000 },
	{ PB_KEY("timeout", PB_SCALAR, pb_parse_duration, LS(timeout_ns)),
	  .min = MSEC, .max = 300 * SEC, .expect = DURATION_EXPECT },
	{ PB_KEY("ok_status", PB_LIST, parse_ok_status, 0),
	  .expect = "a list such as [200-299, 404]" },
};

static int parse_http(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	static const struct pb_map m = PB_MAP("load.http", http_keys);
	struct load_spec *l = obj;
	int r;

	l->kind = LOAD_HTTP;
	l->rate_per_s = 100;
	l->connections = 64;
	l->timeout_ns = 2 * SEC;
	r = pb_walk(c, v, &m, l, NULL);
	if (r < 0)
		return r;
	if (!l->method) {
		l->method = strdup("GET");
		if (!l->method)
			return pb_fail(c, v, ENOMEM, "out of memory");
	}
	if (!l->ok_status) {
		l->ok_status = calloc(1, sizeof(*l->ok_status));
		if (!l->ok_status)
			return pb_fail(c, v, ENOMEM, "out of memory");
		l->ok_status[0] = (struct status_range){ 200, 299 };
		l->n_ok_status = 1;
	}
	return 0;
}

static int parse_argv(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	struct load_spec *l = obj;

	return pb_strv(c, k, v, 1, &l->argv, &l->argc);
}

static const struct pb_key command_keys[] = {
	{ PB_KEY("argv", PB_LIST, parse_argv, 0), .flags = PB_REQUIRED,
	  .expect = "a list such as [./probe.sh, --quick]" },
	{ PB_KEY("every", PB_SCALAR, pb_parse_duration, LS(every_ns)),
	  .min = 10 * MSEC, .max = 3600 * SEC, .expect = DURATION_EXPECT },
	{ PB_KEY("timeout", PB_SCALAR, pb_parse_duration, LS(timeout_ns)),
	  .min = MSEC, .max = 300 * SEC, .expect = DURATION_EXPECT },
};

static int parse_command(struct pb_ctx *c, const struct pb_key *k,
			 yaml_node_t *v, void *obj)
{
	static const struct pb_map m = PB_MAP("load.command", command_keys);
	struct load_spec *l = obj;

	l->kind = LOAD_COMMAND;
	l->every_ns = SEC;
	l->timeout_ns = 5 * SEC;
	return pb_walk(c, v, &m, l, NULL);
}

static const struct pb_key load_keys[] = {
	{ PB_KEY("http", PB_MAP, parse_http, 0),
	  .expect = "a mapping such as { url: URL, rate: 200/s }" },
	{ PB_KEY("command", PB_MAP, parse_command, 0),
	  .expect = "a mapping such as { argv: [./probe.sh], every: 1s }" },
};

int pb_parse_load(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj)
{
	static const struct pb_map m = PB_MAP("load", load_keys);
	static const size_t one_of[] = { 0, 1 };
	struct load_spec *l = &c->pb->load;
	yaml_node_t *found[ARRAY_SIZE(load_keys)];
	int r;

	l->line = (unsigned)v->start_mark.line + 1;
	l->col = (unsigned)v->start_mark.column + 1;
	r = pb_walk(c, v, &m, l, found);
	if (r < 0)
		return r;
	return pb_exactly_one(c, v, &m, found, one_of, ARRAY_SIZE(one_of));
}

void pb_load_done(struct load_spec *l)
{
	free(l->url);
	free(l->method);
	pb_strv_free(l->headers, l->n_headers);
	free(l->body);
	free(l->ok_status);
	pb_strv_free(l->argv, l->argc);
}
