/* SPDX-License-Identifier: MIT */
/*
 * test_model_mq.c - the message queue's state machine (model/mq.h) without FUSE: message
 * boundaries, priorities, partial reads, a full queue and its waiting senders, the hand-off
 * to a waiting receiver, the limits, the interrupt (cancel), kill (removal), close and
 * put-back paths, the budget, readiness and the inspection report.
 */
#include "model/mq.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <unistd.h>

#include "testutil.h"
#include "modelutil.h"

static struct model_budget budget;

/* An empty queue of max_msgs messages of at most msgsize bytes, and a fresh budget. */
static void mq_with(struct mmq *q, uint32_t msgsize, uint32_t max_msgs)
{
	struct model_params p = { .budget = &budget,
				  .mq_msgsize = msgsize,
				  .mq_max_msgs = max_msgs };

	budget.used = 0;
	budget.max = UINT64_MAX;
	mmq_init(q, &p);
}

/* An open reading nothing, sending at prio (opened as q@prio). */
static void open_with(struct model_open *op, unsigned prio)
{
	memset(op, 0, sizeof(*op));
	op->prio = prio;
	mmq_open_init(op);
}

/* w: a send of text through op (its message made), not asked yet. */
static void send_make(struct mmq *q, struct waiter *w, struct model_open *op, const char *text)
{
	struct mmq_msg *m;

	assert_int_equal(mmq_msg_new(q, op, text, strlen(text), &m), 0);
	waiter_make(w, op, getpid(), MMQ_SEND, (uintptr_t)m);
	w->size = strlen(text);
}

/* Send text through op; it must go in at once. */
static void send_now(struct mmq *q, struct model_open *op, const char *text, struct model_waker *wk)
{
	struct waiter w;

	send_make(q, &w, op, text);
	assert_int_equal(mmq_send(q, &w, false, wk), MODEL_DONE);
	assert_int_equal(w.arg, 0); /* the queue owns it */
}

/* What the served receive w returns, as a string (valid until the next call); w's answer is
 * then delivered (freed). */
static const char *got_text(struct mmq *q, struct waiter *w)
{
	static char buf[256];

	assert_true(w->kind == MMQ_GOT_MSG || w->kind == MMQ_GOT_PART || w->kind == MMQ_GOT_END);
	assert_true(w->size < sizeof(buf));
	if (w->size)
		memcpy(buf, mmq_got_data(w), w->size);
	buf[w->size] = '\0';
	mmq_got_free(q, w);
	return buf;
}

/* Receive up to size bytes through op; it must return at once. */
static const char *recv_now(struct mmq *q, struct model_open *op, size_t size,
			    struct model_waker *wk)
{
	struct waiter w;

	waiter_make(&w, op, getpid(), MMQ_RECV, size);
	assert_int_equal(mmq_receive(q, &w, false, wk), MODEL_DONE);
	return got_text(q, &w);
}

/* Free everything and check that every byte charged came back. */
static void mq_done(struct mmq *q)
{
	mmq_fini(q);
	assert_int_equal(budget.used, 0);
}

static void test_model_mq_one_write_is_one_message(void **state)
{
	struct mmq q;
	struct model_open op;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	uint64_t size, blocks;

	(void)state;
	mq_with(&q, 64, 8);
	open_with(&op, 0);
	send_now(&q, &op, "ab", &wk);
	send_now(&q, &op, "cde", &wk);
	assert_true(wk.changed);
	mmq_stat(&q, &size, &blocks);
	assert_int_equal(size, 2);
	assert_int_equal(blocks, 1);
	assert_int_equal(q.bytes, 5);
	/* each read returns one message, however large the read, then 0 */
	assert_string_equal(recv_now(&q, &op, 100, &wk), "ab");
	assert_string_equal(recv_now(&q, &op, 100, &wk), "");
	assert_string_equal(recv_now(&q, &op, 100, &wk), "cde");
	assert_string_equal(recv_now(&q, &op, 100, &wk), "");
	assert_int_equal(q.count, 0);
	assert_int_equal(r.n, 0);
	mq_done(&q);
}

