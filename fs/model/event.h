/* SPDX-License-Identifier: MIT */
/*
 * event.h - the event's state machine: a flag that a set raises and a clear lowers, and waits
 * that pass while it is raised. Manual reset (the default): a set serves every waiter and the
 * event stays set until cleared, so every later wait passes at once (a broadcast: "go").
 * Auto reset (user.auto_reset = 1): a set serves the longest waiter only and is consumed by
 * it; with nobody waiting it stays set until one wait consumes it (Win32's auto-reset event).
 *
 * Every function is called with the object's lock held (store.h) and never blocks; those
 * that take a waker hand it the waiters they serve (model.h).
 */
#ifndef IPCFS_MODEL_EVENT_H
#define IPCFS_MODEL_EVENT_H

#include "model.h"

struct snapshot;
struct snap_obj;

struct mevent {
	bool set;		/* raised; never with anybody waiting */
	bool auto_reset;	/* user.auto_reset: a set serves one wait and is consumed */
	uint64_t sets;		/* sets so far (inspection) */
	struct list_head waitq; /* waiting waits, FIFO; struct waiter, EVENT_WAIT */
};

/* What a waiter waits for (waiter.kind). When it is served, its arg is 1 if it consumed the
 * set (auto reset): a caller who cannot be told gives it back with mevent_set. */
enum event_kind {
	EVENT_WAIT, /* read(): until the event is set */
};

/* mevent_init - a clear, manual-reset event that nobody waits for. Nothing to free later. */
void mevent_init(struct mevent *e);

/* mevent_set - raise it: every waiter is served (manual reset) and it stays set, or (auto
 * reset) the first waiter is served and the set is consumed by it, or it stays set for the
 * next wait when nobody waits. MODEL_DONE. */
int mevent_set(struct mevent *e, struct model_waker *wk);

/* mevent_clear - lower it: later waits wait. MODEL_DONE. */
int mevent_clear(struct mevent *e);

/* mevent_wait - w (kind EVENT_WAIT, arg 0) waits for it. MODEL_DONE: it is set (auto reset:
 * w consumed the set, arg 1, it is clear now). MODEL_WOULD_BLOCK: it is clear; with queue true w is
 * last in the queue, else nothing changed. */
int mevent_wait(struct mevent *e, struct waiter *w, bool queue, struct model_waker *wk);

/* mevent_cancel - queued w leaves the queue (interrupted), having consumed nothing. */
void mevent_cancel(struct mevent *e, struct waiter *w);

/* mevent_kill - the event is going away: every waiter gets -err. */
void mevent_kill(struct mevent *e, int err, struct model_waker *wk);

/* mevent_set_auto_reset - user.auto_reset: 0 or 1, else -EINVAL (nothing changed). */
int mevent_set_auto_reset(struct mevent *e, uint64_t value);

/* mevent_readable - would a wait pass now? */
bool mevent_readable(const struct mevent *e);

/* mevent_inspect - its state and waiters into o (snapshot.h): not a resource. */
void mevent_inspect(const struct mevent *e, struct snapshot *snap, struct snap_obj *o);

#endif /* IPCFS_MODEL_EVENT_H */
