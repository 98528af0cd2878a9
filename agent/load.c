// SPDX-License-Identifier: Apache-2.0
/* The load generator: HTTP requests on a fixed arrival schedule through a
 * libcurl multi handle, or a probe command run every interval, each in a
 * thread of its own. Results go to per-phase and per-second histograms. */
#define FG_LOG_COMPONENT "load"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "load.h"
#include "log.h"
#include "units.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define DEFAULT_HTTP_TIMEOUT_NS (2 * NS_PER_S)
#define DEFAULT_COMMAND_TIMEOUT_NS (5 * NS_PER_S)
/* The thread re-checks its state at least this often. */
#define MAX_WAIT_MS 1000

extern char **environ;

/* One in-flight HTTP request; its easy handle is kept for reuse. */
struct request {
	CURL *easy;
	int64_t intended_ns;	/* monotonic */
	struct request *next_free;
};

struct load {
	enum load_kind kind;
	int64_t t0_ns;
	int64_t phase_end_ns[PHASE_MAX];	/* cumulative, relative to t0 */
	int64_t timeout_ns;

	/* http */
	char *url;
	char *method;
	char *body;
	size_t body_len;
	struct curl_slist *headers;
	struct status_range *ok_status;
	size_t n_ok_status;
	double rate_per_s;
	int connections;
	CURLM *multi;
	struct request *requests;	/* connections of them */
	struct request *free_requests;
	int timer_fd;		/* wakes the poll at the next send time */

	/* command */
	char **argv;
	int64_t every_ns;
	int wake_fd;

	/* Written by load_stop(), read by the thread (atomic builtins). */
	int64_t stop_ns;
	int64_t drain_deadline_ns;

	pthread_t thread;
	bool thread_started;
	bool joined;

	/* Everything below is shared with readers and guarded by lock. */
	pthread_mutex_t lock;
	struct load_stats totals[PHASE_MAX + 1];	/* [PHASE_ALL] = whole run */
	struct load_stats **slots;
	size_t n_slots, cap_slots;
};

/* Milliseconds to wait for @ns, rounded up so a wake-up is never early. */
static int wait_ms(int64_t ns)
{
	if (ns <= 0)
		return 0;
	if (ns >= (int64_t)MAX_WAIT_MS * NS_PER_MS)
		return MAX_WAIT_MS;
	return (int)((ns + NS_PER_MS - 1) / NS_PER_MS);
}

static void stats_init(struct load_stats *st)
{
	st->requests = 0;
	st->errors = 0;
	st->served = 0;
	for (int o = 0; o < LOAD_OUTCOME_MAX; o++)
		st->by_outcome[o] = 0;
	st->seconds = 0;
	hist_init(&st->latency);
}

const char *load_outcome_name(enum load_outcome o)
{
	static const char *const names[LOAD_OUTCOME_MAX] = {
		[LOAD_OK] = "ok", [LOAD_ERR_TIMEOUT] = "timeout",
		[LOAD_ERR_CONNECT] = "connect", [LOAD_ERR_STATUS] = "status",
		[LOAD_ERR_OTHER] = "other",
	};

	return o < LOAD_OUTCOME_MAX ? names[o] : "other";
}

static void stats_add(struct load_stats *st, uint64_t latency_ns, enum load_outcome o)
{
	st->requests++;
	st->by_outcome[o]++;
	if (o != LOAD_OK)
		st->errors++;
	if (o == LOAD_OK || o == LOAD_ERR_TIMEOUT)
		hist_record(&st->latency, latency_ns);
}

static void stats_merge(struct load_stats *dst, const struct load_stats *src)
{
	dst->requests += src->requests;
	dst->errors += src->errors;
	dst->served += src->served;
	for (int o = 0; o < LOAD_OUTCOME_MAX; o++)
		dst->by_outcome[o] += src->by_outcome[o];
	hist_merge(&dst->latency, &src->latency);
}

/* The one-second slot @i, allocated on first use; NULL without memory. */
static struct load_stats *slot_get(struct load *l, size_t i)
{
	if (i >= l->cap_slots) {
		size_t cap = l->cap_slots ? l->cap_slots : 64;
		struct load_stats **slots;

		while (cap <= i)
			cap *= 2;
		slots = realloc(l->slots, cap * sizeof(*slots));
		if (!slots)
			return NULL;
		memset(slots + l->cap_slots, 0, (cap - l->cap_slots) * sizeof(*slots));
		l->slots = slots;
		l->cap_slots = cap;
	}
	if (!l->slots[i]) {
		l->slots[i] = malloc(sizeof(*l->slots[i]));
		if (!l->slots[i])
			return NULL;
		stats_init(l->slots[i]);
		l->slots[i]->seconds = 1.0;
	}
	if (i >= l->n_slots)
		l->n_slots = i + 1;
	return l->slots[i];
}

