/* SPDX-License-Identifier: MIT */
/*
 * fifo.c - the FIFO's state machine (fifo.h).
 *
 * Implementation notes:
 * - The bytes live in a struct ipc_ring from lib/ (atomic writes up to IPC_RING_ATOMIC bytes,
 *   as pipes), allocated at the first write that needs it and detached when it drains
 *   (mfifo_trim), so an idle FIFO costs no buffer. Its footprint is charged to the budget
 *   (-o max_memory) while it exists. The ring is the one allocation made under the object's
 *   lock: it must exist before bytes can go in, and one allocated before the lock could be
 *   stale by then.
 * - Unlike a kernel FIFO, writers never wait for a reader: what they write is kept.
 * - End of file needs care, since readers and writers come and go independently. A read of an
 *   empty FIFO waits while a writer has it open, and also while this reader has received
 *   nothing and has seen no writer since it opened (so `cat` started first waits for the first
 *   writer, as with a named pipe). Otherwise it returns end of file. "Seen a writer" is a
 *   writer open at the reader's open, or any writer open since (writer_gen moved).
 * - Waiting writes are served in order: a large write at the head takes space as it frees,
 *   and no later writer overtakes it. What went in of a write stays in whatever ends its wait
 *   (interrupt, removal), and it answers that count, as a pipe's would; a write ended before
 *   any of its bytes went in has no effect.
 * - Waiting reads are served in order too; each takes what is there, up to its size, copied
 *   into its own buffer when it is served, never before. A write that finds reads waiting
 *   and nothing buffered hands its bytes straight to them (as a pipe hands a writer's bytes
 *   to a sleeping reader): they need no ring, so no budget.
 * - After every change both queues are served until nothing moves: bytes a reader takes make
 *   room for a waiting write, whose bytes a waiting read may take...
 *
 * Locking: the object's lock (store.h) protects struct mfifo, the ring's contents and the
 * waiters in its queues. The ring's own lock is taken inside it and is always free (every
 * access is serialised on the object's lock).
 */
#include "model/fifo.h"

#include "defaults.h"
#include "inspect/snapshot.h"

#include <ipc/ring.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct mfifo_bytes *bytes_of(const struct waiter *w)
{
	return (const struct mfifo_bytes *)(uintptr_t)w->arg;
}

/* Take up to n buffered bytes into dst, or drop them when dst is NULL (a read with no buffer,
 * see fifo.h). Returns how many. */
static size_t ring_take(struct mfifo *f, void *dst, size_t n)
{
	unsigned char scratch[512];
	size_t took = 0;

	if (dst) {
		ssize_t k = ipc_ring_tryread(f->ring, dst, n);

		return k > 0 ? (size_t)k : 0;
	}
	while (took < n) {
		ssize_t k = ipc_ring_tryread(
			f->ring, scratch, n - took < sizeof(scratch) ? n - took : sizeof(scratch));

		if (k <= 0)
			break;
		took += (size_t)k;
	}
	return took;
}

/* Copy n bytes to dst, if the read has a buffer. */
static void give(void *dst, const void *src, size_t n)
{
	if (dst)
		memcpy(dst, src, n);
}

uint32_t mfifo_used(const struct mfifo *f)
{
	return f->ring ? ipc_ring_used(f->ring) : 0;
}

void mfifo_init(struct mfifo *f, const struct model_params *params)
{
	memset(f, 0, sizeof(*f));
	f->capacity = params->fifo_capacity;
	f->budget = params->budget;
	list_init(&f->readq);
	list_init(&f->writeq);
}

void mfifo_fini(struct mfifo *f)
{
	if (f->ring)
		budget_uncharge(f->budget, ipc_ring_footprint(f->capacity));
	free(f->ring);
	f->ring = NULL;
}

bool mfifo_at_eof(const struct mfifo *f, const struct model_open *op)
{
	bool saw_writer = (op->state[FIFO_FLAGS] & (FIFO_SAW_WRITER | FIFO_RECEIVED)) ||
			  op->state[FIFO_GEN] != f->writer_gen;

	return mfifo_used(f) == 0 && f->writers == 0 && saw_writer;
}