static void test_model_mq_priorities_highest_first_fifo_within_one(void **state)
{
	struct mmq q;
	struct model_open p0, p3, p5, rd;
	struct woken r;
	struct model_waker wk = waker_of(&r);

	(void)state;
	mq_with(&q, 64, 8);
	open_with(&p0, 0);
	open_with(&p3, 3);
	open_with(&p5, 5);
	open_with(&rd, 0);
	send_now(&q, &p0, "zero", &wk);
	send_now(&q, &p5, "five-a", &wk);
	send_now(&q, &p3, "three", &wk);
	send_now(&q, &p5, "five-b", &wk);
	send_now(&q, &p0, "zero-b", &wk);
	assert_int_equal(q.per_prio[5], 2);
	assert_string_equal(recv_now(&q, &rd, 100, &wk), "five-a");
	assert_string_equal(recv_now(&q, &rd, 100, &wk), "");
	assert_string_equal(recv_now(&q, &rd, 100, &wk), "five-b");
	assert_string_equal(recv_now(&q, &rd, 100, &wk), "");
	assert_string_equal(recv_now(&q, &rd, 100, &wk), "three");
	assert_string_equal(recv_now(&q, &rd, 100, &wk), "");
	assert_string_equal(recv_now(&q, &rd, 100, &wk), "zero");
	assert_string_equal(recv_now(&q, &rd, 100, &wk), "");
	assert_string_equal(recv_now(&q, &rd, 100, &wk), "zero-b");
	mq_done(&q);
}

static void test_model_mq_partial_reads_then_rest_then_zero(void **state)
{
	struct mmq q;
	struct model_open op, other;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;

	(void)state;
	mq_with(&q, 64, 8);
	open_with(&op, 0);
	open_with(&other, 0);
	send_now(&q, &op, "hello world", &wk);
	send_now(&q, &op, "next", &wk);
	waiter_make(&w, &op, getpid(), MMQ_RECV, 4);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.kind, MMQ_GOT_PART);
	assert_string_equal(got_text(&q, &w), "hell");
	/* the message left the queue with its first bytes: it is the open's now */
	assert_int_equal(q.count, 1);
	assert_true(mmq_readable(&q, &op));
	assert_string_equal(recv_now(&q, &op, 4, &wk), "o wo");
	/* another open gets the next message, not the rest of this one */
	assert_string_equal(recv_now(&q, &other, 100, &wk), "next");
	waiter_make(&w, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.kind, MMQ_GOT_MSG);
	assert_string_equal(got_text(&q, &w), "rld");
	assert_true(mmq_readable(&q, &op)); /* the 0 is ready */
	assert_string_equal(recv_now(&q, &op, 100, &wk), "");
	assert_false(mmq_readable(&q, &op));
	waiter_make(&w, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_WOULD_BLOCK);
	assert_true(list_empty(&q.readq));
	mq_done(&q);
}

static void test_model_mq_close_drops_the_unread_rest(void **state)
{
	struct mmq q;
	struct model_open op;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct mmq_msg *m;

	(void)state;
	mq_with(&q, 64, 8);
	open_with(&op, 0);
	send_now(&q, &op, "abcdef", &wk);
	assert_string_equal(recv_now(&q, &op, 2, &wk), "ab");
	m = mmq_close(&q, &op);
	assert_non_null(m);
	assert_int_equal(m->len, 6);
	assert_int_equal(op.state[MMQ_MSG], 0);
	mmq_msg_free(&q, m);
	assert_null(mmq_close(&q, &op)); /* nothing more */
	mq_done(&q);
}

