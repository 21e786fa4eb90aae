/* SPDX-License-Identifier: MIT */
/*
 * sem.c - semaphore objects: sem/NAME, the FUSE face of model/sem.h.
 *
 * Implementation notes:
 * - read() is P(1); write() of text (semtext.h) is V(N), P(N) or wait-for-zero. A wait that
 *   cannot proceed parks its request (park.h) as the model's waiter; whichever later
 *   operation serves it claims it through the waker (park_waker) and answers it after
 *   dropping the lock.
 * - The count is the object's state: st_size shows it, and nothing is kept per open.
 * - A P answered to a caller that is gone (the reply fails) gives its units back.
 * - A write of several terms (semtext.h) is one operation on several semaphores, named from
 *   the file's directory (model/sem.h's multi): its names are looked up (links followed) and
 *   their write permission checked first, holding a reference to each, then it is decided or
 *   parked as any wait. All semaphores of the mount share one step (store_obj_join with
 *   fs->sem_group), so the model sees them all at once; each step then also moves the mtime
 *   and wakes the pollers of the semaphores that the multis it served, failed or cancelled
 *   changed (sem_served). Such a step is short: it holds no other lock and touches only the
 *   terms' states.
 * - Cluster mode (replica.h): every operation goes through the log, a V too (its caller is
 *   answered once it is applied), and sem_apply runs it on the replica with the same model
 *   calls as above.
 *
 * Locking: n->so protects the struct msem and the parked requests in its queues; it is the
 * same step for every semaphore of the mount (fs->sem_group).
 */
#include "ipcfs.h"
#include "node.h"
#include "park.h"
#include "replica.h"
#include "model/sem.h"
#include "model/semtext.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The log's semaphore operations besides the waits (enum sem_kind). */
enum {
	SEM_OP_V = 16, /* V(arg) */
	SEM_OP_PAUSE,  /* user.paused = arg */
};

/* A write of several terms: the model's operation and the semaphores' nodes, referenced while
 * it lives (freed by sem_multi_free when its caller is answered). */
struct sem_multi {
	struct node *nodes[IPCFS_MAX_SEM_TERMS]; /* nodes[i] is m.t[i]'s semaphore */
	struct msem_multi m;			 /* last: its terms follow */
};

static struct msem *sem_of(struct node *n)
{
	return store_state(&n->so);
}

static struct sem_multi *sem_multi_of(const struct waiter *w)
{
	return container_of((struct msem_multi *)(uintptr_t)w->arg, struct sem_multi, m);
}

static void sem_multi_free(struct sem_multi *sm)
{
	for (uint32_t i = 0; i < sm->m.nterms; i++)
		ns_unref(sm->nodes[i]);
	free(sm);
}

/*
 * The terms t written through h as a multi for req's caller, into *out: the file written for a
 * term without a name, else its sibling of that name, which must be a semaphore the caller may
 * write (a symbolic link followed). Returns 0, or -ENOENT (no such sibling), -EISDIR, -EACCES,
 * -EINVAL (one semaphore twice, or not a semaphore: a link may lead anywhere), -ENOTDIR, -ELOOP,
 * -ENOMEM; nothing is changed.
 */
static int sem_multi_make(fuse_req_t req, struct handle *h, const struct semtext_terms *t,
			  struct sem_multi **out)
{
	struct ipcfs *fs = h->node->fs;
	struct sem_multi *sm = calloc(1, sizeof(*sm) + t->n * sizeof(struct msem_term));
	char name[IPCFS_NAME_MAX + 1];
	struct caller c;
	int rc = 0;

	if (!sm)
		return -ENOMEM;
	caller_of(req, &c);
	ipc_mutex_lock(&fs->ns_lock);
	for (uint32_t i = 0; i < t->n && rc == 0; i++) {
		const struct semtext_term *term = &t->t[i];
		struct node *x = h->node;

		if (term->name) {
			memcpy(name, term->name, term->namelen);
			name[term->namelen] = '\0';
			rc = -ENOENT;
			/* a symbolic link is followed, as the kernel would for an open */
			x = h->node->linked ? node_follow(fs, &c, h->node->parent, name, &rc)
					    : NULL;
			if (x)
				rc = x->is_dir ? -EISDIR : x->type != &sem_type ? -EINVAL : 0;
		}
		for (uint32_t j = 0; j < i && rc == 0; j++)
			if (sm->nodes[j] == x)
				rc = -EINVAL;
		if (rc)
			break;
		ns_ref(x);
		sm->nodes[i] = x;
		sm->m.t[i].s = sem_of(x);
		sm->m.t[i].n =
			term->op.op == SEMTEXT_P ? -(int32_t)term->op.n : (int32_t)term->op.n;
		sm->m.nterms++;
	}
	ipc_mutex_unlock(&fs->ns_lock);
	/* the file written was opened for writing; the others must allow it as well */
	for (uint32_t i = 0; i < sm->m.nterms && rc == 0; i++)
		if (sm->nodes[i] != h->node && !caller_may(&c, sm->nodes[i], W_OK))
			rc = -EACCES;
	if (rc) {
		sem_multi_free(sm);
		return rc;
	}
	*out = sm;
	return 0;
}

