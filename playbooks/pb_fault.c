// SPDX-License-Identifier: Apache-2.0
/* The faults section of a playbook: one table for every kind's keys, each
 * key tagged with the kinds it applies to, then the fault model's checks. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "pb_schema.h"
#include "units.h"

#define SEC FG_NSEC_PER_SEC
#define DURATION_EXPECT "a duration like 50ms or 2s"
#define K(kind) (1u << (kind))
#define SYSCALL_KINDS (K(FAULT_SLOW_IO) | K(FAULT_IO_ERROR))
#define DELAY_KINDS (K(FAULT_SLOW_IO) | K(FAULT_CGO_BLOCK))
#define FS(field) offsetof(struct fault_spec, field)

static const char *const kind_list = "slow-io, io-error, mem-leak, cgo-block, "
				     "pin-threads, gomaxprocs, freeze-thread";

static int parse_backend(struct pb_ctx *c, const struct pb_key *k,
			 yaml_node_t *v, void *obj)
{
	struct fault_spec *f = obj;
	int b = fault_backend_from_name(pb_str(v));

	if (b < 0 || b > FAULT_BACKEND_PTRACE)
		return pb_fail(
			c, v, EINVAL,
			"'backend' must be one of auto, preload, seccomp, "
			"ptrace, got '%.60s'",
			pb_str(v));
	f->backend = (enum fault_backend)b;
	return 0;
}

static int parse_for(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		     void *obj)
{
	struct fault_spec *f = obj;
	int r;

	r = pb_parse_duration(c, k, v, obj);
	if (r < 0)
		return r;
	if (f->for_ns == 0)
		return pb_fail(c, v, ERANGE, "'for' must be more than 0s");
	return 0;
}

static int parse_syscalls(struct pb_ctx *c, const struct pb_key *k,
			  yaml_node_t *v, void *obj)
{
	struct fault_spec *f = obj;
	size_t n = pb_len(v);

	f->syscalls = 0;
	if (n == 0)
		return pb_fail(
			c, v, EINVAL,
			"'syscalls' must name at least one of read, write");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = pb_item(c, v, i);
		const char *s = it->type == YAML_SCALAR_NODE ? pb_str(it) : "";

		if (strcmp(s, "read") == 0)
			f->syscalls |= FAULT_SYS_READ;
		else if (strcmp(s, "write") == 0)
			f->syscalls |= FAULT_SYS_WRITE;
		else
			return pb_fail(
				c, it, EINVAL,
				"'syscalls' items are the families read and "
				"write, got '%.60s'",
				s);
	}
	return 0;
}

static int parse_fds(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		     void *obj)
{
	struct fault_spec *f = obj;
	int x = fault_fds_from_name(pb_str(v));

	if (x < 0)
		return pb_fail(
			c, v, EINVAL,
			"'fds' must be sockets, files or any, got '%.60s'",
			pb_str(v));
	f->fds = (enum fault_fds)x;
	return 0;
}

static int parse_paths(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		       void *obj)
{
	struct fault_spec *f = obj;

	return pb_strv(c, k, v, 1, &f->paths, &f->n_paths);
}

static int parse_peers(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		       void *obj)
{
	struct fault_spec *f = obj;
	size_t n = pb_len(v);
	struct fault_peer *out;

	if (n == 0 || n > FAULT_MAX_LIST)
		return pb_fail(c, v, EINVAL,
			       "'peers' needs between 1 and %d items",
			       FAULT_MAX_LIST);
	out = calloc(n, sizeof(*out));
	if (!out)
		return pb_fail(c, v, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = pb_item(c, v, i);

		if (it->type != YAML_SCALAR_NODE ||
		    fault_peer_parse(pb_str(it), &out[i]) < 0) {
			free(out);
			return pb_fail(
				c, it, EINVAL,
				"'peers' items must be :PORT, ADDR:PORT or "
				"[IPV6]:PORT with a numeric address, got "
				"'%.60s'",
				it->type == YAML_SCALAR_NODE ? pb_str(it)
							     : "a collection");
		}
	}
	free(f->peers);
	f->peers = out;
	f->n_peers = n;
	return 0;
}

static int parse_errno(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		       void *obj)
{
	struct fault_spec *f = obj;
	int e = fault_errno_from_name(pb_str(v));
	char names[256];

	if (e < 0)
		return pb_fail(
			c, v, EINVAL, "unknown errno '%.60s'; use one of %s",
			pb_str(v), fault_errno_names(names, sizeof(names)));
	f->err = e;
	return 0;
}

/* "16MiB/s": a size, then "/s". */
static int parse_leak_rate(struct pb_ctx *c, const struct pb_key *k,
			   yaml_node_t *v, void *obj)
{
	struct fault_spec *f = obj;
	const char *s = pb_str(v);
	size_t len = strlen(s);
	char size[64];
	uint64_t b;

	if (len < 3 || len - 2 >= sizeof(size) ||
	    strcmp(s + len - 2, "/s") != 0)
		goto bad;
	memcpy(size, s, len - 2);
	size[len - 2] = '\0';
	if (fg_parse_size(size, &b) < 0)
		goto bad;
	if (b == 0 || b > (1ULL << 40))
		return pb_fail(
			c, v, ERANGE,
			"'rate' must be more than 0B/s and at most 1TiB/s, "
			"got '%s'",
			s);
	f->rate_bytes_per_s = (double)b;
	return 0;
bad:
	return pb_fail(
		c, v, EINVAL,
		"'rate' must be a size per second like 16MiB/s, got '%.60s'",
		s);
}