static void test_model_mq_full_queue_would_block_then_a_receive_serves_the_sender(void **state)
{
	struct mmq q;
	struct model_open op;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter s3, s4;
	struct mmq_msg *m3;

	(void)state;
	mq_with(&q, 64, 2);
	open_with(&op, 0);
	send_now(&q, &op, "one", &wk);
	send_now(&q, &op, "two", &wk);
	assert_false(mmq_writable(&q));
	send_make(&q, &s3, &op, "three");
	m3 = (struct mmq_msg *)(uintptr_t)s3.arg;
	/* a probe (O_NONBLOCK) changes nothing */
	assert_int_equal(mmq_send(&q, &s3, false, &wk), MODEL_WOULD_BLOCK);
	assert_true(list_empty(&q.writeq));
	assert_int_equal(q.count, 2);
	assert_ptr_equal((void *)(uintptr_t)s3.arg, m3);
	assert_int_equal(mmq_send(&q, &s3, true, &wk), MODEL_WOULD_BLOCK);
	send_make(&q, &s4, &op, "four");
	assert_int_equal(mmq_send(&q, &s4, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(r.n, 0);
	/* a receive frees a slot: the first waiting send goes in, the second waits on */
	wk.changed = false;
	assert_string_equal(recv_now(&q, &op, 100, &wk), "one");
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &s3);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(s3.arg, 0); /* the queue owns its message */
	assert_true(wk.changed);
	assert_int_equal(q.count, 2);
	assert_false(list_empty(&s4.link));
	assert_string_equal(recv_now(&q, &op, 100, &wk), "");
	assert_string_equal(recv_now(&q, &op, 100, &wk), "two");
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[1], &s4);
	assert_string_equal(recv_now(&q, &op, 100, &wk), "");
	assert_string_equal(recv_now(&q, &op, 100, &wk), "three");
	assert_string_equal(recv_now(&q, &op, 100, &wk), "");
	assert_string_equal(recv_now(&q, &op, 100, &wk), "four");
	mq_done(&q);
}