/* An answer that arrived @rel_ns after t0 counts as served in the phase
 * and the second it arrived in. Called with the lock held. */
static void count_served(struct load *l, int64_t rel_ns)
{
	struct load_stats *slot;

	for (int p = 0; p < PHASE_MAX; p++) {
		if (rel_ns < l->phase_end_ns[p]) {
			l->totals[p].served++;
			break;
		}
	}
	l->totals[PHASE_ALL].served++;
	slot = slot_get(l, rel_ns > 0 ? (size_t)(rel_ns / NS_PER_S) : 0);
	if (slot)
		slot->served++;
}

/* Count one finished request (or probe) meant to start at @intended_ns. */
static void record(struct load *l, int64_t intended_ns, int64_t end_ns, enum load_outcome ok)
{
	int64_t rel = intended_ns - l->t0_ns;
	uint64_t latency = end_ns > intended_ns ? (uint64_t)(end_ns - intended_ns) : 0;
	struct load_stats *slot;

	pthread_mutex_lock(&l->lock);
	/* Requests meant for after the last phase count for the run only. */
	for (int p = 0; p < PHASE_MAX; p++) {
		if (rel < l->phase_end_ns[p]) {
			stats_add(&l->totals[p], latency, ok);
			break;
		}
	}
	stats_add(&l->totals[PHASE_ALL], latency, ok);
	slot = slot_get(l, rel > 0 ? (size_t)(rel / NS_PER_S) : 0);
	if (slot)
		stats_add(slot, latency, ok);
	if (ok == LOAD_OK)
		count_served(l, end_ns - l->t0_ns);
	pthread_mutex_unlock(&l->lock);
}

static int64_t stop_ns(struct load *l)
{
	return __atomic_load_n(&l->stop_ns, __ATOMIC_ACQUIRE);
}

static int64_t drain_deadline_ns(struct load *l)
{
	return __atomic_load_n(&l->drain_deadline_ns, __ATOMIC_ACQUIRE);
}

/*
 * Once load_stop() has been called, work that was due before the end but
 * could not be started within one timeout of the stop (the target was
 * saturated) is counted as failed rather than silently dropped.
 */
static bool drain_expired(struct load *l, int64_t now)
{
	return now >= drain_deadline_ns(l);
}

/* ---- HTTP ---- */

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	return size * nmemb;
}

static int64_t http_intended(const struct load *l, uint64_t i)
{
	return l->t0_ns + (int64_t)llround((double)i * 1e9 / l->rate_per_s);
}

static bool status_ok(const struct load *l, long status)
{
	for (size_t i = 0; i < l->n_ok_status; i++)
		if (status >= l->ok_status[i].lo && status <= l->ok_status[i].hi)
			return true;
	return false;
}

static enum load_outcome http_outcome(const struct load *l, CURLcode res, long status)
{
	/* An if-chain: curl's error enum is open-ended. */
	if (res == CURLE_OK)
		return status_ok(l, status) ? LOAD_OK : LOAD_ERR_STATUS;
	if (res == CURLE_OPERATION_TIMEDOUT)
		return LOAD_ERR_TIMEOUT;
	if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
	    res == CURLE_COULDNT_RESOLVE_PROXY)
		return LOAD_ERR_CONNECT;
	return LOAD_ERR_OTHER;
}

