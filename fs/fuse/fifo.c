/* SPDX-License-Identifier: MIT */
/*
 * fifo.c - FIFO objects: fifo/NAME, bounded byte streams.
 *
 * Implementation notes:
 * - The bytes live in a struct ipc_ring from lib/ (atomic writes up to IPC_RING_ATOMIC bytes,
 *   as pipes), allocated at the first write and freed when it drains, so an idle FIFO costs no
 *   buffer. Its capacity is charged against -o max_memory while it exists.
 * - Unlike a kernel FIFO, writers never wait for a reader: what they write is kept.
 * - End of file needs care, since readers and writers come and go independently. A read of an
 *   empty FIFO waits while a writer has it open, and also while this reader has received
 *   nothing and has seen no writer since it opened (so `cat` started first waits for the first
 *   writer, as with a named pipe). Otherwise it returns end of file. "Seen a writer" is a
 *   writer open at the reader's open, or any writer open since (writer_gen moved).
 * - Parked writes keep a copy of their bytes (libfuse's buffer lives only during the call) and
 *   are served in order: a large write at the head takes space as it frees, and no later
 *   writer overtakes it. A write interrupted after some of its bytes went in answers that
 *   count, as a pipe's would; before any, EINTR and nothing written.
 * - Parked reads are served in order too; each takes what is there, up to its size.
 *
 * Locking: node->lock protects struct fifo_obj, the ring's contents and the queues. The
 * ring's own lock is taken inside it and is always free (we serialise on node->lock).
 */
#include "ipcfs.h"
#include "park.h"
#include "inspect/snapshot.h"

#include <ipc/ring.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct fifo_obj {
	struct ipc_ring *ring;	 /* the buffered bytes; NULL while empty */
	uint32_t capacity;	 /* bytes the ring may hold */
	uint32_t writers;	 /* open handles with write access */
	uint64_t writer_gen;	 /* bumped by every open for writing */
	struct list_head readq;	 /* parked reads, FIFO; arg = bytes asked */
	struct list_head writeq; /* parked writes, FIFO; see struct fifo_write */
};

/* A parked write's bytes: p->w.arg points here. */
struct fifo_write {
	size_t len;  /* bytes of the original write */
	size_t done; /* bytes already in the ring */
	bool atomic; /* all at once (len <= IPC_RING_ATOMIC and <= capacity) */
	unsigned char data[];
};

/* Per-open state, in handle->state[]. */
#define FIFO_GEN 0	     /* state[0]: writer_gen when the reader opened */
#define FIFO_FLAGS 1	     /* state[1]: bits below */
#define FIFO_SAW_WRITER 0x1u /* a writer had it open when this reader opened */
#define FIFO_RECEIVED 0x2u   /* this reader has received bytes */

static struct fifo_obj *fifo_of(struct node *n)
{
	return n->obj;
}

static bool is_writer(const struct handle *h)
{
	return (h->mo.flags & O_ACCMODE) != O_RDONLY;
}

static uint32_t buffered(const struct fifo_obj *f)
{
	return f->ring ? ipc_ring_used(f->ring) : 0;
}

static int fifo_init_obj(struct node *n)
{
	struct fifo_obj *f = fifo_of(n);

	f->capacity = n->fs->params.fifo_capacity;
	list_init(&f->readq);
	list_init(&f->writeq);
	return 0;
}

static void fifo_destroy(struct node *n)
{
	struct fifo_obj *f = fifo_of(n);

	if (f->ring)
		budget_uncharge(&n->fs->budget, ipc_ring_footprint(f->capacity));
	free(f->ring);
}

/* Would a read through h return end of file now (nothing buffered)? node->lock held. */
static bool at_eof(struct fifo_obj *f, const struct handle *h)
{
	bool saw_writer = (h->mo.state[FIFO_FLAGS] & (FIFO_SAW_WRITER | FIFO_RECEIVED)) ||
			  h->mo.state[FIFO_GEN] != f->writer_gen;

	return f->writers == 0 && saw_writer;
}

enum fifo_kind {
	FIFO_READ,	  /* parked read: arg = bytes asked */
	FIFO_READ_DATA,	  /* claimed read with bytes: arg = malloc'd buffer, size = its length */
	FIFO_READ_DIRECT, /* claimed read answered from the buffer of the write that claimed it
			   * (valid until that write returns): arg = the bytes, size = their length */
	FIFO_WRITE,	  /* parked write: arg = struct fifo_write * */
};

