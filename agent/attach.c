// SPDX-License-Identifier: Apache-2.0
/* Process selection and pre-flight checks for attach targets. Everything is
 * read from /proc; a process that vanishes while we look is simply not a
 * candidate. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"
#include "cleanup.h"
#include "procfs.h"

#define CAP_SYS_PTRACE_BIT 19
#define MAX_LISTED 6
#define CMDLINE_SHOWN 60
#define MAX_ANCESTORS 64

struct proc_status {
	char state;
	pid_t ppid;
	pid_t tracer;
	unsigned uid[4], gid[4];	/* real, effective, saved, fs */
	unsigned long long cap_prm, cap_eff;
};

static int read_file(const char *path, char *buf, size_t size, size_t *ret_len)
{
	fg_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return 0;
}

static int read_status(pid_t pid, struct proc_status *ret)
{
	char path[64], buf[4096];
	char *save = NULL;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = read_file(path, buf, sizeof(buf), NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	memset(ret, 0, sizeof(*ret));
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "State:", 6) == 0)
			ret->state = l[6 + strspn(l + 6, " \t")];
		else if (strncmp(l, "PPid:", 5) == 0)
			ret->ppid = (pid_t)strtol(l + 5, NULL, 10);
		else if (strncmp(l, "TracerPid:", 10) == 0)
			ret->tracer = (pid_t)strtol(l + 10, NULL, 10);
		else if (strncmp(l, "Uid:", 4) == 0)
			(void)sscanf(l + 4, "%u %u %u %u", &ret->uid[0], &ret->uid[1],
				     &ret->uid[2], &ret->uid[3]);
		else if (strncmp(l, "Gid:", 4) == 0)
			(void)sscanf(l + 4, "%u %u %u %u", &ret->gid[0], &ret->gid[1],
				     &ret->gid[2], &ret->gid[3]);
		else if (strncmp(l, "CapPrm:", 7) == 0)
			ret->cap_prm = strtoull(l + 7, NULL, 16);
		else if (strncmp(l, "CapEff:", 7) == 0)
			ret->cap_eff = strtoull(l + 7, NULL, 16);
	}
	return 0;
}

static void read_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_file(path, buf, size, &len) < 0) {
		snprintf(buf, size, "?");
		return;
	}
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
}

char *attach_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (read_file(path, buf, size, &len) < 0) {
		buf[0] = '\0';
		return buf;
	}
	while (len && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	return buf;
}

/* What never matches: our own binary anywhere, and our ancestors. */
struct exclusions {
	dev_t dev;
	ino_t ino;
	bool have_exe;
	pid_t ancestors[MAX_ANCESTORS];
	size_t n_ancestors;
};

static void exclusions_init(struct exclusions *x)
{
	struct stat st;
	pid_t p = getpid();

	memset(x, 0, sizeof(*x));
	if (stat("/proc/self/exe", &st) == 0) {
		x->dev = st.st_dev;
		x->ino = st.st_ino;
		x->have_exe = true;
	}
	while (p > 1 && x->n_ancestors < MAX_ANCESTORS) {
		struct proc_status s;

		x->ancestors[x->n_ancestors++] = p;
		if (read_status(p, &s) < 0)
			break;
		p = s.ppid;
	}
}

static bool excluded(const struct exclusions *x, pid_t pid)
{
	char path[64];
	struct stat st;

	for (size_t i = 0; i < x->n_ancestors; i++)
		if (x->ancestors[i] == pid)
			return true;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return x->have_exe && stat(path, &st) == 0 && st.st_dev == x->dev &&
	       st.st_ino == x->ino;
}

struct matches {
	pid_t *pid;
	size_t n, cap;
};

static int add_match(struct matches *m, pid_t pid)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		pid_t *p = realloc(m->pid, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		m->pid = p;
		m->cap = cap;
	}
	m->pid[m->n++] = pid;
	return 0;
}

static bool matches_spec(const struct target_spec *spec, const regex_t *re, pid_t pid)
{
	char buf[4096];

	if (spec->process_name) {
		read_comm(pid, buf, sizeof(buf));
		return strcmp(buf, spec->process_name) == 0;
	}
	attach_cmdline(pid, buf, sizeof(buf));
	return buf[0] && regexec(re, buf, 0, NULL, 0) == 0;
}

