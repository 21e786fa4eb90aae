/* SPDX-License-Identifier: MIT */
/*
 * event.c - event objects: event/NAME, the FUSE face of model/event.h.
 *
 * Implementation notes:
 * - read() waits until the event is set and then returns end of file, as a semaphore's P
 *   does: `cat event/go` returns once it is set. write() of "1" sets it (waking every waiter,
 *   or one with user.auto_reset = 1), of "0" clears it. A wait that cannot pass parks its
 *   request (park.h) as the model's waiter.
 * - st_size is 1 while it is set, 0 while clear.
 * - A wait that consumed an auto-reset set and whose caller cannot be told (the reply fails)
 *   gives it back: nothing is consumed by a call that did not return.
 * - Not shared in cluster mode (no apply): creating one there fails with EOPNOTSUPP.
 *
 * Locking: n->so protects the struct mevent and the parked requests in its queue.
 */
#include "ipcfs.h"
#include "park.h"
#include "model/event.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

static struct mevent *event_of(struct node *n)
{
	return store_state(&n->so);
}

static int event_init_obj(struct node *n)
{
	mevent_init(event_of(n));
	return 0;
}

/* Set (value true) or clear it. Returns 0 or the object's death errno. */
static int event_change(struct node *n, bool value)
{
	struct store_after after;
	struct model_waker wk = park_step(&after);

	store_begin(&n->so);
	if (n->dead) {
		int err = n->dead_err;

		store_end(&n->so);
		return -err;
	}
	if (value)
		mevent_set(event_of(n), &wk);
	else
		mevent_clear(event_of(n));
	ns_touch(n, true);
	park_commit(n, &after);
	return 0;
}

static void event_complete(struct parked *p)
{
	int rc = p->rc ? fuse_reply_err(p->req, -p->rc) : fuse_reply_buf(p->req, NULL, 0);

	if (rc < 0 && p->rc == 0 && p->w.arg)
		event_change(p->node, true); /* the set it consumed goes to the next */
}

static void event_cancel(struct node *n, struct waiter *w, struct store_after *a)
{
	(void)a;
	mevent_cancel(event_of(n), w);
}

static void event_kill(struct node *n, int err)
{
	struct store_after after;
	struct model_waker wk = park_kill_step(n, err, &after);

	mevent_kill(event_of(n), err, &wk);
	park_commit(n, &after);
}

static int event_try(struct node *n, struct waiter *w, bool queue, struct store_after *a)
{
	struct model_waker wk = park_waker(&a->done);

	return mevent_wait(event_of(n), w, queue, &wk);
}

/* A wait decided at once (park_wait). */
static void event_answer(fuse_req_t req, struct node *n, const struct waiter *w, int rc)
{
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_buf(req, NULL, 0) < 0 && w->arg)
		event_change(n, true); /* gone before it learnt: give the set back */
}

static void event_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	(void)size;
	(void)off;
	park_wait(req, h, EVENT_WAIT, 0, 0, flags, event_try, event_answer);
}

/* "1" sets, "0" clears, a newline after either allowed. */
static void event_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
			int flags)
{
	int rc;

	(void)off;
	(void)flags;
	if ((size == 1 || (size == 2 && buf[1] == '\n')) && (buf[0] == '0' || buf[0] == '1'))
		rc = event_change(h->node, buf[0] == '1');
	else
		rc = -EINVAL;
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}

static bool event_readable(struct node *n)
{
	return mevent_readable(event_of(n));
}

static void event_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	poll_reply(req, h, ph, POLLOUT | POLLWRNORM, event_readable);
}

static const char *const event_xattrs[] = { "auto_reset", NULL };

static int event_getxattr(struct node *n, const char *name, uint64_t *value)
{
	(void)name; /* the only one */
	store_begin(&n->so);
	*value = event_of(n)->auto_reset;
	store_end(&n->so);
	return 0;
}

static int event_setxattr(struct node *n, const char *name, uint64_t value)
{
	int rc;

	(void)name;
	store_begin(&n->so);
	rc = mevent_set_auto_reset(event_of(n), value);
	if (rc == 0)
		ns_touch(n, false);
	store_commit(&n->so, NULL); /* serves nobody: a set does */
	return rc;
}

static void event_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	mevent_inspect(event_of(n), snap, o);
}

static void event_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	*size = event_of(n)->set;
	*blocks = 0;
}

const struct objtype event_type = {
	.name = "event",
	.obj_size = sizeof(struct mevent),
	.init = event_init_obj,
	.kill = event_kill,
	.read = event_read,
	.write = event_write,
	.poll = event_poll,
	.stat_size = event_stat_size,
	.xattrs = event_xattrs,
	.getxattr = event_getxattr,
	.setxattr = event_setxattr,
	.cancel = event_cancel,
	.complete = event_complete,
	.inspect = event_inspect,
	.direct_io = true,
};
