/* SPDX-License-Identifier: MIT */
/*
 * barrier.c - the barrier's state machine (barrier.h).
 *
 * Implementation notes:
 * - Only the callers of the current round wait: the arrival that completes it serves them
 *   all at once and the next arrival begins a new round, so rounds never mix.
 * - arrived is the queue's length, kept so that an arrival decides in O(1).
 *
 * Locking: the object's lock (store.h) protects struct mbarrier and its waiters.
 */
#include "model/barrier.h"

#include "defaults.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <string.h>

void mbarrier_init(struct mbarrier *b, uint32_t parties)
{
	memset(b, 0, sizeof(*b));
	b->parties = parties;
	list_init(&b->waitq);
}

/* The round is complete: serve its waiters, begin the next. */
static void release(struct mbarrier *b, struct model_waker *wk)
{
	model_wake_all(wk, &b->waitq, 0);
	b->arrived = 0;
	b->rounds++;
	wk->changed = true;
}

int mbarrier_arrive(struct mbarrier *b, struct waiter *w, bool queue, struct model_waker *wk)
{
	if (b->arrived + 1 >= b->parties) {
		release(b, wk);
		return MODEL_DONE;
	}
	if (queue) {
		list_add_tail(&w->link, &b->waitq);
		b->arrived++;
	}
	return MODEL_WOULD_BLOCK;
}

void mbarrier_cancel(struct mbarrier *b, struct waiter *w)
{
	list_del(&w->link);
	b->arrived--;
}

void mbarrier_kill(struct mbarrier *b, int err, struct model_waker *wk)
{
	model_wake_all(wk, &b->waitq, -err);
	b->arrived = 0;
}

int mbarrier_set_parties(struct mbarrier *b, uint64_t value, struct model_waker *wk)
{
	if (value < 1 || value > IPCFS_MAX_PARTIES)
		return -EINVAL;
	b->parties = (uint32_t)value;
	if (b->arrived && b->arrived >= b->parties)
		release(b, wk);
	return 0;
}

bool mbarrier_readable(const struct mbarrier *b)
{
	return b->arrived + 1 >= b->parties;
}

void mbarrier_inspect(const struct mbarrier *b, struct snapshot *snap, struct snap_obj *o)
{
	const struct waiter *w;

	snap_field_add(o, "parties", b->parties);
	snap_field_add(o, "arrived", b->arrived);
	snap_field_add(o, "rounds", b->rounds);
	list_for_each_entry(w, &b->waitq, link)
		snap_wait_add(snap, o, w->pid, w->host, "arrive", 0, w->since);
}
