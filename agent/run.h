/* SPDX-License-Identifier: Apache-2.0 */
/* The runner: target, load, faults and sampler through baseline, fault and
 * recovery; stop conditions; gates; reports; every fault reverted on every
 * exit path. */
#ifndef FG_RUN_H
#define FG_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "backend.h"
#include "error.h"
#include "playbook.h"

struct run_options {
	const char *report_dir;	/* overrides the playbook's report.dir */
	bool progress;		/* live one-line progress (a terminal on stderr) */
	bool quiet;		/* no console table */
	bool adhoc;		/* faultgate inject: SIGINT/SIGTERM end it normally */
	int64_t sample_interval_ns;	/* vitals sampling period; 0 = 100 ms */
};

/**
 * run_playbook() - run @pb. Return: the process exit code: 0 pass, 1 a
 * gate failed or a stop condition aborted the run, 2 it could not run.
 */
int run_playbook(const struct playbook *pb, const struct run_options *opts);

/**
 * run_plan_print() - what `faultgate check` prints: phases, target, load,
 * faults with the backend auto chose, gates. Return: 0, or 2 when a fault
 * cannot be served on this target (the line says why).
 */
int run_plan_print(const struct playbook *pb, FILE *out);

/* What `run` and `check` decide before touching anything: the binary's facts
 * and, per fault, the backend that serves it. Shared by run.c and plan.c. */
struct fault_plan {
	enum fault_backend backend;	/* as written when impossible */
	/* 0; -ENOTSUP impossible pairing; -ENOSYS not built yet */
	int status;
	char why[192];	/* why auto chose it, or why it cannot be served */
};

struct run_prep {
	struct target_facts facts;
	int binfo_err;		/* 0; -ENOEXEC for a script; -ENOENT ... */
	char exe[4096];		/* resolved path of argv[0], "" if unknown */
	pid_t pid;		/* attach targets: the process selected, else 0 */
	struct fault_plan *faults;	/* pb->n_faults entries */
	enum fault_backend *backends;	/* the same, as notify wants them */
};

/**
 * run_prepare() - inspect the target's binary and resolve every fault's
 * backend. Touches nothing.
 * Return: 0 when the run can go ahead; -ENOTSUP when a fault cannot be
 * served or the target mode is not supported (the first reason in
 * @reterr); -ENOMEM.
 */
int run_prepare(const struct playbook *pb, struct run_prep *ret,
		struct fg_error *reterr);

/** run_prep_done() - release what run_prepare() allocated. */
void run_prep_done(struct run_prep *p);

/** run_binary_summary() - "static Go go1.19.8", "dynamic ELF", "script". */
const char *run_binary_summary(const struct run_prep *p, char *buf,
			       size_t size);

#endif
