// SPDX-License-Identifier: Apache-2.0
/* Loading a playbook: read with a size cap, scan the YAML events for
 * syntax, depth and aliases, then walk the document through the schema
 * tables into struct playbook. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "pb_schema.h"
#include "units.h"

#define PS(field) offsetof(struct playbook, field)
#define SEC FG_NSEC_PER_SEC
#define MSEC FG_NSEC_PER_MSEC
#define DURATION_EXPECT "a duration like 50ms or 2s"
#define NAME_MAX_LEN 64
#define MAX_TOTAL_NS (24 * 3600 * SEC)

static const char *const phase_names[PHASE_MAX] = {
	[PHASE_BASELINE] = "baseline",
	[PHASE_FAULT] = "fault",
	[PHASE_RECOVERY] = "recovery",
};

const char *phase_name(enum phase p)
{
	if ((unsigned)p >= PHASE_MAX)
		return NULL;
	return phase_names[p];
}

int phase_from_name(const char *name)
{
	for (size_t i = 0; name && i < PHASE_MAX; i++)
		if (strcmp(phase_names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

static void document_cleanup(yaml_document_t **d)
{
	if (*d)
		yaml_document_delete(*d);
}

static void parser_cleanup(yaml_parser_t **p)
{
	if (*p)
		yaml_parser_delete(*p);
}

#define autodocument __attribute__((cleanup(document_cleanup)))
#define autoparser __attribute__((cleanup(parser_cleanup)))

static int syntax_error(struct pb_ctx *c, yaml_parser_t *p, const char *text,
			size_t len)
{
	yaml_mark_t mark = p->problem_mark;

	/* Reader errors (bad UTF-8) carry a byte offset, not a mark. */
	if (p->error == YAML_READER_ERROR) {
		mark = (yaml_mark_t){ 0 };
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (text[i] == '\n') {
				mark.line++;
				mark.column = 0;
			} else {
				mark.column++;
			}
		}
	}
	if (p->context)
		return pb_fail_at(c, mark, 0, EINVAL,
				  "YAML syntax error %s: %s", p->context,
				  p->problem ? p->problem : "unknown problem");
	return pb_fail_at(c, mark, 0, EINVAL, "YAML syntax error: %s",
			  p->problem ? p->problem : "unknown problem");
}

/*
 * The document API resolves aliases silently and keeps no position for
 * them, so a pass over the events finds them first, along with syntax
 * errors, excess nesting and extra documents.
 */
static int scan_events(struct pb_ctx *c, const char *text, size_t len)
{
	yaml_parser_t parser, *autoparser pp = NULL;
	unsigned depth = 0, docs = 0;
	bool done = false;

	if (!yaml_parser_initialize(&parser))
		return pb_fail_at(c, (yaml_mark_t){ 0 }, 0, ENOMEM,
				  "out of memory");
	pp = &parser;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		yaml_event_t ev;
		int r = 0;

		if (!yaml_parser_parse(&parser, &ev))
			return syntax_error(c, &parser, text, len);
		switch (ev.type) {
		case YAML_ALIAS_EVENT:
			r = pb_fail_at(c, ev.start_mark, 0, EINVAL,
				       "YAML aliases (*%s) are not "
				       "supported; write the value out in full",
				       (const char *)ev.data.alias.anchor);
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				r = pb_fail_at(
					c, ev.start_mark, 0, EINVAL,
					"a playbook is a single YAML document; "
					"remove the second one");
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > PLAYBOOK_MAX_DEPTH)
				r = pb_fail_at(c, ev.start_mark, 0, EINVAL,
					       "nested deeper than %d "
					       "levels",
					       PLAYBOOK_MAX_DEPTH);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_NO_EVENT:
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
		case YAML_SCALAR_EVENT:
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_version(struct pb_ctx *c, const struct pb_key *k,
			 yaml_node_t *v, void *obj)
{
	long long x;

	if (fg_parse_int(pb_str(v), 0, 1000000, &x) < 0)
		return pb_fail(c, v, EINVAL, "'version' must be 1, got '%.60s'",
			       pb_str(v));
	if (x != 1)
		return pb_fail(
			c, v, ERANGE,
			"unsupported playbook version %lld; this faultgate "
			"reads version 1",
			x);
	return 0;
}

static int parse_name(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	const char *s = pb_str(v);

	if (v->data.scalar.length == 0)
		return pb_fail(c, v, EINVAL, "'name' must not be empty");
	if (v->data.scalar.length > NAME_MAX_LEN)
		return pb_fail(c, v, EINVAL,
			       "'name' is longer than %d characters",
			       NAME_MAX_LEN);
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
		      "456789-_.") != v->data.scalar.length)
		return pb_fail(
			c, v, EINVAL,
			"'name' may only contain letters, digits, '-', '_' "
			"and '.', got '%.64s'",
			s);
	return pb_parse_string(c, k, v, obj);
}

