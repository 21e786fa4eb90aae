/* SPDX-License-Identifier: MIT */
/*
 * test_model_mutex.c - the mutex's state machine (model/mutex.h) without FUSE: taking a free
 * mutex, O_NONBLOCK's probe, FIFO hand-off on the holder's release (its last close or its
 * death), no barging, the interrupt (cancel) and kill (removal) paths, the deadlock check's
 * queries, and the holders and waiters inspection reports.
 */
#include "model/mutex.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <unistd.h>

#include "testutil.h"
#include "modelutil.h"

/* Opens of the mutex file, one per would-be holder. */
static struct model_open op_a, op_b, op_c, op_d;

/* A mutex held by op_a (pid 100): nobody woken, changed set. */
static void mutex_held(struct mmutex *m)
{
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;

	mmutex_init(m);
	waiter_make(&w, &op_a, 100, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(m, &w, true, &wk), MODEL_DONE);
	assert_ptr_equal(m->holder, &op_a);
	assert_int_equal(r.n, 0);
}

static void test_model_mutex_lock_takes_a_free_mutex(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;

	(void)state;
	mmutex_init(&m);
	assert_false(mmutex_locked(&m));
	assert_int_equal(mmutex_holder_pid(&m), 0);
	waiter_make(&w, &op_a, 100, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &w, true, &wk), MODEL_DONE);
	assert_ptr_equal(m.holder, &op_a);
	assert_true(mmutex_locked(&m));
	assert_int_equal(mmutex_holder_pid(&m), 100);
	assert_true(list_empty(&w.link));
	assert_true(list_empty(&m.waitq));
	assert_true(wk.changed); /* st_size went from 0 to 1 */
	assert_int_equal(r.n, 0);
}

/* O_NONBLOCK and the first look of every open: asking without queueing changes nothing. */
static void test_model_mutex_probe_without_queue_changes_nothing(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk;
	struct waiter w;

	(void)state;
	mutex_held(&m);
	wk = waker_of(&r);
	waiter_make(&w, &op_b, 200, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &w, false, &wk), MODEL_WOULD_BLOCK);
	assert_ptr_equal(m.holder, &op_a);
	assert_int_equal(m.holder_pid, 100);
	assert_true(list_empty(&m.waitq));
	assert_true(list_empty(&w.link));
	assert_false(mmutex_waits(&m, 200));
	assert_false(wk.changed);
	assert_int_equal(r.n, 0);
}

/* The holder's release (last close, or its death: the kernel sends the same RELEASE) hands
 * the mutex to the waiters one at a time, in the order they came. */
static void test_model_mutex_release_hands_off_in_fifo_order(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk;
	struct waiter b, c, d;

	(void)state;
	mutex_held(&m);
	wk = waker_of(&r);
	waiter_make(&b, &op_b, 200, MUTEX_LOCK, 0);
	waiter_make(&c, &op_c, 300, MUTEX_LOCK, 0);
	waiter_make(&d, &op_d, 400, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &b, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmutex_lock(&m, &c, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmutex_lock(&m, &d, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(r.n, 0);
	assert_false(wk.changed);

	mmutex_release(&m, &op_a, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &b);
	assert_int_equal(r.rc[0], 0);
	assert_ptr_equal(m.holder, &op_b);
	assert_int_equal(mmutex_holder_pid(&m), 200);
	assert_true(wk.changed);

	mmutex_release(&m, &op_b, &wk);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[1], &c);
	assert_ptr_equal(m.holder, &op_c);

	mmutex_release(&m, &op_c, &wk);
	assert_int_equal(r.n, 3);
	assert_ptr_equal(r.w[2], &d);
	assert_ptr_equal(m.holder, &op_d);
	assert_true(list_empty(&m.waitq));

	mmutex_release(&m, &op_d, &wk);
	assert_int_equal(r.n, 3);
	assert_false(mmutex_locked(&m));
}

/* Only the holder's open releases: another open's close (one that never got the mutex)
 * changes nothing. */
static void test_model_mutex_release_by_another_open_changes_nothing(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk;
	struct waiter b;

	(void)state;
	mutex_held(&m);
	wk = waker_of(&r);
	waiter_make(&b, &op_b, 200, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &b, true, &wk), MODEL_WOULD_BLOCK);
	mmutex_release(&m, &op_c, &wk);
	assert_ptr_equal(m.holder, &op_a);
	assert_true(mmutex_waits(&m, 200));
	assert_false(wk.changed);
	assert_int_equal(r.n, 0);
}

/* A late opener queues behind those already waiting, even when it asks between a release and
 * the hand-off's answer: the mutex went to the head at once, and the late one waits. */
static void test_model_mutex_late_lock_does_not_barge(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk;
	struct waiter b, late;

	(void)state;
	mutex_held(&m);
	wk = waker_of(&r);
	waiter_make(&b, &op_b, 200, MUTEX_LOCK, 0);
	waiter_make(&late, &op_c, 300, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &b, true, &wk), MODEL_WOULD_BLOCK);
	mmutex_release(&m, &op_a, &wk);
	assert_int_equal(mmutex_lock(&m, &late, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmutex_lock(&m, &late, true, &wk), MODEL_WOULD_BLOCK);
	assert_ptr_equal(m.holder, &op_b);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &b);
}