/* Move bytes of waiting writes into the ring, in order. Returns whether any moved. */
static bool serve_writers(struct mfifo *f, struct model_waker *wk)
{
	bool moved = false;

	while (f->ring && !list_empty(&f->writeq)) {
		struct waiter *w = list_first_entry(&f->writeq, struct waiter, link);
		const struct mfifo_bytes *b = bytes_of(w);
		ssize_t k = ipc_ring_trywrite(f->ring, b->data + w->size, b->len - w->size);

		if (k <= 0)
			break;
		moved = true;
		w->size += (size_t)k;
		if (w->size < b->len)
			break; /* the head goes on as space frees; nobody overtakes it */
		list_del(&w->link);
		model_wake(wk, w, 0);
	}
	return moved;
}

/* Give waiting reads what is buffered, in order; end of file to those for which it is.
 * Returns whether any bytes moved. */
static bool serve_readers(struct mfifo *f, struct model_waker *wk)
{
	struct waiter *w, *tmp;
	bool moved = false;

	while (!list_empty(&f->readq) && mfifo_used(f) > 0) {
		w = list_first_entry(&f->readq, struct waiter, link);
		/* a queued read asks for at least one byte, and bytes are there: k > 0 */
		w->size = ring_take(f, (void *)(uintptr_t)w->arg, w->size);
		w->op->state[FIFO_FLAGS] |= FIFO_RECEIVED;
		list_del(&w->link);
		model_wake(wk, w, 0);
		moved = true;
	}
	if (mfifo_used(f) == 0) {
		list_for_each_entry_safe(w, tmp, &f->readq, link)
		{
			if (mfifo_at_eof(f, w->op)) {
				w->size = 0;
				list_del(&w->link);
				model_wake(wk, w, 0);
			}
		}
	}
	return moved;
}

/* Serve both queues until nothing moves. */
static void serve(struct mfifo *f, struct model_waker *wk)
{
	for (;;) {
		bool moved = serve_writers(f, wk);

		moved |= serve_readers(f, wk);
		if (!moved)
			break;
	}
}

void mfifo_open(struct mfifo *f, struct model_open *op)
{
	op->state[FIFO_GEN] = f->writer_gen;
	op->state[FIFO_FLAGS] = f->writers ? FIFO_SAW_WRITER : 0;
	if (mfifo_is_writer(op)) {
		f->writers++;
		f->writer_gen++;
	}
}

void mfifo_close(struct mfifo *f, const struct model_open *op, struct model_waker *wk)
{
	if (!mfifo_is_writer(op))
		return;
	f->writers--;
	serve(f, wk); /* the last writer gone: waiting reads that saw one get end of file */
}

/*
 * A read that emptied the ring and wants room more bytes takes them straight from the writes
 * waiting, in order, as a pipe's reader takes a sleeping writer's bytes: one READ for a write
 * larger than the FIFO, not one per ring's worth, and no copy through the ring. The bytes
 * come after the ring's, so the order is kept; a write taken whole is served. Returns the
 * bytes copied to dst.
 */
static size_t take_from_writers(struct mfifo *f, char *dst, size_t room, struct model_waker *wk)
{
	size_t took = 0;

	while (took < room && mfifo_used(f) == 0 && !list_empty(&f->writeq)) {
		struct waiter *hw = list_first_entry(&f->writeq, struct waiter, link);
		const struct mfifo_bytes *b = bytes_of(hw);
		size_t n = b->len - hw->size < room - took ? b->len - hw->size : room - took;

		give(dst ? dst + took : NULL, b->data + hw->size, n);
		hw->size += n;
		took += n;
		if (hw->size < b->len)
			break;
		list_del(&hw->link);
		model_wake(wk, hw, 0);
	}
	return took;
}