/* A send while others wait to send does not overtake them, even with room. */
static void test_model_mq_send_does_not_overtake_waiting_senders(void **state)
{
	struct mmq q;
	struct model_open op;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter s2, s3;

	(void)state;
	mq_with(&q, 64, 1);
	open_with(&op, 0);
	send_now(&q, &op, "one", &wk);
	send_make(&q, &s2, &op, "two");
	assert_int_equal(mmq_send(&q, &s2, true, &wk), MODEL_WOULD_BLOCK);
	/* room made by raising the limit serves s2 */
	assert_int_equal(mmq_set_limit(&q, MMQ_MAX_MSGS, 0, &wk), -EINVAL);
	assert_int_equal(mmq_set_limit(&q, MMQ_MAX_MSGS, IPCFS_MAX_MQ_MAX_MSGS + 1ull, &wk),
			 -EINVAL);
	assert_int_equal(mmq_get_limit(&q, MMQ_MAX_MSGS), 1);
	assert_int_equal(r.n, 0);
	assert_int_equal(mmq_set_limit(&q, MMQ_MAX_MSGS, 3, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &s2);
	assert_int_equal(mmq_get_limit(&q, MMQ_MAX_MSGS), 3);
	assert_true(mmq_writable(&q));
	send_make(&q, &s3, &op, "three");
	assert_int_equal(mmq_send(&q, &s3, true, &wk), MODEL_DONE);
	assert_int_equal(q.count, 3);
	mq_done(&q);
}

static void test_model_mq_send_hands_its_message_to_a_waiting_receiver(void **state)
{
	struct mmq q;
	struct model_open rop, rop2, sop;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter rw, rw2;

	(void)state;
	mq_with(&q, 64, 8);
	open_with(&rop, 0);
	open_with(&rop2, 0);
	open_with(&sop, 7);
	waiter_make(&rw, &rop, getpid(), MMQ_RECV, 100);
	waiter_make(&rw2, &rop2, getpid(), MMQ_RECV, 100);
	/* a probe (O_NONBLOCK) changes nothing */
	assert_int_equal(mmq_receive(&q, &rw, false, &wk), MODEL_WOULD_BLOCK);
	assert_true(list_empty(&q.readq));
	assert_int_equal(mmq_receive(&q, &rw, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmq_receive(&q, &rw2, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(rw.kind, MMQ_RECV); /* took nothing while waiting */
	send_now(&q, &sop, "hi", &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &rw);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(q.count, 0);
	assert_int_equal(rw.kind, MMQ_GOT_MSG);
	assert_string_equal(got_text(&q, &rw), "hi");
	/* the second receive waits on and is first for the next message */
	assert_false(mmq_readable(&q, &rop2));
	send_now(&q, &sop, "ho", &wk);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[1], &rw2);
	assert_string_equal(got_text(&q, &rw2), "ho");
	mq_done(&q);
}

/* While receives wait, an open that needs a new message waits behind them. */
static void test_model_mq_receive_does_not_overtake_waiting_receivers(void **state)
{
	struct mmq q;
	struct model_open a, b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter wa, wb;

	(void)state;
	mq_with(&q, 64, 8);
	open_with(&a, 0);
	open_with(&b, 0);
	waiter_make(&wa, &a, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &wa, true, &wk), MODEL_WOULD_BLOCK);
	/* as if a message were there that wa has not got yet (e.g. out of memory) */
	list_del(&wa.link);
	send_now(&q, &a, "m", &wk);
	list_add_tail(&wa.link, &q.readq);
	assert_false(mmq_readable(&q, &b));
	waiter_make(&wb, &b, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &wb, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(q.count, 1);
	mmq_cancel(&q, &wa, &wk);
	assert_int_equal(r.n, 0);
	assert_string_equal(recv_now(&q, &b, 100, &wk), "m");
	mq_done(&q);
}

static void test_model_mq_emsgsize_changes_nothing(void **state)
{
	struct mmq q;
	struct model_open op;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;
	struct mmq_msg *m = NULL;
	uint64_t used;

	(void)state;
	mq_with(&q, 4, 8);
	open_with(&op, 0);
	assert_int_equal(mmq_msg_new(&q, &op, "12345", 5, &m), -EMSGSIZE);
	assert_null(m);
	assert_int_equal(budget.used, 0);
	assert_int_equal(mmq_msg_new(&q, &op, "", 0, &m), -EINVAL); /* sends nothing */
	/* made under the old limit, sent after it shrank */
	send_make(&q, &w, &op, "1234");
	used = budget.used;
	assert_int_equal(mmq_set_limit(&q, MMQ_MSGSIZE, 3, &wk), MODEL_DONE);
	assert_int_equal(mmq_get_limit(&q, MMQ_MSGSIZE), 3);
	assert_int_equal(mmq_send(&q, &w, true, &wk), -EMSGSIZE);
	assert_int_equal(q.count, 0);
	assert_true(list_empty(&q.writeq));
	assert_true(list_empty(&w.link));
	assert_int_equal(budget.used, used); /* still the caller's */
	mmq_msg_free(&q, (struct mmq_msg *)(uintptr_t)w.arg);
	assert_int_equal(mmq_set_limit(&q, MMQ_MSGSIZE, IPCFS_MAX_MQ_MSGSIZE + 1ull, &wk), -EINVAL);
	assert_int_equal(mmq_get_limit(&q, MMQ_MSGSIZE), 3);
	mq_done(&q);
}

static void test_model_mq_budget_spent_is_enospc(void **state)
{
	struct mmq q;
	struct model_open op;
	struct mmq_msg *m1, *m2 = NULL;

	(void)state;
	mq_with(&q, 64, 8);
	budget.max = sizeof(struct mmq_msg) + 10;
	open_with(&op, 0);
	assert_int_equal(mmq_msg_new(&q, &op, "0123456789", 10, &m1), 0);
	assert_int_equal(budget.used, sizeof(struct mmq_msg) + 10);
	assert_int_equal(mmq_msg_new(&q, &op, "x", 1, &m2), -ENOSPC);
	assert_null(m2);
	assert_int_equal(budget.used, sizeof(struct mmq_msg) + 10);
	mmq_msg_free(&q, m1);
	assert_int_equal(budget.used, 0);
	assert_int_equal(mmq_msg_new(&q, &op, "x", 1, &m2), 0);
	mmq_msg_free(&q, m2);
	open_with(&op, MQ_PRIOS); /* no such priority */
	assert_int_equal(mmq_msg_new(&q, &op, "x", 1, &m2), -EINVAL);
	mq_done(&q);
}

/* An interrupted receive took nothing: the message is the next receive's. */
static void test_model_mq_cancel_of_a_waiting_receive_takes_nothing(void **state)
{
	struct mmq q;
	struct model_open rop, sop;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter rw;

	(void)state;
	mq_with(&q, 64, 8);
	open_with(&rop, 0);
	open_with(&sop, 0);
	waiter_make(&rw, &rop, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &rw, true, &wk), MODEL_WOULD_BLOCK);
	mmq_cancel(&q, &rw, &wk);
	assert_true(list_empty(&rw.link));
	assert_true(list_empty(&q.readq));
	assert_int_equal(r.n, 0);
	send_now(&q, &sop, "kept", &wk);
	assert_int_equal(r.n, 0);
	assert_int_equal(rw.kind, MMQ_RECV);
	assert_int_equal(rop.state[MMQ_MSG], 0);
	assert_int_equal(rop.state[MMQ_OFF], 0);
	assert_int_equal(q.count, 1);
	assert_string_equal(recv_now(&q, &rop, 100, &wk), "kept");
	mq_done(&q);
}

/* An interrupted send sent nothing: its message is still its own, and later room is the
 * next sender's. */
static void test_model_mq_cancel_of_a_waiting_send_sends_nothing(void **state)
{
	struct mmq q;
	struct model_open op;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter s2, s3;
	struct mmq_msg *m2;

	(void)state;
	mq_with(&q, 64, 1);
	open_with(&op, 0);
	send_now(&q, &op, "one", &wk);
	send_make(&q, &s2, &op, "two");
	m2 = (struct mmq_msg *)(uintptr_t)s2.arg;
	send_make(&q, &s3, &op, "three");
	assert_int_equal(mmq_send(&q, &s2, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmq_send(&q, &s3, true, &wk), MODEL_WOULD_BLOCK);
	mmq_cancel(&q, &s2, &wk);
	assert_int_equal(r.n, 0);
	assert_ptr_equal((void *)(uintptr_t)s2.arg, m2);
	assert_int_equal(q.count, 1);
	mmq_msg_free(&q, m2);
	assert_string_equal(recv_now(&q, &op, 100, &wk), "one");
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &s3);
	assert_string_equal(recv_now(&q, &op, 100, &wk), "");
	assert_string_equal(recv_now(&q, &op, 100, &wk), "three");
	assert_int_equal(q.count, 0);
	mq_done(&q);
}

static void test_model_mq_kill_fails_every_waiter_and_later_io(void **state)
{
	struct mmq q, full;
	struct model_open op;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter r1, r2, s, w;

	(void)state;
	mq_with(&q, 64, 8);
	open_with(&op, 0);
	waiter_make(&r1, &op, getpid(), MMQ_RECV, 100);
	waiter_make(&r2, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &r1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmq_receive(&q, &r2, true, &wk), MODEL_WOULD_BLOCK);
	mmq_kill(&q, EIDRM, &wk);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &r1);
	assert_ptr_equal(r.w[1], &r2);
	assert_int_equal(r.rc[0], -EIDRM);
	assert_int_equal(r.rc[1], -EIDRM);
	assert_true(list_empty(&q.readq));
	/* later I/O fails, and changes nothing */
	send_make(&q, &w, &op, "late");
	assert_int_equal(mmq_send(&q, &w, true, &wk), -EIDRM);
	assert_true(list_empty(&q.writeq));
	mmq_msg_free(&q, (struct mmq_msg *)(uintptr_t)w.arg);
	waiter_make(&w, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &w, true, &wk), -EIDRM);
	assert_true(list_empty(&q.readq));
	mq_done(&q);

	/* a waiting send fails and keeps its message (its caller frees it) */
	mq_with(&full, 64, 1);
	send_now(&full, &op, "in", &wk);
	send_make(&full, &s, &op, "waits");
	assert_int_equal(mmq_send(&full, &s, true, &wk), MODEL_WOULD_BLOCK);
	wk = waker_of(&r);
	mmq_kill(&full, EIO, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &s);
	assert_int_equal(r.rc[0], -EIO);
	assert_int_not_equal(s.arg, 0);
	mmq_msg_free(&full, (struct mmq_msg *)(uintptr_t)s.arg);
	mq_done(&full);
}