/* Inside a step: the semaphores of multi sm changed (it proceeded: applied) or let others
 * proceed (it left its queues): their pollers must look again, and a V moved mtime. */
static void sem_multi_changed(struct sem_multi *sm, struct store_after *a, bool applied)
{
	for (uint32_t i = 0; i < sm->m.nterms; i++) {
		if (applied && sm->m.t[i].n > 0)
			ns_touch(sm->nodes[i], true);
		poll_collect(sm->nodes[i], &a->pw);
	}
}

/* Inside a step, once the model is done: what the multis it claimed into a->done changed. */
static void sem_served(struct store_after *a)
{
	struct parked *p;

	list_for_each_entry(p, &a->done, w.link) if (p->w.kind == SEM_MULTI)
		sem_multi_changed(sem_multi_of(&p->w), a, p->rc == 0);
}

/* End a step on semaphore n that changed its state: what the multis it served, failed or
 * cancelled changed too (sem_served), then the commit (park_commit). */
static void sem_commit(struct node *n, struct store_after *a)
{
	sem_served(a);
	park_commit(n, a);
}

static int sem_init_obj(struct node *n)
{
	store_obj_join(&n->so, &n->fs->sem_group);
	msem_init(sem_of(n));
	sem_of(n)->host = n->fs->host; /* whose holders /proc can tell alive */
	return 0;
}

static void sem_destroy(struct node *n)
{
	msem_fini(sem_of(n));
}

/* Add units, given by tid. Returns 0, -EOVERFLOW or the object's death errno; changes nothing
 * on error. */
static int sem_post(struct node *n, pid_t tid, uint32_t units)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);
	int rc;

	if (n->fs->cluster)
		return replica_post(n, SEM_OP_V, units, tid);
	store_begin(&n->so);
	if (n->dead) {
		int err = n->dead_err;

		store_end(&n->so);
		return -err;
	}
	rc = msem_post(sem_of(n), tid, 0, units, &wk);
	if (rc < 0) {
		store_end(&n->so);
		return rc;
	}
	ns_touch(n, true);
	sem_commit(n, &after);
	return 0;
}

/* The P terms of a multi whose caller never learnt of it go back (its V's stay given). */
static void sem_multi_give_back(struct sem_multi *sm, pid_t tid)
{
	for (uint32_t i = 0; i < sm->m.nterms; i++)
		if (sm->m.t[i].n < 0)
			sem_post(sm->nodes[i], tid, (uint32_t)-sm->m.t[i].n);
}

/* Answer a wait that ended now: rc < 0 an error, else its success. Returns fuse_reply_*'s. */
static int sem_reply(fuse_req_t req, enum sem_kind kind, size_t size, int rc)
{
	if (rc < 0)
		return fuse_reply_err(req, -rc);
	if (kind == SEM_READ_P)
		return fuse_reply_buf(req, NULL, 0);
	return fuse_reply_write(req, size);
}

/* The caller of w, a wait whose effect rc says, is answered: a multi's is freed, and what a
 * successful one took goes back if the caller never learns of it (replied < 0). */
static void sem_replied(struct node *n, const struct waiter *w, int rc, int replied)
{
	if (w->kind == SEM_MULTI) {
		if (rc == 0 && replied < 0)
			sem_multi_give_back(sem_multi_of(w), w->pid);
		sem_multi_free(sem_multi_of(w));
	} else if (rc == 0 && replied < 0 && (w->kind == SEM_READ_P || w->kind == SEM_WRITE_P)) {
		sem_post(n, w->pid, (uint32_t)w->arg);
	}
}

/* Cluster mode: req waits for operation kind(units) to come back from the log. */
static void sem_submit(fuse_req_t req, struct handle *h, int kind, uint32_t units, size_t size,
		       uint32_t flags)
{
	struct parked *p = park_new(req, h, kind, units);

	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p->w.size = size;
	if (park_arm(p))
		replica_submit(p, (uint32_t)kind, units, flags, NULL, 0);
}

