/* SPDX-License-Identifier: MIT */
/*
 * ipc/msgq.h - bounded priority message queue (mq_overview(7) semantics) in caller-provided
 * memory.
 *
 * The queue holds up to max_msgs messages of up to msgsize bytes each, both fixed at init, in
 * fixed slots that follow the struct: the caller provides ipc_msgq_footprint(max_msgs, msgsize)
 * bytes (ordinary memory for threads, MAP_SHARED memory with IPC_SHARED for processes) and
 * nothing is allocated. A message has a length (0..msgsize: empty messages are allowed) and a
 * priority 0..IPC_MSGQ_PRIOS-1. A receive takes the oldest message of the highest priority
 * present: higher priorities first, FIFO within a priority.
 *
 * Fairness: none is promised between senders (or between receivers). A woken sleeper competes
 * with callers that are still running, which may take the slot (or message) first.
 */
#ifndef IPC_MSGQ_H
#define IPC_MSGQ_H

#include <stddef.h>
#include <sys/types.h>

#include "common.h"
#include "cond.h"
#include "mutex.h"

/* Priorities are 0 (lowest) .. IPC_MSGQ_PRIOS - 1; one bit each in a 32-bit word. */
#define IPC_MSGQ_PRIOS 32u
/* The largest msgsize: every length then fits in a 32-bit ssize_t. */
#define IPC_MSGQ_MSGSIZE_MAX 0x7fffffffu

struct ipc_msgq {
	struct ipc_mutex lock;	  /* protects every field below that init does not fix */
	struct ipc_cond readable; /* notified when a message was queued; receivers wait here */
	struct ipc_cond writable; /* notified when a slot was freed; senders wait here */
	uint32_t flags;		  /* IPC_SHARED or 0, fixed at init */
	uint32_t max_msgs;	  /* number of slots, fixed at init */
	uint32_t msgsize;	  /* largest message length, fixed at init */
	uint32_t slot_size;	  /* bytes per slot (header and msgsize bytes), fixed at init */
	uint32_t free_head;	  /* lock: first free slot, linked through the slots; none: ~0 */
	uint32_t nonempty;	  /* lock: bit p set when priority p has messages queued */
	uint32_t count;		  /* lock, stored atomically for the accessors: messages queued */
	uint32_t bytes;		  /* lock, stored atomically: sum of their lengths */
	uint32_t head[IPC_MSGQ_PRIOS];	/* lock: oldest slot of each priority, none: ~0 */
	uint32_t tail[IPC_MSGQ_PRIOS];	/* lock: newest slot of each priority, none: ~0 */
	uint32_t nmsgs[IPC_MSGQ_PRIOS]; /* lock, stored atomically: messages of each priority */
	unsigned char slots[];		/* max_msgs slots of slot_size bytes */
};

/*
 * ipc_msgq_footprint - the bytes of memory a queue of max_msgs messages of up to msgsize bytes
 * needs (struct and slots). Returns 0 when the parameters are invalid: max_msgs == 0, msgsize
 * above IPC_MSGQ_MSGSIZE_MAX, max_msgs * msgsize above UINT32_MAX (the byte count is 32-bit) or
 * a footprint that does not fit in size_t.
 */
size_t ipc_msgq_footprint(uint32_t max_msgs, uint32_t msgsize);

/*
 * ipc_msgq_init - make q, which points to ipc_msgq_footprint(max_msgs, msgsize) bytes aligned
 * for struct ipc_msgq, an empty queue. Takes time linear in max_msgs (it links the free slots).
 * Returns 0, or -EINVAL (parameters ipc_msgq_footprint() rejects, unknown flags) leaving the
 * memory untouched.
 */
int ipc_msgq_init(struct ipc_msgq *q, uint32_t max_msgs, uint32_t msgsize, unsigned flags);

/*
 * ipc_msgq_timedsend - queue a copy of the len bytes at buf with priority prio, behind the
 * messages of the same priority, waiting until deadline (NULL: forever) while the queue is full.
 * Returns 0, or with nothing queued: -EMSGSIZE (len > msgsize), -EINVAL (prio >=
 * IPC_MSGQ_PRIOS, malformed deadline), -ETIMEDOUT or -EINTR.
 */
int ipc_msgq_timedsend(struct ipc_msgq *q, const void *buf, size_t len, unsigned prio,
		       const struct timespec *deadline);

/* ipc_msgq_trysend - the same without waiting: -EAGAIN when the queue is full. */
int ipc_msgq_trysend(struct ipc_msgq *q, const void *buf, size_t len, unsigned prio);

static inline int ipc_msgq_send(struct ipc_msgq *q, const void *buf, size_t len, unsigned prio)
{
	return ipc_msgq_timedsend(q, buf, len, prio, NULL);
}

/*
 * ipc_msgq_timedreceive - dequeue the oldest message of the highest priority into buf (size
 * bytes) and its priority into *prio (when prio is not NULL), waiting until deadline (NULL:
 * forever) while the queue is empty. Returns the message's length, or with nothing dequeued:
 * -EMSGSIZE (size is less than that length: the message stays first in line, as with
 * mq_receive), -EINVAL (malformed deadline), -ETIMEDOUT or -EINTR.
 */
ssize_t ipc_msgq_timedreceive(struct ipc_msgq *q, void *buf, size_t size, unsigned *prio,
			      const struct timespec *deadline);

/* ipc_msgq_tryreceive - the same without waiting: -EAGAIN when the queue is empty. */
ssize_t ipc_msgq_tryreceive(struct ipc_msgq *q, void *buf, size_t size, unsigned *prio);

static inline ssize_t ipc_msgq_receive(struct ipc_msgq *q, void *buf, size_t size, unsigned *prio)
{
	return ipc_msgq_timedreceive(q, buf, size, prio, NULL);
}

/* ipc_msgq_count - the messages queued (a snapshot). */
static inline uint32_t ipc_msgq_count(const struct ipc_msgq *q)
{
	return __atomic_load_n(&q->count, __ATOMIC_RELAXED);
}

/* ipc_msgq_bytes - the sum of the lengths of the messages queued (a snapshot). */
static inline uint32_t ipc_msgq_bytes(const struct ipc_msgq *q)
{
	return __atomic_load_n(&q->bytes, __ATOMIC_RELAXED);
}

/* ipc_msgq_count_prio - the messages of priority prio queued (a snapshot); 0 for a prio >=
 * IPC_MSGQ_PRIOS, which no message can have. */
static inline uint32_t ipc_msgq_count_prio(const struct ipc_msgq *q, unsigned prio)
{
	return prio < IPC_MSGQ_PRIOS ? __atomic_load_n(&q->nmsgs[prio], __ATOMIC_RELAXED) : 0;
}

/* ipc_msgq_max_msgs, ipc_msgq_msgsize - the limits given at init. */
static inline uint32_t ipc_msgq_max_msgs(const struct ipc_msgq *q)
{
	return q->max_msgs;
}

static inline uint32_t ipc_msgq_msgsize(const struct ipc_msgq *q)
{
	return q->msgsize;
}

#endif /* IPC_MSGQ_H */