static const struct pb_key phase_keys[] = {
	{ PB_KEY("baseline", PB_SCALAR, pb_parse_duration,
		 PS(phase_ns[PHASE_BASELINE])),
	  .min = 100 * MSEC, .max = MAX_TOTAL_NS, .expect = DURATION_EXPECT },
	{ PB_KEY("fault", PB_SCALAR, pb_parse_duration,
		 PS(phase_ns[PHASE_FAULT])),
	  .min = 1, .max = MAX_TOTAL_NS, .expect = DURATION_EXPECT },
	{ PB_KEY("recovery", PB_SCALAR, pb_parse_duration,
		 PS(phase_ns[PHASE_RECOVERY])),
	  .min = 0, .max = MAX_TOTAL_NS, .expect = DURATION_EXPECT },
};

static int parse_phases(struct pb_ctx *c, const struct pb_key *k,
			yaml_node_t *v, void *obj)
{
	static const struct pb_map m = PB_MAP("phases", phase_keys);
	struct playbook *pb = obj;
	int64_t total = 0;
	char buf[32];
	int r;

	r = pb_walk(c, v, &m, pb, NULL);
	if (r < 0)
		return r;
	for (int i = 0; i < PHASE_MAX; i++)
		total += pb->phase_ns[i];
	if (total > MAX_TOTAL_NS)
		return pb_fail(c, v, ERANGE,
			       "the phases add up to %s; the limit is 24h",
			       fg_format_duration(total, buf, sizeof(buf)));
	return 0;
}

static int parse_faults(struct pb_ctx *c, const struct pb_key *k,
			yaml_node_t *v, void *obj)
{
	return pb_parse_faults(c, v);
}

/* Gates and stop conditions: one expression per list item. */
static int parse_exprs(struct pb_ctx *c, yaml_node_t *seq, bool is_abort,
		       const struct playbook *pb, struct gate_expr **ret,
		       size_t *ret_n)
{
	const char *what = is_abort ? "abort" : "gates";
	size_t n = pb_len(seq);
	char got[80];

	if (n > PLAYBOOK_MAX_GATES)
		return pb_fail(c, pb_item(c, seq, PLAYBOOK_MAX_GATES), E2BIG,
			       "at most %d entries in '%s'", PLAYBOOK_MAX_GATES,
			       what);
	*ret = calloc(n ? n : 1, sizeof(**ret));
	if (!*ret)
		return pb_fail(c, seq, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = pb_item(c, seq, i);
		yaml_scalar_style_t style;
		char msg[384];
		size_t off = 0;
		int r;

		if (it->type != YAML_SCALAR_NODE)
			return pb_fail(
				c, it, EINVAL,
				"items of '%s' are expressions such as "
				"'latency.p99 during fault < 250ms', got %s",
				what, pb_type_word(it, got, sizeof(got)));
		r = gate_expr_parse(pb_str(it), is_abort, &(*ret)[i], msg,
				    sizeof(msg), &off);
		if (r < 0) {
			style = it->data.scalar.style;
			/* The column points into the text, past an opening
			 * quote. */
			if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
				off++;
			return pb_fail_at(c, it->start_mark, off, -r, "%s",
					  msg);
		}
		(*ret)[i].line = (unsigned)it->start_mark.line + 1;
		(*ret)[i].col = (unsigned)it->start_mark.column + 1;
		*ret_n = i + 1;
		/* 'load' is walked before 'gates' and 'abort'. */
		if (pb->load.kind == LOAD_NONE &&
		    metric_info((*ret)[i].metric)->source == METRIC_SRC_LOAD)
			return pb_fail(c, it, EINVAL,
				       "'%s' is measured by the load, and the "
				       "playbook has no 'load:'",
				       metric_info((*ret)[i].metric)->name);
	}
	return 0;
}

