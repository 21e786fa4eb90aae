/* SPDX-License-Identifier: MIT */
/*
 * mutex.c - mutex objects: mutex/NAME, the FUSE face of model/mutex.h.
 *
 * Implementation notes:
 * - Opening acquires: an open of a held mutex parks (park.h) as the model's waiter until every
 *   earlier waiter has had it (FIFO hand-off: the releaser gives the mutex straight to the head
 *   of the queue, so no late opener can barge in). The mutex belongs to that open file
 *   description (its handle's struct model_open) until its last close (RELEASE), which the
 *   kernel also sends when the holder dies: no stale locks. Whichever release or cancel hands
 *   the mutex on claims the parked open through the waker (park_waker) and answers it with
 *   fuse_reply_open after dropping the lock; an opener gone by then passes it on at once.
 * - EDEADLK: every open file description of a mutex is (or was) its holder, and at most one
 *   exists at a time. So a process that already has a descriptor on the mutex file holds the
 *   mutex through it, and its open would wait for itself: that open fails with EDEADLK. This
 *   also catches a child that inherited the holder's descriptor (a subshell of a script that
 *   locked). Comparing pids instead would be wrong both ways: the kernel sends RELEASE
 *   asynchronously after close(), so `exec 9<&-; exec 9<m` can find the mutex still held by
 *   the same pid with nothing left open; the descriptor table (/proc/PID/fd) is the truth.
 *   That scan is the face's: the model knows opens, not processes' descriptor tables.
 * - With -o deadlock_check=1, an open that would wait for a holder that waits (through a
 *   chain of mutex waits) for the opener fails with EDEADLK instead: the cycle of waits is
 *   never closed. The chain crosses objects, so the walk over fs->all_nodes is the face's;
 *   at each step it asks one mutex's model who holds it, or whether a thread waits there. The
 *   check and the parking happen under fs->cycle_lock, so two opens cannot close a cycle
 *   together; releases need no such lock (they only break chains).
 * - Taking and releasing move mtime (the model sets the waker's changed): st_size shows
 *   whether the mutex is held.
 * - Reads return end of file; writes are refused with EPERM: a mutex carries no data, and poll
 *   always answers ready.
 *
 * - Cluster mode (replica.h): an open is a LOCK through the log, by the handle's copen; its
 *   CLOSE (handle_free) releases it, and a GONE of its daemon too. -o deadlock_check sees
 *   this mount's waits only, and is not applied there.
 *
 * Locking: n->so protects the struct mmutex and the parked opens in its queue. Order:
 * fs->cycle_lock, then fs->ns_lock, then n->so; the cycle walk takes one n->so at a
 * time.
 */
#include "ipcfs.h"
#include "park.h"
#include "replica.h"
#include "model/mutex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct mmutex *mutex_of(struct node *n)
{
	return store_state(&n->so);
}

static int mutex_init_obj(struct node *n)
{
	mmutex_init(mutex_of(n));
	return 0;
}

/* After the model ran with wk: the mutex was taken or released, so st_size changed (mtime).
 * inside a step on n. */
static void mutex_touch(struct node *n, const struct model_waker *wk)
{
	if (wk->changed)
		ns_touch(n, true);
}

/* The mutex thread tid waits for, or NULL. ns_lock held; node locks taken one at a time. */
static struct node *mutex_waited_by(struct ipcfs *fs, pid_t tid)
{
	struct node *n;

	list_for_each_entry(n, &fs->all_nodes, all_link)
	{
		bool waits;

		if (n->type != &mutex_type || !n->linked)
			continue;
		store_begin(&n->so);
		waits = mmutex_waits(mutex_of(n), tid);
		store_end(&n->so);
		if (waits)
			return n;
	}
	return NULL;
}

/*
 * -o deadlock_check: would requester's wait for n close a cycle of mutex waits? Follows
 * holder -> the mutex it waits for -> its holder ... (a thread waits for one mutex at most),
 * comparing callers as FUSE reports them (thread ids). fs->cycle_lock held, so no other wait
 * is added meanwhile; a release can only shorten the chain. The walk is the namespace's (it
 * crosses objects); each step asks one object's model under that object's lock only.
 */
