/* SPDX-License-Identifier: MIT */
/*
 * park.h - parked requests: operations that must wait keep their FUSE request in a wait queue
 * of the object and return their thread to the loop; whichever operation later makes them
 * satisfiable answers them.
 *
 * Life of a parked request:
 *
 *   park_new ──► park_arm ──► (a step on n begun) ──► the model queues p->w ──► park_queued
 *                                                                          ──► QUEUED
 *                  │  registers the interrupt callback first, so no interrupt is missed
 *                  ├─ interrupted already, or the object removed: park_arm answers
 *                  │  (EINTR, or the object's death errno) and the caller just returns
 *                  └─ satisfiable after all: the caller applies it and answers (park_answer)
 *
 *   QUEUED ──► claimed inside a step on n by exactly one of:
 *                 a waker (serve: the wait is satisfied, its effect applied),
 *                 the interrupt callback (EINTR, no effect; the type's cancel takes it
 *                   out and lets those behind it proceed, and pollers are woken:
 *                   readiness may depend on the queue, as a semaphore's does),
 *                 kill (rm: EIDRM; unmount: EIO)
 *          ──► CLAIMED: the claimer answers once its step is committed (park_after_init,
 *              park_finish), and frees the request. Nobody else touches it.
 *
 * Deferred interrupts: the kernel sends one INTERRUPT per request, for any signal with a
 * handler, and cannot restart the call afterwards (a daemon may not answer ERESTARTSYS). So
 * bash's SIGCHLD, which arrives whenever one of its background jobs ends, would make a
 * blocked `echo -1 > sem/s` fail with EINTR: exactly in the job-limiting loop this is for. The
 * interrupt callback therefore looks at the caller's pending signals (/proc): if they are
 * only ones ignored by default (SIGCHLD, SIGCONT, SIGURG, SIGWINCH), the request stays
 * queued, as SA_RESTART would keep a kernel wait, and joins fs->deferred. No second
 * INTERRUPT will come for it, so a watcher thread re-reads those callers' signals every
 * PARK_WATCH_MS and interrupts the request as soon as any other signal is pending (Ctrl-C,
 * kill, timeout's SIGTERM, a fatal signal's SIGKILL).
 *
 * Interrupt races (see FUSE-NOTES): the callback may run synchronously inside
 * fuse_req_interrupt_func, or concurrently with a waker on another thread. Both sides decide
 * under n->so, and the state says who answers. Before a claimer other than the callback
 * answers, it deregisters the callback (fuse_req_interrupt_func(req, NULL, NULL)); libfuse
 * runs callbacks under the request's own lock, so that call also waits for a callback still
 * running, after which the parked request can be freed safely. Hence the rule: never hold
 * n->so while answering or deregistering.
 */
#ifndef IPCFS_PARK_H
#define IPCFS_PARK_H

#include "ipcfs.h"

#include <time.h>

enum park_state {
	PARK_NEW,     /* armed, not yet in a queue */
	PARK_QUEUED,  /* in a wait queue of its node */
	PARK_CLAIMED, /* taken out by exactly one claimer, who answers it */
};

/* How often the watcher looks at the callers of deferred requests, in milliseconds: the
 * most a signal waits to end a call whose interrupt was deferred. */
#define PARK_WATCH_MS 10

struct parked {
	/* what the model sees of it: its queue link, caller, kind, argument (model.h). The link
	 * is in an object's wait queue while QUEUED, then in a claimer's done list; n->so */
	struct waiter w;
	struct list_head dlink;	  /* in fs->deferred; protected by fs->defer_lock */
	bool deferred;		  /* in fs->deferred; written under fs->defer_lock, atomically */
	uint32_t refs;		  /* atomic: its claimer's, and the watcher's while it holds it */
	fuse_req_t req;		  /* immutable */
	struct node *node;	  /* holds a node reference; immutable */
	struct handle *h;	  /* the handle it came through; immutable */
	enum park_state state;	  /* protected by n->so */
	bool interrupted;	  /* the interrupt came while PARK_NEW; protected by n->so */
	int rc;			  /* what to answer: 0 success or -errno; set by the claimer */
	struct fuse_file_info fi; /* opens: what to answer with */
	bool create;		  /* an open of a create (cluster mode): answer ns_reply_create */
	/* cluster mode: in fs->pend while submitted and not yet applied (fs->pend_lock); a
	 * cancel was submitted for it (n->so) */
	struct list_head plink;
	bool cancel_sent;
};

