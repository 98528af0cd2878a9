// SPDX-License-Identifier: Apache-2.0
/* Bootstrap of the LD_PRELOAD shim (map and validate the control block named
 * in the environment) and the helpers of shim.h every wrapper file uses. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "shim.h"

#define TLS __thread __attribute__((tls_model("initial-exec")))
#define NS_PER_S 1000000000LL
/* Long delays sleep in slices so that a disarmed slot lets its callers go. */
#define DELAY_SLICE_NS (100LL * 1000000LL)

static _Atomic uint32_t never_armed;

struct shim_state shim = {
	.ctl = NULL,
	.any_armed = &never_armed,
	.log_fd = STDERR_FILENO,
	.log_level = SHIM_LOG_WARN,
};

static TLS unsigned guard_depth;
static TLS bool resolving;
static TLS uint64_t rng_state;

bool shim_enter(void)
{
	if (guard_depth)
		return false;
	guard_depth = 1;
	return true;
}

void shim_leave(void)
{
	guard_depth = 0;
}

void *shim_real(void *_Atomic *cache, const char *name)
{
	int saved = errno;
	void *p;

	/* dlsym may call back into a wrapped function (through malloc or
	 * dlerror on some libcs): answer NULL to the nested lookup. */
	if (resolving)
		return NULL;
	resolving = true;
	p = dlsym(RTLD_NEXT, name);
	resolving = false;
	if (p)
		atomic_store_explicit(cache, p, memory_order_relaxed);
	errno = saved;
	return p;
}

void shim_log(int level, const char *fmt, ...)
{
	int saved = errno;
	char buf[512];
	va_list ap;
	int n, k;

	if (level > shim.log_level || shim.log_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "faultgate-shim[%d]: ", (int)getpid());
	if (n < 0)
		n = 0;
	va_start(ap, fmt);
	k = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (k > 0)
		n += k;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	guard_depth++;
	{
		ssize_t (*real_write)(int, const void *, size_t) = SHIM_REAL(write);

		if (real_write)
			(void)real_write(shim.log_fd, buf, (size_t)n);
	}
	guard_depth--;
	errno = saved;
}

int shim_slot_next(int from, unsigned kinds)
{
	struct fg_ctl *ctl = shim.ctl;

	if (!ctl)
		return -1;
	for (int i = from < 0 ? 0 : from; i < (int)shim.n_faults; i++) {
		struct fg_ctl_fault *f = &ctl->faults[i];

		if (!atomic_load_explicit(&f->armed, memory_order_acquire))
			continue;
		if (f->kind < 32 && (kinds & (1u << f->kind)))
			return i;
	}
	return -1;
}

