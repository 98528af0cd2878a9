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

/**
 * binfo_inspect_at() - the same, with a relative @path (one with a slash)
 * taken relative to @cwd when @cwd is not NULL.
 * Return: as binfo_inspect().
 */
int binfo_inspect_at(const char *path, const char *cwd,
		     struct target_facts *ret, char *ret_resolved, size_t size);

/**
 * binfo_resolve() - the absolute path execvp would run for @argv0: searched
 * in PATH without a slash, else relative to @cwd (NULL: ours).
 * Return: 0, -ENOENT, -ENAMETOOLONG, or -errno from realpath().
 */
int binfo_resolve(const char *argv0, const char *cwd, char *ret, size_t size);

#endif