/* Move bytes of parked writes into the ring, in order. Returns whether any moved. */
static bool serve_writers(struct fifo_obj *f, struct list_head *done)
{
	bool moved = false;

	while (!list_empty(&f->writeq)) {
		struct parked *p = list_first_entry(&f->writeq, struct parked, w.link);
		struct fifo_write *w = (struct fifo_write *)(uintptr_t)p->w.arg;
		ssize_t k = ipc_ring_trywrite(f->ring, w->data + w->done, w->len - w->done);

		if (k <= 0)
			break;
		moved = true;
		w->done += (size_t)k;
		if (w->done < w->len)
			break; /* the head goes on as space frees; nobody overtakes it */
		park_claim(p, 0, done);
	}
	return moved;
}

/* Give parked reads what is buffered, in order; end of file to those for which it is.
 * Returns whether any bytes moved. */
static bool serve_readers(struct fifo_obj *f, struct list_head *done)
{
	struct parked *p, *tmp;
	bool moved = false;

	while (!list_empty(&f->readq) && buffered(f) > 0) {
		uint32_t avail = buffered(f);
		size_t want;
		void *buf;

		p = list_first_entry(&f->readq, struct parked, w.link);
		want = p->w.arg < avail ? (size_t)p->w.arg : avail;
		buf = malloc(want);
		if (!buf)
			return moved; /* it stays parked; the next change retries */
		ipc_ring_tryread(f->ring, buf, want);
		p->w.kind = FIFO_READ_DATA;
		p->w.arg = (uint64_t)(uintptr_t)buf;
		p->w.size = want;
		p->h->mo.state[FIFO_FLAGS] |= FIFO_RECEIVED;
		park_claim(p, 0, done);
		moved = true;
	}
	if (buffered(f) == 0) {
		list_for_each_entry_safe(p, tmp, &f->readq, w.link)
		{
			if (at_eof(f, p->h)) {
				p->w.size = 0;
				park_claim(p, 0, done);
			}
		}
	}
	return moved;
}

/* Serve both queues until nothing moves. node->lock held. */
static void fifo_serve(struct node *n, struct list_head *done)
{
	struct fifo_obj *f = fifo_of(n);

	for (;;) {
		bool moved = f->ring && serve_writers(f, done);

		moved |= serve_readers(f, done);
		if (!moved)
			break;
	}
}

/* After a change: serve, collect pollers, detach a drained ring, unlock, answer, notify. */
static void fifo_unlock_and_finish(struct node *n, struct list_head *done)
{
	struct fifo_obj *f = fifo_of(n);
	struct ipc_ring *drained = NULL;
	LIST_HEAD_DECL(pw);

	fifo_serve(n, done);
	if (f->ring && buffered(f) == 0 && list_empty(&f->writeq)) {
		drained = f->ring;
		f->ring = NULL;
	}
	poll_collect(n, &pw);
	ipc_mutex_unlock(&n->lock);
	if (drained) {
		budget_uncharge(&n->fs->budget, ipc_ring_footprint(drained->capacity));
		free(drained);
	}
	park_finish(done);
	poll_notify(&pw);
}

static int fifo_open(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	struct node *n = h->node;
	struct fifo_obj *f = fifo_of(n);

	(void)req;
	(void)fi;
	(void)create;
	ipc_mutex_lock(&n->lock);
	h->mo.state[FIFO_GEN] = f->writer_gen;
	h->mo.state[FIFO_FLAGS] = f->writers ? FIFO_SAW_WRITER : 0;
	if (is_writer(h)) {
		f->writers++;
		f->writer_gen++;
	}
	ipc_mutex_unlock(&n->lock);
	return 0; /* opening a FIFO never waits, for readers nor writers */
}

static void fifo_release(struct handle *h)
{
	struct node *n = h->node;
	struct fifo_obj *f = fifo_of(n);
	LIST_HEAD_DECL(done);

	if (!is_writer(h))
		return;
	ipc_mutex_lock(&n->lock);
	f->writers--;
	/* the last writer gone: waiting readers that saw one get end of file */
	fifo_unlock_and_finish(n, &done);
}

static void fifo_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	struct node *n = h->node;
	struct fifo_obj *f = fifo_of(n);
	LIST_HEAD_DECL(done);
	size_t got = 0;
	struct parked *p;
	void *buf;
	int rc = 0;

	(void)off;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ipc_mutex_lock(&n->lock);
	if (n->dead) {
		rc = -n->dead_err;
	} else if (size == 0) {
		rc = 1;
	} else if (buffered(f) > 0 && list_empty(&f->readq)) {
		got = (size_t)ipc_ring_tryread(f->ring, buf, size);
		h->mo.state[FIFO_FLAGS] |= FIFO_RECEIVED;
		rc = 1;
	} else if (buffered(f) == 0 && at_eof(f, h)) {
		rc = 1;
	} else if (flags & O_NONBLOCK) {
		rc = -EAGAIN;
	}
	if (rc) {
		fifo_unlock_and_finish(n, &done);
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_buf(req, buf, got);
		free(buf);
		return;
	}
	ipc_mutex_unlock(&n->lock);
	free(buf);

	p = park_new(req, h, FIFO_READ, size);
	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (!park_arm(p))
		return;
	/* whatever happened meanwhile, queueing and serving gives the right answer */
	park_enqueue(p, &f->readq);
	fifo_unlock_and_finish(n, &done);
}