static CURL *easy_new(struct load *l, struct request *req)
{
	long timeout_ms = (long)((l->timeout_ns + NS_PER_MS - 1) / NS_PER_MS);
	CURL *e = curl_easy_init();
	CURLcode c = CURLE_OK;

	if (!e)
		return NULL;
	/* Options are set once; the handle is reused for later requests. */
	c |= curl_easy_setopt(e, CURLOPT_URL, l->url);
	c |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	c |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	c |= curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	c |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
	c |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	c |= curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	if (l->headers)
		c |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, l->headers);
	if (l->body) {
		c |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)l->body_len);
		c |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, l->body);
		c |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, l->method);
	} else if (strcmp(l->method, "HEAD") == 0) {
		c |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(l->method, "GET") != 0) {
		c |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, l->method);
	}
	if (c != CURLE_OK) {
		log_debug("cannot set up a curl handle (code %d)", (int)c);
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

/* Start the request meant for @intended_ns. Return: 0 or -ENOMEM/-EIO. */
static int http_send(struct load *l, int64_t intended_ns)
{
	struct request *req = l->free_requests;

	if (!req)
		return -EAGAIN;	/* the caller keeps in-flight below the cap */
	if (!req->easy) {
		req->easy = easy_new(l, req);
		if (!req->easy)
			return -ENOMEM;
	}
	if (curl_multi_add_handle(l->multi, req->easy) != CURLM_OK)
		return -EIO;
	l->free_requests = req->next_free;
	req->intended_ns = intended_ns;
	return 0;
}

/* Record every finished transfer and recycle its handle. Return: count. */
static int http_collect(struct load *l)
{
	struct CURLMsg *msg;
	int left, n = 0;

	while ((msg = curl_multi_info_read(l->multi, &left))) {
		struct request *req;
		long status = 0;
		void *priv;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		req = priv;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		record(l, req->intended_ns, fg_now_ns(),
		       http_outcome(l, msg->data.result, status));
		curl_multi_remove_handle(l->multi, req->easy);
		req->next_free = l->free_requests;
		l->free_requests = req;
		n++;
	}
	return n;
}

/* Wake the poll at @at_ns exactly (the poll's own timeout is in whole
 * milliseconds, which would make every send up to 1 ms late). */
static void timer_arm(struct load *l, int64_t at_ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = at_ns / NS_PER_S, .tv_nsec = at_ns % NS_PER_S },
	};

	if (at_ns <= 0)
		its.it_value.tv_nsec = 1;
	timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void http_wait(struct load *l, int64_t wait_ns)
{
	struct curl_waitfd extra = { .fd = l->timer_fd, .events = CURL_WAIT_POLLIN };
	uint64_t expirations;

	curl_multi_poll(l->multi, &extra, 1, wait_ms(wait_ns), NULL);
	if (extra.revents)
		(void)!read(l->timer_fd, &expirations, sizeof(expirations));
}

static void *http_main(void *arg)
{
	struct load *l = arg;
	uint64_t next = 0;	/* index of the next request to send */
	int in_flight = 0;

	for (;;) {
		int64_t now = fg_now_ns(), stop = stop_ns(l), due, wait;
		int running, r;

		/* Send everything that is due, oldest first, up to the cap;
		 * the rest waits and its latency keeps growing. */
		for (;;) {
			due = http_intended(l, next);
			if (due >= stop || due > now || in_flight >= l->connections)
				break;
			r = http_send(l, due);
			if (r < 0) {
				(void)log_debug_errno(r, "request %llu not sent",
						      (unsigned long long)next);
				record(l, due, now, LOAD_ERR_OTHER);
			} else {
				in_flight++;
			}
			next++;
		}
		curl_multi_perform(l->multi, &running);
		r = http_collect(l);
		in_flight -= r;
		if (r > 0)
			continue;
		if (due >= stop && in_flight == 0)
			break;
		if (due < stop && drain_expired(l, now)) {
			/* Waited a whole timeout for a free connection. */
			for (; (due = http_intended(l, next)) < stop && due <= now; next++)
				record(l, due, now, LOAD_ERR_TIMEOUT);
			if (in_flight == 0)
				break;
		}

		wait = MAX_WAIT_MS * NS_PER_MS;
		if (due < stop && in_flight < l->connections) {
			wait = due - now;
			timer_arm(l, due);
		}
		if (drain_deadline_ns(l) - now < wait)
			wait = drain_deadline_ns(l) - now;
		http_wait(l, wait);
	}
	return NULL;
}

/* ---- command probes ---- */

/* Sleep until @due_ns or a stop request. */
static void command_wait(struct load *l, int64_t due_ns)
{
	struct pollfd pfd = { .fd = l->wake_fd, .events = POLLIN };

	for (;;) {
		int64_t now = fg_now_ns();
		uint64_t v;

		if (now >= due_ns || due_ns >= stop_ns(l))
			return;
		if (poll(&pfd, 1, wait_ms(due_ns - now)) > 0)
			(void)!read(l->wake_fd, &v, sizeof(v));
	}
}

