/* SPDX-License-Identifier: MIT */
/* test_msgq.c - the priority message queue, single-threaded, between threads and processes. */
#include <ipc/msgq.h>

#include <stdbool.h>

#include "testutil.h"

#define STRESS_SENDERS 4
#define STRESS_RECEIVERS 4
#define STRESS_MSGS 200000 /* over all senders */
#define STRESS_PER_SENDER (STRESS_MSGS / STRESS_SENDERS)
#define STRESS_PRIOS 4 /* priorities used by the stress tests: a few, so that FIFO order shows */
#define STRESS_TIMEOUT_NS (20 * 1000000000LL) /* a lost wake fails the test instead of hanging */
#define WAKE_TIMEOUT_NS (3 * 1000000000LL)    /* the same, sooner, where one wake is tested */

static struct ipc_msgq *msgq_new(uint32_t max_msgs, uint32_t msgsize, unsigned flags)
{
	size_t size = ipc_msgq_footprint(max_msgs, msgsize);
	struct ipc_msgq *q;

	assert_true(size > 0);
	q = shared_alloc(size);
	assert_int_equal(ipc_msgq_init(q, max_msgs, msgsize, flags), 0);
	return q;
}

static void msgq_free(struct ipc_msgq *q)
{
	shared_free(q, ipc_msgq_footprint(q->max_msgs, q->msgsize));
}

/* Everything the accessors report, to check that a failed call changed nothing. */
struct msgq_census {
	uint32_t count, bytes, per_prio[IPC_MSGQ_PRIOS];
};

static struct msgq_census census(const struct ipc_msgq *q)
{
	struct msgq_census c = { .count = ipc_msgq_count(q), .bytes = ipc_msgq_bytes(q) };

	for (unsigned p = 0; p < IPC_MSGQ_PRIOS; p++)
		c.per_prio[p] = ipc_msgq_count_prio(q, p);
	return c;
}

static void assert_census(const struct ipc_msgq *q, const struct msgq_census *c)
{
	struct msgq_census now = census(q);

	assert_memory_equal(&now, c, sizeof(now));
}

static void test_msgq_init_validates_sizes_and_flags(void **state)
{
	size_t size = ipc_msgq_footprint(4, 10);
	unsigned char *mem = malloc(size);
	struct ipc_msgq *q = (struct ipc_msgq *)mem;

	(void)state;
	assert_true(size >= sizeof(struct ipc_msgq) + 4 * 10);
	assert_int_equal(ipc_msgq_footprint(0, 10), 0);
	assert_int_equal(ipc_msgq_footprint(4, IPC_MSGQ_MSGSIZE_MAX + 1), 0);
	/* the byte count is 32-bit: 4 messages of 2^31 - 1 bytes could overflow it */
	assert_int_equal(ipc_msgq_footprint(4, IPC_MSGQ_MSGSIZE_MAX), 0);
	assert_true(ipc_msgq_footprint(1, 0) > sizeof(struct ipc_msgq));

	memset(mem, 0xa5, size);
	assert_int_equal(ipc_msgq_init(q, 0, 10, 0), -EINVAL);
	assert_int_equal(ipc_msgq_init(q, 4, IPC_MSGQ_MSGSIZE_MAX + 1, 0), -EINVAL);
	assert_int_equal(ipc_msgq_init(q, 4, 10, 0x100), -EINVAL);
	for (size_t i = 0; i < size; i++)
		assert_int_equal(mem[i], 0xa5);

	assert_int_equal(ipc_msgq_init(q, 4, 10, IPC_SHARED), 0);
	assert_int_equal(ipc_msgq_max_msgs(q), 4);
	assert_int_equal(ipc_msgq_msgsize(q), 10);
	assert_int_equal(ipc_msgq_count(q), 0);
	assert_int_equal(ipc_msgq_bytes(q), 0);
	assert_int_equal(ipc_msgq_count_prio(q, IPC_MSGQ_PRIOS), 0);
	free(mem);
}

