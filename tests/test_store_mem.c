/* SPDX-License-Identifier: MIT */
/*
 * test_store_mem.c - the memory store (store/store.h): a new object's state is zeroed, a
 * committed step runs its after once with 0 and with no lock held, and steps on one object
 * never overlap (a counter bumped by threads in steps stays exact), nor do steps on objects
 * that joined one group (store_obj_join).
 */
#include "store/store.h"

#include "testutil.h"

#define STEP_THREADS 4
#define STEP_ITERS 1000000

struct counted {
	uint64_t value; /* plain accesses: overlapping steps would lose updates */
	unsigned afters;
	bool locked_in_after;
};

static struct store *st;

static int setup(void **state)
{
	(void)state;
	return store_mem_open(&st);
}

static int teardown(void **state)
{
	(void)state;
	store_close(st);
	return 0;
}

static void test_store_mem_new_state_is_zeroed(void **state)
{
	struct store_obj o;
	const unsigned char *p;

	(void)state;
	assert_int_equal(store_obj_init(st, &o, 64), 0);
	p = store_state(&o);
	assert_non_null(p);
	for (int i = 0; i < 64; i++)
		assert_int_equal(p[i], 0);
	store_obj_fini(&o);
	assert_int_equal(store_obj_init(st, &o, 0), 0);
	assert_null(store_state(&o)); /* a directory has no state */
	store_obj_fini(&o);
}

static struct store_obj *after_obj;

static void count_after(struct store_after *a, int rc)
{
	struct counted *c = store_state(after_obj);

	(void)a;
	assert_int_equal(rc, 0);
	c->afters++;
	/* the step's lock is dropped before after runs: answers are sent unlocked */
	c->locked_in_after = ipc_mutex_trylock(&after_obj->lock) != 0;
	if (!c->locked_in_after)
		ipc_mutex_unlock(&after_obj->lock);
}

static void test_store_mem_commit_runs_after_once_unlocked(void **state)
{
	struct store_obj o;
	struct store_after a;
	struct counted *c;

	(void)state;
	assert_int_equal(store_obj_init(st, &o, sizeof(struct counted)), 0);
	after_obj = &o;
	store_after_init(&a, count_after);
	store_begin(&o);
	c = store_state(&o);
	c->value = 7;
	assert_int_not_equal(ipc_mutex_trylock(&o.lock), 0); /* the step holds the object */
	store_commit(&o, &a);
	assert_int_equal(c->afters, 1);
	assert_false(c->locked_in_after);
	assert_int_equal(c->value, 7);
	/* a read-only step ends without an after */
	store_begin(&o);
	store_end(&o);
	assert_int_equal(c->afters, 1);
	assert_int_equal(ipc_mutex_trylock(&o.lock), 0);
	ipc_mutex_unlock(&o.lock);
	store_obj_fini(&o);
}

static void no_after(struct store_after *a, int rc)
{
	(void)a;
	(void)rc;
}

static pthread_barrier_t start;

static void *bump(void *arg)
{
	struct store_obj *o = arg;

	pthread_barrier_wait(&start); /* all at once, or each may finish within its time slice */
	for (int i = 0; i < STEP_ITERS; i++) {
		struct store_after a;

		store_after_init(&a, no_after);
		store_begin(o);
		((struct counted *)store_state(o))->value++;
		if (i % 2)
			store_commit(o, &a);
		else
			store_end(o);
	}
	return NULL;
}

static void test_store_mem_steps_on_one_object_never_overlap(void **state)
{
	pthread_t t[STEP_THREADS];
	struct store_obj o;

	(void)state;
	assert_int_equal(store_obj_init(st, &o, sizeof(struct counted)), 0);
	pthread_barrier_init(&start, NULL, STEP_THREADS);
	for (int i = 0; i < STEP_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, bump, &o), 0);
	for (int i = 0; i < STEP_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	assert_int_equal(((struct counted *)store_state(&o))->value,
			 (uint64_t)STEP_THREADS * STEP_ITERS);
	store_obj_fini(&o);
}

/* Objects a and b joined group g: each thread steps on a or on b and bumps one counter that
 * only a step on the group may touch. */
struct joined {
	struct store_obj g, a, b;
	uint64_t value;
};

static void *bump_joined(void *arg)
{
	struct joined *j = arg;

	pthread_barrier_wait(&start);
	for (int i = 0; i < STEP_ITERS; i++) {
		struct store_obj *o = i % 2 ? &j->a : &j->b;

		store_begin(o);
		j->value++;
		store_end(o);
	}
	return NULL;
}

static void test_store_mem_joined_objects_share_one_step(void **state)
{
	pthread_t t[STEP_THREADS];
	struct joined j = { 0 };

	(void)state;
	assert_int_equal(store_obj_init(st, &j.g, 0), 0);
	assert_int_equal(store_obj_init(st, &j.a, sizeof(struct counted)), 0);
	assert_int_equal(store_obj_init(st, &j.b, sizeof(struct counted)), 0);
	assert_true(store_step_id(&j.a) != store_step_id(&j.b));
	store_obj_join(&j.a, &j.g);
	store_obj_join(&j.b, &j.g);
	assert_true(store_step_id(&j.a) == store_step_id(&j.b));
	pthread_barrier_init(&start, NULL, STEP_THREADS);
	for (int i = 0; i < STEP_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, bump_joined, &j), 0);
	for (int i = 0; i < STEP_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	assert_int_equal(j.value, (uint64_t)STEP_THREADS * STEP_ITERS);
	store_obj_fini(&j.a);
	store_obj_fini(&j.b);
	store_obj_fini(&j.g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_mem_new_state_is_zeroed),
		cmocka_unit_test(test_store_mem_commit_runs_after_once_unlocked),
		cmocka_unit_test(test_store_mem_steps_on_one_object_never_overlap),
		cmocka_unit_test(test_store_mem_joined_objects_share_one_step),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
