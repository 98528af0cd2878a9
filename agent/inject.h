/* SPDX-License-Identifier: Apache-2.0 */
/* `faultgate inject` and `faultgate recover`: one ad-hoc fault on a running
 * process, and the hand replay of journals a crashed runner left. */
#ifndef FG_INJECT_H
#define FG_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "playbook.h"

/**
 * inject_build() - the playbook of one fault of @kind on @pid with the
 * KEY=VALUE @params, applied for @for_text ("30s"; NULL = until a signal):
 * written as YAML and loaded by the playbook loader, so every key is
 * validated exactly as in a playbook. @reterr names the argument at fault.
 * Return: 0; -EINVAL/-ERANGE (a bad parameter); -ENOMEM.
 */
int inject_build(const char *kind, pid_t pid, const char *for_text, char *const *params,
		 size_t n_params, struct playbook **ret, struct fg_error *reterr);

/**
 * recover_run() - replay @journal, or with NULL every journal linked in the
 * run-state directory whose runner is gone. Prints one line per journal.
 * Return: the exit code: 0 everything reverted or nothing left, 1 some
 * change could not be reverted, 2 a journal could not be read.
 */
int recover_run(const char *journal);

#endif
