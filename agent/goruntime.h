/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a live Go runtime's scheduler state from outside, without
 * stopping it: GOMAXPROCS and the goroutine count through process_vm_readv
 * of runtime variables found in .symtab or, when stripped, decoded from the
 * RIP-relative operands of runtime functions. Library code: never logs. */
#ifndef FG_GORUNTIME_H
#define FG_GORUNTIME_H

#include <stdint.h>
#include <sys/types.h>

#include "goelf.h"

struct goruntime {
	pid_t pid;
	struct goelf *elf;
	uint64_t bias;			/* load bias of the executable */
	uint64_t gomaxprocs_addr;	/* run-time address; 0 unknown */
	uint64_t allgs_addr;		/* run-time address of the allgs slice; 0 unknown */
	int status_off;			/* g.atomicstatus offset; -1 unknown */
	const char *gomaxprocs_src;	/* "symbol", "decoded" or NULL */
	const char *allgs_src;
};

/**
 * goruntime_open() - analyse the executable of @pid and locate what can be
 * read. Return: 0; -ENOEXEC when it is not a Go program; -ESRCH; -EACCES;
 * -ENOMEM.
 */
int goruntime_open(pid_t pid, struct goruntime **ret);

/** goruntime_free() - NULL is fine. Return: NULL. */
struct goruntime *goruntime_free(struct goruntime *rt);

/**
 * goruntime_gomaxprocs() - the current value of runtime.gomaxprocs.
 * Return: 0; -ENOENT when its address is not known; -ESRCH; -EPERM/-EFAULT
 * from process_vm_readv; -EPROTO when the value is not plausible.
 */
int goruntime_gomaxprocs(const struct goruntime *rt, int *ret);

/* Live goroutines by scheduler state; runnable includes preempted ones. */
struct goruntime_gstates {
	int total, running, runnable, syscall, waiting;
};

/**
 * goruntime_goroutine_states() - the live goroutines (system goroutines
 * included) by state, from one walk of runtime.allgs.
 * Return: as goruntime_gomaxprocs().
 */
int goruntime_goroutine_states(const struct goruntime *rt, struct goruntime_gstates *ret);

/**
 * goruntime_goroutines() - goroutines that are not dead or idle (system
 * goroutines included), from a walk of runtime.allgs.
 * Return: as goruntime_gomaxprocs().
 */
int goruntime_goroutines(const struct goruntime *rt, int *ret);

/** goruntime_status_offset() - g.atomicstatus for Go 1.@minor, or -1. */
int goruntime_status_offset(int minor);

/**
 * goruntime_riprel() - the targets of the RIP-relative 64-bit loads
 * (MOVQ, opcode 8b) or sign-extending 32-bit loads (MOVSXD, 63) with REX.W
 * in @code (at link-time @pc). Return: how many were stored (<= @max).
 */
size_t goruntime_riprel(const uint8_t *code, size_t len, uint64_t pc, uint8_t opcode,
			uint64_t *ret, size_t max);

/** goruntime_read() - process_vm_readv of @len bytes. Return: 0 or -errno. */
int goruntime_read(pid_t pid, uint64_t addr, void *buf, size_t len);

#endif
