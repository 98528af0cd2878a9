/* SPDX-License-Identifier: Apache-2.0 */
/* The journal: before each change to a target, one line saying what is about
 * to change and how to undo it; after the revert, a line saying it is done.
 * A guardian process replays what is left if the runner dies; `faultgate
 * recover` does the same by hand. Line format (text, one entry a line):
 *   begin ID KIND key=value ...    e.g. begin 3 affinity pid=12 tid=14 mask=ff
 *   end ID
 *   close                          the runner ended and reverted everything
 *   target pid=12 start=345        the target's start time (clock ticks), to
 *                                  tell a reused pid; optional
 * Kinds known to the replayer: affinity (tid, mask as hex of the original),
 * mmap (pid, addr, len: munmap by injection), gomaxprocs (pid, value: the
 * original), freeze (tid: nothing to do, the kernel released it). */
#ifndef FG_JOURNAL_H
#define FG_JOURNAL_H

#include <stddef.h>
#include <sys/types.h>

struct journal;

/**
 * journal_open() - create the journal at @path (truncated), O_APPEND,
 * every line written with a single write(2).
 * Return: 0, -errno.
 */
int journal_open(const char *path, struct journal **ret);

/**
 * journal_begin() - record a change before making it.
 * Return: the entry id (> 0), or -errno.
 */
int journal_begin(struct journal *j, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** journal_end() - the change with @id was reverted. Return: 0 or -errno. */
int journal_end(struct journal *j, int id);

/** journal_close() - write "close" and free. NULL is fine. Return: NULL. */
struct journal *journal_close(struct journal *j);

/** journal_path() - where it is. */
const char *journal_path(const struct journal *j);

/**
 * journal_replay() - revert every entry of the journal at @path that has a
 * begin but no end, newest first, and append the end lines.
 * @reverted/@failed: counts (may be NULL).
 * Return: 0 when everything left was reverted (or nothing was left),
 * -EIO when some entry could not be, -ENOENT/-EACCES for the file.
 */
int journal_replay(const char *path, int *reverted, int *failed);

/**
 * journal_guardian_start() - fork a guardian that waits for the runner (the
 * caller) to exit; if the journal is not closed by then, it replays it.
 * Return: the guardian's pid, or -errno.
 */
pid_t journal_guardian_start(const char *path);

/* Additions to the first contract (guardian.c, journal.c): */

/**
 * journal_guardian_stop() - after journal_close(): tell the guardian its
 * work is over and reap it (up to 2 s). A guardian that finds the journal
 * not closed keeps watching instead.
 * Return: 0, -ETIMEDOUT (it is still running), -ECHILD.
 */
int journal_guardian_stop(pid_t guardian);

/**
 * journal_target() - record the target's pid and start time ("target
 * pid=N start=T"), so that a replay never acts on a reused pid.
 * Return: 0 or -errno.
 */
int journal_target(struct journal *j, pid_t pid);

/**
 * journal_run_dir() - the run-state directory where every open journal is
 * linked as <runner pid>.journal: $FAULTGATE_RUN_DIR, else /run/faultgate,
 * else $XDG_RUNTIME_DIR/faultgate or /tmp/faultgate-UID; created 0700.
 * Return: 0 or -errno (@buf holds the path it tried).
 */
int journal_run_dir(char *buf, size_t size);

/**
 * journal_state() - whether the journal at @path is closed.
 * @ret_open: entries with a begin and no end (may be NULL).
 * Return: 1 closed, 0 not closed, -errno for the file.
 */
int journal_state(const char *path, int *ret_open);

/**
 * journal_gomaxprocs_restore() - set GOMAXPROCS of @pid back to @value
 * through the runtime; what the replayer does for a gomaxprocs entry.
 * Provided by the GOMAXPROCS engine (engine_gomaxprocs.c).
 * Return: 0 or -errno (-ESRCH when the process is gone).
 */
int journal_gomaxprocs_restore(pid_t pid, int value);

#endif
