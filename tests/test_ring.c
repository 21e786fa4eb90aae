/* SPDX-License-Identifier: MIT */
/* test_ring.c - the bounded byte ring, single-threaded, between threads and between processes. */
#include <ipc/ring.h>

#include <stdbool.h>

#include "testutil.h"

#define STRESS_WRITERS 4
#define STRESS_READERS 4
#define STRESS_ITEMS 200000 /* 8-byte items, over all writers */
#define RECORDS_PER_WRITER 5000
#define RECORD_HDR 12 /* len, writer, seq: three uint32_t */
#define RECORD_MIN 16
#define STRESS_TIMEOUT_NS (20 * 1000000000LL) /* a lost wake fails the test instead of hanging */
#define WAKE_TIMEOUT_NS (3 * 1000000000LL)    /* the same, sooner, where one wake is tested */

static struct ipc_ring *ring_new(uint32_t capacity, unsigned flags)
{
	size_t size = ipc_ring_footprint(capacity);
	struct ipc_ring *r;

	assert_true(size > 0);
	r = shared_alloc(size);
	assert_int_equal(ipc_ring_init(r, capacity, flags), 0);
	return r;
}

static void ring_free(struct ipc_ring *r)
{
	shared_free(r, ipc_ring_footprint(r->capacity));
}

/* Byte i of the test streams: not periodic in any small capacity, never 0 for long. */
static unsigned char stream_byte(size_t i)
{
	return (unsigned char)(i * 131 + (i >> 8) + 1);
}

static void fill_stream(unsigned char *buf, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = stream_byte(from + i);
}

static void assert_stream(const unsigned char *buf, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf[i], stream_byte(from + i));
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_ring_init_validates_sizes_and_flags(void **state)
{
	size_t size = ipc_ring_footprint(64);
	unsigned char *mem = malloc(size);
	struct ipc_ring *r = (struct ipc_ring *)mem;

	(void)state;
	assert_int_equal(ipc_ring_footprint(0), 0);
	assert_int_equal(ipc_ring_footprint(IPC_RING_CAPACITY_MAX + 1), 0);
	assert_int_equal(size, sizeof(struct ipc_ring) + 64);

	memset(mem, 0xa5, size);
	assert_int_equal(ipc_ring_init(r, 0, 0), -EINVAL);
	assert_int_equal(ipc_ring_init(r, IPC_RING_CAPACITY_MAX + 1, 0), -EINVAL);
	assert_int_equal(ipc_ring_init(r, 64, 0x100), -EINVAL);
	for (size_t i = 0; i < size; i++)
		assert_int_equal(mem[i], 0xa5);

	assert_int_equal(ipc_ring_init(r, 64, IPC_SHARED), 0);
	assert_int_equal(ipc_ring_capacity(r), 64);
	assert_int_equal(ipc_ring_used(r), 0);
	free(mem);
}

