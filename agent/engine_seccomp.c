// SPDX-License-Identifier: Apache-2.0
/* The seccomp engine: builds the filter before launch, lets every trapped
 * syscall through while the target gets ready, then runs the supervisor of
 * notify.c for the fault windows. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define FG_LOG_COMPONENT "notify"
#include "engine.h"
#include "log.h"
#include "notify.h"

struct seccomp_engine {
	void *filter;
	struct notify_shared *shared;
	struct notify *notify;
	/* Before the run starts nobody supervises the filter, and a trapped
	 * syscall would hang the target before it is ready. */
	pthread_t pass_thread;
	bool pass_running;
	int pass_stop;
};

static int seccomp_prepare(struct run_ctx *c, void **ret_state)
{
	struct seccomp_engine *e;
	int r;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->pass_stop = -1;
	*ret_state = e;
	r = notify_build_filter(c->pb->faults, c->prep->backends, c->pb->n_faults, &e->filter);
	if (r < 0 && r != -ENOENT)
		return r;
	e->shared = notify_shared_create();
	if (!e->shared)
		return -ENOMEM;
	c->launch->filter = e->filter;
	c->launch->shared = e->shared;
	return 0;
}

struct pass_args {
	int listener, stop_fd;
};

static void *pass_thread(void *arg)
{
	struct pass_args *a = arg;

	notify_continue_loop(a->listener, a->stop_fd);
	free(a);
	return NULL;
}

static int seccomp_launched(void *state, struct run_ctx *c)
{
	struct seccomp_engine *e = state;
	struct pass_args *a;
	int listener = target_listener(c->target);
	int r;

	if (listener < 0)
		return 0;
	e->pass_stop = eventfd(0, EFD_CLOEXEC);
	if (e->pass_stop < 0)
		return -errno;
	a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->listener = listener;
	a->stop_fd = e->pass_stop;
	r = pthread_create(&e->pass_thread, NULL, pass_thread, a);
	if (r != 0) {
		free(a);
		return -r;
	}
	e->pass_running = true;
	return 0;
}

static void stop_pass(struct seccomp_engine *e)
{
	uint64_t one = 1;

	if (!e->pass_running)
		return;
	(void)!write(e->pass_stop, &one, sizeof(one));
	pthread_join(e->pass_thread, NULL);
	e->pass_running = false;
}

static int seccomp_start(void *state, struct run_ctx *c)
{
	struct seccomp_engine *e = state;
	const struct playbook *pb = c->pb;
	int listener = target_listener(c->target);

	stop_pass(e);
	if (listener < 0)
		return 0;
	return notify_start(listener, c->pid, pb->faults, c->prep->backends, pb->n_faults,
			    c->t0 + pb->phase_ns[PHASE_BASELINE], pb->phase_ns[PHASE_FAULT],
			    c->seed, e->shared, &e->notify);
}

static void seccomp_disarm(void *state)
{
	struct seccomp_engine *e = state;

	if (e->notify)
		notify_disarm(e->notify);
}

static void seccomp_stop(void *state)
{
	struct seccomp_engine *e = state;

	stop_pass(e);
	if (e->notify)
		notify_stop(e->notify);
}

static void seccomp_counters(void *state, size_t i, struct fault_result *ret)
{
	struct seccomp_engine *e = state;
	struct notify_fault_counters k = { 0 };

	if (!e->notify)
		return;
	notify_counters(e->notify, i, &k);
	ret->seen = k.seen;
	ret->delayed = k.delayed;
	ret->failed = k.failed;
	ret->delay_total_ns = k.delay_total_ns;
}

static void seccomp_free(void *state)
{
	struct seccomp_engine *e = state;

	if (!e)
		return;
	stop_pass(e);
	e->notify = notify_free(e->notify);
	if (e->pass_stop >= 0)
		close(e->pass_stop);
	if (e->shared)
		notify_shared_free(e->shared);
	if (e->filter)
		notify_free_filter(e->filter);
	free(e);
}

const struct engine_ops engine_seccomp = {
	.name = "seccomp",
	.backend = FAULT_BACKEND_SECCOMP,
	.prepare = seccomp_prepare,
	.launched = seccomp_launched,
	.start = seccomp_start,
	.disarm = seccomp_disarm,
	.stop = seccomp_stop,
	.counters = seccomp_counters,
	.free = seccomp_free,
};
