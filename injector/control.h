/* SPDX-License-Identifier: Apache-2.0 */
/* The control block shared between the runner and the LD_PRELOAD shim: a
 * versioned header and one slot per fault. The runner writes parameters
 * before launch and flips `armed` at window edges; the shim reads with
 * atomic loads only and adds to the counters. No pointers: the block is
 * mapped at different addresses on each side. */
#ifndef FG_CONTROL_H
#define FG_CONTROL_H

#include <stdatomic.h>
#include <stdint.h>

#define FG_CTL_MAGIC 0x54434746u	/* "FGCT" little-endian */
#define FG_CTL_VERSION 1u
#define FG_CTL_ENV "FAULTGATE_CONTROL"	/* path of the block (a /dev/shm file) */
#define FG_CTL_LOG_ENV "FAULTGATE_SHIM_LOG"	/* shim log level: error|warn|info|debug */
#define FG_CTL_MAX_FAULTS 16
#define FG_CTL_MAX_PATHS 8
#define FG_CTL_MAX_PEERS 8
#define FG_CTL_MAX_SYMBOLS 8
#define FG_CTL_CPU_WORDS 16		/* 1024 CPUs */

struct fg_ctl_peer {
	char host[64];			/* numeric; "" = any host */
	uint16_t port;			/* 0 = any port */
	uint16_t pad[3];
};

struct fg_ctl_fault {
	_Atomic uint32_t armed;		/* runner: 1 inside the window */
	uint32_t kind;			/* enum fault_kind */
	/* selectors and actions (slow-io, io-error, cgo-block) */
	uint32_t syscalls;		/* FAULT_SYS_* bits */
	uint32_t fds;			/* enum fault_fds */
	uint32_t probability_ppm;	/* 0 .. 1 000 000 */
	int32_t err;			/* io-error: positive errno */
	int64_t delay_ns;
	int64_t jitter_ns;
	uint32_t n_paths, n_peers, n_symbols, pad0;
	char paths[FG_CTL_MAX_PATHS][128];
	struct fg_ctl_peer peers[FG_CTL_MAX_PEERS];
	char symbols[FG_CTL_MAX_SYMBOLS][64];
	/* mem-leak */
	uint64_t leak_rate_bps;
	uint64_t leak_limit;
	uint32_t touch, release;
	/* pin-threads: CPUs for threads created inside the window */
	uint64_t cpus[FG_CTL_CPU_WORDS];
	/* counters, written by the shim */
	_Atomic uint64_t seen;		/* calls matching the selectors in the window */
	_Atomic uint64_t delayed;
	_Atomic uint64_t failed;
	_Atomic uint64_t delay_total_ns;
	_Atomic uint64_t bytes_mapped;
	_Atomic uint64_t bytes_touched;
	_Atomic uint64_t threads_pinned;
};

struct fg_ctl {
	uint32_t magic;
	uint32_t version;
	uint32_t size;			/* sizeof(struct fg_ctl) of the writer */
	uint32_t n_faults;
	_Atomic uint32_t any_armed;	/* fast path: nonzero when any slot is armed */
	_Atomic uint32_t shim_pid;	/* set by the shim when it attached */
	uint64_t seed;
	struct fg_ctl_fault faults[FG_CTL_MAX_FAULTS];
};

#endif
