// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the load generator against a small keep-alive HTTP server
 * run in a thread of the test, on loopback, and of command probes. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define MS 1000000LL
#define SRV_MAX_CONNS 128

/* ---- the test server ---- */

struct srv_conn {
	int fd;
	char buf[4096];
	size_t len;
	bool pending;		/* a request waits for its answer */
	int64_t respond_at;
	int status;		/* 0: close without answering */
	size_t consumed;
};

struct server {
	int listen_fd, stop_fd;
	uint16_t port;
	pthread_t thread;
	/* The request with this index (from 0) is held for stall_ms. */
	long stall_at;
	int stall_ms;
	/* Read by the test after server_stop(). */
	unsigned accepted;
	unsigned requests;
	struct srv_conn conns[SRV_MAX_CONNS];
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void conn_close(struct srv_conn *c)
{
	close(c->fd);
	c->fd = -1;
}

/* Parse one complete request in c->buf, if there is one. */
static void conn_parse(struct server *s, struct srv_conn *c)
{
	char *end, *cl;
	size_t head, body = 0;
	int delay_ms = 0;

	c->buf[c->len] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return;
	head = (size_t)(end - c->buf) + 4;
	cl = strcasestr(c->buf, "\r\ncontent-length:");
	if (cl && cl < end)
		body = strtoul(cl + 17, NULL, 10);
	if (c->len < head + body)
		return;
	c->consumed = head + body;
	c->status = 200;
	if (strstr(c->buf, " /err"))
		c->status = 500;
	else if (strstr(c->buf, " /drop"))
		c->status = 0;
	else if (strstr(c->buf, " /slow?ms="))
		delay_ms = (int)strtol(strstr(c->buf, "?ms=") + 4, NULL, 10);
	if (s->requests == s->stall_at)
		delay_ms = s->stall_ms;
	s->requests++;
	c->pending = true;
	c->respond_at = mono_ns() + delay_ms * MS;
}

static void conn_answer(struct srv_conn *c)
{
	char resp[128];
	int n;

	c->pending = false;
	if (c->status == 0) {
		conn_close(c);
		return;
	}
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nok",
		     c->status);
	if (send(c->fd, resp, (size_t)n, MSG_NOSIGNAL) != n) {
		conn_close(c);
		return;
	}
	memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
	c->len -= c->consumed;
}

static void server_accept(struct server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (int i = 0; i < SRV_MAX_CONNS; i++) {
		if (s->conns[i].fd < 0) {
			memset(&s->conns[i], 0, sizeof(s->conns[i]));
			s->conns[i].fd = fd;
			s->accepted++;
			return;
		}
	}
	close(fd);
}

static void server_read(struct server *s, struct srv_conn *c)
{
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (!c->pending)
		conn_parse(s, c);
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	for (;;) {
		struct pollfd pfd[SRV_MAX_CONNS + 2];
		int idx[SRV_MAX_CONNS + 2];
		int n = 2, timeout = -1;
		int64_t now = mono_ns();

		pfd[0] = (struct pollfd){ .fd = s->stop_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		for (int i = 0; i < SRV_MAX_CONNS; i++) {
			struct srv_conn *c = &s->conns[i];

			if (c->fd < 0)
				continue;
			if (c->pending && c->respond_at <= now) {
				conn_answer(c);
				/* A pipelined request may be waiting already. */
				if (c->fd >= 0 && !c->pending && c->len)
					conn_parse(s, c);
				if (c->fd < 0)
					continue;
			}
			if (c->pending) {
				int ms = (int)((c->respond_at - now + MS - 1) / MS);

				if (timeout < 0 || ms < timeout)
					timeout = ms < 0 ? 0 : ms;
			}
			pfd[n] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
			idx[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0)
			continue;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN)
			server_accept(s);
		for (int k = 2; k < n; k++)
			if (pfd[k].revents && s->conns[idx[k]].fd >= 0)
				server_read(s, &s->conns[idx[k]]);
	}
	for (int i = 0; i < SRV_MAX_CONNS; i++)
		if (s->conns[i].fd >= 0)
			conn_close(&s->conns[i]);
	return NULL;
}

static struct server *server_start(long stall_at, int stall_ms)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < SRV_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	s->stall_at = stall_at;
	s->stall_ms = stall_ms;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(s->listen_fd, 0);
	ck_assert_int_eq(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->listen_fd, 128), 0);
	ck_assert_int_eq(getsockname(s->listen_fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_ge(s->stop_fd, 0);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
	return s;
}

static void server_stop(struct server *s)
{
	uint64_t one = 1;

	ck_assert_int_eq(write(s->stop_fd, &one, sizeof(one)), sizeof(one));
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	close(s->stop_fd);
}

/* A port on loopback where nothing listens. */
static uint16_t closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- helpers ---- */

struct run {
	struct load *load;
	int64_t t0;
	struct load_stats all;
};

static void http_spec(struct load_spec *spec, char *url, double rate, int conns,
		      int64_t timeout_ns)
{
	memset(spec, 0, sizeof(*spec));
	spec->kind = LOAD_HTTP;
	spec->url = url;
	spec->rate_per_s = rate;
	spec->connections = conns;
	spec->timeout_ns = timeout_ns;
}

/* Run @spec for @len_ns as one baseline phase; results in @run. */
static void run_for(struct run *run, const struct load_spec *spec, int64_t len_ns)
{
	int64_t phases[PHASE_MAX] = { len_ns, 0, 0 };
	struct fg_error err = { 0 };

	run->t0 = mono_ns() + 50 * MS;
	ck_assert_int_eq(load_start(spec, run->t0, phases, &run->load, &err), 0);
	sleep_until(run->t0 + len_ns);
	load_stop(run->load, run->t0 + len_ns);
	load_phase_stats(run->load, PHASE_ALL, &run->all);
}

static char *url_of(struct server *s, const char *path)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "http://127.0.0.1:%u%s", s->port, path);
	return buf;
}

