// SPDX-License-Identifier: Apache-2.0
/* The gomaxprocs engine, mode live: at the window's start one
 * runtime.GOMAXPROCS(value) call in the running target, the previous value
 * journaled first; at the window's end (and on disarm) a call that puts the
 * original back. */
#define FG_LOG_COMPONENT "gomaxprocs"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gocall.h"
#include "goruntime.h"
#include "journal.h"
#include "log.h"
#include "units.h"

#define CALL_TIMEOUT_NS (2 * 1000000000LL)
#define RESTORE_RETRY_NS (5 * 1000000000LL)
#define LATE_NS (100 * 1000000LL)	/* a change this late is worth a note */

struct gmp_fault {
	bool served, changed, restored, failed;
	bool target_gone;		/* the target had ended */
	bool restore_failed;		/* changed, and not put back */
	int original, after, restored_value, journal_id;
	int64_t change_ns, restore_ns;
	int64_t landed_ns, restored_ns;	/* when each change took effect, since t0 */
	int go_minor;
	char note[192];
};

struct gmp_state {
	struct run_ctx *c;
	struct gmp_fault *f;
	size_t n;
};

static int gmp_prepare(struct run_ctx *c, void **ret_state)
{
	struct gmp_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->c = c;
	s->n = c->pb->n_faults;
	s->f = calloc(s->n ? s->n : 1, sizeof(*s->f));
	if (!s->f) {
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		s->f[i].served = run_ctx_uses(c, i, FAULT_BACKEND_PTRACE) &&
				 c->pb->faults[i].kind == FAULT_GOMAXPROCS;
		s->f[i].original = s->f[i].after = s->f[i].restored_value = -1;
	}
	*ret_state = s;
	return 0;
}

/* The current value without a call when the runtime can be read, else
 * through a read-only GOMAXPROCS(0). Return: the value or -errno. */
static int current_value(pid_t pid)
{
	struct goruntime *rt = NULL;
	struct gocall_result res;
	int v = -1, r;

	r = goruntime_open(pid, &rt);
	if (r == 0)
		r = goruntime_gomaxprocs(rt, &v);
	goruntime_free(rt);
	if (r == 0)
		return v;
	r = gocall_gomaxprocs(pid, 0, CALL_TIMEOUT_NS, &res);
	return r < 0 ? r : res.prev;
}

static void apply(struct gmp_state *s, size_t i, int64_t elapsed_ns)
{
	struct gmp_fault *f = &s->f[i];
	const struct fault_spec *spec = &s->c->pb->faults[i];
	struct gocall_result res;
	pid_t pid = s->c->pid;
	int orig, r;

	orig = current_value(pid);
	if (orig < 0) {
		f->failed = true;
		f->target_gone = orig == -ESRCH;
		snprintf(f->note, sizeof(f->note), "cannot read GOMAXPROCS: %s", strerror(-orig));
		log_warn("fault %zu: %s", i + 1, f->note);
		return;
	}
	if (s->c->journal) {
		r = journal_begin(s->c->journal, "gomaxprocs", "pid=%d value=%d", (int)pid, orig);
		f->journal_id = r > 0 ? r : 0;
	}
	r = gocall_gomaxprocs(pid, spec->gomaxprocs, CALL_TIMEOUT_NS, &res);
	f->go_minor = res.go_minor;
	if (r < 0) {
		f->failed = true;
		f->target_gone = r == -ESRCH;
		snprintf(f->note, sizeof(f->note), "GOMAXPROCS(%d) not applied: %.150s",
			 spec->gomaxprocs, res.why[0] ? res.why : strerror(-r));
		log_warn("fault %zu: %s", i + 1, f->note);
		if (res.in_flight) {
			/* it may still take effect: restore at the end anyway */
			f->changed = true;
			f->original = orig;
			return;
		}
		if (f->journal_id) {
			(void)journal_end(s->c->journal, f->journal_id);
			f->journal_id = 0;
		}
		return;
	}
	f->changed = true;
	f->original = res.prev;
	f->change_ns = res.elapsed_ns;
	f->landed_ns = res.landed_at_ns ? res.landed_at_ns - s->c->t0 : elapsed_ns;
	f->after = current_value(pid);
	log_info("fault %zu: GOMAXPROCS %d -> %d in %.1f ms, in effect at %.3f s%s", i + 1,
		 res.prev, spec->gomaxprocs, (double)res.elapsed_ns / 1e6,
		 (double)f->landed_ns / 1e9,
		 res.via_trigger ? " (through a temporary breakpoint)" : "");
	if (f->go_minor >= 25)
		snprintf(f->note, sizeof(f->note),
			 "Go 1.%d: the runtime's automatic GOMAXPROCS updates stay off after "
			 "a call, until runtime.SetDefaultGOMAXPROCS runs",
			 f->go_minor);
}

