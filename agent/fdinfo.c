// SPDX-License-Identifier: Apache-2.0
/* Descriptor inspection shared by the seccomp and ptrace backends. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdinfo.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

enum fault_fds fdinfo_classify(pid_t tid, int fd, char *path, size_t size,
			       unsigned long *ret_ino)
{
	char link[64];
	unsigned long ino;
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)tid, fd);
	len = readlink(link, path, size - 1);
	if (len < 0) {
		path[0] = '\0';
		return FAULT_FDS_ANY;
	}
	path[len] = '\0';
	if (path[0] == '/')
		return FAULT_FDS_FILES;
	if (sscanf(path, "socket:[%lu]", &ino) == 1) {
		if (ret_ino)
			*ret_ino = ino;
		return FAULT_FDS_SOCKETS;
	}
	return FAULT_FDS_ANY;
}

int fdinfo_peer(pid_t tid, int fd, struct sockaddr_storage *ret)
{
	fg_autoclose int pidfd = -1;
	fg_autoclose int sock = -1;
	socklen_t len = sizeof(*ret);

	pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	/* A thread that is not the leader needs a thread pidfd (6.9); older
	 * kernels refuse it with EINVAL, newer ones with ENOENT. Every Go M
	 * but the first is such a thread. */
	if (pidfd < 0 && (errno == EINVAL || errno == ENOENT))
		pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (pidfd < 0)
		return -errno;
	sock = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (sock < 0)
		return -errno;
	memset(ret, 0, sizeof(*ret));
	if (getpeername(sock, (struct sockaddr *)ret, &len) < 0)
		return -errno;
	return 0;
}