/* Make sure f has a ring, charging its capacity. Returns 0, -ENOSPC or -ENOMEM.
 * node->lock held (the one allocation made under it: the buffer must exist before bytes can
 * go in, and a ring allocated before the lock could be stale by then). */
static int fifo_need_ring(struct node *n)
{
	struct fifo_obj *f = fifo_of(n);
	size_t bytes = ipc_ring_footprint(f->capacity);
	struct ipc_ring *r;

	if (f->ring)
		return 0;
	if (budget_charge(&n->fs->budget, bytes) != 0)
		return -ENOSPC;
	r = malloc(bytes);
	if (!r) {
		budget_uncharge(&n->fs->budget, bytes);
		return -ENOMEM;
	}
	ipc_ring_init(r, f->capacity, 0);
	f->ring = r;
	return 0;
}

/*
 * A write finds readers waiting and nothing buffered: it answers them from its own bytes, in
 * order, each with as much as it asked for, without going through the ring (as a pipe hands
 * a writer's bytes straight to a sleeping reader). Returns the bytes handed over; the caller
 * answers done before it returns, while buf is valid. node->lock held.
 */
static size_t hand_to_readers(struct fifo_obj *f, const char *buf, size_t size,
			      struct list_head *done)
{
	size_t given = 0;

	while (given < size && !list_empty(&f->readq)) {
		struct parked *p = list_first_entry(&f->readq, struct parked, w.link);
		size_t take = p->w.arg < size - given ? (size_t)p->w.arg : size - given;

		p->w.kind = FIFO_READ_DIRECT;
		p->w.arg = (uint64_t)(uintptr_t)(buf + given);
		p->w.size = take;
		p->h->mo.state[FIFO_FLAGS] |= FIFO_RECEIVED;
		park_claim(p, 0, done);
		given += take;
	}
	return given;
}

static void fifo_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		       int flags)
{
	struct node *n = h->node;
	struct fifo_obj *f = fifo_of(n);
	LIST_HEAD_DECL(done);
	struct fifo_write *w;
	size_t written = 0;
	struct parked *p;
	int rc;

	(void)off;
	if (size == 0) {
		fuse_reply_write(req, 0);
		return;
	}
	ipc_mutex_lock(&n->lock);
	rc = n->dead ? -n->dead_err : 0;
	if (rc == 0 && buffered(f) == 0 && list_empty(&f->writeq))
		written = hand_to_readers(f, buf, size, &done);
	if (rc == 0 && written < size)
		rc = fifo_need_ring(n);
	if (rc == 0 && written < size && list_empty(&f->writeq)) {
		ssize_t k = ipc_ring_trywrite(f->ring, buf + written, size - written);

		if (k > 0)
			written += (size_t)k;
	}
	if (written)
		ns_touch(n, true);
	if (rc == 0 && written < size && (flags & O_NONBLOCK))
		rc = written ? 0 : -EAGAIN; /* a short write, or nothing, as a pipe */
	fifo_unlock_and_finish(n, &done);   /* readers take what went in */
	if (rc || written == size || (flags & O_NONBLOCK)) {
		if (rc)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_write(req, written);
		return;
	}

	/* The rest must wait for room: keep a copy of the bytes. */
	w = malloc(sizeof(*w) + size);
	p = w ? park_new(req, h, FIFO_WRITE, (uint64_t)(uintptr_t)w) : NULL;
	if (!p) {
		free(w);
		if (written)
			fuse_reply_write(req, written);
		else
			fuse_reply_err(req, ENOMEM);
		return;
	}
	w->len = size;
	w->done = written;
	memcpy(w->data, buf, size);
	if (!park_arm(p))
		return;		/* answered with the short count if some bytes went in */
	rc = fifo_need_ring(n); /* it may have drained meanwhile */
	if (rc) {
		ipc_mutex_unlock(&n->lock);
		park_answer(p, rc);
		return;
	}
	park_enqueue(p, &f->writeq);
	fifo_unlock_and_finish(n, &done);
}

static void fifo_complete(struct parked *p)
{
	if (p->w.kind == FIFO_WRITE) {
		struct fifo_write *w = (struct fifo_write *)(uintptr_t)p->w.arg;

		if (p->rc == 0)
			fuse_reply_write(p->req, w->len);
		else if (w->done)
			fuse_reply_write(p->req,
					 w->done); /* what went in stays in: a short write */
		else
			fuse_reply_err(p->req, -p->rc);
		free(w);
		return;
	}
	if (p->rc)
		fuse_reply_err(p->req, -p->rc);
	else if (p->w.kind == FIFO_READ_DATA || p->w.kind == FIFO_READ_DIRECT)
		fuse_reply_buf(p->req, (const char *)(uintptr_t)p->w.arg, p->w.size);
	else
		fuse_reply_buf(p->req, NULL, 0); /* end of file */
	if (p->w.kind == FIFO_READ_DATA)
		free((void *)(uintptr_t)p->w.arg);
}

