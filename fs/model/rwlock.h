/* SPDX-License-Identifier: MIT */
/*
 * rwlock.h - the readers-writer lock's state machine: held by any number of opens for reading,
 * or by one for writing; an open that cannot have it now waits in one FIFO queue.
 *
 * Policy: first come, first served (task-fair). A lock is granted at once only when nobody
 * waits and it is compatible with the holders; a release serves the queue from its head: a
 * writer when nobody holds, or a reader and every reader right behind it while no writer
 * holds. So a reader that comes while a writer waits queues behind that writer (writers are
 * not starved by a stream of readers), and the readers queued behind a writer all go in
 * together once it leaves (readers are not starved by a stream of writers either).
 *
 * Like the mutex, a hold belongs to an open file description (struct model_open), released by
 * its last close. The holders are linked through their opens' per-open state, so that taking
 * and releasing never allocate.
 *
 * Every function is called with the object's lock held (store.h) and never blocks; those
 * that take a waker hand it the waiters they serve (model.h).
 */
#ifndef IPCFS_MODEL_RWLOCK_H
#define IPCFS_MODEL_RWLOCK_H

#include "model.h"

struct snapshot;
struct snap_obj;

struct mrwlock {
	struct model_open *holders; /* the first holder; the others follow state[RW_NEXT] */
	uint32_t readers;	    /* holders for reading */
	bool writer;		    /* held for writing (by holders alone) */
	struct list_head waitq;	    /* waiting opens, FIFO; struct waiter, RWLOCK_* */
};

/* What a waiter waits for (waiter.kind). */
enum rwlock_kind {
	RWLOCK_READ,  /* open() for reading: a shared hold */
	RWLOCK_WRITE, /* open() for writing: the exclusive hold */
};

/* Per-open state (model_open.state[]) while the open holds it. */
#define RW_NEXT 0  /* the next holder's struct model_open *, or 0 */
#define RW_MODE 1  /* 0: holds nothing; RWLOCK_READ + 1 or RWLOCK_WRITE + 1 */
#define RW_SINCE 2 /* CLOCK_REALTIME it took it, in nanoseconds */

/* The units a writer holds in the deadlock matrices (a reader holds one): an rwlock is a
 * resource of this many units, all of which a writer needs. */
#define MRW_UNITS 65536u

/* mrwlock_init - a free lock that nobody waits for. Nothing to free later. */
void mrwlock_init(struct mrwlock *rw);

/* mrwlock_lock - w (kind, op, pid set) asks for it. MODEL_DONE: w->op holds it now, shared or
 * exclusive as w->kind says. MODEL_WOULD_BLOCK: it is held incompatibly, or others wait
 * already (no barging); with queue true w is last in the queue and will be served (rc 0) in
 * its turn, else nothing changed. */
int mrwlock_lock(struct mrwlock *rw, struct waiter *w, bool queue, struct model_waker *wk);

/* mrwlock_release - op's last close (or its owner's death): what op holds is released and the
 * queue served. An op that holds nothing changes nothing. */
void mrwlock_release(struct mrwlock *rw, struct model_open *op, struct model_waker *wk);

/* mrwlock_cancel - queued w leaves the queue without effect (interrupted); those behind it
 * are served if they now can. */
void mrwlock_cancel(struct mrwlock *rw, struct waiter *w, struct model_waker *wk);

/* mrwlock_kill - the lock is going away: every waiter gets -err; the holders stay until
 * their release. */
void mrwlock_kill(struct mrwlock *rw, int err, struct model_waker *wk);

/* mrwlock_holders - how many opens hold it (st_size). */
uint32_t mrwlock_holders(const struct mrwlock *rw);

/* mrwlock_inspect - readers, writer, the holders and the waiters (in service order) into o:
 * a resource of MRW_UNITS units, a reader holding or asking one, a writer all. */
void mrwlock_inspect(const struct mrwlock *rw, struct snapshot *snap, struct snap_obj *o);

#endif /* IPCFS_MODEL_RWLOCK_H */
