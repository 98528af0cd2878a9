// SPDX-License-Identifier: Apache-2.0
/* The environment engine: faults applied at launch through the target's
 * environment (gomaxprocs mode: launch). Nothing to revert: the setting ends
 * with the target. */
#include <errno.h>
#include <stdio.h>

#include "engine.h"

static int env_prepare(struct run_ctx *c, void **ret_state)
{
	for (size_t i = 0; i < c->pb->n_faults; i++) {
		const struct fault_spec *f = &c->pb->faults[i];
		char v[16];
		int r;

		if (!run_ctx_uses(c, i, FAULT_BACKEND_ENV))
			continue;
		if (f->kind != FAULT_GOMAXPROCS)
			return -ENOTSUP;
		snprintf(v, sizeof(v), "%d", f->gomaxprocs);
		r = run_ctx_add_env(c, "GOMAXPROCS", v);
		if (r < 0)
			return r;
	}
	*ret_state = (void *)c->pb;
	return 0;
}

/* The value the target started with is the fault's own. */
static void env_counters(void *state, size_t i, struct fault_result *ret)
{
	const struct playbook *pb = state;

	if (pb && i < pb->n_faults && pb->faults[i].kind == FAULT_GOMAXPROCS)
		ret->gomaxprocs_after = pb->faults[i].gomaxprocs;
}

const struct engine_ops engine_env = {
	.name = "env",
	.backend = FAULT_BACKEND_ENV,
	.prepare = env_prepare,
	.counters = env_counters,
};