static void test_ring_write_read_exact_bytes(void **state)
{
	struct ipc_ring *r = ring_new(100, 0);
	unsigned char in[30], out[100];

	(void)state;
	fill_stream(in, 0, sizeof(in));
	assert_int_equal(ipc_ring_write(r, in, sizeof(in)), sizeof(in));
	assert_int_equal(ipc_ring_used(r), sizeof(in));
	/* a read takes what is there, not what was asked for */
	assert_int_equal(ipc_ring_read(r, out, sizeof(out)), sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(ipc_ring_used(r), 0);
	ring_free(r);
}

static void test_ring_wraps_around_the_end(void **state)
{
	struct ipc_ring *r = ring_new(10, 0);
	unsigned char out[10];

	(void)state;
	assert_int_equal(ipc_ring_write(r, "abcdefg", 7), 7);
	assert_int_equal(ipc_ring_read(r, out, 5), 5);
	assert_memory_equal(out, "abcde", 5);
	/* 3 bytes fit before the end of the data area, the other 5 wrap to its start */
	assert_int_equal(ipc_ring_write(r, "hijklmno", 8), 8);
	assert_int_equal(ipc_ring_used(r), 10);
	/* and the read crosses the end too */
	assert_int_equal(ipc_ring_read(r, out, sizeof(out)), 10);
	assert_memory_equal(out, "fghijklmno", 10);
	assert_int_equal(ipc_ring_used(r), 0);
	ring_free(r);
}

static void test_ring_peek_copies_without_taking(void **state)
{
	struct ipc_ring *r = ring_new(10, 0);
	unsigned char out[10];

	(void)state;
	assert_int_equal(ipc_ring_write(r, "abcdefg", 7), 7);
	assert_int_equal(ipc_ring_read(r, out, 5), 5);
	assert_int_equal(ipc_ring_write(r, "hijklmno", 8), 8); /* "fghijklmno", wrapped */
	assert_int_equal(ipc_ring_peek(r, 0, out, sizeof(out)), 10);
	assert_memory_equal(out, "fghijklmno", 10);
	/* from an offset, across the end of the data area, and short at the end */
	assert_int_equal(ipc_ring_peek(r, 3, out, 4), 4);
	assert_memory_equal(out, "ijkl", 4);
	assert_int_equal(ipc_ring_peek(r, 8, out, 5), 2);
	assert_memory_equal(out, "no", 2);
	assert_int_equal(ipc_ring_peek(r, 10, out, 5), 0);
	/* nothing was taken */
	assert_int_equal(ipc_ring_used(r), 10);
	assert_int_equal(ipc_ring_read(r, out, sizeof(out)), 10);
	assert_memory_equal(out, "fghijklmno", 10);
	ring_free(r);
}

static void test_ring_stream_survives_many_wraps(void **state)
{
	struct ipc_ring *r = ring_new(13, 0);
	unsigned char buf[13];
	size_t wrote = 0, got = 0;
	uint32_t seed = 12345;

	(void)state;
	while (got < 100000) {
		size_t room = 13 - ipc_ring_used(r);
		size_t n = xorshift(&seed) % 14;
		ssize_t rc;

		if (n > room)
			n = room;
		fill_stream(buf, wrote, n);
		assert_int_equal(ipc_ring_trywrite(r, buf, n), n);
		wrote += n;
		n = xorshift(&seed) % 14;
		rc = ipc_ring_tryread(r, buf, n);
		if (rc == -EAGAIN) {
			assert_int_equal(wrote, got);
			continue;
		}
		assert_true(rc >= 0 && (size_t)rc <= n);
		assert_stream(buf, got, (size_t)rc);
		got += (size_t)rc;
		assert_int_equal(ipc_ring_used(r), wrote - got);
	}
	ring_free(r);
}

static void test_ring_read_takes_at_most_n_and_zero_returns_at_once(void **state)
{
	struct ipc_ring *r = ring_new(16, 0);
	unsigned char out[16];

	(void)state;
	/* n == 0 does not wait, even on an empty ring */
	assert_int_equal(ipc_ring_read(r, out, 0), 0);
	assert_int_equal(ipc_ring_write(r, "12345", 5), 5);
	assert_int_equal(ipc_ring_read(r, out, 0), 0);
	assert_int_equal(ipc_ring_read(r, out, 2), 2);
	assert_memory_equal(out, "12", 2);
	assert_int_equal(ipc_ring_read(r, out, 16), 3);
	assert_memory_equal(out, "345", 3);
	assert_int_equal(ipc_ring_write(r, "x", 0), 0);
	assert_int_equal(ipc_ring_used(r), 0);
	ring_free(r);
}

static void test_ring_trywrite_atomic_is_all_or_nothing(void **state)
{
	struct ipc_ring *r = ring_new(10, 0);
	unsigned char out[10];

	(void)state;
	assert_int_equal(ipc_ring_write(r, "abcdef", 6), 6);
	/* 5 <= capacity: atomic, and only 4 fit */
	assert_int_equal(ipc_ring_trywrite(r, "ghijk", 5), -EAGAIN);
	assert_int_equal(ipc_ring_used(r), 6);
	assert_int_equal(ipc_ring_trywrite(r, "ghij", 4), 4);
	assert_int_equal(ipc_ring_read(r, out, sizeof(out)), 10);
	assert_memory_equal(out, "abcdefghij", 10);
	ring_free(r);
}

static void test_ring_trywrite_large_is_partial(void **state)
{
	const size_t cap = IPC_RING_ATOMIC + 1000, n = IPC_RING_ATOMIC + 1;
	struct ipc_ring *r = ring_new(cap, 0);
	unsigned char *in = malloc(cap + n), *out = malloc(cap + n);

	(void)state;
	fill_stream(in, 0, cap + n);
	assert_int_equal(ipc_ring_write(r, in, 1000), 1000);
	/* above IPC_RING_ATOMIC: copies what fits (the 4096 bytes left) */
	assert_int_equal(ipc_ring_trywrite(r, in + 1000, n), cap - 1000);
	assert_int_equal(ipc_ring_trywrite(r, in + cap, n), -EAGAIN);
	assert_int_equal(ipc_ring_read(r, out, cap + n), cap);
	assert_memory_equal(in, out, cap);
	ring_free(r);

	/* above the capacity (but not the atomic limit): also not atomic, or it could never fit */
	r = ring_new(10, 0);
	assert_int_equal(ipc_ring_write(r, in, 4), 4);
	assert_int_equal(ipc_ring_trywrite(r, in + 4, 25), 6);
	assert_int_equal(ipc_ring_trywrite(r, in + 10, 25), -EAGAIN);
	assert_int_equal(ipc_ring_read(r, out, 25), 10);
	assert_stream(out, 0, 10);
	ring_free(r);
	free(in);
	free(out);
}

static void test_ring_try_forms_never_block(void **state)
{
	struct ipc_ring *r = ring_new(8, 0);
	unsigned char buf[8] = { 0 };
	int64_t t0 = now_ns();

	(void)state;
	assert_int_equal(ipc_ring_tryread(r, buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(ipc_ring_trywrite(r, buf, 8), 8);
	assert_int_equal(ipc_ring_trywrite(r, buf, 1), -EAGAIN);
	assert_int_equal(ipc_ring_trywrite(r, buf, 100), -EAGAIN);
	assert_true(now_ns() - t0 < 1000000000);
	assert_int_equal(ipc_ring_used(r), 8);
	ring_free(r);
}

static void test_ring_timedread_times_out_not_before_deadline(void **state)
{
	struct ipc_ring *r = ring_new(8, 0);
	unsigned char buf[8];
	struct timespec dl = ipc_deadline_in(50 * 1000000);

	(void)state;
	assert_int_equal(ipc_ring_timedread(r, buf, sizeof(buf), &dl), -ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	assert_int_equal(ipc_ring_used(r), 0);
	ring_free(r);
}

static void test_ring_timedwrite_times_out_not_before_deadline(void **state)
{
	struct ipc_ring *r = ring_new(10, 0);
	unsigned char out[10];
	struct timespec dl;

	(void)state;
	assert_int_equal(ipc_ring_write(r, "abcdef", 6), 6);
	dl = ipc_deadline_in(50 * 1000000);
	assert_int_equal(ipc_ring_timedwrite(r, "ghijk", 5, &dl), -ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	/* nothing of the atomic write went in */
	assert_int_equal(ipc_ring_read(r, out, sizeof(out)), 6);
	assert_memory_equal(out, "abcdef", 6);
	ring_free(r);
}

static void test_ring_timedwrite_large_returns_partial_count(void **state)
{
	struct ipc_ring *r = ring_new(10, 0);
	unsigned char in[25], out[25];
	struct timespec dl = ipc_deadline_in(50 * 1000000);

	(void)state;
	fill_stream(in, 0, sizeof(in));
	/* 10 bytes fit, then it waits in vain for room for the rest */
	assert_int_equal(ipc_ring_timedwrite(r, in, sizeof(in), &dl), 10);
	assert_true(now_ns() >= ts_ns(&dl));
	/* with no progress at all it fails and writes nothing */
	dl = ipc_deadline_in(20 * 1000000);
	assert_int_equal(ipc_ring_timedwrite(r, in + 10, 15, &dl), -ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	assert_int_equal(ipc_ring_read(r, out, sizeof(out)), 10);
	assert_stream(out, 0, 10);
	ring_free(r);
}

static void test_ring_timed_forms_reject_bad_deadline(void **state)
{
	struct ipc_ring *r = ring_new(10, 0);
	const struct timespec bad[] = { { 1, 1000000000 }, { 1, -1 }, { -1, 0 } };
	unsigned char buf[10];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* rejected even when the call would not have to wait */
		assert_int_equal(ipc_ring_timedwrite(r, "abc", 3, &bad[i]), -EINVAL);
		assert_int_equal(ipc_ring_used(r), 0);
		assert_int_equal(ipc_ring_write(r, "abc", 3), 3);
		assert_int_equal(ipc_ring_timedread(r, buf, sizeof(buf), &bad[i]), -EINVAL);
		assert_int_equal(ipc_ring_used(r), 3);
		assert_int_equal(ipc_ring_read(r, buf, sizeof(buf)), 3);
	}
	ring_free(r);
}

/* A call made by another thread, so that the test can wake or interrupt it. */
struct ring_call {
	struct ipc_ring *r;
	bool write;
	unsigned char *buf;
	size_t n;
	int64_t timeout_ns; /* relative; 0: STRESS_TIMEOUT_NS */
	ssize_t rc;	    /* the call's result, valid once done */
	bool in_time;	    /* it returned before its deadline: a wake, not a timeout, ended it */
	int done;	    /* set (atomically) when the call returned */
};

static void *ring_call_thread(void *arg)
{
	struct ring_call *c = arg;
	/* bounded, so that a missed wake fails the test instead of hanging it */
	struct timespec dl = ipc_deadline_in(c->timeout_ns ? c->timeout_ns : STRESS_TIMEOUT_NS);

	if (c->write)
		c->rc = ipc_ring_timedwrite(c->r, c->buf, c->n, &dl);
	else
		c->rc = ipc_ring_timedread(c->r, c->buf, c->n, &dl);
	/* a timed-out call re-checks its condition once, so success alone does not prove a wake */
	c->in_time = now_ns() < ts_ns(&dl);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Wait until n callers sleep on c (or are about to), then a little more so that they do. */
static void wait_for_sleepers(const struct ipc_cond *c, uint32_t n)
{
	for (int i = 0; i < 5000 && __atomic_load_n(&c->waiters, __ATOMIC_SEQ_CST) < n; i++)
		sleep_ms(1);
	assert_true(__atomic_load_n(&c->waiters, __ATOMIC_SEQ_CST) >= n);
	sleep_ms(10);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

/* SIGUSR1 interrupts blocking calls: a handler without SA_RESTART. */
static void catch_sigusr1(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, old), 0);
}

/* Interrupt c's thread until its call returns: a signal that lands between the registration as
 * a waiter and the sleep itself does not interrupt anything, so one may not be enough. */
static void interrupt_call(pthread_t t, struct ring_call *c)
{
	for (int i = 0; i < 1000 && !__atomic_load_n(&c->done, __ATOMIC_ACQUIRE); i++) {
		pthread_kill(t, SIGUSR1);
		sleep_ms(5);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_ring_blocked_read_is_interrupted_with_eintr(void **state)
{
	struct ipc_ring *r = ring_new(8, 0);
	unsigned char buf[8];
	struct ring_call c = { .r = r, .write = false, .buf = buf, .n = sizeof(buf) };
	struct sigaction old;
	pthread_t t;

	(void)state;
	catch_sigusr1(&old);
	assert_int_equal(pthread_create(&t, NULL, ring_call_thread, &c), 0);
	wait_for_sleepers(&r->readable, 1);
	interrupt_call(t, &c);
	assert_int_equal(c.rc, -EINTR);
	assert_int_equal(ipc_ring_used(r), 0);
	/* the interrupted reader left no waiter behind */
	assert_int_equal(r->readable.waiters, 0);
	sigaction(SIGUSR1, &old, NULL);
	ring_free(r);
}

static void test_ring_blocked_write_is_interrupted_with_eintr(void **state)
{
	struct ipc_ring *r = ring_new(10, 0);
	unsigned char in[25], out[25];
	struct ring_call c = { .r = r, .write = true, .buf = in, .n = 5 };
	struct sigaction old;
	pthread_t t;

	(void)state;
	fill_stream(in, 0, sizeof(in));
	catch_sigusr1(&old);

	/* an atomic write that does not fit: interrupted, it writes nothing */
	assert_int_equal(ipc_ring_write(r, "abcdef", 6), 6);
	assert_int_equal(pthread_create(&t, NULL, ring_call_thread, &c), 0);
	wait_for_sleepers(&r->writable, 1);
	interrupt_call(t, &c);
	assert_int_equal(c.rc, -EINTR);
	assert_int_equal(ipc_ring_read(r, out, sizeof(out)), 6);
	assert_memory_equal(out, "abcdef", 6);

	/* a large write interrupted after some progress returns how much it wrote */
	c = (struct ring_call){ .r = r, .write = true, .buf = in, .n = sizeof(in) };
	assert_int_equal(pthread_create(&t, NULL, ring_call_thread, &c), 0);
	wait_for_sleepers(&r->writable, 1);
	interrupt_call(t, &c);
	assert_int_equal(c.rc, 10);
	assert_int_equal(ipc_ring_read(r, out, sizeof(out)), 10);
	assert_stream(out, 0, 10);

	sigaction(SIGUSR1, &old, NULL);
	ring_free(r);
}

static void test_ring_write_wakes_blocked_reader(void **state)
{
	struct ipc_ring *r = ring_new(8, 0);
	unsigned char buf[8];
	struct ring_call c = { .r = r, .write = false, .buf = buf, .n = sizeof(buf) };
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, ring_call_thread, &c), 0);
	wait_for_sleepers(&r->readable, 1);
	assert_int_equal(ipc_ring_write(r, "xyz", 3), 3);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.rc, 3);
	assert_true(c.in_time);
	assert_memory_equal(buf, "xyz", 3);
	ring_free(r);
}

static void test_ring_read_wakes_blocked_atomic_writer(void **state)
{
	struct ipc_ring *r = ring_new(8, 0);
	unsigned char buf[8], in[] = "12345";
	struct ring_call c = { .r = r, .write = true, .buf = in, .n = 5 };
	pthread_t t;

	(void)state;
	assert_int_equal(ipc_ring_write(r, "abcdef", 6), 6);
	assert_int_equal(pthread_create(&t, NULL, ring_call_thread, &c), 0);
	wait_for_sleepers(&r->writable, 1);
	/* freeing 2 bytes is not enough for the 5 it needs at once: it must go back to sleep */
	assert_int_equal(ipc_ring_read(r, buf, 2), 2);
	sleep_ms(20);
	assert_false(__atomic_load_n(&c.done, __ATOMIC_ACQUIRE));
	assert_int_equal(ipc_ring_used(r), 4);
	assert_int_equal(ipc_ring_read(r, buf, 2), 2);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.rc, 5);
	assert_true(c.in_time);
	assert_int_equal(ipc_ring_read(r, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "ef12345", 7);
	ring_free(r);
}

static void test_ring_write_wakes_as_many_readers_as_it_feeds(void **state)
{
	struct ipc_ring *r = ring_new(8, 0);
	unsigned char b1[2], b2[2];
	struct ring_call c1 = { .r = r, .buf = b1, .n = 2, .timeout_ns = WAKE_TIMEOUT_NS };
	struct ring_call c2 = { .r = r, .buf = b2, .n = 2, .timeout_ns = WAKE_TIMEOUT_NS };
	pthread_t t1, t2;

	(void)state;
	assert_int_equal(pthread_create(&t1, NULL, ring_call_thread, &c1), 0);
	wait_for_sleepers(&r->readable, 1);
	assert_int_equal(pthread_create(&t2, NULL, ring_call_thread, &c2), 0);
	wait_for_sleepers(&r->readable, 2);
	/* enough for both: the reader woken first must pass the wake on to the other */
	assert_int_equal(ipc_ring_write(r, "abcd", 4), 4);
	assert_int_equal(pthread_join(t1, NULL), 0);
	assert_int_equal(pthread_join(t2, NULL), 0);
	assert_int_equal(c1.rc, 2);
	assert_true(c1.in_time);
	assert_int_equal(c2.rc, 2);
	assert_true(c2.in_time);
	assert_int_equal(ipc_ring_used(r), 0);
	ring_free(r);
}

static void test_ring_read_wakes_every_writer_that_fits(void **state)
{
	struct ipc_ring *r = ring_new(10, 0);
	unsigned char buf[10];
	unsigned char bytes8[] = "BBBBBBBB", bytes2[] = "ss";
	struct ring_call big = { .r = r, .write = true, .buf = bytes8, .n = 8 };
	struct ring_call small = {
		.r = r, .write = true, .buf = bytes2, .n = 2, .timeout_ns = WAKE_TIMEOUT_NS
	};
	pthread_t tb, ts;

	(void)state;
	assert_int_equal(ipc_ring_write(r, "0123456789", 10), 10);
	/* the big writer sleeps first, so the kernel's FIFO futex queue wakes it first */
	assert_int_equal(pthread_create(&tb, NULL, ring_call_thread, &big), 0);
	wait_for_sleepers(&r->writable, 1);
	assert_int_equal(pthread_create(&ts, NULL, ring_call_thread, &small), 0);
	wait_for_sleepers(&r->writable, 2);
	/* room for the small write only: it must not stay asleep behind the big one */
	assert_int_equal(ipc_ring_read(r, buf, 3), 3);
	assert_int_equal(pthread_join(ts, NULL), 0);
	assert_int_equal(small.rc, 2);
	assert_true(small.in_time);
	assert_false(__atomic_load_n(&big.done, __ATOMIC_ACQUIRE));
	/* and the big one once there is room for all of it */
	assert_int_equal(ipc_ring_read(r, buf, 10), 9);
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_int_equal(big.rc, 8);
	assert_true(big.in_time);
	assert_int_equal(ipc_ring_read(r, buf, 10), 8);
	assert_memory_equal(buf, "BBBBBBBB", 8);
	ring_free(r);
}

static void test_ring_large_write_streams_through_small_ring(void **state)
{
	const size_t n = 1 << 20;
	struct ipc_ring *r = ring_new(1000, 0);
	unsigned char *in = malloc(n), *out = malloc(n);
	struct ring_call c = { .r = r, .write = true, .buf = in, .n = n };
	uint32_t seed = 99;
	size_t got = 0;
	pthread_t t;

	(void)state;
	fill_stream(in, 0, n);
	assert_int_equal(pthread_create(&t, NULL, ring_call_thread, &c), 0);
	while (got < n) {
		ssize_t rc = ipc_ring_read(r, out + got, 1 + xorshift(&seed) % 1500);

		assert_true(rc > 0);
		got += (size_t)rc;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.rc, n);
	assert_true(c.in_time);
	assert_memory_equal(in, out, n);
	free(in);
	free(out);
	ring_free(r);
}

/*
 * Stress 1: items of 8 bytes through a 256-byte ring, 4 writers and 4 readers. Writers write
 * batches of 1..8 items (atomic writes) and readers read exactly 8 bytes: the ring then always
 * holds whole items, so every read returns one item, and each must arrive exactly once.
 */
struct item_stress {
	struct ipc_ring *r;
	struct timespec deadline;
	int64_t to_read;      /* items not yet claimed by a reader */
	uint64_t sum_written; /* atomic: sum of the items written */
	uint64_t sum_read;    /* atomic: sum of the items read */
	uint64_t nread;	      /* atomic: items read */
	int errors;	      /* atomic: failed calls, bad reads, duplicates, reordering */
	unsigned char seen[STRESS_WRITERS][STRESS_ITEMS / STRESS_WRITERS]; /* atomic counts */
};

struct item_worker {
	struct item_stress *s;
	int id;
};

static uint64_t item_value(int writer, uint32_t seq)
{
	return ((uint64_t)writer << 32 | seq) * 0x9e3779b97f4a7c15ull;
}

static void *item_writer(void *arg)
{
	struct item_worker *w = arg;
	struct item_stress *s = w->s;
	const uint32_t items = STRESS_ITEMS / STRESS_WRITERS;
	uint32_t seed = 7 + w->id, seq = 0;
	uint64_t batch[8], sum = 0;

	while (seq < items) {
		uint32_t k = 1 + xorshift(&seed) % 8;

		if (k > items - seq)
			k = items - seq;
		for (uint32_t j = 0; j < k; j++) {
			/* the item carries writer and sequence; its value feeds the checksum */
			batch[j] = (uint64_t)w->id << 32 | (seq + j);
			sum += item_value(w->id, seq + j);
		}
		if (ipc_ring_timedwrite(s->r, batch, k * 8, &s->deadline) != (ssize_t)(k * 8)) {
			__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
			break;
		}
		seq += k;
	}
	__atomic_fetch_add(&s->sum_written, sum, __ATOMIC_RELAXED);
	return NULL;
}

static void *item_reader(void *arg)
{
	struct item_worker *w = arg;
	struct item_stress *s = w->s;
	int64_t last[STRESS_WRITERS];
	uint64_t item, sum = 0, n = 0;

	for (int i = 0; i < STRESS_WRITERS; i++)
		last[i] = -1;
	while (__atomic_sub_fetch(&s->to_read, 1, __ATOMIC_RELAXED) >= 0) {
		int writer;
		uint32_t seq;

		if (ipc_ring_timedread(s->r, &item, 8, &s->deadline) != 8)
			goto fail;
		writer = (int)(item >> 32);
		seq = (uint32_t)item;
		if (writer >= STRESS_WRITERS || seq >= STRESS_ITEMS / STRESS_WRITERS)
			goto fail;
		/* one writer's items are in order in the ring, so any one reader sees them so */
		if ((int64_t)seq <= last[writer])
			goto fail;
		last[writer] = seq;
		if (__atomic_fetch_add(&s->seen[writer][seq], 1, __ATOMIC_RELAXED) != 0)
			goto fail;
		sum += item_value(writer, seq);
		n++;
	}
	__atomic_fetch_add(&s->sum_read, sum, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->nread, n, __ATOMIC_RELAXED);
	return NULL;
fail:
	__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void test_ring_threads_move_every_item_once(void **state)
{
	struct item_stress *s = calloc(1, sizeof(*s));
	struct item_worker w[STRESS_WRITERS + STRESS_READERS];
	void *args[STRESS_WRITERS + STRESS_READERS];
	pthread_t t[STRESS_WRITERS + STRESS_READERS];

	(void)state;
	s->r = ring_new(256, 0);
	s->deadline = ipc_deadline_in(STRESS_TIMEOUT_NS);
	s->to_read = STRESS_ITEMS;
	for (int i = 0; i < STRESS_WRITERS + STRESS_READERS; i++) {
		w[i].s = s;
		w[i].id = i < STRESS_WRITERS ? i : i - STRESS_WRITERS;
		args[i] = &w[i];
	}
	/* readers and writers at once: run_threads takes one function */
	for (int i = 0; i < STRESS_WRITERS + STRESS_READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL,
						i < STRESS_WRITERS ? item_writer : item_reader,
						args[i]),
				 0);
	for (int i = 0; i < STRESS_WRITERS + STRESS_READERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);

	/* a lost wake that a timed-out call's last re-check papered over still shows here */
	assert_true(now_ns() < ts_ns(&s->deadline));
	assert_int_equal(s->errors, 0);
	assert_int_equal(s->nread, STRESS_ITEMS);
	assert_int_equal(s->sum_read, s->sum_written);
	for (int i = 0; i < STRESS_WRITERS; i++)
		for (int j = 0; j < STRESS_ITEMS / STRESS_WRITERS; j++)
			assert_int_equal(s->seen[i][j], 1);
	assert_int_equal(ipc_ring_used(s->r), 0);
	ring_free(s->r);
	free(s);
}

/*
 * Stress 2: writers of records of 16..4096 bytes (atomic writes) and one reader that parses the
 * stream: a record is a header (length, writer, sequence) and a body of one repeated byte.
 * An atomic write split by another writer's bytes breaks the parse.
 */
struct record_stress {
	struct ipc_ring *r;
	struct timespec deadline;
	uint64_t sum_written; /* atomic: sum of every byte written */
	uint64_t sum_read;    /* sum of every byte read, by the one reader */
	uint64_t records;     /* records parsed whole and in order */
	int errors;	      /* atomic */
};

static uint32_t record_len(uint32_t writer, uint32_t seq)
{
	uint32_t h = (writer + 1) * 2654435761u ^ (seq + 1) * 40503u;

	h ^= h >> 15;
	return RECORD_MIN + h % (IPC_RING_ATOMIC - RECORD_MIN + 1);
}

static unsigned char record_fill(uint32_t writer, uint32_t seq)
{
	return (unsigned char)(writer * 61 + seq * 7 + 1);
}

/* Returns 0, or the failing step (process exit code). */
static int record_write_all(struct record_stress *s, uint32_t writer)
{
	unsigned char rec[IPC_RING_ATOMIC];
	uint64_t sum = 0;

	for (uint32_t seq = 0; seq < RECORDS_PER_WRITER; seq++) {
		uint32_t len = record_len(writer, seq), hdr[3] = { len, writer, seq };

		memcpy(rec, hdr, RECORD_HDR);
		memset(rec + RECORD_HDR, record_fill(writer, seq), len - RECORD_HDR);
		for (uint32_t i = 0; i < len; i++)
			sum += rec[i];
		if (ipc_ring_timedwrite(s->r, rec, len, &s->deadline) != (ssize_t)len)
			return 10;
	}
	__atomic_fetch_add(&s->sum_written, sum, __ATOMIC_RELAXED);
	return 0;
}

/* Returns 0, or the failing step (process exit code). */
static int record_read_all(struct record_stress *s, uint32_t writers)
{
	unsigned char buf[2 * IPC_RING_ATOMIC];
	uint32_t next[STRESS_WRITERS] = { 0 };
	uint64_t total = (uint64_t)writers * RECORDS_PER_WRITER;
	size_t have = 0;
	uint32_t seed = 3;

	while (s->records < total) {
		size_t want = 1 + xorshift(&seed) % (sizeof(buf) - have);
		ssize_t rc = ipc_ring_timedread(s->r, buf + have, want, &s->deadline);
		size_t off = 0;

		if (rc <= 0)
			return 20;
		for (ssize_t i = 0; i < rc; i++)
			s->sum_read += buf[have + i];
		have += (size_t)rc;
		while (have - off >= RECORD_HDR) {
			uint32_t hdr[3];

			memcpy(hdr, buf + off, RECORD_HDR);
			if (hdr[1] >= writers || hdr[2] != next[hdr[1]] ||
			    hdr[0] != record_len(hdr[1], hdr[2]))
				return 21;
			if (have - off < hdr[0])
				break;
			for (uint32_t i = RECORD_HDR; i < hdr[0]; i++)
				if (buf[off + i] != record_fill(hdr[1], hdr[2]))
					return 22;
			next[hdr[1]]++;
			s->records++;
			off += hdr[0];
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	return have ? 23 : 0;
}

struct record_writer {
	struct record_stress *s;
	uint32_t id;
};

static void *record_writer_thread(void *arg)
{
	struct record_writer *w = arg;

	if (record_write_all(w->s, w->id))
		__atomic_fetch_add(&w->s->errors, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void test_ring_threads_atomic_writes_never_interleave(void **state)
{
	struct record_stress s = { 0 };
	struct record_writer w[STRESS_WRITERS];
	pthread_t t[STRESS_WRITERS];

	(void)state;
	/* a capacity that is no multiple of anything, so that records wrap everywhere */
	s.r = ring_new(3 * IPC_RING_ATOMIC / 2 + 7, 0);
	s.deadline = ipc_deadline_in(STRESS_TIMEOUT_NS);
	for (int i = 0; i < STRESS_WRITERS; i++) {
		w[i] = (struct record_writer){ .s = &s, .id = (uint32_t)i };
		assert_int_equal(pthread_create(&t[i], NULL, record_writer_thread, &w[i]), 0);
	}
	assert_int_equal(record_read_all(&s, STRESS_WRITERS), 0);
	for (int i = 0; i < STRESS_WRITERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_true(now_ns() < ts_ns(&s.deadline));
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.records, STRESS_WRITERS * RECORDS_PER_WRITER);
	assert_int_equal(s.sum_read, s.sum_written);
	assert_int_equal(ipc_ring_used(s.r), 0);
	ring_free(s.r);
}

/* Child 0 reads, the others write. */
static int record_child(int i, void *arg)
{
	struct record_stress *s = arg;

	if (i == 0)
		return record_read_all(s, STRESS_WRITERS);
	return record_write_all(s, (uint32_t)i - 1);
}

static void test_ring_processes_atomic_writes_never_interleave(void **state)
{
	struct record_stress *s = shared_alloc(sizeof(*s));

	(void)state;
	s->r = ring_new(3 * IPC_RING_ATOMIC / 2 + 7, IPC_SHARED);
	s->deadline = ipc_deadline_in(STRESS_TIMEOUT_NS);
	run_children(1 + STRESS_WRITERS, record_child, s);
	assert_true(now_ns() < ts_ns(&s->deadline));
	assert_int_equal(s->records, STRESS_WRITERS * RECORDS_PER_WRITER);
	assert_int_equal(s->sum_read, s->sum_written);
	assert_int_equal(ipc_ring_used(s->r), 0);
	ring_free(s->r);
	shared_free(s, sizeof(*s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_init_validates_sizes_and_flags),
		cmocka_unit_test(test_ring_write_read_exact_bytes),
		cmocka_unit_test(test_ring_wraps_around_the_end),
		cmocka_unit_test(test_ring_peek_copies_without_taking),
		cmocka_unit_test(test_ring_stream_survives_many_wraps),
		cmocka_unit_test(test_ring_read_takes_at_most_n_and_zero_returns_at_once),
		cmocka_unit_test(test_ring_trywrite_atomic_is_all_or_nothing),
		cmocka_unit_test(test_ring_trywrite_large_is_partial),
		cmocka_unit_test(test_ring_try_forms_never_block),
		cmocka_unit_test(test_ring_timedread_times_out_not_before_deadline),
		cmocka_unit_test(test_ring_timedwrite_times_out_not_before_deadline),
		cmocka_unit_test(test_ring_timedwrite_large_returns_partial_count),
		cmocka_unit_test(test_ring_timed_forms_reject_bad_deadline),
		cmocka_unit_test(test_ring_blocked_read_is_interrupted_with_eintr),
		cmocka_unit_test(test_ring_blocked_write_is_interrupted_with_eintr),
		cmocka_unit_test(test_ring_write_wakes_blocked_reader),
		cmocka_unit_test(test_ring_read_wakes_blocked_atomic_writer),
		cmocka_unit_test(test_ring_write_wakes_as_many_readers_as_it_feeds),
		cmocka_unit_test(test_ring_read_wakes_every_writer_that_fits),
		cmocka_unit_test(test_ring_large_write_streams_through_small_ring),
		cmocka_unit_test(test_ring_threads_move_every_item_once),
		cmocka_unit_test(test_ring_threads_atomic_writes_never_interleave),
		cmocka_unit_test(test_ring_processes_atomic_writes_never_interleave),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
