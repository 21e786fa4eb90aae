/* SPDX-License-Identifier: MIT */
/*
 * modelutil.h - helpers shared by the unit tests of the object model (test_model_*.c): a
 * waker that records whom the model hands back, and waiters made on the stack.
 */
#ifndef IPC_MODELUTIL_H
#define IPC_MODELUTIL_H

#include "model/model.h"

#include <string.h>

#define WOKEN_MAX 64

/* What a waker was handed, in order. */
struct woken {
	unsigned n;
	struct waiter *w[WOKEN_MAX];
	int rc[WOKEN_MAX];
};

static inline void woken_record(struct waiter *w, int rc, void *ctx)
{
	struct woken *r = ctx;

	/* the model hands back waiters it took out of its queues: the link is self-linked */
	assert_true(list_empty(&w->link));
	assert_true(r->n < WOKEN_MAX);
	r->w[r->n] = w;
	r->rc[r->n] = rc;
	r->n++;
}

/* A waker recording into r (emptied). */
static inline struct model_waker waker_of(struct woken *r)
{
	memset(r, 0, sizeof(*r));
	return (struct model_waker){ .fn = woken_record, .ctx = r };
}

/* A waiter of pid asking kind with arg, not queued anywhere. */
static inline void waiter_make(struct waiter *w, struct model_open *op, pid_t pid, int kind,
			       uint64_t arg)
{
	memset(w, 0, sizeof(*w));
	list_init(&w->link);
	w->op = op;
	w->pid = pid;
	w->kind = kind;
	w->arg = arg;
	clock_gettime(CLOCK_REALTIME, &w->since);
}

#endif /* IPC_MODELUTIL_H */
