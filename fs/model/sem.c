/* SPDX-License-Identifier: MIT */
/*
 * sem.c - the semaphore's state machine (sem.h).
 *
 * Implementation notes:
 * - A P waits in pq, in arrival order; whatever adds units serves pq from its head and stops
 *   at the first that still does not fit, so a P(5) at the head is not overtaken by a later
 *   P(1) (no starvation). Waits for zero wait in zq and are all released whenever the count
 *   is 0, independently of pq (as with System V semop).
 * - For inspection and deadlock detection, the units each thread took with P and has not
 *   given back with V are counted per thread id: a V gives back the caller's own units first
 *   and the rest adds to the count only. Entries of threads that have exited are dropped
 *   when the table is full, so it stays as small as the number of live holders. In cluster
 *   mode a thread is (daemon, tid): those of other hosts cannot be looked up here, so when
 *   the table is still full the oldest of them makes room (the table is then a view of
 *   the latest). This bookkeeping never changes what P and V do: replicas may differ in it.
 *
 * Locking: the object's lock (store.h) protects struct msem and the waiters in its queues.
 */
#include "model/sem.h"
#include "model/proc.h"

#include "inspect/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void msem_init(struct msem *s)
{
	memset(s, 0, sizeof(*s));
	list_init(&s->pq);
	list_init(&s->zq);
}

void msem_fini(struct msem *s)
{
	free(s->holders);
	s->holders = NULL;
}

/* Drop the entries of this host's threads that have exited; if none, the oldest entry of
 * another host's (see above). */
static void holders_prune(struct msem *s)
{
	uint32_t w = 0;

	for (uint32_t i = 0; i < s->nholders; i++)
		if (s->holders[i].host != s->host || proc_alive(s->holders[i].tid))
			s->holders[w++] = s->holders[i];
	if (w == s->nholders) {
		for (uint32_t i = 0; i < s->nholders; i++)
			if (s->holders[i].host != s->host) {
				memmove(&s->holders[i], &s->holders[i + 1],
					(s->nholders - i - 1) * sizeof(*s->holders));
				w--;
				break;
			}
	}
	s->nholders = w;
}

/* tid (through host) took units with P. Out of memory, the units go unrecorded: only the
 * inspection is poorer. */
static void holders_take(struct msem *s, pid_t tid, uint64_t host, uint32_t units)
{
	struct msem_holder *h;

	for (uint32_t i = 0; i < s->nholders; i++)
		if (s->holders[i].tid == tid && s->holders[i].host == host) {
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
	h->host = host;
	h->units = units;
	clock_gettime(CLOCK_REALTIME, &h->since);
}

/* tid (through host) gave units back with V: fewer of its own held. */
static void holders_give(struct msem *s, pid_t tid, uint64_t host, uint32_t units)
{
	for (uint32_t i = 0; i < s->nholders; i++) {
		struct msem_holder *h = &s->holders[i];

		if (h->tid != tid || h->host != host)
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

/* Serve every waiter that can proceed now, in order. */
static void serve(struct msem *s, struct model_waker *wk)
{
	while (!list_empty(&s->pq) && !s->paused) {
		struct waiter *w = list_first_entry(&s->pq, struct waiter, link);

		if (s->count < w->arg)
			break;
		s->count -= (uint32_t)w->arg;
		holders_take(s, w->pid, w->host, (uint32_t)w->arg);
		list_del(&w->link);
		model_wake(wk, w, 0);
	}
	if (s->count == 0)
		model_wake_all(wk, &s->zq, 0);
}

int msem_post(struct msem *s, pid_t tid, uint64_t host, uint32_t units, struct model_waker *wk)
{
	if (s->count > (uint32_t)INT32_MAX - units)
		return -EOVERFLOW;
	s->count += units;
	holders_give(s, tid, host, units);
	wk->changed = true;
	serve(s, wk);
	return MODEL_DONE;
}

int msem_wait(struct msem *s, struct waiter *w, bool queue, struct model_waker *wk)
{
	uint32_t units = (uint32_t)w->arg;

	if (w->kind == SEM_WRITE_Z) {
		if (s->count == 0)
			return MODEL_DONE;
		if (queue)
			list_add_tail(&w->link, &s->zq);
		return MODEL_WOULD_BLOCK;
	}
	if (!list_empty(&s->pq) || s->count < units || s->paused) {
		if (queue)
			list_add_tail(&w->link, &s->pq);
		return MODEL_WOULD_BLOCK;
	}
	s->count -= units;
	holders_take(s, w->pid, w->host, units);
	serve(s, wk); /* the count may have reached zero */
	return MODEL_DONE;
}

void msem_cancel(struct msem *s, struct waiter *w, struct model_waker *wk)
{
	list_del(&w->link);
	serve(s, wk); /* w may have been the head of pq */
}

void msem_kill(struct msem *s, int err, struct model_waker *wk)
{
	model_wake_all(wk, &s->pq, -err);
	model_wake_all(wk, &s->zq, -err);
}

bool msem_readable(const struct msem *s)
{
	return s->count > 0 && list_empty(&s->pq) && !s->paused;
}

/* Pausing holds every P back (a V still adds), to set up and look at a state in which
 * waiters wait that could be granted, as in textbook snapshots; resuming serves them. */
int msem_set_paused(struct msem *s, uint64_t value, struct model_waker *wk)
{
	if (value > 1)
		return -EINVAL;
	s->paused = value;
	serve(s, wk);
	return MODEL_DONE;
}

void msem_inspect(const struct msem *s, struct snapshot *snap, struct snap_obj *o)
{
	const struct waiter *w;

	snap_field_add(o, "value", s->count);
	if (s->paused)
		snap_field_add(o, "paused", 1);
	o->resource = true;
	o->available = s->count;
	/* exited holders are left out later, off the locks: /proc costs system calls */
	for (uint32_t i = 0; i < s->nholders; i++)
		snap_hold_add(snap, o, s->holders[i].tid, s->holders[i].host, s->holders[i].units,
			      s->holders[i].since);
	list_for_each_entry(w, &s->pq, link)
		snap_wait_add(snap, o, w->pid, w->host, "P", (uint32_t)w->arg, w->since);
	/* a wait for zero asks for no units: not a request of the deadlock matrices */
	list_for_each_entry(w, &s->zq, link)
		snap_wait_add(snap, o, w->pid, w->host, "zero", 0, w->since);
}
