// SPDX-License-Identifier: Apache-2.0
/* The seccomp user-notification supervisor: one thread that answers trapped
 * syscalls at once, fails them, or holds them in a timer heap; and the
 * keeper's helpers that answer CONTINUE when the runner is gone. */
#define FG_LOG_COMPONENT "notify"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdinfo.h"
#include "log.h"
#include "notify.h"
#include "notify_private.h"
#include "units.h"

/* Kernel 6.6; the Debian uapi header lacks both. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* Ids past the highest recorded one that the keeper answers blindly: the
 * runner may have received a few without recording them. */
#define KEEPER_ID_LOOKAHEAD 64
#define PEER_CACHE_SIZE 64

struct notify_shared *notify_shared_create(void)
{
	void *p = mmap(NULL, sizeof(struct notify_shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void notify_shared_free(struct notify_shared *s)
{
	if (s)
		munmap(s, sizeof(*s));
}

/* Answer @id. Return: 0; -ENOENT when the syscall was withdrawn or its task
 * is gone; -EINPROGRESS when the id was not delivered yet; other -errno. */
static int respond(int listener, uint64_t id, int err)
{
	struct seccomp_notif_resp resp = { .id = id };

	if (err)
		resp.error = -err;
	else
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
		return -errno;
	return 0;
}

/* Buffers sized by the kernel, which may know a larger struct than ours. */
struct notif_buf {
	struct seccomp_notif *req;
	size_t size;
};

static int notif_buf_init(struct notif_buf *b)
{
	struct seccomp_notif_sizes sizes = { 0 };

	b->size = sizeof(*b->req);
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0 &&
	    sizes.seccomp_notif > b->size)
		b->size = sizes.seccomp_notif;
	b->req = calloc(1, b->size);
	return b->req ? 0 : -ENOMEM;
}

/* Receive one notification. Return: 1 received, 0 nothing (withdrawn or
 * interrupted), -ENOENT no task left, other -errno. */
static int receive(int listener, struct notif_buf *b)
{
	memset(b->req, 0, b->size);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, b->req) == 0)
		return 1;
	/* ENOENT after POLLIN: the notification was withdrawn in between (a
	 * signal reached the thread; Go preempts with SIGURG). Nothing to
	 * answer, and more will come: a filter with no task left shows as
	 * POLLHUP instead, which the loops check. */
	if (errno == EINTR || errno == ENOENT)
		return 0;
	return -errno;
}

int notify_keeper_takeover(int listener, struct notify_shared *s)
{
	uint64_t max_id;
	int n = 0;

	for (size_t i = 0; i < NOTIFY_SHARED_SLOTS; i++) {
		uint64_t id = atomic_exchange(&s->inflight[i], 0);

		if (id && respond(listener, id, 0) == 0)
			n++;
	}
	/* The highest recorded id itself may be mid-decision, and ids are
	 * handed out in sequence, so the next few are the ones the runner
	 * may have received without recording. Answering an id that has not
	 * been delivered is refused (EINPROGRESS), which keeps this safe. */
	max_id = atomic_load(&s->max_id);
	for (uint64_t k = 0; k <= KEEPER_ID_LOOKAHEAD; k++)
		if (respond(listener, max_id + k, 0) == 0)
			n++;
	return n;
}

void notify_continue_loop(int listener, int stop_fd)
{
	struct notif_buf b;

	if (notif_buf_init(&b) < 0)
		return;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = listener, .events = POLLIN },
			{ .fd = stop_fd, .events = POLLIN },
		};
		int r;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN) {
			r = receive(listener, &b);
			if (r > 0)
				(void)respond(listener, b.req->id, 0);
			else if (r < 0)
				break;
		}
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			break;
	}
	free(b.req);
}

struct held {
	int64_t due_ns;
	uint64_t id;
	unsigned slot;
};

struct counters {
	_Atomic uint64_t seen;
	_Atomic uint64_t delayed;
	_Atomic uint64_t failed;
	_Atomic int64_t delay_total_ns;
};

struct peer_entry {
	unsigned long ino;	/* 0 = empty */
	struct sockaddr_storage addr;
};

enum fd_class {
	FD_OTHER,
	FD_FILE,
	FD_SOCKET,
};

/* What is known about the fd of the notification being decided; filled
 * lazily so syscalls outside every window cost no /proc read. */
struct fd_info {
	bool classified;
	enum fd_class cls;
	char path[4096];
	unsigned long ino;
	int peer_state;		/* 0 unknown, 1 known, -1 none */
	struct sockaddr_storage peer;
};

