/* SPDX-License-Identifier: MIT */
/*
 * rwlock.c - readers-writer locks: rwlock/NAME, the FUSE face of model/rwlock.h.
 *
 * Implementation notes:
 * - Opening acquires, as a mutex's does: an open for reading (O_RDONLY: `exec 9<rwlock/l`)
 *   takes it shared, an open with write access (`exec 9>rwlock/l`) exclusive. An open that
 *   cannot have it now parks (park.h) as the model's waiter, first come first served (see
 *   rwlock.h for why neither readers nor writers starve). The hold belongs to that open file
 *   description until its last close (RELEASE), which the kernel also sends when the holder
 *   dies: no stale locks.
 * - EDEADLK: an open that would wait, from a process that has a descriptor open on the lock,
 *   would wait (at least) for itself (node_open_by): a reader opening again while a writer
 *   waits behind its first hold, say.
 * - Reads return end of file; writes are refused with EPERM: the lock carries no data, and
 *   poll always answers ready. st_size is the number of holders (a writer: 1).
 * - Not shared in cluster mode (no apply): creating one there fails with EOPNOTSUPP;
 *   -o deadlock_check applies to mutexes only.
 *
 * Locking: n->so protects the struct mrwlock, the holders' per-open state and the parked
 * opens in its queue.
 */
#include "ipcfs.h"
#include "park.h"
#include "model/rwlock.h"

#include <errno.h>
#include <fcntl.h>

static struct mrwlock *rwlock_of(struct node *n)
{
	return store_state(&n->so);
}

static int rwlock_init_obj(struct node *n)
{
	mrwlock_init(rwlock_of(n));
	return 0;
}

/* After the model ran with wk: it was taken or released (st_size). inside a step on n. */
static void rwlock_touch(struct node *n, const struct model_waker *wk)
{
	if (wk->changed)
		ns_touch(n, true);
}

/* What an open with flags asks for. */
static enum rwlock_kind kind_of(int flags)
{
	return (flags & O_ACCMODE) == O_RDONLY ? RWLOCK_READ : RWLOCK_WRITE;
}

/* Park the open of h until it is served. Returns IPCFS_PARKED or -errno. */
static int rwlock_park(fuse_req_t req, struct handle *h, struct fuse_file_info *fi)
{
	struct node *n = h->node;
	struct store_after after;
	struct model_waker wk = park_step(&after);
	struct parked *p = park_new(req, h, kind_of(h->mo.flags), 0);
	int rc;

	if (!p)
		return -ENOMEM;
	p->fi = *fi;
	if (!park_arm(p))
		return IPCFS_PARKED;
	/* released while we allocated: then it takes it after all */
	rc = mrwlock_lock(rwlock_of(n), &p->w, true, &wk);
	rwlock_touch(n, &wk);
	park_settle(p, rc, &after);
	return IPCFS_PARKED;
}

static int rwlock_open(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	struct node *n = h->node;
	struct waiter probe = { .op = &h->mo, .pid = h->mo.pid, .kind = kind_of(h->mo.flags) };
	struct store_after after;
	struct model_waker wk = park_step(&after);

	store_begin(&n->so);
	if (mrwlock_lock(rwlock_of(n), &probe, false, &wk) == MODEL_DONE) {
		rwlock_touch(n, &wk);
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
	return rwlock_park(req, h, fi);
}

static void rwlock_release(struct handle *h)
{
	struct node *n = h->node;
	struct store_after after;
	struct model_waker wk = park_step(&after);

	store_begin(&n->so);
	mrwlock_release(rwlock_of(n), &h->mo, &wk);
	rwlock_touch(n, &wk);
	store_commit(&n->so, &after); /* answers the opens it was handed to */
}

static void rwlock_complete(struct parked *p)
{
	if (p->rc) {
		fuse_reply_err(p->req, -p->rc);
		handle_free(p->h);
		return;
	}
	if (fuse_reply_open(p->req, &p->fi) < 0) {
		/* the opener is gone: no RELEASE will come, pass it on */
		rwlock_release(p->h);
		handle_free(p->h);
	}
}

static void rwlock_cancel(struct node *n, struct waiter *w, struct store_after *a)
{
	struct model_waker wk = park_waker(&a->done);

	mrwlock_cancel(rwlock_of(n), w, &wk);
	rwlock_touch(n, &wk);
}

static void rwlock_kill(struct node *n, int err)
{
	struct store_after after;
	struct model_waker wk = park_kill_step(n, err, &after);

	mrwlock_kill(rwlock_of(n), err, &wk);
	park_commit(n, &after);
}

static void rwlock_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	mrwlock_inspect(rwlock_of(n), snap, o);
}

static void rwlock_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	*size = mrwlock_holders(rwlock_of(n));
	*blocks = 0;
}

const struct objtype rwlock_type = {
	.name = "rwlock",
	.obj_size = sizeof(struct mrwlock),
	.init = rwlock_init_obj,
	.kill = rwlock_kill,
	.open = rwlock_open,
	.release = rwlock_release,
	.read = lock_read,
	.write = lock_write,
	.poll = lock_poll,
	.stat_size = rwlock_stat_size,
	.cancel = rwlock_cancel,
	.complete = rwlock_complete,
	.inspect = rwlock_inspect,
	.direct_io = true,
};
