/* SPDX-License-Identifier: MIT */
/*
 * test_model_fifo.c - the FIFO's state machine (model/fifo.h) without FUSE: bytes in order,
 * atomic and piecewise writes, waiting reads and writes served in order, the end-of-file
 * rules, O_NONBLOCK's probe, the memory budget, and the interrupt (cancel) and kill (removal)
 * paths with their partial-progress rule, readiness, stat and the inspection report.
 */
#include "model/fifo.h"
#include "defaults.h"
#include "inspect/snapshot.h"

#include <ipc/ring.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "testutil.h"
#include "modelutil.h"

static struct model_budget budget;
static struct model_open rd = { .flags = O_RDONLY };
static struct model_open wr = { .flags = O_WRONLY };

/* An empty FIFO of capacity bytes, charging budget (room for max bytes), with wr open for
 * writing and rd opened after it (so rd has seen a writer). */
static void fifo_with(struct mfifo *f, uint32_t capacity, uint64_t max)
{
	struct model_params p = { .budget = &budget, .fifo_capacity = capacity };

	budget = (struct model_budget){ .max = max };
	mfifo_init(f, &p);
	mfifo_open(f, &wr);
	mfifo_open(f, &rd);
}

/* A write of s (its bytes in b) by op. */
static void write_make(struct waiter *w, struct mfifo_bytes *b, struct model_open *op,
		       const char *s)
{
	b->data = (const unsigned char *)s;
	b->len = strlen(s);
	waiter_make(w, op, getpid(), FIFO_WRITE, (uint64_t)(uintptr_t)b);
}

/* A read of up to n bytes into buf (zeroed, n + 1 bytes) by op. */
static void read_make(struct waiter *w, struct model_open *op, char *buf, size_t n)
{
	memset(buf, 0, n + 1);
	waiter_make(w, op, getpid(), FIFO_READ, (uint64_t)(uintptr_t)buf);
	w->size = n;
}

/* Write s at once, all of it; whoever it serves goes to wk. */
static void put(struct mfifo *f, const char *s, struct model_waker *wk)
{
	struct mfifo_bytes b;
	struct waiter w;

	write_make(&w, &b, &wr, s);
	assert_int_equal(mfifo_write(f, &w, false, wk), MODEL_DONE);
	assert_int_equal(w.size, strlen(s));
}

/* Read up to n bytes at once through op; returns them (a static buffer). Whoever it serves
 * goes to wk. */
static const char *take(struct mfifo *f, struct model_open *op, size_t n, struct model_waker *wk)
{
	static char buf[8192];
	struct waiter w;

	assert_true(n < sizeof(buf));
	read_make(&w, op, buf, n);
	assert_int_equal(mfifo_read(f, &w, false, wk), MODEL_DONE);
	buf[w.size] = '\0';
	return buf;
}

static void test_model_fifo_bytes_come_out_in_order(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	off_t size;
	blkcnt_t blocks;

	(void)state;
	fifo_with(&f, 64, 1 << 20);
	mfifo_stat_size(&f, &size, &blocks);
	assert_int_equal(size, 0);
	assert_int_equal(blocks, 0); /* no buffer while empty */
	assert_int_equal(budget.used, 0);
	put(&f, "abc", &wk);
	put(&f, "def", &wk);
	mfifo_stat_size(&f, &size, &blocks);
	assert_int_equal(size, 6);
	assert_int_equal(blocks, ipc_ring_footprint(64) / 512);
	assert_int_equal(budget.used, ipc_ring_footprint(64));
	assert_string_equal(take(&f, &rd, 4, &wk), "abcd");
	assert_string_equal(take(&f, &rd, 10, &wk), "ef");
	/* drained: the ring goes, and its footprint back to the budget */
	assert_non_null(f.ring);
	free(mfifo_trim(&f));
	assert_null(f.ring);
	assert_int_equal(budget.used, 0);
	mfifo_fini(&f);
}

/* Cluster mode: a read with no buffer (another host's) takes its bytes, at once or waiting,
 * from the ring, from a waiting write, or from a write handing them on, and drops them; and a
 * forced FIFO takes its ring past the budget. */