/* A message whose answer could not be delivered is first in line again. */
static void test_model_mq_putback_keeps_the_message_first_in_line(void **state)
{
	struct mmq q;
	struct model_open op, hi;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w, s;

	(void)state;
	mq_with(&q, 64, 2);
	open_with(&op, 0);
	open_with(&hi, 9);
	send_now(&q, &op, "first", &wk);
	send_now(&q, &op, "second", &wk);
	send_make(&q, &s, &op, "third");
	assert_int_equal(mmq_send(&q, &s, true, &wk), MODEL_WOULD_BLOCK);
	waiter_make(&w, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.kind, MMQ_GOT_MSG);
	assert_int_equal(r.n, 1); /* its slot let the waiting send in */
	assert_int_equal(q.count, 2);
	/* the reply failed: back before "second", even though that leaves 3 in a queue of 2 */
	mmq_putback(&q, &w, &wk);
	assert_int_equal(w.arg, 0);
	assert_int_equal(q.count, 3);
	assert_false(mmq_writable(&q));
	assert_int_equal(op.state[MMQ_OFF], 0); /* no end of message to report: none was read */
	assert_string_equal(recv_now(&q, &op, 100, &wk), "first");
	assert_string_equal(recv_now(&q, &op, 100, &wk), "");

	/* given back while a receive waits: that receive gets it */
	mq_done(&q);
	mq_with(&q, 64, 2);
	send_now(&q, &hi, "urgent", &wk);
	waiter_make(&w, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	waiter_make(&s, &hi, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &s, true, &wk), MODEL_WOULD_BLOCK);
	wk = waker_of(&r);
	mmq_putback(&q, &w, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &s);
	assert_string_equal(got_text(&q, &s), "urgent");
	mq_done(&q);
}

