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
 * - Cluster mode (replica.h): every open is an OPEN in the log (its flags: writers count on
 *   every replica, and a reader's "seen a writer" is decided in the log's order), its last
 *   close a CLOSE. A write carries its bytes through the log (one write, at most max_write,
 *   is one operation: the stream is kept in etcd in chunks of one write each); a read asks for
 *   its bytes (no more than the FIFO holds) through the handle's copen, with the buffer a
 *   waiting read has. Another host's read takes its bytes on this replica and drops them
 *   (the model's read without a buffer); another host's write waiting for room keeps a copy.
 *   The opens do not wait for the log: a daemon's operations are applied in the order it
 *   submitted them, so its reads and writes always come after its OPEN.
 *
 * Locking: n->so protects the struct mfifo, the ring's contents and the parked requests
 * in its queues.
 */
#include "ipcfs.h"
#include "park.h"
#include "replica.h"
#include "model/fifo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The log's FIFO operations besides reads and writes (enum fifo_kind). */
enum {
	FIFO_OP_OPEN = 16, /* arg: the open's flags */
	FIFO_OP_CAPACITY,  /* arg: user.capacity */
	/* a checkpoint's (objtype.checkpoint): */
	FIFO_OP_BYTES, /* data: buffered bytes, appended */
	FIFO_OP_SAW,   /* the open has seen a writer or not: arg mfifo_open_flags */
};

/* Buffered bytes per operation of a checkpoint (one etcd key each), as many as a write's. */
#define FIFO_CKPT_CHUNK (128u << 10)

/* Cluster mode: model_open.state[FIFO_OPENED] is 1 once the open's OPEN was applied here
 * (then its CLOSE counts a writer out; an open whose OPEN never landed was never counted). */
#define FIFO_OPENED 2

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
	fifo_of(n)->force = n->fs->cluster != NULL; /* what the log made must be held */
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
	if (n->fs->cluster) {
		int rc = replica_open_handle(h);
		struct cluster_op op = { .path = n->cpath,
					 .inc = n->inc,
					 .pid = h->mo.pid,
					 .kind = FIFO_OP_OPEN,
					 .arg = (uint64_t)(unsigned)h->mo.flags };

		if (rc)
			return rc;
		op.open = h->copen->id;
		return cluster_submit(n->fs->cluster, &op); /* failing, handle_free closes it */
	}
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

	if (h->copen || !mfifo_is_writer(&h->mo))
		return; /* a reader's close changes nothing; cluster mode: handle_free's CLOSE */
	store_begin(&n->so);
	mfifo_close(fifo_of(n), &h->mo, &wk);
	fifo_commit(n, &after);
}

/* A parked read of req, with a buffer of its own (struct fifo_rbuf) of size bytes at most and
 * no more than cap; NULL when out of memory (req is answered ENOMEM). */
static struct parked *fifo_park_read(fuse_req_t req, struct handle *h, size_t size, uint32_t cap)
{
	struct ipcfs *fs = h->node->fs;
	size_t want = size < cap ? size : cap;
	size_t charged = budget_charge(&fs->budget, want) == 0 ? want : 0;
	struct fifo_rbuf *rb;
	struct parked *p;

	if (!charged && want > FIFO_READ_MIN)
		want = FIFO_READ_MIN;
	rb = malloc(sizeof(*rb) + want);
	p = rb ? park_new(req, h, FIFO_READ, (uint64_t)(uintptr_t)rb->data) : NULL;
	if (!p) {
		free(rb);
		budget_uncharge(&fs->budget, charged);
		fuse_reply_err(req, ENOMEM);
		return NULL;
	}
	rb->charged = charged;
	p->w.size = want;
	return p;
}

/* Cluster mode: req's read waits for its operation to come back from the log. */
static void fifo_read_cluster(fuse_req_t req, struct handle *h, size_t size, int flags)
{
	struct node *n = h->node;
	struct parked *p;
	uint32_t cap;

	if (size == 0) {
		fuse_reply_buf(req, NULL, 0); /* takes nothing: nothing to order */
		return;
	}
	store_begin(&n->so);
	cap = fifo_of(n)->capacity;
	store_end(&n->so);
	p = fifo_park_read(req, h, size, cap);
	if (!p)
		return;
	p->w.op = &h->copen->mo;
	if (park_arm(p))
		replica_submit(p, FIFO_READ, p->w.size,
			       flags & O_NONBLOCK ? CLUSTER_OP_NONBLOCK : 0, NULL, 0);
}

