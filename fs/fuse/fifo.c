/* SPDX-License-Identifier: MIT */
/*
 * fifo.c - FIFO objects: fifo/NAME, bounded byte streams; the FUSE face of model/fifo.h.
 *
 * Implementation notes:
 * - A read or write that cannot proceed parks its request (park.h) as the model's waiter;
 *   whichever later operation serves it claims it through the waker (park_waker) and answers
 *   it after dropping the lock.
 * - The face owns every byte a waiter carries; the model only reads or fills them while the
 *   waiter is queued. A read brings its own buffer (allocated before the lock), into which the
 *   model copies what it is served; the answer sends those bytes. One that must wait gets a
 *   new one, charged and bounded (struct fifo_rbuf). A write first tries with libfuse's
 *   buffer; the part that must wait goes on from a copy of that part (struct fifo_copy:
 *   libfuse's buffer lives only during the call), freed once answered.
 * - A write ended after part of it went in (interrupt, removal, no budget for the rest)
 *   answers that count (mfifo_write_result), a pipe's short write.
 * - After every change the drained ring is detached (mfifo_trim) and freed off the lock.
 *
 * Locking: n->so protects the struct mfifo, the ring's contents and the parked requests
 * in its queues.
 */
#include "ipcfs.h"
#include "park.h"
#include "model/fifo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A parked write's copy of the bytes that did not go in at once: p->w.arg points to b. To the
 * model it is a write of those bytes alone; its answer counts the ones before too. */
struct fifo_copy {
	struct mfifo_bytes b; /* b.data points to data */
	size_t before;	      /* bytes of the write that went in before it parked */
	unsigned char data[];
};

/* A parked read's buffer: p->w.arg points to data, which the model fills when it serves the
 * read. It is held for the whole wait, so it is charged to -o max_memory and no larger than the
 * FIFO (a read may return less than it asks, as a pipe's may); past the budget a waiting read
 * gets FIFO_READ_MIN bytes, uncharged, rather than an error: 10,000 waiting `cat`s cost the
 * budget, not 1.25 GiB of 128 KiB buffers. */
struct fifo_rbuf {
	size_t charged; /* bytes of it charged to the budget */
	unsigned char data[];
};

#define FIFO_READ_MIN 4096

static struct mfifo *fifo_of(struct node *n)
{
	return store_state(&n->so);
}

static int fifo_init_obj(struct node *n)
{
	mfifo_init(fifo_of(n), &n->fs->params);
	return 0;
}

static void fifo_destroy(struct node *n)
{
	mfifo_fini(fifo_of(n));
}

/* End a step that changed the state: detach a drained ring, commit, free the ring; then
 * those the step served are answered and pollers woken (park_after_init). */
static void fifo_commit(struct node *n, struct store_after *after)
{
	struct ipc_ring *drained = mfifo_trim(fifo_of(n));

	park_commit(n, after);
	free(drained);
}

static int fifo_open(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	struct node *n = h->node;

	(void)req;
	(void)fi;
	(void)create;
	store_begin(&n->so);
	mfifo_open(fifo_of(n), &h->mo);
	store_commit(&n->so, NULL); /* a writer more */
	return 0;		    /* opening a FIFO never waits, for readers nor writers */
}

static void fifo_release(struct handle *h)
{
	struct node *n = h->node;
	struct store_after after;
	struct model_waker wk = park_step(&after);

	if (!mfifo_is_writer(&h->mo))
		return; /* a reader's close changes nothing */
	store_begin(&n->so);
	mfifo_close(fifo_of(n), &h->mo, &wk);
	fifo_commit(n, &after);
}

