/* SPDX-License-Identifier: MIT */
/*
 * test_model_barrier.c - the barrier's state machine (model/barrier.h) without FUSE: a round
 * releases all its callers at the last arrival, rounds are reused and never mixed, an
 * interrupted caller leaves its round without breaking it, user.parties, O_NONBLOCK's probe,
 * kill, and what inspection reports.
 */
#include "model/barrier.h"
#include "defaults.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <unistd.h>

#include "testutil.h"
#include "modelutil.h"

static struct model_open op;

static void test_model_barrier_the_last_arrival_releases_the_round(void **state)
{
	struct mbarrier b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w[3];

	(void)state;
	mbarrier_init(&b, 3);
	for (int i = 0; i < 2; i++) {
		waiter_make(&w[i], &op, 100 + i, BARRIER_ARRIVE, 0);
		assert_int_equal(mbarrier_arrive(&b, &w[i], true, &wk), MODEL_WOULD_BLOCK);
	}
	assert_int_equal(b.arrived, 2);
	assert_int_equal(r.n, 0);
	waiter_make(&w[2], &op, 102, BARRIER_ARRIVE, 0);
	assert_int_equal(mbarrier_arrive(&b, &w[2], true, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &w[0]);
	assert_ptr_equal(r.w[1], &w[1]);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(b.arrived, 0);
	assert_int_equal(b.rounds, 1);
	/* the next round starts empty: one arrival waits again */
	assert_int_equal(mbarrier_arrive(&b, &w[0], true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(b.arrived, 1);
	assert_int_equal(r.n, 2);
}

static void test_model_barrier_an_interrupted_caller_leaves_without_breaking_it(void **state)
{
	struct mbarrier b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w[4];

	(void)state;
	mbarrier_init(&b, 3);
	for (int i = 0; i < 2; i++) {
		waiter_make(&w[i], &op, 100 + i, BARRIER_ARRIVE, 0);
		mbarrier_arrive(&b, &w[i], true, &wk);
	}
	mbarrier_cancel(&b, &w[0]);
	assert_int_equal(b.arrived, 1);
	/* a third arrival does not complete it now: it needs one more than before */
	waiter_make(&w[2], &op, 102, BARRIER_ARRIVE, 0);
	assert_int_equal(mbarrier_arrive(&b, &w[2], true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(r.n, 0);
	waiter_make(&w[3], &op, 103, BARRIER_ARRIVE, 0);
	assert_int_equal(mbarrier_arrive(&b, &w[3], true, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &w[1]);
	assert_ptr_equal(r.w[1], &w[2]);
}

static void test_model_barrier_probe_passes_only_when_it_completes_the_round(void **state)
{
	struct mbarrier b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w, probe;

	(void)state;
	mbarrier_init(&b, 2);
	waiter_make(&probe, &op, 99, BARRIER_ARRIVE, 0);
	assert_false(mbarrier_readable(&b));
	assert_int_equal(mbarrier_arrive(&b, &probe, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(b.arrived, 0); /* O_NONBLOCK: not counted in the round */
	waiter_make(&w, &op, 100, BARRIER_ARRIVE, 0);
	mbarrier_arrive(&b, &w, true, &wk);
	assert_true(mbarrier_readable(&b));
	assert_int_equal(mbarrier_arrive(&b, &probe, false, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w);
}

static void test_model_barrier_fewer_parties_release_those_waiting(void **state)
{
	struct mbarrier b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w[2];

	(void)state;
	mbarrier_init(&b, 5);
	for (int i = 0; i < 2; i++) {
		waiter_make(&w[i], &op, 100 + i, BARRIER_ARRIVE, 0);
		mbarrier_arrive(&b, &w[i], true, &wk);
	}
	assert_int_equal(mbarrier_set_parties(&b, 0, &wk), -EINVAL);
	assert_int_equal(mbarrier_set_parties(&b, IPCFS_MAX_PARTIES + 1ull, &wk), -EINVAL);
	assert_int_equal(b.parties, 5);
	assert_int_equal(mbarrier_set_parties(&b, 3, &wk), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(mbarrier_set_parties(&b, 2, &wk), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(b.arrived, 0);
	assert_int_equal(b.rounds, 1);
	/* one party: every arrival passes at once */
	assert_int_equal(mbarrier_set_parties(&b, 1, &wk), 0);
	assert_int_equal(mbarrier_arrive(&b, &w[0], true, &wk), MODEL_DONE);
}

static void test_model_barrier_kill_and_inspection(void **state)
{
	struct mbarrier b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct snapshot snap = { 0 };
	struct snap_obj *o;
	struct waiter w[2];

	(void)state;
	mbarrier_init(&b, 3);
	for (int i = 0; i < 2; i++) {
		waiter_make(&w[i], &op, 100 + i, BARRIER_ARRIVE, 0);
		mbarrier_arrive(&b, &w[i], true, &wk);
	}
	o = snapshot_add_obj(&snap);
	assert_non_null(o);
	mbarrier_inspect(&b, &snap, o);
	assert_int_equal(snap_field_get(o, "parties", 0), 3);
	assert_int_equal(snap_field_get(o, "arrived", 0), 2);
	assert_false(o->resource);
	assert_int_equal(o->nwaits, 2);
	assert_string_equal(o->waits[1].op, "arrive");
	snapshot_free(&snap);
	mbarrier_kill(&b, EIDRM, &wk);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rc[0], -EIDRM);
	assert_int_equal(b.arrived, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_barrier_the_last_arrival_releases_the_round),
		cmocka_unit_test(
			test_model_barrier_an_interrupted_caller_leaves_without_breaking_it),
		cmocka_unit_test(test_model_barrier_probe_passes_only_when_it_completes_the_round),
		cmocka_unit_test(test_model_barrier_fewer_parties_release_those_waiting),
		cmocka_unit_test(test_model_barrier_kill_and_inspection),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