static int sem_try(struct node *n, struct waiter *w, bool queue, struct store_after *a)
{
	struct model_waker wk = park_waker(&a->done);
	int rc = msem_wait(sem_of(n), w, queue, &wk);

	if (rc == MODEL_DONE && w->kind == SEM_MULTI)
		sem_multi_changed(sem_multi_of(w), a, true);
	sem_served(a);
	return rc;
}

/* A wait decided at once (park_wait). */
static void sem_answer(fuse_req_t req, struct node *n, const struct waiter *w, int rc)
{
	sem_replied(n, w, rc, sem_reply(req, (enum sem_kind)w->kind, w->size, rc));
}

/* A wait (P or wait-for-zero) for req: answered now, or parked until it can be. */
static void sem_wait(fuse_req_t req, struct handle *h, enum sem_kind kind, uint32_t units,
		     size_t size, int flags)
{
	if (h->node->fs->cluster)
		sem_submit(req, h, kind, units, size, flags & O_NONBLOCK ? CLUSTER_OP_NONBLOCK : 0);
	else
		park_wait(req, h, kind, units, size, flags, sem_try, sem_answer);
}

static void sem_complete(struct parked *p)
{
	/* the caller never learns of a P it cannot receive: the units go back */
	sem_replied(p->node, &p->w, p->rc,
		    sem_reply(p->req, (enum sem_kind)p->w.kind, p->w.size, p->rc));
}

static void sem_cancel(struct node *n, struct waiter *w, struct store_after *a)
{
	struct model_waker wk = park_waker(&a->done);

	msem_cancel(sem_of(n), w, &wk);
	if (w->kind == SEM_MULTI)
		sem_multi_changed(sem_multi_of(w), a, false); /* it held others back there */
	sem_served(a);
}

static void sem_kill(struct node *n, int err)
{
	struct store_after after;
	struct model_waker wk = park_kill_step(n, err, &after);

	msem_kill(sem_of(n), err, &wk);
	sem_commit(n, &after);
}

static void sem_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	(void)size;
	(void)off;
	sem_wait(req, h, SEM_READ_P, 1, 0, flags);
}

/* A write of several terms (or one naming a sibling): one operation on all their semaphores. */
static void sem_write_multi(fuse_req_t req, struct handle *h, const struct semtext_terms *t,
			    size_t size, int flags)
{
	struct sem_multi *sm = NULL;
	int rc;

	/* the log orders operations per object: nothing would make one on several atomic */
	if (h->node->fs->cluster)
		rc = -EOPNOTSUPP;
	else
		rc = sem_multi_make(req, h, t, &sm);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	park_wait(req, h, SEM_MULTI, (uintptr_t)&sm->m, size, flags, sem_try, sem_answer);
}

static void sem_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		      int flags)
{
	struct semtext_terms terms;
	const struct semtext *t = &terms.t[0].op;
	int rc = semtext_parse_terms(buf, size, &terms);

	(void)off;
	if (rc == 0 && (terms.n > 1 || terms.t[0].name)) {
		sem_write_multi(req, h, &terms, size, flags);
		return;
	}
	if (rc == 0) {
		switch (t->op) {
		case SEMTEXT_V:
			if (h->node->fs->cluster) {
				sem_submit(req, h, SEM_OP_V, t->n, size, 0);
				return;
			}
			rc = sem_post(h->node, fuse_req_ctx(req)->pid, t->n);
			break;
		case SEMTEXT_P:
			sem_wait(req, h, SEM_WRITE_P, t->n, size, flags);
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

static bool sem_readable(struct node *n)
{
	return msem_readable(sem_of(n));
}

static void sem_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	poll_reply(req, h, ph, POLLOUT | POLLWRNORM, sem_readable);
}

static const char *const sem_xattrs[] = { "paused", NULL };

static int sem_getxattr(struct node *n, const char *name, uint64_t *value)
{
	(void)name; /* the only one */
	store_begin(&n->so);
	*value = sem_of(n)->paused;
	store_end(&n->so);
	return 0;
}

static int sem_setxattr(struct node *n, const char *name, uint64_t value)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);
	int rc;

	(void)name;
	if (n->fs->cluster) {
		/* the value is checked here, so the log's PAUSE cannot fail; its effect shows
		 * once it comes back (like a V's, but nobody waits for it) */
		if (value > 1)
			return -EINVAL;
		return replica_post(n, SEM_OP_PAUSE, value, 0);
	}
	store_begin(&n->so);
	rc = msem_set_paused(sem_of(n), value, &wk);
	if (rc < 0) {
		store_end(&n->so);
		return rc;
	}
	ns_touch(n, false);
	sem_commit(n, &after);
	return 0;
}

