/* SPDX-License-Identifier: MIT */
/* test_mutex.c - the three-state futex mutex, between threads and between processes. */
#include <ipc/mutex.h>

#include "testutil.h"

#define STRESS_THREADS 4
#define STRESS_ITERS 200000

struct counter {
	struct ipc_mutex m;
	uint64_t value; /* protected by m; plain accesses so that a broken lock loses updates */
};

static void test_mutex_init_rejects_unknown_flags(void **state)
{
	struct ipc_mutex m;

	(void)state;
	assert_int_equal(ipc_mutex_init(&m, 0x100), -EINVAL);
	assert_int_equal(ipc_mutex_init(&m, IPC_SHARED), 0);
}

static void test_mutex_trylock_fails_while_held(void **state)
{
	struct ipc_mutex m = IPC_MUTEX_INITIALIZER(0);

	(void)state;
	assert_int_equal(ipc_mutex_trylock(&m), 0);
	assert_int_equal(ipc_mutex_trylock(&m), -EAGAIN);
	assert_int_equal(ipc_mutex_unlock(&m), 0);
	assert_int_equal(ipc_mutex_trylock(&m), 0);
	assert_int_equal(ipc_mutex_unlock(&m), 0);
}

static void test_mutex_unlock_of_free_mutex_is_eperm(void **state)
{
	struct ipc_mutex m = IPC_MUTEX_INITIALIZER(0);

	(void)state;
	assert_int_equal(ipc_mutex_unlock(&m), -EPERM);
	assert_int_equal(m.state, 0);
}

static void test_mutex_timedlock_times_out_not_before_deadline(void **state)
{
	struct ipc_mutex m = IPC_MUTEX_INITIALIZER(0);
	struct timespec dl;

	(void)state;
	ipc_mutex_lock(&m);
	dl = ipc_deadline_in(50 * 1000000);
	assert_int_equal(ipc_mutex_timedlock(&m, &dl), -ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	ipc_mutex_unlock(&m);
	/* the timed-out locker left nothing behind: the mutex is free */
	assert_int_equal(ipc_mutex_trylock(&m), 0);
	ipc_mutex_unlock(&m);
}

static void test_mutex_timedlock_rejects_bad_deadline(void **state)
{
	struct ipc_mutex m = IPC_MUTEX_INITIALIZER(0);
	struct timespec bad = { .tv_sec = 1, .tv_nsec = 1000000000 };

	(void)state;
	ipc_mutex_lock(&m);
	assert_int_equal(ipc_mutex_timedlock(&m, &bad), -EINVAL);
	bad.tv_nsec = -1;
	assert_int_equal(ipc_mutex_timedlock(&m, &bad), -EINVAL);
	ipc_mutex_unlock(&m);
}

static void *hold_then_release(void *arg)
{
	struct ipc_mutex *m = arg;

	sleep_ms(50);
	ipc_mutex_unlock(m);
	return NULL;
}

static void test_mutex_sleeper_gets_lock_on_release(void **state)
{
	struct ipc_mutex m = IPC_MUTEX_INITIALIZER(0);
	pthread_t t;
	int64_t t0 = now_ns();

	(void)state;
	ipc_mutex_lock(&m);
	assert_int_equal(pthread_create(&t, NULL, hold_then_release, &m), 0);
	/* blocks until the other thread unlocks (unlocking from another thread is allowed) */
	assert_int_equal(ipc_mutex_lock(&m), 0);
	assert_true(now_ns() - t0 >= 40 * 1000000);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(ipc_mutex_unlock(&m), 0);
}

static void *count_loop(void *arg)
{
	struct counter *c = arg;

	for (int i = 0; i < STRESS_ITERS; i++) {
		ipc_mutex_lock(&c->m);
		c->value++;
		ipc_mutex_unlock(&c->m);
	}
	return NULL;
}

static void test_mutex_threads_keep_counter_exact(void **state)
{
	struct counter c = { .m = IPC_MUTEX_INITIALIZER(0), .value = 0 };
	void *args[STRESS_THREADS];

	(void)state;
	for (int i = 0; i < STRESS_THREADS; i++)
		args[i] = &c;
	run_threads(STRESS_THREADS, count_loop, args);
	assert_int_equal(c.value, (uint64_t)STRESS_THREADS * STRESS_ITERS);
	assert_int_equal(c.m.state, 0);
}

static int count_child(int i, void *arg)
{
	struct counter *c = arg;

	(void)i;
	for (int k = 0; k < STRESS_ITERS / 2; k++) {
		ipc_mutex_lock(&c->m);
		c->value++;
		ipc_mutex_unlock(&c->m);
	}
	return 0;
}

static void test_mutex_processes_keep_counter_exact(void **state)
{
	struct counter *c = shared_alloc(sizeof(*c));

	(void)state;
	assert_int_equal(ipc_mutex_init(&c->m, IPC_SHARED), 0);
	run_children(STRESS_THREADS, count_child, c);
	assert_int_equal(c->value, (uint64_t)STRESS_THREADS * (STRESS_ITERS / 2));
	assert_int_equal(c->m.state, 0);
	shared_free(c, sizeof(*c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_init_rejects_unknown_flags),
		cmocka_unit_test(test_mutex_trylock_fails_while_held),
		cmocka_unit_test(test_mutex_unlock_of_free_mutex_is_eperm),
		cmocka_unit_test(test_mutex_timedlock_times_out_not_before_deadline),
		cmocka_unit_test(test_mutex_timedlock_rejects_bad_deadline),
		cmocka_unit_test(test_mutex_sleeper_gets_lock_on_release),
		cmocka_unit_test(test_mutex_threads_keep_counter_exact),
		cmocka_unit_test(test_mutex_processes_keep_counter_exact),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
