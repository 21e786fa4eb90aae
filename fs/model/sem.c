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
 * - An operation on several semaphores (struct msem_multi) waits with one term waiter in the
 *   queue of each semaphore it takes from (or waits for zero on), so each semaphore's FIFO
 *   holds: a later P, alone or in a multi, never overtakes it there. It proceeds when every
 *   P term is the head of its queue and all fit. A multi joins all its queues in one step,
 *   so any two waiters are in the same order in every queue they share: waiting behind each
 *   other cannot form a cycle. Serving one semaphore may serve a multi, which changes others:
 *   those are served in turn from a worklist (not by recursion), until nothing changes.
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
	list_init(&s->vq);
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

static struct msem_multi *multi_of(const struct waiter *w)
{
	return (struct msem_multi *)(uintptr_t)w->arg;
}

static struct msem_multi *multi_of_term(struct waiter *w)
{
	return container_of(w, struct msem_term, w)->m;
}

/* s must be served (again): into work, once. */
static void work_add(struct list_head *work, struct msem *s)
{
	if (!s->in_work) {
		s->in_work = true;
		list_add_tail(&s->wlink, work);
	}
}

/*
 * Can m proceed now? queued: its terms are in their queues, and a P must be the head of its
 * own; else (a probe) a P needs an empty queue. MODEL_DONE, MODEL_WOULD_BLOCK, or -errno when
 * it cannot ever: a term's semaphore is gone, or a V would pass INT32_MAX.
 */
static int multi_check(const struct msem_multi *m, bool queued)
{
	int rc = MODEL_DONE;

	for (uint32_t i = 0; i < m->nterms; i++) {
		const struct msem_term *t = &m->t[i];
		const struct msem *s = t->s;

		if (s->dead)
			return -s->dead;
		if (t->n > 0) {
			if (s->count > (uint32_t)(INT32_MAX - t->n))
				return -EOVERFLOW;
		} else if (t->n == 0) {
			if (s->count)
				rc = MODEL_WOULD_BLOCK;
		} else if (s->paused || s->count < (uint32_t)-t->n ||
			   (queued ? s->pq.next != &t->w.link : !list_empty(&s->pq))) {
			rc = MODEL_WOULD_BLOCK;
		}
	}
	return rc;
}

/* m leaves every queue it is in; its semaphores must be served again (those behind it). */
static void multi_unqueue(struct msem_multi *m, struct list_head *work)
{
	for (uint32_t i = 0; i < m->nterms; i++) {
		list_del(&m->t[i].w.link); /* self-linked if not queued: no-op */
		work_add(work, m->t[i].s);
	}
}

/* m proceeds (multi_check said MODEL_DONE): every term applies, as P and V do alone. */
static void multi_apply(struct msem_multi *m, struct list_head *work)
{
	const struct waiter *w = m->w;

	multi_unqueue(m, work);
	for (uint32_t i = 0; i < m->nterms; i++) {
		struct msem_term *t = &m->t[i];

		if (t->n < 0) {
			t->s->count -= (uint32_t)-t->n;
			holders_take(t->s, w->pid, w->host, (uint32_t)-t->n);
		} else if (t->n > 0) {
			t->s->count += (uint32_t)t->n;
			holders_give(t->s, w->pid, w->host, (uint32_t)t->n);
		}
	}
}

/* A multi whose term waiter w reached the head of a queue (or its semaphore reached zero):
 * served, failed, or left waiting (false). */
static bool multi_serve(struct waiter *w, struct list_head *work, struct model_waker *wk)
{
	struct msem_multi *m = multi_of_term(w);
	int rc = multi_check(m, true);

	if (rc == MODEL_WOULD_BLOCK)
		return false;
	if (rc == MODEL_DONE)
		multi_apply(m, work);
	else
		multi_unqueue(m, work);
	model_wake(wk, m->w, rc);
	return true;
}

/* Serve every waiter of s that can proceed now, in order; semaphores a multi changed go to
 * work. */
