/* SPDX-License-Identifier: MIT */
/*
 * ipc/flags.h - event flags: a 32-bit mask of events that waiters wait on (RIOT's thread flags,
 * but not tied to one thread, and usable between processes).
 *
 * Setters OR bits in; a waiter waits until ANY or ALL of the bits of its (non-zero) mask are
 * set and, with IPC_FLAGS_CLEAR, takes exactly the bits it matched in the same atomic step: two
 * clearing waiters never both get the same bit, and a bit set once is taken at most once. Bits
 * are not counted: setting a bit that is already set is one event, not two.
 * Fairness: every waiter has its own mask, so a set wakes every sleeper and each re-checks; the
 * first to take contested bits wins, regardless of how long it waited (there is no queue). A
 * set makes a system call only when it changes the mask and somebody is (about to be) asleep.
 */
#ifndef IPC_FLAGS_H
#define IPC_FLAGS_H

#include "common.h"

struct ipc_flags {
	uint32_t mask;	  /* the event bits; the futex word */
	uint32_t waiters; /* callers asleep or about to sleep on mask */
	uint32_t flags;	  /* IPC_SHARED or 0, fixed at init */
};

/* Modes for the wait functions: exactly one of ANY and ALL, optionally with CLEAR. */
#define IPC_FLAGS_ANY 0x1u   /* proceed when at least one bit of the mask is set */
#define IPC_FLAGS_ALL 0x2u   /* proceed when every bit of the mask is set */
#define IPC_FLAGS_CLEAR 0x4u /* and clear the matched bits, atomically with the check */

#define IPC_FLAGS_INITIALIZER(m, fl)                     \
	{                                                \
		.mask = (m), .waiters = 0, .flags = (fl) \
	}

/* ipc_flags_init - make f hold the bits mask. Returns 0, or -EINVAL for unknown flags. */
int ipc_flags_init(struct ipc_flags *f, uint32_t mask, unsigned flags);

/*
 * ipc_flags_set - set bits in f and wake the waiters. Returns the mask as it was before (so
 * `bits & ~old` are the bits this call set). Never fails; bits == 0 changes nothing.
 */
uint32_t ipc_flags_set(struct ipc_flags *f, uint32_t bits);

/* ipc_flags_clear - clear bits in f. Returns the mask as it was before. Never fails. */
uint32_t ipc_flags_clear(struct ipc_flags *f, uint32_t bits);

/*
 * ipc_flags_timedwait - wait until deadline (NULL: forever) for ANY or ALL of the bits of mask
 * to be set, as mode says; with IPC_FLAGS_CLEAR take the matched bits. On success *matched
 * (unless matched is NULL) gets the matched bits: mask & f's mask for ANY, mask for ALL.
 * Returns 0, -ETIMEDOUT, -EINTR, or -EINVAL (mask == 0, mode not exactly one of ANY and ALL
 * plus optionally CLEAR, malformed deadline). On error nothing is taken and *matched is left
 * alone.
 */
int ipc_flags_timedwait(struct ipc_flags *f, uint32_t mask, unsigned mode, uint32_t *matched,
			const struct timespec *deadline);

/* ipc_flags_trywait - ipc_flags_timedwait without waiting: -EAGAIN when mask does not match. */
int ipc_flags_trywait(struct ipc_flags *f, uint32_t mask, unsigned mode, uint32_t *matched);

/* ipc_flags_wait - ipc_flags_timedwait with no deadline. */
static inline int ipc_flags_wait(struct ipc_flags *f, uint32_t mask, unsigned mode,
				 uint32_t *matched)
{
	return ipc_flags_timedwait(f, mask, mode, matched, NULL);
}

/* ipc_flags_get - the current mask (a snapshot). */
static inline uint32_t ipc_flags_get(const struct ipc_flags *f)
{
	return __atomic_load_n(&f->mask, __ATOMIC_ACQUIRE);
}

#endif /* IPC_FLAGS_H */
