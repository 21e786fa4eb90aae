/* SPDX-License-Identifier: MIT */
/*
 * sem.c - semaphore objects: sem/NAME.
 *
 * Implementation notes:
 * - read() is P(1); write() of text (semtext.h) is V(N), P(N) or wait-for-zero. A P that
 *   cannot proceed parks its request (park.h); a V serves the parked P's in arrival order,
 *   stopping at the first that still cannot proceed, so a P(5) at the head is not overtaken
 *   by a later P(1) (no starvation). Wait-for-zero requests are released together whenever
 *   the count reaches 0, independently of the P queue (as with System V semop).
 * - The count is the object's only state: st_size shows it, and nothing else is kept per open.
 * - A P answered to a caller that is gone (the reply fails) gives its units back.
 *
 * Locking: node->lock protects struct sem_obj and the parked requests in its queues.
 */
#include "ipcfs.h"
#include "park.h"
#include "semtext.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

struct sem_obj {
	uint32_t count;	     /* 0..INT32_MAX */
	struct list_head pq; /* parked P(n), FIFO; struct parked, arg = n */
	struct list_head zq; /* parked waits for zero */
};

enum sem_kind {
	SEM_READ_P,  /* read(): P(1), answered with 0 bytes */
	SEM_WRITE_P, /* write("-N"): P(N), answered with the bytes written */
	SEM_WRITE_Z, /* write("0"): wait for zero, answered with the bytes written */
};

static struct sem_obj *sem_of(struct node *n)
{
	return n->obj;
}

static int sem_init_obj(struct node *n)
{
	struct sem_obj *s = sem_of(n);

	list_init(&s->pq);
	list_init(&s->zq);
	return 0;
}

/* Answer every parked request that can proceed now, in order. node->lock held. */
static void sem_serve(struct node *n, struct list_head *done)
{
	struct sem_obj *s = sem_of(n);

	while (!list_empty(&s->pq)) {
		struct parked *p = list_first_entry(&s->pq, struct parked, link);

		if (s->count < p->arg)
			break;
		s->count -= (uint32_t)p->arg;
		park_claim(p, 0, done);
	}
	if (s->count == 0)
		park_kill_queue(&s->zq, 0, done);
}

/* Try the wait now: true if it was satisfied (and its effect applied). node->lock held. */
static bool sem_try(struct node *n, enum sem_kind kind, uint32_t units, struct list_head *done)
{
	struct sem_obj *s = sem_of(n);

	if (kind == SEM_WRITE_Z)
		return s->count == 0;
	if (!list_empty(&s->pq) || s->count < units)
		return false;
	s->count -= units;
	sem_serve(n, done); /* the count may have reached zero */
	return true;
}

/* After a change of state: answer who can proceed, then wake pollers. Drops node->lock. */
static void sem_unlock_and_notify(struct node *n, struct list_head *done)
{
	LIST_HEAD_DECL(pw);

	poll_collect(n, &pw);
	ipc_mutex_unlock(&n->lock);
	park_finish(done);
	poll_notify(&pw);
}

/* Add units. Returns 0, -EOVERFLOW or the object's death errno; changes nothing on error. */
static int sem_post(struct node *n, uint32_t units)
{
	struct sem_obj *s = sem_of(n);
	LIST_HEAD_DECL(done);

	ipc_mutex_lock(&n->lock);
	if (n->dead) {
		int err = n->dead_err;

		ipc_mutex_unlock(&n->lock);
		return -err;
	}
	if (s->count > (uint32_t)INT32_MAX - units) {
		ipc_mutex_unlock(&n->lock);
		return -EOVERFLOW;
	}
	s->count += units;
	ns_touch(n, true);
	sem_serve(n, &done);
	sem_unlock_and_notify(n, &done);
	return 0;
}

