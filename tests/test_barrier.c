/* SPDX-License-Identifier: MIT */
/* test_barrier.c - the reusable barrier, between threads and between processes. */
#include <ipc/barrier.h>

#include <sys/prctl.h>

#include "testutil.h"

#define LOCKSTEP_PARTIES 4
#define LOCKSTEP_ROUNDS 20000	  /* rounds of the thread test */
#define LOCKSTEP_PROC_ROUNDS 5000 /* rounds of the process test */
#define RACING_ROUNDS 10000	  /* rounds of the test where timeouts race completions */
#define RACING_TIMEOUT_NS 20000	  /* the racing test's deadlines: short enough to expire often */
#define RACING_GIVE_UP_NS 10000000000LL /* the racing test fails rather than hang past this */

/* What the barrier counts: arrived and generation, read from its one state word. */
static uint32_t arrived(struct ipc_barrier *b)
{
	return (uint32_t)__atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
}

static uint32_t generation(struct ipc_barrier *b)
{
	return (uint32_t)(__atomic_load_n(&b->state, __ATOMIC_ACQUIRE) >> 32);
}

/* Wait (bounded) until n parties wait on b. */
static void wait_for_arrivals(struct ipc_barrier *b, uint32_t n)
{
	for (int i = 0; i < 5000 && arrived(b) < n; i++)
		sleep_ms(1);
	assert_int_equal(arrived(b), n);
}

static void test_barrier_init_rejects_bad_arguments(void **state)
{
	struct ipc_barrier b;

	(void)state;
	assert_int_equal(ipc_barrier_init(&b, 0, 0), -EINVAL);
	assert_int_equal(ipc_barrier_init(&b, 0, IPC_SHARED), -EINVAL);
	assert_int_equal(ipc_barrier_init(&b, 2, 0x100), -EINVAL);
	assert_int_equal(ipc_barrier_init(&b, 2, IPC_SHARED), 0);
	assert_int_equal(arrived(&b), 0);
	assert_int_equal(generation(&b), 0);
}

static void test_barrier_single_party_is_always_serial(void **state)
{
	struct ipc_barrier b = IPC_BARRIER_INITIALIZER(1, 0);
	struct timespec dl = { .tv_sec = 0, .tv_nsec = 0 }; /* long past: never needed */

	(void)state;
	assert_int_equal(ipc_barrier_wait(&b), IPC_BARRIER_SERIAL);
	assert_int_equal(ipc_barrier_trywait(&b), IPC_BARRIER_SERIAL);
	assert_int_equal(ipc_barrier_timedwait(&b, &dl), IPC_BARRIER_SERIAL);
	assert_int_equal(generation(&b), 3);
	assert_int_equal(arrived(&b), 0);
}

static void test_barrier_timedwait_rejects_bad_deadline(void **state)
{
	struct ipc_barrier b = IPC_BARRIER_INITIALIZER(1, 0);
	struct timespec bad = { .tv_sec = 1, .tv_nsec = 1000000000 };

	(void)state;
	/* rejected even when the caller would complete the round, and it does not arrive */
	assert_int_equal(ipc_barrier_timedwait(&b, &bad), -EINVAL);
	bad.tv_nsec = -1;
	assert_int_equal(ipc_barrier_timedwait(&b, &bad), -EINVAL);
	bad.tv_sec = -1;
	bad.tv_nsec = 0;
	assert_int_equal(ipc_barrier_timedwait(&b, &bad), -EINVAL);
	assert_int_equal(generation(&b), 0);
	assert_int_equal(arrived(&b), 0);
}

struct party {
	struct ipc_barrier *b; /* what to wait at */
	int rc;		       /* out: what the wait returned */
	int done;	       /* set (atomically) once the wait returned */
};

