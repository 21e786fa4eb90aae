/* SPDX-License-Identifier: MIT */
/*
 * msgq.c - bounded priority message queue.
 *
 * Implementation notes:
 * - Slot i lives at slots + i * slot_size: a header (next index, length) and msgsize bytes of
 *   payload, padded so that every header stays 4-byte aligned. Slots are linked by index, never
 *   by pointer, so the queue works at any address in every process that maps it.
 * - A free slot is on the free list (LIFO: the slot freed last, still in cache, is reused first);
 *   a queued one is on the FIFO list of its priority, appended at tail and taken from head.
 *   Every slot is on exactly one list, so count == max_msgs exactly when free_head is none.
 * - nonempty has bit p set while list p is non-empty: the highest priority present is
 *   31 - clz(nonempty), one instruction instead of a scan of 32 heads.
 * - Payloads are copied under the lock. Messages are meant to be small; reserving a slot and
 *   copying outside the lock would cost a second lock round trip per message. A sender cannot
 *   hand its message straight to a sleeping receiver (as Linux's mqueue does): the receiver's
 *   buffer may be in another process.
 * - A failed wait (-ETIMEDOUT, -EINTR) is not final until the condition has been re-checked
 *   under the lock: a waiter whose deadline passes or that is interrupted just as a slot (or a
 *   message) appears takes it rather than failing beside it.
 * - Wake policy, decided under the lock and done after unlocking: a send queues exactly one
 *   message and signals one receiver; a receive frees exactly one slot and signals one sender.
 *   Every sleeper of a side waits for the same thing (one message, one slot), so whichever
 *   sleeper is woken can use it, except a receiver whose buffer is too small for the message at
 *   the front: it fails with -EMSGSIZE and passes the wake on to another receiver.
 *
 * Locking:
 *   q->lock protects free_head, nonempty, count, bytes, head[], tail[], nmsgs[] and the slots.
 *   count, bytes and nmsgs[] are also stored atomically so that the accessors can read them
 *   without the lock. flags, max_msgs, msgsize and slot_size never change after init.
 *   Receivers sleep on q->readable and senders on q->writable, both with q->lock as the mutex.
 */
#include <ipc/msgq.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "futex.h"

#define MSGQ_NONE UINT32_MAX /* "no slot" in the index links */

struct msgq_slot {
	uint32_t next;	      /* next slot on the same list (free or priority), MSGQ_NONE at end */
	uint32_t len;	      /* payload length, while queued */
	unsigned char data[]; /* msgsize bytes of payload */
};

/* Bytes per slot for msgsize, or 0 when it cannot be represented. */
static uint32_t msgq_slot_size(uint32_t msgsize)
{
	if (msgsize > IPC_MSGQ_MSGSIZE_MAX)
		return 0;
	return (uint32_t)sizeof(struct msgq_slot) + ((msgsize + 3) & ~3u);
}

size_t ipc_msgq_footprint(uint32_t max_msgs, uint32_t msgsize)
{
	uint32_t slot_size = msgq_slot_size(msgsize);
	size_t area, total;

	if (max_msgs == 0 || !slot_size || (uint64_t)max_msgs * msgsize > UINT32_MAX)
		return 0;
	if (__builtin_mul_overflow((size_t)max_msgs, (size_t)slot_size, &area) ||
	    __builtin_add_overflow(sizeof(struct ipc_msgq), area, &total))
		return 0;
	return total;
}

static struct msgq_slot *msgq_slot(struct ipc_msgq *q, uint32_t i)
{
	return (struct msgq_slot *)(q->slots + (size_t)i * q->slot_size);
}

int ipc_msgq_init(struct ipc_msgq *q, uint32_t max_msgs, uint32_t msgsize, unsigned flags)
{
	if (flags & ~IPC_INIT_VALID || !ipc_msgq_footprint(max_msgs, msgsize))
		return -EINVAL;
	ipc_mutex_init(&q->lock, flags);
	ipc_cond_init(&q->readable, flags);
	ipc_cond_init(&q->writable, flags);
	q->flags = flags;
	q->max_msgs = max_msgs;
	q->msgsize = msgsize;
	q->slot_size = msgq_slot_size(msgsize);
	q->nonempty = 0;
	q->count = 0;
	q->bytes = 0;
	for (unsigned p = 0; p < IPC_MSGQ_PRIOS; p++) {
		q->head[p] = MSGQ_NONE;
		q->tail[p] = MSGQ_NONE;
		q->nmsgs[p] = 0;
	}
	for (uint32_t i = 0; i < max_msgs; i++)
		msgq_slot(q, i)->next = i + 1 < max_msgs ? i + 1 : MSGQ_NONE;
	q->free_head = 0;
	return 0;
}

/* Move a free slot to the tail of list prio, filled with the message. q->lock held, a slot
 * free. */
