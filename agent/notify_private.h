/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the seccomp filter builder and the supervisor: which
 * syscalls belong to which family. Not part of the agent's API. */
#ifndef FG_NOTIFY_PRIVATE_H
#define FG_NOTIFY_PRIVATE_H

#include <stdbool.h>

#include "fault.h"

/** notify_syscall_family() - FAULT_SYS_* bit of syscall @nr, 0 if none. */
unsigned notify_syscall_family(long nr);

/** notify_syscall_name() - "pread64" for its number; "?" when unknown. */
const char *notify_syscall_name(long nr);

/** notify_fault_served() - whether fault @f is ours (seccomp, slow-io or
 * io-error with at least one syscall family). */
bool notify_fault_served(const struct fault_spec *f, enum fault_backend backend);

#endif
