/* SPDX-License-Identifier: Apache-2.0 */
/* The runner: target, load, faults and sampler through baseline, fault and
 * recovery; stop conditions; gates; reports; every fault reverted on every
 * exit path. */
#ifndef FG_RUN_H
#define FG_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "playbook.h"

struct run_options {
	const char *report_dir;	/* overrides the playbook's report.dir */
	bool progress;		/* live one-line progress (a terminal on stderr) */
	bool quiet;		/* no console table */
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

#endif
