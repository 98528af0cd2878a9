/* SPDX-License-Identifier: Apache-2.0 */
/* Attach targets: find the running process a playbook names (pid, comm or
 * command-line regex) and check, before anything is touched, that faultgate
 * may act on it. Read-only: nothing here changes any process. */
#ifndef FG_ATTACH_H
#define FG_ATTACH_H

#include <sys/types.h>

#include "error.h"
#include "playbook.h"

/**
 * attach_select() - the one process @spec names. Faultgate's own processes
 * (any process running the faultgate binary) and the caller's ancestors
 * never match. @reterr: one line; for several matches it lists them (pid
 * and command line).
 * Return: 0; -ESRCH no process matches (or the pid does not exist);
 * -EEXIST several match; -EINVAL the pid is faultgate itself or the spec is
 * not an attach target; -ENOMEM.
 */
int attach_select(const struct target_spec *spec, pid_t *ret, struct fg_error *reterr);

/**
 * attach_preflight() - what must hold before any change to @pid: it exists
 * and is not a zombie, it lives in our user namespace, no other tracer holds
 * it (the tracer is named), and we may ptrace it (CAP_SYS_PTRACE, or the
 * same credentials and no capabilities we lack; Yama's ptrace_scope).
 * Return: 0; -ESRCH; -EBUSY (traced); -EPERM (@reterr says which check).
 */
int attach_preflight(pid_t pid, struct fg_error *reterr);

/** attach_cmdline() - /proc/PID/cmdline joined by spaces into @buf ("" if
 * unreadable). Return: @buf. */
char *attach_cmdline(pid_t pid, char *buf, size_t size);

#endif
