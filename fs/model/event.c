/* SPDX-License-Identifier: MIT */
/*
 * event.c - the event's state machine (event.h).
 *
 * Implementation notes:
 * - Invariant: set implies an empty queue. A set with waiters serves them at once (all, or
 *   the first with auto reset, which consumes it), so a wait finds the event either set
 *   with nobody ahead of it or clear; waits are thus served in arrival order.
 * - A wait interrupted before it was served consumed nothing: with auto reset the set it
 *   did not get goes to the next waiter, since a set serves only those still queued.
 *
 * Locking: the object's lock (store.h) protects struct mevent and the waiters in its queue.
 */
#include "model/event.h"

#include "inspect/snapshot.h"

#include <errno.h>
#include <string.h>

void mevent_init(struct mevent *e)
{
	memset(e, 0, sizeof(*e));
	list_init(&e->waitq);
}

int mevent_set(struct mevent *e, struct model_waker *wk)
{
	e->sets++;
	wk->changed = true;
	if (list_empty(&e->waitq)) {
		e->set = true;
	} else if (e->auto_reset) {
		struct waiter *w = list_first_entry(&e->waitq, struct waiter, link);

		list_del(&w->link);
		w->arg = 1;
		model_wake(wk, w, 0); /* it consumed this set: the event stays clear */
	} else {
		model_wake_all(wk, &e->waitq, 0);
		e->set = true;
	}
	return MODEL_DONE;
}

int mevent_clear(struct mevent *e)
{
	e->set = false;
	return MODEL_DONE;
}

int mevent_wait(struct mevent *e, struct waiter *w, bool queue, struct model_waker *wk)
{
	(void)wk;
	if (e->set) {
		if (e->auto_reset) {
			e->set = false;
			w->arg = 1;
		}
		return MODEL_DONE;
	}
	if (queue)
		list_add_tail(&w->link, &e->waitq);
	return MODEL_WOULD_BLOCK;
}

void mevent_cancel(struct mevent *e, struct waiter *w)
{
	(void)e;
	list_del(&w->link);
}

void mevent_kill(struct mevent *e, int err, struct model_waker *wk)
{
	model_wake_all(wk, &e->waitq, -err);
}

int mevent_set_auto_reset(struct mevent *e, uint64_t value)
{
	if (value > 1)
		return -EINVAL;
	e->auto_reset = value;
	return 0;
}

bool mevent_readable(const struct mevent *e)
{
	return e->set;
}

void mevent_inspect(const struct mevent *e, struct snapshot *snap, struct snap_obj *o)
{
	const struct waiter *w;

	snap_field_add(o, "value", e->set);
	snap_field_add(o, "auto_reset", e->auto_reset);
	snap_field_add(o, "sets", e->sets);
	list_for_each_entry(w, &e->waitq, link)
		snap_wait_add(snap, o, w->pid, w->host, "wait", 0, w->since);
}