static bool mutex_closes_cycle(struct node *n, pid_t requester)
{
	struct ipcfs *fs = n->fs;
	uint64_t steps = 0, limit;
	bool cycle = false;

	ipc_mutex_lock(&fs->ns_lock);
	limit = __atomic_load_n(&fs->nobjects, __ATOMIC_RELAXED) + 1;
	while (n && steps++ <= limit) {
		pid_t holder;

		store_begin(&n->so);
		holder = mmutex_holder_pid(mutex_of(n));
		store_end(&n->so);
		if (!holder)
			break;
		if (holder == requester) {
			cycle = true;
			break;
		}
		n = mutex_waited_by(fs, holder);
	}
	ipc_mutex_unlock(&fs->ns_lock);
	return cycle;
}

/* Park the open of h until the mutex is handed to it. Returns IPCFS_PARKED or -errno. */
static int mutex_park(fuse_req_t req, struct handle *h, struct fuse_file_info *fi)
{
	struct node *n = h->node;
	struct store_after after;
	struct model_waker wk = park_step(&after);
	struct parked *p = park_new(req, h, MUTEX_LOCK, 0);
	int rc;

	if (!p)
		return -ENOMEM;
	p->fi = *fi;
	if (!park_arm(p))
		return IPCFS_PARKED;
	/* released while we allocated: then it takes it after all */
	rc = mmutex_lock(mutex_of(n), &p->w, true, &wk);
	mutex_touch(n, &wk);
	park_settle(p, rc, &after);
	return IPCFS_PARKED;
}

/* Cluster mode: park the open of h until its LOCK, through the log, takes the mutex. Returns
 * IPCFS_PARKED or -errno. */
static int mutex_open_cluster(fuse_req_t req, struct handle *h, struct fuse_file_info *fi,
			      bool create)
{
	struct node *n = h->node;
	struct parked *p;
	bool held;
	int rc = replica_open_handle(h);

	if (rc)
		return rc;
	store_begin(&n->so);
	held = mmutex_locked(mutex_of(n));
	store_end(&n->so);
	if (held && node_open_by(n, h->mo.pid))
		return -EDEADLK;
	p = park_new(req, h, MUTEX_LOCK, 0);
	if (!p)
		return -ENOMEM;
	p->w.op = &h->copen->mo;
	p->fi = *fi;
	p->create = create;
	if (park_arm(p))
		replica_submit(p, MUTEX_LOCK, 0, h->mo.flags & O_NONBLOCK ? CLUSTER_OP_NONBLOCK : 0,
			       NULL, 0);
	return IPCFS_PARKED;
}

static int mutex_open(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	struct node *n = h->node;
	struct waiter probe = { .op = &h->mo, .pid = h->mo.pid, .kind = MUTEX_LOCK };
	struct store_after after;
	struct model_waker wk = park_step(&after);
	int rc;

	if (n->fs->cluster)
		return mutex_open_cluster(req, h, fi, create);
	store_begin(&n->so);
	if (mmutex_lock(mutex_of(n), &probe, false, &wk) == MODEL_DONE) {
		mutex_touch(n, &wk);
		store_commit(&n->so, &after);
		return 0;
	}
	store_end(&n->so);

	if (create)
		return -EBUSY; /* cannot happen: nobody else sees a new object yet */
	if (node_open_by(n, h->mo.pid))
		return -EDEADLK;
	if (h->mo.flags & O_NONBLOCK)
		return -EAGAIN;
	if (!n->fs->deadlock_check)
		return mutex_park(req, h, fi);

	ipc_mutex_lock(&n->fs->cycle_lock);
	rc = mutex_closes_cycle(n, h->mo.pid) ? -EDEADLK : mutex_park(req, h, fi);
	ipc_mutex_unlock(&n->fs->cycle_lock);
	return rc;
}

static void mutex_release(struct handle *h)
{
	struct node *n = h->node;
	struct store_after after;
	struct model_waker wk = park_step(&after);

	if (h->copen)
		return; /* cluster mode: handle_free's CLOSE releases it */
	store_begin(&n->so);
	mmutex_release(mutex_of(n), &h->mo, &wk);
	mutex_touch(n, &wk);
	store_commit(&n->so, &after); /* answers the open it was handed to */
}