static int scan(const struct target_spec *spec, const regex_t *re, struct matches *m)
{
	struct exclusions x;
	DIR *d = opendir("/proc");
	struct dirent *de;
	int r = 0;

	if (!d)
		return -errno;
	exclusions_init(&x);
	while (r == 0 && (de = readdir(d))) {
		char cmd[8];
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || excluded(&x, (pid_t)pid))
			continue;
		/* Kernel threads have no command line; they are never targets. */
		if (!attach_cmdline((pid_t)pid, cmd, sizeof(cmd))[0])
			continue;
		if (matches_spec(spec, re, (pid_t)pid))
			r = add_match(m, (pid_t)pid);
	}
	closedir(d);
	return r;
}

static const char *describe_spec(const struct target_spec *spec, char *buf, size_t size)
{
	if (spec->process_name)
		snprintf(buf, size, "target.process.name '%s'", spec->process_name);
	else
		snprintf(buf, size, "target.process.cmdline '%s'", spec->process_cmdline);
	return buf;
}

/* "1234 (./svc --addr 127.0.0.1:8080), 1240 (...)" */
static void list_candidates(const struct matches *m, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->n && i < MAX_LISTED && len < size; i++) {
		char cmd[512];

		attach_cmdline(m->pid[i], cmd, sizeof(cmd));
		len += (size_t)snprintf(buf + len, size - len, "%s%d (%.*s%s)", i ? ", " : "",
					(int)m->pid[i], CMDLINE_SHOWN, cmd,
					strlen(cmd) > CMDLINE_SHOWN ? "..." : "");
	}
	if (m->n > MAX_LISTED && len < size)
		snprintf(buf + len, size - len, " and %zu more", m->n - MAX_LISTED);
}

static int select_process(const struct target_spec *spec, pid_t *ret, struct fg_error *reterr)
{
	struct matches m = {0};
	char what[160], list[900];
	regex_t re;
	int r;

	if (!spec->process_name) {
		if (!spec->process_cmdline ||
		    regcomp(&re, spec->process_cmdline, REG_EXTENDED | REG_NOSUB) != 0)
			return fg_error_set(reterr, EINVAL, spec->line, spec->col,
					    "target.process needs a name or a valid cmdline");
	}
	r = scan(spec, &re, &m);
	if (!spec->process_name)
		regfree(&re);
	describe_spec(spec, what, sizeof(what));
	if (r < 0) {
		free(m.pid);
		return fg_error_set(reterr, -r, spec->line, spec->col, "scan /proc for %s: %s",
				    what, strerror(-r));
	}
	if (m.n == 1) {
		*ret = m.pid[0];
		free(m.pid);
		return 0;
	}
	if (m.n == 0) {
		free(m.pid);
		return fg_error_set(reterr, ESRCH, spec->line, spec->col,
				    "no running process matches %s", what);
	}
	list_candidates(&m, list, sizeof(list));
	r = fg_error_set(reterr, EEXIST, spec->line, spec->col,
			 "%s matches %zu processes, it must match one: %s; "
			 "narrow it or use target.pid",
			 what, m.n, list);
	free(m.pid);
	return r;
}

int attach_select(const struct target_spec *spec, pid_t *ret, struct fg_error *reterr)
{
	struct proc_status s;
	struct exclusions x;

	switch (spec->mode) {
	case TARGET_PID:
		if (read_status(spec->pid, &s) < 0)
			return fg_error_set(reterr, ESRCH, spec->line, spec->col,
					    "target.pid %d: no such process", spec->pid);
		exclusions_init(&x);
		if (excluded(&x, spec->pid))
			return fg_error_set(reterr, EINVAL, spec->line, spec->col,
					    "target.pid %d is faultgate itself or one of its "
					    "parents; pick the service's pid",
					    spec->pid);
		*ret = spec->pid;
		return 0;
	case TARGET_PROCESS:
		return select_process(spec, ret, reterr);
	case TARGET_COMMAND:
	case TARGET_MODE_MAX:
	default:
		return fg_error_set(reterr, EINVAL, spec->line, spec->col,
				    "the target is not a running process");
	}
}

