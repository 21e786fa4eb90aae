/* SPDX-License-Identifier: MIT */
/*
 * barrier.h - the barrier's state machine: callers arrive and wait until user.parties of them
 * are in the same round; the last one's arrival releases them all and starts the next round
 * (reusable, as pthread_barrier_wait). A caller interrupted while it waits leaves its round,
 * which then needs one more: it never breaks the round for the others.
 *
 * Every function is called with the object's lock held (store.h) and never blocks; those
 * that take a waker hand it the waiters they serve (model.h).
 */
#ifndef IPCFS_MODEL_BARRIER_H
#define IPCFS_MODEL_BARRIER_H

#include "model.h"

struct snapshot;
struct snap_obj;

struct mbarrier {
	uint32_t parties;	/* user.parties: callers a round needs, 1..IPCFS_MAX_PARTIES */
	uint32_t arrived;	/* callers waiting in this round (the queue's length) */
	uint64_t rounds;	/* rounds completed */
	struct list_head waitq; /* waiting callers of this round, in arrival order */
};

/* What a waiter waits for (waiter.kind). */
enum barrier_kind {
	BARRIER_ARRIVE, /* read(): until the round is complete */
};

/* mbarrier_init - a barrier of parties callers, nobody arrived. Nothing to free later. */
void mbarrier_init(struct mbarrier *b, uint32_t parties);

/* mbarrier_arrive - w arrives. MODEL_DONE: it completes the round: every waiter of the round
 * is served and the next round begins. MODEL_WOULD_BLOCK: the round needs more; with queue
 * true w waits in it, else nothing changed. */
int mbarrier_arrive(struct mbarrier *b, struct waiter *w, bool queue, struct model_waker *wk);

/* mbarrier_cancel - queued w leaves its round (interrupted), which needs one more now. */
void mbarrier_cancel(struct mbarrier *b, struct waiter *w);

/* mbarrier_kill - the barrier is going away: every waiter gets -err. */
void mbarrier_kill(struct mbarrier *b, int err, struct model_waker *wk);

/* mbarrier_set_parties - user.parties = value (1..IPCFS_MAX_PARTIES, else -EINVAL, nothing
 * changed); if as many wait already, the round is complete and they are served. */
int mbarrier_set_parties(struct mbarrier *b, uint64_t value, struct model_waker *wk);

/* mbarrier_readable - would an arrival pass now (it completes the round)? */
bool mbarrier_readable(const struct mbarrier *b);

/* mbarrier_inspect - its state and waiters into o (snapshot.h): not a resource. */
void mbarrier_inspect(const struct mbarrier *b, struct snapshot *snap, struct snap_obj *o);

#endif /* IPCFS_MODEL_BARRIER_H */
