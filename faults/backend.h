/* SPDX-License-Identifier: Apache-2.0 */
/* Which mechanism serves which fault on which target: the design's table as
 * data, and the choice `backend: auto` makes. No I/O. */
#ifndef FG_FAULT_BACKEND_H
#define FG_FAULT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "fault.h"

/* What the agent learned about the target before the run. */
struct target_facts {
	bool launched;		/* faultgate starts it (command:) */
	bool known;		/* the binary could be inspected */
	bool is_go;
	bool is_static;		/* no ELF interpreter: LD_PRELOAD cannot reach it */
	char go_version[32];	/* "go1.19.8", "" if not Go or unknown */
};

/**
 * fault_backend_resolve() - the backend that serves @f on a target with
 * @facts: the written one when possible, the table's choice for auto.
 * @reterr_why: why the pairing is impossible.
 *
 * Return: 0, -ENOTSUP (impossible pairing; the message says why).
 */
int fault_backend_resolve(const struct fault_spec *f, const struct target_facts *facts,
			  enum fault_backend *ret, char *reterr_why, size_t why_size);

/**
 * fault_backend_available() - whether this build implements @b for @kind.
 * The resolver may choose a backend that is designed but not built yet; the
 * runner refuses such a run with exit 2 before touching the target.
 */
bool fault_backend_available(enum fault_kind kind, enum fault_backend b, bool launched);

/**
 * fault_backend_possible() - whether a user may write backend @b for @kind
 * at all, whatever the target (auto is always possible).
 */
bool fault_backend_possible(enum fault_kind kind, enum fault_backend b);

#endif
