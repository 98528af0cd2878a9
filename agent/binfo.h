/* SPDX-License-Identifier: Apache-2.0 */
/* What an executable is: ELF or not, static or dynamic, Go and which version.
 * Reads the file only; used for backend choice and the report. */
#ifndef FG_BINFO_H
#define FG_BINFO_H

#include "backend.h"

/**
 * binfo_inspect() - fill @ret from the executable at @path (argv[0] is
 * searched in PATH when it has no slash).
 * Return: 0; -ENOENT; -ENOEXEC when it is not an ELF file (a script: facts
 * stay unknown, which is not an error for the caller).
 */
int binfo_inspect(const char *path, struct target_facts *ret, char *ret_resolved, size_t size);

#endif
