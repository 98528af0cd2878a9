// SPDX-License-Identifier: Apache-2.0
/* csvc: a small C HTTP/1.1 service for the ptrace tests. One acceptor thread
 * hands each connection to one of a few workers, which serve it with
 * blocking read(2)/write(2) through an epoll set of their own, so freezing a
 * worker stalls exactly the connections it owns.
 *   /healthz  "ok"
 *   /work     reads -f FILE (open, read, close) and says how many bytes
 * Usage: csvc [-a 127.0.0.1:PORT] [-f FILE] [-w WORKERS] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define BUF_SIZE 4096

struct conn {
	int fd;
	size_t len;
	char buf[BUF_SIZE];
};

static const char *data_file = "/tmp/csvc.data";
static int epfds[MAX_WORKERS];

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void reply(int fd, int status, const char *body)
{
	char out[512];
	int n;

	n = snprintf(out, sizeof(out),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
		     status, status == 200 ? "OK" : "Not Found", strlen(body), body);
	(void)write_all(fd, out, (size_t)n);
}

static void work(int fd)
{
	char buf[8192], body[64];
	ssize_t n, total = 0;
	int f = open(data_file, O_RDONLY | O_CLOEXEC);

	if (f < 0) {
		reply(fd, 404, "no data file\n");
		return;
	}
	while ((n = read(f, buf, sizeof(buf))) > 0)
		total += n;
	close(f);
	snprintf(body, sizeof(body), "read %zd bytes\n", total);
	reply(fd, 200, body);
}

/* Serve every complete request in c->buf. Return: -1 to close. */
static int serve(struct conn *c)
{
	char *end;

	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
		size_t used = (size_t)(end + 4 - c->buf);

		if (!strncmp(c->buf, "GET /healthz", 12))
			reply(c->fd, 200, "ok\n");
		else if (!strncmp(c->buf, "GET /work", 9))
			work(c->fd);
		else
			reply(c->fd, 404, "not found\n");
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	return c->len == sizeof(c->buf) ? -1 : 0;
}

static void *worker(void *arg)
{
	int ep = *(int *)arg;
	struct epoll_event ev[16];

	for (;;) {
		int n = epoll_wait(ep, ev, 16, -1);

		for (int k = 0; k < n; k++) {
			struct conn *c = ev[k].data.ptr;
			ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);

			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r > 0) {
				c->len += (size_t)r;
				if (serve(c) == 0)
					continue;
			}
			close(c->fd);
			free(c);
		}
	}
	return NULL;
}

static int listen_on(const char *addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char host[64];
	const char *colon = strrchr(addr, ':');
	int one = 1, fd;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	sa.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 512) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1:18081";
	int workers = 4, lfd, opt;
	unsigned next = 0;

	while ((opt = getopt(argc, argv, "a:f:w:")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'f':
			data_file = optarg;
			break;
		case 'w':
			workers = (int)strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: csvc [-a HOST:PORT] [-f FILE] [-w WORKERS]\n");
			return 2;
		}
	}
	if (workers < 1 || workers > MAX_WORKERS)
		workers = 4;
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(addr);
	if (lfd < 0) {
		fprintf(stderr, "csvc: cannot listen on %s: %s\n", addr, strerror(errno));
		return 1;
	}
	for (int k = 0; k < workers; k++) {
		pthread_t t;

		epfds[k] = epoll_create1(EPOLL_CLOEXEC);
		if (epfds[k] < 0 || pthread_create(&t, NULL, worker, &epfds[k]) != 0)
			return 1;
	}
	fprintf(stderr, "csvc: listening on %s, %d workers\n", addr, workers);
	for (;;) {
		int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN};
		struct conn *c;

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(epfds[next++ % (unsigned)workers], EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}
