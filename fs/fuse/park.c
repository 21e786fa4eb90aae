/* SPDX-License-Identifier: MIT */
/*
 * park.c - parked requests and their interrupts. The protocol is described in park.h.
 */
#include "park.h"
#include "replica.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>

/* Drop a reference to p; the last frees it. */
static void park_put(struct parked *p)
{
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		ns_unref(p->node);
		free(p);
	}
}

/* p is being claimed or answered: it no longer waits for a signal. */
static void undefer(struct parked *p)
{
	struct ipcfs *fs = p->node->fs;

	/* Most requests never were deferred: no lock for them. A deferral happens under
	 * n->so, which every claimer holds or (park_answer) waited for through libfuse's
	 * request lock, so a request deferred before its claim is seen so here. */
	if (!__atomic_load_n(&p->deferred, __ATOMIC_ACQUIRE))
		return;
	ipc_mutex_lock(&fs->defer_lock);
	if (p->deferred) {
		list_del(&p->dlink);
		__atomic_store_n(&p->deferred, false, __ATOMIC_RELEASE);
	}
	ipc_mutex_unlock(&fs->defer_lock);
}

struct parked *park_new(fuse_req_t req, struct handle *h, int kind, uint64_t arg)
{
	struct parked *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	list_init(&p->w.link);
	list_init(&p->w.clink);
	list_init(&p->plink);
	p->w.op = &h->mo;
	list_init(&p->dlink);
	p->refs = 1;
	p->req = req;
	p->node = h->node;
	p->h = h;
	p->state = PARK_NEW;
	p->w.pid = fuse_req_ctx(req)->pid;
	p->w.kind = kind;
	p->w.arg = arg;
	clock_gettime(CLOCK_REALTIME, &p->w.since);
	ns_ref(p->node);
	return p;
}

/*
 * What an interrupt does to p, under n->so. A queued p is taken out with EINTR, those behind
 * it may proceed (into a->done) and pollers must look again (into a->pw): returns true, and the
 * caller answers p. A p not queued yet is marked, and park_arm's caller answers EINTR; a p
 * claimed already is its claimer's to answer: false.
 */
static bool park_claim_interrupted(struct parked *p, struct store_after *a)
{
	struct node *n = p->node;

	if (p->w.id && p->state != PARK_CLAIMED) {
		/* submitted to a cluster's log (replica.h): the log decides whether the wait was
		 * served or cancelled, on every daemon alike; its CANCEL answers EINTR */
		replica_cancel(p);
		return false;
	}
	switch (p->state) {
	case PARK_NEW:
		p->interrupted = true;
		return false;
	case PARK_CLAIMED:
		return false;
	case PARK_QUEUED:
		break;
	}
	p->state = PARK_CLAIMED;
	p->rc = -EINTR;
	/* p may have been the head of its queue: those behind it may proceed now. Readiness may
	 * have changed too, even if nobody proceeds (a semaphore's units that a P(5) at the
	 * head kept from readers are readable once it leaves): pollers must look again. */
	n->type->cancel(n, &p->w, a);
	poll_collect(n, &a->pw);
	return true;
}

/* The watcher found a signal for deferred p (it holds a reference): interrupt it now, unless
 * somebody claimed it meanwhile. */
static void park_interrupt_now(struct parked *p)
{
	struct node *n = p->node;
	struct store_after after;

	park_after_init(&after);
	store_begin(&n->so);
	if (park_claim_interrupted(p, &after))
		list_add_tail(&p->w.link, &after.done); /* answered like any claimed request */
	store_commit(&n->so, &after);
}

/*
 * The kernel asks to interrupt p->req. Runs on a loop thread, under libfuse's lock of that
 * request, possibly inside park_arm's registration (then p is still PARK_NEW).
 */