static void serve_one(struct msem *s, struct list_head *work, struct model_waker *wk)
{
	struct waiter *w, *tmp;

	while (!list_empty(&s->pq) && !s->paused) {
		w = list_first_entry(&s->pq, struct waiter, link);
		if (w->kind == SEM_TERM) {
			if (!multi_serve(w, work, wk))
				break;
			continue;
		}
		if (s->count < w->arg)
			break;
		s->count -= (uint32_t)w->arg;
		holders_take(s, w->pid, w->host, (uint32_t)w->arg);
		list_del(&w->link);
		model_wake(wk, w, 0);
	}
	if (s->count != 0)
		return;
	/* A multi has one term here, so serving it takes only w out of this queue. */
	list_for_each_entry_safe(w, tmp, &s->zq, link)
	{
		if (w->kind == SEM_TERM) {
			multi_serve(w, work, wk);
		} else {
			list_del(&w->link);
			model_wake(wk, w, 0);
		}
	}
}

/* Serve the semaphores of work until none can serve anybody more. */
static void serve_work(struct list_head *work, struct model_waker *wk)
{
	while (!list_empty(work)) {
		struct msem *s = list_first_entry(work, struct msem, wlink);

		list_del(&s->wlink);
		s->in_work = false;
		serve_one(s, work, wk);
	}
}

/* Serve every waiter that can proceed now, in order: s's, and those of the semaphores the
 * multis served on the way change. */
static void serve(struct msem *s, struct model_waker *wk)
{
	LIST_HEAD_DECL(work);

	work_add(&work, s);
	serve_work(&work, wk);
}

/* msem_wait of a multi (w->kind SEM_MULTI). */
static int multi_wait(struct msem_multi *m, struct waiter *w, bool queue, struct model_waker *wk)
{
	LIST_HEAD_DECL(work);
	int rc;

	m->w = w;
	for (uint32_t i = 0; i < m->nterms; i++) {
		struct msem_term *t = &m->t[i];

		t->m = m;
		t->w = *w;
		list_init(&t->w.link);
		t->w.kind = SEM_TERM;
		t->w.arg = t->n < 0 ? (uint64_t) - (int64_t)t->n : 0;
	}
	rc = multi_check(m, false);
	if (rc == MODEL_DONE) {
		multi_apply(m, &work);
		serve_work(&work, wk); /* its V's may serve others, its P's reach zero */
	} else if (rc == MODEL_WOULD_BLOCK && queue) {
		for (uint32_t i = 0; i < m->nterms; i++) {
			struct msem_term *t = &m->t[i];

			if (t->n < 0)
				list_add_tail(&t->w.link, &t->s->pq);
			else if (t->n == 0)
				list_add_tail(&t->w.link, &t->s->zq);
			else
				list_add_tail(&t->w.link, &t->s->vq);
		}
	}
	return rc;
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

	if (w->kind == SEM_MULTI)
		return multi_wait(multi_of(w), w, queue, wk);
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
	LIST_HEAD_DECL(work);

	if (w->kind == SEM_MULTI) {
		multi_unqueue(multi_of(w), &work); /* it may have been the head of several */
		serve_work(&work, wk);
		return;
	}
	list_del(&w->link);
	serve(s, wk); /* w may have been the head of pq */
}

void msem_kill(struct msem *s, int err, struct model_waker *wk)
{
	LIST_HEAD_DECL(work);

	s->dead = err;
	for (;;) {
		struct list_head *q = !list_empty(&s->pq)   ? &s->pq
				      : !list_empty(&s->zq) ? &s->zq
							    : &s->vq;
		struct waiter *w;

		if (list_empty(q))
			break;
		w = list_first_entry(q, struct waiter, link);
		if (w->kind == SEM_TERM) {
			struct msem_multi *m = multi_of_term(w);

			multi_unqueue(m, &work); /* its places elsewhere may hold others back */
			model_wake(wk, m->w, -err);
		} else {
			list_del(&w->link);
			model_wake(wk, w, -err);
		}
	}
	serve_work(&work, wk);
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
