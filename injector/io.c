// SPDX-License-Identifier: Apache-2.0
/* Wrappers of the libc read and write families, connect, the stdio calls
 * that reach the kernel without going through read/write, and their
 * _FORTIFY_SOURCE variants: slow-io delays them, io-error fails them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fault.h"
#include "shim.h"

#define IO_KINDS ((1u << FAULT_SLOW_IO) | (1u << FAULT_IO_ERROR))

/* The fortified entry points glibc exports; their declarations only appear
 * in the headers under _FORTIFY_SOURCE, which the shim is built without. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *from, socklen_t *fromlen);
size_t __fread_chk(void *ptr, size_t ptrlen, size_t size, size_t n, FILE *fp);
char *__fgets_chk(char *s, size_t size, int n, FILE *fp);
int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...);
int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap);

/* Whether slot @f selects this call: @to is the address a connect or an
 * unconnected sendto names, NULL to ask the socket for its peer. */
static bool io_selects(const struct fg_ctl_fault *f, int fd, const struct sockaddr *to,
		       socklen_t tolen)
{
	if (!to)
		return shim_fd_matches(f, fd);
	if (f->fds == FAULT_FDS_FILES || f->n_paths)
		return false;
	if (f->fds == FAULT_FDS_SOCKETS && shim_fd_class(fd) != SHIM_FD_SOCKET)
		return false;
	return shim_peer_matches(f, to, tolen);
}

/*
 * io_fault() - the slow path of one call of family @sys on @fd: sleep the
 * delays of the matching slow-io slots that fire, and pick the errno of the
 * first matching io-error slot that fires.
 * Return: the errno to fail the call with, or 0 to run it.
 */
static int io_fault(unsigned sys, int fd, const struct sockaddr *to, socklen_t tolen)
{
	int err = 0;

	if (!shim_enter())
		return 0;
	for (int i = shim_slot_next(0, IO_KINDS); i >= 0; i = shim_slot_next(i + 1, IO_KINDS)) {
		struct fg_ctl_fault *f = shim_slot(i);

		if (!(f->syscalls & sys) || !io_selects(f, fd, to, tolen))
			continue;
		atomic_fetch_add_explicit(&f->seen, 1, memory_order_relaxed);
		if (!shim_chance(f->probability_ppm))
			continue;
		if (f->kind == FAULT_SLOW_IO) {
			shim_delay(f, shim_pick_delay(f));
		} else if (!err) {
			err = f->err > 0 ? f->err : EIO;
			atomic_fetch_add_explicit(&f->failed, 1, memory_order_relaxed);
			shim_log(SHIM_LOG_DEBUG, "fd %d: injected errno %d", fd, err);
		}
	}
	shim_leave();
	return err;
}

/*
 * WRAP() - define the exported wrapper @fn and its slow path. The wrapper
 * itself is one relaxed load of any_armed and a tail call of the cached
 * real function; everything else (the decision, the first lookup, the
 * ENOSYS of a missing function) lives in the cold fn_slow.
 * @fault: expression giving the errno to inject, or 0.
 */
