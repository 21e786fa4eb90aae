/* SPDX-License-Identifier: MIT */
/*
 * mq.h - the message queue's state machine: messages with boundaries and priorities, sends
 * that wait while the queue is full, receives that wait while it is empty, and the message an
 * open is in the middle of reading.
 *
 * Every function is called with the object's lock held (store.h) and never blocks, unless it
 * says it needs no lock; those that take a waker hand it the waiters they serve (model.h).
 *
 * Who owns a message:
 * - mmq_msg_new makes it (charged to the budget); until a send is applied it is the caller's
 *   (the send's waiter carries it in arg), who frees it with mmq_msg_free if the send fails.
 * - Once sent, it is the queue's, then the open that is reading it (per-open state).
 * - A receive that is served is handed what to return (waiter.kind MMQ_GOT_*): the caller
 *   answers with mmq_got_data()/waiter.size, then frees it with mmq_got_free, or, if the
 *   answer cannot be delivered, gives it back with mmq_putback.
 */
#ifndef IPCFS_MODEL_MQ_H
#define IPCFS_MODEL_MQ_H

#include "defaults.h"
#include "model.h"

struct snapshot;
struct snap_obj;

/* One message. Allocated at its own size and charged (mmq_msg_charge) to the budget. */
struct mmq_msg {
	struct mmq_msg *next; /* in its priority's circular list (the tail points at the head) */
	uint32_t len;	      /* bytes of data, >= 1; immutable */
	uint32_t prio;	      /* 0..MQ_PRIOS-1; immutable */
	char data[];
};

struct mmq {
	uint32_t max_msgs;	     /* full at this many messages (user.max_msgs) */
	uint32_t msgsize;	     /* largest message (user.msgsize); atomic: read unlocked */
	uint32_t count;		     /* messages queued */
	uint32_t nonempty;	     /* bit p: tail[p] is not empty */
	uint64_t bytes;		     /* bytes queued */
	uint32_t per_prio[MQ_PRIOS]; /* messages queued at each priority */
	/* each priority's messages, FIFO, as a circular singly-linked list known by its tail
	 * (one pointer a priority keeps an empty queue small: see docs/benchmarks.md) */
	struct mmq_msg *tail[MQ_PRIOS];
	struct list_head readq;	     /* waiting receives, FIFO; struct waiter, MMQ_RECV */
	struct list_head writeq;     /* waiting sends, FIFO; struct waiter, MMQ_SEND */
	struct model_budget *budget; /* what messages are charged to; immutable */
	int dead;		     /* 0, or the errno of mmq_kill: every operation fails */
};

/* What a waiter is (waiter.kind), with its arg and size. */
enum mmq_kind {
	MMQ_RECV,     /* a receive: arg = the most bytes it returns */
	MMQ_SEND,     /* a send: arg = its struct mmq_msg * until applied, then 0; size is the
		       * caller's (bytes to report) */
	MMQ_GOT_MSG,  /* a receive served: arg = a struct mmq_msg * it now owns; return its last
		       * size bytes (the whole message, or the rest of one begun earlier) */
	MMQ_GOT_PART, /* a receive served: arg = a malloc'd copy of the size bytes to return;
		       * the open keeps reading the rest of that message */
	MMQ_GOT_END,  /* a receive served with 0 bytes: the end of the message just read */
};

/* Per-open state (model_open.state[]): the message being read and how far. */
#define MMQ_MSG 0	   /* state[0]: struct mmq_msg * the open is reading, or 0 */
#define MMQ_OFF 1	   /* state[1]: bytes of it returned; MMQ_EOM with no message */
#define MMQ_EOM UINT64_MAX /* the whole message was returned: the next read returns 0 */

/* The limits, as the xattrs user.msgsize and user.max_msgs. */
enum mmq_limit {
	MMQ_MSGSIZE,
	MMQ_MAX_MSGS,
};

/* mmq_init - an empty queue with the limits of p, charging to p->budget. mmq_fini - free its
 * messages; nobody waits and no open reads one any more. */
void mmq_init(struct mmq *q, const struct model_params *p);
void mmq_fini(struct mmq *q);

/* mmq_open_init - an open's state before its first read (reading nothing). */
void mmq_open_init(struct model_open *op);

/*
 * mmq_msg_new - a message of size bytes of buf, at op's send priority (the q@P alias it was
 * opened through), charged to the budget (sizeof(struct mmq_msg) + size), into *out. No lock
 * needed. Returns 0, -EMSGSIZE (over user.msgsize), -EINVAL (size 0: an empty write sends
 * nothing, or no such priority), -ENOMEM or -ENOSPC (the budget is spent); nothing is
 * allocated or charged on error.
 */
int mmq_msg_new(struct mmq *q, const struct model_open *op, const void *buf, size_t size,
		struct mmq_msg **out);

/* mmq_msg_make - the same at priority prio, with no check of user.msgsize (mmq_send makes
 * it), and with force charged even past the budget (cluster mode: a message every replica
 * must hold). -EINVAL, -ENOMEM, -ENOSPC; nothing allocated or charged on error. */
int mmq_msg_make(struct mmq *q, unsigned prio, const void *buf, size_t size, bool force,
		 struct mmq_msg **out);

