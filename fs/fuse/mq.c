/* SPDX-License-Identifier: MIT */
/*
 * mq.c - message queues: mq/NAME, the FUSE face of model/mq.h.
 *
 * Implementation notes:
 * - One write() is one message (bash writes each line of an echo as it comes, so each line is
 *   one message); one read() receives what fits of one message, later reads the rest, then a
 *   read returns 0 (the model keeps what each open is reading). A write of 0 bytes sends
 *   nothing.
 * - Priorities from the shell: the name `q@N` (0 <= N < MQ_PRIOS) is an alias of queue `q`
 *   whose writes are sent with priority N (ns.c resolves it; the handle's model_open carries
 *   the priority).
 * - A message is copied (and charged) before taking the lock. A send or receive that cannot
 *   proceed parks its request (park.h) as the model's waiter; a parked send carries its
 *   message, which is freed here if the send fails. Whichever later operation serves a waiter
 *   claims it through the waker (park_waker) and it is answered after dropping the lock.
 * - A receive answered to a caller that is gone (the reply fails) gives what it was handed
 *   back to the model (mmq_putback), so that no message is lost with the caller.
 *
 * - Cluster mode (replica.h): a send carries its message through the log, a receive goes
 *   through the handle's copen (which keeps a message read in part, on every replica alike),
 *   and a receive answered to a caller that is gone puts what it got back through the log
 *   (MQ_OP_PUTBACK, with the bytes: the other replicas freed their copy when they served it).
 *
 * Locking: n->so protects the struct mmq, its messages, the parked requests in its
 * queues and the read state of the handles.
 */
#include "ipcfs.h"
#include "park.h"
#include "replica.h"
#include "model/mq.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The log's queue operations besides the waits (enum mmq_kind: MMQ_RECV, MMQ_SEND). */
enum {
	MQ_OP_PUTBACK = 16, /* arg: MQ_PUTBACK_ARG; data: what the receive was handed */
	MQ_OP_LIMIT,	    /* arg: the value; flags: the enum mmq_limit << 8 */
	/* a checkpoint's (objtype.checkpoint): */
	MQ_OP_MSG,     /* a queued message: arg its priority, data its bytes */
	MQ_OP_READING, /* the open reads a message in part: arg the bytes returned (MMQ_EOM: all),
			* flags its priority << 8, data its bytes (none with MMQ_EOM) */
};

/* A put-back's arg: what the served receive was (kind), its size and the message's priority. */
#define MQ_PUTBACK_ARG(kind, prio, size) \
	((uint64_t)(kind) | (uint64_t)(prio) << 8 | (uint64_t)(size) << 16)

static struct mmq *mq_of(struct node *n)
{
	return store_state(&n->so);
}

/* Cluster mode: served receive w (through open, the copen of a handle or a ghost open) will
 * not deliver what it got: put it back through the log, so that every replica does. */
static void mq_putback_cluster(struct node *n, const struct waiter *w)
{
	const struct mmq_msg *m = w->kind == MMQ_GOT_MSG ? (void *)(uintptr_t)w->arg : NULL;
	struct copen *c = container_of(w->op, struct copen, mo);
	struct cluster_op op = {
		.path = n->cpath,
		.inc = n->inc,
		.pid = w->pid,
		.kind = MQ_OP_PUTBACK,
		.arg = MQ_PUTBACK_ARG(w->kind, m ? m->prio : 0, w->size),
		.open = c->id,
		/* a whole message: all of it (the model needs it whole); a part: its bytes */
		.data = m ? m->data : mmq_got_data(w),
		.len = m			 ? m->len
		       : w->kind == MMQ_GOT_PART ? w->size
						 : 0,
	};

	if (cluster_submit(n->fs->cluster, &op) != 0)
		fprintf(stderr, "ipcfs: cluster: out of memory: a message of %s is lost\n",
			n->cpath);
}

static int mq_init_obj(struct node *n)
{
	mmq_init(mq_of(n), &n->fs->params);
	return 0;
}

static void mq_destroy(struct node *n)
{
	mmq_fini(mq_of(n));
}

/* Answer the served receive w of req with its bytes. If the caller is gone, they go back to
 * the queue (or its open) for the next receive. No lock held. */
static void mq_reply_got(struct node *n, fuse_req_t req, struct waiter *w)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);

	if (fuse_reply_buf(req, mmq_got_data(w), w->size) == 0) {
		mmq_got_free(mq_of(n), w);
		return;
	}
	if (n->fs->cluster) {
		mq_putback_cluster(n, w);
		mmq_got_free(mq_of(n), w);
		return;
	}
	store_begin(&n->so);
	mmq_putback(mq_of(n), w, &wk);
	park_commit(n, &after);
}