/* A wait (P or wait-for-zero) for req: answered now, or parked until it can be. */
static void sem_wait(fuse_req_t req, struct handle *h, enum sem_kind kind, uint32_t units,
		     size_t size, int flags)
{
	struct node *n = h->node;
	LIST_HEAD_DECL(done);
	struct parked *p;
	int rc = 0;

	ipc_mutex_lock(&n->lock);
	if (n->dead)
		rc = -n->dead_err;
	else if (sem_try(n, kind, units, &done))
		rc = 1;
	else if (flags & O_NONBLOCK)
		rc = -EAGAIN;
	if (rc) {
		sem_unlock_and_notify(n, &done);
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else if (kind == SEM_READ_P)
			fuse_reply_buf(req, NULL, 0);
		else
			fuse_reply_write(req, size);
		return;
	}
	ipc_mutex_unlock(&n->lock);

	/* It must wait: allocate outside the lock, then check again under it. */
	p = park_new(req, h, kind, units);
	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p->size = size;
	if (!park_arm(p)) {
		ipc_mutex_unlock(&n->lock);
		park_answer(p, -EINTR);
		return;
	}
	if (n->dead) {
		rc = -n->dead_err;
		ipc_mutex_unlock(&n->lock);
		park_answer(p, rc);
		return;
	}
	if (sem_try(n, kind, units, &done)) {
		sem_unlock_and_notify(n, &done);
		park_answer(p, 0);
		return;
	}
	park_enqueue(p, kind == SEM_WRITE_Z ? &sem_of(n)->zq : &sem_of(n)->pq);
	ipc_mutex_unlock(&n->lock);
}

static void sem_complete(struct parked *p)
{
	int rc;

	if (p->rc)
		rc = fuse_reply_err(p->req, -p->rc);
	else if (p->kind == SEM_READ_P)
		rc = fuse_reply_buf(p->req, NULL, 0);
	else
		rc = fuse_reply_write(p->req, p->size);
	/* The caller never learns of a P it cannot receive: give the units back. */
	if (rc < 0 && p->rc == 0 && p->kind != SEM_WRITE_Z)
		sem_post(p->node, (uint32_t)p->arg);
}

static void sem_requeue(struct node *n, struct list_head *done)
{
	sem_serve(n, done);
}

static void sem_kill(struct node *n, int err)
{
	struct sem_obj *s = sem_of(n);
	LIST_HEAD_DECL(done);

	ipc_mutex_lock(&n->lock);
	n->dead = true;
	n->dead_err = err;
	park_kill_queue(&s->pq, -err, &done);
	park_kill_queue(&s->zq, -err, &done);
	sem_unlock_and_notify(n, &done);
}

static int sem_open(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	(void)req;
	(void)h;
	(void)fi;
	(void)create;
	return 0; /* opening a semaphore never waits */
}

static void sem_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	(void)size;
	(void)off;
	sem_wait(req, h, SEM_READ_P, 1, 0, flags);
}

static void sem_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		      int flags)
{
	struct semtext t;
	int rc = semtext_parse(buf, size, &t);

	(void)off;
	if (rc == 0) {
		switch (t.op) {
		case SEMTEXT_V:
			rc = sem_post(h->node, t.n);
			break;
		case SEMTEXT_P:
			sem_wait(req, h, SEM_WRITE_P, t.n, size, flags);
			return;
		case SEMTEXT_WAIT_ZERO:
			sem_wait(req, h, SEM_WRITE_Z, 0, size, flags);
			return;
		}
	}
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}

static void sem_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	struct pollwait *pw = poll_prepare(ph);
	struct node *n = h->node;
	struct sem_obj *s = sem_of(n);
	unsigned revents = POLLOUT | POLLWRNORM;

	ipc_mutex_lock(&n->lock);
	if (n->dead)
		revents |= POLLIN | POLLRDNORM | POLLERR;
	else if (s->count > 0 && list_empty(&s->pq))
		revents |= POLLIN | POLLRDNORM;
	poll_arm(h, pw);
	ipc_mutex_unlock(&n->lock);
	fuse_reply_poll(req, revents);
}

static void sem_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	*size = sem_of(n)->count;
	*blocks = 0;
}

const struct objtype sem_type = {
	.name = "sem",
	.obj_size = sizeof(struct sem_obj),
	.init = sem_init_obj,
	.kill = sem_kill,
	.open = sem_open,
	.read = sem_read,
	.write = sem_write,
	.poll = sem_poll,
	.stat_size = sem_stat_size,
	.requeue = sem_requeue,
	.complete = sem_complete,
	.direct_io = true,
};