static int parse_gates(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		       void *obj)
{
	struct playbook *pb = obj;

	return parse_exprs(c, v, false, pb, &pb->gates, &pb->n_gates);
}

static int parse_abort(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		       void *obj)
{
	struct playbook *pb = obj;

	return parse_exprs(c, v, true, pb, &pb->aborts, &pb->n_aborts);
}

static const struct pb_key report_keys[] = {
	{ PB_KEY("dir", PB_SCALAR, pb_parse_string, PS(report_dir)) },
};

static int parse_report(struct pb_ctx *c, const struct pb_key *k,
			yaml_node_t *v, void *obj)
{
	static const struct pb_map m = PB_MAP("report", report_keys);

	return pb_walk(c, v, &m, obj, NULL);
}

static int parse_seed(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	struct playbook *pb = obj;
	long long x;

	if (fg_parse_int(pb_str(v), 0, 0x7fffffffffffffffLL, &x) < 0)
		return pb_fail(
			c, v, EINVAL,
			"'seed' must be a whole number >= 0, got '%.60s'",
			pb_str(v));
	pb->seed = (uint64_t)x;
	pb->has_seed = true;
	return 0;
}

/* Phases come before faults: fault windows are checked against them. */
static const struct pb_key top_keys[] = {
	{ PB_KEY("version", PB_SCALAR, parse_version, 0),
	  .flags = PB_REQUIRED },
	{ PB_KEY("name", PB_SCALAR, parse_name, PS(name)),
	  .flags = PB_REQUIRED },
	{ PB_KEY("description", PB_SCALAR, pb_parse_text, PS(description)) },
	{ PB_KEY("target", PB_MAP, pb_parse_target, 0), .flags = PB_REQUIRED,
	  .expect = "a mapping such as { command: [./svc] }" },
	{ PB_KEY("load", PB_MAP, pb_parse_load, 0),
	  .expect = "a mapping such as { http: { url: URL } }" },
	{ PB_KEY("phases", PB_MAP, parse_phases, 0),
	  .expect = "a mapping such as { baseline: 10s, fault: 20s, recovery: "
		    "10s }" },
	{ PB_KEY("faults", PB_LIST, parse_faults, 0),
	  .expect = "a list of mappings such as "
		    "[{ kind: slow-io, delay: 50ms }]" },
	{ PB_KEY("gates", PB_LIST, parse_gates, 0),
	  .expect = "a list such as ['latency.p99 during fault < 250ms']" },
	{ PB_KEY("abort", PB_LIST, parse_abort, 0),
	  .expect = "a list such as ['errors.rate over 5s > 50%']" },
	{ PB_KEY("report", PB_MAP, parse_report, 0),
	  .expect = "a mapping such as { dir: faultgate-out }" },
	{ PB_KEY("seed", PB_SCALAR, parse_seed, 0) },
};

static int set_defaults(struct playbook *pb)
{
	pb->phase_ns[PHASE_BASELINE] = 10 * SEC;
	pb->phase_ns[PHASE_FAULT] = 20 * SEC;
	pb->phase_ns[PHASE_RECOVERY] = 10 * SEC;
	pb->load.kind = LOAD_NONE;
	/* Without a seed, runs differ; the report records the one used. */
	pb->seed = (uint64_t)fg_now_ns() ^ ((uint64_t)getpid() << 32);
	return 0;
}

static int parse_document(struct pb_ctx *c, const char *text, size_t len)
{
	static const struct pb_map m = PB_MAP("the playbook", top_keys);
	yaml_parser_t parser, *autoparser pp = NULL;
	yaml_document_t doc, *autodocument pd = NULL;
	yaml_node_t *root;
	int r;

	r = scan_events(c, text, len);
	if (r < 0)
		return r;
	if (!yaml_parser_initialize(&parser))
		return pb_fail_at(c, (yaml_mark_t){ 0 }, 0, ENOMEM,
				  "out of memory");
	pp = &parser;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc))
		return syntax_error(c, &parser, text, len);
	pd = &doc;
	c->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		return pb_fail_at(c, (yaml_mark_t){ 0 }, 0, EINVAL,
				  "the playbook is empty; it "
				  "needs at least version, name and target");
	if (root->type != YAML_MAPPING_NODE)
		return pb_fail(c, root, EINVAL,
			       "a playbook is a mapping of keys such as "
			       "'version: 1'");
	r = pb_walk(c, root, &m, c->pb, NULL);
	c->doc = NULL;
	return r;
}

