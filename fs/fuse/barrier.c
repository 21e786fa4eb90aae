/* SPDX-License-Identifier: MIT */
/*
 * barrier.c - barrier objects: barrier/NAME, the FUSE face of model/barrier.h.
 *
 * Implementation notes:
 * - read() arrives and waits until user.parties callers (IPCFS_DEFAULT_PARTIES for a new one)
 *   are in the round, then returns end of file, as a semaphore's P does: `cat barrier/b` in
 *   each of N workers returns in all of them once the N-th has arrived. O_NONBLOCK: EAGAIN
 *   unless this arrival completes the round (it is not counted otherwise).
 * - write() is refused (EINVAL): arriving is reading; the size of a round is user.parties.
 * - st_size is the number of callers waiting in the current round.
 * - Not shared in cluster mode (no apply): creating one there fails with EOPNOTSUPP.
 *
 * Locking: n->so protects the struct mbarrier and the parked requests in its queue.
 */
#include "ipcfs.h"
#include "park.h"
#include "defaults.h"
#include "model/barrier.h"

#include <errno.h>
#include <poll.h>

static struct mbarrier *barrier_of(struct node *n)
{
	return store_state(&n->so);
}

static int barrier_init_obj(struct node *n)
{
	mbarrier_init(barrier_of(n), IPCFS_DEFAULT_PARTIES);
	return 0;
}

static void barrier_complete(struct parked *p)
{
	/* a caller gone as its round completed has nothing to give back: the round is over */
	if (p->rc)
		fuse_reply_err(p->req, -p->rc);
	else
		fuse_reply_buf(p->req, NULL, 0);
}

static void barrier_cancel(struct node *n, struct waiter *w, struct store_after *a)
{
	(void)a;
	mbarrier_cancel(barrier_of(n), w);
}

static void barrier_kill(struct node *n, int err)
{
	struct store_after after;
	struct model_waker wk = park_kill_step(n, err, &after);

	mbarrier_kill(barrier_of(n), err, &wk);
	park_commit(n, &after);
}

static int barrier_try(struct node *n, struct waiter *w, bool queue, struct store_after *a)
{
	struct model_waker wk = park_waker(&a->done);
	int rc = mbarrier_arrive(barrier_of(n), w, queue, &wk);

	if (rc == MODEL_DONE)
		ns_touch(n, true);
	return rc;
}

/* An arrival decided at once (park_wait). */
static void barrier_answer(fuse_req_t req, struct node *n, const struct waiter *w, int rc)
{
	(void)n;
	(void)w;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, NULL, 0);
}

static void barrier_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	(void)size;
	(void)off;
	park_wait(req, h, BARRIER_ARRIVE, 0, 0, flags, barrier_try, barrier_answer);
}

static void barrier_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
			  int flags)
{
	(void)h;
	(void)buf;
	(void)size;
	(void)off;
	(void)flags;
	fuse_reply_err(req, EINVAL); /* arriving is reading; user.parties sets the round's size */
}

static bool barrier_readable(struct node *n)
{
	return mbarrier_readable(barrier_of(n));
}

static void barrier_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	poll_reply(req, h, ph, 0, barrier_readable);
}

static const char *const barrier_xattrs[] = { "parties", NULL };

static int barrier_getxattr(struct node *n, const char *name, uint64_t *value)
{
	(void)name; /* the only one */
	store_begin(&n->so);
	*value = barrier_of(n)->parties;
	store_end(&n->so);
	return 0;
}

static int barrier_setxattr(struct node *n, const char *name, uint64_t value)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);
	int rc;

	(void)name;
	store_begin(&n->so);
	rc = mbarrier_set_parties(barrier_of(n), value, &wk);
	if (rc < 0) {
		store_end(&n->so);
		return rc;
	}
	ns_touch(n, false);
	park_commit(n, &after);
	return 0;
}

static void barrier_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	mbarrier_inspect(barrier_of(n), snap, o);
}

static void barrier_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	*size = barrier_of(n)->arrived;
	*blocks = 0;
}

const struct objtype barrier_type = {
	.name = "barrier",
	.obj_size = sizeof(struct mbarrier),
	.init = barrier_init_obj,
	.kill = barrier_kill,
	.read = barrier_read,
	.write = barrier_write,
	.poll = barrier_poll,
	.stat_size = barrier_stat_size,
	.xattrs = barrier_xattrs,
	.getxattr = barrier_getxattr,
	.setxattr = barrier_setxattr,
	.cancel = barrier_cancel,
	.complete = barrier_complete,
	.inspect = barrier_inspect,
	.direct_io = true,
};