static int mq_open(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	(void)req;
	(void)fi;
	(void)create;
	mmq_open_init(&h->mo); /* opening a queue never waits */
	return h->node->fs->cluster ? replica_open_handle(h) : 0;
}

static void mq_release(struct handle *h)
{
	struct node *n = h->node;
	struct mmq_msg *m;

	if (h->copen)
		return; /* cluster mode: handle_free's CLOSE drops the unread rest */
	store_begin(&n->so);
	m = mmq_close(mq_of(n), &h->mo);
	store_end(&n->so);
	mmq_msg_free(mq_of(n), m); /* the unread rest of a message is dropped */
}

/* Cluster mode: req's receive (size: the most bytes) or send (size bytes of buf) waits for
 * its operation to come back from the log. */
static void mq_submit(fuse_req_t req, struct handle *h, int kind, size_t size, unsigned prio,
		      int flags, const char *buf)
{
	struct parked *p = park_new(req, h, kind, kind == MMQ_RECV ? size : 0);

	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p->w.op = &h->copen->mo;
	p->w.size = kind == MMQ_SEND ? size : 0;
	if (park_arm(p))
		replica_submit(p, (uint32_t)kind, kind == MMQ_RECV ? size : prio,
			       flags & O_NONBLOCK ? CLUSTER_OP_NONBLOCK : 0, buf,
			       kind == MMQ_SEND ? size : 0);
}

static void mq_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	struct node *n = h->node;
	struct waiter probe = {
		.op = &h->mo, .pid = fuse_req_ctx(req)->pid, .kind = MMQ_RECV, .arg = size
	};
	struct store_after after;
	struct model_waker wk = park_step(&after);
	struct parked *p;
	int rc;

	(void)off;
	if (h->copen) {
		mq_submit(req, h, MMQ_RECV, size, 0, flags, NULL);
		return;
	}
	store_begin(&n->so);
	rc = mmq_receive(mq_of(n), &probe, false, &wk);
	if (rc == MODEL_WOULD_BLOCK && (flags & O_NONBLOCK))
		rc = -EAGAIN;
	if (rc != MODEL_WOULD_BLOCK) {
		park_commit(n, &after); /* a message taken: room for a parked send */
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else
			mq_reply_got(n, req, &probe);
		return;
	}
	store_end(&n->so);

	/* It must wait: allocate outside the lock, then ask again under it, queueing. */
	p = park_new(req, h, MMQ_RECV, size);
	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (!park_arm(p))
		return;
	park_settle(p, mmq_receive(mq_of(n), &p->w, true, &wk), &after);
}

