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
 * - The count is the object's state: st_size shows it, and nothing is kept per open.
 * - A P answered to a caller that is gone (the reply fails) gives its units back.
 * - For inspection and deadlock detection, the units each caller took with P and has not
 *   given back with V are counted per thread id (what FUSE tells; a process for shell tools):
 *   a V gives back the caller's own units first and the rest adds to the count only. Entries
 *   of threads that have exited are dropped when the table is full, so it stays as small as
 *   the number of live holders, and inspection leaves them out. This bookkeeping never
 *   changes what P and V do.
 *
 * Locking: node->lock protects struct sem_obj and the parked requests in its queues.
 */
#include "ipcfs.h"
#include "park.h"
#include "model/semtext.h"

#include "inspect/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Units a thread took with P and has not given back. */
struct sem_holder {
	pid_t tid;
	uint32_t units;
	struct timespec since; /* CLOCK_REALTIME of its first unit */
};

struct sem_obj {
	uint32_t count;		    /* 0..INT32_MAX */
	bool paused;		    /* user.paused: grant no P, even one that fits */
	uint32_t nholders;	    /* entries used in holders */
	uint32_t holders_cap;	    /* entries allocated */
	struct sem_holder *holders; /* who holds units, in the order they took them */
	struct list_head pq;	    /* parked P(n), FIFO; struct parked, arg = n */
	struct list_head zq;	    /* parked waits for zero */
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

static void sem_destroy(struct node *n)
{
	free(sem_of(n)->holders);
}

/* Drop the entries of threads that have exited. node->lock held. */
static void holders_prune(struct sem_obj *s)
{
	uint32_t w = 0;

	for (uint32_t i = 0; i < s->nholders; i++)
		if (proc_alive(s->holders[i].tid))
			s->holders[w++] = s->holders[i];
	s->nholders = w;
}

/* tid took units with P. node->lock held. Out of memory, the units go unrecorded: only the
 * inspection is poorer. */
static void holders_take(struct sem_obj *s, pid_t tid, uint32_t units)
{
	struct sem_holder *h;

	for (uint32_t i = 0; i < s->nholders; i++)
		if (s->holders[i].tid == tid) {
			h = &s->holders[i];
			h->units = units > UINT32_MAX - h->units ? UINT32_MAX : h->units + units;
			return;
		}
	if (s->nholders == s->holders_cap)
		holders_prune(s);
	if (s->nholders == s->holders_cap) {
		uint32_t cap = s->holders_cap ? s->holders_cap * 2 : 4;

		h = realloc(s->holders, cap * sizeof(*h));
		if (!h)
			return;
		s->holders = h;
		s->holders_cap = cap;
	}
	h = &s->holders[s->nholders++];
	h->tid = tid;
	h->units = units;
	clock_gettime(CLOCK_REALTIME, &h->since);
}

/* tid gave units back with V: fewer of its own held. node->lock held. */
static void holders_give(struct sem_obj *s, pid_t tid, uint32_t units)
{
	for (uint32_t i = 0; i < s->nholders; i++) {
		struct sem_holder *h = &s->holders[i];

		if (h->tid != tid)
			continue;
		if (h->units > units) {
			h->units -= units;
		} else {
			memmove(h, h + 1, (s->nholders - i - 1) * sizeof(*h));
			s->nholders--;
		}
		return;
	}
}

/* Answer every parked request that can proceed now, in order. node->lock held. */
static void sem_serve(struct node *n, struct list_head *done)
{
	struct sem_obj *s = sem_of(n);

	while (!list_empty(&s->pq) && !s->paused) {
		struct parked *p = list_first_entry(&s->pq, struct parked, link);

		if (s->count < p->arg)
			break;
		s->count -= (uint32_t)p->arg;
		if (p->kind != SEM_WRITE_Z)
			holders_take(s, p->pid, (uint32_t)p->arg);
		park_claim(p, 0, done);
	}
	if (s->count == 0)
		park_kill_queue(&s->zq, 0, done);
}

/* Try tid's wait now: true if it was satisfied (and its effect applied). node->lock held. */
static bool sem_try(struct node *n, pid_t tid, enum sem_kind kind, uint32_t units,
		    struct list_head *done)
{
	struct sem_obj *s = sem_of(n);