int mfifo_read(struct mfifo *f, struct waiter *w, bool queue, struct model_waker *wk)
{
	if (w->size == 0)
		return MODEL_DONE;
	/* a read that others wait ahead of does not overtake them */
	if (mfifo_used(f) > 0 && list_empty(&f->readq)) {
		char *buf = (char *)(uintptr_t)w->arg;
		size_t want = w->size;

		w->size = ring_take(f, buf, want);
		w->size += take_from_writers(f, buf ? buf + w->size : NULL, want - w->size, wk);
		w->op->state[FIFO_FLAGS] |= FIFO_RECEIVED;
		serve(f, wk); /* the room it made may let waiting writes in */
		return MODEL_DONE;
	}
	if (mfifo_at_eof(f, w->op)) {
		w->size = 0;
		return MODEL_DONE;
	}
	if (queue)
		list_add_tail(&w->link, &f->readq);
	return MODEL_WOULD_BLOCK;
}

/* Make sure f has a ring, charging its footprint: 0, -ENOSPC or -ENOMEM, nothing changed. */
static int need_ring(struct mfifo *f)
{
	size_t bytes = ipc_ring_footprint(f->capacity);
	struct ipc_ring *r;

	if (f->ring)
		return 0;
	if (f->force)
		budget_charge_force(f->budget, bytes);
	else if (budget_charge(f->budget, bytes) != 0)
		return -ENOSPC;
	r = malloc(bytes);
	if (!r) {
		budget_uncharge(f->budget, bytes);
		return -ENOMEM;
	}
	ipc_ring_init(r, f->capacity, 0);
	f->ring = r;
	return 0;
}

size_t mfifo_peek(const struct mfifo *f, size_t off, void *buf, size_t n)
{
	return f->ring ? ipc_ring_peek(f->ring, off, buf, n) : 0;
}

int mfifo_restore(struct mfifo *f, const void *data, size_t len)
{
	bool force = f->force;
	int rc;

	if (len > f->capacity - mfifo_used(f))
		return -ENOSPC;
	f->force = true; /* what the log says is there must be here */
	rc = need_ring(f);
	f->force = force;
	if (rc)
		return rc;
	return ipc_ring_trywrite(f->ring, data, len) == (ssize_t)len ? 0 : -ENOSPC;
}

uint64_t mfifo_open_flags(const struct mfifo *f, const struct model_open *op)
{
	uint64_t flags = op->state[FIFO_FLAGS];

	if (op->state[FIFO_GEN] != f->writer_gen)
		flags |= FIFO_SAW_WRITER; /* a writer opened after it */
	return flags;
}

void mfifo_open_restore(const struct mfifo *f, struct model_open *op, uint64_t flags)
{
	op->state[FIFO_GEN] = f->writer_gen;
	op->state[FIFO_FLAGS] = flags & (FIFO_SAW_WRITER | FIFO_RECEIVED);
}

/* How many of rest bytes the waiting reads would take, handed to them directly. */
static size_t readers_take(const struct mfifo *f, size_t rest)
{
	const struct waiter *r;
	size_t take = 0;

	list_for_each_entry(r, &f->readq, link)
	{
		if (take >= rest)
			break;
		take += r->size < rest - take ? r->size : rest - take;
	}
	return take;
}

/* Hand w's next bytes to the waiting reads, in order, each as much as it asked for. */
static void hand_to_readers(struct mfifo *f, struct waiter *w, struct model_waker *wk)
{
	const struct mfifo_bytes *b = bytes_of(w);

	while (w->size < b->len && !list_empty(&f->readq)) {
		struct waiter *r = list_first_entry(&f->readq, struct waiter, link);
		size_t take = r->size < b->len - w->size ? r->size : b->len - w->size;

		give((void *)(uintptr_t)r->arg, b->data + w->size, take);
		r->size = take;
		r->op->state[FIFO_FLAGS] |= FIFO_RECEIVED;
		w->size += take;
		list_del(&r->link);
		model_wake(wk, r, 0);
	}
}

