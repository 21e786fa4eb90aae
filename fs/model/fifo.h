/* SPDX-License-Identifier: MIT */
/*
 * fifo.h - the FIFO's state machine: a bounded byte stream with writer accounting for end of
 * file, waiting reads and waiting writes served in order.
 *
 * Every function is called with the object's lock held (store.h) and never blocks; those
 * that take a waker hand it the waiters they serve (model.h). The model never owns the bytes
 * of a waiter: a read's buffer and a write's bytes belong to the caller, who keeps them valid
 * while the waiter is queued and frees them once it has been handed back (or the operation
 * answered at once).
 */
#ifndef IPCFS_MODEL_FIFO_H
#define IPCFS_MODEL_FIFO_H

#include "model.h"

#include <fcntl.h>

struct ipc_ring;
struct snapshot;
struct snap_obj;

struct mfifo {
	struct ipc_ring *ring;	     /* the buffered bytes; NULL while empty (see mfifo_trim) */
	uint32_t capacity;	     /* bytes the ring may hold; changed only while ring is NULL */
	uint32_t writers;	     /* opens with write access */
	uint64_t writer_gen;	     /* bumped by every open for writing */
	struct model_budget *budget; /* charged with the ring's footprint while it exists */
	bool force;		     /* cluster mode: charge it even past the budget (every
				      * replica must hold what the log says, see model.h) */
	struct list_head readq;	     /* waiting reads, FIFO; struct waiter, kind FIFO_READ */
	struct list_head writeq;     /* waiting writes, FIFO; kind FIFO_WRITE */
};

/* What a waiter waits for (waiter.kind). */
enum fifo_kind {
	/* a read: arg = the caller's buffer (void *), size = the bytes asked (its length).
	 * Answered: size = the bytes copied into the buffer, 0 at end of file. arg 0: the bytes
	 * are taken and dropped (cluster mode: another host's read, answered there). */
	FIFO_READ,
	/* a write: arg = its struct mfifo_bytes *, size = how many of them are in the FIFO so
	 * far (0 for a new write). Answered with rc 0: all of them (size = len). */
	FIFO_WRITE,
};

/* A write's bytes (waiter.arg of a FIFO_WRITE), the caller's: a write that waits needs a
 * copy that outlives the caller's own buffer. */
struct mfifo_bytes {
	const unsigned char *data; /* len bytes */
	size_t len;		   /* > 0 */
};

/* Per-open state: model_open.state[FIFO_GEN] and [FIFO_FLAGS], set by mfifo_open. */
#define FIFO_GEN 0	     /* writer_gen when it opened */
#define FIFO_FLAGS 1	     /* bits below */
#define FIFO_SAW_WRITER 0x1u /* a writer had it open when this one opened */
#define FIFO_RECEIVED 0x2u   /* a read through it has received bytes */

/* mfifo_init - an empty FIFO with params' capacity, charging params' budget (at the first
 * write). mfifo_fini - free its bytes and give them back to the budget; nobody waits. */
void mfifo_init(struct mfifo *f, const struct model_params *params);
void mfifo_fini(struct mfifo *f);

/* mfifo_is_writer - does op count as a writer (opened for writing)? */
static inline bool mfifo_is_writer(const struct model_open *op)
{
	return (op->flags & O_ACCMODE) != O_RDONLY;
}

/* mfifo_open - op (flags set) opens f: its per-open state is set, and a writer is counted.
 * Never fails, never serves anybody. */
void mfifo_open(struct mfifo *f, struct model_open *op);

/* mfifo_close - the last close of op: a writer is no longer counted, and when it was the last,
 * waiting reads that saw one get end of file. A reader's close changes nothing. */
void mfifo_close(struct mfifo *f, const struct model_open *op, struct model_waker *wk);

/*
 * mfifo_read - w (kind FIFO_READ, arg, size, op set) asks now. MODEL_DONE: w->size bytes (at
 * most those asked; 0: end of file, or 0 asked) were copied into its buffer and w is not
 * queued; waiting writes that now fit are served. MODEL_WOULD_BLOCK: nothing buffered and not
 * at end of file; with queue true w is now last in the read queue, else nothing changed.
 * Reads are served in order, each with what is there up to its size; a waiting read never
 * has any bytes taken until it is handed back.
 */
int mfifo_read(struct mfifo *f, struct waiter *w, bool queue, struct model_waker *wk);

