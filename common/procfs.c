// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

long fg_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, size - 1);
	e = errno;
	close(fd);
	if (n < 0)
		return e == ESRCH ? -ESRCH : -e;
	buf[n] = '\0';
	return (long)n;
}

bool fg_status_field(const char *buf, const char *key, long long *ret)
{
	size_t len = strlen(key);
	const char *p = buf;

	/* keys start a line; "Pid" must not match "PPid" or "TracerPid" */
	while ((p = strstr(p, key))) {
		if ((p == buf || p[-1] == '\n') && p[len] == ':') {
			*ret = strtoll(p + len + 1, NULL, 10);
			return true;
		}
		p += len;
	}
	return false;
}
