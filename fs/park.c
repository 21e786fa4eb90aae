/* SPDX-License-Identifier: MIT */
/*
 * park.c - parked requests and their interrupts. The protocol is described in park.h.
 */
#include "park.h"

#include <errno.h>
#include <stdlib.h>

static void park_free(struct parked *p)
{
	ns_unref(p->node);
	free(p);
}

struct parked *park_new(fuse_req_t req, struct handle *h, int kind, uint64_t arg)
{
	struct parked *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	list_init(&p->link);
	p->req = req;
	p->node = h->node;
	p->h = h;
	p->state = PARK_NEW;
	p->pid = fuse_req_ctx(req)->pid;
	p->kind = kind;
	p->arg = arg;
	clock_gettime(CLOCK_REALTIME, &p->since);
	ns_ref(p->node);
	return p;
}

/*
 * The kernel asks to interrupt p->req. Runs on a loop thread, under libfuse's lock of that
 * request, possibly inside park_arm's registration (then p is still PARK_NEW).
 */
static void park_interrupt(fuse_req_t req, void *data)
{
	struct parked *p = data;
	struct node *n = p->node;
	LIST_HEAD_DECL(done);
	LIST_HEAD_DECL(pw);

	(void)req;
	ipc_mutex_lock(&n->lock);
	switch (p->state) {
	case PARK_NEW:
		p->interrupted = true; /* park_arm's caller answers EINTR */
		ipc_mutex_unlock(&n->lock);
		return;
	case PARK_CLAIMED:
		ipc_mutex_unlock(&n->lock); /* its claimer answers it */
		return;
	case PARK_QUEUED:
		break;
	}
	list_del(&p->link);
	p->state = PARK_CLAIMED;
	p->rc = -EINTR;
	/* p may have been the head of its queue: those behind it may proceed now. Readiness may
	 * have changed too, even if nobody proceeds (a semaphore's units that a P(5) at the
	 * head kept from readers are readable once it leaves): pollers must look again. */
	n->type->requeue(n, &done);
	poll_collect(n, &pw);
	ipc_mutex_unlock(&n->lock);

	/* We run under this request's lock: answer it without deregistering (libfuse clears the
	 * callback when the reply frees the request). */
	n->type->complete(p);
	park_free(p);
	park_finish(&done);
	poll_notify(&pw);
}

bool park_arm(struct parked *p)
{
	fuse_req_interrupt_func(p->req, park_interrupt, p);
	ipc_mutex_lock(&p->node->lock);
	return !p->interrupted;
}

void park_enqueue(struct parked *p, struct list_head *queue)
{
	p->state = PARK_QUEUED;
	list_add_tail(&p->link, queue);
}

void park_claim(struct parked *p, int rc, struct list_head *done)
{
	list_del(&p->link);
	p->state = PARK_CLAIMED;
	p->rc = rc;
	list_add_tail(&p->link, done);
}

void park_kill_queue(struct list_head *queue, int rc, struct list_head *done)
{
	while (!list_empty(queue))
		park_claim(list_first_entry(queue, struct parked, link), rc, done);
}

void park_finish(struct list_head *done)
{
	struct parked *p, *tmp;

	list_for_each_entry_safe(p, tmp, done, link)
	{
		list_del(&p->link);
		/* waits for an interrupt callback still running on p, and stops later ones */
		fuse_req_interrupt_func(p->req, NULL, NULL);
		p->node->type->complete(p);
		park_free(p);
	}
}

void park_answer(struct parked *p, int rc)
{
	fuse_req_interrupt_func(p->req, NULL, NULL);
	p->rc = rc;
	p->state = PARK_CLAIMED;
	p->node->type->complete(p);
	park_free(p);
}