static void *party_main(void *arg)
{
	struct party *p = arg;

	p->rc = ipc_barrier_wait(p->b);
	__atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_barrier_trywait_is_eagain_unless_last(void **state)
{
	struct ipc_barrier b = IPC_BARRIER_INITIALIZER(2, 0);
	struct party p = { .b = &b };
	pthread_t t;

	(void)state;
	assert_int_equal(ipc_barrier_trywait(&b), -EAGAIN);
	assert_int_equal(arrived(&b), 0); /* a failed trywait does not arrive */
	assert_int_equal(pthread_create(&t, NULL, party_main, &p), 0);
	wait_for_arrivals(&b, 1);
	assert_int_equal(ipc_barrier_trywait(&b), IPC_BARRIER_SERIAL);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(generation(&b), 1);
	assert_int_equal(arrived(&b), 0);
}

static void test_barrier_timedwait_times_out_not_before_deadline(void **state)
{
	struct ipc_barrier b = IPC_BARRIER_INITIALIZER(2, 0);
	struct party p = { .b = &b };
	struct timespec dl;
	pthread_t t;

	(void)state;
	dl = ipc_deadline_in(50 * 1000000);
	assert_int_equal(ipc_barrier_timedwait(&b, &dl), -ETIMEDOUT);
	assert_true(now_ns() >= ts_ns(&dl));
	/* a deadline long past times out at once */
	dl = (struct timespec){ .tv_sec = 0, .tv_nsec = 0 };
	assert_int_equal(ipc_barrier_timedwait(&b, &dl), -ETIMEDOUT);
	/* both arrivals were withdrawn: the next round needs two parties again */
	assert_int_equal(arrived(&b), 0);
	assert_int_equal(generation(&b), 0);
	assert_int_equal(ipc_barrier_trywait(&b), -EAGAIN);
	assert_int_equal(pthread_create(&t, NULL, party_main, &p), 0);
	wait_for_arrivals(&b, 1);
	assert_int_equal(ipc_barrier_wait(&b), IPC_BARRIER_SERIAL);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(generation(&b), 1);
}

static void test_barrier_timed_out_party_leaves_barrier_usable(void **state)
{
	struct ipc_barrier b = IPC_BARRIER_INITIALIZER(3, 0);
	struct party p[2] = { { .b = &b }, { .b = &b } };
	struct timespec dl;
	pthread_t t[2];
	int rc, serials;

	(void)state;
	assert_int_equal(pthread_create(&t[0], NULL, party_main, &p[0]), 0);
	wait_for_arrivals(&b, 1);
	dl = ipc_deadline_in(30 * 1000000);
	assert_int_equal(ipc_barrier_timedwait(&b, &dl), -ETIMEDOUT);
	assert_int_equal(arrived(&b), 1); /* the sleeping party is still counted, we are not */
	assert_int_equal(generation(&b), 0);
	assert_int_equal(__atomic_load_n(&p[0].done, __ATOMIC_ACQUIRE), 0);

	/* a full round: the sleeper, a new party and us again */
	assert_int_equal(pthread_create(&t[1], NULL, party_main, &p[1]), 0);
	rc = ipc_barrier_wait(&b);
	assert_true(rc == 0 || rc == IPC_BARRIER_SERIAL);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	serials = (rc == IPC_BARRIER_SERIAL) + (p[0].rc == IPC_BARRIER_SERIAL) +
		  (p[1].rc == IPC_BARRIER_SERIAL);
	assert_int_equal(serials, 1);
	assert_true(p[0].rc == 0 || p[0].rc == IPC_BARRIER_SERIAL);
	assert_true(p[1].rc == 0 || p[1].rc == IPC_BARRIER_SERIAL);
	assert_int_equal(generation(&b), 1);
	assert_int_equal(arrived(&b), 0);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

static void test_barrier_wait_interrupted_by_signal_is_eintr(void **state)
{
	struct ipc_barrier b = IPC_BARRIER_INITIALIZER(2, 0);
	struct party p = { .b = &b };
	struct sigaction sa = { .sa_handler = on_sigusr1 }, old;
	pthread_t t;
	int done = 0;

	(void)state;
	/* no SA_RESTART: the handler must make the sleep fail with EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(pthread_create(&t, NULL, party_main, &p), 0);
	wait_for_arrivals(&b, 1);
	/* A signal that lands before the party reaches the kernel is absorbed by the handler
	 * without waking anything, so keep signalling until the wait returns. */
	for (int i = 0; i < 400 && !done; i++) {
		pthread_kill(t, SIGUSR1);
		sleep_ms(5);
		done = __atomic_load_n(&p.done, __ATOMIC_ACQUIRE);
	}
	if (!done)
		ipc_barrier_wait(&b); /* release it so that the failure below is clean */
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	assert_int_equal(p.rc, -EINTR);
	assert_int_equal(arrived(&b), 0);
	assert_int_equal(generation(&b), 0);

	/* still usable for a full round */
	p.done = 0;
	assert_int_equal(pthread_create(&t, NULL, party_main, &p), 0);
	wait_for_arrivals(&b, 1);
	assert_int_equal(ipc_barrier_wait(&b), IPC_BARRIER_SERIAL);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(generation(&b), 1);
}

/*
 * The lockstep tests. In round r every party writes r into its slot of slots[r % 2], passes
 * the barrier, then checks that every slot of slots[r % 2] holds r: a party released before
 * everybody arrived would see a slot still holding r - 2. Nobody can write slots[r % 2] again
 * before all have checked it, since that happens in round r + 2; so the plain accesses race (and
 * ThreadSanitizer complains) only if the barrier is broken. The party that gets the serial
 * records the round in last_serial: two serials in one round, or none, break the sequence.
 */
struct lockstep {
	struct ipc_barrier b;		    /* LOCKSTEP_PARTIES parties */
	int64_t slots[2][LOCKSTEP_PARTIES]; /* written by their party only, plain accesses */
	int64_t last_serial;		    /* round of the last serial, plain accesses */
	uint32_t serials;		    /* serials seen, all rounds; atomic */
	int64_t give_up_ns;		    /* when timed parties stop retrying (now_ns() time) */
	uint32_t timeouts;		    /* -ETIMEDOUT seen in the racing test; atomic */
	uint32_t errors;		    /* lockstep violations or unexpected codes; atomic */
};

/*
 * One party: rounds rounds; with timeout_ns > 0 through timedwait with random timeouts below
 * timeout_ns, retried on -ETIMEDOUT until ls->give_up_ns: a broken barrier that can no longer
 * complete a round then fails the test instead of hanging it.
 */
static void lockstep_party(struct lockstep *ls, int i, int rounds, int64_t timeout_ns)
{
	uint32_t errors = 0, timeouts = 0, seed = (uint32_t)i;

	/* The default 50 us timer slack would stretch every timeout past the usual length of a
	 * round: the withdrawals would then hardly ever race a completion. */
	if (timeout_ns > 0)
		prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	for (int64_t r = 1; r <= rounds; r++) {
		int64_t *slots = ls->slots[r % 2];
		struct timespec dl;
		int rc;

		slots[i] = r;
		if (timeout_ns > 0) {
			for (;;) {
				seed = seed * 1103515245u + 12345u;
				dl = ipc_deadline_in((seed >> 8) % timeout_ns);
				rc = ipc_barrier_timedwait(&ls->b, &dl);
				if (rc != -ETIMEDOUT)
					break;
				timeouts++;
				if (now_ns() > ls->give_up_ns) {
					errors++;
					goto out;
				}
			}
		} else {
			rc = ipc_barrier_wait(&ls->b);
		}
		if (rc == IPC_BARRIER_SERIAL) {
			if (ls->last_serial != r - 1)
				errors++;
			ls->last_serial = r;
			__atomic_fetch_add(&ls->serials, 1, __ATOMIC_RELAXED);
		} else if (rc != 0) {
			errors++;
		}
		for (int j = 0; j < LOCKSTEP_PARTIES; j++)
			if (slots[j] != r)
				errors++;
	}
out:
	__atomic_fetch_add(&ls->errors, errors, __ATOMIC_RELAXED);
	__atomic_fetch_add(&ls->timeouts, timeouts, __ATOMIC_RELAXED);
}

struct lockstep_thread {
	struct lockstep *ls; /* shared by all the parties */
	int i;		     /* party index */
	int rounds;	     /* rounds to go through */
	int64_t timeout_ns;  /* 0: ipc_barrier_wait, else timedwait, timeouts below this */
};

static void *lockstep_thread_main(void *arg)
{
	struct lockstep_thread *lt = arg;

	lockstep_party(lt->ls, lt->i, lt->rounds, lt->timeout_ns);
	return NULL;
}

static void run_lockstep_threads(struct lockstep *ls, int rounds, int64_t timeout_ns)
{
	struct lockstep_thread lt[LOCKSTEP_PARTIES];
	void *args[LOCKSTEP_PARTIES];

	for (int i = 0; i < LOCKSTEP_PARTIES; i++) {
		lt[i] = (struct lockstep_thread){
			.ls = ls, .i = i, .rounds = rounds, .timeout_ns = timeout_ns
		};
		args[i] = &lt[i];
	}
	run_threads(LOCKSTEP_PARTIES, lockstep_thread_main, args);
}

static void check_lockstep(struct lockstep *ls, int rounds)
{
	assert_int_equal(ls->errors, 0);
	assert_int_equal(ls->serials, rounds);
	assert_int_equal(ls->last_serial, rounds);
	assert_int_equal(generation(&ls->b), rounds);
	assert_int_equal(arrived(&ls->b), 0);
}

static void test_barrier_threads_rounds_in_lockstep(void **state)
{
	struct lockstep *ls = calloc(1, sizeof(*ls));

	(void)state;
	assert_non_null(ls);
	assert_int_equal(ipc_barrier_init(&ls->b, LOCKSTEP_PARTIES, 0), 0);
	run_lockstep_threads(ls, LOCKSTEP_ROUNDS, 0);
	check_lockstep(ls, LOCKSTEP_ROUNDS);
	free(ls);
}

static void test_barrier_threads_timeouts_racing_completion_lose_no_round(void **state)
{
	struct lockstep *ls = calloc(1, sizeof(*ls));

	(void)state;
	assert_non_null(ls);
	assert_int_equal(ipc_barrier_init(&ls->b, LOCKSTEP_PARTIES, 0), 0);
	ls->give_up_ns = now_ns() + RACING_GIVE_UP_NS;
	run_lockstep_threads(ls, RACING_ROUNDS, RACING_TIMEOUT_NS);
	check_lockstep(ls, RACING_ROUNDS);
	assert_true(ls->timeouts > 0); /* the withdrawals were exercised */
	free(ls);
}

static int lockstep_child(int i, void *arg)
{
	lockstep_party(arg, i, LOCKSTEP_PROC_ROUNDS, 0);
	return 0;
}

static void test_barrier_processes_rounds_in_lockstep(void **state)
{
	struct lockstep *ls = shared_alloc(sizeof(*ls));

	(void)state;
	assert_int_equal(ipc_barrier_init(&ls->b, LOCKSTEP_PARTIES, IPC_SHARED), 0);
	run_children(LOCKSTEP_PARTIES, lockstep_child, ls);
	check_lockstep(ls, LOCKSTEP_PROC_ROUNDS);
	shared_free(ls, sizeof(*ls));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_barrier_init_rejects_bad_arguments),
		cmocka_unit_test(test_barrier_single_party_is_always_serial),
		cmocka_unit_test(test_barrier_timedwait_rejects_bad_deadline),
		cmocka_unit_test(test_barrier_trywait_is_eagain_unless_last),
		cmocka_unit_test(test_barrier_timedwait_times_out_not_before_deadline),
		cmocka_unit_test(test_barrier_timed_out_party_leaves_barrier_usable),
		cmocka_unit_test(test_barrier_wait_interrupted_by_signal_is_eintr),
		cmocka_unit_test(test_barrier_threads_rounds_in_lockstep),
		cmocka_unit_test(test_barrier_threads_timeouts_racing_completion_lose_no_round),
		cmocka_unit_test(test_barrier_processes_rounds_in_lockstep),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