static void mutex_complete(struct parked *p)
{
	int rc;

	if (p->rc) {
		fuse_reply_err(p->req, -p->rc);
		handle_free(p->h);
		return;
	}
	rc = p->create ? ns_reply_create(p->req, p->node, &p->fi) : fuse_reply_open(p->req, &p->fi);
	if (rc < 0) {
		/* the opener is gone: no RELEASE will come, pass the mutex on */
		mutex_release(p->h);
		handle_free(p->h);
	}
}

static void mutex_cancel(struct node *n, struct waiter *w, struct store_after *a)
{
	struct model_waker wk = park_waker(&a->done);

	mmutex_cancel(mutex_of(n), w, &wk);
	mutex_touch(n, &wk);
}

static void mutex_kill(struct node *n, int err)
{
	struct store_after after;
	struct model_waker wk = park_kill_step(n, err, &after);

	mmutex_kill(mutex_of(n), err, &wk);
	park_commit(n, &after);
}

static void mutex_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	mmutex_inspect(mutex_of(n), snap, o);
}

static void mutex_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	*size = mmutex_locked(mutex_of(n));
	*blocks = 0;
}

/* Cluster mode: run a LOCK from the log on the replica, as mutex_open does above; p is this
 * daemon's opener, if it submitted it and still waits. */
static void mutex_apply(struct node *n, const struct cluster_op *op, struct parked *p)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);
	bool nonblock = op->flags & CLUSTER_OP_NONBLOCK;
	struct waiter *w;
	int rc;

	if (op->kind != MUTEX_LOCK) {
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
	else if ((rc = mmutex_lock(mutex_of(n), w, !nonblock, &wk)) == MODEL_WOULD_BLOCK &&
		 nonblock)
		rc = -EAGAIN;
	if (wk.changed)
		ns_touch_at(n, true, &op->time);
	replica_settle(n, w, rc, &after);
}

/* Cluster mode: a ghost that took the mutex for an opener of this daemon that is gone lets
 * it go again. */
/* Cluster mode: the mutex as operations that rebuild it (objtype.checkpoint): its holder's
 * LOCK through its open, then the waiters' in their order. */
static int mutex_checkpoint(struct node *n, struct cluster_ckpt *k)
{
	struct mmutex *m = mutex_of(n);
	struct cluster_op op;
	int rc = 0;

	if (m->holder) {
		replica_ckpt_op(n, MUTEX_LOCK, 0, &op);
		op.host = m->holder_host;
		op.pid = m->holder_pid;
		op.time = m->since;
		op.open = replica_open_id(m->holder);
		op.flags = CLUSTER_OP_NONBLOCK;
		rc = cluster_ckpt_add(k, &op);
	}
	return rc ? rc : replica_ckpt_queue(n, &m->waitq, k);
}

static void mutex_handed(struct node *n, struct waiter *w, bool give_back)
{
	if (give_back)
		replica_close(n, container_of(w->op, struct copen, mo));
}

/* Cluster mode: open mo is closed (its CLOSE, its daemon's GONE): as mutex_release. */
static void mutex_close_open(struct node *n, struct model_open *mo, const struct timespec *when,
			     struct model_waker *wk)
{
	mmutex_release(mutex_of(n), mo, wk);
	if (wk->changed)
		ns_touch_at(n, true, when);
}

const struct objtype mutex_type = {
	.name = "mutex",
	.obj_size = sizeof(struct mmutex),
	.init = mutex_init_obj,
	.kill = mutex_kill,
	.open = mutex_open,
	.release = mutex_release,
	.read = lock_read,
	.write = lock_write,
	.poll = lock_poll,
	.stat_size = mutex_stat_size,
	.cancel = mutex_cancel,
	.complete = mutex_complete,
	.inspect = mutex_inspect,
	.apply = mutex_apply,
	.handed = mutex_handed,
	.checkpoint = mutex_checkpoint,
	.close_open = mutex_close_open,
	.direct_io = true,
};