/* ---- tests ---- */

START_TEST(load_http_rate_and_reuse)
{
	struct server *s = server_start(-1, 0);
	struct load_spec spec;
	struct load_stats *w = malloc(sizeof(*w));
	struct run run;
	int64_t phases[PHASE_MAX] = { 2000 * MS, 0, 0 };
	struct fg_error err = { 0 };

	ck_assert_ptr_nonnull(w);
	http_spec(&spec, url_of(s, "/"), 200, 64, 2000 * MS);
	run.t0 = mono_ns() + 50 * MS;
	ck_assert_int_eq(load_start(&spec, run.t0, phases, &run.load, &err), 0);
	/* Live windows are readable while the thread runs. */
	sleep_until(run.t0 + 1200 * MS);
	load_window_stats(run.load, 0, 1000 * MS, w);
	ck_assert_uint_eq(w->requests, 200);
	ck_assert(w->seconds == 1.0);
	ck_assert_uint_ge(load_seconds(run.load), 2);
	/* A window that ends now counts only the time already past. */
	load_window_stats(run.load, 200 * MS, 1200 * MS, w);
	ck_assert_msg(w->seconds > 1.19 && w->seconds < 1.3, "seconds %g", w->seconds);
	ck_assert_uint_ge(w->requests, 230);
	ck_assert_uint_le(w->requests, 242);
	sleep_until(run.t0 + 2000 * MS);
	load_stop(run.load, run.t0 + 2000 * MS);
	load_stop(run.load, run.t0 + 2000 * MS);
	load_phase_stats(run.load, PHASE_ALL, &run.all);
	server_stop(s);

	/* 200/s for 2 s: 400 requests (+-2% allowed, exact expected). */
	ck_assert_uint_ge(run.all.requests, 392);
	ck_assert_uint_le(run.all.requests, 408);
	ck_assert_uint_eq(run.all.errors, 0);
	ck_assert_uint_eq(run.all.served, run.all.requests);
	ck_assert_uint_eq(s->requests, run.all.requests);
	/* Keep-alive: a few connections serve everything (on a quiet host,
	 * one or two; more when the server thread is starved of CPU). */
	ck_assert_uint_le(s->accepted, run.all.requests / 10);
	load_second_stats(run.load, 1, w);
	ck_assert_uint_eq(w->requests, 200);
	load_window_stats(run.load, 0, 2000 * MS, w);
	ck_assert_uint_eq(w->requests, run.all.requests);
	ck_assert(w->seconds == 2.0);
	ck_assert(run.all.seconds == 2.0);
	fprintf(stderr, "# rate: %llu requests, %u connections, p50 %.3f ms p99 %.3f ms\n",
		(unsigned long long)run.all.requests, s->accepted,
		hist_quantile(&run.all.latency, 0.5) / 1e6,
		hist_quantile(&run.all.latency, 0.99) / 1e6);
	free(w);
	load_free(run.load);
	free(s);
}
END_TEST

