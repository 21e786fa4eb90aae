/* SPDX-License-Identifier: MIT */
/*
 * test_model_sem.c - the semaphore's state machine (model/sem.h) without FUSE: P and V,
 * service order, wait-for-zero, O_NONBLOCK's probe, pause, and the interrupt (cancel), kill
 * (removal) and give-back paths, with the holders and waiters inspection reports.
 */
#include "model/sem.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <unistd.h>

#include "testutil.h"
#include "modelutil.h"

static struct model_open op;

/* A semaphore with count units, posted by pid 1 (no holder entry). */
static void sem_with(struct msem *s, uint32_t count)
{
	struct woken r;
	struct model_waker wk = waker_of(&r);

	msem_init(s);
	if (count)
		assert_int_equal(msem_post(s, 1, 0, count, &wk), MODEL_DONE);
	assert_int_equal(r.n, 0);
}

static void test_model_sem_p_takes_units_that_are_there(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;

	(void)state;
	sem_with(&s, 3);
	waiter_make(&w, &op, getpid(), SEM_WRITE_P, 2);
	assert_int_equal(msem_wait(&s, &w, true, &wk), MODEL_DONE);
	assert_int_equal(s.count, 1);
	assert_true(list_empty(&s.pq));
	assert_true(list_empty(&w.link));
	assert_int_equal(r.n, 0);
	msem_fini(&s);
}

