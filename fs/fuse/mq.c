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
 * Locking: n->so protects the struct mmq, its messages, the parked requests in its
 * queues and the read state of the handles.
 */
#include "ipcfs.h"
#include "park.h"
#include "model/mq.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

static struct mmq *mq_of(struct node *n)
{
	return store_state(&n->so);
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
	return 0;
}

static void mq_release(struct handle *h)
{
	struct node *n = h->node;
	struct mmq_msg *m;

	store_begin(&n->so);
	m = mmq_close(mq_of(n), &h->mo);
	store_end(&n->so);
	mmq_msg_free(mq_of(n), m); /* the unread rest of a message is dropped */
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

static void mq_cancel(struct node *n, struct waiter *w, struct list_head *done)
{
	struct model_waker wk = park_waker(done);

	mmq_cancel(mq_of(n), w, &wk);
}

static void mq_kill(struct node *n, int err)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);

	store_begin(&n->so);
	n->dead = true;
	n->dead_err = err;
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
	.direct_io = true,
};