START_TEST(load_http_latency_of_slow_handler)
{
	struct server *s = server_start(-1, 0);
	struct load_spec spec;
	struct run run;
	uint64_t p50;

	http_spec(&spec, url_of(s, "/slow?ms=20"), 20, 8, 2000 * MS);
	run_for(&run, &spec, 1000 * MS);
	server_stop(s);
	p50 = hist_quantile(&run.all.latency, 0.5);
	fprintf(stderr, "# 20 ms handler: p50 %.3f ms max %.3f ms\n", p50 / 1e6,
		run.all.latency.max_ns / 1e6);
	ck_assert_uint_eq(run.all.requests, 20);
	ck_assert_uint_eq(run.all.errors, 0);
	ck_assert_uint_ge(run.all.latency.min_ns, 20 * MS);
	ck_assert_uint_le(p50, 30 * MS);
	load_free(run.load);
	free(s);
}
END_TEST

START_TEST(load_http_coordinated_omission)
{
	/* One connection, 100/s, request 50 stalls 500 ms: the 50 requests
	 * due meanwhile wait behind it and must show that wait. */
	struct server *s = server_start(50, 500);
	struct load_spec spec;
	struct run run;
	uint64_t p50, p99;

	http_spec(&spec, url_of(s, "/"), 100, 1, 2000 * MS);
	run_for(&run, &spec, 2000 * MS);
	server_stop(s);
	p50 = hist_quantile(&run.all.latency, 0.5);
	p99 = hist_quantile(&run.all.latency, 0.99);
	fprintf(stderr, "# stall: %llu requests, p50 %.3f ms p90 %.3f ms p99 %.3f ms\n",
		(unsigned long long)run.all.requests, p50 / 1e6,
		hist_quantile(&run.all.latency, 0.9) / 1e6, p99 / 1e6);
	ck_assert_uint_eq(run.all.requests, 200);
	ck_assert_uint_eq(run.all.errors, 0);
	ck_assert_uint_ge(p99, 250 * MS);
	ck_assert_uint_ge(run.all.latency.max_ns, 490 * MS);
	ck_assert_uint_lt(p50, 50 * MS);
	ck_assert_uint_eq(s->accepted, 1);
	load_free(run.load);
	free(s);
}
END_TEST

/* Throughput is what the target answered, by arrival time: a target that
 * can serve 50/s falls behind an offer of 100/s. */
START_TEST(load_http_served)
{
	struct server *s = server_start(-1, 0);
	struct load_spec spec;
	struct load_stats first;
	struct run run;

	http_spec(&spec, url_of(s, "/slow?ms=20"), 100, 1, 5000 * MS);
	run_for(&run, &spec, 1000 * MS);
	load_second_stats(run.load, 0, &first);
	fprintf(stderr, "# served: offered %llu in the first second, answered %llu\n",
		(unsigned long long)first.requests, (unsigned long long)first.served);
	ck_assert_uint_eq(first.requests, 100);
	ck_assert_uint_le(first.served, 60);
	ck_assert_uint_ge(first.served, 20);
	load_free(run.load);
	server_stop(s);
	free(s);
}
END_TEST

START_TEST(load_http_errors)
{
	struct server *s = server_start(-1, 0);
	struct load_spec spec;
	struct run run;
	char url[64];

	http_spec(&spec, url_of(s, "/err"), 50, 8, 1000 * MS);
	run_for(&run, &spec, 500 * MS);
	ck_assert_uint_eq(run.all.requests, 25);
	ck_assert_uint_eq(run.all.errors, 25);
	ck_assert_uint_eq(run.all.by_outcome[LOAD_ERR_STATUS], 25);
	/* Failed answers do not count as latency. */
	ck_assert_uint_eq(run.all.latency.count, 0);
	load_free(run.load);

	/* 500 is fine when ok_status says so. */
	spec.ok_status = (struct status_range[]){ { 200, 299 }, { 500, 500 } };
	spec.n_ok_status = 2;
	run_for(&run, &spec, 500 * MS);
	ck_assert_uint_eq(run.all.requests, 25);
	ck_assert_uint_eq(run.all.errors, 0);
	load_free(run.load);

	/* Closed without a reply. */
	http_spec(&spec, url_of(s, "/drop"), 50, 8, 1000 * MS);
	run_for(&run, &spec, 500 * MS);
	ck_assert_uint_eq(run.all.requests, 25);
	ck_assert_uint_eq(run.all.errors, 25);
	load_free(run.load);
	server_stop(s);
	free(s);

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", closed_port());
	http_spec(&spec, url, 50, 8, 1000 * MS);
	run_for(&run, &spec, 500 * MS);
	ck_assert_uint_eq(run.all.requests, 25);
	ck_assert_uint_eq(run.all.errors, 25);
	ck_assert_uint_eq(run.all.by_outcome[LOAD_ERR_CONNECT], 25);
	ck_assert_uint_eq(run.all.latency.count, 0);
	load_free(run.load);
}
END_TEST

