/* SPDX-License-Identifier: MIT */
/*
 * rwlock.c - the readers-writer lock's state machine (rwlock.h).
 *
 * Implementation notes:
 * - Invariant: after every change the head of the queue cannot be served (serve runs to the
 *   first waiter that cannot have it). So a lock that finds the queue empty needs only the
 *   holders' compatibility, and one that finds it non-empty waits behind it.
 * - Taking and releasing set the waker's changed: st_size (the holders) moved.
 *
 * Locking: the object's lock (store.h) protects struct mrwlock, the holders' per-open state
 * and the waiters in its queue.
 */
#include "model/rwlock.h"

#include "inspect/snapshot.h"

#include <string.h>

static struct model_open *next_of(const struct model_open *op)
{
	return (struct model_open *)(uintptr_t)op->state[RW_NEXT];
}

void mrwlock_init(struct mrwlock *rw)
{
	memset(rw, 0, sizeof(*rw));
	list_init(&rw->waitq);
}

/* Could w have it now, given the holders alone? */
static bool compatible(const struct mrwlock *rw, const struct waiter *w)
{
	return w->kind == RWLOCK_READ ? !rw->writer : rw->holders == NULL;
}

/* w's open holds it from now on. */
static void take(struct mrwlock *rw, const struct waiter *w, struct model_waker *wk)
{
	struct model_open *op = w->op;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	op->state[RW_NEXT] = (uintptr_t)rw->holders;
	op->state[RW_MODE] = (uint64_t)w->kind + 1;
	op->state[RW_SINCE] = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	rw->holders = op;
	if (w->kind == RWLOCK_READ)
		rw->readers++;
	else
		rw->writer = true;
	wk->changed = true;
}

/* Serve the queue from its head while its head can have it. */
static void serve(struct mrwlock *rw, struct model_waker *wk)
{
	while (!list_empty(&rw->waitq)) {
		struct waiter *w = list_first_entry(&rw->waitq, struct waiter, link);

		if (!compatible(rw, w))
			return;
		list_del(&w->link);
		take(rw, w, wk);
		model_wake(wk, w, 0);
	}
}

int mrwlock_lock(struct mrwlock *rw, struct waiter *w, bool queue, struct model_waker *wk)
{
	if (!list_empty(&rw->waitq) || !compatible(rw, w)) {
		if (queue)
			list_add_tail(&w->link, &rw->waitq);
		return MODEL_WOULD_BLOCK;
	}
	take(rw, w, wk);
	return MODEL_DONE;
}

void mrwlock_release(struct mrwlock *rw, struct model_open *op, struct model_waker *wk)
{
	struct model_open **pp = &rw->holders;

	if (!op->state[RW_MODE])
		return;
	while (*pp && *pp != op)
		pp = (struct model_open **)&(*pp)->state[RW_NEXT];
	if (!*pp)
		return; /* cannot happen: a mode is set only while linked */
	*pp = next_of(op);
	if (op->state[RW_MODE] == RWLOCK_READ + 1)
		rw->readers--;
	else
		rw->writer = false;
	op->state[RW_NEXT] = op->state[RW_MODE] = 0;
	wk->changed = true;
	serve(rw, wk);
}

void mrwlock_cancel(struct mrwlock *rw, struct waiter *w, struct model_waker *wk)
{
	list_del(&w->link);
	serve(rw, wk); /* w may have held back readers behind it */
}

void mrwlock_kill(struct mrwlock *rw, int err, struct model_waker *wk)
{
	model_wake_all(wk, &rw->waitq, -err);
}

uint32_t mrwlock_holders(const struct mrwlock *rw)
{
	return rw->writer ? 1 : rw->readers;
}

void mrwlock_inspect(const struct mrwlock *rw, struct snapshot *snap, struct snap_obj *o)
{
	const struct waiter *w;

	snap_field_add(o, "readers", rw->readers);
	snap_field_add(o, "writer", rw->writer);
	o->resource = true;
	o->available = rw->writer ? 0 : rw->readers < MRW_UNITS ? MRW_UNITS - rw->readers : 0;
	for (const struct model_open *op = rw->holders; op; op = next_of(op)) {
		struct timespec since = { .tv_sec = (time_t)(op->state[RW_SINCE] / 1000000000u),
					  .tv_nsec = (long)(op->state[RW_SINCE] % 1000000000u) };

		snap_hold_add(snap, o, op->pid, 0, rw->writer ? MRW_UNITS : 1, since);
	}
	list_for_each_entry(w, &rw->waitq, link) snap_wait_add(
		snap, o, w->pid, w->host, w->kind == RWLOCK_READ ? "rdlock" : "wrlock",
		w->kind == RWLOCK_READ ? 1 : MRW_UNITS, w->since);
}
