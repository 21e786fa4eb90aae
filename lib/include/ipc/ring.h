/* SPDX-License-Identifier: MIT */
/*
 * ipc/ring.h - bounded byte ring: a pipe in caller-provided memory.
 *
 * The ring holds up to `capacity` bytes, fixed at init, in a data area that follows the struct:
 * the caller provides ipc_ring_footprint(capacity) bytes (ordinary memory for threads,
 * MAP_SHARED memory with IPC_SHARED for processes) and nothing is allocated.
 *
 * Writes follow pipe(7): a write of n <= IPC_RING_ATOMIC bytes (and n <= capacity) is atomic,
 * it waits until all n bytes fit and copies them at once, so its bytes are never interleaved
 * with another writer's. A larger write copies as much as fits whenever there is room and goes
 * on until all is written; other writers' bytes may come between its pieces. When it times out
 * or is interrupted after copying some bytes it returns how many (a short write); before
 * copying any it fails like an atomic write and nothing is written.
 * A read takes whatever is buffered, up to n bytes: it waits only while the ring is empty.
 *
 * Fairness: none is promised. An atomic writer waits until its whole write fits, so writers of
 * fewer bytes may overtake it for as long as they keep the ring nearly full (as with pipes).
 */
#ifndef IPC_RING_H
#define IPC_RING_H

#include <stddef.h>
#include <sys/types.h>

#include "common.h"
#include "cond.h"
#include "mutex.h"

/* Writes of at most this many bytes (and at most the capacity) are atomic (PIPE_BUF). */
#define IPC_RING_ATOMIC 4096u
/* The largest capacity: every count then fits in a 32-bit ssize_t. */
#define IPC_RING_CAPACITY_MAX 0x7fffffffu

struct ipc_ring {
	struct ipc_mutex lock;	  /* protects head, used and the buffered bytes of data[] */
	struct ipc_cond readable; /* notified when bytes were added; readers wait here */
	struct ipc_cond writable; /* notified when space was freed; writers wait here */
	uint32_t flags;		  /* IPC_SHARED or 0, fixed at init */
	uint32_t capacity;	  /* bytes in data[], fixed at init */
	uint32_t head;		  /* lock: offset in data[] of the oldest buffered byte */
	uint32_t used;		  /* lock, stored atomically for ipc_ring_used(): bytes buffered */
	unsigned char data[];	  /* capacity bytes: the buffered ones start at head and wrap */
};

/*
 * ipc_ring_footprint - the bytes of memory a ring of `capacity` bytes needs (struct and data
 * area). Returns 0 when capacity is 0 or larger than IPC_RING_CAPACITY_MAX.
 */
size_t ipc_ring_footprint(uint32_t capacity);

/*
 * ipc_ring_init - make r, which points to ipc_ring_footprint(capacity) bytes aligned for
 * struct ipc_ring, an empty ring of `capacity` bytes. Returns 0, or -EINVAL (capacity 0 or
 * above IPC_RING_CAPACITY_MAX, unknown flags) leaving the memory untouched.
 */
int ipc_ring_init(struct ipc_ring *r, uint32_t capacity, unsigned flags);

/*
 * ipc_ring_timedwrite - append the n bytes at buf, waiting for room until deadline (NULL:
 * forever); atomic when n <= min(IPC_RING_ATOMIC, capacity), see above. n == 0 returns 0.
 * Returns n, or a short count when a write larger than the atomic limit timed out or was
 * interrupted after copying some bytes. Otherwise nothing is written and it returns -ETIMEDOUT,
 * -EINTR, or -EINVAL (malformed deadline, n > SSIZE_MAX).
 */
ssize_t ipc_ring_timedwrite(struct ipc_ring *r, const void *buf, size_t n,
			    const struct timespec *deadline);

/*
 * ipc_ring_trywrite - the same without waiting for room: an atomic write copies all n bytes or
 * returns -EAGAIN; a larger one copies what fits now and returns that count, or -EAGAIN when
 * the ring is full. -EINVAL for n > SSIZE_MAX.
 */
ssize_t ipc_ring_trywrite(struct ipc_ring *r, const void *buf, size_t n);

static inline ssize_t ipc_ring_write(struct ipc_ring *r, const void *buf, size_t n)
{
	return ipc_ring_timedwrite(r, buf, n, NULL);
}

/*
 * ipc_ring_timedread - move min(n, buffered) bytes to buf, oldest first, waiting until deadline
 * (NULL: forever) while the ring is empty. n == 0 returns 0 at once. Returns the count (> 0),
 * or -ETIMEDOUT, -EINTR, -EINVAL (malformed deadline) with nothing read.
 */
ssize_t ipc_ring_timedread(struct ipc_ring *r, void *buf, size_t n,
			   const struct timespec *deadline);

/* ipc_ring_tryread - the same without waiting: -EAGAIN when the ring is empty. */
ssize_t ipc_ring_tryread(struct ipc_ring *r, void *buf, size_t n);

static inline ssize_t ipc_ring_read(struct ipc_ring *r, void *buf, size_t n)
{
	return ipc_ring_timedread(r, buf, n, NULL);
}

/* ipc_ring_peek - copy up to n of the buffered bytes, from the off-th oldest on, into buf,
 * without taking them (what a checkpoint of the ring's contents needs). Returns how many were
 * copied (0 past the end). Never waits. */
size_t ipc_ring_peek(struct ipc_ring *r, size_t off, void *buf, size_t n);

/* ipc_ring_used - the bytes buffered (a snapshot). */
static inline uint32_t ipc_ring_used(const struct ipc_ring *r)
{
	return __atomic_load_n(&r->used, __ATOMIC_RELAXED);
}

/* ipc_ring_capacity - the capacity given at init. */
static inline uint32_t ipc_ring_capacity(const struct ipc_ring *r)
{
	return r->capacity;
}

#endif /* IPC_RING_H */
