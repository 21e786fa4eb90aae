/* SPDX-License-Identifier: MIT */
/*
 * store.h - the third floor: where an object's state lives, and how one step on it is made
 * atomic and then durable. One store today, memory (store/mem.c); the interface is the one a
 * networked store (etcd, shared by several mounts) implements with callbacks instead of
 * blocking.
 *
 * A step on object o, as the FUSE face makes it:
 *
 *   store_begin(o)                    the step starts: nobody else's step on o runs now
 *     model operations on store_state(o)    (model/<type>.h: done / would block / -errno;
 *     + the face's bookkeeping               the waiters the model serves are recorded in
 *                                            after.done, pollers to wake in after.pw)
 *   store_commit(o, &after)           the step's changes are made durable; then, with no lock
 *                                     held, after.fn(&after, rc) answers whom it recorded
 *   or store_end(o)                   the step changed nothing that needs committing (it
 *                                     read, or changed only this daemon's own bookkeeping:
 *                                     open handles, armed pollers, a parked request's state)
 *
 * - The memory store: begin takes o's lock (lib's 3-state futex mutex), commit and end drop it;
 *   commit then calls after.fn at once, on the caller's thread, with rc 0.
 * - A networked store keeps a local copy of each object's state, fed by its watch, and takes
 *   the same local lock in begin. commit moves after's lists into a record of its own (so
 *   after may live on the caller's stack), drops the lock and returns at once: no FUSE thread
 *   waits for the network. When the transaction comes back it calls fn from its own thread:
 *   rc 0, or -EIO when it failed (quorum lost, timeout); then it restores its copy of the
 *   state, and fn answers every recorded caller with the error: nothing is half applied.
 *   Callers the step served complete through the same path as a local wake (park.h).
 *
 * Locking: o->lock is the object's lock of ipcfs.h ("node->lock"): every step on an object,
 * including its attributes and the face's wait queues, runs inside begin ... commit/end. No
 * answer is sent and no poll notification made inside a step.
 */
#ifndef IPCFS_STORE_H
#define IPCFS_STORE_H

#include "list.h"

#include <ipc/mutex.h>

#include <stddef.h>
#include <stdint.h>

struct store;

/* An object's state as a store keeps it. A networked store embeds this in its own record. */
struct store_obj {
	struct store *st;      /* the store it lives in; immutable */
	struct ipc_mutex lock; /* serialises the steps on this object in this daemon */
	/* whose lock this object's steps take: itself, or the group it joined (store_obj_join),
	 * so that one step covers every object of the group; immutable once steps begin */
	struct store_obj *group;
	void *state; /* the type's state (model/<type>.h); NULL for directories */
};

/*
 * struct store_after - what to do once a step is committed: fn(a, rc) with the lists the step
 * filled (the face's: parked requests to answer, poll notifications to send). rc is 0, or
 * -errno when the store could not commit the step (it had no effect). Called exactly once per
 * store_commit, with no lock held.
 */
struct store_after {
	struct list_head done;
	struct list_head pw;
	void (*fn)(struct store_after *a, int rc);
};

struct store_ops {
	const char *name; /* as -o store= would name it */
	/* room for a new object's state of size bytes (zeroed; none for 0): 0 or -ENOMEM */
	int (*obj_init)(struct store *st, struct store_obj *o, size_t size);
	/* free o's state: no step runs on it any more */
	void (*obj_fini)(struct store_obj *o);
	void (*begin)(struct store_obj *o);
	void (*end)(struct store_obj *o);
	void (*commit)(struct store_obj *o, struct store_after *a);
	/* free the store itself: no object is left in it */
	void (*close)(struct store *st);
};

/* A store. A networked store embeds it in its own (connection, watch, thread). */
struct store {
	const struct store_ops *ops; /* immutable */
};

/* store_mem_open - a memory store (store/mem.c): the default, and the only one yet. Returns
 * 0 with *out set, or -ENOMEM. */
int store_mem_open(struct store **out);

/* store_close - free st (NULL: nothing). Every object in it is gone. */
static inline void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

/* store_obj_init - o in st with size bytes of zeroed state. Returns 0 or -ENOMEM (o unusable,
 * nothing to free). */
static inline int store_obj_init(struct store *st, struct store_obj *o, size_t size)
{
	o->st = st;
	o->group = o;
	return st->ops->obj_init(st, o, size);
}

/* store_obj_join - o's steps are group's from now on: a step on either covers both, as a step
 * on any object of a System V semaphore set covers the set. Before the first step on o; group
 * has joined no other. */
static inline void store_obj_join(struct store_obj *o, struct store_obj *group)
{
	o->group = group;
}

/* store_step_id - which step o's are: objects with the same id share their steps (one step
 * covers them all). Whoever begins steps on several objects at once begins one per id, in
 * increasing order of ids. */
static inline uintptr_t store_step_id(const struct store_obj *o)
{
	return (uintptr_t)o->group;
}

/* store_obj_fini - free o's state; nobody uses o any more. */
static inline void store_obj_fini(struct store_obj *o)
{
	o->st->ops->obj_fini(o);
}

/* store_state - o's state, to hand to the model. Inside a step only. */
static inline void *store_state(const struct store_obj *o)
{
	return o->state;
}

/* store_begin - start a step on o (see above). Never two at once on o (or its group) in one
 * thread. */
static inline void store_begin(struct store_obj *o)
{
	o->st->ops->begin(o);
}

/* store_end - end a step that changed nothing to commit. */
static inline void store_end(struct store_obj *o)
{
	o->st->ops->end(o);
}

/* store_after_init - an empty after that will call fn. */
static inline void store_after_init(struct store_after *a, void (*fn)(struct store_after *, int))
{
	list_init(&a->done);
	list_init(&a->pw);
	a->fn = fn;
}

/* store_commit - end a step and commit it; a->fn runs once it is committed (see above). a may
 * be NULL when nothing waits for the commit (a change of attributes, a V with nobody served
 * whose caller is answered by the face). */
static inline void store_commit(struct store_obj *o, struct store_after *a)
{
	o->st->ops->commit(o, a);
}

#endif /* IPCFS_STORE_H */