static void sem_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	msem_inspect(sem_of(n), snap, o);
}

static void sem_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	*size = sem_of(n)->count;
	*blocks = 0;
}

/* Cluster mode: run op from the log on the replica, as sem_post, sem_wait and sem_setxattr do
 * above; p is this daemon's caller, if it submitted op and still waits. */
static void sem_apply(struct node *n, const struct cluster_op *op, struct parked *p)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);
	bool nonblock = op->flags & CLUSTER_OP_NONBLOCK;
	struct waiter *w;
	int rc;

	if (op->kind == SEM_OP_V || op->kind == SEM_OP_PAUSE) {
		store_begin(&n->so);
		if (n->dead)
			rc = -n->dead_err;
		else if (op->kind == SEM_OP_V)
			rc = msem_post(sem_of(n), op->pid, op->host, (uint32_t)op->arg, &wk);
		else
			rc = msem_set_paused(sem_of(n), op->arg, &wk);
		if (rc == 0)
			ns_touch_at(n, op->kind == SEM_OP_V, &op->time);
		if (p)
			park_claim(p, rc, &after.done);
		park_commit(n, &after);
		return;
	}
	if (op->kind != SEM_READ_P && op->kind != SEM_WRITE_P && op->kind != SEM_WRITE_Z) {
		if (p)
			park_answer(p, -EINVAL);
		return;
	}
	store_begin(&n->so);
	w = replica_waiter(n, op, p);
	if (!w)
		return;
	if (n->dead)
		rc = -n->dead_err;
	else if ((rc = msem_wait(sem_of(n), w, !nonblock, &wk)) == MODEL_WOULD_BLOCK && nonblock)
		rc = -EAGAIN;
	replica_settle(n, w, rc, &after);
}

/* Cluster mode: the semaphore as operations that rebuild it (objtype.checkpoint): each
 * holder's units put and taken by it (so that the count never passes what it was), the rest
 * of the count, the pause, then the waiters in their order. */
static int sem_checkpoint(struct node *n, struct cluster_ckpt *k)
{
	struct msem *s = sem_of(n);
	struct cluster_op op;
	int rc = 0;

	for (uint32_t i = 0; i < s->nholders && rc == 0; i++) {
		const struct msem_holder *h = &s->holders[i];

		replica_ckpt_op(n, SEM_OP_V, h->units, &op);
		if ((rc = cluster_ckpt_add(k, &op)) != 0)
			break;
		replica_ckpt_op(n, SEM_WRITE_P, h->units, &op);
		op.host = h->host;
		op.pid = h->tid;
		op.time = h->since;
		op.flags = CLUSTER_OP_NONBLOCK;
		rc = cluster_ckpt_add(k, &op);
	}
	if (rc == 0 && s->count) {
		replica_ckpt_op(n, SEM_OP_V, s->count, &op);
		rc = cluster_ckpt_add(k, &op);
	}
	if (rc == 0 && s->paused) {
		replica_ckpt_op(n, SEM_OP_PAUSE, 1, &op);
		rc = cluster_ckpt_add(k, &op);
	}
	if (rc == 0)
		rc = replica_ckpt_queue(n, &s->pq, k);
	return rc ? rc : replica_ckpt_queue(n, &s->zq, k);
}

/* Cluster mode: a ghost holds nothing; the units an orphan took go back. */
static void sem_handed(struct node *n, struct waiter *w, bool give_back)
{
	if (give_back && (w->kind == SEM_READ_P || w->kind == SEM_WRITE_P))
		replica_post(n, SEM_OP_V, (uint32_t)w->arg, w->pid);
}

const struct objtype sem_type = {
	.name = "sem",
	.obj_size = sizeof(struct msem),
	.init = sem_init_obj,
	.destroy = sem_destroy,
	.kill = sem_kill,
	.read = sem_read,
	.write = sem_write,
	.poll = sem_poll,
	.stat_size = sem_stat_size,
	.cancel = sem_cancel,
	.complete = sem_complete,
	.xattrs = sem_xattrs,
	.getxattr = sem_getxattr,
	.setxattr = sem_setxattr,
	.inspect = sem_inspect,
	.apply = sem_apply,
	.handed = sem_handed,
	.checkpoint = sem_checkpoint,
	.direct_io = true,
};
