// SPDX-License-Identifier: Apache-2.0
/* The table-driven mapping walk of the playbook loader and its generic
 * handlers for strings, units, numbers, booleans and lists. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_schema.h"
#include "units.h"

int pb_fail_at(struct pb_ctx *c, yaml_mark_t mark, size_t col_delta, int err,
	       const char *fmt, ...)
{
	va_list ap;

	if (!c->err)
		return -err;
	c->err->err = err;
	c->err->line = (unsigned)mark.line + 1;
	c->err->col = (unsigned)(mark.column + col_delta) + 1;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return -err;
}

int pb_fail(struct pb_ctx *c, yaml_node_t *n, int err, const char *fmt, ...)
{
	va_list ap;

	if (!c->err)
		return -err;
	c->err->err = err;
	c->err->line = (unsigned)n->start_mark.line + 1;
	c->err->col = (unsigned)n->start_mark.column + 1;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return -err;
}

const char *pb_type_word(yaml_node_t *n, char *buf, size_t size)
{
	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SCALAR_NODE:
		if (n->data.scalar.length == 0)
			return "nothing";
		snprintf(buf, size, "'%.60s'", pb_str(n));
		return buf;
	case YAML_NO_NODE:
	default:
		return "nothing";
	}
}

static const char *type_expect(enum pb_type t)
{
	switch (t) {
	case PB_LIST:
		return "a list";
	case PB_MAP:
		return "a mapping";
	case PB_SCALAR:
		return "a single value";
	case PB_ANY:
	default:
		return "a value";
	}
}

static bool type_ok(enum pb_type t, yaml_node_t *n)
{
	switch (t) {
	case PB_LIST:
		return n->type == YAML_SEQUENCE_NODE;
	case PB_MAP:
		return n->type == YAML_MAPPING_NODE;
	case PB_SCALAR:
		return n->type == YAML_SCALAR_NODE;
	case PB_ANY:
	default:
		return true;
	}
}

yaml_node_t *pb_item(struct pb_ctx *c, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(c->doc,
				      seq->data.sequence.items.start[i]);
}

yaml_node_t *pb_get(struct pb_ctx *c, yaml_node_t *map, const char *key,
		    yaml_node_t **ret_key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp(pb_str(k), key) == 0) {
			if (ret_key)
				*ret_key = k;
			return yaml_document_get_node(c->doc, p->value);
		}
	}
	return NULL;
}

static bool key_applies(const struct pb_map *m, const struct pb_key *k)
{
	return !k->kinds || !m->kind_bit || (k->kinds & m->kind_bit);
}

static int unknown_key(struct pb_ctx *c, const struct pb_map *m,
		       yaml_node_t *key)
{
	char allowed[384];
	size_t len = 0;

	allowed[0] = '\0';
	for (size_t i = 0; i < m->n_keys && len < sizeof(allowed); i++) {
		if (!key_applies(m, &m->keys[i]))
			continue;
		len += (size_t)snprintf(allowed + len, sizeof(allowed) - len,
					"%s%s", len ? ", " : "",
					m->keys[i].name);
	}
	return pb_fail(c, key, EINVAL, "unknown key '%.60s' in %s; allowed: %s",
		       pb_str(key), m->where, allowed);
}

/* Pass 1: match every key against the table. */
static int match_keys(struct pb_ctx *c, yaml_node_t *map,
		      const struct pb_map *m, yaml_node_t **keys,
		      yaml_node_t **vals)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(c->doc, p->value);
		size_t i;

		if (key->type != YAML_SCALAR_NODE)
			return pb_fail(c, key, EINVAL,
				       "keys in %s must be plain words",
				       m->where);
		for (i = 0; i < m->n_keys; i++)
			if (strcmp(m->keys[i].name, pb_str(key)) == 0)
				break;
		if (i == m->n_keys)
			return unknown_key(c, m, key);
		if (!key_applies(m, &m->keys[i]))
			return pb_fail(c, key, EINVAL,
				       "'%s' does not apply to kind '%s'",
				       m->keys[i].name, m->kind_name);
		if (keys[i])
			return pb_fail(c, key, EINVAL,
				       "duplicate key '%s' (first at line %lu)",
				       m->keys[i].name,
				       (unsigned long)keys[i]->start_mark.line +
					       1);
		keys[i] = key;
		vals[i] = val;
	}
	return 0;
}