static void restore(struct gmp_state *s, size_t i)
{
	struct gmp_fault *f = &s->f[i];
	struct gocall_result res;
	int r;

	if (!f->changed || f->restored)
		return;
	f->restored = true;
	r = gocall_gomaxprocs(s->c->pid, f->original, CALL_TIMEOUT_NS, &res);
	if (r == -ETIMEDOUT) {
		/* an idle or stopped service: one longer try before the
		 * reports are written (a foreign tracer would refuse again) */
		log_warn("fault %zu: GOMAXPROCS %d not put back yet (%.150s); trying again", i + 1,
			 f->original, res.why[0] ? res.why : strerror(-r));
		r = gocall_gomaxprocs(s->c->pid, f->original, RESTORE_RETRY_NS, &res);
	}
	if (r == -ESRCH) {
		f->target_gone = true;
		snprintf(f->note, sizeof(f->note),
			 "the target ended before GOMAXPROCS was put back");
		log_info("fault %zu: the target has ended; no GOMAXPROCS to put back", i + 1);
		if (f->journal_id)
			(void)journal_end(s->c->journal, f->journal_id);
		return;
	}
	if (r < 0) {
		f->restore_failed = true;
		snprintf(f->note, sizeof(f->note), "GOMAXPROCS %d was not put back: %.150s",
			 f->original, res.why[0] ? res.why : strerror(-r));
		log_error("fault %zu: %s", i + 1, f->note);
		return;
	}
	f->restore_ns = res.elapsed_ns;
	f->restored_ns = res.landed_at_ns ? res.landed_at_ns - s->c->t0 : fg_now_ns() - s->c->t0;
	f->restored_value = current_value(s->c->pid);
	if (f->journal_id)
		(void)journal_end(s->c->journal, f->journal_id);
	log_info("fault %zu: GOMAXPROCS back to %d in %.1f ms", i + 1, f->original,
		 (double)res.elapsed_ns / 1e6);
}

static void gmp_tick(void *state, struct run_ctx *c, int64_t elapsed_ns)
{
	struct gmp_state *s = state;

	for (size_t i = 0; i < s->n; i++) {
		struct gmp_fault *f = &s->f[i];
		int64_t from, to;

		if (!f->served || f->failed)
			continue;
		run_ctx_window(c, i, &from, &to);
		if (!f->changed && elapsed_ns >= from && elapsed_ns < to) {
			apply(s, i, elapsed_ns);
		} else if (!f->changed && elapsed_ns >= to) {
			/* the runner was held up (another call) past the whole
			 * window: too late to apply it now */
			f->failed = true;
			snprintf(f->note, sizeof(f->note),
				 "not applied: its window (%.2f-%.2f s) had passed by %.2f s, "
				 "while another call was under way",
				 (double)from / 1e9, (double)to / 1e9, (double)elapsed_ns / 1e9);
			log_warn("fault %zu: %s", i + 1, f->note);
		} else if (f->changed && elapsed_ns >= to) {
			restore(s, i);
		}
	}
}

static void gmp_disarm(void *state)
{
	struct gmp_state *s = state;

	for (size_t i = 0; i < s->n; i++)
		restore(s, i);
}

/* Say so when the value was in effect later than planned, or into the
 * recovery phase, where recovery gates would measure the fault. */
static void late_note(const struct gmp_state *s, size_t i, const struct gmp_fault *f,
		      struct fault_result *ret)
{
	const struct playbook *pb = s->c->pb;
	int64_t from, to, fault_end = pb->phase_ns[PHASE_BASELINE] + pb->phase_ns[PHASE_FAULT];
	size_t len = strlen(ret->note);

	run_ctx_window(s->c, i, &from, &to);
	if (f->landed_ns - from < LATE_NS && (f->restored_ns <= 0 || f->restored_ns - to < LATE_NS))
		return;
	snprintf(ret->note + len, sizeof(ret->note) - len,
		 "%sin effect %.2f-%.2f s, planned %.2f-%.2f s%s", len ? "; " : "",
		 (double)f->landed_ns / 1e9,
		 (double)(f->restored_ns > 0 ? f->restored_ns : to) / 1e9, (double)from / 1e9,
		 (double)to / 1e9,
		 f->restored_ns > fault_end ? " (into the recovery phase)" : "");
}

static void gmp_counters(void *state, size_t i, struct fault_result *ret)
{
	struct gmp_state *s = state;
	const struct gmp_fault *f;

	if (i >= s->n || !s->f[i].served)
		return;
	f = &s->f[i];
	ret->inject_failed = f->failed && !f->changed;
	ret->restore_failed = f->restore_failed;
	/* The window is when the value was in effect, which a slow call (an
	 * idle service) moves away from the planned one. */
	if (f->changed && f->landed_ns > 0)
		ret->window_start_s = (double)f->landed_ns / 1e9;
	if (f->restored_ns > 0)
		ret->window_end_s = (double)f->restored_ns / 1e9;
	ret->gomaxprocs_before = f->original;
	ret->gomaxprocs_after = f->after;
	ret->gomaxprocs_restored = f->restored_value;
	ret->change_ns = f->change_ns;
	ret->restore_ns = f->restore_ns;
	if (f->note[0])
		snprintf(ret->note, sizeof(ret->note), "%s", f->note);
	if (f->changed)
		late_note(s, i, f, ret);
}

static void gmp_free(void *state)
{
	struct gmp_state *s = state;

	if (!s)
		return;
	free(s->f);
	free(s);
}

const struct engine_ops engine_gomaxprocs = {
	.name = "gomaxprocs",
	.backend = FAULT_BACKEND_PTRACE,
	.kinds = 1u << FAULT_GOMAXPROCS,
	.prepare = gmp_prepare,
	.tick = gmp_tick,
	.disarm = gmp_disarm,
	.counters = gmp_counters,
	.free = gmp_free,
};

/* The journal's replayer (guardian, `faultgate recover`) reverts gomaxprocs
 * entries through this hook. */
int journal_gomaxprocs_restore(pid_t pid, int value)
{
	return gocall_restore_gomaxprocs(pid, value);
}
