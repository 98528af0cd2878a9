// SPDX-License-Identifier: Apache-2.0
/* Fault kinds, names and defaults, the checks a schema cannot express, and
 * the trigger arithmetic (windows, probability, jitter) backends share. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "fault.h"
#include "units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const kind_names[FAULT_KIND_MAX] = {
	[FAULT_SLOW_IO] = "slow-io",
	[FAULT_IO_ERROR] = "io-error",
	[FAULT_MEM_LEAK] = "mem-leak",
	[FAULT_CGO_BLOCK] = "cgo-block",
	[FAULT_PIN_THREADS] = "pin-threads",
	[FAULT_GOMAXPROCS] = "gomaxprocs",
	[FAULT_FREEZE_THREAD] = "freeze-thread",
};

static const char *const backend_names[FAULT_BACKEND_MAX] = {
	[FAULT_BACKEND_AUTO] = "auto",
	[FAULT_BACKEND_PRELOAD] = "preload",
	[FAULT_BACKEND_SECCOMP] = "seccomp",
	[FAULT_BACKEND_PTRACE] = "ptrace",
	[FAULT_BACKEND_AFFINITY] = "affinity",
	[FAULT_BACKEND_ENV] = "env",
};

static const char *const fds_names[FAULT_FDS_MAX] = {
	[FAULT_FDS_ANY] = "any",
	[FAULT_FDS_SOCKETS] = "sockets",
	[FAULT_FDS_FILES] = "files",
};

/* The errno values a playbook may inject: the ones real I/O paths return. */
static const struct {
	const char *name;
	int err;
} errno_table[] = {
	{ "EIO", EIO },
	{ "ECONNRESET", ECONNRESET },
	{ "ENOSPC", ENOSPC },
	{ "EPIPE", EPIPE },
	{ "EAGAIN", EAGAIN },
	{ "EINTR", EINTR },
	{ "ETIMEDOUT", ETIMEDOUT },
	{ "ENOMEM", ENOMEM },
	{ "EACCES", EACCES },
	{ "EPERM", EPERM },
	{ "EBADF", EBADF },
	{ "ENOENT", ENOENT },
	{ "ECONNREFUSED", ECONNREFUSED },
	{ "EROFS", EROFS },
	{ "EDQUOT", EDQUOT },
	{ "EFBIG", EFBIG },
};

static int index_of(const char *const *names, size_t n, const char *name)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

const char *fault_kind_name(enum fault_kind kind)
{
	if ((unsigned)kind >= FAULT_KIND_MAX)
		return NULL;
	return kind_names[kind];
}

int fault_kind_from_name(const char *name)
{
	return index_of(kind_names, FAULT_KIND_MAX, name);
}

const char *fault_backend_name(enum fault_backend b)
{
	if ((unsigned)b >= FAULT_BACKEND_MAX)
		return NULL;
	return backend_names[b];
}

int fault_backend_from_name(const char *name)
{
	return index_of(backend_names, FAULT_BACKEND_MAX, name);
}

const char *fault_fds_name(enum fault_fds f)
{
	if ((unsigned)f >= FAULT_FDS_MAX)
		return NULL;
	return fds_names[f];
}

int fault_fds_from_name(const char *name)
{
	return index_of(fds_names, FAULT_FDS_MAX, name);
}

int fault_errno_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(errno_table); i++)
		if (strcmp(errno_table[i].name, name) == 0)
			return errno_table[i].err;
	return -EINVAL;
}

const char *fault_errno_name(int err)
{
	for (size_t i = 0; i < ARRAY_SIZE(errno_table); i++)
		if (errno_table[i].err == err)
			return errno_table[i].name;
	return NULL;
}

const char *fault_errno_names(char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(errno_table) && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i ? ", " : "", errno_table[i].name);
	return buf;
}