static void park_interrupt(fuse_req_t req, void *data)
{
	struct parked *p = data;
	struct node *n = p->node;
	struct ipcfs *fs = n->fs;
	bool ends = proc_signal_ends_wait(p->w.pid);
	struct store_after after;

	(void)req;
	park_after_init(&after);
	store_begin(&n->so);
	if (!ends && p->state != PARK_CLAIMED) {
		/* a SIGCHLD or the like: wait on, watched (see park.h) */
		ipc_mutex_lock(&fs->defer_lock);
		if (!p->deferred) {
			list_add_tail(&p->dlink, &fs->deferred);
			__atomic_store_n(&p->deferred, true, __ATOMIC_RELEASE);
			ipc_cond_notify(&fs->defer_cond, 1);
		}
		ipc_mutex_unlock(&fs->defer_lock);
		store_end(&n->so);
		return;
	}
	if (!park_claim_interrupted(p, &after)) {
		store_end(&n->so);
		return;
	}
	store_commit(&n->so, &after); /* answers those the cancel let proceed */

	/* We run under this request's lock: answer it without deregistering (libfuse clears the
	 * callback when the reply frees the request). */
	undefer(p);
	n->type->complete(p);
	park_put(p);
}

/*
 * The watcher: end the deferred requests whose callers got a signal that must end them. It
 * reads /proc without defer_lock (claimers take it), holding a reference to each request it
 * looks at, then takes out under the lock those still deferred that must end.
 */
static void *park_watch(void *arg)
{
	struct ipcfs *fs = arg;
	struct parked **seen = NULL;
	size_t cap = 0;

	ipc_mutex_lock(&fs->defer_lock);
	while (!fs->watcher_stop) {
		struct timespec deadline;
		struct parked *p;
		size_t n = 0;
		LIST_HEAD_DECL(fire);

		if (list_empty(&fs->deferred)) {
			ipc_cond_wait(&fs->defer_cond, &fs->defer_lock);
			continue;
		}
		list_for_each_entry(p, &fs->deferred, dlink) n++;
		if (n > cap) {
			struct parked **bigger = realloc(seen, n * sizeof(*seen));

			if (bigger) {
				seen = bigger;
				cap = n;
			}
		}
		n = 0;
		list_for_each_entry(p, &fs->deferred, dlink)
		{
			if (n == cap)
				break; /* out of memory: the rest at the next round */
			__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
			seen[n++] = p;
		}
		ipc_mutex_unlock(&fs->defer_lock);

		/* those whose callers must go on waiting: keep them, drop our reference */
		for (size_t i = 0; i < n; i++)
			if (!proc_signal_ends_wait(seen[i]->w.pid)) {
				park_put(seen[i]);
				seen[i] = NULL;
			}
		ipc_mutex_lock(&fs->defer_lock);
		for (size_t i = 0; i < n; i++) {
			p = seen[i];
			if (!p)
				continue;
			if (p->deferred) {
				list_del(&p->dlink);
				__atomic_store_n(&p->deferred, false, __ATOMIC_RELEASE);
				list_add_tail(&p->dlink, &fire); /* with our reference */
				seen[i] = NULL;
			}
		}
		ipc_mutex_unlock(&fs->defer_lock);
		for (size_t i = 0; i < n; i++)
			if (seen[i])
				park_put(seen[i]); /* claimed meanwhile: its claimer answers it */
		while (!list_empty(&fire)) {
			p = list_first_entry(&fire, struct parked, dlink);
			list_del(&p->dlink);
			park_interrupt_now(p);
			park_put(p);
		}
		deadline = ipc_deadline_in(PARK_WATCH_MS * 1000000LL);
		ipc_mutex_lock(&fs->defer_lock);
		if (!fs->watcher_stop)
			ipc_cond_timedwait(&fs->defer_cond, &fs->defer_lock, &deadline);
	}
	ipc_mutex_unlock(&fs->defer_lock);
	free(seen);
	return NULL;
}

int park_start(struct ipcfs *fs)
{
	int rc = pthread_create(&fs->watcher, NULL, park_watch, fs);

	fs->watcher_running = rc == 0;
	return -rc;
}

void park_stop(struct ipcfs *fs)
{
	if (!fs->watcher_running)
		return;
	ipc_mutex_lock(&fs->defer_lock);
	fs->watcher_stop = true;
	ipc_cond_notify(&fs->defer_cond, INT32_MAX);
	ipc_mutex_unlock(&fs->defer_lock);
	pthread_join(fs->watcher, NULL);
	fs->watcher_running = false;
}

bool park_arm(struct parked *p)
{
	struct node *n = p->node;
	int rc;

	fuse_req_interrupt_func(p->req, park_interrupt, p);
	store_begin(&n->so);
	if (p->interrupted)
		rc = -EINTR;
	else if (n->dead)
		rc = -n->dead_err; /* removed while the caller was allocating */
	else
		return true;
	store_end(&n->so);
	park_answer(p, rc);
	return false;
}

