/* SPDX-License-Identifier: Apache-2.0 */
/* Per-thread kernel delay accounting through taskstats over generic netlink
 * (libnl-genl-3). Needs CAP_NET_ADMIN; block-I/O, swap-in, reclaim and
 * thrashing delays also need kernel.task_delayacct = 1 (see delayacct.h). */
#ifndef FG_TASKSTATS_H
#define FG_TASKSTATS_H

#include <stdint.h>
#include <sys/types.h>

/* Which delays the kernel's record held (it may be older than our header). */
#define TASK_DELAY_CPU (1u << 0)
#define TASK_DELAY_BLKIO (1u << 1)
#define TASK_DELAY_SWAPIN (1u << 2)
#define TASK_DELAY_RECLAIM (1u << 3)
#define TASK_DELAY_THRASHING (1u << 4)

/* Cumulative delays of one thread since it started, in nanoseconds. */
struct task_delays {
	uint64_t cpu_ns;	/* runnable, waiting for a CPU */
	uint64_t blkio_ns;	/* waiting for block I/O to complete */
	uint64_t swapin_ns;	/* waiting for pages to be swapped in */
	uint64_t reclaim_ns;	/* direct memory reclaim (freepages) */
	uint64_t thrashing_ns;	/* refaulting pages of the working set */
	unsigned have;		/* TASK_DELAY_* bits */
	uint16_t version;	/* of the kernel's struct taskstats */
	uint32_t size;		/* bytes the kernel sent */
};

struct taskstats_conn;

/**
 * taskstats_open() - connect, resolve the TASKSTATS family and query the
 * caller's own thread once, so that a missing privilege shows here.
 * Return: 0; -EPERM without CAP_NET_ADMIN; -ENOENT when the kernel has no
 * TASKSTATS family; -ENOMEM; -EIO for another netlink failure.
 */
int taskstats_open(struct taskstats_conn **ret);

/**
 * taskstats_query() - the cumulative delays of thread @tid.
 * Return: 0; -ESRCH when the thread is gone; -EPERM; -EPROTO for a reply
 * without a record; -EIO for another netlink failure.
 */
int taskstats_query(struct taskstats_conn *c, pid_t tid, struct task_delays *ret);

/** taskstats_close() - NULL is fine. Return: NULL. */
struct taskstats_conn *taskstats_close(struct taskstats_conn *c);

#endif
