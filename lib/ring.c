/* SPDX-License-Identifier: MIT */
/*
 * ring.c - bounded byte ring (a pipe in caller-provided memory).
 *
 * Implementation notes:
 * - The buffered bytes are the `used` bytes from `head`, wrapping at `capacity`; the free space
 *   is the rest. Keeping a count rather than a tail offset tells a full ring from an empty one
 *   without sacrificing a byte. A copy that crosses the end of data[] is two memcpy's.
 * - An atomic write waits until room >= n and then copies under the lock in one go: holding the
 *   lock for the whole copy is what keeps other writers' bytes out of it. A larger write waits
 *   for room >= 1 and copies min(room, rest), dropping the lock between pieces so that readers
 *   can make room; that is where other writers may slip in.
 * - A failed wait (-ETIMEDOUT, -EINTR) is not final until the condition has been re-checked
 *   under the lock: a waiter whose deadline passes or that is interrupted just as room (or data)
 *   appears takes it rather than failing beside it.
 * - Wake policy, decided under the lock and done after unlocking:
 *   - a write that added bytes signals one reader: any reader can proceed with any amount;
 *   - a read that leaves bytes behind signals one more reader, so a write that several small
 *     reads could share wakes them one after another instead of all at once;
 *   - a read that freed space broadcasts to writers, who re-check: the space may fit several
 *     of them, or only some (each waits for its own amount), and a single wake could pick a
 *     writer that still does not fit while one that would fit sleeps on.
 *   ipc_cond_notify() makes no system call when nobody waits, so these cost an atomic
 *   increment on the uncontended path.
 *
 * Locking:
 *   r->lock protects head, used and the bytes of data[] between head and head + used; it is
 *   held for every copy into or out of data[]. used is also stored atomically so that
 *   ipc_ring_used() can read it without the lock. capacity and flags never change after init.
 *   Readers sleep on r->readable and writers on r->writable, both with r->lock as the mutex.
 */
#include <ipc/ring.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "futex.h"

size_t ipc_ring_footprint(uint32_t capacity)
{
	if (capacity == 0 || capacity > IPC_RING_CAPACITY_MAX)
		return 0;
	return sizeof(struct ipc_ring) + capacity;
}

int ipc_ring_init(struct ipc_ring *r, uint32_t capacity, unsigned flags)
{
	if (flags & ~IPC_INIT_VALID || !ipc_ring_footprint(capacity))
		return -EINVAL;
	ipc_mutex_init(&r->lock, flags);
	ipc_cond_init(&r->readable, flags);
	ipc_cond_init(&r->writable, flags);
	r->flags = flags;
	r->capacity = capacity;
	r->head = 0;
	r->used = 0;
	return 0;
}

/* The largest write that is atomic in r. */
static size_t ring_atomic_limit(const struct ipc_ring *r)
{
	return r->capacity < IPC_RING_ATOMIC ? r->capacity : IPC_RING_ATOMIC;
}

/* Append n <= free space bytes after the buffered ones. r->lock held. */
static void ring_copy_in(struct ipc_ring *r, const unsigned char *src, size_t n)
{
	size_t tail = r->head + r->used;
	size_t first;

	if (tail >= r->capacity)
		tail -= r->capacity;
	first = r->capacity - tail < n ? r->capacity - tail : n;
	memcpy(r->data + tail, src, first);
	memcpy(r->data, src + first, n - first);
	__atomic_store_n(&r->used, r->used + (uint32_t)n, __ATOMIC_RELAXED);
}

/* Remove the n <= used oldest bytes into dst. r->lock held. */
static void ring_copy_out(struct ipc_ring *r, unsigned char *dst, size_t n)
{
	size_t first = r->capacity - r->head < n ? r->capacity - r->head : n;

	memcpy(dst, r->data + r->head, first);
	memcpy(dst + first, r->data, n - first);
	r->head += (uint32_t)n;
	if (r->head >= r->capacity)
		r->head -= r->capacity;
	__atomic_store_n(&r->used, r->used - (uint32_t)n, __ATOMIC_RELAXED);
}

