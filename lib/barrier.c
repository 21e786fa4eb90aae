/* SPDX-License-Identifier: MIT */
/*
 * barrier.c - reusable barrier.
 *
 * Implementation notes:
 * - The whole state is one 64-bit word, (generation << 32 | arrived), changed only by CAS, so
 *   "arrive", "complete the round" and "withdraw" are each a single atomic step on both counts
 *   at once. A separate counter and generation could not tell a withdrawing party whether its
 *   round completed between its two reads.
 * - Arriving increments arrived. The last party instead swaps (gen, parties - 1) for
 *   (gen + 1, 0): the round is complete and the barrier already open for the next one before
 *   anybody wakes. It then wakes every sleeper: all of them are released together.
 * - Sleepers sleep on the 32-bit half of the word that holds the generation (which half depends
 *   on the byte order) while it is still their round's: a completion between arriving and
 *   sleeping makes the sleep return at once. Arrivals change only the other half and wake
 *   nobody.
 * - A party that times out or is interrupted withdraws with a CAS (gen, k) -> (gen, k - 1) that
 *   can only succeed while its round is open. If the generation moved first, the round completed
 *   with the party counted, the others were released, and so is it: it returns 0, because
 *   reporting a failure would make it arrive again and complete the next round one party short.
 * - The last arriver always makes one FUTEX_WAKE when parties > 1, even if every other party is
 *   still running towards its sleep: counting sleepers would cost an extra atomic per party and
 *   round to save a system call per round. Nobody spins: with more parties than CPUs, spinning
 *   only delays the party everybody waits for.
 * - Ordering: an arrival is a release, the completion an acquire-release and the sleepers'
 *   re-read of the word an acquire, so each party's writes before arriving happen before every
 *   party's return.
 * - The generation wraps after 2^32 rounds; a sleeper cannot miss its wake that way, since no
 *   later round can complete without it.
 */
#include <ipc/barrier.h>

#include <errno.h>

#include "futex.h"

/* Index, in state seen as two 32-bit words, of the one that holds the generation. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BARRIER_GEN_HALF 1
#elif __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BARRIER_GEN_HALF 0
#else
#error "barrier.c: unknown byte order"
#endif

static inline uint32_t state_gen(uint64_t s)
{
	return (uint32_t)(s >> 32);
}

static inline uint32_t state_arrived(uint64_t s)
{
	return (uint32_t)s;
}

/* The futex word. Only the kernel reads through it: C code reads the whole 64-bit word. */
static inline uint32_t *barrier_gen_word(struct ipc_barrier *b)
{
	return (uint32_t *)&b->state + BARRIER_GEN_HALF;
}

int ipc_barrier_init(struct ipc_barrier *b, uint32_t parties, unsigned flags)
{
	if (parties == 0 || flags & ~IPC_INIT_VALID)
		return -EINVAL;
	b->state = 0;
	b->parties = parties;
	b->flags = flags;
	return 0;
}

/*
 * Complete the round of *s, in which every party but the caller has arrived, and release its
 * sleepers. Returns true on success; false when state was no longer *s, with *s reloaded.
 */
static bool barrier_complete(struct ipc_barrier *b, uint64_t *s)
{
	uint64_t next = (uint64_t)(uint32_t)(state_gen(*s) + 1) << 32;

	if (!__atomic_compare_exchange_n(&b->state, s, next, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return false;
	if (b->parties > 1)
		ipc_futex_wake(barrier_gen_word(b), INT32_MAX, b->flags & IPC_SHARED);
	return true;
}

int ipc_barrier_trywait(struct ipc_barrier *b)
{
	uint64_t s = __atomic_load_n(&b->state, __ATOMIC_RELAXED);

	do {
		if (state_arrived(s) + 1 != b->parties)
			return -EAGAIN;
	} while (!barrier_complete(b, &s));
	return IPC_BARRIER_SERIAL;
}

int ipc_barrier_timedwait(struct ipc_barrier *b, const struct timespec *deadline)
{
	bool shared = b->flags & IPC_SHARED;
	uint64_t s;
	uint32_t gen;
	int rc;

	if (ipc_deadline_valid(deadline))
		return -EINVAL;

	s = __atomic_load_n(&b->state, __ATOMIC_RELAXED);
	for (;;) {
		if (state_arrived(s) + 1 == b->parties) {
			if (barrier_complete(b, &s))
				return IPC_BARRIER_SERIAL;
		} else if (__atomic_compare_exchange_n(&b->state, &s, s + 1, 1, __ATOMIC_RELEASE,
						       __ATOMIC_RELAXED)) {
			break;
		}
	}

	gen = state_gen(s);
	for (;;) {
		rc = ipc_futex_wait(barrier_gen_word(b), gen, deadline, shared);
		s = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
		if (state_gen(s) != gen)
			return 0;
		if (rc)
			break;
		/* woken spuriously, or by a wake meant for an earlier round: sleep on */
	}

	/* -ETIMEDOUT or -EINTR: withdraw, unless the round completes first (see the notes) */
	while (!__atomic_compare_exchange_n(&b->state, &s, s - 1, 1, __ATOMIC_ACQUIRE,
					    __ATOMIC_ACQUIRE)) {
		if (state_gen(s) != gen)
			return 0;
	}
	return rc;
}
