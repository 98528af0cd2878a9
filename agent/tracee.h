/* SPDX-License-Identifier: Apache-2.0 */
/* ptrace helpers for acting on single threads of another process: seize only
 * the threads acted on, only while acting; run a syscall inside a stopped
 * thread and put everything back. x86-64. Vanished threads (ESRCH) are a
 * normal outcome and reported as such, never logged above debug. */
#ifndef FG_TRACEE_H
#define FG_TRACEE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/**
 * tracee_check_attachable() - pre-flight: the process exists, is not traced
 * already (TracerPid), we may ptrace it (CAP_SYS_PTRACE or same uid), and it
 * lives in our user namespace. @why gets one clear sentence.
 * Return: 0, -ESRCH, -EBUSY (already traced), -EPERM.
 */
int tracee_check_attachable(pid_t pid, char *why, size_t why_size);

/**
 * tracee_seize_stop() - PTRACE_SEIZE @tid and PTRACE_INTERRUPT it; wait
 * until it is in a ptrace-stop (at most @timeout_ns). A signal that arrives
 * first is suppressed and stored in *@ret_pending_sig (0 if none), to be
 * handed back by tracee_release().
 * Return: 0; -ESRCH (gone); -EPERM/-EBUSY; -ETIMEDOUT.
 */
int tracee_seize_stop(pid_t tid, int64_t timeout_ns, int *ret_pending_sig);

/**
 * tracee_release() - detach @tid (in a ptrace-stop), delivering @sig.
 * Return: 0 or -ESRCH.
 */
int tracee_release(pid_t tid, int sig);

int tracee_getregs(pid_t tid, struct user_regs_struct *ret);
int tracee_setregs(pid_t tid, const struct user_regs_struct *regs);

/**
 * tracee_syscall_insn() - the address of a `syscall` instruction (0f 05)
 * that @tid can execute: rip-2 if it is stopped in a syscall, else found in
 * an executable mapping of @pid. Return: 0 or -ENOENT.
 */
int tracee_syscall_insn(pid_t pid, pid_t tid, const struct user_regs_struct *regs,
			uint64_t *ret_addr);

/**
 * tracee_inject_syscall() - make the stopped thread @tid run syscall @nr
 * with @args and restore its registers exactly; signals that arrive meanwhile
 * are held in *@pending_sig (one slot, as tracee_seize_stop()).
 * @ret: the syscall's return value (negative errno on failure inside).
 * Return: 0 (the syscall ran; see @ret), -ESRCH, -EIO.
 */
int tracee_inject_syscall(pid_t pid, pid_t tid, long nr, const long args[6], long *ret,
			  int *pending_sig);

/** tracee_read()/tracee_write() - process_vm_readv/writev of @pid. */
int tracee_read(pid_t pid, uint64_t addr, void *buf, size_t len);
int tracee_write(pid_t pid, uint64_t addr, const void *buf, size_t len);

#endif