/* The bytes of a partial read that could not be delivered are unread again, as are the rest
 * of a message and its end. */
/* A reader gone after the first part of a message was handed to it: the message goes back to
 * the queue whole, first in line, for any other open to receive. */
static void test_model_mq_putback_of_a_first_part_requeues_the_message(void **state)
{
	struct mmq q;
	struct model_open op1, op2;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;

	(void)state;
	mq_with(&q, 64, 4);
	open_with(&op1, 0);
	open_with(&op2, 0);
	send_now(&q, &op1, "abcdef", &wk);
	send_now(&q, &op1, "next", &wk);
	waiter_make(&w, &op1, getpid(), MMQ_RECV, 2);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.kind, MMQ_GOT_PART);
	assert_int_equal(q.count, 1);
	mmq_putback(&q, &w, &wk);
	assert_int_equal(q.count, 2);
	assert_string_equal(recv_now(&q, &op2, 100, &wk), "abcdef");
	assert_string_equal(recv_now(&q, &op1, 100, &wk), "next");
	mq_done(&q);
}

static void test_model_mq_putback_of_part_of_a_message_rereads_it(void **state)
{
	struct mmq q;
	struct model_open op;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;

	(void)state;
	mq_with(&q, 64, 2);
	open_with(&op, 0);
	send_now(&q, &op, "abcdef", &wk);
	waiter_make(&w, &op, getpid(), MMQ_RECV, 2);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	mmq_putback(&q, &w, &wk);
	assert_string_equal(recv_now(&q, &op, 2, &wk), "ab");
	waiter_make(&w, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.kind, MMQ_GOT_MSG);
	mmq_putback(&q, &w, &wk); /* the rest goes back to the open, not to the queue */
	assert_int_equal(q.count, 0);
	waiter_make(&w, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.kind, MMQ_GOT_MSG);
	assert_string_equal(got_text(&q, &w), "cdef");
	waiter_make(&w, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	assert_int_equal(w.kind, MMQ_GOT_END);
	mmq_putback(&q, &w, &wk);
	assert_string_equal(recv_now(&q, &op, 100, &wk), "");
	assert_false(mmq_readable(&q, &op));

	/* once the queue is dead, nothing is put back */
	send_now(&q, &op, "gone", &wk);
	waiter_make(&w, &op, getpid(), MMQ_RECV, 100);
	assert_int_equal(mmq_receive(&q, &w, false, &wk), MODEL_DONE);
	mmq_kill(&q, EIDRM, &wk);
	mmq_putback(&q, &w, &wk);
	assert_int_equal(q.count, 0);
	mq_done(&q);
}

static void test_model_mq_readiness(void **state)
{
	struct mmq q;
	struct model_open op;
	struct woken r;
	struct model_waker wk = waker_of(&r);

	(void)state;
	mq_with(&q, 64, 1);
	open_with(&op, 0);
	assert_false(mmq_readable(&q, &op));
	assert_true(mmq_writable(&q));
	send_now(&q, &op, "x", &wk);
	assert_true(mmq_readable(&q, &op));
	assert_false(mmq_writable(&q));
	assert_string_equal(recv_now(&q, &op, 100, &wk), "x");
	assert_true(mmq_readable(&q, &op)); /* its 0 */
	assert_true(mmq_writable(&q));
	mq_done(&q);
}

static void test_model_mq_inspect_reports_counts_and_waiters(void **state)
{
	struct mmq q;
	struct model_open op, hi;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter s;
	struct snapshot snap = { 0 };
	struct snap_obj *o = snapshot_add_obj(&snap);

	(void)state;
	mq_with(&q, 100, 2);
	open_with(&op, 0);
	open_with(&hi, 7);
	send_now(&q, &op, "a", &wk);
	send_now(&q, &hi, "bb", &wk);
	send_make(&q, &s, &op, "eeeee");
	assert_int_equal(mmq_send(&q, &s, true, &wk), MODEL_WOULD_BLOCK);
	mmq_inspect(&q, &snap, o);
	assert_int_equal(snap_field_get(o, "messages", 99), 2);
	assert_int_equal(snap_field_get(o, "bytes", 99), 3);
	assert_int_equal(snap_field_get(o, "msgsize", 99), 100);
	assert_int_equal(snap_field_get(o, "max_msgs", 99), 2);
	assert_int_equal(snap_field_get(o, "prio.7", 99), 1);
	assert_int_equal(snap_field_get(o, "prio.0", 99), 1);
	assert_int_equal(o->nwaits, 1);
	assert_string_equal(o->waits[0].op, "send");
	assert_int_equal(o->waits[0].units, 5);
	snapshot_free(&snap);
	mmq_kill(&q, EIO, &wk);
	mmq_msg_free(&q, (struct mmq_msg *)(uintptr_t)s.arg);
	mq_done(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_mq_one_write_is_one_message),
		cmocka_unit_test(test_model_mq_priorities_highest_first_fifo_within_one),
		cmocka_unit_test(test_model_mq_partial_reads_then_rest_then_zero),
		cmocka_unit_test(test_model_mq_close_drops_the_unread_rest),
		cmocka_unit_test(
			test_model_mq_full_queue_would_block_then_a_receive_serves_the_sender),
		cmocka_unit_test(test_model_mq_send_does_not_overtake_waiting_senders),
		cmocka_unit_test(test_model_mq_send_hands_its_message_to_a_waiting_receiver),
		cmocka_unit_test(test_model_mq_receive_does_not_overtake_waiting_receivers),
		cmocka_unit_test(test_model_mq_emsgsize_changes_nothing),
		cmocka_unit_test(test_model_mq_budget_spent_is_enospc),
		cmocka_unit_test(test_model_mq_cancel_of_a_waiting_receive_takes_nothing),
		cmocka_unit_test(test_model_mq_cancel_of_a_waiting_send_sends_nothing),
		cmocka_unit_test(test_model_mq_kill_fails_every_waiter_and_later_io),
		cmocka_unit_test(test_model_mq_putback_keeps_the_message_first_in_line),
		cmocka_unit_test(test_model_mq_putback_of_a_first_part_requeues_the_message),
		cmocka_unit_test(test_model_mq_putback_of_part_of_a_message_rereads_it),
		cmocka_unit_test(test_model_mq_readiness),
		cmocka_unit_test(test_model_mq_inspect_reports_counts_and_waiters),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