static void mq_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		     int flags)
{
	struct node *n = h->node;
	struct waiter probe = {
		.op = &h->mo, .pid = fuse_req_ctx(req)->pid, .kind = MMQ_SEND, .size = size
	};
	struct store_after after;
	struct model_waker wk = park_step(&after);
	struct mmq_msg *m;
	struct parked *p;
	int rc;

	(void)off;
	if (size == 0) {
		fuse_reply_write(req, 0); /* an empty write sends nothing */
		return;
	}
	if (h->copen) {
		/* the limit as this replica knows it; the log's send checks it again */
		if (size > __atomic_load_n(&mq_of(n)->msgsize, __ATOMIC_RELAXED))
			fuse_reply_err(req, EMSGSIZE);
		else
			mq_submit(req, h, MMQ_SEND, size, h->mo.prio, flags, buf);
		return;
	}
	rc = mmq_msg_new(mq_of(n), &h->mo, buf, size, &m);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	probe.arg = (uintptr_t)m;

	store_begin(&n->so);
	rc = mmq_send(mq_of(n), &probe, false, &wk);
	if (rc == MODEL_WOULD_BLOCK && (flags & O_NONBLOCK))
		rc = -EAGAIN;
	if (rc != MODEL_WOULD_BLOCK) {
		if (rc == MODEL_DONE)
			ns_touch(n, true);
		park_commit(n, &after); /* a parked receive may have been handed it */
		mmq_msg_free(mq_of(n), (struct mmq_msg *)(uintptr_t)probe.arg); /* 0 once sent */
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_write(req, size);
		return;
	}
	store_end(&n->so);

	p = park_new(req, h, MMQ_SEND, probe.arg);
	if (!p) {
		mmq_msg_free(mq_of(n), m);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p->w.size = size;
	if (!park_arm(p))
		return; /* answered with an error: complete freed the message */
	park_settle(p, mmq_send(mq_of(n), &p->w, true, &wk), &after);
}

static void mq_complete(struct parked *p)
{
	struct mmq *q = mq_of(p->node);

	if (p->rc) {
		fuse_reply_err(p->req, -p->rc);
		if (p->w.kind == MMQ_SEND) /* not sent: its message is still ours */
			mmq_msg_free(q, (struct mmq_msg *)(uintptr_t)p->w.arg);
		else /* served, but its step was not committed (park_after): what it was handed */
			mmq_got_free(q, &p->w);
	} else if (p->w.kind == MMQ_SEND) {
		fuse_reply_write(p->req, p->w.size);
	} else {
		mq_reply_got(p->node, p->req, &p->w);
	}
}

static void mq_cancel(struct node *n, struct waiter *w, struct store_after *a)
{
	struct model_waker wk = park_waker(&a->done);

	mmq_cancel(mq_of(n), w, &wk);
}

static void mq_kill(struct node *n, int err)
{
	struct store_after after;
	struct model_waker wk = park_kill_step(n, err, &after);

	mmq_kill(mq_of(n), err, &wk);
	park_commit(n, &after);
}

static void mq_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	struct pollwait *pw = poll_prepare(ph);
	struct node *n = h->node;
	unsigned revents = 0;

	store_begin(&n->so);
	if (n->dead)
		revents = POLLIN | POLLOUT | POLLERR;
	if (mmq_readable(mq_of(n), &h->mo))
		revents |= POLLIN | POLLRDNORM;
	if (mmq_writable(mq_of(n)))
		revents |= POLLOUT | POLLWRNORM;
	poll_arm(h, pw);
	store_end(&n->so);
	fuse_reply_poll(req, revents);
}

static void mq_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	mmq_inspect(mq_of(n), snap, o);
}

static void mq_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	uint64_t s, b;

	mmq_stat(mq_of(n), &s, &b);
	*size = (off_t)s;
	*blocks = (blkcnt_t)b;
}

static const char *const mq_xattrs[] = { "msgsize", "max_msgs", NULL };

/* The limit an xattr name (one of mq_xattrs) stands for. */
static enum mmq_limit mq_limit_of(const char *name)
{
	return strcmp(name, "msgsize") == 0 ? MMQ_MSGSIZE : MMQ_MAX_MSGS;
}

static int mq_getxattr(struct node *n, const char *name, uint64_t *value)
{
	store_begin(&n->so);
	*value = mmq_get_limit(mq_of(n), mq_limit_of(name));
	store_end(&n->so);
	return 0;
}

static int mq_setxattr(struct node *n, const char *name, uint64_t value)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);
	int rc;

	if (n->fs->cluster) {
		/* checked here, so the log's LIMIT cannot fail; it shows once it comes back */
		uint64_t max = mq_limit_of(name) == MMQ_MSGSIZE ? IPCFS_MAX_MQ_MSGSIZE
								: IPCFS_MAX_MQ_MAX_MSGS;
		struct cluster_op op = { .path = n->cpath,
					 .inc = n->inc,
					 .kind = MQ_OP_LIMIT,
					 .arg = value,
					 .flags = mq_limit_of(name) << 8 };

		if (value < 1 || value > max)
			return -EINVAL;
		return cluster_submit(n->fs->cluster, &op);
	}
	store_begin(&n->so);
	rc = mmq_set_limit(mq_of(n), mq_limit_of(name), value, &wk);
	if (rc < 0) {
		store_end(&n->so);
		return rc;
	}
	ns_touch(n, false);
	park_commit(n, &after); /* more room: parked sends may have gone in */
	return 0;
}

/* Cluster mode: a put-back from the log: rebuild what the receive had been handed, and give
 * it back as mq_reply_got does on one mount. inside a step on n. */
