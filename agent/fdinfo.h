/* SPDX-License-Identifier: Apache-2.0 */
/* What a descriptor of another process is, for the fds/paths/peers
 * selectors of the seccomp and ptrace backends: read from /proc and, for a
 * socket's remote address, through a copy taken with pidfd_getfd. */
#ifndef FG_FDINFO_H
#define FG_FDINFO_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "fault.h"

/**
 * fdinfo_classify() - FAULT_FDS_FILES for a path, FAULT_FDS_SOCKETS for a
 * socket (its inode in *@ret_ino when non-NULL), FAULT_FDS_ANY for
 * anything else or when the descriptor is gone. @path gets the link text.
 */
enum fault_fds fdinfo_classify(pid_t tid, int fd, char *path, size_t size,
			       unsigned long *ret_ino);

/**
 * fdinfo_peer() - the remote address of socket @fd of thread @tid.
 * Return: 0, or -errno (-ENOTCONN for a socket without a peer, -ESRCH).
 */
int fdinfo_peer(pid_t tid, int fd, struct sockaddr_storage *ret);

#endif