int pb_walk(struct pb_ctx *c, yaml_node_t *map, const struct pb_map *m,
	    void *obj, yaml_node_t **found)
{
	yaml_node_t *keys[PB_MAX_KEYS] = {}, *vals[PB_MAX_KEYS] = {};
	char got[80];
	int r;

	if (m->n_keys > PB_MAX_KEYS)
		return pb_fail(c, map, EINVAL,
			       "internal error: schema table too large");
	r = match_keys(c, map, m, keys, vals);
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->n_keys; i++)
		if ((m->keys[i].flags & PB_REQUIRED) && !keys[i])
			return pb_fail(c, map, EINVAL,
				       "missing required key '%s' in %s",
				       m->keys[i].name, m->where);
	for (size_t i = 0; i < m->n_keys; i++) {
		const struct pb_key *k = &m->keys[i];

		if (!keys[i])
			continue;
		if (!type_ok(k->type, vals[i]))
			return pb_fail(c, vals[i], EINVAL,
				       "'%s': expected %s, got %s", k->name,
				       k->expect ? k->expect
						 : type_expect(k->type),
				       pb_type_word(vals[i], got, sizeof(got)));
		r = k->parse(c, k, vals[i], obj);
		if (r < 0)
			return r;
	}
	if (found)
		memcpy(found, keys, m->n_keys * sizeof(*found));
	return 0;
}

int pb_exactly_one(struct pb_ctx *c, yaml_node_t *map, const struct pb_map *m,
		   yaml_node_t **found, const size_t *idx, size_t n_idx)
{
	yaml_node_t *first = NULL, *second = NULL;
	char names[128];
	size_t len = 0;

	names[0] = '\0';
	for (size_t i = 0; i < n_idx && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len,
					"%s%s",
					i == 0		 ? ""
					: i + 1 == n_idx ? " or "
							 : ", ",
					m->keys[idx[i]].name);
	for (size_t i = 0; i < n_idx; i++) {
		yaml_node_t *k = found[idx[i]];

		if (!k)
			continue;
		if (!first) {
			first = k;
			continue;
		}
		/* Blame whichever comes second in the file. */
		second = k;
		if (k->start_mark.index < first->start_mark.index) {
			second = first;
			first = k;
		}
		return pb_fail(c, second, EINVAL,
			       "%s takes only one of %s; found both '%s' "
			       "and '%s'",
			       m->where, names, pb_str(first), pb_str(second));
	}
	if (!first)
		return pb_fail(c, map, EINVAL, "%s needs one of %s", m->where,
			       names);
	return 0;
}

#define FIELD(obj, k, type) ((type *)((char *)(obj) + (k)->offset))

static int value_error(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v)
{
	return pb_fail(c, v, EINVAL, "'%s' must be %s, got '%.60s'", k->name,
		       k->expect, pb_str(v));
}

int pb_parse_skip(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj)
{
	return 0;
}

int pb_parse_text(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj)
{
	char **field = FIELD(obj, k, char *);
	char *s = strdup(pb_str(v));

	if (!s)
		return pb_fail(c, v, ENOMEM, "out of memory");
	free(*field);
	*field = s;
	return 0;
}

int pb_parse_string(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		    void *obj)
{
	if (v->data.scalar.length == 0)
		return pb_fail(c, v, EINVAL, "'%s' must not be empty", k->name);
	return pb_parse_text(c, k, v, obj);
}

