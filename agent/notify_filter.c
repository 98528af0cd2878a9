// SPDX-License-Identifier: Apache-2.0
/* The seccomp filter of the notify backend: built with libseccomp in the
 * runner, exported as plain BPF, loaded with a raw seccomp() call in the
 * launched child so the filter can ask for WAIT_KILLABLE_RECV. */
#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "notify.h"
#include "notify_private.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* Every syscall of the two families takes the descriptor as its first
 * argument; the supervisor relies on that. */
static const struct {
	const char *name;
	long nr;
	unsigned family;
} sys_table[] = {
	{ "read", SYS_read, FAULT_SYS_READ },
	{ "readv", SYS_readv, FAULT_SYS_READ },
	{ "pread64", SYS_pread64, FAULT_SYS_READ },
	{ "preadv", SYS_preadv, FAULT_SYS_READ },
	{ "preadv2", SYS_preadv2, FAULT_SYS_READ },
	{ "recvfrom", SYS_recvfrom, FAULT_SYS_READ },
	{ "recvmsg", SYS_recvmsg, FAULT_SYS_READ },
	{ "recvmmsg", SYS_recvmmsg, FAULT_SYS_READ },
	{ "write", SYS_write, FAULT_SYS_WRITE },
	{ "writev", SYS_writev, FAULT_SYS_WRITE },
	{ "pwrite64", SYS_pwrite64, FAULT_SYS_WRITE },
	{ "pwritev", SYS_pwritev, FAULT_SYS_WRITE },
	{ "pwritev2", SYS_pwritev2, FAULT_SYS_WRITE },
	{ "sendto", SYS_sendto, FAULT_SYS_WRITE },
	{ "sendmsg", SYS_sendmsg, FAULT_SYS_WRITE },
	{ "sendmmsg", SYS_sendmmsg, FAULT_SYS_WRITE },
};

#define N_SYS (sizeof(sys_table) / sizeof(sys_table[0]))

unsigned notify_syscall_family(long nr)
{
	for (size_t i = 0; i < N_SYS; i++)
		if (sys_table[i].nr == nr)
			return sys_table[i].family;
	return 0;
}

const char *notify_syscall_name(long nr)
{
	for (size_t i = 0; i < N_SYS; i++)
		if (sys_table[i].nr == nr)
			return sys_table[i].name;
	return "?";
}

bool notify_fault_served(const struct fault_spec *f, enum fault_backend backend)
{
	if (backend != FAULT_BACKEND_SECCOMP)
		return false;
	if (f->kind != FAULT_SLOW_IO && f->kind != FAULT_IO_ERROR)
		return false;
	return (f->syscalls & (FAULT_SYS_READ | FAULT_SYS_WRITE)) != 0;
}

static void ctx_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* libseccomp's exporter writes to an fd: give it a memfd and read the
 * instructions back into one allocation that starts with the header. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog **ret)
{
	fg_autoclose int fd = -1;
	struct sock_fprog *prog;
	struct stat st;
	ssize_t n;
	int r;

	fd = memfd_create("fg-seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r == -ECANCELED ? -EINVAL : r;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -EINVAL;

	prog = malloc(sizeof(*prog) + st.st_size);
	if (!prog)
		return -ENOMEM;
	prog->len = st.st_size / sizeof(struct sock_filter);
	prog->filter = (struct sock_filter *)(prog + 1);
	n = pread(fd, prog->filter, st.st_size, 0);
	if (n != st.st_size) {
		free(prog);
		return n < 0 ? -errno : -EIO;
	}
	*ret = prog;
	return 0;
}

int notify_build_filter(const struct fault_spec *faults, const enum fault_backend *backends,
			size_t n, void **ret_prog)
{
	__attribute__((cleanup(ctx_releasep))) scmp_filter_ctx ctx = NULL;
	struct sock_fprog *prog = NULL;
	unsigned families = 0;
	int r;

	*ret_prog = NULL;
	for (size_t i = 0; i < n; i++)
		if (notify_fault_served(&faults[i], backends[i]))
			families |= faults[i].syscalls;
	if (!families)
		return -ENOENT;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	/* A foreign-arch syscall (int 0x80) is none of our business: the
	 * default would kill the target. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	if (r < 0)
		return -EINVAL;

	for (size_t i = 0; i < N_SYS; i++) {
		if (!(sys_table[i].family & families))
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, (int)sys_table[i].nr, 0);
		if (r < 0)
			return r == -ENOMEM ? -ENOMEM : -EINVAL;
	}

	r = export_prog(ctx, &prog);
	if (r < 0)
		return r;
	*ret_prog = prog;
	return 0;
}

void notify_free_filter(void *prog)
{
	free(prog);
}

int notify_load_filter(const void *prog)
{
	unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
	long fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		     flags | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, prog);
	/* Kernels before 5.19 do not know the flag. */
	if (fd < 0 && errno == EINVAL)
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
	if (fd < 0)
		return -errno;
	return (int)fd;
}