int mfifo_write(struct mfifo *f, struct waiter *w, bool queue, struct model_waker *wk)
{
	const struct mfifo_bytes *b = bytes_of(w);
	bool first = list_empty(&f->writeq); /* no write waits: this one may go in now */
	size_t before = w->size;
	size_t handed = 0;

	if (w->size == b->len)
		return MODEL_DONE;
	if (first && mfifo_used(f) == 0)
		handed = readers_take(f, b->len - w->size);
	/* the ring first, if the readers leave some: failing, nobody got anything */
	if (handed < b->len - w->size) {
		int rc = need_ring(f);

		if (rc)
			return rc;
	}
	if (handed)
		hand_to_readers(f, w, wk);
	if (first && w->size < b->len) {
		ssize_t k = ipc_ring_trywrite(f->ring, b->data + w->size, b->len - w->size);

		if (k > 0)
			w->size += (size_t)k;
	}
	if (w->size != before)
		wk->changed = true;
	if (w->size < b->len && queue)
		list_add_tail(&w->link, &f->writeq);
	serve(f, wk);
	return w->size == b->len ? MODEL_DONE : MODEL_WOULD_BLOCK;
}

ssize_t mfifo_write_result(const struct waiter *w, int rc)
{
	return rc == 0 || w->size > 0 ? (ssize_t)w->size : rc;
}

void mfifo_cancel(struct mfifo *f, struct waiter *w, struct model_waker *wk)
{
	list_del(&w->link);
	serve(f, wk); /* w may have been the head of writeq, holding back those behind */
}

void mfifo_kill(struct mfifo *f, int err, struct model_waker *wk)
{
	model_wake_all(wk, &f->readq, -err);
	model_wake_all(wk, &f->writeq, -err);
}

struct ipc_ring *mfifo_trim(struct mfifo *f)
{
	struct ipc_ring *r = f->ring;

	if (!r || ipc_ring_used(r) > 0 || !list_empty(&f->writeq))
		return NULL;
	f->ring = NULL;
	budget_uncharge(f->budget, ipc_ring_footprint(f->capacity));
	return r;
}

bool mfifo_readable(const struct mfifo *f)
{
	return mfifo_used(f) > 0;
}

bool mfifo_writable(const struct mfifo *f)
{
	uint32_t atomic = f->capacity < IPC_RING_ATOMIC ? f->capacity : IPC_RING_ATOMIC;

	return list_empty(&f->writeq) && f->capacity - mfifo_used(f) >= atomic;
}

void mfifo_stat_size(const struct mfifo *f, off_t *size, blkcnt_t *blocks)
{
	*size = mfifo_used(f);
	*blocks = f->ring ? (blkcnt_t)(ipc_ring_footprint(f->capacity) / 512) : 0;
}

int mfifo_check_capacity(const struct mfifo *f, uint64_t capacity)
{
	if (capacity < 1 || capacity > IPCFS_MAX_FIFO_CAPACITY)
		return -EINVAL;
	/* a ring is sized at its allocation: a new capacity waits for the next one */
	if (f->ring || !list_empty(&f->writeq))
		return -EBUSY;
	return MODEL_DONE;
}

int mfifo_set_capacity(struct mfifo *f, uint64_t capacity)
{
	int rc = mfifo_check_capacity(f, capacity);

	if (rc == MODEL_DONE)
		f->capacity = (uint32_t)capacity;
	return rc;
}

void mfifo_inspect(const struct mfifo *f, struct snapshot *snap, struct snap_obj *o)
{
	const struct waiter *w;

	snap_field_add(o, "bytes", mfifo_used(f));
	snap_field_add(o, "capacity", f->capacity);
	snap_field_add(o, "writers", f->writers);
	/* units: the bytes each asks for, or has still to write */
	list_for_each_entry(w, &f->readq, link)
		snap_wait_add(snap, o, w->pid, w->host, "read", (uint32_t)w->size, w->since);
	list_for_each_entry(w, &f->writeq, link)
		snap_wait_add(snap, o, w->pid, w->host, "write",
			      (uint32_t)(bytes_of(w)->len - w->size), w->since);
}