static const char *range_text(const struct pb_key *k, char *buf, size_t size,
			      const char *(*fmt)(long long v, char *b,
						 size_t s))
{
	char lo[32], hi[32];

	snprintf(buf, size, "between %s and %s", fmt(k->min, lo, sizeof(lo)),
		 fmt(k->max, hi, sizeof(hi)));
	return buf;
}

static const char *fmt_duration(long long v, char *b, size_t s)
{
	return fg_format_duration(v, b, s);
}

static const char *fmt_size(long long v, char *b, size_t s)
{
	return fg_format_size((double)v, b, s);
}

static const char *fmt_int(long long v, char *b, size_t s)
{
	snprintf(b, s, "%lld", v);
	return b;
}

int pb_parse_duration(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	char range[96];
	int64_t ns;
	int r;

	r = fg_parse_duration(pb_str(v), &ns);
	if (r == -EINVAL)
		return value_error(c, k, v);
	if (r < 0 || ns < k->min || ns > k->max)
		return pb_fail(
			c, v, ERANGE, "'%s' must be %s, got '%s'", k->name,
			range_text(k, range, sizeof(range), fmt_duration),
			pb_str(v));
	*FIELD(obj, k, int64_t) = ns;
	return 0;
}

int pb_parse_size(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj)
{
	char range[96];
	uint64_t b;
	int r;

	r = fg_parse_size(pb_str(v), &b);
	if (r == -EINVAL)
		return value_error(c, k, v);
	if (r < 0 || b < (uint64_t)k->min || b > (uint64_t)k->max)
		return pb_fail(c, v, ERANGE, "'%s' must be %s, got '%s'",
			       k->name,
			       range_text(k, range, sizeof(range), fmt_size),
			       pb_str(v));
	*FIELD(obj, k, uint64_t) = b;
	return 0;
}

static int parse_ll(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		    long long *ret)
{
	char range[96];
	int r;

	r = fg_parse_int(pb_str(v), k->min, k->max, ret);
	if (r == -EINVAL)
		return pb_fail(c, v, EINVAL,
			       "'%s' must be a whole number, got '%.60s'",
			       k->name, pb_str(v));
	if (r < 0)
		return pb_fail(c, v, ERANGE, "'%s' must be %s, got '%s'",
			       k->name,
			       range_text(k, range, sizeof(range), fmt_int),
			       pb_str(v));
	return 0;
}

int pb_parse_int(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		 void *obj)
{
	long long x;
	int r;

	r = parse_ll(c, k, v, &x);
	if (r < 0)
		return r;
	*FIELD(obj, k, int) = (int)x;
	return 0;
}

int pb_parse_bool(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj)
{
	const char *s = pb_str(v);

	/* Only the plain words: "yes", "on" and quoted "true" mean different
	 * things to different YAML readers. */
	if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (strcmp(s, "true") == 0) {
			*FIELD(obj, k, bool) = true;
			return 0;
		}
		if (strcmp(s, "false") == 0) {
			*FIELD(obj, k, bool) = false;
			return 0;
		}
	}
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
		return pb_fail(c, v, EINVAL,
			       "'%s': expected true or false without quotes",
			       k->name);
	return pb_fail(c, v, EINVAL,
		       "'%s': expected true or false, got '%.60s'", k->name, s);
}

int pb_parse_percent(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		     void *obj)
{
	double f;
	int r;

	r = fg_parse_percent(pb_str(v), &f);
	if (r == -EINVAL)
		return value_error(c, k, v);
	if (r < 0)
		return pb_fail(c, v, ERANGE,
			       "'%s' must be between 0%% and 100%%, got '%s'",
			       k->name, pb_str(v));
	*FIELD(obj, k, double) = f;
	return 0;
}

