// SPDX-License-Identifier: Apache-2.0
/* The design's mechanism table as data: which backend serves a fault on a
 * given target, which pairings are impossible, and which are built. */
#include <errno.h>
#include <stdio.h>

#include "backend.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(b) (1u << (b))

/* Backends a user may write for each kind (auto is always allowed). */
static const unsigned possible[FAULT_KIND_MAX] = {
	[FAULT_SLOW_IO] = BIT(FAULT_BACKEND_PRELOAD) |
			  BIT(FAULT_BACKEND_SECCOMP) |
			  BIT(FAULT_BACKEND_PTRACE),
	[FAULT_IO_ERROR] = BIT(FAULT_BACKEND_PRELOAD) |
			   BIT(FAULT_BACKEND_SECCOMP) |
			   BIT(FAULT_BACKEND_PTRACE),
	[FAULT_MEM_LEAK] =
		BIT(FAULT_BACKEND_PRELOAD) | BIT(FAULT_BACKEND_PTRACE),
	[FAULT_CGO_BLOCK] = BIT(FAULT_BACKEND_PRELOAD),
	[FAULT_PIN_THREADS] = BIT(FAULT_BACKEND_AFFINITY),
	[FAULT_GOMAXPROCS] = BIT(FAULT_BACKEND_PTRACE) | BIT(FAULT_BACKEND_ENV),
	[FAULT_FREEZE_THREAD] = BIT(FAULT_BACKEND_PTRACE),
};

/* What this build implements. Later work adds rows. */
static const struct {
	enum fault_kind kind;
	enum fault_backend backend;
	bool launched_only;
} built[] = {
	{ FAULT_SLOW_IO, FAULT_BACKEND_SECCOMP, true },
	{ FAULT_IO_ERROR, FAULT_BACKEND_SECCOMP, true },
	{ FAULT_SLOW_IO, FAULT_BACKEND_PRELOAD, true },
	{ FAULT_IO_ERROR, FAULT_BACKEND_PRELOAD, true },
	{ FAULT_GOMAXPROCS, FAULT_BACKEND_ENV, true },
	{ FAULT_GOMAXPROCS, FAULT_BACKEND_PTRACE, false },
	{ FAULT_SLOW_IO, FAULT_BACKEND_PTRACE, false },
	{ FAULT_IO_ERROR, FAULT_BACKEND_PTRACE, false },
	{ FAULT_MEM_LEAK, FAULT_BACKEND_PTRACE, false },
	{ FAULT_FREEZE_THREAD, FAULT_BACKEND_PTRACE, false },
	{ FAULT_PIN_THREADS, FAULT_BACKEND_AFFINITY, false },
	{ FAULT_CGO_BLOCK, FAULT_BACKEND_PRELOAD, true },
	{ FAULT_MEM_LEAK, FAULT_BACKEND_PRELOAD, true },
};

bool fault_backend_possible(enum fault_kind kind, enum fault_backend b)
{
	if ((unsigned)kind >= FAULT_KIND_MAX ||
	    (unsigned)b >= FAULT_BACKEND_MAX)
		return false;
	return b == FAULT_BACKEND_AUTO || (possible[kind] & BIT(b));
}

bool fault_backend_available(enum fault_kind kind, enum fault_backend b,
			     bool launched)
{
	for (size_t i = 0; i < ARRAY_SIZE(built); i++)
		if (built[i].kind == kind && built[i].backend == b)
			return launched || !built[i].launched_only;
	return false;
}

/* A target we could not inspect (a shell script, say) is treated as a
 * dynamic binary: the shim is tried rather than refused. */
static bool is_dynamic(const struct target_facts *t)
{
	return !t->known || !t->is_static;
}