static void test_msgq_send_receive_exact_bytes(void **state)
{
	struct ipc_msgq *q = msgq_new(4, 10, 0);
	unsigned char out[16];
	unsigned prio = 99;

	(void)state;
	assert_int_equal(ipc_msgq_send(q, "0123456789", 10, 5), 0);
	assert_int_equal(ipc_msgq_send(q, "abc", 3, 5), 0);
	assert_int_equal(ipc_msgq_count(q), 2);
	assert_int_equal(ipc_msgq_bytes(q), 13);
	assert_int_equal(ipc_msgq_count_prio(q, 5), 2);

	memset(out, 0, sizeof(out));
	assert_int_equal(ipc_msgq_receive(q, out, sizeof(out), &prio), 10);
	assert_memory_equal(out, "0123456789", 10);
	assert_int_equal(prio, 5);
	/* exactly the message's bytes are written: the rest of the buffer is untouched */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(ipc_msgq_receive(q, out, 3, NULL), 3);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(out[3], 0xee);
	assert_int_equal(ipc_msgq_count(q), 0);
	assert_int_equal(ipc_msgq_bytes(q), 0);
	assert_int_equal(ipc_msgq_count_prio(q, 5), 0);
	msgq_free(q);
}

static void test_msgq_higher_priority_first(void **state)
{
	static const unsigned order[] = { 3, 0, 31, 17, 1, 30, 16 };
	const size_t n = sizeof(order) / sizeof(order[0]);
	struct ipc_msgq *q = msgq_new(8, 4, 0);
	unsigned prio, last = IPC_MSGQ_PRIOS;
	uint32_t msg;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		msg = order[i] * 1000;
		assert_int_equal(ipc_msgq_send(q, &msg, sizeof(msg), order[i]), 0);
	}
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ipc_msgq_receive(q, &msg, sizeof(msg), &prio), sizeof(msg));
		assert_int_equal(msg, prio * 1000);
		assert_true(prio < last);
		last = prio;
	}
	assert_int_equal(last, 0);
	msgq_free(q);
}

static void test_msgq_fifo_within_priority(void **state)
{
	/* sent 0..11, multiples of 3 at priority 2 and the others at 7: received by priority,
	 * each priority in sending order */
	static const uint32_t expect[] = { 1, 2, 4, 5, 7, 8, 10, 11, 0, 3, 6, 9 };
	struct ipc_msgq *q = msgq_new(12, 4, 0);
	uint32_t msg;
	unsigned prio;

	(void)state;
	for (uint32_t i = 0; i < 12; i++)
		assert_int_equal(ipc_msgq_send(q, &i, sizeof(i), i % 3 ? 7 : 2), 0);
	assert_int_equal(ipc_msgq_count_prio(q, 7), 8);
	assert_int_equal(ipc_msgq_count_prio(q, 2), 4);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(ipc_msgq_receive(q, &msg, sizeof(msg), &prio), sizeof(msg));
		assert_int_equal(msg, expect[i]);
		assert_int_equal(prio, expect[i] % 3 ? 7 : 2);
	}
	msgq_free(q);
}

static void test_msgq_zero_length_messages(void **state)
{
	struct ipc_msgq *q = msgq_new(2, 8, 0);
	unsigned char out[8];
	unsigned prio;

	(void)state;
	assert_int_equal(ipc_msgq_send(q, NULL, 0, 4), 0);
	assert_int_equal(ipc_msgq_count(q), 1);
	assert_int_equal(ipc_msgq_bytes(q), 0);
	assert_int_equal(ipc_msgq_receive(q, out, 0, &prio), 0);
	assert_int_equal(prio, 4);
	assert_int_equal(ipc_msgq_count(q), 0);
	msgq_free(q);

	/* a queue of msgsize 0 carries only empty messages: a semaphore with priorities */
	q = msgq_new(3, 0, 0);
	assert_int_equal(ipc_msgq_send(q, NULL, 0, 1), 0);
	assert_int_equal(ipc_msgq_send(q, "x", 1, 1), -EMSGSIZE);
	assert_int_equal(ipc_msgq_receive(q, NULL, 0, &prio), 0);
	msgq_free(q);
}

