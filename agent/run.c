// SPDX-License-Identifier: Apache-2.0
/* The runner: launch the target, wait until it is ready, then drive the
 * baseline, fault and recovery phases with the load, the sampler and the
 * fault backends running; watch stop conditions, the target and signals;
 * revert, evaluate the gates and write the reports. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FG_LOG_COMPONENT "agent"
#include "cleanup.h"
#include "delayacct.h"
#include "engine.h"
#include "journal.h"
#include "load.h"
#include "log.h"
#include "progress.h"
#include "report.h"
#include "results.h"
#include "run.h"
#include "sampler.h"
#include "target.h"
#include "units.h"

#define TICK_NS (100 * FG_NSEC_PER_MSEC)
#define SAMPLE_NS (100 * FG_NSEC_PER_MSEC)
#define LOG_TAIL_LINES 10

/* Where a fault's window stands, for the arm/disarm log lines. */
enum window_state {
	WINDOW_PENDING,
	WINDOW_ARMED,
	WINDOW_DONE,
};

/* The engines this build has; a run uses those its faults need. */
static const struct engine_ops *const engines[] = {
	&engine_env,
	&engine_seccomp,
	&engine_ptrace,
	&engine_gomaxprocs,
	&engine_preload,
	&engine_affinity,
};
#define N_ENGINES (sizeof(engines) / sizeof(engines[0]))

struct runner {
	const struct playbook *pb;
	const struct run_options *opts;
	const char *dir;
	char log_path[PATH_MAX];
	struct run_prep prep;
	struct target_spec spec; /* the playbook's, environment extended */
	char **env;		 /* owned array behind spec.env */
	char **env_added;	 /* owned "KEY=VALUE" strings */
	size_t n_added;
	struct target_launch_opts launch_opts;
	struct run_ctx ctx;
	void *engine_state[N_ENGINES];
	bool engine_on[N_ENGINES];
	struct target *target;
	struct journal *journal;	/* DIR/journal, closed at the very end */
	pid_t guardian;
	struct load *load;
	struct sampler *sampler;
	struct delayacct delayacct;
	int sigfd;
	bool sig_blocked;
	sigset_t oldmask;
	int64_t t0;
	int64_t stop_ns; /* when the loop ended */
	int phase;	 /* current phase, -1 before the first tick */
	enum window_state *windows;
	struct progress progress;
	struct run_results res;
	char fail_reason[600];	/* why the target could not be started */
};

static int64_t total_ns(const struct playbook *pb)
{
	return pb->phase_ns[PHASE_BASELINE] + pb->phase_ns[PHASE_FAULT] +
	       pb->phase_ns[PHASE_RECOVERY];
}

static int phase_at(const struct playbook *pb, int64_t elapsed)
{
	int64_t t = 0;

	for (int p = 0; p < PHASE_MAX; p++) {
		t += pb->phase_ns[p];
		if (elapsed < t)
			return p;
	}
	return PHASE_MAX;
}

static int64_t phase_start(const struct playbook *pb, int phase)
{
	int64_t t = 0;

	for (int p = 0; p < phase && p < PHASE_MAX; p++)
		t += pb->phase_ns[p];
	return t;
}

static void window_of(const struct runner *r, size_t i, int64_t *from,
		      int64_t *to)
{
	const struct playbook *pb = r->pb;
	const struct fault_spec *f = &pb->faults[i];
	int64_t base = pb->phase_ns[PHASE_BASELINE];

	if (r->prep.faults[i].backend == FAULT_BACKEND_ENV) {
		/* Set through the environment: in force from exec to exit. */
		*from = 0;
		*to = total_ns(pb);
		return;
	}
	*from = base + f->at_ns;
	*to = base + fault_window_end(f, pb->phase_ns[PHASE_FAULT]);
}

/* Whether "KEY=..." @kv names a key of one of the @n entries of @list. */
static bool env_has_key(char *const *list, size_t n, const char *kv)
{
	size_t len = strcspn(kv, "=");

	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i], kv, len) == 0 && list[i][len] == '=')
			return true;
	return false;
}