static void test_model_sem_probe_without_queue_changes_nothing(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;

	(void)state;
	sem_with(&s, 1);
	waiter_make(&w, &op, getpid(), SEM_WRITE_P, 2);
	assert_int_equal(msem_wait(&s, &w, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(s.count, 1);
	assert_true(list_empty(&s.pq));
	assert_int_equal(s.nholders, 0);
	msem_fini(&s);
}

static void test_model_sem_v_serves_waiters_in_order_without_overtaking(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter p5, p1;

	(void)state;
	sem_with(&s, 0);
	waiter_make(&p5, &op, getpid(), SEM_WRITE_P, 5);
	waiter_make(&p1, &op, getpid(), SEM_READ_P, 1);
	assert_int_equal(msem_wait(&s, &p5, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&s, &p1, true, &wk), MODEL_WOULD_BLOCK);
	/* 4 units: enough for P(1), but P(5) is first and a later P does not overtake it */
	assert_int_equal(msem_post(&s, 1, 0, 4, &wk), MODEL_DONE);
	assert_int_equal(r.n, 0);
	assert_int_equal(s.count, 4);
	assert_false(msem_readable(&s));
	assert_int_equal(msem_post(&s, 1, 0, 2, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &p5);
	assert_ptr_equal(r.w[1], &p1);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(r.rc[1], 0);
	assert_int_equal(s.count, 0);
	assert_true(list_empty(&s.pq));
	assert_true(wk.changed);
	msem_fini(&s);
}

static void test_model_sem_overflow_is_refused_unchanged(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);

	(void)state;
	sem_with(&s, INT32_MAX - 1);
	assert_int_equal(msem_post(&s, 1, 0, 2, &wk), -EOVERFLOW);
	assert_int_equal(s.count, INT32_MAX - 1);
	assert_false(wk.changed);
	assert_int_equal(msem_post(&s, 1, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(s.count, INT32_MAX);
	msem_fini(&s);
}

static void test_model_sem_wait_for_zero_released_when_a_p_empties_it(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter z1, z2, p;

	(void)state;
	sem_with(&s, 2);
	waiter_make(&z1, &op, getpid(), SEM_WRITE_Z, 0);
	waiter_make(&z2, &op, getpid(), SEM_WRITE_Z, 0);
	waiter_make(&p, &op, getpid(), SEM_WRITE_P, 1);
	assert_int_equal(msem_wait(&s, &z1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&s, &z2, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&s, &p, true, &wk), MODEL_DONE);
	assert_int_equal(r.n, 0);
	assert_int_equal(msem_wait(&s, &p, true, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &z1);
	assert_ptr_equal(r.w[1], &z2);
	assert_true(list_empty(&s.zq));
	/* at zero, a wait for zero does not wait */
	assert_int_equal(msem_wait(&s, &z1, true, &wk), MODEL_DONE);
	msem_fini(&s);
}

/* An interrupted P leaves without effect, and the one it held back proceeds. */
static void test_model_sem_cancel_of_the_head_serves_those_behind(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter p5, p1;

	(void)state;
	sem_with(&s, 0);
	waiter_make(&p5, &op, getpid(), SEM_WRITE_P, 5);
	waiter_make(&p1, &op, getpid(), SEM_READ_P, 1);
	assert_int_equal(msem_wait(&s, &p5, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&s, &p1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_post(&s, 1, 0, 3, &wk), MODEL_DONE);
	assert_int_equal(r.n, 0);
	msem_cancel(&s, &p5, &wk);
	assert_true(list_empty(&p5.link));
	assert_int_equal(r.n, 1); /* P(1) served; P(5) not handed back: its canceller answers */
	assert_ptr_equal(r.w[0], &p1);
	assert_int_equal(s.count, 2);
	assert_true(msem_readable(&s));
	msem_fini(&s);
}

static void test_model_sem_cancel_in_the_middle_keeps_the_order(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter a, b, c;

	(void)state;
	sem_with(&s, 0);
	waiter_make(&a, &op, getpid(), SEM_WRITE_P, 2);
	waiter_make(&b, &op, getpid(), SEM_WRITE_P, 1);
	waiter_make(&c, &op, getpid(), SEM_WRITE_P, 3);
	assert_int_equal(msem_wait(&s, &a, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&s, &b, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&s, &c, true, &wk), MODEL_WOULD_BLOCK);
	msem_cancel(&s, &b, &wk);
	assert_int_equal(r.n, 0);
	assert_int_equal(msem_post(&s, 1, 0, 5, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &a);
	assert_ptr_equal(r.w[1], &c);
	assert_int_equal(s.count, 0);
	msem_fini(&s);
}

static void test_model_sem_kill_fails_every_waiter(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter p, z;

	(void)state;
	sem_with(&s, 1);
	waiter_make(&p, &op, getpid(), SEM_WRITE_P, 2);
	waiter_make(&z, &op, getpid(), SEM_WRITE_Z, 0);
	assert_int_equal(msem_wait(&s, &p, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&s, &z, true, &wk), MODEL_WOULD_BLOCK);
	msem_kill(&s, EIDRM, &wk);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rc[0], -EIDRM);
	assert_int_equal(r.rc[1], -EIDRM);
	assert_true(list_empty(&s.pq));
	assert_true(list_empty(&s.zq));
	assert_int_equal(s.count, 1); /* nobody took anything */
	msem_fini(&s);
}

static void test_model_sem_pause_holds_p_back_until_resumed(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter p;

	(void)state;
	sem_with(&s, 1);
	assert_int_equal(msem_set_paused(&s, 1, &wk), MODEL_DONE);
	assert_false(msem_readable(&s));
	waiter_make(&p, &op, getpid(), SEM_READ_P, 1);
	assert_int_equal(msem_wait(&s, &p, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_set_paused(&s, 2, &wk), -EINVAL);
	assert_true(s.paused);
	assert_int_equal(r.n, 0);
	assert_int_equal(msem_set_paused(&s, 0, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_int_equal(s.count, 0);
	msem_fini(&s);
}

/* Units taken are held by the taker until it gives them back; the view shows both lists. */
static void test_model_sem_holders_and_waiters_inspected(void **state)
{
	struct msem s;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter mine, theirs;
	struct snapshot snap = { 0 };
	struct snap_obj *o = snapshot_add_obj(&snap);
	pid_t me = getpid(), parent = getppid();

	(void)state;
	sem_with(&s, 3);
	waiter_make(&mine, &op, me, SEM_WRITE_P, 3);
	assert_int_equal(msem_wait(&s, &mine, true, &wk), MODEL_DONE);
	waiter_make(&theirs, &op, parent, SEM_WRITE_P, 2);
	assert_int_equal(msem_wait(&s, &theirs, true, &wk), MODEL_WOULD_BLOCK);
	/* a V by the holder gives back its own units first */
	assert_int_equal(msem_post(&s, me, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(s.nholders, 1);
	assert_int_equal(s.holders[0].units, 2);
	msem_inspect(&s, &snap, o);
	assert_int_equal(snap_field_get(o, "value", 99), 1);
	assert_true(o->resource);
	assert_int_equal(o->available, 1);
	assert_int_equal(o->nholds, 1);
	assert_int_equal(o->holds[0].tid, me);
	assert_int_equal(o->holds[0].units, 2);
	assert_int_equal(o->nwaits, 1);
	assert_int_equal(o->waits[0].tid, parent);
	assert_string_equal(o->waits[0].op, "P");
	assert_int_equal(o->waits[0].units, 2);
	/* the holder's V serves the waiter, who now holds */
	assert_int_equal(msem_post(&s, me, 0, 2, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_int_equal(s.nholders, 1);
	assert_int_equal(s.holders[0].tid, parent);
	assert_int_equal(s.holders[0].units, 2);
	snapshot_free(&snap);
	msem_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_sem_p_takes_units_that_are_there),
		cmocka_unit_test(test_model_sem_probe_without_queue_changes_nothing),
		cmocka_unit_test(test_model_sem_v_serves_waiters_in_order_without_overtaking),
		cmocka_unit_test(test_model_sem_overflow_is_refused_unchanged),
		cmocka_unit_test(test_model_sem_wait_for_zero_released_when_a_p_empties_it),
		cmocka_unit_test(test_model_sem_cancel_of_the_head_serves_those_behind),
		cmocka_unit_test(test_model_sem_cancel_in_the_middle_keeps_the_order),
		cmocka_unit_test(test_model_sem_kill_fails_every_waiter),
		cmocka_unit_test(test_model_sem_pause_holds_p_back_until_resumed),
		cmocka_unit_test(test_model_sem_holders_and_waiters_inspected),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