	if (kind == SEM_WRITE_Z)
		return s->count == 0;
	if (!list_empty(&s->pq) || s->count < units || s->paused)
		return false;
	s->count -= units;
	holders_take(s, tid, units);
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

/* Add units, given by tid. Returns 0, -EOVERFLOW or the object's death errno; changes nothing
 * on error. */
static int sem_post(struct node *n, pid_t tid, uint32_t units)
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
	holders_give(s, tid, units);
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
	pid_t tid = fuse_req_ctx(req)->pid;
	LIST_HEAD_DECL(done);
	struct parked *p;
	int rc = 0;

	ipc_mutex_lock(&n->lock);
	if (n->dead)
		rc = -n->dead_err;
	else if (sem_try(n, tid, kind, units, &done))
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
	if (!park_arm(p))
		return;
	if (sem_try(n, tid, kind, units, &done)) {
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
		sem_post(p->node, p->pid, (uint32_t)p->arg);
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
			rc = sem_post(h->node, fuse_req_ctx(req)->pid, t.n);
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
	else if (s->count > 0 && list_empty(&s->pq) && !s->paused)
		revents |= POLLIN | POLLRDNORM;
	poll_arm(h, pw);
	ipc_mutex_unlock(&n->lock);
	fuse_reply_poll(req, revents);
}

static const char *const sem_xattrs[] = { "paused", NULL };

static int sem_getxattr(struct node *n, const char *name, uint64_t *value)
{
	(void)name; /* the only one */
	ipc_mutex_lock(&n->lock);
	*value = sem_of(n)->paused;
	ipc_mutex_unlock(&n->lock);
	return 0;
}

/* Pausing holds every P back (a V still adds), to set up and look at a state in which
 * requests wait that could be granted, as in textbook snapshots; resuming serves them. */
static int sem_setxattr(struct node *n, const char *name, uint64_t value)
{
	LIST_HEAD_DECL(done);

	(void)name;
	if (value > 1)
		return -EINVAL;
	ipc_mutex_lock(&n->lock);
	sem_of(n)->paused = value;
	ns_touch(n, false);
	sem_serve(n, &done);
	sem_unlock_and_notify(n, &done);
	return 0;
}

static void sem_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	struct sem_obj *s = sem_of(n);
	struct parked *p;

	snap_field_add(o, "value", s->count);
	if (s->paused)
		snap_field_add(o, "paused", 1);
	o->resource = true;
	o->available = s->count;
	/* exited holders are left out later, off the locks (status.c): /proc costs system calls */
	for (uint32_t i = 0; i < s->nholders; i++)
		snap_hold_add(snap, o, s->holders[i].tid, s->holders[i].units, s->holders[i].since);
	list_for_each_entry(p, &s->pq, link)
		snap_wait_add(snap, o, p->pid, "P", (uint32_t)p->arg, p->since);
	/* a wait for zero asks for no units: not a request of the deadlock matrices */
	list_for_each_entry(p, &s->zq, link) snap_wait_add(snap, o, p->pid, "zero", 0, p->since);
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
	.destroy = sem_destroy,
	.kill = sem_kill,
	.open = sem_open,
	.read = sem_read,
	.write = sem_write,
	.poll = sem_poll,
	.stat_size = sem_stat_size,
	.requeue = sem_requeue,
	.complete = sem_complete,
	.xattrs = sem_xattrs,
	.getxattr = sem_getxattr,
	.setxattr = sem_setxattr,
	.inspect = sem_inspect,
	.direct_io = true,
};
