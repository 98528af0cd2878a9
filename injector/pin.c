// SPDX-License-Identifier: Apache-2.0
/* pin-threads from inside: while a pin-threads slot is armed, a thread the
 * target creates is moved to the slot's CPUs as soon as pthread_create
 * returns, instead of waiting for the runner's next rescan of
 * /proc/PID/task. The runner still saves and restores every mask; this hook
 * only closes the window in which a new thread runs unpinned. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "fault.h"
#include "shim.h"

#define PIN_KIND (1u << FAULT_PIN_THREADS)

_Static_assert(sizeof(((struct fg_ctl_fault *)0)->cpus) <= sizeof(cpu_set_t),
	       "the slot's CPU words must fit a cpu_set_t");

static void pin_new_thread(pthread_t th)
{
	int i;

	if (!shim_enter())
		return;
	i = shim_slot_next(0, PIN_KIND);
	if (i >= 0) {
		struct fg_ctl_fault *f = shim_slot(i);
		cpu_set_t set;

		CPU_ZERO(&set);
		memcpy(&set, f->cpus, sizeof(f->cpus));
		if (CPU_COUNT(&set) && pthread_setaffinity_np(th, sizeof(set), &set) == 0)
			atomic_fetch_add_explicit(&f->threads_pinned, 1, memory_order_relaxed);
	}
	shim_leave();
}

SHIM_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			       void *(*start)(void *), void *arg)
{
	int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *) =
		SHIM_REAL(pthread_create);
	int saved = errno;
	int r;

	if (!real)
		return ENOSYS;
	r = real(thread, attr, start, arg);
	if (r == 0 && !shim_idle()) {
		pin_new_thread(*thread);
		errno = saved;
	}
	return r;
}
