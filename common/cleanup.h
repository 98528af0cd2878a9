/* SPDX-License-Identifier: Apache-2.0 */
/* Scope-based cleanup for memory, fds and FILE pointers, with an explicit
 * ownership hand-off. */
#ifndef FG_CLEANUP_H
#define FG_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void fg_freep(void *p)
{
	free(*(void **)p);
}

static inline void fg_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

static inline void fg_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define fg_autofree __attribute__((cleanup(fg_freep)))
#define fg_autoclose __attribute__((cleanup(fg_closep)))
#define fg_autofclose __attribute__((cleanup(fg_fclosep)))

/* Take ownership: return the value and leave the variable empty. */
#define fg_steal_ptr(p)                           \
	({                                        \
		__typeof__(p) _fg_tmp = (p);      \
		(p) = NULL;                       \
		_fg_tmp;                          \
	})
#define fg_steal_fd(fd)                           \
	({                                        \
		int _fg_fd = (fd);                \
		(fd) = -1;                        \
		_fg_fd;                           \
	})

#endif