static int parse_symbols(struct pb_ctx *c, const struct pb_key *k,
			 yaml_node_t *v, void *obj)
{
	struct fault_spec *f = obj;

	return pb_strv(c, k, v, 1, &f->symbols, &f->n_symbols);
}

static int parse_cpus(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	struct fault_spec *f = obj;

	return pb_int_list(c, k, v, &f->cpus, &f->n_cpus);
}

static int parse_tids(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	struct fault_spec *f = obj;

	return pb_int_list(c, k, v, &f->tids, &f->n_tids);
}

static int parse_mode(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	struct fault_spec *f = obj;

	if (strcmp(pb_str(v), "live") == 0)
		f->gomaxprocs_mode = FAULT_GOMAXPROCS_LIVE;
	else if (strcmp(pb_str(v), "launch") == 0)
		f->gomaxprocs_mode = FAULT_GOMAXPROCS_LAUNCH;
	else
		return pb_fail(c, v, EINVAL,
			       "'mode' must be live or launch, got '%.60s'",
			       pb_str(v));
	return 0;
}

static int parse_pick(struct pb_ctx *c, const struct pb_key *k, yaml_node_t *v,
		      void *obj)
{
	struct fault_spec *f = obj;

	if (strcmp(pb_str(v), "busiest") == 0)
		f->pick = FAULT_PICK_BUSIEST;
	else if (strcmp(pb_str(v), "random") == 0)
		f->pick = FAULT_PICK_RANDOM;
	else
		return pb_fail(c, v, EINVAL,
			       "'pick' must be busiest or random, got '%.60s'",
			       pb_str(v));
	return 0;
}

