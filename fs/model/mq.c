/* SPDX-License-Identifier: MIT */
/*
 * mq.c - the message queue's state machine (mq.h).
 *
 * Implementation notes:
 * - One send is one message. Messages are kept whole in per-priority FIFO lists; a bitmap of
 *   non-empty priorities finds the highest in one instruction. Each message is allocated at
 *   its own size and charged against the budget, so an idle queue costs nothing.
 * - An open receives one message at a time. Its first receive takes the next message and
 *   returns what fits; later receives return the rest; then one returns 0 (the end of that
 *   message), and the one after that takes the next message. The message being read belongs
 *   to the open (model_open.state), so it leaves the queue only with a receive that returns
 *   its bytes: a receive still waiting (or cancelled) has taken nothing.
 * - What a served receive returns is handed to its waiter, to be answered after the lock is
 *   dropped: a read that finishes its message is handed the message itself (no copy: the
 *   common case, a read as large as the message); one that ends inside it gets a copy of its
 *   bytes, and the open keeps the message. So a receive whose answer cannot be delivered can
 *   be undone (mmq_putback) without allocating anything.
 * - Sends wait while the queue is full, carrying their message, and are served in order;
 *   receives wait while there is nothing to return and are served in order; a send hands its
 *   message straight to a waiting receive (serve runs after every change). The only allocation
 *   under the lock is the copy of a partial read; if it fails, the receive waits on and the
 *   next change retries.
 *
 * Locking: the object's lock (store.h) protects struct mmq, its messages, the waiters in its
 * queues and the per-open state of its opens. msgsize is also read without it (atomically),
 * to refuse an oversized message before copying it; budget is immutable.
 */
#include "model/mq.h"

#include "inspect/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t msg_charge(const struct mmq_msg *m)
{
	return sizeof(*m) + m->len;
}

static struct mmq_msg *msg_of(uint64_t v)
{
	return (struct mmq_msg *)(uintptr_t)v;
}

void mmq_init(struct mmq *q, const struct model_params *p)
{
	memset(q, 0, sizeof(*q));
	q->max_msgs = p->mq_max_msgs;
	q->msgsize = p->mq_msgsize;
	q->budget = p->budget;
	list_init(&q->readq);
	list_init(&q->writeq);
}

void mmq_open_init(struct model_open *op)
{
	op->state[MMQ_MSG] = 0;
	op->state[MMQ_OFF] = 0;
}

int mmq_msg_new(struct mmq *q, const struct model_open *op, const void *buf, size_t size,
		struct mmq_msg **out)
{
	if (size > __atomic_load_n(&q->msgsize, __ATOMIC_RELAXED))
		return size ? -EMSGSIZE : -EINVAL;
	return mmq_msg_make(q, op->prio, buf, size, false, out);
}

int mmq_msg_make(struct mmq *q, unsigned prio, const void *buf, size_t size, bool force,
		 struct mmq_msg **out)
{
	struct mmq_msg *m;

	if (size == 0 || prio >= MQ_PRIOS || size > IPCFS_MAX_MQ_MSGSIZE)
		return -EINVAL;
	m = malloc(sizeof(*m) + size);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = (uint32_t)size;
	m->prio = prio;
	memcpy(m->data, buf, size);
	if (force) {
		budget_charge_force(q->budget, msg_charge(m));
	} else if (budget_charge(q->budget, msg_charge(m)) != 0) {
		free(m);
		return -ENOSPC;
	}
	*out = m;
	return 0;
}

void mmq_msg_free(struct mmq *q, struct mmq_msg *m)
{
	if (!m)
		return;
	budget_uncharge(q->budget, msg_charge(m));
	free(m);
}

static void account(struct mmq *q, const struct mmq_msg *m)
{
	q->nonempty |= 1u << m->prio;
	q->per_prio[m->prio]++;
	q->count++;
	q->bytes += m->len;
}

/* Append m to its priority's list. */
static void enqueue(struct mmq *q, struct mmq_msg *m)
{
	struct mmq_msg **tail = &q->tail[m->prio];

	m->next = *tail ? (*tail)->next : m;
	if (*tail)
		(*tail)->next = m;
	*tail = m;
	account(q, m);
}