struct notify {
	int listener;
	pid_t target;
	const struct fault_spec *faults;
	bool *served;
	size_t n;
	int64_t start_ns;
	int64_t phase_ns;
	struct fault_rng rng;
	struct notify_shared *shared;
	struct counters *cnt;

	int tfd;
	int efd;
	pthread_t thread;
	bool started;
	bool joined;

	_Atomic bool disarmed;
	_Atomic bool stopping;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t disarm_asked;	/* under lock */
	uint64_t disarm_done;
	bool exited;

	struct held *heap;
	size_t heap_len;
	size_t heap_cap;
	unsigned slot_hint;
	struct peer_entry peers[PEER_CACHE_SIZE];
	struct notif_buf buf;
};

static void heap_swap(struct held *a, struct held *b)
{
	struct held t = *a;

	*a = *b;
	*b = t;
}

static int heap_push(struct notify *n, const struct held *h)
{
	size_t i;

	if (n->heap_len == n->heap_cap) {
		size_t cap = n->heap_cap ? n->heap_cap * 2 : 64;
		struct held *p = reallocarray(n->heap, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		n->heap = p;
		n->heap_cap = cap;
	}
	i = n->heap_len++;
	n->heap[i] = *h;
	while (i > 0 && n->heap[(i - 1) / 2].due_ns > n->heap[i].due_ns) {
		heap_swap(&n->heap[(i - 1) / 2], &n->heap[i]);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct held heap_pop(struct notify *n)
{
	struct held top = n->heap[0];
	size_t i = 0;

	n->heap[0] = n->heap[--n->heap_len];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n->heap_len && n->heap[l].due_ns < n->heap[m].due_ns)
			m = l;
		if (r < n->heap_len && n->heap[r].due_ns < n->heap[m].due_ns)
			m = r;
		if (m == i)
			break;
		heap_swap(&n->heap[i], &n->heap[m]);
		i = m;
	}
	return top;
}

static void arm_timer(struct notify *n)
{
	struct itimerspec its = { 0 };

	if (n->heap_len) {
		int64_t due = n->heap[0].due_ns;

		/* An all-zero value would disarm the timer. */
		if (due <= 0)
			due = 1;
		its.it_value.tv_sec = due / 1000000000;
		its.it_value.tv_nsec = due % 1000000000;
	}
	(void)timerfd_settime(n->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Record @id where the keeper can find it. Return: the slot, or -ENOSPC. */
static int shared_hold(struct notify *n, uint64_t id)
{
	for (unsigned k = 0; k < NOTIFY_SHARED_SLOTS; k++) {
		unsigned i = (n->slot_hint + k) % NOTIFY_SHARED_SLOTS;
		uint64_t expected = 0;

		if (atomic_compare_exchange_strong(&n->shared->inflight[i], &expected, id)) {
			n->slot_hint = i + 1;
			return (int)i;
		}
	}
	return -ENOSPC;
}

static void answer_held(struct notify *n, const struct held *h)
{
	int r = respond(n->listener, h->id, 0);

	if (r < 0 && r != -ENOENT)
		(void)log_debug_errno(r, "continue id %" PRIu64, h->id);
	atomic_store(&n->shared->inflight[h->slot], 0);
}

static void answer_due(struct notify *n, bool all)
{
	int64_t now = fg_now_ns();

	while (n->heap_len && (all || n->heap[0].due_ns <= now)) {
		struct held h = heap_pop(n);

		answer_held(n, &h);
	}
	arm_timer(n);
}

static void classify_fd(struct fd_info *fi, pid_t pid, int fd)
{
	enum fault_fds k = fdinfo_classify(pid, fd, fi->path, sizeof(fi->path), &fi->ino);

	fi->classified = true;
	fi->cls = k == FAULT_FDS_FILES ? FD_FILE : k == FAULT_FDS_SOCKETS ? FD_SOCKET : FD_OTHER;
}

static void lookup_peer(struct notify *n, struct fd_info *fi, pid_t pid, int fd)
{
	struct peer_entry *e = &n->peers[fi->ino % PEER_CACHE_SIZE];

	if (e->ino == fi->ino) {
		fi->peer = e->addr;
		fi->peer_state = 1;
		return;
	}
	if (fdinfo_peer(pid, fd, &fi->peer) < 0) {
		/* Not cached: an unconnected socket may connect later. */
		fi->peer_state = -1;
		return;
	}
	fi->peer_state = 1;
	e->ino = fi->ino;
	e->addr = fi->peer;
}


/* Whether the selectors of fault @f take the fd of @req. */
static bool selectors_match(struct notify *n, const struct fault_spec *f, struct fd_info *fi,
			    const struct seccomp_notif *req)
{
	int fd = (int)req->data.args[0];

	if (!fi->classified)
		classify_fd(fi, (pid_t)req->pid, fd);
	switch (f->fds) {
	case FAULT_FDS_FILES:
		if (fi->cls != FD_FILE)
			return false;
		break;
	case FAULT_FDS_SOCKETS:
		if (fi->cls != FD_SOCKET)
			return false;
		break;
	case FAULT_FDS_ANY:
	case FAULT_FDS_MAX:
	default:
		break;
	}
	if (f->n_paths && (fi->cls != FD_FILE || !fault_path_matches(f, fi->path)))
		return false;
	if (!f->n_peers)
		return true;
	if (fi->cls != FD_SOCKET)
		return false;
	if (!fi->peer_state)
		lookup_peer(n, fi, (pid_t)req->pid, fd);
	if (fi->peer_state < 0)
		return false;
	for (size_t i = 0; i < f->n_peers; i++)
		if (fault_peer_matches(&f->peers[i], &fi->peer))
			return true;
	return false;
}

/* Hold notification @id for @delay before letting it through. */
static int hold(struct notify *n, uint64_t id, int64_t delay)
{
	struct held h = { .id = id };
	int slot;

	slot = shared_hold(n, id);
	/* Without a slot the keeper could not answer it: let it through. */
	if (slot < 0)
		return respond(n->listener, id, 0);
	h.slot = (unsigned)slot;
	h.due_ns = fg_now_ns() + delay;
	if (heap_push(n, &h) < 0) {
		answer_held(n, &h);
		return -ENOMEM;
	}
	if (n->heap[0].id == id)
		arm_timer(n);
	return 0;
}

/* Decide one notification: continue, fail, or hold it. Faults whose
 * windows and selectors overlap act independently: each rolls its own
 * probability; an io-error that fires fails the call, otherwise the delays
 * of every slow-io that fires add up. */
static int decide(struct notify *n, const struct seccomp_notif *req)
{
	struct fd_info fi = { 0 };
	unsigned family = notify_syscall_family(req->data.nr);
	int64_t delay[FAULT_MAX_LIST] = { 0 };
	int64_t t, total = 0;
	bool checked = false;
	int err = 0;
	size_t i;

	if (!family || atomic_load(&n->disarmed))
		return respond(n->listener, req->id, 0);
	t = fg_now_ns() - n->start_ns;
	for (i = 0; i < n->n && i < FAULT_MAX_LIST; i++) {
		const struct fault_spec *f = &n->faults[i];

		if (!n->served[i] || !(f->syscalls & family))
			continue;
		if (t < 0 || !fault_window_active(f, t, n->phase_ns))
			continue;
		if (!selectors_match(n, f, &fi, req))
			continue;
		atomic_fetch_add(&n->cnt[i].seen, 1);
		if (!fault_rng_chance(&n->rng, f->probability))
			continue;
		/* What /proc said may be about a recycled pid: only act if the
		 * syscall is still waiting for us. */
		if (!checked &&
		    ioctl(n->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
			return -ENOENT;
		checked = true;
		if (f->kind == FAULT_IO_ERROR) {
			atomic_fetch_add(&n->cnt[i].failed, 1);
			err = f->err ? f->err : EIO;
			break;
		}
		delay[i] = fault_pick_delay(f, &n->rng);
		total += delay[i];
	}
	if (err)
		return respond(n->listener, req->id, err);
	if (!checked)
		return respond(n->listener, req->id, 0);
	for (i = 0; i < n->n && i < FAULT_MAX_LIST; i++) {
		if (!delay[i])
			continue;
		atomic_fetch_add(&n->cnt[i].delayed, 1);
		atomic_fetch_add(&n->cnt[i].delay_total_ns, delay[i]);
	}
	return hold(n, req->id, total);
}

static int handle_one(struct notify *n)
{
	const struct seccomp_notif *req = n->buf.req;
	int r = receive(n->listener, &n->buf);

	if (r <= 0)
		return r;
	if (req->id > atomic_load(&n->shared->max_id))
		atomic_store(&n->shared->max_id, req->id);
	r = decide(n, req);
	if (r < 0 && r != -ENOENT)
		(void)log_debug_errno(r, "answer %s of pid %u",
				      notify_syscall_name(req->data.nr), req->pid);
	return 0;
}

static void ack_disarm(struct notify *n)
{
	pthread_mutex_lock(&n->lock);
	n->disarm_done = n->disarm_asked;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

/* On stop: answer what is held and what is already queued, then leave. */
static void drain(struct notify *n)
{
	struct pollfd pfd = { .fd = n->listener, .events = POLLIN };

	answer_due(n, true);
	while (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) &&
	       !(pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
		if (handle_one(n) < 0)
			break;
}

static void *supervise(void *arg)
{
	struct notify *n = arg;

	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = n->listener, .events = POLLIN },
			{ .fd = n->tfd, .events = POLLIN },
			{ .fd = n->efd, .events = POLLIN },
		};
		uint64_t v;

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			(void)log_debug_errno(-errno, "poll");
			break;
		}
		if (pfd[2].revents & POLLIN) {
			(void)read(n->efd, &v, sizeof(v));
			if (atomic_load(&n->disarmed))
				answer_due(n, true);
			ack_disarm(n);
			if (atomic_load(&n->stopping)) {
				drain(n);
				break;
			}
		}
		if (pfd[1].revents & POLLIN) {
			(void)read(n->tfd, &v, sizeof(v));
			answer_due(n, false);
		}
		if (pfd[0].revents & POLLIN) {
			if (handle_one(n) < 0)
				break;
		}
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			log_debug("no task left under the filter");
			break;
		}
	}
	answer_due(n, true);
	pthread_mutex_lock(&n->lock);
	n->exited = true;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

int notify_start(int listener, pid_t target, const struct fault_spec *faults,
		 const enum fault_backend *backends, size_t nf, int64_t fault_start_ns,
		 int64_t fault_phase_ns, uint64_t seed, struct notify_shared *shared,
		 struct notify **ret)
{
	struct notify *n;
	int r;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->listener = listener;
	n->target = target;
	n->faults = faults;
	n->n = nf;
	n->start_ns = fault_start_ns;
	n->phase_ns = fault_phase_ns;
	n->shared = shared;
	n->tfd = n->efd = -1;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	fault_rng_seed(&n->rng, seed);

	r = -ENOMEM;
	n->served = calloc(nf ? nf : 1, sizeof(*n->served));
	n->cnt = calloc(nf ? nf : 1, sizeof(*n->cnt));
	if (!n->served || !n->cnt || notif_buf_init(&n->buf) < 0)
		goto fail;
	for (size_t i = 0; i < nf; i++)
		n->served[i] = notify_fault_served(&faults[i], backends[i]);

	n->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	n->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->tfd < 0 || n->efd < 0) {
		r = -errno;
		goto fail;
	}
	/* Kernel 6.6: wake the target on the supervisor's CPU. Optional. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		(void)log_debug_errno(-errno, "SYNC_WAKE_UP not available, continuing");

	r = -pthread_create(&n->thread, NULL, supervise, n);
	if (r < 0)
		goto fail;
	n->started = true;
	*ret = n;
	return 0;
fail:
	notify_free(n);
	return r;
}

/* Ask the thread to act on the flags and wait until it has. */
static void kick_and_wait(struct notify *n)
{
	uint64_t one = 1, ticket;

	pthread_mutex_lock(&n->lock);
	ticket = ++n->disarm_asked;
	pthread_mutex_unlock(&n->lock);
	(void)write(n->efd, &one, sizeof(one));

	pthread_mutex_lock(&n->lock);
	while (!n->exited && n->disarm_done < ticket)
		pthread_cond_wait(&n->cond, &n->lock);
	pthread_mutex_unlock(&n->lock);
}

void notify_disarm(struct notify *n)
{
	if (!n || !n->started)
		return;
	atomic_store(&n->disarmed, true);
	kick_and_wait(n);
}

void notify_counters(struct notify *n, size_t i, struct notify_fault_counters *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!n || i >= n->n)
		return;
	ret->seen = atomic_load(&n->cnt[i].seen);
	ret->delayed = atomic_load(&n->cnt[i].delayed);
	ret->failed = atomic_load(&n->cnt[i].failed);
	ret->delay_total_ns = atomic_load(&n->cnt[i].delay_total_ns);
}

void notify_stop(struct notify *n)
{
	if (!n || !n->started || n->joined)
		return;
	atomic_store(&n->disarmed, true);
	atomic_store(&n->stopping, true);
	kick_and_wait(n);
	pthread_join(n->thread, NULL);
	n->joined = true;
}

struct notify *notify_free(struct notify *n)
{
	if (!n)
		return NULL;
	notify_stop(n);
	if (n->tfd >= 0)
		close(n->tfd);
	if (n->efd >= 0)
		close(n->efd);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n->heap);
	free(n->buf.req);
	free(n->served);
	free(n->cnt);
	free(n);
	return NULL;
}
