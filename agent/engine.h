/* SPDX-License-Identifier: Apache-2.0 */
/* Fault engines: one per backend, each applying and reverting the faults the
 * plan gave it. The runner calls the hooks in this order: prepare (before
 * the target exists, no threads), launched (target exists, not ready yet),
 * start (t0 known), tick (every 100 ms), disarm (revert now; on every exit
 * path, maybe twice), stop (after the target has stopped), counters, free.
 * Every hook but prepare is optional. */
#ifndef FG_ENGINE_H
#define FG_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "playbook.h"
#include "results.h"
#include "run.h"
#include "target.h"

struct journal;

struct run_ctx {
	const struct playbook *pb;
	const struct run_prep *prep;	/* prep->faults[i].backend per fault */
	const char *dir;		/* report directory, exists */
	struct target_launch_opts *launch;	/* prepare may set filter/shared */
	struct target *target;		/* from launched on */
	pid_t pid;			/* from launched on */
	int64_t t0;			/* monotonic start of the baseline, from start on */
	uint64_t seed;
	struct journal *journal;	/* record every change before making it; may be NULL */
	void *runner;			/* private to run.c */
};

struct engine_ops {
	const char *name;
	enum fault_backend backend;
	unsigned kinds;			/* 1u << enum fault_kind served; 0 = all */
	/* Kinds served by another backend that this engine also helps with
	 * when can_assist() says it can (the shim pins the threads a target
	 * creates during a pin-threads window); its counters then add. */
	unsigned assist_kinds;
	bool (*can_assist)(const struct run_ctx *c);
	int (*prepare)(struct run_ctx *c, void **ret_state);
	int (*launched)(void *state, struct run_ctx *c);
	int (*start)(void *state, struct run_ctx *c);
	void (*tick)(void *state, struct run_ctx *c, int64_t elapsed_ns);
	void (*disarm)(void *state);
	void (*stop)(void *state);
	void (*counters)(void *state, size_t i, struct fault_result *ret);
	void (*free)(void *state);
};

/**
 * run_ctx_add_env() - add "KEY=VALUE" to the launched target's environment
 * (after the playbook's own entries, so ours win). Only from prepare.
 * Return: 0 or -ENOMEM.
 */
int run_ctx_add_env(struct run_ctx *c, const char *key, const char *value);

/** run_ctx_uses() - whether fault @i is served by @backend. */
static inline int run_ctx_uses(const struct run_ctx *c, size_t i, enum fault_backend backend)
{
	return c->prep->faults[i].backend == backend;
}

/** engine_assists() - whether engine @e helps with fault @i (see assist_kinds). */
static inline int engine_assists(const struct engine_ops *e, const struct run_ctx *c, size_t i)
{
	return (e->assist_kinds & (1u << c->pb->faults[i].kind)) && e->can_assist &&
	       e->can_assist(c);
}

/** engine_serves() - whether engine @e serves fault @i of the run. */
static inline int engine_serves(const struct engine_ops *e, const struct run_ctx *c, size_t i)
{
	return run_ctx_uses(c, i, e->backend) &&
	       (!e->kinds || (e->kinds & (1u << c->pb->faults[i].kind)));
}

/* The window of fault @i in ns since t0: [from, to). */
void run_ctx_window(const struct run_ctx *c, size_t i, int64_t *ret_from, int64_t *ret_to);

extern const struct engine_ops engine_seccomp;
extern const struct engine_ops engine_env;
extern const struct engine_ops engine_ptrace;
extern const struct engine_ops engine_gomaxprocs;
extern const struct engine_ops engine_preload;
extern const struct engine_ops engine_affinity;

#endif