static void fifo_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	struct node *n = h->node;
	struct store_after after;
	struct model_waker wk = park_step(&after);
	struct waiter probe = { .op = &h->mo, .pid = fuse_req_ctx(req)->pid, .kind = FIFO_READ };
	struct parked *p;
	uint32_t cap;
	void *buf;
	int rc;

	(void)off;
	if (h->copen) {
		fifo_read_cluster(req, h, size, flags);
		return;
	}
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
	p = fifo_park_read(req, h, size, cap);
	if (!p)
		return;
	if (!park_arm(p))
		return; /* answered, and rb freed, by fifo_complete */
	rc = mfifo_read(fifo_of(n), &p->w, true, &wk);
	if (rc == MODEL_WOULD_BLOCK)
		park_queued(p);
	fifo_commit(n, &after);
	if (rc != MODEL_WOULD_BLOCK)
		park_answer(p, rc);
}

/* A parked write of req with a copy of bytes [from, size) of buf (the part that must wait);
 * NULL when out of memory (req is not answered). */
static struct parked *fifo_park_write(fuse_req_t req, struct handle *h, const char *buf,
				      size_t size, size_t from)
{
	struct fifo_copy *c = malloc(sizeof(*c) + size - from);
	struct parked *p = c ? park_new(req, h, FIFO_WRITE, (uint64_t)(uintptr_t)&c->b) : NULL;

	if (!p) {
		free(c);
		return NULL;
	}
	memcpy(c->data, buf + from, size - from);
	c->b.data = c->data;
	c->b.len = size - from;
	c->before = from;
	p->w.size = 0;
	return p;
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
	struct parked *p;
	int rc;

	(void)off;
	if (size == 0) {
		fuse_reply_write(req, 0);
		return;
	}
	if (h->copen) {
		/* cluster mode: the whole write goes through the log (this replica's model keeps
		 * the parked copy's bytes while it waits for room) */
		p = fifo_park_write(req, h, buf, size, 0);
		if (!p) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		p->w.op = &h->copen->mo;
		if (park_arm(p))
			replica_submit(p, FIFO_WRITE, 0,
				       flags & O_NONBLOCK ? CLUSTER_OP_NONBLOCK : 0, buf, size);
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
	p = fifo_park_write(req, h, buf, size, probe.size);
	if (!p) {
		if (probe.size)
			fuse_reply_write(req, probe.size);
		else
			fuse_reply_err(req, ENOMEM);
		return;
	}
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

static void fifo_cancel(struct node *n, struct waiter *w, struct store_after *a)
{
	struct model_waker wk = park_waker(&a->done);

	mfifo_cancel(fifo_of(n), w, &wk);
}

static void fifo_kill(struct node *n, int err)
{
	struct store_after after;
	struct model_waker wk = park_kill_step(n, err, &after);

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
		else if (mfifo_at_eof(f, h->copen ? &h->copen->mo : &h->mo))
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
	if (n->fs->cluster) {
		/* checked on this replica, then applied in the log's order (where bytes that
		 * came meanwhile make it fail: said on standard error) */
		struct cluster_op op = {
			.path = n->cpath, .inc = n->inc, .kind = FIFO_OP_CAPACITY, .arg = value
		};

		rc = mfifo_check_capacity(f, value);
		store_commit(&n->so, NULL);
		free(drained);
		return rc ? rc : cluster_submit(n->fs->cluster, &op);
	}
	rc = mfifo_set_capacity(f, value);
	if (rc == 0)
		ns_touch(n, false);
	store_commit(&n->so, NULL);
	free(drained);
	return rc;
}

/* Cluster mode: op's OPEN, CLOSE's counterpart: the open is counted (a writer) and its view of
 * the writers set, in the log's order. inside a step on n. */
static void fifo_apply_open(struct node *n, const struct cluster_op *op)
{
	struct copen *c = replica_open_make(n, op);

	if (!c) {
		fprintf(stderr, "ipcfs: cluster: out of memory: an open of %s is missing here\n",
			n->cpath);
		return;
	}
	if (c->mo.state[FIFO_OPENED])
		return;
	c->mo.flags = (int)op->arg;
	mfifo_open(fifo_of(n), &c->mo);
	c->mo.state[FIFO_OPENED] = 1;
}

/* Cluster mode: a checkpoint's buffered bytes, or an open's "seen a writer". inside a step on
 * n. */
static void fifo_apply_restore(struct node *n, const struct cluster_op *op)
{
	struct copen *c;
	int rc;

	if (op->kind == FIFO_OP_BYTES) {
		if ((rc = mfifo_restore(fifo_of(n), op->data, op->len)) != 0)
			fprintf(stderr, "ipcfs: cluster: bytes of %s cannot be held here: %s\n",
				n->cpath, strerror(-rc));
	} else if ((c = replica_open_of(n, op->host, op->open)) != NULL) {
		mfifo_open_restore(fifo_of(n), &c->mo, op->arg);
	}
}

/* Cluster mode: the FIFO as operations that rebuild it (objtype.checkpoint): its capacity, its
 * opens (writers counted), what each reader has seen, the buffered bytes, the waiting writes
 * with the bytes still to go in, then the waiting reads. */
static int fifo_checkpoint(struct node *n, struct cluster_ckpt *k)
{
	struct mfifo *f = fifo_of(n);
	uint32_t used = mfifo_used(f);
	unsigned char *buf = NULL;
	struct cluster_op op;
	struct waiter *w;
	struct copen *c;
	int rc;

	replica_ckpt_op(n, FIFO_OP_CAPACITY, f->capacity, &op);
	if ((rc = cluster_ckpt_add(k, &op)) != 0)
		return rc;
	for (int pass = 0; pass < 2; pass++) {
		list_for_each_entry(c, &n->copens, link)
		{
			if (!c->mo.state[FIFO_OPENED])
				continue; /* its OPEN is not applied yet */
			if (pass == 0)
				replica_ckpt_open(n, c, FIFO_OP_OPEN, (uint64_t)c->mo.flags, &op);
			else
				replica_ckpt_open(n, c, FIFO_OP_SAW, mfifo_open_flags(f, &c->mo),
						  &op);
			if ((rc = cluster_ckpt_add(k, &op)) != 0)
				return rc;
		}
	}
	if (used && !(buf = malloc(used < FIFO_CKPT_CHUNK ? used : FIFO_CKPT_CHUNK)))
		return -ENOMEM;
	for (size_t off = 0; off < used && rc == 0; off += op.len) {
		replica_ckpt_op(n, FIFO_OP_BYTES, 0, &op);
		op.data = buf;
		op.len = mfifo_peek(f, off, buf, FIFO_CKPT_CHUNK);
		if (op.len == 0)
			break; /* cannot happen: used bytes are there */
		rc = cluster_ckpt_add(k, &op);
	}
	free(buf);
	list_for_each_entry(w, &f->writeq, link)
	{
		const struct mfifo_bytes *b = (const struct mfifo_bytes *)(uintptr_t)w->arg;

		if (rc)
			break;
		replica_ckpt_waiter(n, w, &op);
		op.arg = 0; /* a write's, as fifo_write submits it */
		op.data = b->data + w->size;
		op.len = b->len - w->size;
		rc = cluster_ckpt_add(k, &op);
	}
	list_for_each_entry(w, &f->readq, link)
	{
		if (rc)
			break;
		replica_ckpt_waiter(n, w, &op);
		op.arg = w->size; /* the bytes asked (arg is its buffer) */
		rc = cluster_ckpt_add(k, &op);
	}
	return rc;
}

/* Cluster mode: run op from the log on the replica, as fifo_open, fifo_read, fifo_write and
 * fifo_setxattr do above; p is this daemon's caller, if it submitted op and still waits. */
static void fifo_apply(struct node *n, const struct cluster_op *op, struct parked *p)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);
	bool nonblock = op->flags & CLUSTER_OP_NONBLOCK;
	struct mfifo *f = fifo_of(n);
	struct fifo_copy *c = NULL;
	struct ipc_ring *drained;
	struct waiter *w;
	int rc;

	if (op->kind >= FIFO_OP_OPEN && op->kind <= FIFO_OP_SAW) {
		drained = NULL;
		store_begin(&n->so);
		if (n->dead) {
			/* removed: nothing to count or size */
		} else if (op->kind == FIFO_OP_OPEN) {
			fifo_apply_open(n, op);
		} else if (op->kind != FIFO_OP_CAPACITY) {
			fifo_apply_restore(n, op);
		} else {
			drained = mfifo_trim(f);
			rc = mfifo_set_capacity(f, op->arg);
			if (rc == 0)
				ns_touch_at(n, false, &op->time);
			else
				fprintf(stderr, "ipcfs: cluster: user.capacity of %s not set: %s\n",
					n->cpath, strerror(-rc));
		}
		store_commit(&n->so, NULL); /* neither serves anybody */
		free(drained);
		return;
	}
	if ((op->kind != FIFO_READ && op->kind != FIFO_WRITE) ||
	    (op->kind == FIFO_WRITE && op->len == 0)) {
		if (p)
			park_answer(p, -EINVAL);
		return;
	}
	if (op->kind == FIFO_WRITE && !p) {
		/* another daemon's write: a copy, kept while it waits for room */
		c = malloc(sizeof(*c) + op->len);
		if (!c) {
			fprintf(stderr,
				"ipcfs: cluster: out of memory: a write to %s is missing here\n",
				n->cpath);
			return;
		}
		memcpy(c->data, op->data, op->len);
		c->b.data = c->data;
		c->b.len = op->len;
		c->before = 0;
	}
	store_begin(&n->so);
	w = replica_waiter(n, op, p);
	if (!w) {
		free(c);
		return;
	}
	if (w->ghost) {
		/* a read takes its bytes and drops them here (its own daemon answers it) */
		w->arg = c ? (uint64_t)(uintptr_t)&c->b : 0;
		w->size = c ? 0 : op->arg;
	}
	if (n->dead) {
		rc = -n->dead_err;
	} else if (op->kind == FIFO_READ) {
		rc = mfifo_read(f, w, !nonblock, &wk);
		if (rc == MODEL_WOULD_BLOCK && nonblock)
			rc = -EAGAIN;
	} else {
		rc = mfifo_write(f, w, !nonblock, &wk);
		if (wk.changed)
			ns_touch_at(n, true, &op->time);
		/* O_NONBLOCK: a short write, or none, as a pipe's */
		if (rc == MODEL_WOULD_BLOCK && nonblock)
			rc = w->size ? MODEL_DONE : -EAGAIN;
	}
	drained = mfifo_trim(f);
	replica_settle(n, w, rc, &after);
	free(drained);
}

