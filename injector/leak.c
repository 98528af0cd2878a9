// SPDX-License-Identifier: Apache-2.0
/* mem-leak inside the target: one shim thread, "fg-leak", started at load
 * when the block has a mem-leak slot. While a slot is armed it maps
 * anonymous memory at the slot's rate, in chunks, up to its limit, writing
 * one byte per page when `touch` is set so that RSS grows and not only the
 * virtual size; when the slot is disarmed it unmaps everything if `release`
 * is set (otherwise a later window continues towards the same limit). The
 * thread blocks every signal, so the target's own signals never land on it,
 * and it sends none. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "shim.h"

#define NS_PER_S 1000000000LL
#define TICK_ARMED_NS (20LL * 1000000LL)
#define TICK_IDLE_NS (50LL * 1000000LL)
/* Chunks are at least limit / MAX_CHUNKS, so a slot never needs more. */
#define MAX_CHUNKS 4096

struct leak_chunk {
	void *addr;
	size_t len;
};

struct leak_slot {
	struct fg_ctl_fault *f;
	bool active;		/* saw the slot armed, not yet its disarm */
	bool failed;		/* mmap refused: stop growing, log once */
	int64_t armed_at;
	uint64_t start_bytes;	/* mapped when this window began */
	uint64_t mapped;	/* mapped now */
	size_t min_chunk;
	size_t n;
	struct leak_chunk chunks[MAX_CHUNKS + 1];
};

static struct leak_slot *slots[FG_CTL_MAX_FAULTS];
static unsigned n_slots;
static size_t page_size;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void touch_pages(uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len; off += page_size)
		((volatile uint8_t *)p)[off] = 1;
}

static void map_chunk(struct leak_slot *s, size_t len)
{
	struct fg_ctl_fault *f = s->f;
	void *p;

	if (s->n >= MAX_CHUNKS + 1)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		if (!s->failed)
			shim_log(SHIM_LOG_WARN, "mem-leak: map %zu bytes: %s, holding at %llu",
				 len, strerror(errno), (unsigned long long)s->mapped);
		s->failed = true;
		return;
	}
	s->chunks[s->n].addr = p;
	s->chunks[s->n++].len = len;
	s->mapped += len;
	atomic_fetch_add_explicit(&f->bytes_mapped, len, memory_order_relaxed);
	if (f->touch) {
		touch_pages(p, len);
		atomic_fetch_add_explicit(&f->bytes_touched, len, memory_order_relaxed);
	}
}

static void release_all(struct leak_slot *s)
{
	for (size_t i = 0; i < s->n; i++)
		(void)munmap(s->chunks[i].addr, s->chunks[i].len);
	s->n = 0;
	s->mapped = 0;
	s->failed = false;
}

/* Grow slot @s towards what its rate allows at @now. */
static void grow(struct leak_slot *s, int64_t now)
{
	const struct fg_ctl_fault *f = s->f;
	uint64_t limit = f->leak_limit, want, due;
	double secs = (double)(now - s->armed_at) / NS_PER_S;

	if (s->failed || s->mapped >= limit)
		return;
	want = s->start_bytes + (uint64_t)((double)f->leak_rate_bps * secs);
	if (want > limit)
		want = limit;
	if (want <= s->mapped)
		return;
	due = (want - s->mapped) & ~(uint64_t)(page_size - 1);
	/* Small steps wait to make one bigger chunk, except the last one. */
	if (due < s->min_chunk && want < limit)
		return;
	if (!due)
		due = page_size;
	map_chunk(s, (size_t)due);
}

static int64_t leak_step(int64_t now)
{
	int64_t tick = TICK_IDLE_NS;

	for (unsigned i = 0; i < n_slots; i++) {
		struct leak_slot *s = slots[i];
		bool armed = atomic_load_explicit(&s->f->armed, memory_order_acquire);

		if (armed) {
			if (!s->active) {
				s->active = true;
				s->armed_at = now;
				s->start_bytes = s->mapped;
			}
			grow(s, now);
			tick = TICK_ARMED_NS;
		} else if (s->active) {
			s->active = false;
			if (s->f->release)
				release_all(s);
		}
	}
	return tick;
}

static void *leak_main(void *arg)
{
	int64_t next = mono_ns();

	(void)arg;
	for (;;) {
		struct timespec ts;

		next += leak_step(mono_ns());
		ts.tv_sec = next / NS_PER_S;
		ts.tv_nsec = next % NS_PER_S;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		if (mono_ns() - next > TICK_IDLE_NS)
			next = mono_ns();
	}
	return NULL;
}

/* One leak_slot per mem-leak slot of the block; false when there is none. */
static bool slots_setup(void)
{
	for (uint32_t i = 0; i < shim.n_faults; i++) {
		struct fg_ctl_fault *f = &shim.ctl->faults[i];
		struct leak_slot *s;
		uint64_t min;

		if (f->kind != FAULT_MEM_LEAK || !f->leak_limit)
			continue;
		s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
		if (s == MAP_FAILED) {
			shim_log(SHIM_LOG_WARN, "mem-leak: no memory for slot %u", i);
			continue;
		}
		s->f = f;
		min = (f->leak_limit / MAX_CHUNKS + page_size - 1) & ~(uint64_t)(page_size - 1);
		s->min_chunk = min > page_size ? (size_t)min : page_size;
		slots[n_slots++] = s;
	}
	return n_slots > 0;
}

__attribute__((constructor(SHIM_PRIO_LATE))) static void leak_boot(void)
{
	int (*real_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	int saved = errno;
	sigset_t all, old;
	pthread_t th;
	int r;

	if (!shim.ctl)
		goto out;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (!slots_setup())
		goto out;
	/* Our own pthread_create wrapper must not see (and pin) this thread. */
	real_create = SHIM_REAL(pthread_create);
	if (!real_create) {
		shim_log(SHIM_LOG_WARN, "mem-leak: no pthread_create, fault inert");
		goto out;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = real_create(&th, NULL, leak_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		shim_log(SHIM_LOG_WARN, "mem-leak: start thread: %s, fault inert", strerror(r));
		goto out;
	}
	(void)pthread_setname_np(th, "fg-leak");
	(void)pthread_detach(th);
	shim_log(SHIM_LOG_DEBUG, "mem-leak: thread started for %u slots", n_slots);
out:
	errno = saved;
}