static void test_msgq_rejected_send_changes_nothing(void **state)
{
	struct ipc_msgq *q = msgq_new(2, 4, 0);
	struct msgq_census before;
	unsigned char out[4];
	unsigned prio;

	(void)state;
	assert_int_equal(ipc_msgq_send(q, "ab", 2, 3), 0);
	before = census(q);
	assert_int_equal(ipc_msgq_send(q, "abcde", 5, 3), -EMSGSIZE);
	assert_int_equal(ipc_msgq_send(q, "ab", 2, IPC_MSGQ_PRIOS), -EINVAL);
	assert_int_equal(ipc_msgq_trysend(q, "abcde", 5, 3), -EMSGSIZE);
	assert_int_equal(ipc_msgq_trysend(q, "ab", 2, IPC_MSGQ_PRIOS), -EINVAL);
	assert_census(q, &before);
	/* and nothing was linked in behind the message that is there */
	assert_int_equal(ipc_msgq_receive(q, out, sizeof(out), &prio), 2);
	assert_int_equal(ipc_msgq_tryreceive(q, out, sizeof(out), &prio), -EAGAIN);
	msgq_free(q);
}

static void test_msgq_short_buffer_is_emsgsize_and_keeps_message(void **state)
{
	struct ipc_msgq *q = msgq_new(4, 8, 0);
	struct msgq_census before;
	unsigned char out[8];
	unsigned prio = 99;

	(void)state;
	assert_int_equal(ipc_msgq_send(q, "low", 3, 1), 0);
	assert_int_equal(ipc_msgq_send(q, "highest", 7, 9), 0);
	before = census(q);
	/* the next message is the 7-byte one: a 6-byte buffer is too short, even though the
	 * 3-byte one would fit */
	assert_int_equal(ipc_msgq_receive(q, out, 6, &prio), -EMSGSIZE);
	assert_int_equal(ipc_msgq_tryreceive(q, out, 6, &prio), -EMSGSIZE);
	assert_int_equal(prio, 99);
	assert_census(q, &before);
	assert_int_equal(ipc_msgq_receive(q, out, 7, &prio), 7);
	assert_memory_equal(out, "highest", 7);
	assert_int_equal(prio, 9);
	msgq_free(q);
}

static void test_msgq_slots_are_reused(void **state)
{
	struct ipc_msgq *q = msgq_new(5, 8, 0);
	uint32_t seq_in = 0, seq_out = 0, msg;
	uint32_t seed = 1;

	(void)state;
	/* many more messages than slots, the queue filling and draining unevenly */
	while (seq_out < 10000) {
		seed = seed * 1103515245 + 12345;
		for (uint32_t k = (seed >> 16) % 6; k > 0; k--) {
			if (ipc_msgq_trysend(q, &seq_in, sizeof(seq_in), 0) == -EAGAIN) {
				assert_int_equal(ipc_msgq_count(q), 5);
				break;
			}
			seq_in++;
		}
		for (uint32_t k = (seed >> 8) % 6; k > 0; k--) {
			if (ipc_msgq_tryreceive(q, &msg, sizeof(msg), NULL) == -EAGAIN) {
				assert_int_equal(seq_in, seq_out);
				break;
			}
			assert_int_equal(msg, seq_out++);
		}
		assert_int_equal(ipc_msgq_count(q), seq_in - seq_out);
		assert_int_equal(ipc_msgq_bytes(q), (seq_in - seq_out) * sizeof(msg));
	}
	msgq_free(q);
}

static void test_msgq_try_forms_never_block(void **state)
{
	struct ipc_msgq *q = msgq_new(1, 4, 0);
	unsigned char out[4];
	int64_t t0 = now_ns();

	(void)state;
	assert_int_equal(ipc_msgq_tryreceive(q, out, sizeof(out), NULL), -EAGAIN);
	assert_int_equal(ipc_msgq_trysend(q, "a", 1, 0), 0);
	assert_int_equal(ipc_msgq_trysend(q, "b", 1, 31), -EAGAIN);
	assert_true(now_ns() - t0 < 1000000000);
	assert_int_equal(ipc_msgq_count(q), 1);
	assert_int_equal(ipc_msgq_count_prio(q, 31), 0);
	msgq_free(q);
}