static void mq_apply_putback(struct node *n, const struct cluster_op *op, struct model_waker *wk)
{
	struct copen *c = replica_open_of(n, op->host, op->open);
	struct waiter w = { .op = c ? &c->mo : NULL,
			    .pid = op->pid,
			    .kind = (int)(op->arg & 0xff),
			    .size = op->arg >> 16 };
	struct mmq_msg *m = NULL;
	void *part = NULL;

	if (!c)
		return; /* its open is closed: what it read in part is dropped anyway */
	if (w.kind == MMQ_GOT_MSG &&
	    mmq_msg_make(mq_of(n), (op->arg >> 8) & 0xff, op->data, op->len, true, &m) == 0)
		w.arg = (uintptr_t)m;
	else if (w.kind == MMQ_GOT_PART && (part = malloc(op->len ? op->len : 1)))
		w.arg = (uintptr_t)memcpy(part, op->data, op->len);
	else if (w.kind != MMQ_GOT_END)
		return;
	mmq_putback(mq_of(n), &w, wk);
}

/* Cluster mode: a checkpoint's message, or an open's message read in part. inside a step on
 * n. */
static void mq_apply_restore(struct node *n, const struct cluster_op *op)
{
	unsigned prio = op->kind == MQ_OP_MSG ? (unsigned)op->arg : op->flags >> 8;
	struct mmq_msg *m = NULL;
	struct copen *c;

	if (op->len && mmq_msg_make(mq_of(n), prio, op->data, op->len, true, &m) != 0) {
		fprintf(stderr, "ipcfs: cluster: a message of %s cannot be held here\n", n->cpath);
		return;
	}
	if (op->kind == MQ_OP_MSG) {
		if (m)
			mmq_restore(mq_of(n), m);
		return;
	}
	c = replica_open_make(n, op);
	if (!c) {
		mmq_msg_free(mq_of(n), m);
		fprintf(stderr, "ipcfs: cluster: out of memory: an open of %s is missing here\n",
			n->cpath);
		return;
	}
	mmq_open_restore(&c->mo, m, op->arg);
}

/* mmq_for_each's: a queued message into the checkpoint. */
struct mq_ckpt {
	struct node *n;
	struct cluster_ckpt *k;
};

static int ckpt_msg(const struct mmq_msg *m, void *ctx)
{
	struct mq_ckpt *mc = ctx;
	struct cluster_op op;

	replica_ckpt_op(mc->n, MQ_OP_MSG, m->prio, &op);
	op.data = m->data;
	op.len = m->len;
	return cluster_ckpt_add(mc->k, &op);
}

/* Cluster mode: the queue as operations that rebuild it (objtype.checkpoint): its limits, its
 * messages in the order they are received, the messages opens read in part, the waiting sends
 * with their messages, then the waiting receives. */
static int mq_checkpoint(struct node *n, struct cluster_ckpt *k)
{
	struct mmq *q = mq_of(n);
	struct mq_ckpt mc = { .n = n, .k = k };
	struct cluster_op op;
	struct waiter *w;
	struct copen *c;
	int rc;

	replica_ckpt_op(n, MQ_OP_LIMIT, q->msgsize, &op);
	op.flags = MMQ_MSGSIZE << 8;
	if ((rc = cluster_ckpt_add(k, &op)) != 0)
		return rc;
	replica_ckpt_op(n, MQ_OP_LIMIT, q->max_msgs, &op);
	op.flags = MMQ_MAX_MSGS << 8;
	if ((rc = cluster_ckpt_add(k, &op)) != 0 || (rc = mmq_for_each(q, ckpt_msg, &mc)) != 0)
		return rc;
	list_for_each_entry(c, &n->copens, link)
	{
		const struct mmq_msg *m = (const struct mmq_msg *)(uintptr_t)c->mo.state[MMQ_MSG];

		/* only an applied receive sets it: an open the log has not named yet reads
		 * nothing */
		if (!m && c->mo.state[MMQ_OFF] != MMQ_EOM)
			continue;
		replica_ckpt_open(n, c, MQ_OP_READING, c->mo.state[MMQ_OFF], &op);
		if (m) {
			op.flags = m->prio << 8;
			op.data = m->data;
			op.len = m->len;
		}
		if ((rc = cluster_ckpt_add(k, &op)) != 0)
			return rc;
	}
	list_for_each_entry(w, &q->writeq, link)
	{
		const struct mmq_msg *m = (const struct mmq_msg *)(uintptr_t)w->arg;

		replica_ckpt_waiter(n, w, &op);
		op.arg = m->prio; /* a send's, as mq_write submits it */
		op.data = m->data;
		op.len = m->len;
		if ((rc = cluster_ckpt_add(k, &op)) != 0)
			return rc;
	}
	return replica_ckpt_queue(n, &q->readq, k);
}

/* Cluster mode: run op from the log on the replica, as mq_read, mq_write, mq_reply_got and
 * mq_setxattr do above; p is this daemon's caller, if it submitted op and still waits. */
