// SPDX-License-Identifier: Apache-2.0
/* The journal of changes made to targets (format in journal.h), the link
 * under the run-state directory that lets `faultgate recover` find it, and
 * the replayer that undoes what a crashed runner left behind. */
#define FG_LOG_COMPONENT "journal"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "journal.h"
#include "log.h"
#include "tracee.h"

#define LINE_MAX_LEN 1024
#define JOURNAL_MAX_BYTES (16 << 20)
#define SEIZE_TIMEOUT_NS (2 * 1000000000LL)
#define RUN_DIR_DEFAULT "/run/faultgate"


struct journal {
	int fd;
	int next_id;
	char path[PATH_MAX];
	char link[PATH_MAX];	/* "" when no link could be made */
};

/* ---- writing ------------------------------------------------------------ */

static int write_line(int fd, const char *line, size_t len)
{
	ssize_t n;

	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int mkdir_private(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int journal_run_dir(char *buf, size_t size)
{
	const char *env = secure_getenv("FAULTGATE_RUN_DIR");
	const char *xdg;

	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return mkdir_private(buf);
	}
	snprintf(buf, size, "%s", RUN_DIR_DEFAULT);
	if (mkdir_private(buf) == 0 && access(buf, W_OK) == 0)
		return 0;
	xdg = secure_getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg)
		snprintf(buf, size, "%s/faultgate", xdg);
	else
		snprintf(buf, size, "/tmp/faultgate-%u", (unsigned)getuid());
	return mkdir_private(buf);
}

/* <run dir>/<pid>.journal -> the absolute journal path. */
static void make_link(struct journal *j)
{
	char dir[PATH_MAX - 32];
	int r;

	j->link[0] = '\0';
	r = journal_run_dir(dir, sizeof(dir));
	if (r < 0) {
		(void)log_warn_errno(r, "create the run-state directory '%s'; "
				  "recover will need --journal %s", dir, j->path);
		return;
	}
	snprintf(j->link, sizeof(j->link), "%s/%d.journal", dir, (int)getpid());
	(void)unlink(j->link);
	if (symlink(j->path, j->link) < 0) {
		(void)log_warn_errno(-errno, "link '%s'; recover will need --journal %s",
			       j->link, j->path);
		j->link[0] = '\0';
	}
}

int journal_open(const char *path, struct journal **ret)
{
	fg_autofree struct journal *j = calloc(1, sizeof(*j));
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int n;

	if (!j)
		return -ENOMEM;
	/* Absolute, so that a guardian or `recover` elsewhere finds it. */
	if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (!dir[0])
			snprintf(dir, sizeof(dir), "/");
	} else {
		snprintf(dir, sizeof(dir), ".");
	}
	if (!realpath(dir, real))
		return -errno;
	n = snprintf(j->path, sizeof(j->path), "%s/%s", strcmp(real, "/") ? real : "",
		     slash ? slash + 1 : path);
	if (n < 0 || (size_t)n >= sizeof(j->path))
		return -ENAMETOOLONG;
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0)
		return -errno;
	make_link(j);
	*ret = fg_steal_ptr(j);
	return 0;
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks since boot. */
static int proc_start_time(pid_t pid, unsigned long long *ret)
{
	char path[64], buf[1024], *p;
	fg_autoclose int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: count from the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	for (int field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EIO;
	}
	*ret = strtoull(p + 1, NULL, 10);
	return 0;
}

int journal_target(struct journal *j, pid_t pid)
{
	unsigned long long start = 0;
	char line[96];
	int len;

	if (!j)
		return 0;
	(void)proc_start_time(pid, &start);
	len = snprintf(line, sizeof(line), "target pid=%d start=%llu\n", (int)pid, start);
	return write_line(j->fd, line, (size_t)len);
}