int playbook_load_string(const char *text, size_t len, const char *name,
			 struct playbook **ret, struct fg_error *reterr)
{
	struct playbook *pb;
	struct pb_ctx c = { .err = reterr };
	int r;

	if (len > PLAYBOOK_MAX_BYTES)
		return fg_error_set(reterr, EFBIG, 0, 0, "larger than %d bytes",
				    PLAYBOOK_MAX_BYTES);
	if (memchr(text, '\0', len))
		return fg_error_set(reterr, EINVAL, 0, 0,
				    "contains a NUL byte; not a text file");
	pb = calloc(1, sizeof(*pb));
	if (!pb)
		return fg_error_set(reterr, ENOMEM, 0, 0, "out of memory");
	c.pb = pb;
	set_defaults(pb);
	pb->path = strdup(name ? name : "<string>");
	if (!pb->path) {
		playbook_free(pb);
		return fg_error_set(reterr, ENOMEM, 0, 0, "out of memory");
	}
	r = parse_document(&c, text, len);
	if (r == 0 && !pb->report_dir) {
		pb->report_dir = strdup("faultgate-out");
		if (!pb->report_dir)
			r = fg_error_set(reterr, ENOMEM, 0, 0, "out of memory");
	}
	if (r < 0) {
		playbook_free(pb);
		return r;
	}
	*ret = pb;
	return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len,
		     struct fg_error *reterr)
{
	int fg_autoclose fd = -1;
	char *fg_autofree buf = NULL;
	struct stat st;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fg_error_set(reterr, errno, 0, 0, "cannot open: %s",
				    strerror(errno));
	if (fstat(fd, &st) < 0)
		return fg_error_set(reterr, errno, 0, 0, "cannot stat: %s",
				    strerror(errno));
	if (S_ISDIR(st.st_mode))
		return fg_error_set(reterr, EISDIR, 0, 0,
				    "is a directory, not a playbook");
	if (st.st_size > PLAYBOOK_MAX_BYTES)
		return fg_error_set(reterr, EFBIG, 0, 0, "larger than %d bytes",
				    PLAYBOOK_MAX_BYTES);
	/* One byte more than the cap, to notice a file that grew (or a pipe).
	 */
	buf = malloc(PLAYBOOK_MAX_BYTES + 2);
	if (!buf)
		return fg_error_set(reterr, ENOMEM, 0, 0, "out of memory");
	for (;;) {
		ssize_t n = read(fd, buf + len, PLAYBOOK_MAX_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fg_error_set(reterr, errno, 0, 0,
					    "cannot read: %s", strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > PLAYBOOK_MAX_BYTES)
			return fg_error_set(reterr, EFBIG, 0, 0,
					    "larger than %d bytes",
					    PLAYBOOK_MAX_BYTES);
	}
	buf[len] = '\0';
	*ret = fg_steal_ptr(buf);
	*ret_len = len;
	return 0;
}

int playbook_load(const char *path, struct playbook **ret,
		  struct fg_error *reterr)
{
	char *fg_autofree text = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, &text, &len, reterr);
	if (r < 0)
		return r;
	return playbook_load_string(text, len, path, ret, reterr);
}

struct playbook *playbook_free(struct playbook *pb)
{
	if (!pb)
		return NULL;
	free(pb->path);
	free(pb->name);
	free(pb->description);
	pb_target_done(&pb->target);
	pb_load_done(&pb->load);
	for (size_t i = 0; i < pb->n_faults; i++)
		fault_spec_done(&pb->faults[i]);
	free(pb->faults);
	for (size_t i = 0; i < pb->n_gates; i++)
		gate_expr_done(&pb->gates[i]);
	free(pb->gates);
	for (size_t i = 0; i < pb->n_aborts; i++)
		gate_expr_done(&pb->aborts[i]);
	free(pb->aborts);
	free(pb->report_dir);
	free(pb);
	return NULL;
}
