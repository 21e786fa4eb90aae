/* SPDX-License-Identifier: MIT */
/*
 * model.h - the object model's vocabulary: what every type's state machine (model/<type>.c)
 * speaks, with no FUSE type in it.
 *
 * An operation on an object runs on its state, with the object's lock held (the store's: see
 * store/store.h), and answers at once with one of:
 *   MODEL_DONE        its effect is applied (the caller answers success);
 *   MODEL_WOULD_BLOCK it cannot proceed now; given a waiter and asked to queue, the waiter is
 *                     in the object's wait queue and will be woken;
 *   -errno            it failed and changed nothing.
 * It never sleeps, never takes another lock and never answers anybody itself. Whoever waits is
 * a struct waiter the caller owns (the FUSE face embeds one in each parked request); the model
 * links it into its queues and, when a later operation serves it (or the object dies), takes
 * it out and hands it to the waker the caller supplied with that operation. The waker only
 * records (it runs under the lock); the face answers after the store's commit.
 */
#ifndef IPCFS_MODEL_H
#define IPCFS_MODEL_H

#include "list.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define MODEL_DONE 0
#define MODEL_WOULD_BLOCK 1

/* The model's view of one open file description: the state a type keeps per open, and who
 * opened it how. The face embeds one in each handle. */
struct model_open {
	int flags;	   /* open(2) flags; immutable */
	pid_t pid;	   /* the opener (thread id); immutable */
	unsigned prio;	   /* a queue's send priority (opened as mq/q@P); immutable */
	uint64_t state[3]; /* the type's per-open state; the object's lock */
};

/* One blocked operation. Everything but link is set by the caller before the operation and
 * read by the model; kind, arg and size may be rewritten by the model when it serves the
 * waiter (a read's bytes). */
struct waiter {
	struct list_head link; /* in one wait queue of its object while queued; object's lock */
	struct model_open *op; /* the open it came through */
	pid_t pid;	       /* the caller (thread id), for inspection and deadlock checks */
	struct timespec since; /* CLOCK_REALTIME when it began to wait */
	int kind;	       /* what it waits for, in the type's own terms */
	uint64_t arg;	       /* the type's argument (units, bytes, a buffer...) */
	size_t size;	       /* bytes to report or to return */
	/* Cluster mode (store/cluster.h) only; the model never looks at these but to tell
	 * inspection where a caller is (host). host: the daemon
	 * the caller waits at (0 in the memory store); id: its request there; ghost: another
	 * daemon's caller mirrored in this replica (or this daemon's, whose caller is gone).
	 * clink: in its object's list of cluster waiters while queued (the object's lock). */
	uint64_t host;
	uint64_t id;
	bool ghost;
	struct list_head clink;
};

/*
 * struct model_waker - how the model hands back waiters it served or failed, given by the
 * caller of each operation. fn(w, rc, ctx): w is out of every queue; rc 0: its effect is
 * applied; else -errno, no effect. Called under the object's lock: record, do not answer.
 * changed is set by the model when the operation wrote the object's data (a V, a send): the
 * face moves mtime. Taking (P, receive) does not, as reading a file does not.
 */
struct model_waker {
	void (*fn)(struct waiter *w, int rc, void *ctx);
	void *ctx;
	bool changed;
};

/* model_wake - hand w to the waker (w already unlinked). */
static inline void model_wake(struct model_waker *wk, struct waiter *w, int rc)
{
	wk->fn(w, rc, wk->ctx);
}

/* model_wake_all - unlink and hand every waiter of queue to the waker with rc. */
static inline void model_wake_all(struct model_waker *wk, struct list_head *queue, int rc)
{
	while (!list_empty(queue)) {
		struct waiter *w = list_first_entry(queue, struct waiter, link);

		list_del(&w->link);
		model_wake(wk, w, rc);
	}
}

/*
 * struct model_budget - the memory an object's contents may take (-o max_memory), shared by
 * every object of a mount. Charges are atomic: no lock needed.
 */
struct model_budget {
	uint64_t used; /* bytes charged; atomic */
	uint64_t max;  /* immutable */
};

/* budget_charge - take bytes: 0, or -ENOSPC with nothing taken. budget_uncharge gives back. */
int budget_charge(struct model_budget *b, size_t bytes);
void budget_uncharge(struct model_budget *b, size_t bytes);
/* budget_charge_force - take bytes even past the budget: what another daemon of the cluster
 * made must be mirrored here all the same (cluster mode). */
void budget_charge_force(struct model_budget *b, size_t bytes);

/* What a new object starts from: the mount's defaults and its budget. */
struct model_params {
	struct model_budget *budget;
	uint32_t fifo_capacity; /* a new FIFO's capacity */
	uint32_t mq_msgsize;	/* a new queue's largest message */
	uint32_t mq_max_msgs;	/* a new queue's length */
	uint64_t shm_max_size;	/* the largest segment */
};

#endif /* IPCFS_MODEL_H */