/* Cluster mode: a ghost leaves: a write's copy is freed; a read of this daemon whose caller is
 * gone (answered EIO before its operation landed) had its bytes taken: they are lost, said. */
static void fifo_handed(struct node *n, struct waiter *w, bool give_back)
{
	if (w->kind == FIFO_WRITE) {
		free(container_of((struct mfifo_bytes *)(uintptr_t)w->arg, struct fifo_copy, b));
		return;
	}
	if (give_back && w->size)
		fprintf(stderr,
			"ipcfs: cluster: %zu bytes of %s went to a read whose caller was gone\n",
			w->size, n->cpath);
}

/* Cluster mode: open mo is closed: as fifo_release (a writer less, if it was counted). */
static void fifo_close_open(struct node *n, struct model_open *mo, const struct timespec *when,
			    struct model_waker *wk)
{
	(void)when;
	if (mo->state[FIFO_OPENED])
		mfifo_close(fifo_of(n), mo, wk);
}

/* Cluster mode: a FIFO starts with the capacity of the daemon that made it, on every mount. */
static void fifo_cluster_params(const struct model_params *p, uint64_t v[2])
{
	v[0] = p->fifo_capacity;
	v[1] = 0;
}

static void fifo_set_params(struct node *n, const uint64_t v[2])
{
	mfifo_set_capacity(fifo_of(n), v[0]); /* a new FIFO: no ring yet */
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
	.apply = fifo_apply,
	.handed = fifo_handed,
	.close_open = fifo_close_open,
	.cluster_params = fifo_cluster_params,
	.set_params = fifo_set_params,
	.checkpoint = fifo_checkpoint,
	.direct_io = true,
};