/*
 * Checkpoints (cluster mode: a replica's state written to the log as operations that rebuild
 * it, see store/cluster.h). mmq_for_each - fn(m, ctx) for every queued message in the order
 * receives take them, stopping at the first nonzero answer, which it returns (0: all seen).
 * mmq_restore - append m (made with mmq_msg_make) at the end of its priority's messages,
 * past user.max_msgs if need be, waking nobody: a checkpoint's messages, in mmq_for_each's
 * order, rebuild the queue (its waiters come after). mmq_open_restore - op reads m (NULL:
 * none) with off of its bytes returned (MMQ_EOM: all, none left), as it did at the checkpoint.
 */
int mmq_for_each(const struct mmq *q, int (*fn)(const struct mmq_msg *m, void *ctx), void *ctx);
void mmq_restore(struct mmq *q, struct mmq_msg *m);
void mmq_open_restore(struct model_open *op, struct mmq_msg *m, uint64_t off);

/* mmq_msg_free - give m (NULL: nothing) back to the budget and free it. No lock needed. */
void mmq_msg_free(struct mmq *q, struct mmq_msg *m);

/*
 * mmq_send - w (MMQ_SEND, arg = its message, op, pid set) sends now. MODEL_DONE: the message
 * is queued (w->arg is 0: the queue owns it), and a waiting receiver may have been handed it
 * (wk). MODEL_WOULD_BLOCK: the queue is full, or others wait to send first; with queue true w
 * waits last in writeq, carrying its message, else nothing changed. -EMSGSIZE (the limit
 * shrank since mmq_msg_new) or the queue's death errno: nothing changed. In every case but
 * MODEL_DONE the message is still w's. A waiter served later gets rc 0 with w->arg 0; one
 * failed (kill) gets -errno and keeps its message.
 */
int mmq_send(struct mmq *q, struct waiter *w, bool queue, struct model_waker *wk);

/*
 * mmq_receive - w (MMQ_RECV, arg = bytes asked, op, pid set) receives now. MODEL_DONE: w is
 * served (kind MMQ_GOT_*, arg, size: see enum mmq_kind) and what it returns is taken; waiting
 * sends may have gone in (wk). MODEL_WOULD_BLOCK: there is nothing to return, or others wait
 * to receive first; with queue true w waits last in readq, else nothing changed. -ENOMEM (a
 * copy of part of a message) or the queue's death errno: nothing changed. A message is taken
 * only by a receive that returns its bytes: a waiting receive takes nothing until it is
 * served (rc 0, w as for MODEL_DONE).
 */
int mmq_receive(struct mmq *q, struct waiter *w, bool queue, struct model_waker *wk);

/* mmq_got_data - the bytes a served receive w returns (w->size of them; NULL if none). */
const char *mmq_got_data(const struct waiter *w);

/* mmq_got_free - w's answer was delivered: free what it was handed. No lock needed. */
void mmq_got_free(struct mmq *q, struct waiter *w);

/*
 * mmq_putback - w was served but its answer could not be delivered (the caller is gone): take
 * back what it was handed, as if it had never been received. A whole message goes back first
 * in line for its priority (the queue may be over max_msgs until receives drain it; a waiting
 * receive may be handed it now, wk); a message begun earlier goes back to the open, and the
 * bytes of one read in part are unread again, if that open has not read on meanwhile (else
 * they are dropped, as are all of them once the queue is dead). w is handed nothing after.
 */
void mmq_putback(struct mmq *q, struct waiter *w, struct model_waker *wk);

/* mmq_cancel - w leaves its queue without effect (interrupted): a receive took nothing, a
 * send's message is still w's (w->arg). Serves whoever can proceed now. */
void mmq_cancel(struct mmq *q, struct waiter *w, struct model_waker *wk);

/* mmq_kill - the queue is going away: every waiter gets -err (senders keep their messages),
 * and every later send and receive fails with -err. */
void mmq_kill(struct mmq *q, int err, struct model_waker *wk);

/* mmq_close - op closes: the unread rest of its message is dropped. Returns that message for
 * the caller to mmq_msg_free after unlocking (NULL: none). */
struct mmq_msg *mmq_close(struct mmq *q, struct model_open *op);

/* mmq_readable - would a receive through op return at once? mmq_writable - a send? */
bool mmq_readable(const struct mmq *q, const struct model_open *op);
bool mmq_writable(const struct mmq *q);

/* mmq_stat - st_size (messages queued) and st_blocks (512-byte units of their bytes). */
void mmq_stat(const struct mmq *q, uint64_t *size, uint64_t *blocks);

/* mmq_get_limit - a limit's value. mmq_set_limit - set it: 1..IPCFS_MAX_MQ_MSGSIZE or
 * IPCFS_MAX_MQ_MAX_MSGS, else -EINVAL (nothing changed). New limits apply to later sends;
 * queued messages stay. A longer queue serves waiting sends. */
uint64_t mmq_get_limit(const struct mmq *q, enum mmq_limit l);
int mmq_set_limit(struct mmq *q, enum mmq_limit l, uint64_t value, struct model_waker *wk);

/* mmq_inspect - counts, limits, messages per priority and waiters (in service order) into o. */
void mmq_inspect(const struct mmq *q, struct snapshot *snap, struct snap_obj *o);

#endif /* IPCFS_MODEL_MQ_H */
