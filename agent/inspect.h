/* SPDX-License-Identifier: Apache-2.0 */
/* `faultgate inspect PID`: a Go-aware diagnosis of a running process that
 * changes nothing in it and does not stop it. */
#ifndef FG_INSPECT_H
#define FG_INSPECT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/**
 * inspect_print() - diagnose @pid and print a table, or JSON when @json, to
 * @out. Errors are printed to stderr.
 * Return: 0; -ESRCH when there is no such process; -EACCES/-EPERM when
 * /proc or its memory cannot be read.
 */
int inspect_print(pid_t pid, bool json, FILE *out);

#endif