static int spawn_probe(struct load *l, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int r;

	sigemptyset(&none);
	sigfillset(&all);
	r = -posix_spawn_file_actions_init(&fa);
	if (r < 0)
		return r;
	r = -posix_spawnattr_init(&attr);
	if (r < 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	/* Output is not kept; the probe gets its own process group so a
	 * timeout kills what it started too, and a clean signal state. */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	r = -posix_spawnp(ret_pid, l->argv[0], &fa, &attr, l->argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

/* Run the probe meant for @due_ns to its end or timeout; record it. */
static void command_run(struct load *l, int64_t due_ns)
{
	fg_autoclose int pidfd = -1;
	int64_t deadline;
	siginfo_t si = { 0 };
	enum load_outcome outcome = LOAD_ERR_OTHER;
	bool timed_out = false;
	pid_t pid;
	int r;

	r = spawn_probe(l, &pid);
	if (r < 0) {
		(void)log_debug_errno(r, "cannot run probe '%s'", l->argv[0]);
		record(l, due_ns, fg_now_ns(), LOAD_ERR_OTHER);
		return;
	}
	/* The child cannot be reaped before we wait for it, so its pid is
	 * still ours to open. */
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		(void)log_debug_errno(-errno, "pidfd_open %d", (int)pid);
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		record(l, due_ns, fg_now_ns(), LOAD_ERR_OTHER);
		return;
	}
	deadline = fg_now_ns() + l->timeout_ns;
	for (;;) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		int64_t now = fg_now_ns();

		if (now >= deadline) {
			log_debug("probe %d timed out, killing it", (int)pid);
			kill(-pid, SIGKILL);
			pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			timed_out = true;
			break;
		}
		r = poll(&pfd, 1, wait_ms(deadline - now));
		if (r > 0)
			break;
	}
	while ((r = waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED)) < 0 && errno == EINTR)
		;
	if (r < 0)
		(void)log_debug_errno(-errno, "cannot collect probe %d", (int)pid);
	if (timed_out)
		outcome = LOAD_ERR_TIMEOUT;
	else if (r == 0 && si.si_code == CLD_EXITED && si.si_status == 0)
		outcome = LOAD_OK;
	else if (r == 0)
		outcome = LOAD_ERR_STATUS;
	record(l, due_ns, fg_now_ns(), outcome);
}

static void *command_main(void *arg)
{
	struct load *l = arg;

	/* Probes run one at a time; a slow one delays the next, whose
	 * latency still counts from its own intended start. */
	for (uint64_t i = 0;; i++) {
		int64_t due = l->t0_ns + (int64_t)i * l->every_ns, now;

		command_wait(l, due);
		if (due >= stop_ns(l))
			break;
		now = fg_now_ns();
		if (drain_expired(l, now)) {
			for (; due < stop_ns(l) && due <= now; due += l->every_ns)
				record(l, due, now, LOAD_ERR_TIMEOUT);
			break;
		}
		command_run(l, due);
	}
	return NULL;
}

/* ---- set-up and results ---- */

static char **strv_dup(char *const *v, size_t n)
{
	char **d = calloc(n + 1, sizeof(*d));

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		d[i] = strdup(v[i]);
		if (!d[i]) {
			while (i--)
				free(d[i]);
			free(d);
			return NULL;
		}
	}
	return d;
}

static void curl_global_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_debug("curl_global_init failed");
}

