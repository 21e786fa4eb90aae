/* SPDX-License-Identifier: MIT */
/*
 * mem.c - the memory store: each object's state in this daemon's memory, a step made atomic
 * by the object's lock, and committed as soon as the lock is dropped (store.h).
 *
 * Implementation notes:
 * - The lock is lib's ipc_mutex (ipc/mutex.h, the 3-state futex mutex): an uncontended step
 *   costs one CAS to begin and one exchange to end, no system call.
 * - The primitives inside the state come from lib/ where they fit the model: a FIFO's bytes
 *   are an ipc_ring. Waiters are not: a blocked caller is a parked FUSE request, not a
 *   sleeping thread, so the model keeps its own queues of waiters and the futex-based
 *   primitives' own waiting is never used (see docs/design.md).
 * - Nothing can fail to commit, so after->fn always gets 0, on the committing thread.
 *
 * Locking: o->group->lock (o's own, unless o joined a group), taken by begin and dropped by
 * end and commit.
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>

static int mem_obj_init(struct store *st, struct store_obj *o, size_t size)
{
	(void)st;
	ipc_mutex_init(&o->lock, 0);
	o->state = NULL;
	if (size && !(o->state = calloc(1, size)))
		return -ENOMEM;
	return 0;
}

static void mem_obj_fini(struct store_obj *o)
{
	free(o->state);
	o->state = NULL;
}

static void mem_begin(struct store_obj *o)
{
	ipc_mutex_lock(&o->group->lock);
}

static void mem_end(struct store_obj *o)
{
	ipc_mutex_unlock(&o->group->lock);
}

static void mem_commit(struct store_obj *o, struct store_after *a)
{
	ipc_mutex_unlock(&o->group->lock);
	if (a)
		a->fn(a, 0);
}

static void mem_close(struct store *st)
{
	free(st);
}

static const struct store_ops mem_ops = {
	.name = "memory",
	.obj_init = mem_obj_init,
	.obj_fini = mem_obj_fini,
	.begin = mem_begin,
	.end = mem_end,
	.commit = mem_commit,
	.close = mem_close,
};

int store_mem_open(struct store **out)
{
	struct store *st = malloc(sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->ops = &mem_ops;
	*out = st;
	return 0;
}
