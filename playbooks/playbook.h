/* SPDX-License-Identifier: Apache-2.0 */
/* The playbook, version 1: the user contract of docs/playbook.md, loaded and
 * validated up front. Every error carries the YAML position. */
#ifndef FG_PLAYBOOK_H
#define FG_PLAYBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "fault.h"
#include "gate_expr.h"

enum target_mode {
	TARGET_COMMAND,
	TARGET_PID,
	TARGET_PROCESS,
	TARGET_MODE_MAX,
};

enum ready_kind {
	READY_NONE,	/* ready as soon as the command has been executed */
	READY_HTTP,	/* a 2xx/3xx answer from the URL */
	READY_TCP,	/* a TCP connect to host:port succeeds */
	READY_AFTER,	/* a fixed delay */
	READY_KIND_MAX,
};

struct ready_spec {
	enum ready_kind kind;
	char *http_url;
	char *tcp_host;		/* numeric or name, as written */
	uint16_t tcp_port;
	int64_t after_ns;
	int64_t timeout_ns;	/* default 10 s */
};

struct target_spec {
	enum target_mode mode;
	unsigned line, col;
	/* command */
	char **argv;		/* NULL-terminated */
	size_t argc;
	char **env;		/* "KEY=VALUE", NULL-terminated; added to faultgate's own */
	size_t n_env;
	char *cwd;		/* NULL: faultgate's working directory */
	struct ready_spec ready;
	int64_t stop_grace_ns;	/* default 5 s */
	/* pid / process */
	int pid;
	char *process_name;	/* comm, exact */
	char *process_cmdline;	/* POSIX extended regex over the NUL-joined-by-space cmdline */
};

enum load_kind {
	LOAD_NONE,
	LOAD_HTTP,
	LOAD_COMMAND,
	LOAD_KIND_MAX,
};

struct status_range {
	int lo, hi;
};

struct load_spec {
	enum load_kind kind;
	unsigned line, col;
	/* http */
	char *url;
	char *method;		/* default GET */
	char **headers;		/* "Name: value", NULL-terminated */
	size_t n_headers;
	char *body;
	double rate_per_s;	/* default 100 */
	int connections;	/* default 64 */
	int64_t timeout_ns;	/* default 2 s */
	struct status_range *ok_status;	/* default 200-299 */
	size_t n_ok_status;
	/* command */
	char **argv;		/* NULL-terminated */
	size_t argc;
	int64_t every_ns;	/* default 1 s */
	/* command timeout shares timeout_ns (default 5 s for commands) */
};

enum phase {
	PHASE_BASELINE,
	PHASE_FAULT,
	PHASE_RECOVERY,
	PHASE_MAX,
};

/* A gate or stop condition without `during` covers the whole run. */
#define PHASE_ALL PHASE_MAX

struct playbook {
	char *path;		/* as given on the command line */
	char *name;
	char *description;	/* NULL when absent */
	struct target_spec target;
	struct load_spec load;	/* kind LOAD_NONE when absent */
	int64_t phase_ns[PHASE_MAX];
	struct fault_spec *faults;
	size_t n_faults;
	struct gate_expr *gates;
	size_t n_gates;
	struct gate_expr *aborts;
	size_t n_aborts;
	char *report_dir;	/* default "faultgate-out" */
	uint64_t seed;		/* random decisions; default from the clock */
	bool has_seed;
};

/* Hard limits on user-controlled sizes. */
#define PLAYBOOK_MAX_BYTES (1024 * 1024)
#define PLAYBOOK_MAX_DEPTH 16
#define PLAYBOOK_MAX_FAULTS 32
#define PLAYBOOK_MAX_GATES 64

/**
 * playbook_load() - read, parse and validate the playbook at @path.
 * @reterr: on failure, the first problem with its line and column.
 *
 * Return: 0, -ENOENT/-EACCES/-EISDIR (cannot read), -EFBIG (over the size
 * cap), -EINVAL (syntax or schema), -ERANGE (value out of range), -ENOMEM.
 */
int playbook_load(const char *path, struct playbook **ret, struct fg_error *reterr);

/** playbook_load_string() - the same from memory; @name is used as path. */
int playbook_load_string(const char *text, size_t len, const char *name, struct playbook **ret,
			 struct fg_error *reterr);

/** playbook_free() - release @pb (NULL is fine). Return: NULL. */
struct playbook *playbook_free(struct playbook *pb);

const char *phase_name(enum phase p);
/** phase_from_name() - "baseline" etc., or -EINVAL. */
int phase_from_name(const char *name);

#endif