int journal_begin(struct journal *j, const char *kind, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int id, len, n, r;

	if (!j)
		return -EBADF;
	id = __atomic_add_fetch(&j->next_id, 1, __ATOMIC_SEQ_CST);
	len = snprintf(line, sizeof(line), "begin %d %s ", id, kind);
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)(len + n) >= sizeof(line) - 1)
		return -ENAMETOOLONG;
	len += n;
	line[len++] = '\n';
	r = write_line(j->fd, line, (size_t)len);
	return r < 0 ? r : id;
}

int journal_end(struct journal *j, int id)
{
	char line[32];
	int len;

	if (!j)
		return -EBADF;
	len = snprintf(line, sizeof(line), "end %d\n", id);
	return write_line(j->fd, line, (size_t)len);
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

struct journal *journal_close(struct journal *j)
{
	if (!j)
		return NULL;
	if (write_line(j->fd, "close\n", 6) < 0)
		(void)log_warn_errno(-errno, "write 'close' to %s", j->path);
	close(j->fd);
	if (j->link[0])
		(void)unlink(j->link);
	free(j);
	return NULL;
}

/* ---- reading ------------------------------------------------------------ */

struct entry {
	int id;
	bool ended;
	char kind[24];
	char *args;		/* points into the file buffer */
};

struct parsed {
	char *buf;
	struct entry *e;
	size_t n;
	bool closed;
	/* target lines: pid and start time, to tell a reused pid */
	pid_t tpid[8];
	unsigned long long tstart[8];
	size_t n_targets;
};

static void parsed_done(struct parsed *p)
{
	free(p->buf);
	free(p->e);
}

static int read_all(int fd, char **ret)
{
	fg_autofree char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;

			if (cap >= JOURNAL_MAX_BYTES)
				return -EFBIG;
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf) {
		buf = strdup("");
		if (!buf)
			return -ENOMEM;
	}
	buf[len] = '\0';
	*ret = fg_steal_ptr(buf);
	return 0;
}

static struct entry *find_entry(struct parsed *p, int id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].id == id)
			return &p->e[i];
	return NULL;
}

/* Unknown lines are skipped: a newer runner may write more kinds of them. */
static int parse_line(struct parsed *p, char *line)
{
	struct entry *e;
	char *rest;
	long id;

	if (strcmp(line, "close") == 0) {
		p->closed = true;
		return 0;
	}
	if (strncmp(line, "target ", 7) == 0) {
		int pid;
		unsigned long long start;

		if (p->n_targets < 8 &&
		    sscanf(line + 7, "pid=%d start=%llu", &pid, &start) == 2) {
			p->tpid[p->n_targets] = pid;
			p->tstart[p->n_targets++] = start;
		}
		return 0;
	}
	if (strncmp(line, "end ", 4) == 0) {
		e = find_entry(p, (int)strtol(line + 4, NULL, 10));
		if (e)
			e->ended = true;
		return 0;
	}
	if (strncmp(line, "begin ", 6) != 0)
		return 0;
	id = strtol(line + 6, &rest, 10);
	if (id <= 0 || *rest != ' ')
		return 0;
	e = &p->e[p->n++];
	e->id = (int)id;
	rest++;
	snprintf(e->kind, sizeof(e->kind), "%.*s", (int)strcspn(rest, " "), rest);
	rest += strcspn(rest, " ");
	e->args = *rest ? rest + 1 : rest;
	return 0;
}

