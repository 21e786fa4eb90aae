/* SPDX-License-Identifier: MIT */
/* test_cond.c - the sequence-counter wait/notify and the condition variable on it. */
#include <ipc/cond.h>

#include "testutil.h"

#define STRESS_THREADS 4
#define STRESS_ITEMS 50000
#define SLOTS 8

static void test_cond_init_rejects_unknown_flags(void **state)
{
	struct ipc_cond c;

	(void)state;
	assert_int_equal(ipc_cond_init(&c, 0x40), -EINVAL);
	assert_int_equal(ipc_cond_init(&c, IPC_SHARED), 0);
}

static void test_cond_notify_between_prepare_and_wait_is_not_lost(void **state)
{
	struct ipc_cond c = IPC_COND_INITIALIZER(0);
	struct timespec dl = ipc_deadline_in(5LL * 1000000000);
	uint32_t seen;

	(void)state;
	seen = ipc_cond_prepare(&c);
	ipc_cond_notify(&c, 1);
	/* the counter moved, so this returns at once instead of sleeping until dl */
	assert_int_equal(ipc_cond_wait_seq(&c, seen, &dl), 0);
	assert_true(now_ns() < ts_ns(&dl) - 1000000000LL);
	assert_int_equal(c.waiters, 0);
}

static void test_cond_timedwait_times_out_holding_mutex(void **state)
{
	struct ipc_cond c = IPC_COND_INITIALIZER(0);
	struct ipc_mutex m = IPC_MUTEX_INITIALIZER(0);
	struct timespec dl = ipc_deadline_in(50 * 1000000);

	(void)state;
	ipc_mutex_lock(&m);
	assert_int_equal(ipc_cond_timedwait(&c, &m, &dl), -ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	assert_int_equal(ipc_mutex_trylock(&m), -EAGAIN); /* still held by us */
	assert_int_equal(ipc_mutex_unlock(&m), 0);
	assert_int_equal(c.waiters, 0);
}

static void test_cond_timedwait_rejects_bad_deadline(void **state)
{
	struct ipc_cond c = IPC_COND_INITIALIZER(0);
	struct ipc_mutex m = IPC_MUTEX_INITIALIZER(0);
	struct timespec bad = { .tv_sec = 0, .tv_nsec = -5 };

	(void)state;
	ipc_mutex_lock(&m);
	assert_int_equal(ipc_cond_timedwait(&c, &m, &bad), -EINVAL);
	assert_int_equal(ipc_mutex_unlock(&m), 0);
	assert_int_equal(c.waiters, 0);
}

struct gate {
	struct ipc_mutex m;
	struct ipc_cond c;
	int open;  /* protected by m */
	int woken; /* protected by m */
};

static void *gate_waiter(void *arg)
{
	struct gate *g = arg;

	ipc_mutex_lock(&g->m);
	while (!g->open)
		ipc_cond_wait(&g->c, &g->m);
	g->woken++;
	ipc_mutex_unlock(&g->m);
	return NULL;
}

static void test_cond_broadcast_wakes_every_waiter(void **state)
{
	struct gate g = { IPC_MUTEX_INITIALIZER(0), IPC_COND_INITIALIZER(0), 0, 0 };
	void *args[STRESS_THREADS];
	pthread_t t[STRESS_THREADS];

	(void)state;
	for (int i = 0; i < STRESS_THREADS; i++) {
		args[i] = &g;
		assert_int_equal(pthread_create(&t[i], NULL, gate_waiter, args[i]), 0);
	}
	sleep_ms(30);
	ipc_mutex_lock(&g.m);
	g.open = 1;
	ipc_cond_broadcast(&g.c);
	ipc_mutex_unlock(&g.m);
	for (int i = 0; i < STRESS_THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(g.woken, STRESS_THREADS);
}

/* A bounded buffer with one mutex and two conditions, across processes: every item produced
 * is consumed exactly once (count and sum). */
struct bbuf {
	struct ipc_mutex m;
	struct ipc_cond not_empty, not_full;
	uint32_t head, len;   /* protected by m */
	uint64_t slot[SLOTS]; /* protected by m */
	uint64_t sum, count;  /* protected by m: what consumers received */
};

static int bbuf_producer(int i, void *arg)
{
	struct bbuf *b = arg;

	for (uint64_t k = 1; k <= STRESS_ITEMS; k++) {
		ipc_mutex_lock(&b->m);
		while (b->len == SLOTS)
			ipc_cond_wait(&b->not_full, &b->m);
		b->slot[(b->head + b->len++) % SLOTS] = k * STRESS_THREADS + (uint64_t)i;
		ipc_cond_signal(&b->not_empty);
		ipc_mutex_unlock(&b->m);
	}
	return 0;
}

static int bbuf_consumer(int i, void *arg)
{
	struct bbuf *b = arg;

	(void)i;
	for (int k = 0; k < STRESS_ITEMS; k++) {
		ipc_mutex_lock(&b->m);
		while (b->len == 0)
			ipc_cond_wait(&b->not_empty, &b->m);
		b->sum += b->slot[b->head];
		b->count++;
		b->head = (b->head + 1) % SLOTS;
		b->len--;
		ipc_cond_signal(&b->not_full);
		ipc_mutex_unlock(&b->m);
	}
	return 0;
}

static int bbuf_role(int i, void *arg)
{
	return i % 2 ? bbuf_producer(i / 2, arg) : bbuf_consumer(i / 2, arg);
}

static void test_cond_processes_bounded_buffer_moves_every_item_once(void **state)
{
	struct bbuf *b = shared_alloc(sizeof(*b));
	uint64_t expect = 0;

	(void)state;
	ipc_mutex_init(&b->m, IPC_SHARED);
	ipc_cond_init(&b->not_empty, IPC_SHARED);
	ipc_cond_init(&b->not_full, IPC_SHARED);
	run_children(2 * 2, bbuf_role, b); /* 2 producers, 2 consumers */
	for (uint64_t i = 0; i < 2; i++)
		for (uint64_t k = 1; k <= STRESS_ITEMS; k++)
			expect += k * STRESS_THREADS + i;
	assert_int_equal(b->count, 2 * STRESS_ITEMS);
	assert_int_equal(b->sum, expect);
	assert_int_equal(b->len, 0);
	shared_free(b, sizeof(*b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cond_init_rejects_unknown_flags),
		cmocka_unit_test(test_cond_notify_between_prepare_and_wait_is_not_lost),
		cmocka_unit_test(test_cond_timedwait_times_out_holding_mutex),
		cmocka_unit_test(test_cond_timedwait_rejects_bad_deadline),
		cmocka_unit_test(test_cond_broadcast_wakes_every_waiter),
		cmocka_unit_test(test_cond_processes_bounded_buffer_moves_every_item_once),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