static void mq_apply(struct node *n, const struct cluster_op *op, struct parked *p)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);
	bool nonblock = op->flags & CLUSTER_OP_NONBLOCK;
	struct mmq_msg *m = NULL;
	struct waiter *w;
	int rc;

	if (op->kind >= MQ_OP_PUTBACK && op->kind <= MQ_OP_READING) {
		store_begin(&n->so);
		if (n->dead) {
			store_end(&n->so);
			return;
		}
		if (op->kind == MQ_OP_PUTBACK)
			mq_apply_putback(n, op, &wk);
		else if (op->kind != MQ_OP_LIMIT)
			mq_apply_restore(n, op);
		else if (mmq_set_limit(mq_of(n), op->flags >> 8, op->arg, &wk) == 0)
			ns_touch_at(n, false, &op->time);
		park_commit(n, &after);
		return;
	}
	if (op->kind != MMQ_RECV && op->kind != MMQ_SEND) {
		if (p)
			park_answer(p, -EINVAL);
		return;
	}
	if (op->kind == MMQ_SEND &&
	    (rc = mmq_msg_make(mq_of(n), (unsigned)op->arg, op->data, op->len, true, &m)) != 0) {
		fprintf(stderr, "ipcfs: cluster: a message to %s cannot be held here: %s\n",
			n->cpath, strerror(-rc));
		if (p)
			park_answer(p, rc);
		return;
	}
	store_begin(&n->so);
	w = replica_waiter(n, op, p);
	if (!w) {
		mmq_msg_free(mq_of(n), m);
		return;
	}
	w->kind = (int)op->kind;
	if (op->kind == MMQ_SEND) {
		w->arg = (uintptr_t)m;
		rc = n->dead ? -n->dead_err : mmq_send(mq_of(n), w, !nonblock, &wk);
		if (rc == MODEL_DONE)
			ns_touch_at(n, true, &op->time);
	} else {
		w->arg = op->arg;
		rc = n->dead ? -n->dead_err : mmq_receive(mq_of(n), w, !nonblock, &wk);
	}
	if (rc == MODEL_WOULD_BLOCK && nonblock)
		rc = -EAGAIN;
	replica_settle(n, w, rc, &after);
}

/* Cluster mode: a ghost leaves with what it carries (a send's message) or was handed (a
 * receive's); an orphan's receive puts it back through the log first. */
static void mq_handed(struct node *n, struct waiter *w, bool give_back)
{
	if (w->kind == MMQ_SEND) {
		mmq_msg_free(mq_of(n), (struct mmq_msg *)(uintptr_t)w->arg);
		return;
	}
	if (give_back)
		mq_putback_cluster(n, w);
	mmq_got_free(mq_of(n), w);
}

/* Cluster mode: a queue starts from the limits of the daemon that made it, on every mount. */
static void mq_cluster_params(const struct model_params *p, uint64_t v[2])
{
	v[0] = p->mq_msgsize;
	v[1] = p->mq_max_msgs;
}

static void mq_set_params(struct node *n, const uint64_t v[2])
{
	struct model_waker none = { 0 };

	/* a new queue: nobody waits, so nothing is served */
	mmq_set_limit(mq_of(n), MMQ_MSGSIZE, v[0], &none);
	mmq_set_limit(mq_of(n), MMQ_MAX_MSGS, v[1], &none);
}

/* Cluster mode: open mo is closed: as mq_release. */
static void mq_close_open(struct node *n, struct model_open *mo, const struct timespec *when,
			  struct model_waker *wk)
{
	(void)when;
	(void)wk;
	mmq_msg_free(mq_of(n), mmq_close(mq_of(n), mo));
}

const struct objtype mq_type = {
	.name = "mq",
	.obj_size = sizeof(struct mmq),
	.init = mq_init_obj,
	.destroy = mq_destroy,
	.kill = mq_kill,
	.open = mq_open,
	.release = mq_release,
	.read = mq_read,
	.write = mq_write,
	.poll = mq_poll,
	.stat_size = mq_stat_size,
	.cancel = mq_cancel,
	.complete = mq_complete,
	.xattrs = mq_xattrs,
	.getxattr = mq_getxattr,
	.setxattr = mq_setxattr,
	.inspect = mq_inspect,
	.apply = mq_apply,
	.handed = mq_handed,
	.close_open = mq_close_open,
	.cluster_params = mq_cluster_params,
	.set_params = mq_set_params,
	.checkpoint = mq_checkpoint,
	.direct_io = true,
};
