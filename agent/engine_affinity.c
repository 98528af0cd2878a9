// SPDX-License-Identifier: Apache-2.0
/* The affinity engine (pin-threads): inside the window, every thread of the
 * target is moved to the fault's CPUs with sched_setaffinity, each original
 * mask saved first (and journaled); threads that appear meanwhile are caught
 * by a second pass and by a rescan on every tick. At the window end, and on
 * every disarm, each saved mask is put back. Works on any pid: nothing is
 * needed inside the target. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FG_LOG_COMPONENT "affinity"
#include "engine.h"
#include "journal.h"
#include "log.h"

/* Passes over /proc/PID/task at the window start until one finds no new
 * thread; a process that keeps spawning is left to the tick rescans. */
#define ARM_PASSES_MAX 5

struct pinned_tid {
	pid_t tid;
	int journal_id;		/* > 0 when journaled */
	cpu_set_t orig;
};

struct pin_fault {
	size_t index;		/* in the playbook */
	cpu_set_t cpus;
	bool armed, done;
	bool have_fallback;
	cpu_set_t fallback;	/* the main thread's original mask */
	struct pinned_tid *tids;
	size_t n, cap;
	uint64_t pinned;	/* threads moved, over the whole run */
};

struct affinity_engine {
	pid_t pid;
	struct journal *journal;
	struct pin_fault *faults;
	size_t n_faults;
};

/* The mask as hex, most significant word first, no leading zeros ("3"). */
static const char *mask_hex(const cpu_set_t *set, char *buf, size_t size)
{
	size_t len = 0;
	bool lead = true;

	for (int cpu = CPU_SETSIZE - 4; cpu >= 0; cpu -= 4) {
		unsigned nib = 0;

		for (int b = 0; b < 4; b++)
			if (CPU_ISSET(cpu + b, set))
				nib |= 1u << b;
		if (lead && nib == 0 && cpu > 0)
			continue;
		lead = false;
		if (len + 1 < size)
			buf[len++] = "0123456789abcdef"[nib];
	}
	buf[len < size ? len : size - 1] = '\0';
	return buf;
}

static struct pinned_tid *find_tid(struct pin_fault *pf, pid_t tid)
{
	for (size_t i = 0; i < pf->n; i++)
		if (pf->tids[i].tid == tid)
			return &pf->tids[i];
	return NULL;
}

static struct pinned_tid *add_tid(struct pin_fault *pf)
{
	if (pf->n == pf->cap) {
		size_t cap = pf->cap ? pf->cap * 2 : 32;
		struct pinned_tid *t = realloc(pf->tids, cap * sizeof(*t));

		if (!t)
			return NULL;
		pf->tids = t;
		pf->cap = cap;
	}
	return &pf->tids[pf->n++];
}

/*
 * Move one thread not seen before. A thread born inside the window inherits
 * the pinned mask from its creator; its own original is unknown, so it gets
 * the main thread's original back at the end.
 * Return: 1 when the thread was pinned, 0 when it vanished, -errno.
 */
static int pin_one(struct affinity_engine *e, struct pin_fault *pf, pid_t tid, bool first_pass)
{
	struct pinned_tid *t;
	char hex[CPU_SETSIZE / 4 + 1];
	cpu_set_t cur;

	if (sched_getaffinity(tid, sizeof(cur), &cur) < 0)
		return errno == ESRCH ? 0 : -errno;
	if (!first_pass && pf->have_fallback && CPU_EQUAL(&cur, &pf->cpus))
		cur = pf->fallback;
	t = add_tid(pf);
	if (!t)
		return -ENOMEM;
	t->tid = tid;
	t->orig = cur;
	t->journal_id = 0;
	if (tid == e->pid) {
		pf->fallback = cur;
		pf->have_fallback = true;
	}
	if (e->journal) {
		int id = journal_begin(e->journal, "affinity", "pid=%d tid=%d mask=%s", (int)e->pid,
				       (int)tid, mask_hex(&cur, hex, sizeof(hex)));

		if (id < 0)
			(void)log_warn_errno(id, "journal the mask of tid %d, continuing",
					     (int)tid);
		else
			t->journal_id = id;
	}
	if (sched_setaffinity(tid, sizeof(pf->cpus), &pf->cpus) < 0) {
		int r = -errno;

		if (t->journal_id > 0)
			(void)journal_end(e->journal, t->journal_id);
		pf->n--;
		return r == -ESRCH ? 0 : r;
	}
	pf->pinned++;
	return 1;
}

/* One pass over /proc/PID/task. Return: threads newly pinned, or -errno. */
static int scan(struct affinity_engine *e, struct pin_fault *pf, bool first_pass)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int found = 0, r;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)e->pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	/* The main thread first, so its mask is known as the fallback. */
	if (first_pass && !find_tid(pf, e->pid)) {
		r = pin_one(e, pf, e->pid, true);
		if (r > 0)
			found++;
	}
	while ((d = readdir(dir))) {
		char *end;
		long tid = strtol(d->d_name, &end, 10);

		if (d->d_name[0] == '.' || *end || tid <= 0)
			continue;
		if (find_tid(pf, (pid_t)tid))
			continue;
		r = pin_one(e, pf, (pid_t)tid, first_pass);
		if (r < 0) {
			closedir(dir);
			return r;
		}
		found += r;
	}
	closedir(dir);
	return found;
}

