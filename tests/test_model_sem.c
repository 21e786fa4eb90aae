/* SPDX-License-Identifier: MIT */
/*
 * test_model_sem.c - the semaphore's state machine (model/sem.h) without FUSE: P and V,
 * service order, wait-for-zero, O_NONBLOCK's probe, pause, and the interrupt (cancel), kill
 * (removal) and give-back paths, with the holders and waiters inspection reports.
 */
#include "model/sem.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <stdlib.h>
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

/* ---- operations on several semaphores at once (struct msem_multi) ---- */

/* A multi of terms (s, n) pairs, and the caller's waiter w (kind SEM_MULTI) that asks it. */
static struct msem_multi *multi_new(struct waiter *w, uint32_t nterms, struct msem *s[],
				    const int32_t n[])
{
	struct msem_multi *m = calloc(1, sizeof(*m) + nterms * sizeof(struct msem_term));

	assert_non_null(m);
	m->nterms = nterms;
	for (uint32_t i = 0; i < nterms; i++) {
		m->t[i].s = s[i];
		m->t[i].n = n[i];
	}
	waiter_make(w, &op, getpid(), SEM_MULTI, (uintptr_t)m);
	return m;
}

static void test_model_sem_multi_takes_all_or_nothing(void **state)
{
	struct msem a, b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w;
	struct msem_multi *m = multi_new(&w, 2, (struct msem *[]){ &a, &b }, (int32_t[]){ -1, -2 });

	(void)state;
	sem_with(&a, 1);
	sem_with(&b, 1);
	/* b has 1 of 2: nothing is taken, from a either */
	assert_int_equal(msem_wait(&a, &w, false, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(a.count, 1);
	assert_true(list_empty(&a.pq) && list_empty(&b.pq));
	assert_int_equal(msem_wait(&a, &w, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(a.count, 1);
	assert_false(list_empty(&a.pq) || list_empty(&b.pq)); /* a term in each queue */
	assert_false(msem_readable(&a));		      /* a's head waits: no overtaking */
	/* the unit b lacked: both taken at once, the caller's waiter handed back */
	assert_int_equal(msem_post(&b, 1, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(a.count, 0);
	assert_int_equal(b.count, 0);
	assert_true(list_empty(&a.pq) && list_empty(&b.pq));
	assert_int_equal(a.nholders, 1);
	assert_int_equal(b.holders[0].units, 2);
	free(m);
	msem_fini(&a);
	msem_fini(&b);
}

static void test_model_sem_multi_keeps_each_queue_fifo(void **state)
{
	struct msem a, b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter first, later, w;
	struct msem_multi *m = multi_new(&w, 2, (struct msem *[]){ &a, &b }, (int32_t[]){ -1, -1 });

	(void)state;
	sem_with(&a, 0);
	sem_with(&b, 1);
	waiter_make(&first, &op, 2, SEM_WRITE_P, 1);
	assert_int_equal(msem_wait(&a, &first, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&a, &w, true, &wk), MODEL_WOULD_BLOCK);
	/* a P(1) on b alone, later than the multi, waits behind it though b has the unit */
	waiter_make(&later, &op, 3, SEM_WRITE_P, 1);
	assert_int_equal(msem_wait(&b, &later, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(b.count, 1);
	/* a's first unit goes to the P ahead of the multi in a's queue */
	assert_int_equal(msem_post(&a, 1, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &first);
	/* the second serves the multi, then b's queue moves on: later waits for a unit of b */
	assert_int_equal(msem_post(&a, 1, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[1], &w);
	assert_int_equal(b.count, 0);
	assert_int_equal(msem_post(&b, 1, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(r.n, 3);
	assert_ptr_equal(r.w[2], &later);
	free(m);
	msem_fini(&a);
	msem_fini(&b);
}

static void test_model_sem_multi_cancel_and_kill_leave_every_queue(void **state)
{
	struct msem a, b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w, behind;
	struct msem_multi *m = multi_new(&w, 2, (struct msem *[]){ &a, &b }, (int32_t[]){ -1, -1 });

	(void)state;
	sem_with(&a, 1);
	sem_with(&b, 0);
	assert_int_equal(msem_wait(&a, &w, true, &wk), MODEL_WOULD_BLOCK);
	waiter_make(&behind, &op, 2, SEM_READ_P, 1);
	assert_int_equal(msem_wait(&a, &behind, true, &wk), MODEL_WOULD_BLOCK);
	/* interrupted: out of both queues without effect; the P behind it on a proceeds */
	msem_cancel(&a, &w, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &behind);
	assert_true(list_empty(&b.pq));
	assert_int_equal(a.count, 0);
	assert_int_equal(b.count, 0);
	/* queued again, then b removed: it fails with b's errno, and leaves a's queue too */
	assert_int_equal(msem_post(&a, 1, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(msem_wait(&a, &w, true, &wk), MODEL_WOULD_BLOCK);
	msem_kill(&b, EIDRM, &wk);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[1], &w);
	assert_int_equal(r.rc[1], -EIDRM);
	assert_true(list_empty(&a.pq));
	assert_int_equal(a.count, 1);
	/* and a later multi naming b fails at once */
	assert_int_equal(msem_wait(&a, &w, true, &wk), -EIDRM);
	assert_true(list_empty(&a.pq));
	free(m);
	msem_fini(&a);
	msem_fini(&b);
}

static void test_model_sem_multi_kill_of_a_v_term_fails_it_at_once(void **state)
{
	struct msem a, c;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w, behind;
	/* take one of a, give one to c */
	struct msem_multi *m = multi_new(&w, 2, (struct msem *[]){ &a, &c }, (int32_t[]){ -1, 1 });

	(void)state;
	sem_with(&a, 0);
	sem_with(&c, 0);
	assert_int_equal(msem_wait(&a, &w, true, &wk), MODEL_WOULD_BLOCK);
	waiter_make(&behind, &op, 2, SEM_WRITE_P, 1);
	assert_int_equal(msem_wait(&a, &behind, true, &wk), MODEL_WOULD_BLOCK);
	/* c removed: the multi fails now, not when a gets a unit, and frees a's head */
	msem_kill(&c, EIDRM, &wk);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w);
	assert_int_equal(r.rc[0], -EIDRM);
	assert_true(list_empty(&c.vq));
	assert_int_equal(msem_post(&a, 1, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[1], &behind);
	free(m);
	msem_fini(&a);
	msem_fini(&c);
}

static void test_model_sem_multi_zero_and_v_terms(void **state)
{
	struct msem a, b, c;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w, p, big;
	/* take one of a when b is zero, giving one to c */
	struct msem_multi *m =
		multi_new(&w, 3, (struct msem *[]){ &a, &b, &c }, (int32_t[]){ -1, 0, 1 });
	struct msem_multi *mb =
		multi_new(&big, 2, (struct msem *[]){ &a, &c }, (int32_t[]){ 1, INT32_MAX });

	(void)state;
	sem_with(&a, 1);
	sem_with(&b, 1);
	sem_with(&c, 0);
	assert_int_equal(msem_wait(&a, &w, true, &wk), MODEL_WOULD_BLOCK);
	assert_false(list_empty(&b.zq));
	/* b reaches zero by a P: the multi proceeds */
	waiter_make(&p, &op, 2, SEM_WRITE_P, 1);
	assert_int_equal(msem_wait(&b, &p, true, &wk), MODEL_DONE);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.w[0], &w);
	assert_int_equal(a.count, 0);
	assert_int_equal(c.count, 1);
	/* a V past INT32_MAX anywhere fails the whole multi, changing nothing */
	assert_int_equal(msem_wait(&a, &big, true, &wk), -EOVERFLOW);
	assert_int_equal(a.count, 0);
	assert_int_equal(c.count, 1);
	free(m);
	free(mb);
	msem_fini(&a);
	msem_fini(&b);
	msem_fini(&c);
}

static void test_model_sem_multi_serving_one_serves_the_next(void **state)
{
	struct msem a, b, c;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter w1, w2;
	/* w1 takes from a and gives to b; w2 takes from b and c */
	struct msem_multi *m1 =
		multi_new(&w1, 2, (struct msem *[]){ &a, &b }, (int32_t[]){ -1, 1 });
	struct msem_multi *m2 =
		multi_new(&w2, 2, (struct msem *[]){ &b, &c }, (int32_t[]){ -1, -1 });

	(void)state;
	sem_with(&a, 0);
	sem_with(&b, 0);
	sem_with(&c, 1);
	assert_int_equal(msem_wait(&a, &w1, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&b, &w2, true, &wk), MODEL_WOULD_BLOCK);
	/* one V on a: w1 proceeds, its V on b lets w2 proceed in the same operation */
	assert_int_equal(msem_post(&a, 1, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &w1);
	assert_ptr_equal(r.w[1], &w2);
	assert_int_equal(a.count + b.count + c.count, 0);
	free(m1);
	free(m2);
	msem_fini(&a);
	msem_fini(&b);
	msem_fini(&c);
}

static void test_model_sem_multi_never_overtakes_and_its_v_serves(void **state)
{
	struct msem a, b;
	struct woken r;
	struct model_waker wk = waker_of(&r);
	struct waiter big, w, v;
	struct msem_multi *m = multi_new(&w, 2, (struct msem *[]){ &a, &b }, (int32_t[]){ -1, -1 });
	struct msem_multi *mv = multi_new(&v, 2, (struct msem *[]){ &a, &b }, (int32_t[]){ 1, 2 });

	(void)state;
	sem_with(&a, 0);
	sem_with(&b, 1);
	/* a P(2) waits at b's head; the multi queues behind it on b, first on a */
	waiter_make(&big, &op, 2, SEM_WRITE_P, 2);
	assert_int_equal(msem_wait(&b, &big, true, &wk), MODEL_WOULD_BLOCK);
	assert_int_equal(msem_wait(&a, &w, true, &wk), MODEL_WOULD_BLOCK);
	/* a's unit comes: b has the 1 the multi needs, but the P(2) came first */
	assert_int_equal(msem_post(&a, 1, 0, 1, &wk), MODEL_DONE);
	assert_int_equal(r.n, 0);
	assert_int_equal(b.count, 1);
	/* a multi of V's proceeds at once and serves both, in b's order, in one operation */
	assert_int_equal(msem_wait(&a, &v, true, &wk), MODEL_DONE);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.w[0], &big);
	assert_ptr_equal(r.w[1], &w);
	assert_int_equal(a.count + b.count, 1);
	free(m);
	free(mv);
	msem_fini(&a);
	msem_fini(&b);
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
		cmocka_unit_test(test_model_sem_multi_takes_all_or_nothing),
		cmocka_unit_test(test_model_sem_multi_keeps_each_queue_fifo),
		cmocka_unit_test(test_model_sem_multi_cancel_and_kill_leave_every_queue),
		cmocka_unit_test(test_model_sem_multi_kill_of_a_v_term_fails_it_at_once),
		cmocka_unit_test(test_model_sem_multi_zero_and_v_terms),
		cmocka_unit_test(test_model_sem_multi_serving_one_serves_the_next),
		cmocka_unit_test(test_model_sem_multi_never_overtakes_and_its_v_serves),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