/* park_new - a parked request for req on h's node (h may be a fresh handle of an open).
 * Takes a node reference. Returns NULL when out of memory (nothing changed). */
struct parked *park_new(fuse_req_t req, struct handle *h, int kind, uint64_t arg);

/*
 * park_arm - register the interrupt callback, then take n->so. Returns true with n->so
 * held if the request may be queued. Returns false, with no lock held and p answered and
 * freed, if it was interrupted already (EINTR) or the object has been removed meanwhile
 * (n->dead_err).
 */
bool park_arm(struct parked *p);

/* park_queued - the model queued p->w (it answered MODEL_WOULD_BLOCK). inside a step on n. */
void park_queued(struct parked *p);

/* park_waker - the waker (model.h) to give the model: each waiter it hands back is a parked
 * request, claimed with its rc into done, to be answered by park_finish(done). */
struct model_waker park_waker(struct list_head *done);

/* park_after_init - an after for a step (store.h): once the step is committed, every request
 * claimed into a->done (by park_waker(&a->done) or park_claim) is answered
 * through park_finish, and the poll notifications collected into a->pw are sent. */
void park_after_init(struct store_after *a);

/* park_step - park_after_init(a), and the waker that claims into a->done: what a face gives
 * the model for one step. */
struct model_waker park_step(struct store_after *a);

/* park_kill_step - begin objtype.kill's step on n: n is dead (every later operation fails
 * with err), and the returned waker, given to the model's kill, claims its waiters into
 * a->done. End it with park_commit (or the type's commit). */
struct model_waker park_kill_step(struct node *n, int err, struct store_after *a);

/* park_commit - end a step on n that changed its state: its pollers must look again (they are
 * collected into a->pw), and the step is committed (store_commit), after which a's requests
 * are answered and the pollers notified. */
void park_commit(struct node *n, struct store_after *a);

/* park_settle - end park_arm's step once the model was asked to queue p->w and answered rc:
 * MODEL_WOULD_BLOCK, p waits in its queue (the step is committed); else the step is committed
 * (a holds what it served) and p is answered with rc. For a type whose queueing call serves
 * nobody when it answers MODEL_WOULD_BLOCK. */
void park_settle(struct parked *p, int rc, struct store_after *a);

/* park_claim - take p out of its queue (if it still is in one) to be answered with rc; append
 * it to done. The caller has applied p's effect (if rc == 0). inside a step on n. */
void park_claim(struct parked *p, int rc, struct list_head *done);

/* park_finish - answer and free every request of done, through its type's complete().
 * No lock held. */
void park_finish(struct list_head *done);

/* park_answer - answer p, armed but never queued, with rc (the caller applied its effect if
 * rc == 0) and free it. No lock held. */
void park_answer(struct parked *p, int rc);

/*
 * park_wait - the wait of kind(arg) for req through h (memory store; size: bytes to report,
 * in the waiter's size), decided by the model's try (inside a step on n; what it serves is
 * claimed into a->done through park_waker, pollers of other objects it changed go to a->pw):
 * asked first without queueing (a probe, which changes nothing unless the wait passes), then
 * answered at once through answer(req, n, w, rc) when it passes or fails (O_NONBLOCK: EAGAIN;
 * out of memory: ENOMEM), else parked as try's queued waiter, answered later by the type's
 * complete(). For a type whose queueing call serves nobody when it answers MODEL_WOULD_BLOCK
 * (park_settle).
 */
typedef int (*park_try_fn)(struct node *n, struct waiter *w, bool queue, struct store_after *a);
void park_wait(fuse_req_t req, struct handle *h, int kind, uint64_t arg, size_t size, int flags,
	       park_try_fn try,
	       void (*answer)(fuse_req_t req, struct node *n, const struct waiter *w, int rc));

/* park_start - start the watcher of deferred interrupts (after the daemon forked). Returns 0
 * or -errno. park_stop - stop it; every parked request has been answered. */
int park_start(struct ipcfs *fs);
void park_stop(struct ipcfs *fs);

#endif /* IPCFS_PARK_H */