static void fifo_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	struct node *n = h->node;
	struct store_after after;
	struct model_waker wk = park_step(&after);
	struct waiter probe = { .op = &h->mo, .pid = fuse_req_ctx(req)->pid, .kind = FIFO_READ };
	size_t want, charged;
	struct fifo_rbuf *rb;
	struct parked *p;
	uint32_t cap;
	void *buf;
	int rc;

	(void)off;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	probe.arg = (uint64_t)(uintptr_t)buf;
	probe.size = size;
	store_begin(&n->so);
	cap = fifo_of(n)->capacity;
	if (n->dead)
		rc = -n->dead_err;
	else if ((rc = mfifo_read(fifo_of(n), &probe, false, &wk)) == MODEL_WOULD_BLOCK &&
		 (flags & O_NONBLOCK))
		rc = -EAGAIN;
	if (rc != MODEL_WOULD_BLOCK) {
		fifo_commit(n, &after);
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_buf(req, buf, probe.size);
		free(buf);
		return;
	}
	store_end(&n->so);
	free(buf);

	/* It must wait, with a buffer of its own (struct fifo_rbuf). */
	want = size < cap ? size : cap;
	charged = budget_charge(&n->fs->budget, want) == 0 ? want : 0;
	if (!charged && want > FIFO_READ_MIN)
		want = FIFO_READ_MIN;
	rb = malloc(sizeof(*rb) + want);
	p = rb ? park_new(req, h, FIFO_READ, (uint64_t)(uintptr_t)rb->data) : NULL;
	if (!p) {
		free(rb);
		budget_uncharge(&n->fs->budget, charged);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rb->charged = charged;
	p->w.size = want;
	if (!park_arm(p))
		return; /* answered, and rb freed, by fifo_complete */
	rc = mfifo_read(fifo_of(n), &p->w, true, &wk);
	if (rc == MODEL_WOULD_BLOCK)
		park_queued(p);
	fifo_commit(n, &after);
	if (rc != MODEL_WOULD_BLOCK)
		park_answer(p, rc);
}

static void fifo_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		       int flags)
{
	struct node *n = h->node;
	struct mfifo_bytes now = { .data = (const unsigned char *)buf, .len = size };
	struct waiter probe = { .op = &h->mo,
				.pid = fuse_req_ctx(req)->pid,
				.kind = FIFO_WRITE,
				.arg = (uint64_t)(uintptr_t)&now };
	struct store_after after;
	struct model_waker wk = park_step(&after);
	struct fifo_copy *c;
	struct parked *p;
	int rc;

	(void)off;
	if (size == 0) {
		fuse_reply_write(req, 0);
		return;
	}
	store_begin(&n->so);
	if (n->dead) {
		rc = -n->dead_err;
	} else {
		rc = mfifo_write(fifo_of(n), &probe, false, &wk);
		if (wk.changed)
			ns_touch(n, true);
		/* O_NONBLOCK: a short write, or none, as a pipe's */
		if (rc == MODEL_WOULD_BLOCK && (flags & O_NONBLOCK))
			rc = probe.size ? MODEL_DONE : -EAGAIN;
	}
	fifo_commit(n, &after); /* readers took what went in */
	if (rc != MODEL_WOULD_BLOCK) {
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_write(req, probe.size);
		return;
	}

	/* The rest must wait for room: keep a copy of it (not of what went in already). */
	c = malloc(sizeof(*c) + size - probe.size);
	p = c ? park_new(req, h, FIFO_WRITE, (uint64_t)(uintptr_t)&c->b) : NULL;
	if (!p) {
		free(c);
		if (probe.size)
			fuse_reply_write(req, probe.size);
		else
			fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(c->data, buf + probe.size, size - probe.size);
	c->b.data = c->data;
	c->b.len = size - probe.size;
	c->before = probe.size;
	p->w.size = 0;
	if (!park_arm(p))
		return;		/* answered with the short count if some bytes went in */
	wk = park_step(&after); /* a second step: the first one's after is spent */
	rc = mfifo_write(fifo_of(n), &p->w, true, &wk);
	if (wk.changed)
		ns_touch(n, true);
	if (rc == MODEL_WOULD_BLOCK)
		park_queued(p);
	fifo_commit(n, &after);
	if (rc != MODEL_WOULD_BLOCK)
		park_answer(p, rc);
}

static void fifo_complete(struct parked *p)
{
	if (p->w.kind == FIFO_WRITE) {
		struct fifo_copy *c = container_of((struct mfifo_bytes *)(uintptr_t)p->w.arg,
						   struct fifo_copy, b);
		ssize_t rc = mfifo_write_result(&p->w, p->rc);

		/* what went in before it parked counts: a short write rather than an error */
		if (c->before)
			rc = rc < 0 ? (ssize_t)c->before : rc + (ssize_t)c->before;
		if (rc < 0)
			fuse_reply_err(p->req, (int)-rc);
		else
			fuse_reply_write(p->req, (size_t)rc);
		free(c);
		return;
	}
	{
		struct fifo_rbuf *rb = (struct fifo_rbuf *)((char *)(uintptr_t)p->w.arg -
							    offsetof(struct fifo_rbuf, data));

		if (p->rc)
			fuse_reply_err(p->req, -p->rc);
		else
			fuse_reply_buf(p->req, (const char *)rb->data, p->w.size);
		budget_uncharge(&p->node->fs->budget, rb->charged);
		free(rb);
	}
}

static void fifo_cancel(struct node *n, struct waiter *w, struct list_head *done)
{
	struct model_waker wk = park_waker(done);

	mfifo_cancel(fifo_of(n), w, &wk);
}

static void fifo_kill(struct node *n, int err)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);

	store_begin(&n->so);
	n->dead = true;
	n->dead_err = err;
	mfifo_kill(fifo_of(n), err, &wk);
	fifo_commit(n, &after);
}