size_t ipc_ring_peek(struct ipc_ring *r, size_t off, void *buf, size_t n)
{
	unsigned char *dst = buf;
	size_t at, first;

	ipc_mutex_lock(&r->lock);
	if (off >= r->used) {
		ipc_mutex_unlock(&r->lock);
		return 0;
	}
	if (n > r->used - off)
		n = r->used - off;
	at = (r->head + off) % r->capacity;
	first = r->capacity - at < n ? r->capacity - at : n;
	memcpy(dst, r->data + at, first);
	memcpy(dst + first, r->data, n - first);
	ipc_mutex_unlock(&r->lock);
	return n;
}

/* The write forms; wait == false is the try form (deadline unused). */
static ssize_t ring_write(struct ipc_ring *r, const void *buf, size_t n,
			  const struct timespec *deadline, bool wait)
{
	const unsigned char *src = buf;
	size_t need, room, chunk, done = 0;
	int rc = 0;

	if (n > SSIZE_MAX || ipc_deadline_valid(deadline))
		return -EINVAL;
	if (n == 0)
		return 0;
	/* an atomic write needs room for all of it at once; a larger one any room at all */
	need = n <= ring_atomic_limit(r) ? n : 1;

	ipc_mutex_lock(&r->lock);
	for (;;) {
		room = r->capacity - r->used;
		if (room >= need) {
			chunk = room < n - done ? room : n - done;
			ring_copy_in(r, src + done, chunk);
			done += chunk;
			ipc_mutex_unlock(&r->lock);
			ipc_cond_signal(&r->readable);
			if (done == n)
				return (ssize_t)done;
			/* a large write: wait for readers to make room for the rest */
			ipc_mutex_lock(&r->lock);
			continue;
		}
		if (rc)
			break;
		if (!wait) {
			rc = -EAGAIN;
			break;
		}
		rc = ipc_cond_timedwait(&r->writable, &r->lock, deadline);
	}
	ipc_mutex_unlock(&r->lock);
	/* a short write reports its progress rather than the reason it stopped, like write(2) */
	return done ? (ssize_t)done : rc;
}

ssize_t ipc_ring_timedwrite(struct ipc_ring *r, const void *buf, size_t n,
			    const struct timespec *deadline)
{
	return ring_write(r, buf, n, deadline, true);
}

ssize_t ipc_ring_trywrite(struct ipc_ring *r, const void *buf, size_t n)
{
	return ring_write(r, buf, n, NULL, false);
}

/* The read forms; wait == false is the try form (deadline unused). */
static ssize_t ring_read(struct ipc_ring *r, void *buf, size_t n, const struct timespec *deadline,
			 bool wait)
{
	bool more;
	int rc = 0;

	if (ipc_deadline_valid(deadline))
		return -EINVAL;
	if (n == 0)
		return 0;

	ipc_mutex_lock(&r->lock);
	while (r->used == 0) {
		if (rc)
			goto unlock;
		if (!wait) {
			rc = -EAGAIN;
			goto unlock;
		}
		rc = ipc_cond_timedwait(&r->readable, &r->lock, deadline);
	}
	if (n > r->used)
		n = r->used;
	ring_copy_out(r, buf, n);
	more = r->used != 0;
	ipc_mutex_unlock(&r->lock);

	ipc_cond_broadcast(&r->writable);
	if (more)
		ipc_cond_signal(&r->readable);
	return (ssize_t)n;

unlock:
	ipc_mutex_unlock(&r->lock);
	return rc;
}

ssize_t ipc_ring_timedread(struct ipc_ring *r, void *buf, size_t n, const struct timespec *deadline)
{
	return ring_read(r, buf, n, deadline, true);
}

ssize_t ipc_ring_tryread(struct ipc_ring *r, void *buf, size_t n)
{
	return ring_read(r, buf, n, NULL, false);
}