START_TEST(load_http_timeouts)
{
	struct server *s = server_start(-1, 0);
	struct load_spec spec;
	struct run run;
	int64_t stop_at;

	http_spec(&spec, url_of(s, "/slow?ms=1000"), 20, 16, 200 * MS);
	run_for(&run, &spec, 500 * MS);
	stop_at = mono_ns();
	server_stop(s);
	fprintf(stderr, "# timeouts: %llu errors, p50 %.3f ms\n",
		(unsigned long long)run.all.errors,
		hist_quantile(&run.all.latency, 0.5) / 1e6);
	ck_assert_uint_eq(run.all.requests, 10);
	ck_assert_uint_eq(run.all.errors, 10);
	ck_assert_uint_eq(run.all.by_outcome[LOAD_ERR_TIMEOUT], 10);
	/* Timeouts do count, at the time they were given up. */
	ck_assert_uint_eq(run.all.latency.count, 10);
	ck_assert_uint_ge(run.all.latency.min_ns, 195 * MS);
	ck_assert_uint_le(run.all.latency.max_ns, 400 * MS);
	/* load_stop() waited for the last ones, at most their timeout. */
	ck_assert_int_le(stop_at - (run.t0 + 500 * MS), 300 * MS);
	load_free(run.load);
	free(s);
}
END_TEST

START_TEST(load_http_phase_attribution)
{
	struct server *s = server_start(-1, 0);
	int64_t phases[PHASE_MAX] = { 500 * MS, 700 * MS, 300 * MS };
	struct load_stats *st = malloc(sizeof(*st));
	struct fg_error err = { 0 };
	struct load_spec spec;
	struct load *l;
	int64_t t0;

	ck_assert_ptr_nonnull(st);
	http_spec(&spec, url_of(s, "/"), 100, 16, 1000 * MS);
	t0 = mono_ns() + 50 * MS;
	ck_assert_int_eq(load_start(&spec, t0, phases, &l, &err), 0);
	sleep_until(t0 + 1500 * MS);
	load_stop(l, t0 + 1500 * MS);
	server_stop(s);
	load_phase_stats(l, PHASE_BASELINE, st);
	ck_assert_uint_eq(st->requests, 50);
	ck_assert(st->seconds > 0.499 && st->seconds < 0.501);
	load_phase_stats(l, PHASE_FAULT, st);
	ck_assert_uint_eq(st->requests, 70);
	load_phase_stats(l, PHASE_RECOVERY, st);
	ck_assert_uint_eq(st->requests, 30);
	load_phase_stats(l, PHASE_ALL, st);
	ck_assert_uint_eq(st->requests, 150);
	ck_assert_uint_eq(st->errors, 0);
	free(st);
	load_free(l);
	free(s);
}
END_TEST

START_TEST(load_http_stop_early)
{
	/* An abort: the run ends in the fault phase; nothing meant for later
	 * is sent and the phases' lengths are cut to what ran. */
	struct server *s = server_start(-1, 0);
	int64_t phases[PHASE_MAX] = { 300 * MS, 10000 * MS, 10000 * MS };
	struct load_stats *st = malloc(sizeof(*st));
	struct fg_error err = { 0 };
	struct load_spec spec;
	struct load *l;
	int64_t t0;

	ck_assert_ptr_nonnull(st);
	http_spec(&spec, url_of(s, "/"), 100, 16, 1000 * MS);
	t0 = mono_ns() + 50 * MS;
	ck_assert_int_eq(load_start(&spec, t0, phases, &l, &err), 0);
	/* Called a little ahead: sending goes on up to the given end. */
	sleep_until(t0 + 480 * MS);
	load_stop(l, t0 + 500 * MS);
	server_stop(s);
	load_phase_stats(l, PHASE_FAULT, st);
	ck_assert_uint_eq(st->requests, 20);
	ck_assert(st->seconds > 0.199 && st->seconds < 0.201);
	load_phase_stats(l, PHASE_RECOVERY, st);
	ck_assert_uint_eq(st->requests, 0);
	ck_assert(st->seconds == 0.0);
	ck_assert_uint_eq(s->requests, 50);
	free(st);
	load_free(l);
	free(s);
}
END_TEST