static void test_model_fifo_a_read_without_buffer_takes_and_drops(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b;
	struct waiter w, big;
	char huge[3000];

	(void)state;
	fifo_with(&f, 64, 1 << 20);
	put(&f, "hello world", &wk);
	waiter_make(&w, &rd, getpid(), FIFO_READ, 0);
	w.size = 6;
	assert_int_equal(mfifo_read(&f, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.size, 6);
	assert_string_equal(take(&f, &rd, 20, &wk), "world");
	/* waiting, then served by a write handed straight to it */
	waiter_make(&w, &rd, getpid(), FIFO_READ, 0);
	w.size = 3;
	assert_int_equal(mfifo_read(&f, &w, true, &wk), MODEL_WOULD_BLOCK);
	put(&f, "abcdef", &wk);
	assert_int_equal(r.n, 1);
	assert_int_equal(w.size, 3);
	assert_string_equal(take(&f, &rd, 20, &wk), "def");
	/* larger than the ring: the rest waits in the write, taken from it */
	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	write_make(&big, &b, &wr, huge);
	assert_int_equal(mfifo_write(&f, &big, true, &wk), MODEL_WOULD_BLOCK);
	waiter_make(&w, &rd, getpid(), FIFO_READ, 0);
	w.size = 2000;
	assert_int_equal(mfifo_read(&f, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.size, 2000);
	assert_int_equal(mfifo_used(&f) + (b.len - big.size), sizeof(huge) - 1 - 2000);
	mfifo_kill(&f, EIDRM, &wk);
	free(mfifo_trim(&f));
	mfifo_fini(&f);
	/* forced: the ring is charged past the budget */
	fifo_with(&f, 64, 10);
	f.force = true;
	put(&f, "x", &wk);
	assert_int_equal(budget.used, ipc_ring_footprint(64));
	mfifo_fini(&f);
	assert_int_equal(budget.used, 0);
}

/* Up to IPC_RING_ATOMIC bytes go in whole or not at all; a larger write goes in pieces. */
static void test_model_fifo_atomic_writes_up_to_the_limit(void **state)
{
	static char big[IPC_RING_ATOMIC + 2];
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b;
	struct waiter w;

	(void)state;
	fifo_with(&f, 2 * IPC_RING_ATOMIC, 1 << 20);
	memset(big, 'x', sizeof(big) - 1);
	big[IPC_RING_ATOMIC + 1] = '\0';
	put(&f, big + 2, &wk); /* IPC_RING_ATOMIC - 1 bytes: IPC_RING_ATOMIC + 1 of room left */
	put(&f, "y", &wk);     /* room: IPC_RING_ATOMIC */
	put(&f, "z", &wk);     /* room: IPC_RING_ATOMIC - 1 */
	big[IPC_RING_ATOMIC] = '\0';
	write_make(&w, &b, &wr, big); /* IPC_RING_ATOMIC bytes: atomic, does not fit */
	assert_int_equal(mfifo_write(&f, &w, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(w.size, 0);
	assert_int_equal(mfifo_used(&f), IPC_RING_ATOMIC + 1);
	assert_false(mfifo_writable(&f));
	big[IPC_RING_ATOMIC] = 'x';
	write_make(&w, &b, &wr, big); /* one more: not atomic, what fits goes in */
	assert_int_equal(mfifo_write(&f, &w, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(w.size, IPC_RING_ATOMIC - 1);
	assert_int_equal(mfifo_used(&f), 2 * IPC_RING_ATOMIC);
	assert_true(wk.changed);
	assert_int_equal(r.n, 0);
	mfifo_fini(&f);
}

/* A write bigger than the capacity waits at the head and goes in as room frees, in order;
 * a later write neither overtakes it nor slips in between its pieces. */
static void test_model_fifo_big_write_served_piecewise_in_order(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b1, b2;
	struct waiter w1, w2;
	char out[64] = "";

	(void)state;
	fifo_with(&f, 8, 1 << 20);
	write_make(&w1, &b1, &wr, "0123456789ABCDEFGHIJ");
	assert_int_equal(mfifo_write(&f, &w1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(w1.size, 8);
	write_make(&w2, &b2, &wr, "xy");
	assert_int_equal(mfifo_write(&f, &w2, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(w2.size, 0);
	strcat(out, take(&f, &rd, 3, &wk)); /* 3 of room: the head takes them */
	assert_int_equal(w1.size, 11);
	assert_int_equal(r.n, 0);
	strcat(out, take(&f, &rd, 1, &wk));
	assert_int_equal(w1.size, 12);
	while (r.n < 2)
		strcat(out, take(&f, &rd, 5, &wk));
	assert_ptr_equal(r.w[0], &w1);
	assert_ptr_equal(r.w[1], &w2);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(r.rc[1], 0);
	assert_int_equal(mfifo_write_result(&w1, 0), 20);
	assert_int_equal(mfifo_write_result(&w2, 0), 2);
	while (mfifo_used(&f))
		strcat(out, take(&f, &rd, 5, &wk));
	assert_string_equal(out, "0123456789ABCDEFGHIJxy");
	mfifo_fini(&f);
}

/* A read that empties the ring takes the rest straight from the writes waiting, in order: a
 * write larger than the FIFO needs one read, not one per ring's worth. */
static void test_model_fifo_a_read_takes_past_the_ring_from_waiting_writes(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b1, b2;
	struct waiter w1, w2;

	(void)state;
	fifo_with(&f, 8, 1 << 20);
	write_make(&w1, &b1, &wr, "0123456789ABCDEFGHIJ");
	assert_int_equal(mfifo_write(&f, &w1, true, &wk), MODEL_WOULD_BLOCK);
	write_make(&w2, &b2, &wr, "xy");
	assert_int_equal(mfifo_write(&f, &w2, true, &wk), MODEL_WOULD_BLOCK);
	/* 8 from the ring, 4 from the head write; its last 8 then fill the ring it emptied */
	assert_string_equal(take(&f, &rd, 12, &wk), "0123456789AB");
	assert_int_equal(w1.size, 20);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w1);
	assert_int_equal(w2.size, 0);
	/* the ring, then the next write straight */
	assert_string_equal(take(&f, &rd, 64, &wk), "CDEFGHIJxy");
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[1], &w2);
	assert_int_equal(mfifo_write_result(&w1, r.rc[0]), 20);
	assert_int_equal(mfifo_write_result(&w2, r.rc[1]), 2);
	assert_int_equal(mfifo_used(&f), 0);
	assert_true(list_empty(&f.writeq));
	mfifo_fini(&f);
}

/* An atomic write waiting for room holds back a later one that would fit. */
static void test_model_fifo_later_write_does_not_overtake_a_waiting_one(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b1, b2;
	struct waiter w1, w2;

	(void)state;
	fifo_with(&f, 4, 1 << 20);
	put(&f, "abc", &wk);
	write_make(&w1, &b1, &wr, "XY");
	assert_int_equal(mfifo_write(&f, &w1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(w1.size, 0);
	write_make(&w2, &b2, &wr, "z"); /* one byte of room, but XY is first */
	assert_int_equal(mfifo_write(&f, &w2, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(w2.size, 0);
	assert_int_equal(mfifo_write(&f, &w2, true, &wk), MODEL_WOULD_BLOCK);
	assert_string_equal(take(&f, &rd, 2, &wk), "ab"); /* room for both, in order */
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &w1);
	assert_ptr_equal(r.w[1], &w2);
	assert_string_equal(take(&f, &rd, 9, &wk), "cXYz");
	mfifo_fini(&f);
}

/* Waiting reads are served in order, each with what is there up to its size; a write finding
 * them waiting hands its bytes straight over, without a ring (so without budget). */
static void test_model_fifo_waiting_reads_served_in_order(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter r1, r2, r3;
	char b1[4], b2[16], b3[16];

	(void)state;
	fifo_with(&f, 64, 0); /* no budget at all */
	read_make(&r1, &rd, b1, 3);
	read_make(&r2, &rd, b2, 5);
	read_make(&r3, &rd, b3, 10);
	assert_int_equal(mfifo_read(&f, &r1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mfifo_read(&f, &r2, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mfifo_read(&f, &r3, true, &wk), MODEL_WOULD_BLOCK);
	put(&f, "abcdefg", &wk);
	assert_null(f.ring);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &r1);
	assert_ptr_equal(r.w[1], &r2);
	assert_string_equal(b1, "abc");
	assert_string_equal(b2, "defg");
	assert_int_equal(r1.size, 3);
	assert_int_equal(r2.size, 4);
	assert_true(list_empty(&r1.link));
	assert_true(list_empty(&r2.link));
	assert_false(list_empty(&r3.link)); /* still waiting, nothing taken */
	assert_string_equal(b3, "");
	assert_int_equal(rd.state[FIFO_FLAGS] & FIFO_RECEIVED, FIFO_RECEIVED);
	mfifo_kill(&f, EIDRM, &wk);
	mfifo_fini(&f);
}

/* A write hands the waiting reads what they ask for and buffers the rest for later reads. */
static void test_model_fifo_write_hands_over_then_buffers_the_rest(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter r1, r2;
	char b1[8], b2[8];

	(void)state;
	fifo_with(&f, 64, 1 << 20);
	read_make(&r1, &rd, b1, 2);
	read_make(&r2, &rd, b2, 2);
	assert_int_equal(mfifo_read(&f, &r1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mfifo_read(&f, &r2, true, &wk), MODEL_WOULD_BLOCK);
	put(&f, "ab", &wk);
	assert_string_equal(b1, "ab");
	assert_false(list_empty(&r2.link));
	put(&f, "cde", &wk);
	assert_string_equal(b2, "cd");
	assert_string_equal(take(&f, &rd, 9, &wk), "e");
	mfifo_fini(&f);
}

/* A reader started before any writer waits for one, not end of file; a writer that opens and
 * goes without writing then gives it end of file. */
static void test_model_fifo_reader_before_any_writer_waits(void **state)
{
	struct model_params p = { .budget = &budget, .fifo_capacity = 64 };
	struct model_open early = { .flags = O_RDONLY }, w1 = { .flags = O_WRONLY };
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter rw;
	char buf[8];

	(void)state;
	budget = (struct model_budget){ .max = 1 << 20 };
	mfifo_init(&f, &p);
	mfifo_open(&f, &early);
	assert_false(mfifo_at_eof(&f, &early));
	read_make(&rw, &early, buf, 4);
	assert_int_equal(mfifo_read(&f, &rw, true, &wk), MODEL_WOULD_BLOCK);
	mfifo_open(&f, &w1);
	assert_int_equal(r.n, 0);
	mfifo_close(&f, &w1, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &rw);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(rw.size, 0); /* end of file */
	assert_true(mfifo_at_eof(&f, &early));
	mfifo_fini(&f);
}

/* Once every writer has gone, a reader that saw one reads what is left, then end of file;
 * a reader opened after them has seen none and waits. */
static void test_model_fifo_after_writers_gone_read_returns_0(void **state)
{
	struct model_open late = { .flags = O_RDONLY }, after = { .flags = O_RDONLY };
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;
	char buf[8];

	(void)state;
	fifo_with(&f, 64, 1 << 20);
	read_make(&w, &rd, buf, 4);
	assert_int_equal(mfifo_read(&f, &w, true, &wk), MODEL_WOULD_BLOCK);
	put(&f, "hi", &wk); /* handed over */
	assert_string_equal(buf, "hi");
	mfifo_open(&f, &late); /* while a writer has it open */
	/* a waiting reader that saw a writer gets end of file when the last goes */
	read_make(&w, &rd, buf, 4);
	assert_int_equal(mfifo_read(&f, &w, true, &wk), MODEL_WOULD_BLOCK);
	r.n = 0;
	mfifo_close(&f, &wr, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(w.size, 0);
	assert_true(mfifo_at_eof(&f, &rd));
	assert_false(mfifo_readable(&f));
	/* a reader that opened while a writer was open but got nothing still saw it */
	read_make(&w, &late, buf, 4);
	assert_int_equal(mfifo_read(&f, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.size, 0);
	/* one opened after them has seen none: it waits for a writer */
	mfifo_open(&f, &after);
	assert_false(mfifo_at_eof(&f, &after));
	read_make(&w, &after, buf, 4);
	assert_int_equal(mfifo_read(&f, &w, false, &wk), MODEL_WOULD_BLOCK);
	mfifo_fini(&f);
}

/* A read that leaves nothing behind still finds bytes a writer left: bytes come before end
 * of file. */
static void test_model_fifo_bytes_left_by_gone_writers_are_read_first(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);

	(void)state;
	fifo_with(&f, 64, 1 << 20);
	put(&f, "last", &wk);
	mfifo_close(&f, &wr, &wk);
	assert_false(mfifo_at_eof(&f, &rd));
	assert_string_equal(take(&f, &rd, 2, &wk), "la");
	assert_string_equal(take(&f, &rd, 9, &wk), "st");
	assert_string_equal(take(&f, &rd, 9, &wk), "");
	mfifo_fini(&f);
}

/* An interrupted read leaves without having taken anything; those behind it are served. */
static void test_model_fifo_cancel_of_a_read_takes_nothing(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter r1, r2;
	char b1[8], b2[8];

	(void)state;
	fifo_with(&f, 64, 1 << 20);
	read_make(&r1, &rd, b1, 4);
	read_make(&r2, &rd, b2, 4);
	assert_int_equal(mfifo_read(&f, &r1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mfifo_read(&f, &r2, true, &wk), MODEL_WOULD_BLOCK);
	mfifo_cancel(&f, &r1, &wk);
	assert_true(list_empty(&r1.link));
	assert_int_equal(r.n, 0);
	put(&f, "abcdef", &wk);
	assert_string_equal(b1, "");
	assert_int_equal(r1.size, 4);
	assert_string_equal(b2, "abcd");
	assert_string_equal(take(&f, &rd, 9, &wk), "ef");
	mfifo_fini(&f);
}

/* A write interrupted before any of its bytes went in has no effect: EINTR, those behind it
 * go on. */
static void test_model_fifo_cancel_of_a_write_before_progress_has_no_effect(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b1, b2;
	struct waiter w1, w2;

	(void)state;
	fifo_with(&f, 4, 1 << 20);
	put(&f, "abc", &wk);
	wk.changed = false;
	write_make(&w1, &b1, &wr, "XY"); /* atomic: waits for 2 bytes of room */
	write_make(&w2, &b2, &wr, "z");
	assert_int_equal(mfifo_write(&f, &w1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mfifo_write(&f, &w2, true, &wk), MODEL_WOULD_BLOCK);
	assert_false(wk.changed);
	mfifo_cancel(&f, &w1, &wk);
	assert_int_equal(mfifo_write_result(&w1, -EINTR), -EINTR);
	assert_int_equal(r.n, 1); /* the one room was there for */
	assert_ptr_equal(r.w[0], &w2);
	assert_string_equal(take(&f, &rd, 9, &wk), "abcz");
	mfifo_fini(&f);
}

/* A write interrupted after part of it went in answers that count, and the part stays in. */
static void test_model_fifo_cancel_of_a_write_after_progress_keeps_its_count(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b1, b2;
	struct waiter w1, w2;
	char out[32] = "";

	(void)state;
	fifo_with(&f, 4, 1 << 20);
	write_make(&w1, &b1, &wr, "0123456789");
	write_make(&w2, &b2, &wr, "z");
	assert_int_equal(mfifo_write(&f, &w1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mfifo_write(&f, &w2, true, &wk), MODEL_WOULD_BLOCK);
	strcat(out, take(&f, &rd, 2, &wk));
	assert_int_equal(w1.size, 6);
	mfifo_cancel(&f, &w1, &wk);
	assert_int_equal(mfifo_write_result(&w1, -EINTR), 6);
	assert_int_equal(r.n, 0); /* no room for z yet */
	strcat(out, take(&f, &rd, 1, &wk));
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w2);
	strcat(out, take(&f, &rd, 9, &wk));
	assert_string_equal(out, "012345z");
	mfifo_fini(&f);
}

/* Removal fails every waiter with its errno; a write that made progress still reports it. */
static void test_model_fifo_kill_gives_every_waiter_the_errno(void **state)
{
	struct mfifo rf, wf;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b1, b2;
	struct waiter r1, r2, w1, w2;
	char x1[4], x2[4];

	(void)state;
	fifo_with(&rf, 4, 1 << 20);
	read_make(&r1, &rd, x1, 3);
	read_make(&r2, &rd, x2, 3);
	assert_int_equal(mfifo_read(&rf, &r1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mfifo_read(&rf, &r2, true, &wk), MODEL_WOULD_BLOCK);
	mfifo_kill(&rf, EIDRM, &wk);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &r1);
	assert_ptr_equal(r.w[1], &r2);
	assert_int_equal(r.rc[0], -EIDRM);
	assert_int_equal(r.rc[1], -EIDRM);
	assert_true(list_empty(&rf.readq));
	mfifo_fini(&rf);

	wk = waker_of(&r);
	fifo_with(&wf, 4, 1 << 20);
	write_make(&w1, &b1, &wr, "0123456");
	write_make(&w2, &b2, &wr, "z");
	assert_int_equal(mfifo_write(&wf, &w1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mfifo_write(&wf, &w2, true, &wk), MODEL_WOULD_BLOCK);
	mfifo_kill(&wf, EIO, &wk);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rc[0], -EIO);
	assert_int_equal(r.rc[1], -EIO);
	assert_int_equal(mfifo_write_result(&w1, r.rc[0]), 4);
	assert_int_equal(mfifo_write_result(&w2, r.rc[1]), -EIO);
	assert_true(list_empty(&wf.writeq));
	assert_int_equal(mfifo_used(&wf), 4);
	mfifo_fini(&wf);
	assert_int_equal(budget.used, 0);
}

/* No budget for the ring: ENOSPC and nothing changed, not even for the readers waiting; what
 * the readers take whole needs no ring. */
static void test_model_fifo_budget_enospc_changes_nothing(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b;
	struct waiter w, rw;
	char buf[8];

	(void)state;
	fifo_with(&f, 64, ipc_ring_footprint(64) - 1);
	write_make(&w, &b, &wr, "abc");
	assert_int_equal(mfifo_write(&f, &w, true, &wk), -ENOSPC);
	assert_int_equal(w.size, 0);
	assert_true(list_empty(&w.link));
	assert_null(f.ring);
	assert_int_equal(budget.used, 0);
	assert_false(wk.changed);
	/* a reader of 2 would take part of it: still nothing */
	read_make(&rw, &rd, buf, 2);
	assert_int_equal(mfifo_read(&f, &rw, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mfifo_write(&f, &w, true, &wk), -ENOSPC);
	assert_int_equal(r.n, 0);
	assert_int_equal(w.size, 0);
	assert_string_equal(buf, "");
	assert_false(list_empty(&rw.link));
	assert_false(wk.changed);
	/* the reader takes all of a 2-byte write: no ring needed */
	write_make(&w, &b, &wr, "hi");
	assert_int_equal(mfifo_write(&f, &w, false, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_string_equal(buf, "hi");
	assert_null(f.ring);
	mfifo_fini(&f);
}

/* O_NONBLOCK's probe (queue false) that would block changes nothing. */
static void test_model_fifo_nonblocking_probe_changes_nothing(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b;
	struct waiter w, rw;
	char buf[8];

	(void)state;
	fifo_with(&f, 4, 1 << 20);
	/* a read of an empty FIFO with a writer open */
	read_make(&rw, &rd, buf, 4);
	assert_int_equal(mfifo_read(&f, &rw, false, &wk), MODEL_WOULD_BLOCK);
	assert_true(list_empty(&f.readq));
	assert_true(list_empty(&rw.link));
	assert_int_equal(rd.state[FIFO_FLAGS] & FIFO_RECEIVED, 0);
	/* a write to a full one */
	put(&f, "abcd", &wk);
	wk = waker_of(&r);
	write_make(&w, &b, &wr, "e");
	assert_int_equal(mfifo_write(&f, &w, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(w.size, 0);
	assert_true(list_empty(&f.writeq));
	assert_true(list_empty(&w.link));
	assert_false(wk.changed);
	assert_int_equal(mfifo_used(&f), 4);
	assert_int_equal(r.n, 0);
	assert_string_equal(take(&f, &rd, 9, &wk), "abcd");
	mfifo_fini(&f);
}

/* Readable with bytes, at end of file once writers are gone, writable with room for an
 * atomic write and no write waiting. */
static void test_model_fifo_readiness(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b;
	struct waiter w;

	(void)state;
	fifo_with(&f, 8, 1 << 20);
	assert_false(mfifo_readable(&f));
	assert_false(mfifo_at_eof(&f, &rd));
	assert_true(mfifo_writable(&f));
	put(&f, "a", &wk);
	assert_true(mfifo_readable(&f));
	assert_false(mfifo_writable(&f)); /* 7 of room < the capacity, the atomic limit here */
	write_make(&w, &b, &wr, "0123456789ABCDEFGHIJ");
	assert_int_equal(mfifo_write(&f, &w, true, &wk), MODEL_WOULD_BLOCK);
	take(&f, &rd, 8, &wk);
	assert_int_equal(w.size, 15);
	assert_false(mfifo_writable(&f)); /* a write waits */
	mfifo_cancel(&f, &w, &wk);
	take(&f, &rd, 8, &wk);
	assert_true(mfifo_writable(&f));
	mfifo_close(&f, &wr, &wk);
	assert_true(mfifo_at_eof(&f, &rd));
	mfifo_fini(&f);
}

/* user.capacity: within bounds, and only while the FIFO holds no ring. */
static void test_model_fifo_capacity_changes_only_while_empty(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);

	(void)state;
	fifo_with(&f, 8, 1 << 20);
	assert_int_equal(mfifo_set_capacity(&f, 0), -EINVAL);
	assert_int_equal(mfifo_set_capacity(&f, IPCFS_MAX_FIFO_CAPACITY + 1ULL), -EINVAL);
	put(&f, "ab", &wk);
	assert_int_equal(mfifo_set_capacity(&f, 16), -EBUSY);
	assert_int_equal(f.capacity, 8);
	take(&f, &rd, 8, &wk);
	free(mfifo_trim(&f));
	assert_int_equal(mfifo_set_capacity(&f, 16), MODEL_DONE);
	put(&f, "0123456789abcdef", &wk);
	assert_int_equal(budget.used, ipc_ring_footprint(16));
	mfifo_fini(&f);
	assert_int_equal(budget.used, 0);
}

static void test_model_fifo_inspect_lists_waiters_in_order(void **state)
{
	struct mfifo f;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mfifo_bytes b;
	struct waiter w, rw;
	struct snapshot snap = { 0 };
	struct snap_obj *o = snapshot_add_obj(&snap);
	char buf[8];

	(void)state;
	fifo_with(&f, 4, 1 << 20);
	write_make(&w, &b, &wr, "0123456");
	assert_int_equal(mfifo_write(&f, &w, true, &wk), MODEL_WOULD_BLOCK);
	mfifo_inspect(&f, &snap, o);
	assert_int_equal(snap_field_get(o, "bytes", 99), 4);
	assert_int_equal(snap_field_get(o, "capacity", 99), 4);
	assert_int_equal(snap_field_get(o, "writers", 99), 1);
	assert_int_equal(o->nwaits, 1);
	assert_string_equal(o->waits[0].op, "write");
	assert_int_equal(o->waits[0].units, 3);
	snapshot_free(&snap);
	mfifo_kill(&f, EIDRM, &wk);
	mfifo_fini(&f);

	o = snapshot_add_obj(&snap);
	fifo_with(&f, 4, 1 << 20);
	read_make(&rw, &rd, buf, 7);
	assert_int_equal(mfifo_read(&f, &rw, true, &wk), MODEL_WOULD_BLOCK);
	mfifo_inspect(&f, &snap, o);
	assert_int_equal(o->nwaits, 1);
	assert_string_equal(o->waits[0].op, "read");
	assert_int_equal(o->waits[0].units, 7);
	snapshot_free(&snap);
	mfifo_kill(&f, EIDRM, &wk);
	mfifo_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_fifo_bytes_come_out_in_order),
		cmocka_unit_test(test_model_fifo_atomic_writes_up_to_the_limit),
		cmocka_unit_test(test_model_fifo_big_write_served_piecewise_in_order),
		cmocka_unit_test(test_model_fifo_a_read_takes_past_the_ring_from_waiting_writes),
		cmocka_unit_test(test_model_fifo_later_write_does_not_overtake_a_waiting_one),
		cmocka_unit_test(test_model_fifo_waiting_reads_served_in_order),
		cmocka_unit_test(test_model_fifo_write_hands_over_then_buffers_the_rest),
		cmocka_unit_test(test_model_fifo_reader_before_any_writer_waits),
		cmocka_unit_test(test_model_fifo_after_writers_gone_read_returns_0),
		cmocka_unit_test(test_model_fifo_bytes_left_by_gone_writers_are_read_first),
		cmocka_unit_test(test_model_fifo_cancel_of_a_read_takes_nothing),
		cmocka_unit_test(test_model_fifo_cancel_of_a_write_before_progress_has_no_effect),
		cmocka_unit_test(test_model_fifo_cancel_of_a_write_after_progress_keeps_its_count),
		cmocka_unit_test(test_model_fifo_kill_gives_every_waiter_the_errno),
		cmocka_unit_test(test_model_fifo_budget_enospc_changes_nothing),
		cmocka_unit_test(test_model_fifo_nonblocking_probe_changes_nothing),
		cmocka_unit_test(test_model_fifo_readiness),
		cmocka_unit_test(test_model_fifo_capacity_changes_only_while_empty),
		cmocka_unit_test(test_model_fifo_inspect_lists_waiters_in_order),
		cmocka_unit_test(test_model_fifo_a_read_without_buffer_takes_and_drops),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
