/* SPDX-License-Identifier: Apache-2.0 */
/* The fault model: kinds, their parameters, selectors and triggers. Pure data
 * and decisions; no I/O, no logging. Backends consume it. */
#ifndef FG_FAULT_H
#define FG_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fault_kind {
	FAULT_SLOW_IO,
	FAULT_IO_ERROR,
	FAULT_MEM_LEAK,
	FAULT_CGO_BLOCK,
	FAULT_PIN_THREADS,
	FAULT_GOMAXPROCS,
	FAULT_FREEZE_THREAD,
	FAULT_KIND_MAX,
};

enum fault_backend {
	FAULT_BACKEND_AUTO,
	FAULT_BACKEND_PRELOAD,
	FAULT_BACKEND_SECCOMP,
	FAULT_BACKEND_PTRACE,
	FAULT_BACKEND_AFFINITY,	/* chosen by auto only, never written by users */
	FAULT_BACKEND_ENV,	/* gomaxprocs mode: launch */
	FAULT_BACKEND_MAX,
};

/* Syscall families (bit flags): read = read, readv, pread64, preadv,
 * preadv2, recvfrom, recvmsg, recvmmsg; write = the matching family. */
enum {
	FAULT_SYS_READ = 1u << 0,
	FAULT_SYS_WRITE = 1u << 1,
};

enum fault_fds {
	FAULT_FDS_ANY,
	FAULT_FDS_SOCKETS,
	FAULT_FDS_FILES,
	FAULT_FDS_MAX,
};

enum fault_pick {
	FAULT_PICK_BUSIEST,
	FAULT_PICK_RANDOM,
	FAULT_PICK_TIDS,
	FAULT_PICK_MAX,
};

enum fault_gomaxprocs_mode {
	FAULT_GOMAXPROCS_LIVE,
	FAULT_GOMAXPROCS_LAUNCH,
	FAULT_GOMAXPROCS_MODE_MAX,
};

/* A peer selector ":5432" or "10.0.0.1:5432" or "[::1]:80"; host empty = any
 * host. Matched against the socket's remote address. */
struct fault_peer {
	char host[64];		/* numeric address text, "" for any */
	uint16_t port;		/* 0 = any port (only with a host) */
};

#define FAULT_MAX_LIST 32
#define FAULT_MAX_DELAY_NS (60LL * 1000000000LL)
#define FAULT_MAX_HOLD_NS (10LL * 1000000000LL)
#define FAULT_DEFAULT_LEAK_RATE (16.0 * 1024 * 1024)	/* mem-leak bytes per second */

struct fault_spec {
	enum fault_kind kind;
	enum fault_backend backend;	/* as written; AUTO until resolved */
	unsigned line, col;		/* where the fault starts in the playbook */

	/* Window inside the fault phase. for_ns < 0 means "to the phase end". */
	int64_t at_ns;
	int64_t for_ns;
	double probability;		/* fraction 0..1, default 1 */

	/* slow-io, io-error */
	unsigned syscalls;		/* FAULT_SYS_* bits */
	enum fault_fds fds;
	char **paths;			/* fnmatch globs, * crosses '/' */
	size_t n_paths;
	struct fault_peer *peers;
	size_t n_peers;
	int64_t delay_ns;		/* slow-io, cgo-block */
	int64_t jitter_ns;
	int err;			/* io-error: positive errno, default EIO */
	bool allow_long;		/* lift the 60 s delay cap */

	/* mem-leak */
	double rate_bytes_per_s;
	uint64_t limit_bytes;
	bool touch;
	bool release;

	/* cgo-block */
	char **symbols;
	size_t n_symbols;

	/* pin-threads */
	int *cpus;
	size_t n_cpus;

	/* gomaxprocs */
	int gomaxprocs;
	enum fault_gomaxprocs_mode gomaxprocs_mode;

	/* freeze-thread */
	enum fault_pick pick;
	int *tids;
	size_t n_tids;
	int threads;
	int64_t hold_ns;
	int64_t every_ns;
};