/* Put m first in its priority's list (a message given back). */
static void enqueue_first(struct mmq *q, struct mmq_msg *m)
{
	struct mmq_msg **tail = &q->tail[m->prio];

	if (*tail) {
		m->next = (*tail)->next;
		(*tail)->next = m;
	} else {
		m->next = m;
		*tail = m;
	}
	account(q, m);
}

/* The next message to receive: the oldest of the highest priority, or NULL. */
static struct mmq_msg *first(const struct mmq *q)
{
	if (!q->nonempty)
		return NULL;
	return q->tail[31 - __builtin_clz(q->nonempty)]->next;
}

/* Take the message first() returns out of the queue (there is one). */
static struct mmq_msg *dequeue(struct mmq *q)
{
	int p = 31 - __builtin_clz(q->nonempty);
	struct mmq_msg *m = q->tail[p]->next;

	if (m == q->tail[p]) {
		q->tail[p] = NULL;
		q->nonempty &= ~(1u << p);
	} else {
		q->tail[p]->next = m->next;
	}
	m->next = NULL;
	q->per_prio[p]--;
	q->count--;
	q->bytes -= m->len;
	return m;
}

int mmq_for_each(const struct mmq *q, int (*fn)(const struct mmq_msg *m, void *ctx), void *ctx)
{
	for (int p = MQ_PRIOS - 1; p >= 0; p--) {
		const struct mmq_msg *m = q->tail[p];

		if (!m)
			continue;
		do {
			int rc;

			m = m->next; /* the head first: the tail points at it */
			if ((rc = fn(m, ctx)) != 0)
				return rc;
		} while (m != q->tail[p]);
	}
	return 0;
}

void mmq_restore(struct mmq *q, struct mmq_msg *m)
{
	enqueue(q, m);
}

void mmq_open_restore(struct model_open *op, struct mmq_msg *m, uint64_t off)
{
	op->state[MMQ_MSG] = (uintptr_t)m;
	op->state[MMQ_OFF] = off;
}

void mmq_fini(struct mmq *q)
{
	while (q->nonempty)
		mmq_msg_free(q, dequeue(q));
}

/*
 * Hand receive w up to w->arg bytes of its open's message, taking the next one from the queue
 * if the open reads none; sets w's kind, arg and size (mq.h). Returns 0, -EAGAIN (nothing to
 * return) or -ENOMEM; nothing changed on error.
 */
static int deliver(struct mmq *q, struct waiter *w)
{
	struct model_open *op = w->op;
	struct mmq_msg *m = msg_of(op->state[MMQ_MSG]);
	bool fresh = false;
	uint64_t off = 0;
	size_t k;

	if (!m && op->state[MMQ_OFF] == MMQ_EOM) {
		op->state[MMQ_OFF] = 0;
		w->kind = MMQ_GOT_END;
		w->arg = 0;
		w->size = 0;
		return 0;
	}
	if (m) {
		off = op->state[MMQ_OFF];
	} else {
		m = first(q);
		if (!m)
			return -EAGAIN;
		fresh = true;
	}
	k = m->len - off < w->arg ? m->len - off : w->arg;
	if (off + k < m->len) {
		/* ends inside the message: the open keeps it, the waiter gets a copy */
		char *copy = malloc(k ? k : 1);

		if (!copy)
			return -ENOMEM;
		memcpy(copy, m->data + off, k);
		if (fresh)
			op->state[MMQ_MSG] = (uintptr_t)dequeue(q);
		op->state[MMQ_OFF] = off + k;
		w->kind = MMQ_GOT_PART;
		w->arg = (uintptr_t)copy;
	} else {
		/* finishes it: the waiter gets the message itself */
		if (fresh)
			dequeue(q);
		op->state[MMQ_MSG] = 0;
		op->state[MMQ_OFF] = MMQ_EOM;
		w->kind = MMQ_GOT_MSG;
		w->arg = (uintptr_t)m;
	}
	w->size = k;
	return 0;
}