static void fifo_requeue(struct node *n, struct list_head *done)
{
	fifo_serve(n, done);
}

static void fifo_kill(struct node *n, int err)
{
	struct fifo_obj *f = fifo_of(n);
	LIST_HEAD_DECL(done);

	ipc_mutex_lock(&n->lock);
	n->dead = true;
	n->dead_err = err;
	park_kill_queue(&f->readq, -err, &done);
	park_kill_queue(&f->writeq, -err, &done);
	fifo_unlock_and_finish(n, &done);
}

static void fifo_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	struct pollwait *pw = poll_prepare(ph);
	struct node *n = h->node;
	struct fifo_obj *f = fifo_of(n);
	unsigned revents = 0;
	uint32_t used;

	ipc_mutex_lock(&n->lock);
	used = buffered(f);
	if (n->dead) {
		revents = POLLIN | POLLOUT | POLLERR;
	} else {
		uint32_t room = f->capacity - used;
		uint32_t atomic = f->capacity < IPC_RING_ATOMIC ? f->capacity : IPC_RING_ATOMIC;

		if (used > 0)
			revents |= POLLIN | POLLRDNORM;
		else if (at_eof(f, h))
			revents |= POLLIN | POLLHUP; /* a read returns end of file at once */
		if (list_empty(&f->writeq) && room >= atomic)
			revents |= POLLOUT | POLLWRNORM;
	}
	poll_arm(h, pw);
	ipc_mutex_unlock(&n->lock);
	fuse_reply_poll(req, revents);
}

static void fifo_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	struct fifo_obj *f = fifo_of(n);
	struct parked *p;

	snap_field_add(o, "bytes", buffered(f));
	snap_field_add(o, "capacity", f->capacity);
	snap_field_add(o, "writers", f->writers);
	/* units: the bytes each asks for, or has still to write */
	list_for_each_entry(p, &f->readq, w.link)
		snap_wait_add(snap, o, p->w.pid, "read", (uint32_t)p->w.arg, p->w.since);
	list_for_each_entry(p, &f->writeq, w.link)
	{
		const struct fifo_write *w = (const struct fifo_write *)(uintptr_t)p->w.arg;

		snap_wait_add(snap, o, p->w.pid, "write", (uint32_t)(w->len - w->done), p->w.since);
	}
}

static void fifo_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	struct fifo_obj *f = fifo_of(n);

	*size = buffered(f);
	*blocks = f->ring ? (blkcnt_t)(ipc_ring_footprint(f->capacity) / 512) : 0;
}

static const char *const fifo_xattrs[] = { "capacity", NULL };

static int fifo_getxattr(struct node *n, const char *name, uint64_t *value)
{
	(void)name; /* the only one */
	ipc_mutex_lock(&n->lock);
	*value = fifo_of(n)->capacity;
	ipc_mutex_unlock(&n->lock);
	return 0;
}

/* A new capacity applies while the FIFO is empty (the ring is made at the next write). */
static int fifo_setxattr(struct node *n, const char *name, uint64_t value)
{
	struct fifo_obj *f = fifo_of(n);
	int rc = 0;

	(void)name;
	if (value < 1 || value > IPCFS_MAX_FIFO_CAPACITY)
		return -EINVAL;
	ipc_mutex_lock(&n->lock);
	if (buffered(f) > 0 || !list_empty(&f->writeq)) {
		rc = -EBUSY;
	} else {
		if (f->ring) {
			budget_uncharge(&n->fs->budget, ipc_ring_footprint(f->capacity));
			free(f->ring);
			f->ring = NULL;
		}
		f->capacity = (uint32_t)value;
		ns_touch(n, false);
	}
	ipc_mutex_unlock(&n->lock);
	return rc;
}

const struct objtype fifo_type = {
	.xattrs = fifo_xattrs,
	.getxattr = fifo_getxattr,
	.setxattr = fifo_setxattr,
	.name = "fifo",
	.obj_size = sizeof(struct fifo_obj),
	.init = fifo_init_obj,
	.destroy = fifo_destroy,
	.kill = fifo_kill,
	.open = fifo_open,
	.release = fifo_release,
	.read = fifo_read,
	.write = fifo_write,
	.poll = fifo_poll,
	.stat_size = fifo_stat_size,
	.requeue = fifo_requeue,
	.complete = fifo_complete,
	.inspect = fifo_inspect,
	.direct_io = true,
};