/** fault_kind_name() - "slow-io" etc.; NULL for an invalid kind. */
const char *fault_kind_name(enum fault_kind kind);
/** fault_kind_from_name() - the kind, or -EINVAL. */
int fault_kind_from_name(const char *name);
const char *fault_backend_name(enum fault_backend b);
int fault_backend_from_name(const char *name);
const char *fault_fds_name(enum fault_fds f);
int fault_fds_from_name(const char *name);

/** fault_errno_from_name() - "EIO" -> EIO; -EINVAL if unknown. */
int fault_errno_from_name(const char *name);
/** fault_errno_name() - EIO -> "EIO"; NULL if not in the table. */
const char *fault_errno_name(int err);
/** fault_errno_names() - the accepted names, comma-separated, into @buf. */
const char *fault_errno_names(char *buf, size_t size);

/**
 * fault_peer_parse() - parse ":5432", "127.0.0.1:80", "[::1]:80".
 * Return: 0, or -EINVAL.
 */
int fault_peer_parse(const char *s, struct fault_peer *ret);

struct sockaddr_storage;

/**
 * fault_peer_matches() - whether the remote address @ss (AF_INET or
 * AF_INET6; IPv4-mapped IPv6 compares as IPv4) is selected by @p.
 */
bool fault_peer_matches(const struct fault_peer *p, const struct sockaddr_storage *ss);

/** fault_spec_init() - defaults for @kind (probability 1, for = phase end, ...). */
void fault_spec_init(struct fault_spec *f, enum fault_kind kind);
/** fault_spec_done() - free the lists owned by @f. */
void fault_spec_done(struct fault_spec *f);

/**
 * fault_spec_finish() - apply the defaults that depend on other fields or
 * need memory, once all parameters are set: cgo-block symbols
 * [getaddrinfo], freeze-thread every = hold and pick = tids when tids are
 * given.
 *
 * Return: 0, or -ENOMEM.
 */
int fault_spec_finish(struct fault_spec *f);

/**
 * fault_spec_check() - fault_spec_validate(), also naming the parameter to
 * blame in @reterr_key ("jitter", "for", ...; NULL when the fault as a
 * whole is wrong, e.g. a required parameter is missing).
 * @fault_phase_ns: length of the fault phase; <= 0 skips the window checks.
 *
 * Return: 0, or -EINVAL.
 */
int fault_spec_check(const struct fault_spec *f, int64_t fault_phase_ns, const char **reterr_key,
		     char *msg, size_t msg_size);

/**
 * fault_spec_validate() - cross-field checks that a schema cannot express
 * (caps, required fields per kind). Writes a message into @reterr_msg.
 *
 * Return: 0, or -EINVAL / -ERANGE.
 */
int fault_spec_validate(const struct fault_spec *f, int64_t fault_phase_ns, char *reterr_msg,
			size_t msg_size);

/* A small deterministic PRNG (xorshift64*) so decisions are reproducible
 * under a seed and cost no syscall. */
struct fault_rng {
	uint64_t s;
};

void fault_rng_seed(struct fault_rng *rng, uint64_t seed);
uint64_t fault_rng_next(struct fault_rng *rng);
/** fault_rng_chance() - true with probability @p (0..1). */
bool fault_rng_chance(struct fault_rng *rng, double p);

/** fault_pick_delay() - delay_ns with jitter applied uniformly in +-jitter, never < 0. */
int64_t fault_pick_delay(const struct fault_spec *f, struct fault_rng *rng);

/**
 * fault_window_active() - whether @f is active @t_ns after the fault phase
 * started, given the phase length.
 */
bool fault_window_active(const struct fault_spec *f, int64_t t_ns, int64_t fault_phase_ns);

/** fault_window_end() - end offset of the window inside the fault phase. */
int64_t fault_window_end(const struct fault_spec *f, int64_t fault_phase_ns);

/** fault_path_matches() - @path matches one of f->paths (true when none given). */
bool fault_path_matches(const struct fault_spec *f, const char *path);

#endif
