/* SPDX-License-Identifier: MIT */
/* test_flags.c - event flags, between threads and between processes. */
#include <ipc/flags.h>

#include "testutil.h"

#define POOL_WAITERS 4		       /* clearing waiters competing for the same pool of bits */
#define POOL_BITS 0xffffu	       /* the contested bits */
#define POOL_STOP(i) (0x10000u << (i)) /* waiter i's own "no more bits" bit */
#define POOL_SETS 40000		       /* sets by the setter thread, or by each setter child */
#define POOL_SETTERS 2		       /* setter children in the cross-process test */
#define ALL_ROUNDS 20000	       /* rounds of the ALL|CLEAR ping-pong */
#define GIVE_UP_NS 10000000000LL       /* no wait of a working test lasts that long */

/* Shared by the setters and the clearing waiters of the pool tests (threads or processes). */
struct pool {
	struct ipc_flags f;	/* the pool bits and the waiters' stop bits */
	uint32_t stop;		/* setter children that finished; atomic */
	uint64_t set_count[32]; /* times a bit went 0 -> 1 by a set; atomic (several setters) */
	uint64_t got_count[32]; /* times a bit was taken by a waiter; atomic */
	uint32_t errors;	/* unexpected return codes seen by threads or children; atomic */
};

static void count_bits(uint64_t *count, uint32_t bits)
{
	for (int b = 0; b < 32; b++)
		if (bits & (1u << b))
			__atomic_fetch_add(&count[b], 1, __ATOMIC_RELAXED);
}

static void test_flags_init_rejects_unknown_flags(void **state)
{
	struct ipc_flags f;

	(void)state;
	assert_int_equal(ipc_flags_init(&f, 0, 0x100), -EINVAL);
	assert_int_equal(ipc_flags_init(&f, 0x5, IPC_SHARED), 0);
	assert_int_equal(ipc_flags_get(&f), 0x5);
}

static void test_flags_set_and_clear_return_previous_mask(void **state)
{
	struct ipc_flags f = IPC_FLAGS_INITIALIZER(0, 0);

	(void)state;
	assert_int_equal(ipc_flags_set(&f, 0x3), 0);
	assert_int_equal(ipc_flags_set(&f, 0x6), 0x3);
	assert_int_equal(ipc_flags_get(&f), 0x7);
	assert_int_equal(ipc_flags_set(&f, 0), 0x7);
	assert_int_equal(ipc_flags_clear(&f, 0x5), 0x7);
	assert_int_equal(ipc_flags_clear(&f, 0x5), 0x2);
	assert_int_equal(ipc_flags_get(&f), 0x2);
	assert_int_equal(f.waiters, 0);
}

static void test_flags_trywait_any_matches_some_bits(void **state)
{
	struct ipc_flags f = IPC_FLAGS_INITIALIZER(0, 0);
	uint32_t matched = 0xdead;

	(void)state;
	assert_int_equal(ipc_flags_trywait(&f, 0x3, IPC_FLAGS_ANY, &matched), -EAGAIN);
	assert_int_equal(matched, 0xdead);
	ipc_flags_set(&f, 0x12);
	assert_int_equal(ipc_flags_trywait(&f, 0x3, IPC_FLAGS_ANY, &matched), 0);
	assert_int_equal(matched, 0x2);
	assert_int_equal(ipc_flags_get(&f), 0x12); /* without CLEAR nothing is taken */
	assert_int_equal(ipc_flags_trywait(&f, 0x3, IPC_FLAGS_ANY | IPC_FLAGS_CLEAR, &matched), 0);
	assert_int_equal(matched, 0x2);
	assert_int_equal(ipc_flags_get(&f), 0x10); /* only the matched bit is taken */
	assert_int_equal(ipc_flags_trywait(&f, 0x3, IPC_FLAGS_ANY | IPC_FLAGS_CLEAR, NULL),
			 -EAGAIN);
	assert_int_equal(ipc_flags_get(&f), 0x10);
}