uint64_t shim_rand(void)
{
	uint64_t x = rng_state;

	if (!x) {
		uint64_t seed = shim.ctl ? shim.ctl->seed : 0;

		x = seed ^ ((uint64_t)gettid() * 0x9e3779b97f4a7c15ull);
		if (!x)
			x = 0x2545f4914f6cdd1dull;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

bool shim_chance(uint32_t ppm)
{
	if (ppm >= 1000000u)
		return true;
	return (shim_rand() >> 11) % 1000000u < ppm;
}

int64_t shim_pick_delay(const struct fg_ctl_fault *f)
{
	int64_t d = f->delay_ns;

	if (f->jitter_ns > 0) {
		uint64_t span = 2 * (uint64_t)f->jitter_ns + 1;

		d += (int64_t)(shim_rand() % span) - f->jitter_ns;
	}
	return d < 0 ? 0 : d;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

void shim_delay(struct fg_ctl_fault *f, int64_t ns)
{
	int saved = errno;
	int64_t start, end;

	if (ns <= 0)
		return;
	start = mono_ns();
	end = start + ns;
	for (;;) {
		int64_t now = mono_ns(), until = end;
		struct timespec ts;

		if (now >= end)
			break;
		if (f && !atomic_load_explicit(&f->armed, memory_order_relaxed))
			break;
		if (until - now > DELAY_SLICE_NS)
			until = now + DELAY_SLICE_NS;
		ts.tv_sec = until / NS_PER_S;
		ts.tv_nsec = until % NS_PER_S;
		(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	if (f) {
		atomic_fetch_add_explicit(&f->delayed, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&f->delay_total_ns, (uint64_t)(mono_ns() - start),
					  memory_order_relaxed);
	}
	errno = saved;
}

enum shim_fd_class shim_fd_class(int fd)
{
	int saved = errno;
	struct stat st;
	enum shim_fd_class c = SHIM_FD_OTHER;

	if (fstat(fd, &st) == 0) {
		if (S_ISSOCK(st.st_mode))
			c = SHIM_FD_SOCKET;
		else if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ||
			 S_ISDIR(st.st_mode))
			c = SHIM_FD_FILE;
	}
	errno = saved;
	return c;
}

int shim_fd_path(int fd, char *buf, size_t size)
{
	int saved = errno;
	char link[40];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	errno = saved;
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* @sa as an IPv6 address (IPv4 mapped) and a port; false for other families. */
static bool sockaddr_split(const struct sockaddr *sa, socklen_t len, struct in6_addr *ret_addr,
			   uint16_t *ret_port)
{
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memset(ret_addr, 0, sizeof(*ret_addr));
		ret_addr->s6_addr[10] = 0xff;
		ret_addr->s6_addr[11] = 0xff;
		memcpy(&ret_addr->s6_addr[12], &in->sin_addr, 4);
		*ret_port = ntohs(in->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		*ret_addr = in6->sin6_addr;
		*ret_port = ntohs(in6->sin6_port);
		return true;
	}
	return false;
}

/* Host text of a selector as an IPv6 address (IPv4 mapped). */
static bool host_parse(const char *host, struct in6_addr *ret)
{
	struct in_addr v4;

	if (inet_pton(AF_INET6, host, ret) == 1)
		return true;
	if (inet_pton(AF_INET, host, &v4) != 1)
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->s6_addr[10] = 0xff;
	ret->s6_addr[11] = 0xff;
	memcpy(&ret->s6_addr[12], &v4, 4);
	return true;
}

bool shim_peer_matches(const struct fg_ctl_fault *f, const struct sockaddr *sa, socklen_t len)
{
	uint32_t n = f->n_peers < FG_CTL_MAX_PEERS ? f->n_peers : FG_CTL_MAX_PEERS;
	struct in6_addr addr;
	uint16_t port;

	if (!n)
		return true;
	if (!sa || !sockaddr_split(sa, len, &addr, &port))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		const struct fg_ctl_peer *p = &f->peers[i];
		struct in6_addr want;

		if (p->port && p->port != port)
			continue;
		if (!p->host[0])
			return true;
		if (memchr(p->host, '\0', sizeof(p->host)) && host_parse(p->host, &want) &&
		    memcmp(&want, &addr, sizeof(addr)) == 0)
			return true;
	}
	return false;
}

static bool path_matches(const struct fg_ctl_fault *f, const char *path)
{
	uint32_t n = f->n_paths < FG_CTL_MAX_PATHS ? f->n_paths : FG_CTL_MAX_PATHS;

	for (uint32_t i = 0; i < n; i++)
		if (memchr(f->paths[i], '\0', sizeof(f->paths[i])) &&
		    fnmatch(f->paths[i], path, 0) == 0)
			return true;
	return false;
}

bool shim_fd_matches(const struct fg_ctl_fault *f, int fd)
{
	enum shim_fd_class c = shim_fd_class(fd);

	if (f->fds == FAULT_FDS_FILES && c != SHIM_FD_FILE)
		return false;
	if (f->fds == FAULT_FDS_SOCKETS && c != SHIM_FD_SOCKET)
		return false;
	if (f->n_paths) {
		char path[4096];

		if (c != SHIM_FD_FILE || shim_fd_path(fd, path, sizeof(path)) < 0 ||
		    !path_matches(f, path))
			return false;
	}
	if (f->n_peers) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int saved = errno;
		int r;

		if (c != SHIM_FD_SOCKET)
			return false;
		r = getpeername(fd, (struct sockaddr *)&ss, &len);
		errno = saved;
		if (r < 0 || !shim_peer_matches(f, (struct sockaddr *)&ss, len))
			return false;
	}
	return true;
}

long shim_fail(struct fg_ctl_fault *f, int err)
{
	atomic_fetch_add_explicit(&f->failed, 1, memory_order_relaxed);
	errno = err;
	return -1;
}

static int level_from_name(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "error", SHIM_LOG_ERROR },
		{ "warn", SHIM_LOG_WARN },
		{ "info", SHIM_LOG_INFO },
		{ "debug", SHIM_LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(s, levels[i].name) == 0)
			return levels[i].level;
	return SHIM_LOG_WARN;
}

/* Map the block at @path; NULL (after one log line) when it is unusable. */
static struct fg_ctl *ctl_map(const char *path)
{
	struct fg_ctl *ctl;
	struct stat st;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		shim_log(SHIM_LOG_WARN, "open control block '%s': %s, shim inert", path,
			 strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(struct fg_ctl)) {
		shim_log(SHIM_LOG_WARN, "control block '%s': %lld bytes, want %zu, shim inert",
			 path, (long long)st.st_size, sizeof(struct fg_ctl));
		close(fd);
		return NULL;
	}
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (ctl == MAP_FAILED) {
		shim_log(SHIM_LOG_WARN, "map control block '%s': %s, shim inert", path,
			 strerror(errno));
		return NULL;
	}
	if (ctl->magic != FG_CTL_MAGIC || ctl->version != FG_CTL_VERSION ||
	    ctl->size != sizeof(struct fg_ctl)) {
		shim_log(SHIM_LOG_WARN,
			 "control block '%s': magic %#x version %u size %u, want %#x %u %zu, "
			 "shim inert",
			 path, ctl->magic, ctl->version, ctl->size, FG_CTL_MAGIC, FG_CTL_VERSION,
			 sizeof(struct fg_ctl));
		munmap(ctl, sizeof(*ctl));
		return NULL;
	}
	return ctl;
}

__attribute__((constructor(SHIM_PRIO_BOOT))) static void shim_boot(void)
{
	int saved = errno;
	struct fg_ctl *ctl;
	const char *s;

	s = secure_getenv(FG_CTL_LOG_ENV);
	if (s && *s)
		shim.log_level = level_from_name(s);
	s = secure_getenv(FG_CTL_ENV);
	if (!s || !*s)
		goto out;
	ctl = ctl_map(s);
	if (!ctl)
		goto out;
	shim.n_faults = ctl->n_faults < FG_CTL_MAX_FAULTS ? ctl->n_faults : FG_CTL_MAX_FAULTS;
	shim.ctl = ctl;
	atomic_store_explicit(&ctl->shim_pid, (uint32_t)getpid(), memory_order_relaxed);
	shim.any_armed = &ctl->any_armed;
	shim_log(SHIM_LOG_DEBUG, "control block '%s' mapped, %u slots", s, shim.n_faults);
out:
	errno = saved;
}
