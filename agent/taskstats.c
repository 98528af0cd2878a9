// SPDX-License-Identifier: Apache-2.0
/* taskstats over generic netlink: one TASKSTATS_CMD_GET per thread, the
 * reply's record copied by the size the kernel sent, not by our header's. */
#include <errno.h>
#include <linux/taskstats.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "taskstats.h"

struct taskstats_conn {
	struct nl_sock *sk;
	int family;
	/* Filled by the valid-message callback of the query in flight. */
	struct task_delays *out;
	int parse_err;
};

/* libnl's error codes in the errno values our header promises. */
static int nl_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_PERM:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
		return -ESRCH;
	case NLE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* Whether field @off of @size bytes lies inside a record of @len bytes. */
static bool holds(size_t len, size_t off, size_t size)
{
	return off + size <= len;
}

#define HOLDS(len, field) \
	holds(len, offsetof(struct taskstats, field), sizeof(((struct taskstats *)0)->field))

static void fill_delays(const void *data, size_t len, struct task_delays *d)
{
	struct taskstats ts;
	size_t n = len < sizeof(ts) ? len : sizeof(ts);

	memset(&ts, 0, sizeof(ts));
	memcpy(&ts, data, n);
	memset(d, 0, sizeof(*d));
	d->version = ts.version;
	d->size = (uint32_t)len;
	if (HOLDS(n, cpu_delay_total)) {
		d->cpu_ns = ts.cpu_delay_total;
		d->have |= TASK_DELAY_CPU;
	}
	if (HOLDS(n, blkio_delay_total)) {
		d->blkio_ns = ts.blkio_delay_total;
		d->have |= TASK_DELAY_BLKIO;
	}
	if (HOLDS(n, swapin_delay_total)) {
		d->swapin_ns = ts.swapin_delay_total;
		d->have |= TASK_DELAY_SWAPIN;
	}
	if (HOLDS(n, freepages_delay_total)) {
		d->reclaim_ns = ts.freepages_delay_total;
		d->have |= TASK_DELAY_RECLAIM;
	}
	if (HOLDS(n, thrashing_delay_total)) {
		d->thrashing_ns = ts.thrashing_delay_total;
		d->have |= TASK_DELAY_THRASHING;
	}
}

/* The reply nests AGGR_PID -> { PID, STATS }. */
static int on_reply(struct nl_msg *msg, void *arg)
{
	struct taskstats_conn *c = arg;
	struct nlattr *top[TASKSTATS_TYPE_MAX + 1], *in[TASKSTATS_TYPE_MAX + 1];
	struct nlattr *stats;

	c->parse_err = -EPROTO;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, top, TASKSTATS_TYPE_MAX, NULL) < 0)
		return NL_SKIP;
	if (!top[TASKSTATS_TYPE_AGGR_PID])
		return NL_SKIP;
	if (nla_parse_nested(in, TASKSTATS_TYPE_MAX, top[TASKSTATS_TYPE_AGGR_PID], NULL) < 0)
		return NL_SKIP;
	stats = in[TASKSTATS_TYPE_STATS];
	if (!stats || nla_len(stats) < (int)sizeof(uint16_t))
		return NL_SKIP;
	fill_delays(nla_data(stats), (size_t)nla_len(stats), c->out);
	c->parse_err = 0;
	return NL_OK;
}

int taskstats_query(struct taskstats_conn *c, pid_t tid, struct task_delays *ret)
{
	struct nl_msg *msg;
	int r;

	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0, 0, TASKSTATS_CMD_GET,
			 TASKSTATS_VERSION) ||
	    nla_put_u32(msg, TASKSTATS_CMD_ATTR_PID, (uint32_t)tid) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = nl_send_auto(c->sk, msg);
	nlmsg_free(msg);
	if (r < 0)
		return nl_to_errno(r);
	c->out = ret;
	c->parse_err = -EPROTO;
	r = nl_recvmsgs_default(c->sk);
	c->out = NULL;
	if (r < 0)
		return nl_to_errno(r);
	return c->parse_err;
}

int taskstats_open(struct taskstats_conn **ret)
{
	struct timeval tv = { .tv_sec = 1 };
	struct task_delays probe;
	struct taskstats_conn *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->sk = nl_socket_alloc();
	if (!c->sk) {
		free(c);
		return -ENOMEM;
	}
	r = genl_connect(c->sk);
	if (r < 0) {
		r = nl_to_errno(r);
		goto fail;
	}
	/* A lost reply must not hang the sampler. */
	(void)setsockopt(nl_socket_get_fd(c->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	c->family = genl_ctrl_resolve(c->sk, TASKSTATS_GENL_NAME);
	if (c->family < 0) {
		r = c->family == -NLE_OBJ_NOTFOUND ? -ENOENT : nl_to_errno(c->family);
		goto fail;
	}
	/* With auto-ACK on, the ACK of one query is read as the reply of the
	 * next (feasibility section 6). Errors still come back without it. */
	nl_socket_disable_auto_ack(c->sk);
	nl_socket_modify_cb(c->sk, NL_CB_VALID, NL_CB_CUSTOM, on_reply, c);
	r = taskstats_query(c, gettid(), &probe);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	taskstats_close(c);
	return r;
}

struct taskstats_conn *taskstats_close(struct taskstats_conn *c)
{
	if (!c)
		return NULL;
	nl_socket_free(c->sk);
	free(c);
	return NULL;
}