/* Even with the mutex free, a lock does not pass those who wait (the queue is never left
 * behind by the model itself; this guards the rule, not the invariant). */
static void test_model_mutex_free_but_queued_makes_a_lock_wait(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter queued, late;

	(void)state;
	mmutex_init(&m);
	waiter_make(&queued, &op_b, 200, MUTEX_LOCK, 0);
	list_add_tail(&queued.link, &m.waitq);
	waiter_make(&late, &op_c, 300, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &late, false, &wk), MODEL_WOULD_BLOCK);
	assert_false(mmutex_locked(&m));
	assert_int_equal(mmutex_lock(&m, &late, true, &wk), MODEL_WOULD_BLOCK);
	assert_ptr_equal(list_first_entry(&m.waitq, struct waiter, link), &queued);
	assert_int_equal(r.n, 0);
}

/* An interrupted open leaves the queue without effect: it is not handed back (its canceller
 * answers it), and the order of the others is kept. */
static void test_model_mutex_cancel_leaves_the_queue_and_keeps_the_order(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk;
	struct waiter b, c, d;

	(void)state;
	mutex_held(&m);
	wk = waker_of(&r);
	waiter_make(&b, &op_b, 200, MUTEX_LOCK, 0);
	waiter_make(&c, &op_c, 300, MUTEX_LOCK, 0);
	waiter_make(&d, &op_d, 400, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &b, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmutex_lock(&m, &c, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmutex_lock(&m, &d, true, &wk), MODEL_WOULD_BLOCK);

	mmutex_cancel(&m, &b, &wk); /* the head */
	mmutex_cancel(&m, &d, &wk); /* the tail */
	assert_true(list_empty(&b.link));
	assert_true(list_empty(&d.link));
	assert_int_equal(r.n, 0);
	assert_ptr_equal(m.holder, &op_a); /* still held: nobody served */
	assert_false(mmutex_waits(&m, 200));
	assert_true(mmutex_waits(&m, 300));
	assert_false(mmutex_waits(&m, 400));

	mmutex_release(&m, &op_a, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &c);
	assert_ptr_equal(m.holder, &op_c);
	assert_true(list_empty(&m.waitq));
}

/* Cancel serves the next in line when the mutex is free (as after a hand-off whose opener
 * was gone and released at once, or a queue left behind by anybody): nobody waits for a free
 * mutex. */
static void test_model_mutex_cancel_of_a_free_mutex_serves_the_next(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter b, c;

	(void)state;
	mmutex_init(&m);
	waiter_make(&b, &op_b, 200, MUTEX_LOCK, 0);
	waiter_make(&c, &op_c, 300, MUTEX_LOCK, 0);
	list_add_tail(&b.link, &m.waitq);
	list_add_tail(&c.link, &m.waitq);
	mmutex_cancel(&m, &b, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &c);
	assert_int_equal(r.rc[0], 0);
	assert_ptr_equal(m.holder, &op_c);
	assert_int_equal(mmutex_holder_pid(&m), 300);
	assert_true(wk.changed);
}

/* The holder's open dies before it is told (the hand-off's reply fails): the face releases
 * it at once, and the mutex moves on to the next waiter. */
static void test_model_mutex_hand_off_to_a_dead_opener_moves_on(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk;
	struct waiter b, c;

	(void)state;
	mutex_held(&m);
	wk = waker_of(&r);
	waiter_make(&b, &op_b, 200, MUTEX_LOCK, 0);
	waiter_make(&c, &op_c, 300, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &b, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmutex_lock(&m, &c, true, &wk), MODEL_WOULD_BLOCK);
	mmutex_release(&m, &op_a, &wk);
	assert_ptr_equal(r.w[0], &b);
	mmutex_release(&m, r.w[0]->op, &wk);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[1], &c);
	assert_ptr_equal(m.holder, &op_c);
}