static void msgq_enqueue(struct ipc_msgq *q, const void *buf, uint32_t len, unsigned prio)
{
	uint32_t i = q->free_head;
	struct msgq_slot *s = msgq_slot(q, i);

	q->free_head = s->next;
	if (len) /* an empty message may come with buf == NULL, which memcpy does not allow */
		memcpy(s->data, buf, len);
	s->len = len;
	s->next = MSGQ_NONE;
	if (q->tail[prio] == MSGQ_NONE) {
		q->head[prio] = i;
		q->nonempty |= 1u << prio;
	} else {
		msgq_slot(q, q->tail[prio])->next = i;
	}
	q->tail[prio] = i;
	__atomic_store_n(&q->nmsgs[prio], q->nmsgs[prio] + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&q->bytes, q->bytes + len, __ATOMIC_RELAXED);
	__atomic_store_n(&q->count, q->count + 1, __ATOMIC_RELAXED);
}

/* The priority of the message to receive next. q->lock held, the queue not empty. */
static unsigned msgq_top(const struct ipc_msgq *q)
{
	return 31 - (unsigned)__builtin_clz(q->nonempty);
}

/* Move the head of list prio into buf and its slot to the free list; returns its length.
 * q->lock held, list prio not empty, buf large enough. */
static uint32_t msgq_dequeue(struct ipc_msgq *q, void *buf, unsigned prio)
{
	uint32_t i = q->head[prio];
	struct msgq_slot *s = msgq_slot(q, i);
	uint32_t len = s->len;

	if (len) /* likewise buf == NULL with size 0 */
		memcpy(buf, s->data, len);
	q->head[prio] = s->next;
	if (s->next == MSGQ_NONE) {
		q->tail[prio] = MSGQ_NONE;
		q->nonempty &= ~(1u << prio);
	}
	s->next = q->free_head;
	q->free_head = i;
	__atomic_store_n(&q->nmsgs[prio], q->nmsgs[prio] - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&q->bytes, q->bytes - len, __ATOMIC_RELAXED);
	__atomic_store_n(&q->count, q->count - 1, __ATOMIC_RELAXED);
	return len;
}

/* The send forms; wait == false is the try form (deadline unused). */
static int msgq_send(struct ipc_msgq *q, const void *buf, size_t len, unsigned prio,
		     const struct timespec *deadline, bool wait)
{
	int rc = 0;

	if (prio >= IPC_MSGQ_PRIOS || ipc_deadline_valid(deadline))
		return -EINVAL;
	if (len > q->msgsize)
		return -EMSGSIZE;

	ipc_mutex_lock(&q->lock);
	while (q->free_head == MSGQ_NONE) {
		if (rc)
			goto unlock;
		if (!wait) {
			rc = -EAGAIN;
			goto unlock;
		}
		rc = ipc_cond_timedwait(&q->writable, &q->lock, deadline);
	}
	msgq_enqueue(q, buf, (uint32_t)len, prio);
	ipc_mutex_unlock(&q->lock);
	ipc_cond_signal(&q->readable);
	return 0;

unlock:
	ipc_mutex_unlock(&q->lock);
	return rc;
}

int ipc_msgq_timedsend(struct ipc_msgq *q, const void *buf, size_t len, unsigned prio,
		       const struct timespec *deadline)
{
	return msgq_send(q, buf, len, prio, deadline, true);
}

int ipc_msgq_trysend(struct ipc_msgq *q, const void *buf, size_t len, unsigned prio)
{
	return msgq_send(q, buf, len, prio, NULL, false);
}

/* The receive forms; wait == false is the try form (deadline unused). */
static ssize_t msgq_receive(struct ipc_msgq *q, void *buf, size_t size, unsigned *prio,
			    const struct timespec *deadline, bool wait)
{
	unsigned top;
	uint32_t len;
	int rc = 0;

	if (ipc_deadline_valid(deadline))
		return -EINVAL;

	ipc_mutex_lock(&q->lock);
	while (q->nonempty == 0) {
		if (rc)
			goto unlock;
		if (!wait) {
			rc = -EAGAIN;
			goto unlock;
		}
		rc = ipc_cond_timedwait(&q->readable, &q->lock, deadline);
	}
	top = msgq_top(q);
	if (msgq_slot(q, q->head[top])->len > size) {
		ipc_mutex_unlock(&q->lock);
		/* we may have taken the wake meant for a receiver that can take the message */
		ipc_cond_signal(&q->readable);
		return -EMSGSIZE;
	}
	len = msgq_dequeue(q, buf, top);
	ipc_mutex_unlock(&q->lock);
	ipc_cond_signal(&q->writable);
	if (prio)
		*prio = top;
	return (ssize_t)len;

unlock:
	ipc_mutex_unlock(&q->lock);
	return rc;
}

ssize_t ipc_msgq_timedreceive(struct ipc_msgq *q, void *buf, size_t size, unsigned *prio,
			      const struct timespec *deadline)
{
	return msgq_receive(q, buf, size, prio, deadline, true);
}

ssize_t ipc_msgq_tryreceive(struct ipc_msgq *q, void *buf, size_t size, unsigned *prio)
{
	return msgq_receive(q, buf, size, prio, NULL, false);
}