static void test_flags_trywait_all_needs_every_bit(void **state)
{
	struct ipc_flags f = IPC_FLAGS_INITIALIZER(0x1, 0);
	uint32_t matched = 0xdead;

	(void)state;
	assert_int_equal(ipc_flags_trywait(&f, 0x3, IPC_FLAGS_ALL | IPC_FLAGS_CLEAR, &matched),
			 -EAGAIN);
	assert_int_equal(matched, 0xdead);
	assert_int_equal(ipc_flags_get(&f), 0x1); /* a failed ALL takes nothing */
	ipc_flags_set(&f, 0x6);
	assert_int_equal(ipc_flags_trywait(&f, 0x3, IPC_FLAGS_ALL, &matched), 0);
	assert_int_equal(matched, 0x3);
	assert_int_equal(ipc_flags_get(&f), 0x7);
	assert_int_equal(ipc_flags_trywait(&f, 0x3, IPC_FLAGS_ALL | IPC_FLAGS_CLEAR, &matched), 0);
	assert_int_equal(matched, 0x3);
	assert_int_equal(ipc_flags_get(&f), 0x4);
}

static void test_flags_wait_rejects_bad_arguments(void **state)
{
	struct ipc_flags f = IPC_FLAGS_INITIALIZER(0xf, 0);
	struct timespec bad = { .tv_sec = 1, .tv_nsec = 1000000000 };
	const unsigned bad_modes[] = { 0, IPC_FLAGS_CLEAR, IPC_FLAGS_ANY | IPC_FLAGS_ALL,
				       IPC_FLAGS_ANY | 0x100, IPC_FLAGS_ALL | 0x80000000u };
	uint32_t matched = 0xdead;

	(void)state;
	assert_int_equal(ipc_flags_trywait(&f, 0, IPC_FLAGS_ANY | IPC_FLAGS_CLEAR, &matched),
			 -EINVAL);
	assert_int_equal(ipc_flags_timedwait(&f, 0, IPC_FLAGS_ANY, &matched, NULL), -EINVAL);
	assert_int_equal(ipc_flags_wait(&f, 0, IPC_FLAGS_ALL, &matched), -EINVAL);
	for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
		assert_int_equal(ipc_flags_trywait(&f, 0x1, bad_modes[i], &matched), -EINVAL);
		assert_int_equal(ipc_flags_timedwait(&f, 0x1, bad_modes[i], &matched, NULL),
				 -EINVAL);
	}
	/* a malformed deadline is rejected even when the bits are there */
	assert_int_equal(
		ipc_flags_timedwait(&f, 0x1, IPC_FLAGS_ANY | IPC_FLAGS_CLEAR, &matched, &bad),
		-EINVAL);
	bad.tv_nsec = -1;
	assert_int_equal(ipc_flags_timedwait(&f, 0x10, IPC_FLAGS_ANY, &matched, &bad), -EINVAL);
	bad.tv_sec = -1;
	bad.tv_nsec = 0;
	assert_int_equal(ipc_flags_timedwait(&f, 0x10, IPC_FLAGS_ANY, &matched, &bad), -EINVAL);
	/* nothing changed */
	assert_int_equal(matched, 0xdead);
	assert_int_equal(ipc_flags_get(&f), 0xf);
	assert_int_equal(f.waiters, 0);
}