static int http_setup(struct load *l, const struct load_spec *spec, struct fg_error *reterr)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	static const struct status_range default_ok = { 200, 299 };
	CURLU *u;
	bool valid;

	if (!spec->url || spec->rate_per_s <= 0 || !isfinite(spec->rate_per_s) ||
	    spec->connections <= 0)
		return fg_error_set(reterr, EINVAL, spec->line, spec->col,
				    "load: a url, a positive rate and connections are required");
	pthread_once(&once, curl_global_once);
	u = curl_url();
	if (!u)
		return -ENOMEM;
	valid = curl_url_set(u, CURLUPART_URL, spec->url, 0) == CURLUE_OK;
	curl_url_cleanup(u);
	if (!valid)
		return fg_error_set(reterr, EINVAL, spec->line, spec->col,
				    "load: invalid url '%s'", spec->url);

	l->rate_per_s = spec->rate_per_s;
	l->connections = spec->connections;
	l->url = strdup(spec->url);
	l->method = strdup(spec->method ? spec->method : "GET");
	if (!l->url || !l->method)
		return -ENOMEM;
	if (spec->body) {
		l->body_len = strlen(spec->body);
		l->body = strdup(spec->body);
		if (!l->body)
			return -ENOMEM;
	}
	for (size_t i = 0; i < spec->n_headers; i++) {
		struct curl_slist *h = curl_slist_append(l->headers, spec->headers[i]);

		if (!h)
			return -ENOMEM;
		l->headers = h;
	}
	/* No "Expect: 100-continue" round trip in front of bodies. */
	if (spec->body) {
		struct curl_slist *h = curl_slist_append(l->headers, "Expect:");

		if (!h)
			return -ENOMEM;
		l->headers = h;
	}
	l->n_ok_status = spec->n_ok_status ? spec->n_ok_status : 1;
	l->ok_status = calloc(l->n_ok_status, sizeof(*l->ok_status));
	if (!l->ok_status)
		return -ENOMEM;
	if (spec->n_ok_status)
		memcpy(l->ok_status, spec->ok_status, l->n_ok_status * sizeof(*l->ok_status));
	else
		l->ok_status[0] = default_ok;

	l->requests = calloc((size_t)l->connections, sizeof(*l->requests));
	if (!l->requests)
		return -ENOMEM;
	for (int i = l->connections - 1; i >= 0; i--) {
		l->requests[i].next_free = l->free_requests;
		l->free_requests = &l->requests[i];
	}
	l->multi = curl_multi_init();
	if (!l->multi)
		return -ENOMEM;
	curl_multi_setopt(l->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)l->connections);
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)l->connections);
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->timer_fd < 0)
		return -errno;
	if (l->timeout_ns <= 0)
		l->timeout_ns = DEFAULT_HTTP_TIMEOUT_NS;
	return 0;
}

static int command_setup(struct load *l, const struct load_spec *spec, struct fg_error *reterr)
{
	if (!spec->argv || spec->argc == 0 || !spec->argv[0] || spec->every_ns <= 0)
		return fg_error_set(reterr, EINVAL, spec->line, spec->col,
				    "load: a command and a positive interval are required");
	l->argv = strv_dup(spec->argv, spec->argc);
	if (!l->argv)
		return -ENOMEM;
	l->every_ns = spec->every_ns;
	if (l->timeout_ns <= 0)
		l->timeout_ns = DEFAULT_COMMAND_TIMEOUT_NS;
	return 0;
}

/* Start the thread with every signal blocked: signals belong to the runner. */
static int start_thread(struct load *l)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&l->thread, NULL,
			    l->kind == LOAD_HTTP ? http_main : command_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == 0)
		l->thread_started = true;
	return r;
}

int load_start(const struct load_spec *spec, int64_t t0_ns, const int64_t phase_ns[PHASE_MAX],
	       struct load **ret, struct fg_error *reterr)
{
	struct load *l;
	int64_t end = 0;
	int r;

	if (spec->kind != LOAD_HTTP && spec->kind != LOAD_COMMAND)
		return fg_error_set(reterr, EINVAL, spec->line, spec->col,
				    "load: no http or command load");
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	l->wake_fd = -1;
	l->timer_fd = -1;
	l->kind = spec->kind;
	l->t0_ns = t0_ns;
	l->timeout_ns = spec->timeout_ns;
	l->stop_ns = INT64_MAX;
	l->drain_deadline_ns = INT64_MAX;
	for (int p = 0; p < PHASE_MAX; p++) {
		end += phase_ns[p] > 0 ? phase_ns[p] : 0;
		l->phase_end_ns[p] = end;
	}
	/* The schedule ends with the last phase; load_stop() may end it
	 * sooner. Knowing the end up front keeps a request meant for exactly
	 * the end from racing the runner's stop call. */
	if (end > 0)
		l->stop_ns = t0_ns + end;
	for (int p = 0; p <= PHASE_ALL; p++)
		stats_init(&l->totals[p]);

	if (l->kind == LOAD_HTTP) {
		r = http_setup(l, spec, reterr);
	} else {
		r = command_setup(l, spec, reterr);
		if (r == 0) {
			l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (l->wake_fd < 0)
				r = -errno;
		}
	}
	if (r == 0)
		r = start_thread(l);
	if (r < 0) {
		if (r != -EINVAL)
			fg_error_set(reterr, -r, 0, 0, "load: cannot start");
		load_free(l);
		return r;
	}
	*ret = l;
	return 0;
}

