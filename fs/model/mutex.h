/* SPDX-License-Identifier: MIT */
/*
 * mutex.h - the mutex's state machine: one holder (an open file description), a FIFO queue of
 * opens waiting to become it, and the hand-off from the one to the other.
 *
 * Every function is called with the object's lock held (store.h) and never blocks; those
 * that take a waker hand it the waiters they serve or fail (model.h). For a mutex, the data is
 * whether it is held (st_size): taking and releasing it both set the waker's changed.
 */
#ifndef IPCFS_MODEL_MUTEX_H
#define IPCFS_MODEL_MUTEX_H

#include "model.h"

struct snapshot;
struct snap_obj;

struct mmutex {
	struct model_open *holder; /* the open holding it, or NULL */
	pid_t holder_pid;	   /* who took it (thread id, as the caller reported it) */
	uint64_t holder_host;	   /* the daemon it came through (waiter.host) */
	struct timespec since;	   /* CLOCK_REALTIME when it was taken */
	struct list_head waitq;	   /* waiting opens, FIFO; struct waiter, op = their open */
};

/* What a waiter waits for (waiter.kind): there is one thing to wait for, the mutex. */
enum mutex_kind {
	MUTEX_LOCK, /* open(): become the holder */
};

/* mmutex_init - a free mutex that nobody waits for. Nothing to free later. */
void mmutex_init(struct mmutex *m);

/*
 * mmutex_lock - w (op, pid set) asks for the mutex. MODEL_DONE: w->op now holds it (with
 * w->pid as holder_pid) and w is not queued. MODEL_WOULD_BLOCK: it is held, or others wait
 * already (no barging past them, even while it is free); with queue true w is now last in the
 * queue and will be handed the mutex (rc 0) in its turn, else nothing changed.
 */
int mmutex_lock(struct mmutex *m, struct waiter *w, bool queue, struct model_waker *wk);

/*
 * mmutex_release - op's last close (or its owner's death): if op holds the mutex it is free
 * now and handed at once to the head of the queue, whose waiter gets rc 0. An op that does
 * not hold it (never got it) changes nothing.
 */
void mmutex_release(struct mmutex *m, const struct model_open *op, struct model_waker *wk);

/* mmutex_cancel - queued w leaves the queue without effect (interrupted); if the mutex is
 * free, the next in line gets it. */
void mmutex_cancel(struct mmutex *m, struct waiter *w, struct model_waker *wk);

/* mmutex_kill - the mutex is going away: every waiter gets -err. The holder, if any, stays
 * until its release. */
void mmutex_kill(struct mmutex *m, int err, struct model_waker *wk);

/* mmutex_locked - is it held? (st_size: 1 held, 0 free) */
bool mmutex_locked(const struct mmutex *m);

/* mmutex_holder_pid - the thread id that holds it, or 0 when free: the deadlock check's "who
 * holds it". */
pid_t mmutex_holder_pid(const struct mmutex *m);

/* mmutex_waits - is thread tid in the queue? (a thread waits for one mutex at most) */
bool mmutex_waits(const struct mmutex *m, pid_t tid);

/* mmutex_inspect - "locked", the holder and the waiters (in hand-off order) into o. */
void mmutex_inspect(const struct mmutex *m, struct snapshot *snap, struct snap_obj *o);

#endif /* IPCFS_MODEL_MUTEX_H */
