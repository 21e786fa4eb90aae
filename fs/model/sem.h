/* SPDX-License-Identifier: MIT */
/*
 * sem.h - the semaphore's state machine: a count, P(n), V(n), wait-for-zero, and pause.
 *
 * Every function is called with the object's lock held (store.h) and never blocks; those
 * that take a waker hand it the waiters they serve (model.h).
 */
#ifndef IPCFS_MODEL_SEM_H
#define IPCFS_MODEL_SEM_H

#include "model.h"

struct snapshot;
struct snap_obj;

/* Units a thread took with P and has not given back. */
struct msem_holder {
	pid_t tid;
	uint64_t host; /* the daemon tid came through (cluster mode; waiter.host), else 0 */
	uint32_t units;
	struct timespec since; /* CLOCK_REALTIME of its first unit */
};

struct msem {
	uint32_t count;		     /* 0..INT32_MAX */
	int dead;		     /* msem_kill's errno: the semaphore is gone */
	bool paused;		     /* user.paused: grant no P, even one that fits */
	uint32_t nholders;	     /* entries used in holders */
	uint32_t holders_cap;	     /* entries allocated */
	struct msem_holder *holders; /* who holds units, in the order they took them */
	uint64_t host;		     /* the daemon this replica is at (cluster mode), else 0:
				      * whose holders' tids /proc can tell alive */
	struct list_head pq;	     /* waiting P(n), FIFO; struct waiter, arg = n */
	struct list_head zq;	     /* waiting waits for zero */
	struct list_head vq;	     /* V terms of waiting multis: never served, only failed
				      * when the semaphore goes (msem_kill) */
	struct list_head wlink;	     /* in a worklist of semaphores to serve (sem.c) */
	bool in_work;		     /* wlink is in one */
};

/* What a waiter waits for (waiter.kind); arg is the units of a P. */
enum sem_kind {
	SEM_READ_P,  /* read(): P(1) */
	SEM_WRITE_P, /* write("-N"): P(N) */
	SEM_WRITE_Z, /* write("0"): wait for zero */
	SEM_MULTI,   /* write("-1 b:-1"): terms on several semaphores; arg: its msem_multi */
	SEM_TERM,    /* a term's place in a queue (struct msem_term.w), never a caller's */
};

/*
 * An operation on several semaphores at once (System V's semop): every term applies, or
 * none. The caller's waiter (kind SEM_MULTI, arg pointing here) is in no queue; each P and
 * wait-for-zero term waits in its own semaphore's queue with a waiter of its own (SEM_TERM),
 * so a term keeps its place in that semaphore's FIFO and inspection shows it there; each V
 * term is listed in its semaphore's vq, so that removing that semaphore fails the multi. The
 * operation proceeds once all its terms can at the same time, each P at the head of its
 * queue. Every semaphore a multi may touch must be under one lock (a single store step):
 * serving one semaphore may serve a multi that changes others.
 */
struct msem_multi;
struct msem_term {
	struct msem *s;	      /* the semaphore; the caller keeps it alive */
	int32_t n;	      /* > 0: V(n); < 0: P(-n); 0: wait until the count is zero */
	struct waiter w;      /* its place in s->pq or s->zq while the multi waits */
	struct msem_multi *m; /* the operation it belongs to (set by msem_wait) */
};
struct msem_multi {
	struct waiter *w; /* the caller's waiter (set by msem_wait) */
	uint32_t nterms;
	struct msem_term t[]; /* s and n set by the caller, on distinct semaphores */
};

/* msem_init - a semaphore with count 0. msem_fini - free it; nobody waits. */
void msem_init(struct msem *s);
void msem_fini(struct msem *s);

/* msem_post - V(units) by tid through daemon host (0: the memory store): MODEL_DONE, or
 * -EOVERFLOW past INT32_MAX (nothing changed). Serves the waiters that can proceed now, in
 * order. */
int msem_post(struct msem *s, pid_t tid, uint64_t host, uint32_t units, struct model_waker *wk);

/*
 * msem_wait - w (kind, arg, pid set) asks now. For SEM_MULTI, s is unused: w->arg's terms say
 * which semaphores; -EOVERFLOW if a V term could never fit, a dead term's errno if one is
 * gone; the waker may then also get other multis that now proceed. MODEL_DONE: the units are taken (or the count
 * is zero for a wait-for-zero), and w is not queued. MODEL_WOULD_BLOCK: it cannot proceed;
 * with queue true w is now last in its queue, else nothing changed. A P never overtakes one
 * that waits (FIFO, no starvation); a waiter served later gets rc 0 with its units taken.
 */
int msem_wait(struct msem *s, struct waiter *w, bool queue, struct model_waker *wk);

/* msem_cancel - w leaves its queue without effect (interrupted); those behind it may proceed
 * now. Readiness may change even if nobody does: the caller wakes pollers (of every term's
 * semaphore, for a multi). */
void msem_cancel(struct msem *s, struct waiter *w, struct model_waker *wk);

/* msem_kill - the semaphore is going away: every waiter gets err, a multi with a term waiting
 * here too (its other terms leave their queues), and later operations fail with err. */
void msem_kill(struct msem *s, int err, struct model_waker *wk);

/* msem_readable - would a read (P(1)) proceed now? */
bool msem_readable(const struct msem *s);

/* msem_set_paused - user.paused: 0 or 1, else -EINVAL (nothing changed). Resuming serves. */
int msem_set_paused(struct msem *s, uint64_t value, struct model_waker *wk);

/* msem_inspect - the count, holders and waiters (in service order) into o. */
void msem_inspect(const struct msem *s, struct snapshot *snap, struct snap_obj *o);

#endif /* IPCFS_MODEL_SEM_H */
