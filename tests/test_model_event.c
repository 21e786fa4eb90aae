/* SPDX-License-Identifier: MIT */
/*
 * test_model_event.c - the event's state machine (model/event.h) without FUSE: a set serves
 * every waiter and stays set (manual reset) or serves the longest waiter only and is consumed
 * (auto reset), clear, the O_NONBLOCK probe, the interrupt (cancel) and kill paths, and what
 * inspection reports.
 */
#include "model/event.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <unistd.h>

#include "testutil.h"
#include "modelutil.h"

static struct model_open op;

static void test_model_event_a_wait_passes_only_while_set(void **state)
{
	struct mevent e;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;

	(void)state;
	mevent_init(&e);
	waiter_make(&w, &op, getpid(), EVENT_WAIT, 0);
	/* the probe (O_NONBLOCK) changes nothing */
	assert_int_equal(mevent_wait(&e, &w, false, &wk), MODEL_WOULD_BLOCK);
	assert_true(list_empty(&e.waitq));
	assert_false(mevent_readable(&e));
	assert_int_equal(mevent_set(&e, &wk), MODEL_DONE);
	assert_true(wk.changed);
	assert_true(mevent_readable(&e));
	/* manual reset: every wait passes while it is set */
	assert_int_equal(mevent_wait(&e, &w, true, &wk), MODEL_DONE);
	assert_int_equal(mevent_wait(&e, &w, true, &wk), MODEL_DONE);
	assert_true(e.set);
	assert_int_equal(mevent_clear(&e), MODEL_DONE);
	assert_int_equal(mevent_wait(&e, &w, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(r.n, 0);
}

static void test_model_event_a_set_wakes_every_waiter_and_stays_set(void **state)
{
	struct mevent e;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w[3];

	(void)state;
	mevent_init(&e);
	for (int i = 0; i < 3; i++) {
		waiter_make(&w[i], &op, 100 + i, EVENT_WAIT, 0);
		assert_int_equal(mevent_wait(&e, &w[i], true, &wk), MODEL_WOULD_BLOCK);
	}
	assert_int_equal(mevent_set(&e, &wk), MODEL_DONE);
	assert_int_equal(r.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(r.w[i], &w[i]); /* in the order they came */
		assert_int_equal(r.rc[i], 0);
	}
	assert_true(e.set);
	assert_true(list_empty(&e.waitq));
}

static void test_model_event_auto_reset_wakes_one_and_is_consumed(void **state)
{
	struct mevent e;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w[2], late;

	(void)state;
	mevent_init(&e);
	assert_int_equal(mevent_set_auto_reset(&e, 2), -EINVAL);
	assert_int_equal(mevent_set_auto_reset(&e, 1), 0);
	for (int i = 0; i < 2; i++) {
		waiter_make(&w[i], &op, 100 + i, EVENT_WAIT, 0);
		assert_int_equal(mevent_wait(&e, &w[i], true, &wk), MODEL_WOULD_BLOCK);
	}
	assert_int_equal(mevent_set(&e, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w[0]);
	assert_int_equal(w[0].arg, 1); /* it consumed the set: */
	assert_false(e.set);
	assert_int_equal(mevent_set(&e, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[1], &w[1]);
	/* nobody waits: it stays set for the next wait, which consumes it */
	assert_int_equal(mevent_set(&e, &wk), MODEL_DONE);
	assert_true(e.set);
	waiter_make(&late, &op, 200, EVENT_WAIT, 0);
	assert_int_equal(mevent_wait(&e, &late, true, &wk), MODEL_DONE);
	assert_int_equal(late.arg, 1);
	assert_false(e.set);
	assert_int_equal(mevent_wait(&e, &late, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(r.n, 2);
}

static void test_model_event_an_interrupted_wait_consumes_nothing(void **state)
{
	struct mevent e;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w[2];

	(void)state;
	mevent_init(&e);
	mevent_set_auto_reset(&e, 1);
	for (int i = 0; i < 2; i++) {
		waiter_make(&w[i], &op, 100 + i, EVENT_WAIT, 0);
		assert_int_equal(mevent_wait(&e, &w[i], true, &wk), MODEL_WOULD_BLOCK);
	}
	mevent_cancel(&e, &w[0]);
	assert_int_equal(mevent_set(&e, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w[1]); /* the set goes to the one still waiting */
	assert_false(e.set);
}

static void test_model_event_kill_fails_every_waiter(void **state)
{
	struct mevent e;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w[2];

	(void)state;
	mevent_init(&e);
	for (int i = 0; i < 2; i++) {
		waiter_make(&w[i], &op, 100 + i, EVENT_WAIT, 0);
		assert_int_equal(mevent_wait(&e, &w[i], true, &wk), MODEL_WOULD_BLOCK);
	}
	mevent_kill(&e, EIDRM, &wk);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rc[0], -EIDRM);
	assert_int_equal(r.rc[1], -EIDRM);
	assert_true(list_empty(&e.waitq));
}

static void test_model_event_inspection_shows_state_and_waiters(void **state)
{
	struct mevent e;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct snapshot snap = { 0 };
	struct snap_obj *o;
	struct waiter w;

	(void)state;
	mevent_init(&e);
	waiter_make(&w, &op, 77, EVENT_WAIT, 0);
	mevent_wait(&e, &w, true, &wk);
	o = snapshot_add_obj(&snap);
	assert_non_null(o);
	mevent_inspect(&e, &snap, o);
	assert_int_equal(snap_field_get(o, "value", 9), 0);
	assert_int_equal(snap_field_get(o, "auto_reset", 9), 0);
	assert_false(o->resource); /* not a column of the deadlock matrices */
	assert_int_equal(o->nwaits, 1);
	assert_int_equal(o->waits[0].tid, 77);
	assert_string_equal(o->waits[0].op, "wait");
	snapshot_free(&snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_event_a_wait_passes_only_while_set),
		cmocka_unit_test(test_model_event_a_set_wakes_every_waiter_and_stays_set),
		cmocka_unit_test(test_model_event_auto_reset_wakes_one_and_is_consumed),
		cmocka_unit_test(test_model_event_an_interrupted_wait_consumes_nothing),
		cmocka_unit_test(test_model_event_kill_fails_every_waiter),
		cmocka_unit_test(test_model_event_inspection_shows_state_and_waiters),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