void pb_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int pb_strv(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
	    size_t min_items, char ***ret, size_t *ret_n)
{
	size_t n = pb_len(v);
	char **out, got[80];

	if (n < min_items)
		return pb_fail(c, v, EINVAL, "'%s' must not be empty", k->name);
	if (n > FAULT_MAX_LIST * 8)
		return pb_fail(c, v, E2BIG, "'%s' has more than %d items",
			       k->name, FAULT_MAX_LIST * 8);
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return pb_fail(c, v, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = pb_item(c, v, i);

		if (it->type != YAML_SCALAR_NODE ||
		    it->data.scalar.length == 0) {
			pb_strv_free(out, i);
			return pb_fail(
				c, it, EINVAL,
				"items of '%s' must be non-empty strings, "
				"got %s",
				k->name, pb_type_word(it, got, sizeof(got)));
		}
		out[i] = strdup(pb_str(it));
		if (!out[i]) {
			pb_strv_free(out, i);
			return pb_fail(c, it, ENOMEM, "out of memory");
		}
	}
	pb_strv_free(*ret, *ret_n);
	*ret = out;
	*ret_n = n;
	return 0;
}

int pb_int_list(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		int **ret, size_t *ret_n)
{
	size_t n = pb_len(v);
	char got[80];
	int *out;

	if (n == 0)
		return pb_fail(c, v, EINVAL, "'%s' must not be empty", k->name);
	if (n > 1024)
		return pb_fail(c, v, E2BIG, "'%s' has more than 1024 items",
			       k->name);
	out = calloc(n, sizeof(*out));
	if (!out)
		return pb_fail(c, v, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = pb_item(c, v, i);
		long long x;
		int r;

		if (it->type != YAML_SCALAR_NODE) {
			free(out);
			return pb_fail(c, it, EINVAL,
				       "items of '%s' must be numbers, got %s",
				       k->name,
				       pb_type_word(it, got, sizeof(got)));
		}
		r = parse_ll(c, k, it, &x);
		if (r < 0) {
			free(out);
			return r;
		}
		out[i] = (int)x;
	}
	free(*ret);
	*ret = out;
	*ret_n = n;
	return 0;
}

int pb_map_strv(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		const char *sep, char ***ret, size_t *ret_n)
{
	size_t n = (size_t)(v->data.mapping.pairs.top -
			    v->data.mapping.pairs.start),
	       i = 0;
	char **out, got[80];

	if (n > 256)
		return pb_fail(c, v, E2BIG, "'%s' has more than 256 entries",
			       k->name);
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return pb_fail(c, v, ENOMEM, "out of memory");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
	     p < v->data.mapping.pairs.top; p++, i++) {
		yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(c->doc, p->value);

		if (key->type != YAML_SCALAR_NODE ||
		    key->data.scalar.length == 0 ||
		    strpbrk(pb_str(key), "=: \t")) {
			pb_strv_free(out, i);
			return pb_fail(c, key, EINVAL,
				       "names in '%s' must be plain words "
				       "without '=', ':' or blanks",
				       k->name);
		}
		if (val->type != YAML_SCALAR_NODE) {
			pb_strv_free(out, i);
			return pb_fail(c, val, EINVAL,
				       "values in '%s' must be single values, "
				       "got %s",
				       k->name,
				       pb_type_word(val, got, sizeof(got)));
		}
		for (size_t j = 0; j < i; j++) {
			size_t kl = strlen(pb_str(key));

			if (strncmp(out[j], pb_str(key), kl) == 0 &&
			    strncmp(out[j] + kl, sep, strlen(sep)) == 0) {
				pb_strv_free(out, i);
				return pb_fail(c, key, EINVAL,
					       "duplicate key '%s' in '%s'",
					       pb_str(key), k->name);
			}
		}
		if (asprintf(&out[i], "%s%s%s", pb_str(key), sep, pb_str(val)) <
		    0) {
			out[i] = NULL;
			pb_strv_free(out, i);
			return pb_fail(c, v, ENOMEM, "out of memory");
		}
	}
	pb_strv_free(*ret, *ret_n);
	*ret = out;
	*ret_n = n;
	return 0;
}