#define WRAP(ret, fn, fail, fault, params, args)                                        \
	static void *_Atomic real_##fn;                                                 \
	static __attribute__((noinline, cold)) ret fn##_slow params                     \
	{                                                                               \
		__typeof__(&fn) real_;                                                  \
		if (!shim_idle()) {                                                     \
			int err_ = (fault);                                             \
			if (err_) {                                                     \
				errno = err_;                                           \
				return fail;                                            \
			}                                                               \
		}                                                                       \
		real_ = atomic_load_explicit(&real_##fn, memory_order_relaxed);        \
		if (!real_)                                                             \
			real_ = shim_real(&real_##fn, #fn);                             \
		if (!real_) {                                                           \
			errno = ENOSYS;                                                 \
			return fail;                                                    \
		}                                                                       \
		return real_ args;                                                      \
	}                                                                               \
	SHIM_EXPORT ret fn params                                                       \
	{                                                                               \
		__typeof__(&fn) real_ = atomic_load_explicit(&real_##fn, memory_order_relaxed); \
		if (SHIM_LIKELY(shim_idle() && real_))                                  \
			return real_ args;                                              \
		return fn##_slow args;                                                  \
	}

#define R FAULT_SYS_READ
#define W FAULT_SYS_WRITE
#define FD(sys) io_fault(sys, fd, NULL, 0)

WRAP(ssize_t, read, -1, FD(R), (int fd, void *buf, size_t n), (fd, buf, n))
WRAP(ssize_t, write, -1, FD(W), (int fd, const void *buf, size_t n), (fd, buf, n))
WRAP(ssize_t, pread, -1, FD(R), (int fd, void *buf, size_t n, off_t off), (fd, buf, n, off))
WRAP(ssize_t, pread64, -1, FD(R), (int fd, void *buf, size_t n, off64_t off),
     (fd, buf, n, off))
WRAP(ssize_t, pwrite, -1, FD(W), (int fd, const void *buf, size_t n, off_t off),
     (fd, buf, n, off))
WRAP(ssize_t, pwrite64, -1, FD(W), (int fd, const void *buf, size_t n, off64_t off),
     (fd, buf, n, off))
WRAP(ssize_t, readv, -1, FD(R), (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt))
WRAP(ssize_t, writev, -1, FD(W), (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt))
WRAP(ssize_t, preadv, -1, FD(R), (int fd, const struct iovec *iov, int cnt, off_t off),
     (fd, iov, cnt, off))
WRAP(ssize_t, preadv64, -1, FD(R), (int fd, const struct iovec *iov, int cnt, off64_t off),
     (fd, iov, cnt, off))
WRAP(ssize_t, pwritev, -1, FD(W), (int fd, const struct iovec *iov, int cnt, off_t off),
     (fd, iov, cnt, off))
WRAP(ssize_t, pwritev64, -1, FD(W), (int fd, const struct iovec *iov, int cnt, off64_t off),
     (fd, iov, cnt, off))
WRAP(ssize_t, preadv2, -1, FD(R),
     (int fd, const struct iovec *iov, int cnt, off_t off, int flags),
     (fd, iov, cnt, off, flags))
WRAP(ssize_t, preadv64v2, -1, FD(R),
     (int fd, const struct iovec *iov, int cnt, off64_t off, int flags),
     (fd, iov, cnt, off, flags))
WRAP(ssize_t, pwritev2, -1, FD(W),
     (int fd, const struct iovec *iov, int cnt, off_t off, int flags),
     (fd, iov, cnt, off, flags))
WRAP(ssize_t, pwritev64v2, -1, FD(W),
     (int fd, const struct iovec *iov, int cnt, off64_t off, int flags),
     (fd, iov, cnt, off, flags))
WRAP(ssize_t, recv, -1, FD(R), (int fd, void *buf, size_t n, int flags), (fd, buf, n, flags))
WRAP(ssize_t, recvfrom, -1, FD(R),
     (int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *fromlen),
     (fd, buf, n, flags, from, fromlen))
WRAP(ssize_t, recvmsg, -1, FD(R), (int fd, struct msghdr *msg, int flags), (fd, msg, flags))
WRAP(int, recvmmsg, -1, FD(R),
     (int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout),
     (fd, vec, vlen, flags, timeout))
WRAP(ssize_t, send, -1, FD(W), (int fd, const void *buf, size_t n, int flags),
     (fd, buf, n, flags))
/* An unconnected sendto / sendmsg names its peer; so does connect, which
 * counts in the write family. */
WRAP(ssize_t, sendto, -1, io_fault(W, fd, to, tolen),
     (int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tolen),
     (fd, buf, n, flags, to, tolen))
WRAP(ssize_t, sendmsg, -1,
     io_fault(W, fd, msg ? (const struct sockaddr *)msg->msg_name : NULL,
	      msg ? msg->msg_namelen : 0),
     (int fd, const struct msghdr *msg, int flags), (fd, msg, flags))
WRAP(int, sendmmsg, -1, FD(W), (int fd, struct mmsghdr *vec, unsigned int vlen, int flags),
     (fd, vec, vlen, flags))
WRAP(int, connect, -1, io_fault(W, fd, addr, len),
     (int fd, const struct sockaddr *addr, socklen_t len), (fd, addr, len))

WRAP(ssize_t, __read_chk, -1, FD(R), (int fd, void *buf, size_t n, size_t buflen),
     (fd, buf, n, buflen))
WRAP(ssize_t, __pread_chk, -1, FD(R), (int fd, void *buf, size_t n, off_t off, size_t buflen),
     (fd, buf, n, off, buflen))
WRAP(ssize_t, __pread64_chk, -1, FD(R),
     (int fd, void *buf, size_t n, off64_t off, size_t buflen), (fd, buf, n, off, buflen))
WRAP(ssize_t, __recv_chk, -1, FD(R), (int fd, void *buf, size_t n, size_t buflen, int flags),
     (fd, buf, n, buflen, flags))
WRAP(ssize_t, __recvfrom_chk, -1, FD(R),
     (int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from,
      socklen_t *fromlen),
     (fd, buf, n, buflen, flags, from, fromlen))

/*
 * stdio reaches the kernel through glibc's internal __read/__write, which
 * no interposer sees, so the stream calls are wrapped themselves: one
 * decision per call, on the stream's fd. A failed call sets the stream's
 * error indicator, as a failed read(2) underneath would.
 */
static int stdio_fault(unsigned sys, FILE *fp)
{
	int saved = errno, fd, err;

	fd = fp ? fileno(fp) : -1;
	errno = saved;
	err = io_fault(sys, fd, NULL, 0);
	if (err && fp)
		fp->_flags |= _IO_ERR_SEEN;
	return err;
}

WRAP(size_t, fread, 0, stdio_fault(R, fp), (void *ptr, size_t size, size_t n, FILE *fp),
     (ptr, size, n, fp))
WRAP(size_t, __fread_chk, 0, stdio_fault(R, fp),
     (void *ptr, size_t ptrlen, size_t size, size_t n, FILE *fp), (ptr, ptrlen, size, n, fp))
WRAP(char *, fgets, NULL, stdio_fault(R, fp), (char *s, int n, FILE *fp), (s, n, fp))
WRAP(char *, __fgets_chk, NULL, stdio_fault(R, fp), (char *s, size_t size, int n, FILE *fp),
     (s, size, n, fp))
WRAP(size_t, fwrite, 0, stdio_fault(W, fp), (const void *ptr, size_t size, size_t n, FILE *fp),
     (ptr, size, n, fp))
WRAP(int, fputs, EOF, stdio_fault(W, fp), (const char *s, FILE *fp), (s, fp))

/* Variadic: hand-written, forwarding to the v-variants. */
#define STDIO_CHECK(sys, fp, fail)                                              \
	do {                                                                    \
		if (SHIM_UNLIKELY(!shim_idle())) {                              \
			int err_ = stdio_fault(sys, fp);                        \
			if (err_) {                                             \
				errno = err_;                                   \
				return fail;                                    \
			}                                                       \
		}                                                               \
	} while (0)

/* Call the real @fn, or fail with ENOSYS if it cannot be found (yet). */
#define CALL_REAL(fn, fail, ...)                                                \
	({                                                                      \
		__typeof__(&fn) real_ = SHIM_REAL(fn);                          \
		real_ ? real_(__VA_ARGS__) : (errno = ENOSYS, (fail));          \
	})

SHIM_EXPORT int fprintf(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	int r;

	STDIO_CHECK(W, fp, -1);
	va_start(ap, fmt);
	r = CALL_REAL(vfprintf, -1, fp, fmt, ap);
	va_end(ap);
	return r;
}

SHIM_EXPORT int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	STDIO_CHECK(W, fp, -1);
	va_start(ap, fmt);
	r = CALL_REAL(__vfprintf_chk, -1, fp, flag, fmt, ap);
	va_end(ap);
	return r;
}