int run_ctx_add_env(struct run_ctx *c, const char *key, const char *value)
{
	struct runner *r = c->runner;
	const struct target_spec *t = &r->pb->target;
	char **env, **added;
	size_t n;
	char *kv;

	if (asprintf(&kv, "%s=%s", key, value) < 0)
		return -ENOMEM;
	added = realloc(r->env_added, (r->n_added + 1) * sizeof(*added));
	if (!added) {
		free(kv);
		return -ENOMEM;
	}
	r->env_added = added;
	r->env_added[r->n_added++] = kv;
	env = realloc(r->env, (t->n_env + r->n_added + 1) * sizeof(*env));
	if (!env)
		return -ENOMEM;
	r->env = env;
	/* getenv() and Go's runtime take the first entry of a name: the
	 * playbook's entry for a name we set is left out, not shadowed. */
	n = 0;
	for (size_t i = 0; i < t->n_env; i++)
		if (!env_has_key(r->env_added, r->n_added, t->env[i]))
			env[n++] = t->env[i];
	for (size_t i = 0; i < r->n_added; i++)
		env[n++] = r->env_added[i];
	env[n] = NULL;
	r->spec.env = env;
	r->spec.n_env = n;
	return 0;
}

void run_ctx_window(const struct run_ctx *c, size_t i, int64_t *ret_from, int64_t *ret_to)
{
	window_of(c->runner, i, ret_from, ret_to);
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static bool engine_needed(const struct runner *r, const struct engine_ops *e)
{
	for (size_t i = 0; i < r->pb->n_faults; i++)
		if (engine_serves(e, &r->ctx, i) || engine_assists(e, &r->ctx, i))
			return true;
	return false;
}

/* The engine serving fault @i, or -1. */
static int engine_of(const struct runner *r, size_t i)
{
	for (size_t k = 0; k < N_ENGINES; k++)
		if (r->engine_on[k] && engine_serves(engines[k], &r->ctx, i))
			return (int)k;
	return -1;
}

/* kernel.task_delayacct on before the target starts, so that all its
 * threads count fully; a failure only costs the delays that need it. */
static void delay_accounting_on(struct runner *r)
{
	struct vitals_info *vi = &r->res.vitals;
	int k;

	r->delayacct.guard_fd = -1;
	k = delayacct_on(&r->delayacct, vi->delayacct_why, sizeof(vi->delayacct_why));
	vi->delayacct_before = r->delayacct.old;
	vi->delayacct_on = k == 0;
	if (k < 0)
		log_warn("kernel.task_delayacct stays off (%s): block-I/O, swap-in, reclaim and "
			 "thrashing delays will be missing, continuing", vi->delayacct_why);
	else if (r->delayacct.switched)
		log_info("kernel.task_delayacct switched on for the run (was 0)");
}

static int open_journal(struct runner *r)
{
	char path[PATH_MAX];
	int k;

	snprintf(path, sizeof(path), "%s/journal", r->dir);
	k = journal_open(path, &r->journal);
	if (k < 0)
		return log_error_errno(k, "create the journal '%s'", path);
	r->ctx.journal = r->journal;
	return 0;
}

/* Once the target is known: its identity in the journal, and a guardian
 * that replays the journal should this process die without closing it. */
static void guard_target(struct runner *r)
{
	pid_t pid = target_pid(r->target);
	int k;

	k = journal_target(r->journal, pid);
	if (k < 0)
		(void)log_warn_errno(k, "journal the target, continuing");
	r->guardian = journal_guardian_start(journal_path(r->journal));
	if (r->guardian < 0) {
		(void)log_warn_errno(r->guardian,
				     "start the guardian; if faultgate is killed, "
				     "run 'faultgate recover --journal %s'",
				     journal_path(r->journal));
		r->guardian = 0;
	}
}

/* After every engine reverted: whatever is still open in the journal (an
 * engine that could not revert, or forgot to say so) is replayed, then the
 * journal is closed and the guardian dismissed. */
static void close_journal(struct runner *r)
{
	int left = 0, reverted = 0, failed = 0, k;

	if (!r->journal)
		return;
	if (journal_state(journal_path(r->journal), &left) >= 0 && left > 0) {
		k = journal_replay(journal_path(r->journal), &reverted, &failed);
		if (k < 0)
			log_error("%d change%s could not be reverted; see 'faultgate recover "
				  "--journal %s'", failed, failed == 1 ? "" : "s",
				  journal_path(r->journal));
		else
			log_info("reverted %d change%s left in the journal", reverted,
				 reverted == 1 ? "" : "s");
		if (k < 0) {
			/* Leave it open: the guardian and `recover` retry. */
			return;
		}
	}
	r->journal = journal_close(r->journal);
	r->ctx.journal = NULL;
	if (r->guardian > 0 && journal_guardian_stop(r->guardian) < 0)
		log_debug("guardian %d did not end yet", (int)r->guardian);
	r->guardian = 0;
}

/* Until the run writes its own, the report directory says that a run is
 * under way, and, should faultgate be killed before the end, that it did
 * not finish: a report of an earlier run must never pass for this one's. */
static void write_unfinished(struct runner *r, const char *why)
{
	struct run_results u = { .pb = r->pb, .verdict = VERDICT_ERROR };
	char path[PATH_MAX];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(u.started_at, sizeof(u.started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (why)
		snprintf(u.verdict_reason, sizeof(u.verdict_reason), "%s", why);
	else
		snprintf(u.verdict_reason, sizeof(u.verdict_reason),
			 "the run that started at %s did not finish: faultgate (pid %d) ended "
			 "before it wrote its report",
			 u.started_at, (int)getpid());
	fg_utf8_trim(u.verdict_reason);
	if (report_write_json(&u, r->dir) < 0 || report_write_junit(&u, r->dir) < 0)
		log_warn("cannot write the placeholder reports in '%s'", r->dir);
	snprintf(path, sizeof(path), "%s/report.html", r->dir);
	(void)unlink(path);
}

/* Everything before the target exists; nothing to undo on failure. */
static int setup(struct runner *r)
{
	struct fg_error err = {0};
	char line[700];
	int k;

	k = run_prepare(r->pb, &r->prep, &err);
	if (k < 0) {
		/* `inject` wrote the playbook itself: its lines mean nothing. */
		if (r->opts->adhoc)
			err.line = err.col = 0;
		/* the playbook's own error form, as for any bad input */
		fprintf(stderr, "%s\n", fg_error_format(&err, r->pb->path, line, sizeof(line)));
		/* and the reports say so: an earlier run's must not stand */
		if (mkdir_p(r->dir) == 0)
			write_unfinished(r, line);
		return k;
	}
	r->spec = r->pb->target;
	r->ctx = (struct run_ctx){ .pb = r->pb, .prep = &r->prep, .dir = r->dir,
				   .launch = &r->launch_opts, .runner = r };
	k = mkdir_p(r->dir);
	if (k < 0)
		return log_error_errno(k, "create report directory '%s'",
				       r->dir);
	write_unfinished(r, NULL);
	snprintf(r->log_path, sizeof(r->log_path), "%s/target.log", r->dir);
	r->launch_opts.log_path = r->log_path;
	k = open_journal(r);
	if (k < 0)
		return k;
	for (size_t e = 0; e < N_ENGINES; e++) {
		if (!engine_needed(r, engines[e]))
			continue;
		r->engine_on[e] = true;
		k = engines[e]->prepare(&r->ctx, &r->engine_state[e]);
		if (k < 0)
			return log_error_errno(k, "prepare the %s engine",
					       engines[e]->name);
	}
	delay_accounting_on(r);
	return 0;
}

/* Call an optional hook of every engine in use; stop at the first error. */
#define FOR_ENGINES(r, e) \
	for (size_t e = 0; e < N_ENGINES; e++) \
		if ((r)->engine_on[e])

static int engines_launched(struct runner *r)
{
	int k;

	FOR_ENGINES(r, e) {
		if (!engines[e]->launched)
			continue;
		k = engines[e]->launched(r->engine_state[e], &r->ctx);
		if (k < 0)
			return log_error_errno(k, "%s engine", engines[e]->name);
	}
	return 0;
}

static void log_target_tail(const struct runner *r)
{
	char tail[4096];

	target_log_tail(r->log_path, LOG_TAIL_LINES, tail, sizeof(tail));
	if (!tail[0])
		return;
	fprintf(stderr, "faultgate: last lines of %s:\n", r->log_path);
	for (char *p = tail, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		fprintf(stderr, "  %.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
	}
}

/* A process faultgate did not start; run_prepare() selected and checked it. */
static int attach(struct runner *r)
{
	struct fg_error err = {0};
	int k;

	k = target_attach(r->prep.pid, &r->target, &err);
	if (k < 0) {
		log_error("attach: %s", err.msg);
		return k;
	}
	log_info("attached to pid %d (%s); it will be left running",
		 (int)r->prep.pid, r->prep.exe[0] ? r->prep.exe : "?");
	r->ctx.target = r->target;
	r->ctx.pid = r->prep.pid;
	guard_target(r);
	return engines_launched(r);
}

/* The name of the signal waiting in the signalfd ("INT"), consuming it. */
static const char *pending_signal(struct runner *r)
{
	struct signalfd_siginfo si;
	const char *name = NULL;

	if (r->sigfd >= 0 && read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		name = sigabbrev_np((int)si.ssi_signo);
	return name ? name : "?";
}

static int launch(struct runner *r)
{
	struct fg_error err = {0};
	char why[160];
	int k;

	if (r->prep.pid > 0)
		return attach(r);
	k = target_launch(&r->spec, &r->launch_opts, &r->target, &err);
	if (k < 0) {
		snprintf(r->fail_reason, sizeof(r->fail_reason),
			 "launch '%s': %s", r->spec.argv[0],
			 err.msg[0] ? err.msg : strerror(-k));
		log_error("%s", r->fail_reason);
		return k;
	}
	log_info("target '%s' started, pid %d", r->spec.argv[0],
		 (int)target_pid(r->target));
	r->ctx.target = r->target;
	r->ctx.pid = target_pid(r->target);
	guard_target(r);
	k = engines_launched(r);
	if (k < 0)
		return k;
	target_set_cancel_fd(r->target, r->sigfd);
	k = target_wait_ready(r->target, &r->pb->target.ready, &err);
	if (k < 0) {
		if (k == -ECHILD && !err.msg[0])
			snprintf(
			    err.msg, sizeof(err.msg),
			    "target %s before it was ready",
			    target_describe_exit(target_exit_status(r->target),
						 why, sizeof(why)));
		if (k == -EINTR)
			snprintf(err.msg, sizeof(err.msg),
				 "interrupted by SIG%s while waiting for the "
				 "target to be ready", pending_signal(r));
		if (!err.msg[0])
			snprintf(err.msg, sizeof(err.msg),
				 "target not ready: %s", strerror(-k));
		log_error("%s", err.msg);
		memcpy(r->fail_reason, err.msg, sizeof(err.msg));
		if (k != -EINTR)
			log_target_tail(r);
		return k;
	}
	return 0;
}

static int block_signals(struct runner *r)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, &r->oldmask) != 0)
		return -EINVAL;
	r->sig_blocked = true;
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sigfd < 0)
		return -errno;
	return 0;
}

static void unblock_signals(struct runner *r)
{
	struct signalfd_siginfo si;

	if (r->sigfd >= 0) {
		/* Consume what is pending, or unblocking would deliver it. */
		while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		close(r->sigfd);
		r->sigfd = -1;
	}
	if (r->sig_blocked)
		pthread_sigmask(SIG_SETMASK, &r->oldmask, NULL);
	r->sig_blocked = false;
}

static void set_verdict(struct runner *r, enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The first error or abort decides; later ones only add log lines. */
static void set_verdict(struct runner *r, enum verdict v, const char *fmt, ...)
{
	va_list ap;

	if (r->res.verdict == VERDICT_ERROR ||
	    r->res.verdict == VERDICT_ABORTED)
		return;
	r->res.verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->res.verdict_reason, sizeof(r->res.verdict_reason), fmt,
		  ap);
	va_end(ap);
	fg_utf8_trim(r->res.verdict_reason);
}

static int start_backends(struct runner *r)
{
	const struct playbook *pb = r->pb;
	struct fg_error err = {0};
	pid_t pid = target_pid(r->target);
	uint64_t seed = pb->has_seed ? pb->seed : (uint64_t)r->t0;
	int k;

	r->ctx.t0 = r->t0;
	r->ctx.seed = seed;
	FOR_ENGINES(r, e) {
		if (!engines[e]->start)
			continue;
		k = engines[e]->start(r->engine_state[e], &r->ctx);
		if (k < 0)
			return log_error_errno(k, "start the %s engine",
					       engines[e]->name);
	}
	k = sampler_start(pid, r->t0,
			  r->opts->sample_interval_ns > 0 ? r->opts->sample_interval_ns : SAMPLE_NS,
			  &r->sampler);
	if (k < 0)
		return log_error_errno(k, "start sampling pid %d", (int)pid);
	if (pb->load.kind == LOAD_NONE)
		return 0;
	k = load_start(&pb->load, r->t0, pb->phase_ns, &r->load, &err);
	if (k < 0) {
		log_error("start the load: %s",
			  err.msg[0] ? err.msg : strerror(-k));
		return k;
	}
	return 0;
}

static void log_event(struct runner *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_event(struct runner *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	progress_clear(&r->progress);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_info("%s", buf);
}

static void track_phases(struct runner *r, int64_t elapsed)
{
	const struct playbook *pb = r->pb;
	int p = phase_at(pb, elapsed);
	char d[32];

	while (r->phase < p && r->phase < PHASE_MAX - 1) {
		r->phase++;
		log_event(
		    r, "phase %s (%s)", phase_name(r->phase),
		    fg_format_duration(pb->phase_ns[r->phase], d, sizeof(d)));
	}
	r->phase = p;
	for (size_t i = 0; i < pb->n_faults; i++) {
		const char *kind = fault_kind_name(pb->faults[i].kind);
		enum fault_backend b = r->prep.faults[i].backend;
		int64_t from, to;

		window_of(r, i, &from, &to);
		if (r->windows[i] == WINDOW_PENDING && elapsed >= from) {
			r->windows[i] = WINDOW_ARMED;
			log_event(r, "fault %zu %s armed (%s)%s", i + 1, kind,
				  fault_backend_name(b),
				  b == FAULT_BACKEND_ENV
				      ? ", set at launch for the whole run"
				      : "");
		}
		if (r->windows[i] == WINDOW_ARMED && elapsed >= to &&
		    to < total_ns(pb)) {
			r->windows[i] = WINDOW_DONE;
			log_event(r, "fault %zu disarmed", i + 1);
		}
	}
}

static void disarm_all(struct runner *r)
{
	FOR_ENGINES(r, e)
		if (engines[e]->disarm)
			engines[e]->disarm(r->engine_state[e]);
	for (size_t i = 0; i < r->pb->n_faults; i++) {
		if (r->windows[i] != WINDOW_ARMED)
			continue;
		r->windows[i] = WINDOW_DONE;
		/* The environment cannot be taken back; it ends with the target. */
		if (r->prep.faults[i].backend != FAULT_BACKEND_ENV)
			log_event(r, "fault %zu disarmed", i + 1);
	}
}

static void show_progress(struct runner *r, int64_t elapsed)
{
	const struct playbook *pb = r->pb;
	struct progress_state s = {0};
	struct vital_sample v;
	int p = r->phase < PHASE_MAX ? r->phase : PHASE_RECOVERY;

	if (!r->progress.on)
		return;
	s.phase = phase_name(p);
	s.left_s = (double)(phase_start(pb, p) + pb->phase_ns[p] - elapsed) /
		   FG_NSEC_PER_SEC;
	if (r->load) {
		struct load_stats st;

		load_window_stats(r->load, elapsed - FG_NSEC_PER_SEC, elapsed,
				  &st);
		s.has_load = true;
		s.rps = st.seconds > 0 ? (double)st.served / st.seconds
				       : (double)st.requests;
		s.p99_ms =
		    (double)hist_quantile(&st.latency, 0.99) / FG_NSEC_PER_MSEC;
		s.errors = st.errors;
	}
	if (r->sampler && sampler_last(r->sampler, &v) == 0) {
		s.has_vitals = true;
		s.rss_bytes = v.rss_bytes;
		s.threads = v.threads;
	}
	progress_update(&r->progress, &s);
}

/* Return: true when the run must stop now. */
static bool check_target(struct runner *r, int64_t elapsed)
{
	struct target_result *t = &r->res.target;
	char how[96];
	int k;

	k = target_poll(r->target);
	if (k == 0)
		return false;
	if (k < 0) {
		log_event(r,
			  "lost contact with the target's launcher, stopping");
		set_verdict(r, VERDICT_ERROR,
			    "lost contact with the target's launcher");
		return true;
	}
	/* The launcher dates the exit: a runner that looks late (a loaded
	 * machine) still puts it in the right phase. */
	if (target_exit_time(r->target) > 0)
		elapsed = target_exit_time(r->target) - r->t0;
	if (elapsed >= total_ns(r->pb))
		return false;	/* after the run: alive for its whole length */
	if (t->exit_phase >= 0)
		return true;	/* already recorded */
	t->alive = false;
	t->exit_status = target_exit_status(r->target);
	t->exit_s = (double)(elapsed > 0 ? elapsed : 0) / FG_NSEC_PER_SEC;
	t->exit_phase = phase_at(r->pb, elapsed > 0 ? elapsed : 0);
	target_describe_exit(t->exit_status, how, sizeof(how));
	progress_clear(&r->progress);
	if (t->exit_phase == PHASE_BASELINE) {
		log_error(
		    "target %s during the baseline, the experiment cannot run",
		    how);
		set_verdict(r, VERDICT_ERROR, "target %s during the baseline",
			    how);
	} else {
		log_error("target %s during the %s phase, stopping the run",
			  how, phase_name(t->exit_phase));
		snprintf(r->res.verdict_reason, sizeof(r->res.verdict_reason),
			 "target %s during the %s phase", how,
			 phase_name(t->exit_phase));
	}
	return true;
}

static bool check_aborts(struct runner *r, int64_t elapsed)
{
	const struct vital_sample *s = NULL;
	char reason[256];
	size_t n = 0;

	if (!r->pb->n_aborts)
		return false;
	if (r->sampler)
		n = sampler_series(r->sampler, &s);
	for (size_t i = 0; i < r->pb->n_aborts; i++) {
		const struct gate_expr *a = &r->pb->aborts[i];

		reason[0] = '\0';
		if (abort_evaluate(a, r->load, s, n,
				   (double)elapsed / FG_NSEC_PER_SEC, reason,
				   sizeof(reason)) != 1)
			continue;
		disarm_all(r);
		progress_clear(&r->progress);
		/* abort_evaluate() names the condition and the value. */
		log_warn("%s", reason);
		set_verdict(r, VERDICT_ABORTED, "%s", reason);
		return true;
	}
	return false;
}

static bool check_signals(struct runner *r)
{
	struct signalfd_siginfo si;
	const char *name;

	if (read(r->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	disarm_all(r);
	name = sigabbrev_np((int)si.ssi_signo);
	progress_clear(&r->progress);
	if (r->opts->adhoc) {
		log_info("SIG%s: fault reverted", name ? name : "?");
		return true;
	}
	log_warn("interrupted by SIG%s, reverting and stopping",
		 name ? name : "?");
	set_verdict(r, VERDICT_ABORTED, "interrupted by SIG%s",
		    name ? name : "?");
	return true;
}

static void sleep_until(struct runner *r, int64_t deadline)
{
	struct pollfd pfd = {.fd = r->sigfd, .events = POLLIN};
	int64_t left = deadline - fg_now_ns();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = left / FG_NSEC_PER_SEC;
	ts.tv_nsec = left % FG_NSEC_PER_SEC;
	(void)ppoll(&pfd, 1, &ts, NULL);
}

static void main_loop(struct runner *r)
{
	int64_t end = r->t0 + total_ns(r->pb);
	int64_t next = r->t0;

	for (;;) {
		int64_t now = fg_now_ns();
		int64_t elapsed = now - r->t0;

		if (now >= end) {
			track_phases(r, total_ns(r->pb));
			(void)check_target(r, total_ns(r->pb));
			break;
		}
		track_phases(r, elapsed);
		FOR_ENGINES(r, e)
			if (engines[e]->tick)
				engines[e]->tick(r->engine_state[e], &r->ctx,
						 elapsed);
		if (check_signals(r) || check_target(r, elapsed) ||
		    check_aborts(r, elapsed))
			break;
		show_progress(r, elapsed);
		while (next <= now)
			next += TICK_NS;
		sleep_until(r, next < end ? next : end);
	}
	r->stop_ns = fg_now_ns();
	if (r->stop_ns > end)
		r->stop_ns = end;
	progress_clear(&r->progress);
}

/* Revert first, then stop what measures, then the target. */
static void teardown(struct runner *r)
{
	const struct playbook *pb = r->pb;

	disarm_all(r);
	if (r->load)
		load_stop(r->load, r->stop_ns ? r->stop_ns : fg_now_ns());
	if (r->sampler)
		sampler_stop(r->sampler);
	if (r->target) {
		/* An exit the loop had no time to see still counts. */
		if (r->res.target.exit_phase < 0 && r->t0)
			(void)check_target(r, fg_now_ns() - r->t0);
		if (target_stop(r->target, pb->target.stop_grace_ns) < 0)
			log_warn("target pid %d did not end even after SIGKILL",
				 (int)target_pid(r->target));
	}
	FOR_ENGINES(r, e)
		if (engines[e]->stop)
			engines[e]->stop(r->engine_state[e]);
	delayacct_restore(&r->delayacct);
}

static void fill_phases(struct runner *r)
{
	double stop = (double)(r->stop_ns - r->t0) / FG_NSEC_PER_SEC;

	for (int p = 0; p < PHASE_MAX; p++) {
		double from = (double)phase_start(r->pb, p) / FG_NSEC_PER_SEC;
		double to = from + (double)r->pb->phase_ns[p] / FG_NSEC_PER_SEC;

		r->res.phase_start_s[p] = from;
		r->res.phase_end_s[p] =
		    stop > from ? (stop < to ? stop : to) : from - 1;
	}
	r->res.duration_s = stop;
}

static void fill_faults(struct runner *r)
{
	for (size_t i = 0; i < r->pb->n_faults; i++) {
		struct fault_result *fr = &r->res.faults[i];
		int64_t from, to;
		int e = engine_of(r, i);

		window_of(r, i, &from, &to);
		/* A run cut short ends its windows where it stopped. */
		if (r->stop_ns && to > r->stop_ns - r->t0)
			to = r->stop_ns - r->t0;
		fr->backend = r->prep.faults[i].backend;
		fr->window_start_s = (double)from / FG_NSEC_PER_SEC;
		fr->window_end_s = (double)to / FG_NSEC_PER_SEC;
		fr->applied = r->windows[i] != WINDOW_PENDING;
		fr->gomaxprocs_before = -1;
		fr->gomaxprocs_after = -1;
		fr->gomaxprocs_restored = -1;
		if (e >= 0 && engines[e]->counters)
			engines[e]->counters(r->engine_state[e], i, fr);
		fg_utf8_trim(fr->note);
		/* Engines that helped add their counts. */
		FOR_ENGINES(r, k)
			if ((int)k != e && engines[k]->counters &&
			    engine_assists(engines[k], &r->ctx, i))
				engines[k]->counters(r->engine_state[k], i, fr);
	}
}

/* A fault whose window came but that could not be put in place at all
 * means the experiment did not run: verdict error, whatever the gates say.
 * A fault that failed because the target had died is the target's verdict
 * (target.alive), not this. */
static void check_injected(struct runner *r)
{
	for (size_t i = 0; i < r->pb->n_faults; i++) {
		const struct fault_result *fr = &r->res.faults[i];

		if (fr->restore_failed) {
			set_verdict(r, VERDICT_ERROR,
				    "fault %zu (%s) was not reverted: %.160s; 'faultgate recover "
				    "--journal %s/journal' tries again",
				    i + 1, fault_kind_name(r->pb->faults[i].kind), fr->note,
				    r->dir);
			return;
		}
		if (!fr->applied || !fr->inject_failed || !r->res.target.alive)
			continue;
		set_verdict(r, VERDICT_ERROR, "fault %zu (%s) could not be injected: %.160s", i + 1,
			    fault_kind_name(r->pb->faults[i].kind), fr->note);
		return;
	}
}

static void fill_results(struct runner *r)
{
	struct run_results *res = &r->res;

	fill_phases(r);
	res->has_load = r->load != NULL;
	res->load_run = r->load;
	for (int p = 0; r->load && p <= PHASE_ALL; p++)
		load_phase_stats(r->load, p, &res->load[p]);
	if (r->sampler) {
		res->n_samples = sampler_series(r->sampler, &res->samples);
		res->vitals.sampled = true;
		sampler_info(r->sampler, &res->vitals.sampler);
	}
	fill_faults(r);
}

static void init_results(struct runner *r)
{
	struct target_result *t = &r->res.target;
	const struct target_facts *f = &r->prep.facts;

	r->res.pb = r->pb;
	r->res.verdict = VERDICT_PASS;
	t->pid = r->target ? (int)target_pid(r->target) : 0;
	snprintf(t->exe, sizeof(t->exe), "%.*s", (int)sizeof(t->exe) - 1,
		 r->prep.exe[0] ? r->prep.exe
				 : r->spec.argv ? r->spec.argv[0] : "?");
	t->is_go = f->is_go;
	t->is_static = f->is_static;
	snprintf(t->go_version, sizeof(t->go_version), "%s", f->go_version);
	t->alive = true;
	t->exit_status = -1;
	t->exit_s = -1;
	t->exit_phase = -1;
}

static void stamp_start(struct runner *r)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(r->res.started_at, sizeof(r->res.started_at),
		 "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int exit_code(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS:
		return 0;
	case VERDICT_FAIL:
	case VERDICT_ABORTED:
		return 1;
	case VERDICT_ERROR:
	case VERDICT_MAX:
	default:
		return 2;
	}
}

/* Gates, verdict, reports. Return: the exit code. */
static int conclude(struct runner *r)
{
	struct run_results *res = &r->res;
	int failed, k, code;

	failed = gates_evaluate(res);
	if (failed < 0) {
		(void)log_error_errno(failed, "evaluate the gates");
		set_verdict(r, VERDICT_ERROR, "could not evaluate the gates");
	} else if (failed > 0 && res->verdict == VERDICT_PASS) {
		res->verdict = VERDICT_FAIL;
	}
	code = exit_code(res->verdict);
	if (!r->opts->quiet)
		report_console(res, stdout);
	fflush(stdout);
	k = report_write_json(res, r->dir);
	if (k < 0) {
		(void)log_error_errno(k, "write %s/report.json", r->dir);
		code = 2;
	}
	k = report_write_junit(res, r->dir);
	if (k < 0) {
		(void)log_error_errno(k, "write %s/junit.xml", r->dir);
		code = 2;
	}
	k = report_write_html(res, r->dir);
	if (k < 0) {
		(void)log_error_errno(k, "write %s/report.html", r->dir);
		code = 2;
	}
	log_info("verdict %s, reports in %s/", verdict_name(res->verdict),
		 r->dir);
	return code;
}

static void runner_free(struct runner *r)
{
	delayacct_restore(&r->delayacct);
	unblock_signals(r);
	free(r->res.gates);
	free(r->res.faults);
	free(r->windows);
	r->load = load_free(r->load);
	r->sampler = sampler_free(r->sampler);
	/* Engines first: they may still answer the target's syscalls. */
	FOR_ENGINES(r, e) {
		if (engines[e]->disarm && r->engine_state[e])
			engines[e]->disarm(r->engine_state[e]);
	}
	r->target = target_free(r->target);
	FOR_ENGINES(r, e) {
		if (engines[e]->free)
			engines[e]->free(r->engine_state[e]);
		r->engine_state[e] = NULL;
	}
	close_journal(r);
	for (size_t i = 0; i < r->n_added; i++)
		free(r->env_added[i]);
	free(r->env_added);
	free(r->env);
	run_prep_done(&r->prep);
}

/* From readiness to the reports. Return: the exit code. */
/* The target never got to the baseline: still leave report.json and
 * junit.xml, verdict error, so CI finds out why. Return: 2. */
static int conclude_not_started(struct runner *r)
{
	init_results(r);
	r->t0 = r->stop_ns = fg_now_ns();
	r->res.t0_ns = r->t0;
	stamp_start(r);
	r->res.verdict = VERDICT_ERROR;
	snprintf(r->res.verdict_reason, sizeof(r->res.verdict_reason), "%.*s",
		 (int)sizeof(r->res.verdict_reason) - 1,
		 r->fail_reason[0] ? r->fail_reason : "the target could not start");
	fill_results(r);
	(void)conclude(r);
	return 2;
}

static int run_phases(struct runner *r)
{
	r->t0 = fg_now_ns();
	r->res.t0_ns = r->t0;
	stamp_start(r);
	if (start_backends(r) < 0)
		set_verdict(r, VERDICT_ERROR,
			    "could not start the run (see the log)");
	if (r->res.verdict == VERDICT_PASS)
		main_loop(r);
	else
		r->stop_ns = fg_now_ns();
	teardown(r);
	fill_results(r);
	check_injected(r);
	return conclude(r);
}

int run_playbook(const struct playbook *pb, const struct run_options *opts)
{
	struct runner r = {.pb = pb, .opts = opts, .sigfd = -1, .phase = -1};
	int code = 2;
	int k;

	r.dir = opts->report_dir ? opts->report_dir : pb->report_dir;
	r.res.faults =
	    calloc(pb->n_faults ? pb->n_faults : 1, sizeof(*r.res.faults));
	r.windows = calloc(pb->n_faults ? pb->n_faults : 1, sizeof(*r.windows));
	if (!r.res.faults || !r.windows) {
		(void)log_error_errno(-ENOMEM, "start the run");
		goto out;
	}
	progress_init(&r.progress, stderr, opts->progress);
	if (setup(&r) < 0)
		goto out;
	/* From here a signal is read through the signalfd: even while the
	 * target gets ready, Ctrl-C stops it cleanly. */
	k = block_signals(&r);
	if (k < 0) {
		(void)log_error_errno(k, "block signals");
		goto out;
	}
	if (launch(&r) < 0) {
		if (r.target)
			(void)target_stop(r.target, pb->target.stop_grace_ns);
		code = conclude_not_started(&r);
		goto out;
	}
	init_results(&r);
	code = run_phases(&r);
out:
	runner_free(&r);
	return code;
}