/* Handlers run in this order, and "allowed:" messages list keys in it. */
static const struct pb_key fault_keys[] = {
	{ PB_KEY("kind", PB_SCALAR, pb_parse_skip, 0), .flags = PB_REQUIRED },
	{ PB_KEY("backend", PB_SCALAR, parse_backend, 0) },
	{ PB_KEY("at", PB_SCALAR, pb_parse_duration, FS(at_ns)), .min = 0,
	  .max = 24 * 3600 * SEC, .expect = DURATION_EXPECT },
	{ PB_KEY("for", PB_SCALAR, parse_for, FS(for_ns)), .min = 0,
	  .max = 24 * 3600 * SEC, .expect = DURATION_EXPECT },
	{ PB_KEY("probability", PB_SCALAR, pb_parse_percent, FS(probability)),
	  .expect = "a percentage like 5%" },
	{ PB_KEY("syscalls", PB_LIST, parse_syscalls, 0),
	  .kinds = SYSCALL_KINDS, .expect = "a list such as [read, write]" },
	{ PB_KEY("fds", PB_SCALAR, parse_fds, 0), .kinds = SYSCALL_KINDS },
	{ PB_KEY("paths", PB_LIST, parse_paths, 0), .kinds = SYSCALL_KINDS,
	  .expect = "a list of globs such as [\"/var/lib/app/*\"]" },
	{ PB_KEY("peers", PB_LIST, parse_peers, 0), .kinds = SYSCALL_KINDS,
	  .expect = "a list such as [\":5432\", \"10.0.0.7:6379\"]" },
	{ PB_KEY("errno", PB_SCALAR, parse_errno, 0),
	  .kinds = K(FAULT_IO_ERROR) },
	{ PB_KEY("delay", PB_SCALAR, pb_parse_duration, FS(delay_ns)), .min = 0,
	  .max = 24 * 3600 * SEC, .kinds = DELAY_KINDS,
	  .expect = DURATION_EXPECT },
	{ PB_KEY("jitter", PB_SCALAR, pb_parse_duration, FS(jitter_ns)),
	  .min = 0, .max = 24 * 3600 * SEC, .kinds = DELAY_KINDS,
	  .expect = DURATION_EXPECT },
	{ PB_KEY("allow_long", PB_SCALAR, pb_parse_bool, FS(allow_long)),
	  .kinds = DELAY_KINDS },
	{ PB_KEY("rate", PB_SCALAR, parse_leak_rate, 0),
	  .kinds = K(FAULT_MEM_LEAK) },
	{ PB_KEY("limit", PB_SCALAR, pb_parse_size, FS(limit_bytes)), .min = 1,
	  .max = 1LL << 40, .kinds = K(FAULT_MEM_LEAK),
	  .expect = "a size like 512MiB" },
	{ PB_KEY("touch", PB_SCALAR, pb_parse_bool, FS(touch)),
	  .kinds = K(FAULT_MEM_LEAK) },
	{ PB_KEY("release", PB_SCALAR, pb_parse_bool, FS(release)),
	  .kinds = K(FAULT_MEM_LEAK) },
	{ PB_KEY("symbols", PB_LIST, parse_symbols, 0),
	  .kinds = K(FAULT_CGO_BLOCK),
	  .expect = "a list such as [getaddrinfo]" },
	{ PB_KEY("cpus", PB_LIST, parse_cpus, 0), .min = 0, .max = 1023,
	  .kinds = K(FAULT_PIN_THREADS), .expect = "a list such as [0, 1]" },
	{ PB_KEY("value", PB_SCALAR, pb_parse_int, FS(gomaxprocs)), .min = 1,
	  .max = 1024, .kinds = K(FAULT_GOMAXPROCS) },
	{ PB_KEY("mode", PB_SCALAR, parse_mode, 0),
	  .kinds = K(FAULT_GOMAXPROCS) },
	{ PB_KEY("pick", PB_SCALAR, parse_pick, 0),
	  .kinds = K(FAULT_FREEZE_THREAD) },
	{ PB_KEY("tids", PB_LIST, parse_tids, 0), .min = 1, .max = 0x7fffffff,
	  .kinds = K(FAULT_FREEZE_THREAD),
	  .expect = "a list such as [4243, 4250]" },
	{ PB_KEY("threads", PB_SCALAR, pb_parse_int, FS(threads)), .min = 1,
	  .max = 64, .kinds = K(FAULT_FREEZE_THREAD) },
	{ PB_KEY("hold", PB_SCALAR, pb_parse_duration, FS(hold_ns)), .min = 1,
	  .max = 24 * 3600 * SEC, .kinds = K(FAULT_FREEZE_THREAD),
	  .expect = DURATION_EXPECT },
	{ PB_KEY("every", PB_SCALAR, pb_parse_duration, FS(every_ns)), .min = 1,
	  .max = 24 * 3600 * SEC, .kinds = K(FAULT_FREEZE_THREAD),
	  .expect = DURATION_EXPECT },
};