void park_queued(struct parked *p)
{
	p->state = PARK_QUEUED;
}

static void park_wake(struct waiter *w, int rc, void *done)
{
	if (w->host && replica_unqueued(w, rc))
		return; /* a ghost: another daemon answers its caller */
	park_claim(container_of(w, struct parked, w), rc, done);
}

/* The after of a step (store.h): answer what the step claimed, then wake pollers. A step the
 * store could not commit had no effect: its claimed requests get the store's error, and each
 * type's complete() frees what a served waiter was handed (a message, bytes) instead of
 * answering with it; the store itself restores the state. */
static void park_after(struct store_after *a, int rc)
{
	if (rc < 0) {
		struct parked *p;

		list_for_each_entry(p, &a->done, w.link) p->rc = rc;
	}
	park_finish(&a->done);
	poll_notify(&a->pw);
}

void park_after_init(struct store_after *a)
{
	store_after_init(a, park_after);
}

void park_commit(struct node *n, struct store_after *a)
{
	poll_collect(n, &a->pw);
	store_commit(&n->so, a);
}

void park_settle(struct parked *p, int rc, struct store_after *a)
{
	if (rc == MODEL_WOULD_BLOCK) {
		/* nothing was served, and readiness did not rise: no poller to wake */
		park_queued(p);
		store_commit(&p->node->so, NULL); /* its place in the queue */
		return;
	}
	park_commit(p->node, a);
	park_answer(p, rc);
}

struct model_waker park_step(struct store_after *a)
{
	park_after_init(a);
	return park_waker(&a->done);
}

struct model_waker park_kill_step(struct node *n, int err, struct store_after *a)
{
	store_begin(&n->so);
	n->dead = true;
	n->dead_err = err;
	return park_step(a);
}

struct model_waker park_waker(struct list_head *done)
{
	return (struct model_waker){ .fn = park_wake, .ctx = done };
}

void park_claim(struct parked *p, int rc, struct list_head *done)
{
	undefer(p);
	list_del(&p->w.link);
	p->state = PARK_CLAIMED;
	p->rc = rc;
	list_add_tail(&p->w.link, done);
}

void park_finish(struct list_head *done)
{
	struct parked *p, *tmp;

	list_for_each_entry_safe(p, tmp, done, w.link)
	{
		list_del(&p->w.link);
		/* waits for an interrupt callback still running on p, and stops later ones */
		fuse_req_interrupt_func(p->req, NULL, NULL);
		p->node->type->complete(p);
		park_put(p);
	}
}

void park_answer(struct parked *p, int rc)
{
	fuse_req_interrupt_func(p->req, NULL, NULL);
	undefer(p);
	p->rc = rc;
	store_begin(&p->node->so); /* the watcher may still look at it */
	p->state = PARK_CLAIMED;
	store_end(&p->node->so);
	p->node->type->complete(p);
	park_put(p);
}

void park_wait(fuse_req_t req, struct handle *h, int kind, uint64_t arg, size_t size, int flags,
	       park_try_fn try,
	       void (*answer)(fuse_req_t req, struct node *n, const struct waiter *w, int rc))
{
	struct node *n = h->node;
	struct waiter probe = {
		.op = &h->mo, .pid = fuse_req_ctx(req)->pid, .kind = kind, .arg = arg, .size = size
	};
	struct store_after after;
	struct parked *p;
	int rc;

	park_after_init(&after);
	store_begin(&n->so);
	if (n->dead)
		rc = -n->dead_err;
	else if ((rc = try(n, &probe, false, &after)) == MODEL_WOULD_BLOCK && (flags & O_NONBLOCK))
		rc = -EAGAIN;
	if (rc != MODEL_WOULD_BLOCK) {
		park_commit(n, &after);
		answer(req, n, &probe, rc);
		return;
	}
	store_end(&n->so);

	/* It must wait: allocate outside the lock, then ask again under it, queueing. */
	p = park_new(req, h, kind, arg);
	if (!p) {
		answer(req, n, &probe, -ENOMEM);
		return;
	}
	p->w.size = size;
	if (park_arm(p))
		park_settle(p, try(n, &p->w, true, &after), &after);
}
