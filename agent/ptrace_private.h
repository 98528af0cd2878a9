/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the parts of the ptrace engine: one job (and one tracer thread)
 * per fault; ptrace requests only ever come from the thread that seized. */
#ifndef FG_PTRACE_PRIVATE_H
#define FG_PTRACE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fault.h"

struct journal;
struct ptrace_engine;

struct pt_counters {
	_Atomic uint64_t seen, delayed, failed;
	_Atomic int64_t delay_total_ns;
	_Atomic uint64_t mapped, touched, released;
	_Atomic uint64_t freezes;
	_Atomic int64_t frozen_ns, stop_latency_max_ns;
	_Atomic int64_t traced_ns;	/* slow-io/io-error: time threads were traced */
	_Atomic uint64_t stops;		/* slow-io/io-error: syscall stops handled */
};

struct pt_job {
	struct ptrace_engine *e;
	size_t i;
	const struct fault_spec *f;
	pid_t pid;
	int64_t from_ns, to_ns;		/* monotonic */
	struct fault_rng rng;
	struct pt_counters cnt;
	pthread_t thread;
	bool running;
	_Atomic pid_t worker_tid;	/* for the wake-up signal */
	char note[160];
};

#define PT_STOP_TIMEOUT_NS (200 * 1000000LL)

/** pt_disarmed() - whether the engine was told to revert. */
bool pt_disarmed(const struct pt_job *j);

/**
 * pt_sleep_until() - sleep until @deadline (monotonic ns) or the disarm.
 * Return: true when disarmed.
 */
bool pt_sleep_until(const struct pt_job *j, int64_t deadline);

/** pt_journal_begin()/pt_journal_end() - serialized; no-ops without a journal. */
int pt_journal_begin(struct pt_job *j, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pt_journal_end(struct pt_job *j, int id);

/** pt_max() - atomic max. */
void pt_max(_Atomic int64_t *v, int64_t x);

/**
 * pt_list_tasks() - the tids of @pid, malloc'ed into *@ret.
 * Return: the count (>= 0) or -errno (-ESRCH when the process is gone).
 */
int pt_list_tasks(pid_t pid, pid_t **ret);

/* The kinds' loops, each run in the job's own thread. */
void pt_run_freeze(struct pt_job *j);
void pt_run_leak(struct pt_job *j);
void pt_run_sys(struct pt_job *j);

/** pt_wake_signal() - the real-time signal that breaks a tracer's waitpid. */
int pt_wake_signal(void);

#endif