/* Length of phase @p that lies before the end of the run. */
static double phase_seconds(const struct load *l, int p, int64_t end_rel)
{
	int64_t from = p > 0 ? l->phase_end_ns[p - 1] : 0, to = l->phase_end_ns[p];

	if (end_rel < to)
		to = end_rel;
	return to > from ? (double)(to - from) / 1e9 : 0.0;
}

void load_stop(struct load *l, int64_t end_ns)
{
	int64_t now = fg_now_ns(), end_rel;
	uint64_t one = 1;

	if (!l || l->joined)
		return;
	/* Only this function writes stop_ns. */
	if (end_ns > l->stop_ns)
		end_ns = l->stop_ns;
	__atomic_store_n(&l->drain_deadline_ns, (end_ns > now ? end_ns : now) + l->timeout_ns,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&l->stop_ns, end_ns, __ATOMIC_RELEASE);
	if (l->thread_started) {
		if (l->multi)
			curl_multi_wakeup(l->multi);
		if (l->wake_fd >= 0)
			(void)!write(l->wake_fd, &one, sizeof(one));
		pthread_join(l->thread, NULL);
	}
	l->joined = true;

	end_rel = end_ns - l->t0_ns;
	pthread_mutex_lock(&l->lock);
	for (int p = 0; p < PHASE_MAX; p++)
		l->totals[p].seconds = phase_seconds(l, p, end_rel);
	l->totals[PHASE_ALL].seconds = end_rel > 0 ? (double)end_rel / 1e9 : 0.0;
	pthread_mutex_unlock(&l->lock);
}

void load_phase_stats(struct load *l, int phase, struct load_stats *ret)
{
	if (phase < 0 || phase > PHASE_ALL) {
		stats_init(ret);
		return;
	}
	pthread_mutex_lock(&l->lock);
	*ret = l->totals[phase];
	pthread_mutex_unlock(&l->lock);
}

void load_window_stats(struct load *l, int64_t from_ns, int64_t to_ns, struct load_stats *ret)
{
	int64_t end_rel, span_end;
	size_t lo, hi;

	stats_init(ret);
	if (to_ns <= from_ns || to_ns <= 0)
		return;
	lo = from_ns > 0 ? (size_t)(from_ns / NS_PER_S) : 0;
	hi = (size_t)((to_ns + NS_PER_S - 1) / NS_PER_S);
	/* The length is that of the whole slots taken, but only the part of
	 * them already past (and before the end), so that a rate over a
	 * window ending now is not diluted by the rest of this second. */
	end_rel = fg_now_ns() - l->t0_ns;
	if (stop_ns(l) - l->t0_ns < end_rel)
		end_rel = stop_ns(l) - l->t0_ns;
	span_end = (int64_t)hi * NS_PER_S;
	if (end_rel < span_end)
		span_end = end_rel;
	if (span_end > (int64_t)lo * NS_PER_S)
		ret->seconds = (double)(span_end - (int64_t)lo * NS_PER_S) / 1e9;
	pthread_mutex_lock(&l->lock);
	for (size_t i = lo; i < hi && i < l->n_slots; i++)
		if (l->slots[i])
			stats_merge(ret, l->slots[i]);
	pthread_mutex_unlock(&l->lock);
}

size_t load_seconds(struct load *l)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = l->n_slots;
	pthread_mutex_unlock(&l->lock);
	return n;
}

void load_second_stats(struct load *l, size_t i, struct load_stats *ret)
{
	stats_init(ret);
	ret->seconds = 1.0;
	pthread_mutex_lock(&l->lock);
	if (i < l->n_slots && l->slots[i])
		*ret = *l->slots[i];
	pthread_mutex_unlock(&l->lock);
}

struct load *load_free(struct load *l)
{
	if (!l)
		return NULL;
	load_stop(l, fg_now_ns());
	if (l->requests) {
		for (int i = 0; i < l->connections; i++)
			if (l->requests[i].easy)
				curl_easy_cleanup(l->requests[i].easy);
		free(l->requests);
	}
	if (l->multi)
		curl_multi_cleanup(l->multi);
	curl_slist_free_all(l->headers);
	free(l->url);
	free(l->method);
	free(l->body);
	free(l->ok_status);
	if (l->argv) {
		for (char **a = l->argv; *a; a++)
			free(*a);
		free(l->argv);
	}
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	for (size_t i = 0; i < l->cap_slots; i++)
		free(l->slots[i]);
	free(l->slots);
	pthread_mutex_destroy(&l->lock);
	free(l);
	return NULL;
}
