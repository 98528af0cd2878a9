// SPDX-License-Identifier: Apache-2.0
/* A small C victim for the preload shim, reading one file through read() or
 * through fread(). Three modes:
 *   cfile -serve ADDR:PORT -file PATH   HTTP/1.1 on loopback: /read, /fread,
 *                                       /healthz; one thread per connection
 *   cfile -check PATH                   read and fread once, plus two calls
 *                                       that fail by themselves; prints one
 *                                       stable line per call with its errno
 *   cfile -loop PATH MS N               N reads (read, then fread) every MS
 *                                       ms; prints "MONO_NS read_errno
 *                                       fread_errno" per round
 * Errors are reported by name (EIO, ...), so tests compare text. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *file_path;
/* Not static, so not folded to a constant: fortified builds then call
 * __read_chk and __fread_chk, not read and fread. */
size_t chunk = 4096;	/* never above the 4096-byte buffers */

static const char *err_name(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "E?";
}

/* Read the whole file with read(). Return: bytes, or -errno. */
static long read_file(void)
{
	char buf[4096];
	long total = 0;
	ssize_t n;
	int fd;

	fd = open(file_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, chunk)) > 0)
		total += n;
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return total;
}

/* Read the whole file with fread(). Return: bytes, or -errno. */
static long fread_file(void)
{
	char buf[4096];
	long total = 0;
	size_t n;
	FILE *fp;

	fp = fopen(file_path, "re");
	if (!fp)
		return -errno;
	errno = 0;
	while ((n = fread(buf, 1, chunk, fp)) > 0)
		total += (long)n;
	if (ferror(fp)) {
		int e = errno ? errno : EIO;

		fclose(fp);
		return -e;
	}
	fclose(fp);
	return total;
}

/* Head and body in one send: two small segments would meet Nagle and the
 * client's delayed ACK (40 ms per response). */
static void reply(int fd, int code, const char *body)
{
	char msg[512];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
		     code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Error",
		     strlen(body), body);
	if (n > 0 && (size_t)n < sizeof(msg))
		(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL);
}

static void handle(int fd, const char *path)
{
	char body[128];
	long r;

	if (!strcmp(path, "/healthz")) {
		reply(fd, 200, "ok\n");
		return;
	}
	if (!strcmp(path, "/read"))
		r = read_file();
	else if (!strcmp(path, "/fread"))
		r = fread_file();
	else {
		reply(fd, 404, "not found\n");
		return;
	}
	if (r < 0) {
		snprintf(body, sizeof(body), "errno=%s\n", err_name((int)-r));
		reply(fd, 500, body);
		return;
	}
	snprintf(body, sizeof(body), "bytes=%ld\n", r);
	reply(fd, 200, body);
}

/* One connection: requests without bodies, keep-alive until the peer closes. */
static void *conn_thread(void *arg)
{
	int fd = (int)(long)arg;
	char req[8192];
	size_t len = 0;

	for (;;) {
		char *end, path[256];
		ssize_t n;

		end = memmem(req, len, "\r\n\r\n", 4);
		if (end) {
			size_t used = (size_t)(end - req) + 4;

			if (sscanf(req, "%*s %255s", path) != 1)
				break;
			handle(fd, path);
			memmove(req, req + used, len - used);
			len -= used;
			continue;
		}
		if (len == sizeof(req))
			break;
		n = recv(fd, req + len, sizeof(req) - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return NULL;
}

static int serve(const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	int port, lfd, one = 1;

	if (sscanf(addr, "%63[^:]:%d", host, &port) != 2 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "cfile: bad address '%s'\n", addr);
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 128) < 0) {
		perror("cfile: listen");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("cfile: accept");
			return 1;
		}
		if (pthread_create(&t, NULL, conn_thread, (void *)(long)fd) != 0) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
}

/* Print "NAME result errno" for read, fread and two calls failing by themselves. */
static int check(void)
{
	char buf[4096];
	long r;
	int fd;

	r = read_file();
	printf("read %ld %s\n", r < 0 ? -1 : r, err_name(r < 0 ? (int)-r : 0));
	r = fread_file();
	printf("fread %ld %s\n", r < 0 ? -1 : r, err_name(r < 0 ? (int)-r : 0));
	errno = 0;
	r = read(-1, buf, chunk);
	printf("read-badfd %ld %s\n", r, err_name(errno));
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	errno = 0;
	r = read(fd, buf, chunk);
	printf("read-dir %ld %s\n", r, err_name(errno));
	close(fd);
	/* errno untouched by a successful wrapped call */
	errno = ERANGE;
	fd = open(file_path, O_RDONLY | O_CLOEXEC);
	r = read(fd, buf, 1);
	printf("errno-kept %ld %s\n", r, err_name(errno));
	close(fd);
	return 0;
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int loop(int ms, int n)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < n; i++) {
		long long t = mono_ns();
		long a = read_file(), b = fread_file();

		printf("%lld %lld %s %s\n", t, mono_ns(), err_name(a < 0 ? (int)-a : 0),
		       err_name(b < 0 ? (int)-b : 0));
		nanosleep(&ts, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "-serve") && !strcmp(argv[3], "-file")) {
		file_path = argv[4];
		return serve(argv[2]);
	}
	if (argc == 3 && !strcmp(argv[1], "-check")) {
		file_path = argv[2];
		return check();
	}
	if (argc == 5 && !strcmp(argv[1], "-loop")) {
		file_path = argv[2];
		return loop((int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10));
	}
	fprintf(stderr, "usage: cfile -serve ADDR:PORT -file PATH | -check PATH | "
			"-loop PATH MS N\n");
	return 2;
}
