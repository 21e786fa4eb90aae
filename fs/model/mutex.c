/* SPDX-License-Identifier: MIT */
/*
 * mutex.c - the mutex's state machine (mutex.h).
 *
 * Implementation notes:
 * - The holder is an open (struct model_open), not a thread: the mutex belongs to the open
 *   file description that took it until that open's release, whoever uses it meanwhile (a
 *   child that inherited the descriptor). holder_pid is kept for inspection and the deadlock
 *   check only.
 * - FIFO hand-off: a release gives the mutex straight to the head of the queue, so it is
 *   never free while anybody waits, and a late lock cannot barge in between. For the same
 *   reason a lock that finds others queued waits behind them even if the mutex looks free.
 *   Hence the invariant: the queue is empty whenever the mutex is free (serve restores it
 *   after every change), and a cancel only takes the waiter out. It still serves, as the
 *   semaphore's does, so that the invariant need not be trusted by whoever cancels.
 * - Taking and releasing set the waker's changed: a mutex's state is what its st_size shows.
 * - The deadlock check (the face's, -o deadlock_check) walks holder -> the mutex the holder
 *   waits for -> its holder ...; the model answers the two questions of each step,
 *   mmutex_holder_pid and mmutex_waits, under its object's lock, and knows nothing of the
 *   other objects.
 *
 * Locking: the object's lock (store.h) protects struct mmutex and the waiters in its queue.
 */
#include "model/mutex.h"

#include "inspect/snapshot.h"

#include <string.h>

void mmutex_init(struct mmutex *m)
{
	memset(m, 0, sizeof(*m));
	list_init(&m->waitq);
}

/* w's open holds the mutex from now on. */
static void take(struct mmutex *m, const struct waiter *w, struct model_waker *wk)
{
	m->holder = w->op;
	m->holder_pid = w->pid;
	m->holder_host = w->host;
	clock_gettime(CLOCK_REALTIME, &m->since);
	wk->changed = true;
}

/* If the mutex is free, hand it to the head of the queue. */
static void serve(struct mmutex *m, struct model_waker *wk)
{
	struct waiter *w;

	if (m->holder || list_empty(&m->waitq))
		return;
	w = list_first_entry(&m->waitq, struct waiter, link);
	list_del(&w->link);
	take(m, w, wk);
	model_wake(wk, w, 0);
}

int mmutex_lock(struct mmutex *m, struct waiter *w, bool queue, struct model_waker *wk)
{
	if (m->holder || !list_empty(&m->waitq)) {
		if (queue)
			list_add_tail(&w->link, &m->waitq);
		return MODEL_WOULD_BLOCK;
	}
	take(m, w, wk);
	return MODEL_DONE;
}

void mmutex_release(struct mmutex *m, const struct model_open *op, struct model_waker *wk)
{
	if (m->holder != op)
		return;
	m->holder = NULL;
	wk->changed = true;
	serve(m, wk);
}

void mmutex_cancel(struct mmutex *m, struct waiter *w, struct model_waker *wk)
{
	list_del(&w->link);
	serve(m, wk);
}

void mmutex_kill(struct mmutex *m, int err, struct model_waker *wk)
{
	model_wake_all(wk, &m->waitq, -err);
}

bool mmutex_locked(const struct mmutex *m)
{
	return m->holder != NULL;
}

pid_t mmutex_holder_pid(const struct mmutex *m)
{
	return m->holder ? m->holder_pid : 0;
}

bool mmutex_waits(const struct mmutex *m, pid_t tid)
{
	const struct waiter *w;

	list_for_each_entry(w, &m->waitq, link) if (w->pid == tid) return true;
	return false;
}

void mmutex_inspect(const struct mmutex *m, struct snapshot *snap, struct snap_obj *o)
{
	const struct waiter *w;

	snap_field_add(o, "locked", m->holder != NULL);
	o->resource = true;
	o->available = m->holder == NULL;
	if (m->holder)
		snap_hold_add(snap, o, m->holder_pid, m->holder_host, 1, m->since);
	list_for_each_entry(w, &m->waitq, link)
		snap_wait_add(snap, o, w->pid, w->host, "lock", 1, w->since);
}