static void test_msgq_timedsend_times_out_not_before_deadline(void **state)
{
	struct ipc_msgq *q = msgq_new(1, 4, 0);
	struct msgq_census before;
	struct timespec dl;
	unsigned char out[4];

	(void)state;
	assert_int_equal(ipc_msgq_send(q, "a", 1, 0), 0);
	before = census(q);
	dl = ipc_deadline_in(50 * 1000000);
	assert_int_equal(ipc_msgq_timedsend(q, "bb", 2, 1, &dl), -ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	assert_census(q, &before);
	assert_int_equal(ipc_msgq_receive(q, out, sizeof(out), NULL), 1);
	assert_int_equal(out[0], 'a');
	msgq_free(q);
}

static void test_msgq_timedreceive_times_out_not_before_deadline(void **state)
{
	struct ipc_msgq *q = msgq_new(1, 4, 0);
	struct timespec dl = ipc_deadline_in(50 * 1000000);
	unsigned char out[4];
	unsigned prio = 99;

	(void)state;
	assert_int_equal(ipc_msgq_timedreceive(q, out, sizeof(out), &prio, &dl), -ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	assert_int_equal(prio, 99);
	assert_int_equal(ipc_msgq_count(q), 0);
	msgq_free(q);
}

static void test_msgq_timed_forms_reject_bad_deadline(void **state)
{
	struct ipc_msgq *q = msgq_new(2, 4, 0);
	const struct timespec bad[] = { { 1, 1000000000 }, { 1, -1 }, { -1, 0 } };
	unsigned char out[4];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* rejected even when the call would not have to wait */
		assert_int_equal(ipc_msgq_timedsend(q, "ab", 2, 0, &bad[i]), -EINVAL);
		assert_int_equal(ipc_msgq_count(q), 0);
		assert_int_equal(ipc_msgq_send(q, "ab", 2, 0), 0);
		assert_int_equal(ipc_msgq_timedreceive(q, out, 4, NULL, &bad[i]), -EINVAL);
		assert_int_equal(ipc_msgq_count(q), 1);
		assert_int_equal(ipc_msgq_receive(q, out, sizeof(out), NULL), 2);
	}
	msgq_free(q);
}

/* A call made by another thread, so that the test can wake or interrupt it. */
struct msgq_call {
	struct ipc_msgq *q;
	bool send;
	unsigned char buf[16];
	size_t len; /* send: the length; receive: the buffer size */
	unsigned prio;
	int64_t timeout_ns; /* relative; 0: STRESS_TIMEOUT_NS */
	ssize_t rc;	    /* the call's result, valid once done */
	bool in_time;	    /* it returned before its deadline: a wake, not a timeout, ended it */
	int done;	    /* set (atomically) when the call returned */
};

static void *msgq_call_thread(void *arg)
{
	struct msgq_call *c = arg;
	/* bounded, so that a missed wake fails the test instead of hanging it */
	struct timespec dl = ipc_deadline_in(c->timeout_ns ? c->timeout_ns : STRESS_TIMEOUT_NS);

	if (c->send)
		c->rc = ipc_msgq_timedsend(c->q, c->buf, c->len, c->prio, &dl);
	else
		c->rc = ipc_msgq_timedreceive(c->q, c->buf, c->len, &c->prio, &dl);
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
static void interrupt_call(pthread_t t, struct msgq_call *c)
{
	for (int i = 0; i < 1000 && !__atomic_load_n(&c->done, __ATOMIC_ACQUIRE); i++) {
		pthread_kill(t, SIGUSR1);
		sleep_ms(5);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_msgq_blocked_receive_is_interrupted_with_eintr(void **state)
{
	struct ipc_msgq *q = msgq_new(2, 16, 0);
	struct msgq_call c = { .q = q, .send = false, .len = 16, .prio = 99 };
	struct sigaction old;
	pthread_t t;

	(void)state;
	catch_sigusr1(&old);
	assert_int_equal(pthread_create(&t, NULL, msgq_call_thread, &c), 0);
	wait_for_sleepers(&q->readable, 1);
	interrupt_call(t, &c);
	assert_int_equal(c.rc, -EINTR);
	assert_int_equal(c.prio, 99);
	assert_int_equal(q->readable.waiters, 0);
	sigaction(SIGUSR1, &old, NULL);
	msgq_free(q);
}

static void test_msgq_blocked_send_is_interrupted_with_eintr(void **state)
{
	struct ipc_msgq *q = msgq_new(1, 16, 0);
	struct msgq_call c = { .q = q, .send = true, .buf = "late", .len = 4, .prio = 31 };
	struct msgq_census before;
	struct sigaction old;
	pthread_t t;

	(void)state;
	catch_sigusr1(&old);
	assert_int_equal(ipc_msgq_send(q, "first", 5, 0), 0);
	before = census(q);
	assert_int_equal(pthread_create(&t, NULL, msgq_call_thread, &c), 0);
	wait_for_sleepers(&q->writable, 1);
	interrupt_call(t, &c);
	assert_int_equal(c.rc, -EINTR);
	assert_census(q, &before);
	sigaction(SIGUSR1, &old, NULL);
	msgq_free(q);
}

static void test_msgq_send_wakes_blocked_receiver(void **state)
{
	struct ipc_msgq *q = msgq_new(2, 16, 0);
	struct msgq_call c = { .q = q, .send = false, .len = 16 };
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, msgq_call_thread, &c), 0);
	wait_for_sleepers(&q->readable, 1);
	assert_int_equal(ipc_msgq_send(q, "hello", 5, 12), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.rc, 5);
	assert_true(c.in_time);
	assert_memory_equal(c.buf, "hello", 5);
	assert_int_equal(c.prio, 12);
	msgq_free(q);
}

static void test_msgq_receive_wakes_blocked_sender(void **state)
{
	struct ipc_msgq *q = msgq_new(1, 16, 0);
	struct msgq_call c = { .q = q, .send = true, .buf = "second", .len = 6, .prio = 0 };
	unsigned char out[16];
	pthread_t t;

	(void)state;
	assert_int_equal(ipc_msgq_send(q, "first", 5, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, msgq_call_thread, &c), 0);
	wait_for_sleepers(&q->writable, 1);
	assert_int_equal(ipc_msgq_receive(q, out, sizeof(out), NULL), 5);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.rc, 0);
	assert_true(c.in_time);
	assert_int_equal(ipc_msgq_receive(q, out, sizeof(out), NULL), 6);
	assert_memory_equal(out, "second", 6);
	msgq_free(q);
}

static void test_msgq_too_small_receiver_passes_wake_on(void **state)
{
	struct ipc_msgq *q = msgq_new(2, 16, 0);
	struct msgq_call small = { .q = q, .send = false, .len = 2, .timeout_ns = WAKE_TIMEOUT_NS };
	struct msgq_call big = { .q = q, .send = false, .len = 16, .timeout_ns = WAKE_TIMEOUT_NS };
	pthread_t ts, tb;

	(void)state;
	/* the small receiver sleeps first, so the kernel's FIFO futex queue wakes it first */
	assert_int_equal(pthread_create(&ts, NULL, msgq_call_thread, &small), 0);
	wait_for_sleepers(&q->readable, 1);
	assert_int_equal(pthread_create(&tb, NULL, msgq_call_thread, &big), 0);
	wait_for_sleepers(&q->readable, 2);
	assert_int_equal(ipc_msgq_send(q, "eight by", 8, 3), 0);
	/* the receiver that can take it gets it, rather than sleeping until its deadline */
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_int_equal(big.rc, 8);
	assert_true(big.in_time);
	assert_memory_equal(big.buf, "eight by", 8);
	/* the small one either failed or still waits: a message ends it */
	assert_int_equal(ipc_msgq_send(q, "x", 1, 0), 0);
	assert_int_equal(pthread_join(ts, NULL), 0);
	assert_true(small.rc == -EMSGSIZE || small.rc == 1);
	msgq_free(q);
}

/*
 * Stress: 4 senders and 4 receivers move 200k messages through an 8-slot queue, at a few
 * priorities. Each message carries its sender and sequence number: each must arrive exactly
 * once, and any one receiver must see one sender's messages of one priority in order.
 */
struct msg {
	uint32_t sender;
	uint32_t seq;
	uint64_t check; /* a function of the two, so that a torn copy shows */
};

struct msgq_stress {
	struct ipc_msgq *q;
	struct timespec deadline;
	int64_t to_receive; /* atomic: messages not yet claimed by a receiver */
	uint64_t sum_sent;  /* atomic: sum of msg.check over the messages sent */
	uint64_t sum_recv;  /* atomic: sum of msg.check over the messages received */
	uint64_t nrecv;	    /* atomic: messages received */
	int errors;	    /* atomic: failed calls, bad messages, duplicates, reordering */
	unsigned char seen[STRESS_SENDERS][STRESS_PER_SENDER]; /* atomic counts */
};

static uint64_t msg_check(uint32_t sender, uint32_t seq)
{
	return ((uint64_t)sender << 32 | seq) * 0x9e3779b97f4a7c15ull;
}

static unsigned msg_prio(uint32_t sender, uint32_t seq)
{
	return (seq * 7 + sender) % 11 % STRESS_PRIOS * 9; /* 0, 9, 18, 27 */
}

static int stress_send_all(struct msgq_stress *s, uint32_t sender)
{
	uint64_t sum = 0;

	for (uint32_t seq = 0; seq < STRESS_PER_SENDER; seq++) {
		struct msg m = { sender, seq, msg_check(sender, seq) };

		if (ipc_msgq_timedsend(s->q, &m, sizeof(m), msg_prio(sender, seq), &s->deadline))
			return 10;
		sum += m.check;
	}
	__atomic_fetch_add(&s->sum_sent, sum, __ATOMIC_RELAXED);
	return 0;
}

static int stress_receive_all(struct msgq_stress *s)
{
	int64_t last[STRESS_SENDERS][IPC_MSGQ_PRIOS];
	uint64_t sum = 0, n = 0;
	struct msg m;
	unsigned prio;

	for (int i = 0; i < STRESS_SENDERS; i++)
		for (unsigned p = 0; p < IPC_MSGQ_PRIOS; p++)
			last[i][p] = -1;
	/* claim a message before receiving it, so that exactly STRESS_MSGS receives happen */
	while (__atomic_sub_fetch(&s->to_receive, 1, __ATOMIC_RELAXED) >= 0) {
		if (ipc_msgq_timedreceive(s->q, &m, sizeof(m), &prio, &s->deadline) != sizeof(m))
			return 20;
		if (m.sender >= STRESS_SENDERS || m.seq >= STRESS_PER_SENDER ||
		    m.check != msg_check(m.sender, m.seq) || prio != msg_prio(m.sender, m.seq))
			return 21;
		if ((int64_t)m.seq <= last[m.sender][prio])
			return 22;
		last[m.sender][prio] = m.seq;
		if (__atomic_fetch_add(&s->seen[m.sender][m.seq], 1, __ATOMIC_RELAXED) != 0)
			return 23;
		sum += m.check;
		n++;
	}
	__atomic_fetch_add(&s->sum_recv, sum, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->nrecv, n, __ATOMIC_RELAXED);
	return 0;
}

struct stress_worker {
	struct msgq_stress *s;
	int id;
};

static void *stress_thread(void *arg)
{
	struct stress_worker *w = arg;
	int rc = w->id < STRESS_SENDERS ? stress_send_all(w->s, (uint32_t)w->id)
					: stress_receive_all(w->s);

	if (rc)
		__atomic_fetch_add(&w->s->errors, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void stress_check(struct msgq_stress *s)
{
	/* a lost wake that a timed-out call's last re-check papered over still shows here */
	assert_true(now_ns() < ts_ns(&s->deadline));
	assert_int_equal(s->errors, 0);
	assert_int_equal(s->nrecv, STRESS_MSGS);
	assert_int_equal(s->sum_recv, s->sum_sent);
	for (int i = 0; i < STRESS_SENDERS; i++)
		for (int j = 0; j < STRESS_PER_SENDER; j++)
			assert_int_equal(s->seen[i][j], 1);
	assert_int_equal(ipc_msgq_count(s->q), 0);
	assert_int_equal(ipc_msgq_bytes(s->q), 0);
}

static void test_msgq_threads_move_every_message_once(void **state)
{
	struct msgq_stress *s = calloc(1, sizeof(*s));
	struct stress_worker w[STRESS_SENDERS + STRESS_RECEIVERS];
	void *args[STRESS_SENDERS + STRESS_RECEIVERS];

	(void)state;
	s->q = msgq_new(8, sizeof(struct msg), 0);
	s->deadline = ipc_deadline_in(STRESS_TIMEOUT_NS);
	s->to_receive = STRESS_MSGS;
	for (int i = 0; i < STRESS_SENDERS + STRESS_RECEIVERS; i++) {
		w[i] = (struct stress_worker){ .s = s, .id = i };
		args[i] = &w[i];
	}
	run_threads(STRESS_SENDERS + STRESS_RECEIVERS, stress_thread, args);
	stress_check(s);
	msgq_free(s->q);
	free(s);
}

/* Children 0..STRESS_SENDERS-1 send, the others receive. */
static int stress_child(int i, void *arg)
{
	struct msgq_stress *s = arg;

	return i < STRESS_SENDERS ? stress_send_all(s, (uint32_t)i) : stress_receive_all(s);
}

static void test_msgq_processes_move_every_message_once(void **state)
{
	struct msgq_stress *s = shared_alloc(sizeof(*s));

	(void)state;
	s->q = msgq_new(8, sizeof(struct msg), IPC_SHARED);
	s->deadline = ipc_deadline_in(STRESS_TIMEOUT_NS);
	s->to_receive = STRESS_MSGS;
	run_children(STRESS_SENDERS + STRESS_RECEIVERS, stress_child, s);
	stress_check(s);
	msgq_free(s->q);
	shared_free(s, sizeof(*s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msgq_init_validates_sizes_and_flags),
		cmocka_unit_test(test_msgq_send_receive_exact_bytes),
		cmocka_unit_test(test_msgq_higher_priority_first),
		cmocka_unit_test(test_msgq_fifo_within_priority),
		cmocka_unit_test(test_msgq_zero_length_messages),
		cmocka_unit_test(test_msgq_rejected_send_changes_nothing),
		cmocka_unit_test(test_msgq_short_buffer_is_emsgsize_and_keeps_message),
		cmocka_unit_test(test_msgq_slots_are_reused),
		cmocka_unit_test(test_msgq_try_forms_never_block),
		cmocka_unit_test(test_msgq_timedsend_times_out_not_before_deadline),
		cmocka_unit_test(test_msgq_timedreceive_times_out_not_before_deadline),
		cmocka_unit_test(test_msgq_timed_forms_reject_bad_deadline),
		cmocka_unit_test(test_msgq_blocked_receive_is_interrupted_with_eintr),
		cmocka_unit_test(test_msgq_blocked_send_is_interrupted_with_eintr),
		cmocka_unit_test(test_msgq_send_wakes_blocked_receiver),
		cmocka_unit_test(test_msgq_receive_wakes_blocked_sender),
		cmocka_unit_test(test_msgq_too_small_receiver_passes_wake_on),
		cmocka_unit_test(test_msgq_threads_move_every_message_once),
		cmocka_unit_test(test_msgq_processes_move_every_message_once),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