START_TEST(load_invalid_spec)
{
	struct load_spec spec;
	struct fg_error err = { 0 };
	int64_t phases[PHASE_MAX] = { MS, 0, 0 };
	struct load *l = NULL;

	http_spec(&spec, "not a url at all\x01", 10, 1, MS);
	ck_assert_int_eq(load_start(&spec, mono_ns(), phases, &l, &err), -EINVAL);
	ck_assert_int_eq(err.err, EINVAL);
	http_spec(&spec, "http://127.0.0.1:1/", 0, 1, MS);
	ck_assert_int_eq(load_start(&spec, mono_ns(), phases, &l, &err), -EINVAL);
	memset(&spec, 0, sizeof(spec));
	spec.kind = LOAD_COMMAND;
	spec.every_ns = MS;
	ck_assert_int_eq(load_start(&spec, mono_ns(), phases, &l, &err), -EINVAL);
	spec.kind = LOAD_NONE;
	ck_assert_int_eq(load_start(&spec, mono_ns(), phases, &l, &err), -EINVAL);
	ck_assert_ptr_null(l);
}
END_TEST

static void command_spec(struct load_spec *spec, char **argv, int64_t every, int64_t timeout)
{
	memset(spec, 0, sizeof(*spec));
	spec->kind = LOAD_COMMAND;
	spec->argv = argv;
	for (spec->argc = 0; argv[spec->argc]; spec->argc++)
		;
	spec->every_ns = every;
	spec->timeout_ns = timeout;
}

START_TEST(load_command_probes)
{
	char *t[] = { "/bin/true", NULL }, *f[] = { "/bin/false", NULL };
	char *slow[] = { "sleep", "5", NULL }, *none[] = { "/nonexistent/probe", NULL };
	struct load_spec spec;
	struct run run;
	int64_t t_end;

	command_spec(&spec, t, 100 * MS, 1000 * MS);
	run_for(&run, &spec, 500 * MS);
	ck_assert_uint_eq(run.all.requests, 5);
	ck_assert_uint_eq(run.all.errors, 0);
	/* /bin/true: far below the 1 s timeout, even on a busy machine. */
	ck_assert_uint_lt(hist_quantile(&run.all.latency, 1.0), 250 * MS);
	load_free(run.load);

	command_spec(&spec, f, 100 * MS, 1000 * MS);
	run_for(&run, &spec, 500 * MS);
	ck_assert_uint_eq(run.all.requests, 5);
	ck_assert_uint_eq(run.all.errors, 5);
	load_free(run.load);

	command_spec(&spec, none, 100 * MS, 1000 * MS);
	run_for(&run, &spec, 300 * MS);
	ck_assert_uint_eq(run.all.requests, 3);
	ck_assert_uint_eq(run.all.errors, 3);
	load_free(run.load);

	/* Each one is killed after 200 ms; the backlog behind it is counted,
	 * never skipped, and the stop waits one timeout at most. */
	command_spec(&spec, slow, 100 * MS, 200 * MS);
	run_for(&run, &spec, 500 * MS);
	t_end = mono_ns();
	fprintf(stderr, "# sleep 5 probes: %llu runs, %llu errors, min %.1f ms, stop +%.1f ms\n",
		(unsigned long long)run.all.requests, (unsigned long long)run.all.errors,
		run.all.latency.min_ns / 1e6, (t_end - run.t0 - 500 * MS) / 1e6);
	ck_assert_uint_eq(run.all.requests, 5);
	ck_assert_uint_eq(run.all.errors, 5);
	ck_assert_uint_ge(run.all.latency.min_ns, 195 * MS);
	ck_assert_int_le(t_end - run.t0 - 500 * MS, 450 * MS);
	load_free(run.load);
	/* Every probe was reaped. */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

static Suite *load_suite(void)
{
	Suite *s = suite_create("load");
	TCase *tc = tcase_create("load");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, load_http_rate_and_reuse);
	tcase_add_test(tc, load_http_latency_of_slow_handler);
	tcase_add_test(tc, load_http_coordinated_omission);
	tcase_add_test(tc, load_http_errors);
	tcase_add_test(tc, load_http_timeouts);
	tcase_add_test(tc, load_http_served);
	tcase_add_test(tc, load_http_phase_attribution);
	tcase_add_test(tc, load_http_stop_early);
	tcase_add_test(tc, load_invalid_spec);
	tcase_add_test(tc, load_command_probes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(load_suite());
	int failed;

	/* Requests go straight to loopback whatever the environment says. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