/* rm: every waiter fails with the errno, in queue order; the holder keeps it until its close,
 * which then hands it to nobody. */
static void test_model_mutex_kill_fails_every_waiter(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk;
	struct waiter b, c;

	(void)state;
	mutex_held(&m);
	wk = waker_of(&r);
	waiter_make(&b, &op_b, 200, MUTEX_LOCK, 0);
	waiter_make(&c, &op_c, 300, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &b, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmutex_lock(&m, &c, true, &wk), MODEL_WOULD_BLOCK);
	mmutex_kill(&m, EIDRM, &wk);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &b);
	assert_ptr_equal(r.w[1], &c);
	assert_int_equal(r.rc[0], -EIDRM);
	assert_int_equal(r.rc[1], -EIDRM);
	assert_true(list_empty(&m.waitq));
	assert_ptr_equal(m.holder, &op_a);
	mmutex_release(&m, &op_a, &wk);
	assert_int_equal(r.n, 2);
	assert_false(mmutex_locked(&m));
}

/* The view: "locked", the holder with one unit, the waiters in hand-off order. */
static void test_model_mutex_holder_and_waiters_inspected(void **state)
{
	struct mmutex m;
	struct woken r;
	struct model_waker wk;
	struct waiter b, c;
	struct snapshot snap = { 0 };
	struct snap_obj *o;

	(void)state;
	mmutex_init(&m);
	o = snapshot_add_obj(&snap);
	mmutex_inspect(&m, &snap, o);
	assert_int_equal(snap_field_get(o, "locked", 99), 0);
	assert_true(o->resource);
	assert_int_equal(o->available, 1);
	assert_int_equal(o->nholds, 0);
	assert_int_equal(o->nwaits, 0);

	mutex_held(&m);
	wk = waker_of(&r);
	waiter_make(&b, &op_b, 200, MUTEX_LOCK, 0);
	waiter_make(&c, &op_c, 300, MUTEX_LOCK, 0);
	assert_int_equal(mmutex_lock(&m, &b, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(mmutex_lock(&m, &c, true, &wk), MODEL_WOULD_BLOCK);
	o = snapshot_add_obj(&snap);
	mmutex_inspect(&m, &snap, o);
	assert_int_equal(snap_field_get(o, "locked", 99), 1);
	assert_true(o->resource);
	assert_int_equal(o->available, 0);
	assert_int_equal(o->nholds, 1);
	assert_int_equal(o->holds[0].tid, 100);
	assert_int_equal(o->holds[0].units, 1);
	assert_int_equal(o->nwaits, 2);
	assert_int_equal(o->waits[0].tid, 200);
	assert_string_equal(o->waits[0].op, "lock");
	assert_int_equal(o->waits[0].units, 1);
	assert_int_equal(o->waits[1].tid, 300);
	snapshot_free(&snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_mutex_lock_takes_a_free_mutex),
		cmocka_unit_test(test_model_mutex_probe_without_queue_changes_nothing),
		cmocka_unit_test(test_model_mutex_release_hands_off_in_fifo_order),
		cmocka_unit_test(test_model_mutex_release_by_another_open_changes_nothing),
		cmocka_unit_test(test_model_mutex_late_lock_does_not_barge),
		cmocka_unit_test(test_model_mutex_free_but_queued_makes_a_lock_wait),
		cmocka_unit_test(test_model_mutex_cancel_leaves_the_queue_and_keeps_the_order),
		cmocka_unit_test(test_model_mutex_cancel_of_a_free_mutex_serves_the_next),
		cmocka_unit_test(test_model_mutex_hand_off_to_a_dead_opener_moves_on),
		cmocka_unit_test(test_model_mutex_kill_fails_every_waiter),
		cmocka_unit_test(test_model_mutex_holder_and_waiters_inspected),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