static int same_namespace(pid_t pid, const char *ns, struct fg_error *reterr)
{
	char path[64];
	struct stat ours, theirs;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	if (stat("/proc/self/ns/user", &ours) < 0)
		return 0;	/* no namespaces in this kernel */
	if (stat(path, &theirs) < 0) {
		if (errno == ENOENT)
			return fg_error_set(reterr, ESRCH, 0, 0, "pid %d: no such process",
					    (int)pid);
		return fg_error_set(reterr, EPERM, 0, 0,
				    "pid %d: cannot read its user namespace (%s): missing "
				    "CAP_SYS_PTRACE?",
				    (int)pid, strerror(errno));
	}
	if (ours.st_ino != theirs.st_ino || ours.st_dev != theirs.st_dev)
		return fg_error_set(reterr, EPERM, 0, 0,
				    "pid %d lives in another user namespace; run faultgate "
				    "inside it (e.g. nsenter -U -t %d)",
				    (int)pid, (int)pid);
	return 0;
}

static int yama_scope(void)
{
	char buf[16];

	if (read_file("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf), NULL) < 0)
		return 0;
	return (int)strtol(buf, NULL, 10);
}

static int may_ptrace(pid_t pid, const struct proc_status *t, struct fg_error *reterr)
{
	struct proc_status me;
	bool cap;
	int scope = yama_scope();

	if (read_status(getpid(), &me) < 0)
		return 0;
	cap = me.cap_eff & (1ULL << CAP_SYS_PTRACE_BIT);
	if (scope >= 3)
		return fg_error_set(reterr, EPERM, 0, 0,
				    "ptrace is disabled on this host "
				    "(kernel.yama.ptrace_scope = 3)");
	if (cap)
		return 0;
	if (scope >= 1)
		return fg_error_set(reterr, EPERM, 0, 0,
				    "missing CAP_SYS_PTRACE: kernel.yama.ptrace_scope = %d "
				    "allows attaching to pid %d only with it",
				    scope, (int)pid);
	for (int i = 0; i < 3; i++)
		if (t->uid[i] != me.uid[1] || t->gid[i] != me.gid[1])
			return fg_error_set(reterr, EPERM, 0, 0,
					    "missing CAP_SYS_PTRACE: pid %d runs as uid %u, "
					    "faultgate as uid %u",
					    (int)pid, t->uid[1], me.uid[1]);
	if (t->cap_prm & ~me.cap_prm)
		return fg_error_set(reterr, EPERM, 0, 0,
				    "missing CAP_SYS_PTRACE: pid %d holds capabilities "
				    "faultgate does not",
				    (int)pid);
	return 0;
}

/* Whether @pid is a kernel thread: PF_KTHREAD in the flags field of
 * /proc/PID/stat (the ninth). */
static bool kernel_thread(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long flags = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (fg_read_text(path, buf, sizeof(buf)) < 0)
		return false;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x00200000UL;	/* PF_KTHREAD */
}

int attach_preflight(pid_t pid, struct fg_error *reterr)
{
	struct proc_status s;
	char comm[64], tracer[64];
	int r;

	if (read_status(pid, &s) < 0)
		return fg_error_set(reterr, ESRCH, 0, 0, "pid %d: no such process", (int)pid);
	read_comm(pid, comm, sizeof(comm));
	if (s.state == 'Z' || s.state == 'X')
		return fg_error_set(reterr, ESRCH, 0, 0,
				    "pid %d ('%s') has exited (zombie)", (int)pid, comm);
	if (kernel_thread(pid))
		return fg_error_set(reterr, EINVAL, 0, 0,
				    "pid %d ('%s') is a kernel thread, not a program faultgate "
				    "can act on",
				    (int)pid, comm);
	r = same_namespace(pid, "user", reterr);
	if (r < 0)
		return r;
	if (s.tracer > 0) {
		read_comm(s.tracer, tracer, sizeof(tracer));
		return fg_error_set(reterr, EBUSY, 0, 0,
				    "pid %d ('%s') is already traced by pid %d ('%s'); "
				    "detach that tracer first",
				    (int)pid, comm, (int)s.tracer, tracer);
	}
	return may_ptrace(pid, &s, reterr);
}
