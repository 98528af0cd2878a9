/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the loader: the table-driven walk over libyaml mappings, the
 * generic value handlers and the error helpers that attach positions. */
#ifndef FG_PB_SCHEMA_H
#define FG_PB_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "error.h"
#include "playbook.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PB_MAX_KEYS 48

/* Parse state passed to every handler; the loader keeps no globals. */
struct pb_ctx {
	yaml_document_t *doc;
	struct fg_error *err;
	struct playbook *pb;
};

enum pb_type {
	PB_SCALAR,
	PB_LIST,
	PB_MAP,
	PB_ANY,
};

enum {
	PB_REQUIRED = 1u << 0,
};

struct pb_key;

/* Parse value @v of key @k into @obj (the struct the table describes). */
typedef int (*pb_parse_fn)(struct pb_ctx *c, const struct pb_key *k,
			   yaml_node_t *v, void *obj);

struct pb_key {
	const char *name;
	enum pb_type type;
	pb_parse_fn parse;
	size_t offset;	    /* of the field in @obj, for the generic handlers */
	long long min, max; /* range for numbers; nanoseconds for durations */
	unsigned flags;	    /* PB_* */
	unsigned kinds;	    /* fault kinds (bits) the key applies to; 0 = all */
	const char *expect; /* "a duration like 50ms or 2s", for messages */
};

#define PB_KEY(n, t, fn, off)                                                  \
	.name = (n), .type = (t), .parse = (fn), .offset = (off)

struct pb_map {
	const char *where; /* "target", "load.http", "fault 'slow-io'" */
	const struct pb_key *keys;
	size_t n_keys;
	unsigned kind_bit; /* the fault kind being parsed; 0 outside faults */
	const char *kind_name;
};

#define PB_MAP(w, table)                                                       \
	{                                                                      \
		.where = (w), .keys = (table), .n_keys = ARRAY_SIZE(table)     \
	}

/**
 * pb_walk() - check the keys of mapping @map against @m (unknown,
 * duplicate, not for this kind, wrong node type, missing required), then
 * run the handlers in table order, so earlier entries can set up later
 * ones.
 * @found: optional array of m->n_keys entries, set to the key node of
 *         every key present (NULL for absent ones).
 *
 * Return: 0, or the negative errno of the first error (in c->err).
 */
int pb_walk(struct pb_ctx *c, yaml_node_t *map, const struct pb_map *m,
	    void *obj, yaml_node_t **found);

/** pb_get() - the value of @key in mapping @map (and its key node), or NULL. */
yaml_node_t *pb_get(struct pb_ctx *c, yaml_node_t *map, const char *key,
		    yaml_node_t **ret_key);

/** pb_item() - item @i of sequence @seq. */
yaml_node_t *pb_item(struct pb_ctx *c, yaml_node_t *seq, size_t i);

static inline size_t pb_len(yaml_node_t *seq)
{
	return (size_t)(seq->data.sequence.items.top -
			seq->data.sequence.items.start);
}

static inline const char *pb_str(yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/** pb_fail() - set c->err at the start of @n. Return: -@err. */
int pb_fail(struct pb_ctx *c, yaml_node_t *n, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** pb_fail_at() - the same at a 0-based yaml mark plus @col_delta columns. */
int pb_fail_at(struct pb_ctx *c, yaml_mark_t mark, size_t col_delta, int err,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/** pb_type_word() - "a list", "a mapping" or "'value'" for messages. */
const char *pb_type_word(yaml_node_t *n, char *buf, size_t size);

/* Generic handlers for scalar fields; @k->offset names the field. */
int pb_parse_string(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		    void *obj);
int pb_parse_text(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj);
int pb_parse_duration(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj);
int pb_parse_size(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj);
int pb_parse_int(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		 void *obj);
int pb_parse_bool(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj);
int pb_parse_percent(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		     void *obj);
/* For keys that another handler reads first (fault kind). */
int pb_parse_skip(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj);

/**
 * pb_strv() - a list of non-empty strings, NULL-terminated, into @ret
 * (@ret_n items). @min_items: 1 refuses an empty list.
 */
int pb_strv(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
	    size_t min_items, char ***ret, size_t *ret_n);

/** pb_int_list() - a list of integers within k->min..k->max. */
int pb_int_list(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		int **ret, size_t *ret_n);

/** pb_map_strv() - a mapping of string -> scalar as "K<sep>V" strings. */
int pb_map_strv(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		const char *sep, char ***ret, size_t *ret_n);

/** pb_exactly_one() - exactly one of the table entries @idx[] is present. */
int pb_exactly_one(struct pb_ctx *c, yaml_node_t *map, const struct pb_map *m,
		   yaml_node_t **found, const size_t *idx, size_t n_idx);

void pb_strv_free(char **v, size_t n);

/* Per-section parsers (pb_target.c, pb_load.c, pb_fault.c). */
int pb_parse_target(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		    void *obj);
int pb_parse_load(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		  void *obj);
int pb_parse_faults(struct pb_ctx *c, yaml_node_t *seq);
void pb_target_done(struct target_spec *t);
void pb_load_done(struct load_spec *l);

#endif
