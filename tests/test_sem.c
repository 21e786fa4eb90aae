/* SPDX-License-Identifier: MIT */
/* test_sem.c - the counting semaphore: post/wait by N, overflow, timeouts, EINTR, stress. */
#include <ipc/sem.h>

#include "testutil.h"

#define STRESS_THREADS 4
#define STRESS_ITERS 100000

static void test_sem_init_rejects_bad_arguments(void **state)
{
	struct ipc_sem s;

	(void)state;
	assert_int_equal(ipc_sem_init(&s, 0, 0x80), -EINVAL);
	assert_int_equal(ipc_sem_init(&s, (uint32_t)IPC_SEM_VALUE_MAX + 1, 0), -EINVAL);
	assert_int_equal(ipc_sem_init(&s, IPC_SEM_VALUE_MAX, IPC_SHARED), 0);
	assert_int_equal(ipc_sem_value(&s), IPC_SEM_VALUE_MAX);
}

static void test_sem_post_overflow_changes_nothing(void **state)
{
	struct ipc_sem s;

	(void)state;
	ipc_sem_init(&s, IPC_SEM_VALUE_MAX - 1, 0);
	assert_int_equal(ipc_sem_post(&s, 2), -EOVERFLOW);
	assert_int_equal(ipc_sem_value(&s), IPC_SEM_VALUE_MAX - 1);
	assert_int_equal(ipc_sem_post(&s, 1), 0);
	assert_int_equal(ipc_sem_value(&s), IPC_SEM_VALUE_MAX);
	assert_int_equal(ipc_sem_post(&s, 1), -EOVERFLOW);
	assert_int_equal(ipc_sem_post(&s, 0), -EINVAL);
	assert_int_equal(ipc_sem_post(&s, (uint32_t)IPC_SEM_VALUE_MAX + 1), -EINVAL);
	assert_int_equal(ipc_sem_value(&s), IPC_SEM_VALUE_MAX);
}

static void test_sem_wait_n_is_all_or_nothing(void **state)
{
	struct ipc_sem s = IPC_SEM_INITIALIZER(2, 0);

	(void)state;
	assert_int_equal(ipc_sem_trywait_n(&s, 3), -EAGAIN);
	assert_int_equal(ipc_sem_value(&s), 2);
	assert_int_equal(ipc_sem_trywait_n(&s, 0), -EINVAL);
	assert_int_equal(ipc_sem_post(&s, 5), 0);
	assert_int_equal(ipc_sem_wait_n(&s, 7), 0);
	assert_int_equal(ipc_sem_value(&s), 0);
	assert_int_equal(ipc_sem_trywait(&s), -EAGAIN);
	assert_int_equal(ipc_sem_value(&s), 0);
}