/* Serve waiting sends while there is room, then waiting receives while there are messages,
 * until neither moves: a receive that frees a slot lets the next send in. */
static void serve(struct mmq *q, struct model_waker *wk)
{
	bool moved = true;

	while (moved) {
		moved = false;
		while (!list_empty(&q->writeq) && q->count < q->max_msgs) {
			struct waiter *w = list_first_entry(&q->writeq, struct waiter, link);

			list_del(&w->link);
			enqueue(q, msg_of(w->arg));
			w->arg = 0; /* the queue owns it now */
			wk->changed = true;
			model_wake(wk, w, 0);
		}
		while (!list_empty(&q->readq) && q->count > 0) {
			struct waiter *w = list_first_entry(&q->readq, struct waiter, link);

			if (deliver(q, w) != 0)
				return; /* out of memory: it waits on; the next change retries */
			list_del(&w->link);
			model_wake(wk, w, 0);
			moved = true;
		}
	}
}

int mmq_send(struct mmq *q, struct waiter *w, bool queue, struct model_waker *wk)
{
	struct mmq_msg *m = msg_of(w->arg);

	if (q->dead)
		return -q->dead;
	if (m->len > q->msgsize)
		return -EMSGSIZE;
	if (!list_empty(&q->writeq) || q->count >= q->max_msgs) {
		if (queue)
			list_add_tail(&w->link, &q->writeq);
		return MODEL_WOULD_BLOCK;
	}
	enqueue(q, m);
	w->arg = 0;
	wk->changed = true;
	serve(q, wk); /* a waiting receive takes it straight away */
	return MODEL_DONE;
}

int mmq_receive(struct mmq *q, struct waiter *w, bool queue, struct model_waker *wk)
{
	const struct model_open *op = w->op;
	int rc = -EAGAIN;

	if (q->dead)
		return -q->dead;
	/* an open in the middle of a message goes on with it; one that needs the next message
	 * does not overtake the receives that wait for one */
	if (op->state[MMQ_MSG] || op->state[MMQ_OFF] == MMQ_EOM || list_empty(&q->readq))
		rc = deliver(q, w);
	if (rc == -EAGAIN) {
		if (queue)
			list_add_tail(&w->link, &q->readq);
		return MODEL_WOULD_BLOCK;
	}
	if (rc < 0)
		return rc;
	serve(q, wk); /* a message taken: room for a waiting send */
	return MODEL_DONE;
}

const char *mmq_got_data(const struct waiter *w)
{
	switch (w->kind) {
	case MMQ_GOT_MSG: {
		const struct mmq_msg *m = msg_of(w->arg);

		return m->data + m->len - w->size;
	}
	case MMQ_GOT_PART:
		return (const char *)(uintptr_t)w->arg;
	default:
		return NULL;
	}
}

void mmq_got_free(struct mmq *q, struct waiter *w)
{
	if (w->kind == MMQ_GOT_MSG)
		mmq_msg_free(q, msg_of(w->arg));
	else if (w->kind == MMQ_GOT_PART)
		free((void *)(uintptr_t)w->arg);
	w->kind = MMQ_GOT_END;
	w->arg = 0;
	w->size = 0;
}

