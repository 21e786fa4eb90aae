/* SPDX-License-Identifier: MIT */
/*
 * test_model_rwlock.c - the readers-writer lock's state machine (model/rwlock.h) without
 * FUSE: readers share, a writer is alone, first come first served (a reader behind a waiting
 * writer waits: no writer starvation; the readers behind a writer go in together), release,
 * cancel, kill, and what inspection reports.
 */
#include "model/rwlock.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <unistd.h>

#include "testutil.h"
#include "modelutil.h"

/* An open and its waiter asking kind. */
struct opener {
	struct model_open op;
	struct waiter w;
};

static void opener_make(struct opener *o, pid_t pid, int kind)
{
	memset(&o->op, 0, sizeof(o->op));
	o->op.pid = pid;
	waiter_make(&o->w, &o->op, pid, kind, 0);
}

static void test_model_rwlock_readers_share_a_writer_is_alone(void **state)
{
	struct mrwlock rw;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct opener a, b, w;

	(void)state;
	mrwlock_init(&rw);
	opener_make(&a, 1, RWLOCK_READ);
	opener_make(&b, 2, RWLOCK_READ);
	opener_make(&w, 3, RWLOCK_WRITE);
	assert_int_equal(mrwlock_lock(&rw, &a.w, true, &wk), MODEL_DONE);
	assert_int_equal(mrwlock_lock(&rw, &b.w, true, &wk), MODEL_DONE);
	assert_int_equal(mrwlock_holders(&rw), 2);
	/* the probe (O_NONBLOCK) changes nothing */
	assert_int_equal(mrwlock_lock(&rw, &w.w, false, &wk), MODEL_WOULD_BLOCK);
	assert_true(list_empty(&rw.waitq));
	assert_int_equal(mrwlock_lock(&rw, &w.w, true, &wk), MODEL_WOULD_BLOCK);
	mrwlock_release(&rw, &a.op, &wk);
	assert_int_equal(r.n, 0); /* b still reads */
	mrwlock_release(&rw, &b.op, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w.w);
	assert_true(rw.writer);
	assert_int_equal(mrwlock_holders(&rw), 1);
	/* a reader now waits for the writer */
	assert_int_equal(mrwlock_lock(&rw, &a.w, false, &wk), MODEL_WOULD_BLOCK);
	mrwlock_release(&rw, &w.op, &wk);
	assert_int_equal(mrwlock_holders(&rw), 0);
	assert_null(rw.holders);
}

static void test_model_rwlock_a_reader_behind_a_waiting_writer_waits(void **state)
{
	struct mrwlock rw;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct opener a, w, b, c, w2;

	(void)state;
	mrwlock_init(&rw);
	opener_make(&a, 1, RWLOCK_READ);
	opener_make(&w, 2, RWLOCK_WRITE);
	opener_make(&b, 3, RWLOCK_READ);
	opener_make(&c, 4, RWLOCK_READ);
	opener_make(&w2, 5, RWLOCK_WRITE);
	assert_int_equal(mrwlock_lock(&rw, &a.w, true, &wk), MODEL_DONE);
	assert_int_equal(mrwlock_lock(&rw, &w.w, true, &wk), MODEL_WOULD_BLOCK);
	/* compatible with the reader holding it, but a writer waits: no barging */
	assert_int_equal(mrwlock_lock(&rw, &b.w, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mrwlock_lock(&rw, &c.w, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mrwlock_lock(&rw, &w2.w, true, &wk), MODEL_WOULD_BLOCK);
	mrwlock_release(&rw, &a.op, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w.w);
	/* the writer leaves: both readers behind it go in together, not the second writer */
	mrwlock_release(&rw, &w.op, &wk);
	assert_int_equal(r.n, 3);
	assert_ptr_equal(r.w[1], &b.w);
	assert_ptr_equal(r.w[2], &c.w);
	assert_int_equal(rw.readers, 2);
	mrwlock_release(&rw, &c.op, &wk);
	mrwlock_release(&rw, &b.op, &wk);
	assert_int_equal(r.n, 4);
	assert_ptr_equal(r.w[3], &w2.w);
}

static void test_model_rwlock_a_cancelled_writer_lets_the_readers_behind_it_in(void **state)
{
	struct mrwlock rw;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct opener a, w, b;

	(void)state;
	mrwlock_init(&rw);
	opener_make(&a, 1, RWLOCK_READ);
	opener_make(&w, 2, RWLOCK_WRITE);
	opener_make(&b, 3, RWLOCK_READ);
	mrwlock_lock(&rw, &a.w, true, &wk);
	mrwlock_lock(&rw, &w.w, true, &wk);
	mrwlock_lock(&rw, &b.w, true, &wk);
	mrwlock_cancel(&rw, &w.w, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &b.w);
	assert_int_equal(rw.readers, 2);
	/* a release by an open that holds nothing changes nothing */
	mrwlock_release(&rw, &w.op, &wk);
	assert_int_equal(rw.readers, 2);
}

static void test_model_rwlock_kill_and_inspection(void **state)
{
	struct mrwlock rw;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct snapshot snap = { 0 };
	struct snap_obj *o;
	struct opener a, b, w;

	(void)state;
	mrwlock_init(&rw);
	opener_make(&a, 11, RWLOCK_READ);
	opener_make(&b, 12, RWLOCK_READ);
	opener_make(&w, 13, RWLOCK_WRITE);
	mrwlock_lock(&rw, &a.w, true, &wk);
	mrwlock_lock(&rw, &b.w, true, &wk);
	mrwlock_lock(&rw, &w.w, true, &wk);
	o = snapshot_add_obj(&snap);
	assert_non_null(o);
	mrwlock_inspect(&rw, &snap, o);
	assert_int_equal(snap_field_get(o, "readers", 0), 2);
	assert_true(o->resource);
	assert_int_equal(o->available, MRW_UNITS - 2);
	assert_int_equal(o->nholds, 2);
	assert_int_equal(o->holds[0].units, 1);
	assert_int_equal(o->nwaits, 1);
	assert_int_equal(o->waits[0].tid, 13);
	assert_int_equal(o->waits[0].units, MRW_UNITS);
	assert_string_equal(o->waits[0].op, "wrlock");
	snapshot_free(&snap);
	mrwlock_kill(&rw, EIDRM, &wk);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rc[0], -EIDRM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_rwlock_readers_share_a_writer_is_alone),
		cmocka_unit_test(test_model_rwlock_a_reader_behind_a_waiting_writer_waits),
		cmocka_unit_test(
			test_model_rwlock_a_cancelled_writer_lets_the_readers_behind_it_in),
		cmocka_unit_test(test_model_rwlock_kill_and_inspection),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