static void arm(struct affinity_engine *e, struct pin_fault *pf)
{
	int r = 0, total = 0;

	pf->armed = true;
	for (int pass = 0; pass < ARM_PASSES_MAX; pass++) {
		r = scan(e, pf, pass == 0);
		if (r <= 0)
			break;
		total += r;
	}
	if (r < 0)
		(void)log_warn_errno(r, "pin the threads of pid %d, continuing", (int)e->pid);
	log_debug("fault %zu: %d threads of pid %d pinned", pf->index + 1, total, (int)e->pid);
}

/* A tid still listed under the target: not vanished, not reused elsewhere. */
static bool tid_alive(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	return access(path, F_OK) == 0;
}

static void restore(struct affinity_engine *e, struct pin_fault *pf)
{
	size_t failed = 0;

	if (!pf->armed)
		return;
	/* Threads born since the last tick carry the pinned mask too. */
	(void)scan(e, pf, false);
	for (size_t i = pf->n; i-- > 0;) {
		struct pinned_tid *t = &pf->tids[i];

		if (tid_alive(e->pid, t->tid) &&
		    sched_setaffinity(t->tid, sizeof(t->orig), &t->orig) < 0 && errno != ESRCH)
			failed++;
		if (t->journal_id > 0)
			(void)journal_end(e->journal, t->journal_id);
	}
	if (failed)
		log_warn("fault %zu: %zu thread masks of pid %d not restored", pf->index + 1,
			 failed, (int)e->pid);
	pf->n = 0;
	pf->armed = false;
	pf->done = true;
}

static int affinity_prepare(struct run_ctx *c, void **ret_state)
{
	struct affinity_engine *e;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*ret_state = e;
	e->faults = calloc(c->pb->n_faults ? c->pb->n_faults : 1, sizeof(*e->faults));
	if (!e->faults)
		return -ENOMEM;
	for (size_t i = 0; i < c->pb->n_faults; i++) {
		const struct fault_spec *f = &c->pb->faults[i];
		struct pin_fault *pf;

		if (!run_ctx_uses(c, i, FAULT_BACKEND_AFFINITY))
			continue;
		if (f->kind != FAULT_PIN_THREADS)
			return -ENOTSUP;
		pf = &e->faults[e->n_faults++];
		pf->index = i;
		CPU_ZERO(&pf->cpus);
		for (size_t k = 0; k < f->n_cpus; k++) {
			if (f->cpus[k] < 0 || f->cpus[k] >= CPU_SETSIZE)
				return -ERANGE;
			CPU_SET(f->cpus[k], &pf->cpus);
		}
	}
	return 0;
}

static int affinity_start(void *state, struct run_ctx *c)
{
	struct affinity_engine *e = state;

	e->pid = c->pid;
	e->journal = c->journal;
	return 0;
}

static void affinity_tick(void *state, struct run_ctx *c, int64_t elapsed_ns)
{
	struct affinity_engine *e = state;

	e->journal = c->journal;
	for (size_t i = 0; i < e->n_faults; i++) {
		struct pin_fault *pf = &e->faults[i];
		int64_t from, to;
		int r;

		if (pf->done)
			continue;
		run_ctx_window(c, pf->index, &from, &to);
		if (pf->armed && elapsed_ns >= to) {
			restore(e, pf);
		} else if (!pf->armed && elapsed_ns >= from && elapsed_ns < to) {
			arm(e, pf);
		} else if (pf->armed) {
			r = scan(e, pf, false);
			if (r > 0)
				log_debug("fault %zu: %d new threads pinned", pf->index + 1, r);
		}
	}
}

static void affinity_disarm(void *state)
{
	struct affinity_engine *e = state;

	for (size_t i = 0; e && i < e->n_faults; i++) {
		restore(e, &e->faults[i]);
		e->faults[i].done = true;
	}
}

static void affinity_counters(void *state, size_t i, struct fault_result *ret)
{
	struct affinity_engine *e = state;

	for (size_t k = 0; k < e->n_faults; k++)
		if (e->faults[k].index == i)
			ret->threads_pinned += e->faults[k].pinned;
}

static void affinity_free(void *state)
{
	struct affinity_engine *e = state;

	if (!e)
		return;
	for (size_t i = 0; e->faults && i < e->n_faults; i++)
		free(e->faults[i].tids);
	free(e->faults);
	free(e);
}

const struct engine_ops engine_affinity = {
	.name = "affinity",
	.backend = FAULT_BACKEND_AFFINITY,
	.kinds = 1u << FAULT_PIN_THREADS,
	.prepare = affinity_prepare,
	.start = affinity_start,
	.tick = affinity_tick,
	.disarm = affinity_disarm,
	.counters = affinity_counters,
	.free = affinity_free,
};