static int find_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(fault_keys); i++)
		if (strcmp(fault_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* tids name the threads themselves: pick and threads then mean nothing. */
static int check_tids(struct pb_ctx *c, yaml_node_t **found)
{
	int tids = find_key("tids");

	if (!found[tids])
		return 0;
	for (const char *const *n =
		     (const char *const[]){ "pick", "threads", NULL };
	     *n; n++)
		if (found[find_key(*n)])
			return pb_fail(c, found[find_key(*n)], EINVAL,
				       "'%s' does not apply when "
				       "'tids' lists the threads",
				       *n);
	return 0;
}

static int parse_kind(struct pb_ctx *c, yaml_node_t *map, enum fault_kind *ret)
{
	yaml_node_t *v = pb_get(c, map, "kind", NULL);
	char got[80];
	int k;

	if (!v)
		return pb_fail(c, map, EINVAL,
			       "a fault needs 'kind': one of %s", kind_list);
	if (v->type != YAML_SCALAR_NODE)
		return pb_fail(c, v, EINVAL,
			       "'kind': expected one of %s, got %s", kind_list,
			       pb_type_word(v, got, sizeof(got)));
	k = fault_kind_from_name(pb_str(v));
	if (k < 0)
		return pb_fail(c, v, EINVAL,
			       "unknown fault kind '%.60s'; use one of %s",
			       pb_str(v), kind_list);
	*ret = (enum fault_kind)k;
	return 0;
}

static int parse_one(struct pb_ctx *c, yaml_node_t *map, struct fault_spec *f)
{
	yaml_node_t *found[ARRAY_SIZE(fault_keys)];
	struct pb_map m = { .keys = fault_keys,
			    .n_keys = ARRAY_SIZE(fault_keys) };
	const char *blame;
	enum fault_kind kind = FAULT_SLOW_IO;
	char where[48], msg[256];
	int r;

	r = parse_kind(c, map, &kind);
	if (r < 0)
		return r;
	fault_spec_init(f, kind);
	f->line = (unsigned)map->start_mark.line + 1;
	f->col = (unsigned)map->start_mark.column + 1;
	snprintf(where, sizeof(where), "fault '%s'", fault_kind_name(kind));
	m.where = where;
	m.kind_bit = K(kind);
	m.kind_name = fault_kind_name(kind);
	r = pb_walk(c, map, &m, f, found);
	if (r < 0)
		return r;
	r = check_tids(c, found);
	if (r < 0)
		return r;
	if (fault_spec_finish(f) < 0)
		return pb_fail(c, map, ENOMEM, "out of memory");
	r = fault_spec_check(f, c->pb->phase_ns[PHASE_FAULT], &blame, msg,
			     sizeof(msg));
	if (r < 0) {
		int i = blame ? find_key(blame) : -1;
		yaml_node_t *at = map, *v;

		if (i >= 0 && found[i]) {
			v = pb_get(c, map, blame, NULL);
			at = v ? v : found[i];
		}
		return pb_fail(c, at, -r, "%s", msg);
	}
	return 0;
}

/*
 * GOMAXPROCS has one value: two gomaxprocs faults active at once would each
 * put back what it found, the later one the earlier one's value. Two set at
 * launch would give the environment two values. Refuse both.
 */
static int check_gomaxprocs_overlap(struct pb_ctx *c, yaml_node_t *seq)
{
	const struct playbook *pb = c->pb;
	int64_t phase = pb->phase_ns[PHASE_FAULT];

	for (size_t j = 0; j < pb->n_faults; j++) {
		const struct fault_spec *b = &pb->faults[j];

		if (b->kind != FAULT_GOMAXPROCS)
			continue;
		for (size_t i = 0; i < j; i++) {
			const struct fault_spec *a = &pb->faults[i];
			bool launch = a->gomaxprocs_mode == FAULT_GOMAXPROCS_LAUNCH;

			if (a->kind != FAULT_GOMAXPROCS || a->gomaxprocs_mode != b->gomaxprocs_mode)
				continue;
			if (launch)
				return pb_fail(c, pb_item(c, seq, j), EINVAL,
					       "a second gomaxprocs fault with mode: launch; "
					       "fault %zu already sets GOMAXPROCS in the "
					       "environment",
					       i + 1);
			if (b->at_ns < fault_window_end(a, phase) &&
			    a->at_ns < fault_window_end(b, phase))
				return pb_fail(c, pb_item(c, seq, j), EINVAL,
					       "this gomaxprocs window overlaps the one of "
					       "fault %zu; GOMAXPROCS has one value at a "
					       "time, so their windows must not overlap",
					       i + 1);
		}
	}
	return 0;
}

int pb_parse_faults(struct pb_ctx *c, yaml_node_t *seq)
{
	struct playbook *pb = c->pb;
	size_t n = pb_len(seq);
	char got[80];

	if (n > PLAYBOOK_MAX_FAULTS)
		return pb_fail(c, pb_item(c, seq, PLAYBOOK_MAX_FAULTS), E2BIG,
			       "at most %d faults per playbook",
			       PLAYBOOK_MAX_FAULTS);
	pb->faults = calloc(n ? n : 1, sizeof(*pb->faults));
	if (!pb->faults)
		return pb_fail(c, seq, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = pb_item(c, seq, i);
		int r;

		if (it->type != YAML_MAPPING_NODE)
			return pb_fail(
				c, it, EINVAL,
				"each fault is a mapping that starts with "
				"kind, such as '- kind: slow-io'; got %s",
				pb_type_word(it, got, sizeof(got)));
		/* Count first so that playbook_free() releases a half-parsed
		 * one. */
		pb->n_faults = i + 1;
		r = parse_one(c, it, &pb->faults[i]);
		if (r < 0)
			return r;
	}
	return check_gomaxprocs_overlap(c, seq);
}
