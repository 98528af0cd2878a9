/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the small text files of /proc. */
#ifndef FG_PROCFS_H
#define FG_PROCFS_H

#include <stdbool.h>
#include <stddef.h>

/**
 * fg_read_text() - read @path (one read: /proc files come whole) into @buf,
 * NUL-terminated. Return: bytes read; -ESRCH when the file does not exist
 * (the process or thread is gone); -errno.
 */
long fg_read_text(const char *path, char *buf, size_t size);

/**
 * fg_status_field() - the number after "@key:" in a /proc status text
 * @buf ("TracerPid", "Tgid", "VmRSS", ...), into @ret.
 * Return: true when the key is there.
 */
bool fg_status_field(const char *buf, const char *key, long long *ret);

#endif