static void test_sem_timedwait_times_out_not_before_deadline(void **state)
{
	struct ipc_sem s = IPC_SEM_INITIALIZER(1, 0);
	struct timespec dl = ipc_deadline_in(50 * 1000000);

	(void)state;
	assert_int_equal(ipc_sem_timedwait_n(&s, 2, &dl), -ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	assert_int_equal(ipc_sem_value(&s), 1);
	assert_int_equal(s.waiters, 0);
	assert_int_equal(s.wide_waiters, 0);
}

static void test_sem_timedwait_rejects_bad_deadline(void **state)
{
	struct ipc_sem s = IPC_SEM_INITIALIZER(0, 0);
	struct timespec bad = { .tv_sec = 0, .tv_nsec = 1000000000 };

	(void)state;
	assert_int_equal(ipc_sem_timedwait(&s, &bad), -EINVAL);
	bad.tv_sec = -1;
	bad.tv_nsec = 0;
	assert_int_equal(ipc_sem_timedwait(&s, &bad), -EINVAL);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

struct sleeper {
	struct ipc_sem *s;
	uint32_t n;
	int bounded;
	int rc;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *sl = arg;

	/* bounded, so that a lost wake fails the test instead of hanging it */
	struct timespec dl = ipc_deadline_in(sl->bounded ? 5LL * 1000000000 : 0);

	sl->rc = ipc_sem_timedwait_n(sl->s, sl->n, sl->bounded ? &dl : NULL);
	return NULL;
}

static void test_sem_wait_returns_eintr_on_signal(void **state)
{
	struct ipc_sem s = IPC_SEM_INITIALIZER(0, 0);
	struct sleeper sl = { .s = &s, .n = 1, .bounded = 0, .rc = 1 };
	struct sigaction sa = { .sa_handler = on_sigusr1 }; /* no SA_RESTART */
	pthread_t t;

	(void)state;
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, sleeper_main, &sl), 0);
	sleep_ms(50);
	assert_int_equal(pthread_kill(t, SIGUSR1), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(sl.rc, -EINTR);
	/* the interrupted wait took nothing and left no waiter behind */
	assert_int_equal(ipc_sem_post(&s, 1), 0);
	assert_int_equal(ipc_sem_value(&s), 1);
	assert_int_equal(s.waiters, 0);
	signal(SIGUSR1, SIG_DFL);
}

static void test_sem_post_wakes_narrow_and_wide_waiters(void **state)
{
	struct ipc_sem s = IPC_SEM_INITIALIZER(0, 0);
	struct sleeper wide = { .s = &s, .n = 3, .bounded = 1, .rc = 1 };
	struct sleeper narrow = { .s = &s, .n = 1, .bounded = 1, .rc = 1 };
	pthread_t tw, tn;

	(void)state;
	assert_int_equal(pthread_create(&tw, NULL, sleeper_main, &wide), 0);
	assert_int_equal(pthread_create(&tn, NULL, sleeper_main, &narrow), 0);
	sleep_ms(30);
	/* one unit: whichever sleeper the kernel wakes first, the narrow one must get it */
	assert_int_equal(ipc_sem_post(&s, 1), 0);
	assert_int_equal(pthread_join(tn, NULL), 0);
	assert_int_equal(narrow.rc, 0);
	/* the wide waiter needs three at once: two are not enough */
	assert_int_equal(ipc_sem_post(&s, 2), 0);
	sleep_ms(30);
	assert_int_equal(wide.rc, 1);
	assert_int_equal(ipc_sem_value(&s), 2);
	assert_int_equal(ipc_sem_post(&s, 1), 0);
	assert_int_equal(pthread_join(tw, NULL), 0);
	assert_int_equal(wide.rc, 0);
	assert_int_equal(ipc_sem_value(&s), 0);
}

/* Producers post one unit per item; consumers take them. Every unit is taken exactly once. */
struct pc {
	struct ipc_sem items;
	uint64_t taken; /* atomically added by consumers */
};

static void *producer(void *arg)
{
	struct pc *pc = arg;

	for (int i = 0; i < STRESS_ITERS; i++)
		assert_int_equal(ipc_sem_post(&pc->items, 1), 0);
	return NULL;
}

static void *consumer(void *arg)
{
	struct pc *pc = arg;

	for (int i = 0; i < STRESS_ITERS; i++) {
		assert_int_equal(ipc_sem_wait(&pc->items), 0);
		__atomic_fetch_add(&pc->taken, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_sem_threads_move_every_unit_once(void **state)
{
	struct pc pc = { .items = IPC_SEM_INITIALIZER(0, 0), .taken = 0 };
	pthread_t p[STRESS_THREADS], c[STRESS_THREADS];

	(void)state;
	for (int i = 0; i < STRESS_THREADS; i++) {
		assert_int_equal(pthread_create(&c[i], NULL, consumer, &pc), 0);
		assert_int_equal(pthread_create(&p[i], NULL, producer, &pc), 0);
	}
	for (int i = 0; i < STRESS_THREADS; i++) {
		assert_int_equal(pthread_join(p[i], NULL), 0);
		assert_int_equal(pthread_join(c[i], NULL), 0);
	}
	assert_int_equal(pc.taken, (uint64_t)STRESS_THREADS * STRESS_ITERS);
	assert_int_equal(ipc_sem_value(&pc.items), 0);
}

/* Across processes: a pool of 2 units used as a lock by taking both at once (the wide
 * form, so every post must wake all sleepers) around a plain counter. */
struct shared_counter {
	struct ipc_sem lock;
	uint64_t value;
};

static int locked_increments(int i, void *arg)
{
	struct shared_counter *c = arg;
	(void)i;
	for (int k = 0; k < STRESS_ITERS / 4; k++) {
		if (ipc_sem_wait_n(&c->lock, 2))
			return 1;
		c->value++;
		if (ipc_sem_post(&c->lock, 2))
			return 1;
	}
	return 0;
}

static void test_sem_processes_exclude_each_other(void **state)
{
	struct shared_counter *c = shared_alloc(sizeof(*c));

	(void)state;
	assert_int_equal(ipc_sem_init(&c->lock, 2, IPC_SHARED), 0);
	run_children(STRESS_THREADS, locked_increments, c);
	assert_int_equal(c->value, (uint64_t)STRESS_THREADS * (STRESS_ITERS / 4));
	assert_int_equal(ipc_sem_value(&c->lock), 2);
	shared_free(c, sizeof(*c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sem_init_rejects_bad_arguments),
		cmocka_unit_test(test_sem_post_overflow_changes_nothing),
		cmocka_unit_test(test_sem_wait_n_is_all_or_nothing),
		cmocka_unit_test(test_sem_timedwait_times_out_not_before_deadline),
		cmocka_unit_test(test_sem_timedwait_rejects_bad_deadline),
		cmocka_unit_test(test_sem_wait_returns_eintr_on_signal),
		cmocka_unit_test(test_sem_post_wakes_narrow_and_wide_waiters),
		cmocka_unit_test(test_sem_threads_move_every_unit_once),
		cmocka_unit_test(test_sem_processes_exclude_each_other),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