static void test_flags_timedwait_times_out_not_before_deadline(void **state)
{
	struct ipc_flags f = IPC_FLAGS_INITIALIZER(0x1, 0);
	uint32_t matched = 0xdead;
	struct timespec dl;

	(void)state;
	dl = ipc_deadline_in(50 * 1000000);
	assert_int_equal(
		ipc_flags_timedwait(&f, 0x3, IPC_FLAGS_ALL | IPC_FLAGS_CLEAR, &matched, &dl),
		-ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	/* a deadline long past times out at once */
	dl = (struct timespec){ .tv_sec = 0, .tv_nsec = 0 };
	assert_int_equal(ipc_flags_timedwait(&f, 0x2, IPC_FLAGS_ANY, &matched, &dl), -ETIMEDOUT);
	assert_int_equal(matched, 0xdead);
	assert_int_equal(ipc_flags_get(&f), 0x1);
	assert_int_equal(f.waiters, 0);
}

struct sleeper {
	struct ipc_flags *f;	  /* what to wait on */
	uint32_t mask;		  /* what to wait for */
	unsigned mode;		  /* how */
	uint32_t matched;	  /* out */
	int rc;			  /* out */
	int done;		  /* set (atomically) once the wait returned */
	struct timespec deadline; /* of the wait; all zero: wait forever */
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;

	s->rc = ipc_flags_timedwait(s->f, s->mask, s->mode, &s->matched,
				    s->deadline.tv_sec ? &s->deadline : NULL);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Wait (bounded) until n callers wait on f. */
static void wait_for_waiters(struct ipc_flags *f, uint32_t n)
{
	for (int i = 0; i < 5000 && __atomic_load_n(&f->waiters, __ATOMIC_ACQUIRE) < n; i++)
		sleep_ms(1);
	assert_int_equal(__atomic_load_n(&f->waiters, __ATOMIC_ACQUIRE), n);
}

static void test_flags_set_wakes_every_sleeper(void **state)
{
	struct ipc_flags f = IPC_FLAGS_INITIALIZER(0, 0);
	struct sleeper s[3] = {
		{ .f = &f, .mask = 0x1, .mode = IPC_FLAGS_ANY },
		{ .f = &f, .mask = 0x6, .mode = IPC_FLAGS_ALL },
		{ .f = &f, .mask = 0x18, .mode = IPC_FLAGS_ANY | IPC_FLAGS_CLEAR },
	};
	pthread_t t[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		s[i].deadline = ipc_deadline_in(GIVE_UP_NS); /* a lost wake fails, not hangs */
		assert_int_equal(pthread_create(&t[i], NULL, sleeper_main, &s[i]), 0);
	}
	wait_for_waiters(&f, 3);
	sleep_ms(20);		/* let them reach the kernel */
	ipc_flags_set(&f, 0x4); /* satisfies nobody: everybody sleeps on */
	sleep_ms(20);
	for (int i = 0; i < 3; i++)
		assert_int_equal(__atomic_load_n(&s[i].done, __ATOMIC_ACQUIRE), 0);
	ipc_flags_set(&f, 0x1b); /* one set satisfies all three */
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s[i].rc, 0);
	assert_int_equal(s[0].matched, 0x1);
	assert_int_equal(s[1].matched, 0x6);
	assert_int_equal(s[2].matched, 0x18);
	assert_int_equal(ipc_flags_get(&f), 0x7); /* only the CLEAR waiter took its bits */
	assert_int_equal(f.waiters, 0);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

static void test_flags_wait_interrupted_by_signal_is_eintr(void **state)
{
	struct ipc_flags f = IPC_FLAGS_INITIALIZER(0x4, 0);
	struct sleeper s = {
		.f = &f, .mask = 0x3, .mode = IPC_FLAGS_ANY | IPC_FLAGS_CLEAR, .matched = 0xdead
	};
	struct sigaction sa = { .sa_handler = on_sigusr1 }, old;
	pthread_t t;
	int done = 0;

	(void)state;
	/* no SA_RESTART: the handler must make the sleep fail with EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(pthread_create(&t, NULL, sleeper_main, &s), 0);
	wait_for_waiters(&f, 1);
	/* A signal that lands before the sleeper reaches the kernel is absorbed by the handler
	 * without waking anything, so keep signalling until the wait returns. */
	for (int i = 0; i < 400 && !done; i++) {
		pthread_kill(t, SIGUSR1);
		sleep_ms(5);
		done = __atomic_load_n(&s.done, __ATOMIC_ACQUIRE);
	}
	if (!done)
		ipc_flags_set(&f, 0x1); /* release it so that the failure below is clean */
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	assert_int_equal(s.rc, -EINTR);
	assert_int_equal(s.matched, 0xdead);
	assert_int_equal(ipc_flags_get(&f), 0x4);
	assert_int_equal(f.waiters, 0);
}

/*
 * A clearing waiter of the pool tests: take pool bits (ANY|CLEAR) until its stop bit comes.
 * Returns how many unexpected return codes it saw.
 */
static int pool_waiter(struct pool *p, int i)
{
	uint32_t matched;
	int errors = 0;

	for (;;) {
		struct timespec dl = ipc_deadline_in(GIVE_UP_NS);
		int rc = ipc_flags_timedwait(&p->f, POOL_BITS | POOL_STOP(i),
					     IPC_FLAGS_ANY | IPC_FLAGS_CLEAR, &matched, &dl);

		if (rc)
			return errors + 1; /* its stop bit stays set: pool_check() fails */
		if (matched & ~(POOL_BITS | POOL_STOP(i)))
			errors++;
		count_bits(p->got_count, matched & POOL_BITS);
		if (matched & POOL_STOP(i))
			return errors;
	}
}

/* A setter of the pool tests: set pseudo-random pool bits, counting those it turned on. */
static void pool_setter(struct pool *p, uint32_t seed)
{
	for (int k = 0; k < POOL_SETS; k++) {
		uint32_t bits, old;

		seed = seed * 1103515245u + 12345u;
		bits = (seed >> 8) & POOL_BITS;
		old = ipc_flags_set(&p->f, bits);
		count_bits(p->set_count, bits & ~old);
		/* Let the waiters drain the mask and fall asleep now and then: bits then go 0 -> 1
		 * often, and the next set wakes several waiters that race for the same bits. */
		if (k % 8 == 0)
			sched_yield();
	}
}

/* After all setters finished: stop every waiter, each by its own bit. */
static void pool_stop_waiters(struct pool *p)
{
	for (int i = 0; i < POOL_WAITERS; i++)
		ipc_flags_set(&p->f, POOL_STOP(i));
}

/* After everybody finished: every bit turned on was taken exactly once (or is still there). */
static void pool_check(struct pool *p)
{
	uint32_t left = ipc_flags_get(&p->f);
	uint64_t total = 0;

	assert_int_equal(p->errors, 0);
	assert_int_equal(left & ~POOL_BITS, 0); /* every stop bit was taken by its waiter */
	count_bits(p->got_count, left);
	for (int b = 0; b < 32; b++) {
		assert_int_equal(p->got_count[b], p->set_count[b]);
		total += p->set_count[b];
	}
	assert_true(total > POOL_SETS / 10); /* the waiters did have to compete */
	assert_int_equal(p->f.waiters, 0);
}

struct pool_thread {
	struct pool *p; /* shared by all the threads */
	int i;		/* waiter index, or -1 for the setter */
};

static void *pool_thread_main(void *arg)
{
	struct pool_thread *pt = arg;

	if (pt->i < 0) {
		pool_setter(pt->p, 1);
		pool_stop_waiters(pt->p);
	} else {
		__atomic_fetch_add(&pt->p->errors, pool_waiter(pt->p, pt->i), __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_flags_threads_clearing_waiters_take_each_bit_once(void **state)
{
	struct pool *p = calloc(1, sizeof(*p));
	struct pool_thread pt[POOL_WAITERS + 1];
	void *args[POOL_WAITERS + 1];

	(void)state;
	assert_non_null(p);
	assert_int_equal(ipc_flags_init(&p->f, 0, 0), 0);
	for (int i = 0; i <= POOL_WAITERS; i++) {
		pt[i] = (struct pool_thread){ .p = p, .i = i < POOL_WAITERS ? i : -1 };
		args[i] = &pt[i];
	}
	run_threads(POOL_WAITERS + 1, pool_thread_main, args);
	pool_check(p);
	free(p);
}

/* Children 0..POOL_WAITERS-1 take bits; the others set them, and the last setter to finish
 * stops the waiters. */
static int pool_child(int i, void *arg)
{
	struct pool *p = arg;

	if (i < POOL_WAITERS) {
		__atomic_fetch_add(&p->errors, pool_waiter(p, i), __ATOMIC_RELAXED);
		return 0;
	}
	pool_setter(p, (uint32_t)i * 7919u);
	if (__atomic_add_fetch(&p->stop, 1, __ATOMIC_ACQ_REL) == POOL_SETTERS)
		pool_stop_waiters(p);
	return 0;
}

static void test_flags_processes_clearing_waiters_take_each_bit_once(void **state)
{
	struct pool *p = shared_alloc(sizeof(*p));

	(void)state;
	assert_int_equal(ipc_flags_init(&p->f, 0, IPC_SHARED), 0);
	run_children(POOL_WAITERS + POOL_SETTERS, pool_child, p);
	pool_check(p);
	shared_free(p, sizeof(*p));
}

/* The ALL|CLEAR ping-pong: the setter turns on both bits of ALL_PAIR, waits for the ack of the
 * one waiter that took them, and repeats; after ALL_ROUNDS it sets done and serves one last
 * round per waiter. */
#define ALL_PAIR 0x3u
#define ALL_ACK 0x1u

struct pingpong {
	struct ipc_flags f;   /* ALL_PAIR bits */
	struct ipc_flags ack; /* ALL_ACK: a waiter took the pair */
	uint32_t done;	      /* no more real rounds; atomic */
	uint32_t taken;	      /* real rounds taken, over all waiters; atomic */
	uint32_t errors;      /* unexpected return codes; atomic */
};

static void *pingpong_waiter(void *arg)
{
	struct pingpong *pp = arg;
	uint32_t matched;

	for (;;) {
		struct timespec dl = ipc_deadline_in(GIVE_UP_NS);

		if (ipc_flags_timedwait(&pp->f, ALL_PAIR, IPC_FLAGS_ALL | IPC_FLAGS_CLEAR, &matched,
					&dl) ||
		    matched != ALL_PAIR) {
			__atomic_fetch_add(&pp->errors, 1, __ATOMIC_RELAXED);
			return NULL;
		}
		if (__atomic_load_n(&pp->done, __ATOMIC_ACQUIRE)) {
			ipc_flags_set(&pp->ack, ALL_ACK);
			return NULL;
		}
		__atomic_fetch_add(&pp->taken, 1, __ATOMIC_RELAXED);
		ipc_flags_set(&pp->ack, ALL_ACK);
	}
}

static void *pingpong_setter(void *arg)
{
	struct pingpong *pp = arg;

	for (int k = 0; k < ALL_ROUNDS + POOL_WAITERS; k++) {
		struct timespec dl;

		if (k == ALL_ROUNDS)
			__atomic_store_n(&pp->done, 1, __ATOMIC_RELEASE);
		/* one bit at a time, so that waiters see the pair half-set too */
		ipc_flags_set(&pp->f, 0x1);
		ipc_flags_set(&pp->f, 0x2);
		dl = ipc_deadline_in(GIVE_UP_NS);
		if (ipc_flags_timedwait(&pp->ack, ALL_ACK, IPC_FLAGS_ALL | IPC_FLAGS_CLEAR, NULL,
					&dl)) {
			__atomic_fetch_add(&pp->errors, 1, __ATOMIC_RELAXED);
			return NULL;
		}
	}
	return NULL;
}

static void test_flags_threads_all_clear_takes_each_round_once(void **state)
{
	struct pingpong pp = { .f = IPC_FLAGS_INITIALIZER(0, 0),
			       .ack = IPC_FLAGS_INITIALIZER(0, 0) };
	void *args[POOL_WAITERS + 1];
	pthread_t setter;

	(void)state;
	for (int i = 0; i < POOL_WAITERS; i++)
		args[i] = &pp;
	assert_int_equal(pthread_create(&setter, NULL, pingpong_setter, &pp), 0);
	run_threads(POOL_WAITERS, pingpong_waiter, args);
	assert_int_equal(pthread_join(setter, NULL), 0);
	assert_int_equal(pp.errors, 0);
	assert_int_equal(pp.taken, ALL_ROUNDS);
	assert_int_equal(ipc_flags_get(&pp.f), 0);
	assert_int_equal(ipc_flags_get(&pp.ack), 0);
	assert_int_equal(pp.f.waiters, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_init_rejects_unknown_flags),
		cmocka_unit_test(test_flags_set_and_clear_return_previous_mask),
		cmocka_unit_test(test_flags_trywait_any_matches_some_bits),
		cmocka_unit_test(test_flags_trywait_all_needs_every_bit),
		cmocka_unit_test(test_flags_wait_rejects_bad_arguments),
		cmocka_unit_test(test_flags_timedwait_times_out_not_before_deadline),
		cmocka_unit_test(test_flags_set_wakes_every_sleeper),
		cmocka_unit_test(test_flags_wait_interrupted_by_signal_is_eintr),
		cmocka_unit_test(test_flags_threads_clearing_waiters_take_each_bit_once),
		cmocka_unit_test(test_flags_processes_clearing_waiters_take_each_bit_once),
		cmocka_unit_test(test_flags_threads_all_clear_takes_each_round_once),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