static int parse_port(const char *s, bool any_ok, uint16_t *ret)
{
	long long v;
	int r;

	if (any_ok && strcmp(s, "*") == 0) {
		*ret = 0;
		return 0;
	}
	r = fg_parse_int(s, 1, 65535, &v);
	if (r < 0)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int fault_peer_parse(const char *s, struct fault_peer *ret)
{
	struct fault_peer p = {};
	unsigned char addr[16];
	const char *colon;
	size_t hlen;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(p.host))
			return -EINVAL;
		memcpy(p.host, s + 1, hlen);
		if (inet_pton(AF_INET6, p.host, addr) != 1)
			return -EINVAL;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
		if (hlen >= sizeof(p.host))
			return -EINVAL;
		memcpy(p.host, s, hlen);
		/* An unbracketed IPv6 address is ambiguous: "::1:80". */
		if (hlen && inet_pton(AF_INET, p.host, addr) != 1)
			return -EINVAL;
	}
	if (parse_port(colon + 1, p.host[0] != '\0', &p.port) < 0)
		return -EINVAL;
	*ret = p;
	return 0;
}

void fault_spec_init(struct fault_spec *f, enum fault_kind kind)
{
	*f = (struct fault_spec){
		.kind = kind,
		.backend = FAULT_BACKEND_AUTO,
		.at_ns = 0,
		.for_ns = -1,
		.probability = 1.0,
		.syscalls = FAULT_SYS_READ | FAULT_SYS_WRITE,
		.fds = FAULT_FDS_ANY,
		.delay_ns = -1,
		.jitter_ns = 0,
		.err = EIO,
		.rate_bytes_per_s = FAULT_DEFAULT_LEAK_RATE,
		.touch = true,
		.release = true,
		.gomaxprocs_mode = FAULT_GOMAXPROCS_LIVE,
		.pick = FAULT_PICK_BUSIEST,
		.threads = 1,
		.hold_ns = -1,
		.every_ns = -1,
	};
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void fault_spec_done(struct fault_spec *f)
{
	if (!f)
		return;
	free_strv(f->paths, f->n_paths);
	free(f->peers);
	free_strv(f->symbols, f->n_symbols);
	free(f->cpus);
	free(f->tids);
	f->paths = f->symbols = NULL;
	f->peers = NULL;
	f->cpus = f->tids = NULL;
	f->n_paths = f->n_peers = f->n_symbols = f->n_cpus = f->n_tids = 0;
}

int fault_spec_finish(struct fault_spec *f)
{
	if (f->kind == FAULT_CGO_BLOCK && f->n_symbols == 0) {
		char **v = calloc(2, sizeof(*v));

		if (!v)
			return -ENOMEM;
		v[0] = strdup("getaddrinfo");
		if (!v[0]) {
			free(v);
			return -ENOMEM;
		}
		f->symbols = v;
		f->n_symbols = 1;
	}
	if (f->kind == FAULT_FREEZE_THREAD) {
		if (f->n_tids)
			f->pick = FAULT_PICK_TIDS;
		if (f->every_ns < 0)
			f->every_ns = f->hold_ns;
	}
	return 0;
}

static bool kind_uses_delay(enum fault_kind k)
{
	return k == FAULT_SLOW_IO || k == FAULT_CGO_BLOCK;
}

/* Each check names the key to blame so the loader can point at it. */
#define FAIL(key, ...)                                                         \
	do {                                                                   \
		if (reterr_key)                                                \
			*reterr_key = (key);                                   \
		snprintf(msg, msg_size, __VA_ARGS__);                          \
		return -EINVAL;                                                \
	} while (0)

static int check_window(const struct fault_spec *f, int64_t phase_ns,
			const char **reterr_key, char *msg, size_t msg_size)
{
	char a[32], b[32];

	if (phase_ns <= 0)
		return 0;
	if (f->at_ns >= phase_ns)
		FAIL("at", "'at' %s is not inside the %s fault phase",
		     fg_format_duration(f->at_ns, a, sizeof(a)),
		     fg_format_duration(phase_ns, b, sizeof(b)));
	if (f->for_ns >= 0 && f->at_ns + f->for_ns > phase_ns)
		FAIL("for", "window ends at %s, after the %s fault phase",
		     fg_format_duration(f->at_ns + f->for_ns, a, sizeof(a)),
		     fg_format_duration(phase_ns, b, sizeof(b)));
	return 0;
}

static int check_delay(const struct fault_spec *f, const char **reterr_key,
		       char *msg, size_t msg_size)
{
	const char *kind = fault_kind_name(f->kind);
	char a[32], b[32];

	if (!kind_uses_delay(f->kind))
		return 0;
	if (f->delay_ns < 0)
		FAIL(NULL, "kind '%s' needs 'delay', for example delay: 50ms",
		     kind);
	if (f->delay_ns > FAULT_MAX_DELAY_NS && !f->allow_long)
		FAIL("delay",
		     "'delay' %s is over the 60s cap; add allow_long: true if "
		     "you mean it",
		     fg_format_duration(f->delay_ns, a, sizeof(a)));
	if (f->jitter_ns > f->delay_ns)
		FAIL("jitter", "'jitter' %s must not exceed 'delay' %s",
		     fg_format_duration(f->jitter_ns, a, sizeof(a)),
		     fg_format_duration(f->delay_ns, b, sizeof(b)));
	return 0;
}

static int check_kind(const struct fault_spec *f, const char **reterr_key,
		      char *msg, size_t msg_size)
{
	const char *kind = fault_kind_name(f->kind);
	char a[32], b[32];

	switch (f->kind) {
	case FAULT_SLOW_IO:
	case FAULT_IO_ERROR:
		if (!f->syscalls)
			FAIL("syscalls", "'syscalls' must name at least one of "
					 "read, write");
		if (f->n_paths && f->fds == FAULT_FDS_SOCKETS)
			FAIL("paths", "'paths' selects files; it cannot be "
				      "used with fds: sockets");
		if (f->n_peers && f->fds == FAULT_FDS_FILES)
			FAIL("peers", "'peers' selects sockets; it cannot be "
				      "used with fds: files");
		break;
	case FAULT_MEM_LEAK:
		if (f->limit_bytes == 0)
			FAIL(NULL,
			     "kind '%s' needs 'limit', for example limit: "
			     "512MiB",
			     kind);
		if (f->rate_bytes_per_s <= 0)
			FAIL("rate", "'rate' must be more than 0/s");
		break;
	case FAULT_CGO_BLOCK:
		break;
	case FAULT_PIN_THREADS:
		if (f->n_cpus == 0)
			FAIL(NULL,
			     "kind '%s' needs 'cpus', for example cpus: [0]",
			     kind);
		break;
	case FAULT_GOMAXPROCS:
		if (f->gomaxprocs <= 0)
			FAIL(NULL,
			     "kind '%s' needs 'value', for example value: 1",
			     kind);
		break;
	case FAULT_FREEZE_THREAD:
		if (f->hold_ns <= 0)
			FAIL(NULL,
			     "kind '%s' needs 'hold', for example hold: 500ms",
			     kind);
		if (f->hold_ns > FAULT_MAX_HOLD_NS)
			FAIL("hold", "'hold' %s is over the 10s cap",
			     fg_format_duration(f->hold_ns, a, sizeof(a)));
		if (f->every_ns >= 0 && f->every_ns < f->hold_ns)
			FAIL("every", "'every' %s must be at least 'hold' %s",
			     fg_format_duration(f->every_ns, a, sizeof(a)),
			     fg_format_duration(f->hold_ns, b, sizeof(b)));
		break;
	case FAULT_KIND_MAX:
	default:
		FAIL("kind", "unknown fault kind %d", (int)f->kind);
	}
	return 0;
}

int fault_spec_check(const struct fault_spec *f, int64_t fault_phase_ns,
		     const char **reterr_key, char *msg, size_t msg_size)
{
	int r;

	if (reterr_key)
		*reterr_key = NULL;
	r = check_kind(f, reterr_key, msg, msg_size);
	if (r < 0)
		return r;
	r = check_delay(f, reterr_key, msg, msg_size);
	if (r < 0)
		return r;
	if (f->probability < 0 || f->probability > 1)
		FAIL("probability",
		     "'probability' must be between 0%% and 100%%");
	if (f->at_ns < 0)
		FAIL("at", "'at' must not be negative");
	if (f->for_ns == 0)
		FAIL("for", "'for' must be more than 0s");
	if (!fault_backend_possible(f->kind, f->backend))
		FAIL("backend",
		     "kind '%s' cannot use backend '%s'; use backend: auto",
		     fault_kind_name(f->kind), fault_backend_name(f->backend));
	return check_window(f, fault_phase_ns, reterr_key, msg, msg_size);
}

#undef FAIL

int fault_spec_validate(const struct fault_spec *f, int64_t fault_phase_ns,
			char *reterr_msg, size_t msg_size)
{
	return fault_spec_check(f, fault_phase_ns, NULL, reterr_msg, msg_size);
}

void fault_rng_seed(struct fault_rng *rng, uint64_t seed)
{
	/* xorshift has a fixed point at zero; spread the seed so that small
	 * seeds (1, 2, 3) still start far apart. */
	seed ^= 0x9e3779b97f4a7c15ULL;
	seed *= 0xbf58476d1ce4e5b9ULL;
	rng->s = seed ? seed : 0x853c49e6748fea9bULL;
}

uint64_t fault_rng_next(struct fault_rng *rng)
{
	uint64_t x = rng->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng->s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

bool fault_rng_chance(struct fault_rng *rng, double p)
{
	if (p >= 1.0)
		return true;
	if (p <= 0.0)
		return false;
	/* The top 53 bits give a uniform double in [0, 1). */
	return (double)(fault_rng_next(rng) >> 11) * 0x1.0p-53 < p;
}

int64_t fault_pick_delay(const struct fault_spec *f, struct fault_rng *rng)
{
	uint64_t span;
	int64_t d;

	if (f->delay_ns <= 0)
		return 0;
	if (f->jitter_ns <= 0)
		return f->delay_ns;
	span = 2 * (uint64_t)f->jitter_ns + 1;
	d = f->delay_ns - f->jitter_ns + (int64_t)(fault_rng_next(rng) % span);
	return d < 0 ? 0 : d;
}

int64_t fault_window_end(const struct fault_spec *f, int64_t fault_phase_ns)
{
	int64_t end;

	if (f->for_ns < 0)
		return fault_phase_ns;
	end = f->at_ns + f->for_ns;
	return end < fault_phase_ns ? end : fault_phase_ns;
}

bool fault_window_active(const struct fault_spec *f, int64_t t_ns,
			 int64_t fault_phase_ns)
{
	return t_ns >= f->at_ns && t_ns < fault_window_end(f, fault_phase_ns);
}

bool fault_path_matches(const struct fault_spec *f, const char *path)
{
	if (f->n_paths == 0)
		return true;
	if (!path)
		return false;
	/* No FNM_PATHNAME: a star also matches across slashes, into
	 * subdirectories. */
	for (size_t i = 0; i < f->n_paths; i++)
		if (fnmatch(f->paths[i], path, 0) == 0)
			return true;
	return false;
}

bool fault_peer_matches(const struct fault_peer *p, const struct sockaddr_storage *ss)
{
	struct in6_addr a6, want6;
	struct in_addr want4;
	uint16_t port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		port = ntohs(s->sin_port);
		/* Compare everything as IPv6, IPv4 addresses mapped. */
		memset(&a6, 0, sizeof(a6));
		a6.s6_addr[10] = a6.s6_addr[11] = 0xff;
		memcpy(&a6.s6_addr[12], &s->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		port = ntohs(s->sin6_port);
		a6 = s->sin6_addr;
	} else {
		return false;
	}
	if (p->port && p->port != port)
		return false;
	if (!p->host[0])
		return true;
	if (inet_pton(AF_INET, p->host, &want4) == 1) {
		memset(&want6, 0, sizeof(want6));
		want6.s6_addr[10] = want6.s6_addr[11] = 0xff;
		memcpy(&want6.s6_addr[12], &want4, 4);
	} else if (inet_pton(AF_INET6, p->host, &want6) != 1) {
		return false;
	}
	return memcmp(&a6, &want6, sizeof(a6)) == 0;
}