void mmq_putback(struct mmq *q, struct waiter *w, struct model_waker *wk)
{
	struct model_open *op = w->op;
	struct mmq_msg *m = msg_of(w->arg);
	bool at_end = !op->state[MMQ_MSG] && op->state[MMQ_OFF] == MMQ_EOM;

	/* Each case checks that the open is still where this receive left it: another read
	 * through the same open may have gone on meanwhile, and then what it read stands. */
	if (q->dead)
		goto drop;
	switch (w->kind) {
	case MMQ_GOT_END:
		if (!op->state[MMQ_MSG] && op->state[MMQ_OFF] == 0)
			op->state[MMQ_OFF] = MMQ_EOM; /* the end of the message is still to come */
		break;
	case MMQ_GOT_PART:
		if (op->state[MMQ_MSG] && op->state[MMQ_OFF] != MMQ_EOM &&
		    op->state[MMQ_OFF] >= w->size) {
			op->state[MMQ_OFF] -= w->size;
			if (op->state[MMQ_OFF] == 0) {
				/* nothing of the message was delivered: back to the queue, first in
				 * line, for any reader (this open may be gone with its caller) */
				enqueue_first(q, msg_of(op->state[MMQ_MSG]));
				op->state[MMQ_MSG] = 0;
			}
		}
		break;
	case MMQ_GOT_MSG:
		if (w->size == m->len) {
			/* a whole message: first in line again, as it was */
			enqueue_first(q, m);
			if (at_end)
				op->state[MMQ_OFF] = 0;
			w->arg = 0;
		} else if (at_end) {
			/* the rest of one the open had begun: the open reads it again */
			op->state[MMQ_MSG] = (uintptr_t)m;
			op->state[MMQ_OFF] = m->len - w->size;
			w->arg = 0;
		}
		break;
	default:
		return; /* handed nothing */
	}
drop:
	mmq_got_free(q, w); /* frees only what was not put back */
	serve(q, wk);
}

void mmq_cancel(struct mmq *q, struct waiter *w, struct model_waker *wk)
{
	list_del(&w->link);
	serve(q, wk);
}

void mmq_kill(struct mmq *q, int err, struct model_waker *wk)
{
	q->dead = err;
	model_wake_all(wk, &q->readq, -err);
	model_wake_all(wk, &q->writeq, -err);
}

struct mmq_msg *mmq_close(struct mmq *q, struct model_open *op)
{
	struct mmq_msg *m = msg_of(op->state[MMQ_MSG]);

	(void)q;
	op->state[MMQ_MSG] = 0;
	return m;
}

bool mmq_readable(const struct mmq *q, const struct model_open *op)
{
	return op->state[MMQ_MSG] || op->state[MMQ_OFF] == MMQ_EOM ||
	       (q->count > 0 && list_empty(&q->readq));
}

bool mmq_writable(const struct mmq *q)
{
	return q->count < q->max_msgs && list_empty(&q->writeq);
}

void mmq_stat(const struct mmq *q, uint64_t *size, uint64_t *blocks)
{
	*size = q->count;
	*blocks = (q->bytes + 511) / 512;
}

uint64_t mmq_get_limit(const struct mmq *q, enum mmq_limit l)
{
	return l == MMQ_MSGSIZE ? q->msgsize : q->max_msgs;
}

int mmq_set_limit(struct mmq *q, enum mmq_limit l, uint64_t value, struct model_waker *wk)
{
	if (value < 1 || value > (l == MMQ_MSGSIZE ? IPCFS_MAX_MQ_MSGSIZE : IPCFS_MAX_MQ_MAX_MSGS))
		return -EINVAL;
	if (l == MMQ_MSGSIZE)
		__atomic_store_n(&q->msgsize, (uint32_t)value, __ATOMIC_RELAXED);
	else
		q->max_msgs = (uint32_t)value;
	serve(q, wk); /* more room: waiting sends may go in */
	return MODEL_DONE;
}

void mmq_inspect(const struct mmq *q, struct snapshot *snap, struct snap_obj *o)
{
	const struct waiter *w;

	snap_field_add(o, "messages", q->count);
	snap_field_add(o, "bytes", q->bytes);
	snap_field_add(o, "msgsize", q->msgsize);
	snap_field_add(o, "max_msgs", q->max_msgs);
	for (int prio = MQ_PRIOS - 1; prio >= 0; prio--)
		if (q->per_prio[prio]) {
			char key[SNAP_KEY_MAX];

			snprintf(key, sizeof(key), "prio.%d", prio);
			snap_field_add(o, key, q->per_prio[prio]);
		}
	/* units: the bytes a receive asks for, or a send's message */
	list_for_each_entry(w, &q->readq, link)
		snap_wait_add(snap, o, w->pid, w->host, "recv", (uint32_t)w->arg, w->since);
	list_for_each_entry(w, &q->writeq, link)
		snap_wait_add(snap, o, w->pid, w->host, "send", msg_of(w->arg)->len, w->since);
}