static void fifo_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	struct pollwait *pw = poll_prepare(ph);
	struct node *n = h->node;
	struct mfifo *f = fifo_of(n);
	unsigned revents = 0;

	store_begin(&n->so);
	if (n->dead) {
		revents = POLLIN | POLLOUT | POLLERR;
	} else {
		if (mfifo_readable(f))
			revents |= POLLIN | POLLRDNORM;
		else if (mfifo_at_eof(f, &h->mo))
			revents |= POLLIN | POLLHUP; /* a read returns end of file at once */
		if (mfifo_writable(f))
			revents |= POLLOUT | POLLWRNORM;
	}
	poll_arm(h, pw);
	store_end(&n->so);
	fuse_reply_poll(req, revents);
}

static void fifo_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	mfifo_inspect(fifo_of(n), snap, o);
}

static void fifo_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	mfifo_stat_size(fifo_of(n), size, blocks);
}

static const char *const fifo_xattrs[] = { "capacity", NULL };

static int fifo_getxattr(struct node *n, const char *name, uint64_t *value)
{
	(void)name; /* the only one */
	store_begin(&n->so);
	*value = fifo_of(n)->capacity;
	store_end(&n->so);
	return 0;
}

/* A new capacity applies while the FIFO is empty (the ring is made at the next write). */
static int fifo_setxattr(struct node *n, const char *name, uint64_t value)
{
	struct mfifo *f = fifo_of(n);
	struct ipc_ring *drained;
	int rc;

	(void)name;
	store_begin(&n->so);
	drained = mfifo_trim(f); /* an empty ring is no obstacle: it goes */
	rc = mfifo_set_capacity(f, value);
	if (rc == 0)
		ns_touch(n, false);
	store_commit(&n->so, NULL);
	free(drained);
	return rc;
}

const struct objtype fifo_type = {
	.name = "fifo",
	.obj_size = sizeof(struct mfifo),
	.init = fifo_init_obj,
	.destroy = fifo_destroy,
	.kill = fifo_kill,
	.open = fifo_open,
	.release = fifo_release,
	.read = fifo_read,
	.write = fifo_write,
	.poll = fifo_poll,
	.stat_size = fifo_stat_size,
	.cancel = fifo_cancel,
	.complete = fifo_complete,
	.xattrs = fifo_xattrs,
	.getxattr = fifo_getxattr,
	.setxattr = fifo_setxattr,
	.inspect = fifo_inspect,
	.direct_io = true,
};
