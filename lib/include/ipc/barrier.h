/* SPDX-License-Identifier: MIT */
/*
 * ipc/barrier.h - a reusable barrier for a fixed number of parties.
 *
 * Each round, every party calls a wait function; the last to arrive completes the round,
 * releases the others and gets IPC_BARRIER_SERIAL, the others get 0. Everything a party wrote
 * before arriving is visible to every party once its wait returns. The barrier is ready for the
 * next round as soon as the last party arrives. A party whose timed wait times out, or whose
 * wait a signal handler interrupts, withdraws its arrival: the round then needs it (or a
 * replacement) again, and the barrier stays usable. If the round completed before it could
 * withdraw, it was released with the others and its wait returns 0: a round is never lost.
 * Calling a wait function from more parties than the barrier was made for is undefined.
 * Fairness: the last arriver wakes every sleeper at once; nobody can overtake anybody.
 */
#ifndef IPC_BARRIER_H
#define IPC_BARRIER_H

#include "common.h"

/* What a wait function returns to the party that completed the round (the others get 0). */
#define IPC_BARRIER_SERIAL 1

struct ipc_barrier {
	/* generation << 32 | arrived, changed only by 64-bit CAS: arrived counts the parties
	 * waiting in the current round (0..parties-1), generation counts the completed rounds,
	 * modulo 2^32. The 32-bit half that holds generation is the futex word. */
	uint64_t state __attribute__((aligned(8)));
	uint32_t parties; /* parties per round, >= 1, fixed at init */
	uint32_t flags;	  /* IPC_SHARED or 0, fixed at init */
};

/* n must be at least 1: the initializer cannot reject 0, ipc_barrier_init() does. */
#define IPC_BARRIER_INITIALIZER(n, fl)                    \
	{                                                 \
		.state = 0, .parties = (n), .flags = (fl) \
	}

/* ipc_barrier_init - make b a barrier for parties parties, at round 0 with nobody arrived.
 * Returns 0, or -EINVAL for parties == 0 or unknown flags. */
int ipc_barrier_init(struct ipc_barrier *b, uint32_t parties, unsigned flags);

/*
 * ipc_barrier_timedwait - arrive at b and wait until deadline (NULL: forever) for the round to
 * complete. Returns IPC_BARRIER_SERIAL (the caller completed the round), 0 (another party
 * did), -ETIMEDOUT or -EINTR (the round did not complete: the caller's arrival is withdrawn),
 * or -EINVAL (malformed deadline: the caller did not arrive).
 */
int ipc_barrier_timedwait(struct ipc_barrier *b, const struct timespec *deadline);

/*
 * ipc_barrier_trywait - arrive at b only if that completes the round. Returns
 * IPC_BARRIER_SERIAL, or -EAGAIN (other parties are missing: the caller did not arrive).
 */
int ipc_barrier_trywait(struct ipc_barrier *b);

/* ipc_barrier_wait - ipc_barrier_timedwait with no deadline. */
static inline int ipc_barrier_wait(struct ipc_barrier *b)
{
	return ipc_barrier_timedwait(b, NULL);
}

#endif /* IPC_BARRIER_H */