/* The table's choice for backend: auto, or -ENOTSUP with the reason. */
static int choose(const struct fault_spec *f, const struct target_facts *t,
		  enum fault_backend *ret, char *why, size_t size)
{
	switch (f->kind) {
	case FAULT_SLOW_IO:
	case FAULT_IO_ERROR:
		*ret = t->launched ? FAULT_BACKEND_SECCOMP
				   : FAULT_BACKEND_PTRACE;
		return 0;
	case FAULT_MEM_LEAK:
		*ret = t->launched && is_dynamic(t) ? FAULT_BACKEND_PRELOAD
						    : FAULT_BACKEND_PTRACE;
		return 0;
	case FAULT_CGO_BLOCK:
		if (!t->launched) {
			snprintf(why, size,
				 "cgo-block needs the preload shim, which "
				 "cannot be "
				 "loaded into a running process");
			return -ENOTSUP;
		}
		if (!is_dynamic(t)) {
			snprintf(why, size,
				 "static binary: LD_PRELOAD cannot reach it");
			return -ENOTSUP;
		}
		*ret = FAULT_BACKEND_PRELOAD;
		return 0;
	case FAULT_PIN_THREADS:
		*ret = FAULT_BACKEND_AFFINITY;
		return 0;
	case FAULT_GOMAXPROCS:
		if (t->known && !t->is_go) {
			snprintf(why, size,
				 "gomaxprocs needs a Go program; the target is "
				 "not one");
			return -ENOTSUP;
		}
		if (f->gomaxprocs_mode == FAULT_GOMAXPROCS_LAUNCH) {
			if (!t->launched) {
				snprintf(why, size,
					 "gomaxprocs mode: launch needs a "
					 "target that "
					 "faultgate starts (target: command); "
					 "use mode: live");
				return -ENOTSUP;
			}
			*ret = FAULT_BACKEND_ENV;
			return 0;
		}
		*ret = FAULT_BACKEND_PTRACE;
		return 0;
	case FAULT_FREEZE_THREAD:
		*ret = FAULT_BACKEND_PTRACE;
		return 0;
	case FAULT_KIND_MAX:
	default:
		snprintf(why, size, "unknown fault kind %d", (int)f->kind);
		return -ENOTSUP;
	}
}

/* Conditions on the target that a written backend needs. */
static int check_written(const struct fault_spec *f,
			 const struct target_facts *t, enum fault_backend b,
			 char *why, size_t size)
{
	const char *bname = fault_backend_name(b);

	if (!fault_backend_possible(f->kind, b)) {
		snprintf(why, size, "kind '%s' cannot use backend '%s'",
			 fault_kind_name(f->kind), bname ? bname : "?");
		return -ENOTSUP;
	}
	switch (b) {
	case FAULT_BACKEND_PRELOAD:
		if (!t->launched) {
			snprintf(why, size,
				 "backend 'preload' needs a target that "
				 "faultgate "
				 "starts: a running process cannot load the "
				 "shim");
			return -ENOTSUP;
		}
		if (!is_dynamic(t)) {
			snprintf(why, size,
				 "static binary: LD_PRELOAD cannot reach it");
			return -ENOTSUP;
		}
		return 0;
	case FAULT_BACKEND_SECCOMP:
	case FAULT_BACKEND_ENV:
		if (!t->launched) {
			snprintf(why, size,
				 "backend '%s' needs a target that faultgate "
				 "starts "
				 "(target: command)",
				 bname);
			return -ENOTSUP;
		}
		return 0;
	case FAULT_BACKEND_PTRACE:
	case FAULT_BACKEND_AFFINITY:
	case FAULT_BACKEND_AUTO:
		return 0;
	case FAULT_BACKEND_MAX:
	default:
		snprintf(why, size, "unknown backend %d", (int)b);
		return -ENOTSUP;
	}
}

int fault_backend_resolve(const struct fault_spec *f,
			  const struct target_facts *facts,
			  enum fault_backend *ret, char *reterr_why,
			  size_t why_size)
{
	enum fault_backend chosen;
	int r;

	r = choose(f, facts, &chosen, reterr_why, why_size);
	if (r < 0)
		return r;
	if (f->backend == FAULT_BACKEND_AUTO) {
		*ret = chosen;
		return 0;
	}
	/* gomaxprocs: the mode decides the mechanism; a written backend must
	 * agree. */
	if (f->kind == FAULT_GOMAXPROCS && f->backend != chosen) {
		snprintf(reterr_why, why_size,
			 "gomaxprocs mode: %s is served by '%s', not '%s'",
			 f->gomaxprocs_mode == FAULT_GOMAXPROCS_LAUNCH
				 ? "launch"
				 : "live",
			 fault_backend_name(chosen),
			 fault_backend_name(f->backend));
		return -ENOTSUP;
	}
	r = check_written(f, facts, f->backend, reterr_why, why_size);
	if (r < 0)
		return r;
	*ret = f->backend;
	return 0;
}