static int parse_journal(int fd, struct parsed *ret)
{
	size_t lines = 1;
	char *save = NULL, *line;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = read_all(fd, &ret->buf);
	if (r < 0)
		return r;
	for (char *c = ret->buf; *c; c++)
		lines += *c == '\n';
	ret->e = calloc(lines, sizeof(*ret->e));
	if (!ret->e) {
		parsed_done(ret);
		return -ENOMEM;
	}
	for (line = strtok_r(ret->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		(void)parse_line(ret, line);
	return 0;
}

/* The value of " key=" in @args into @buf. Return: 0 or -ENOENT. */
static int arg(const char *args, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = args; *p; p += strcspn(p, " "), p += *p == ' ') {
		size_t vlen;

		if (strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		vlen = strcspn(p + klen + 1, " ");
		snprintf(buf, size, "%.*s", (int)vlen, p + klen + 1);
		return 0;
	}
	return -ENOENT;
}

static int arg_ull(const char *args, const char *key, unsigned long long *ret)
{
	char buf[64], *end;

	if (arg(args, key, buf, sizeof(buf)) < 0)
		return -ENOENT;
	errno = 0;
	*ret = strtoull(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

/* Whether @pid is still the process the journal was written about.
 * Return: 1 same process, 0 gone (or reused by another process). */
static int same_process(const struct parsed *p, pid_t pid)
{
	unsigned long long now;

	if (proc_start_time(pid, &now) < 0)
		return 0;
	for (size_t i = 0; i < p->n_targets; i++)
		if (p->tpid[i] == pid && p->tstart[i] && p->tstart[i] != now)
			return 0;
	return 1;
}

/* ---- reverting ---------------------------------------------------------- */

/* "ff" or "ff,ffffffff" (the /proc Cpus_allowed form), most significant
 * digit first, into @set. */
static int parse_mask(const char *hex, cpu_set_t *set)
{
	size_t len = strlen(hex);
	int bit = 0;

	CPU_ZERO(set);
	if (strncmp(hex, "0x", 2) == 0) {
		hex += 2;
		len -= 2;
	}
	if (!len)
		return -EINVAL;
	for (size_t i = len; i-- > 0;) {
		int v;

		if (hex[i] == ',')
			continue;
		if (!isxdigit((unsigned char)hex[i]))
			return -EINVAL;
		v = isdigit((unsigned char)hex[i]) ? hex[i] - '0'
						   : tolower((unsigned char)hex[i]) - 'a' + 10;
		for (int b = 0; b < 4; b++, bit++)
			if ((v >> b) & 1 && bit < CPU_SETSIZE)
				CPU_SET(bit, set);
	}
	return CPU_COUNT(set) ? 0 : -EINVAL;
}

static int revert_affinity(const struct parsed *p, const struct entry *e)
{
	unsigned long long pid, tid;
	char hex[512], task[96];
	cpu_set_t set;

	if (arg_ull(e->args, "tid", &tid) < 0 || arg(e->args, "mask", hex, sizeof(hex)) < 0 ||
	    parse_mask(hex, &set) < 0)
		return -EINVAL;
	if (arg_ull(e->args, "pid", &pid) == 0) {
		/* The thread must still belong to the same process: a tid
		 * reused elsewhere is not ours to touch. */
		if (!same_process(p, (pid_t)pid))
			return 0;
		snprintf(task, sizeof(task), "/proc/%llu/task/%llu", pid, tid);
		if (access(task, F_OK) < 0)
			return 0;
	}
	if (sched_setaffinity((pid_t)tid, sizeof(set), &set) < 0)
		return errno == ESRCH ? 0 : -errno;
	return 0;
}

/* Whether [addr, addr+len) of @pid is still wholly anonymous memory, as we
 * mapped it. The kernel merges adjacent anonymous mappings into one, so the
 * range may lie inside a larger mapping or span several. A range the target
 * unmapped itself, even in part, or that now holds a file, is left alone. */
static bool mapping_present(pid_t pid, unsigned long long addr, unsigned long long len)
{
	unsigned long long covered = addr;

	char path[64], line[512];
	fg_autofclose FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long from, to, off, inode;
		char perms[8], dev[16];
		int n = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %15s %llu %n", &from, &to, perms, &off, dev,
			   &inode, &n) < 6)
			continue;
		if (to <= covered || from > covered)
			continue;	/* /proc/PID/maps is sorted by address */
		if (inode != 0 || (line[n] != '\0' && line[n] != '\n'))
			return false;
		covered = to;
		if (covered >= addr + len)
			return true;
	}
	return false;
}

static int revert_mmap(const struct parsed *p, const struct entry *e)
{
	unsigned long long pid, addr, len;
	long args[6] = {0}, ret = 0;
	int sig = 0, r;

	if (arg_ull(e->args, "pid", &pid) < 0 || arg_ull(e->args, "addr", &addr) < 0 ||
	    arg_ull(e->args, "len", &len) < 0)
		return -EINVAL;
	if (!same_process(p, (pid_t)pid) || !mapping_present((pid_t)pid, addr, len))
		return 0;
	r = tracee_seize_stop((pid_t)pid, SEIZE_TIMEOUT_NS, &sig);
	if (r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	args[0] = (long)addr;
	args[1] = (long)len;
	r = tracee_inject_syscall((pid_t)pid, (pid_t)pid, SYS_munmap, args, &ret, &sig);
	(void)tracee_release((pid_t)pid, sig);
	if (r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	return ret < 0 ? (int)ret : 0;
}

static int revert_gomaxprocs(const struct parsed *p, const struct entry *e)
{
	unsigned long long pid, value;
	int r;

	if (arg_ull(e->args, "pid", &pid) < 0 || arg_ull(e->args, "value", &value) < 0)
		return -EINVAL;
	if (!same_process(p, (pid_t)pid))
		return 0;
	r = journal_gomaxprocs_restore((pid_t)pid, (int)value);
	return r == -ESRCH ? 0 : r;
}

static int revert_nothing(const struct parsed *p, const struct entry *e)
{
	return 0;
}

/* clang-format off */
static const struct {
	const char *kind;
	int (*revert)(const struct parsed *p, const struct entry *e);
} reverts[] = {
	{ "affinity",   revert_affinity },
	{ "mmap",       revert_mmap },
	{ "gomaxprocs", revert_gomaxprocs },
	/* the kernel resumes a frozen thread when its tracer goes */
	{ "freeze",     revert_nothing },
};
/* clang-format on */

static int revert(const struct parsed *p, const struct entry *e)
{
	for (size_t i = 0; i < sizeof(reverts) / sizeof(reverts[0]); i++)
		if (strcmp(reverts[i].kind, e->kind) == 0)
			return reverts[i].revert(p, e);
	return -EPROTONOSUPPORT;
}

int journal_replay(const char *path, int *reverted, int *failed)
{
	fg_autoclose int fd = -1;
	struct parsed p;
	int ok = 0, bad = 0, r;

	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The guardian and `recover` may both try: one at a time, and the
	 * second then sees the end lines of the first. */
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	r = parse_journal(fd, &p);
	if (r < 0)
		return r;
	for (size_t i = p.n; i-- > 0;) {
		struct entry *e = &p.e[i];
		char line[32];
		int k;

		if (e->ended)
			continue;
		k = revert(&p, e);
		if (k < 0) {
			(void)log_warn_errno(k, "revert %s entry %d (%s) of %s",
					     e->kind, e->id, e->args, path);
			bad++;
			continue;
		}
		log_debug("reverted %s entry %d (%s)", e->kind, e->id, e->args);
		k = snprintf(line, sizeof(line), "end %d\n", e->id);
		(void)write_line(fd, line, (size_t)k);
		ok++;
	}
	parsed_done(&p);
	if (reverted)
		*reverted = ok;
	if (failed)
		*failed = bad;
	return bad ? -EIO : 0;
}

int journal_state(const char *path, int *ret_open)
{
	fg_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct parsed p;
	int open_entries = 0, r;

	if (fd < 0)
		return -errno;
	r = parse_journal(fd, &p);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p.n; i++)
		open_entries += !p.e[i].ended;
	r = p.closed;
	parsed_done(&p);
	if (ret_open)
		*ret_open = open_entries;
	return r;
}