/*
 * mfifo_write - w (kind FIFO_WRITE, arg, size, op set) puts the rest of its bytes (from
 * w->size) in: first straight into the buffers of waiting reads (in order, each up to its
 * size) if nothing is buffered and no write waits, then into the ring if no write waits. A
 * write of at most IPC_RING_ATOMIC bytes (and the capacity) goes into the ring whole or not
 * at all; a larger one in pieces, as room frees. wk->changed is set if any of its bytes went
 * in. Returns
 *   MODEL_DONE        all of them are in (w->size = len), w not queued;
 *   MODEL_WOULD_BLOCK w->size of them are in (maybe 0, maybe more than before); with queue
 *                     true w is now last in the write queue and later operations put the rest
 *                     in, in order (no later write overtakes it); else the rest is not written;
 *   -ENOSPC, -ENOMEM  the budget (or memory) has no room for the ring the rest needs: nothing
 *                     changed by this call.
 */
int mfifo_write(struct mfifo *f, struct waiter *w, bool queue, struct model_waker *wk);

/*
 * mfifo_write_result - what a write w ended with rc (0, or -errno from its waker or from
 * mfifo_write) returns to its caller: the count of its bytes in the FIFO when any are (they
 * stay in: a short write, as a pipe's when interrupted), else rc.
 */
ssize_t mfifo_write_result(const struct waiter *w, int rc);

/*
 * mfifo_cancel - queued w leaves its queue (interrupted); those behind it may proceed now.
 * A read has taken nothing; a write keeps in the FIFO what went in (mfifo_write_result).
 * Readiness may change even if nobody proceeds: the caller wakes pollers.
 */
void mfifo_cancel(struct mfifo *f, struct waiter *w, struct model_waker *wk);

/* mfifo_kill - the FIFO is going away: every waiter, reads first, gets -err. */
void mfifo_kill(struct mfifo *f, int err, struct model_waker *wk);

/*
 * mfifo_trim - detach the ring if it holds nothing and no write waits, so that an idle FIFO
 * costs no buffer: its footprint goes back to the budget now, and the caller free()s the
 * returned ring after dropping the object's lock. NULL when nothing is to be freed.
 */
struct ipc_ring *mfifo_trim(struct mfifo *f);

/*
 * Checkpoints (cluster mode: a replica's state written to the log as operations that rebuild
 * it, see store/cluster.h). mfifo_peek - copy up to n buffered bytes from the off-th on into
 * buf without taking them; returns how many (0 past the end). mfifo_restore - append len
 * bytes to the buffer, charged even past the budget, waking nobody: 0 or -ENOMEM (nothing
 * appended), -ENOSPC (more than the capacity holds). mfifo_open_flags - what op's "seen a
 * writer" is now, as flags for mfifo_open_restore, which makes op (opened with mfifo_open)
 * have seen one or not as those flags say, whatever opens follow.
 */
size_t mfifo_peek(const struct mfifo *f, size_t off, void *buf, size_t n);
int mfifo_restore(struct mfifo *f, const void *data, size_t len);
uint64_t mfifo_open_flags(const struct mfifo *f, const struct model_open *op);
void mfifo_open_restore(const struct mfifo *f, struct model_open *op, uint64_t flags);

/* mfifo_used - the bytes buffered. */
uint32_t mfifo_used(const struct mfifo *f);

/* mfifo_readable - are bytes buffered (a read would take them at once)? */
bool mfifo_readable(const struct mfifo *f);

/* mfifo_at_eof - would a read through op return end of file now? Nothing is buffered, no
 * writer has it open, and op has seen one (one was open at op's open or opened since, or op
 * received bytes): a reader started before any writer waits for the first. */
bool mfifo_at_eof(const struct mfifo *f, const struct model_open *op);

/* mfifo_writable - would a write of IPC_RING_ATOMIC bytes (or the capacity) go in at once? */
bool mfifo_writable(const struct mfifo *f);

/* mfifo_stat_size - st_size (the bytes buffered) and st_blocks (512-byte units of the ring,
 * 0 while none). */
void mfifo_stat_size(const struct mfifo *f, off_t *size, blkcnt_t *blocks);

/*
 * mfifo_set_capacity - user.capacity: 1..IPCFS_MAX_FIFO_CAPACITY, else -EINVAL; -EBUSY while
 * the FIFO holds a ring (bytes, or a waiting write: mfifo_trim first drops an empty one).
 * MODEL_DONE: the next ring has this capacity. Nothing changes on error.
 */
int mfifo_set_capacity(struct mfifo *f, uint64_t capacity);
/* mfifo_check_capacity - what mfifo_set_capacity would answer now, changing nothing. */
int mfifo_check_capacity(const struct mfifo *f, uint64_t capacity);

/* mfifo_inspect - bytes, capacity, writers and the waiters (reads, then writes, each in
 * service order, with the bytes they ask for or have still to write) into o. */
void mfifo_inspect(const struct mfifo *f, struct snapshot *snap, struct snap_obj *o);

#endif /* IPCFS_MODEL_FIFO_H */
