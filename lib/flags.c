/* SPDX-License-Identifier: MIT */
/*
 * flags.c - event flags.
 *
 * Implementation notes:
 * - The mask is the futex word: a waiter sleeps while the mask is still the value it judged
 *   insufficient, so a set between its check and its sleep makes the sleep return at once.
 * - waiters is raised before the mask is re-read, and set changes the mask before reading
 *   waiters (both sequentially consistent): a set never misses a sleeper, and a set with
 *   nobody waiting makes no system call.
 * - A set that changes nothing wakes nobody: a sleeper went to sleep on a mask that did not
 *   satisfy it, both conditions only grow with the mask, and every set that did add a bit since
 *   has woken it already (or will, right after its own fetch_or).
 * - Clear never wakes: removing bits cannot satisfy anybody.
 * - A set wakes every sleeper: each waits for its own mask and mode, so a targeted wake could
 *   pick one that still cannot proceed while one that could stays asleep (as sem.c does for
 *   its wide waiters).
 * - Taking bits is a CAS from the mask judged sufficient to that mask minus the matched bits,
 *   for ANY as well as ALL: a fetch_and would make the check and the take two steps, and two
 *   waiters could then both report (and act on) the same bit.
 */
#include <ipc/flags.h>

#include <errno.h>

#include "futex.h"

#define FLAGS_MODES (IPC_FLAGS_ANY | IPC_FLAGS_ALL | IPC_FLAGS_CLEAR)

int ipc_flags_init(struct ipc_flags *f, uint32_t mask, unsigned flags)
{
	if (flags & ~IPC_INIT_VALID)
		return -EINVAL;
	f->mask = mask;
	f->waiters = 0;
	f->flags = flags;
	return 0;
}

uint32_t ipc_flags_set(struct ipc_flags *f, uint32_t bits)
{
	uint32_t old = __atomic_fetch_or(&f->mask, bits, __ATOMIC_SEQ_CST);

	if ((old | bits) != old && __atomic_load_n(&f->waiters, __ATOMIC_SEQ_CST))
		ipc_futex_wake(&f->mask, INT32_MAX, f->flags & IPC_SHARED);
	return old;
}

uint32_t ipc_flags_clear(struct ipc_flags *f, uint32_t bits)
{
	return __atomic_fetch_and(&f->mask, ~bits, __ATOMIC_ACQ_REL);
}

/* 0 for a mask and mode the wait functions accept, -EINVAL otherwise. */
static int flags_args_valid(uint32_t mask, unsigned mode)
{
	if (mask == 0 || mode & ~FLAGS_MODES)
		return -EINVAL;
	/* exactly one of ANY and ALL */
	if (!(mode & IPC_FLAGS_ANY) == !(mode & IPC_FLAGS_ALL))
		return -EINVAL;
	return 0;
}

/*
 * Check f's mask against (mask, mode) and, on a match with IPC_FLAGS_CLEAR, take the matched
 * bits. Returns true on a match with *got the matched bits; otherwise false with *seen the
 * mask last read, the value to sleep on.
 */
static bool flags_take(struct ipc_flags *f, uint32_t mask, unsigned mode, uint32_t *got,
		       uint32_t *seen)
{
	uint32_t cur = __atomic_load_n(&f->mask, __ATOMIC_SEQ_CST);
	uint32_t hit;

	for (;;) {
		hit = cur & mask;
		if (mode & IPC_FLAGS_ALL ? hit != mask : hit == 0) {
			*seen = cur;
			return false;
		}
		if (!(mode & IPC_FLAGS_CLEAR))
			break;
		/* on failure cur is reloaded and the match judged again */
		if (__atomic_compare_exchange_n(&f->mask, &cur, cur & ~hit, 1, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
	}
	*got = hit;
	return true;
}

int ipc_flags_trywait(struct ipc_flags *f, uint32_t mask, unsigned mode, uint32_t *matched)
{
	uint32_t got, seen;

	if (flags_args_valid(mask, mode))
		return -EINVAL;
	if (!flags_take(f, mask, mode, &got, &seen))
		return -EAGAIN;
	if (matched)
		*matched = got;
	return 0;
}

int ipc_flags_timedwait(struct ipc_flags *f, uint32_t mask, unsigned mode, uint32_t *matched,
			const struct timespec *deadline)
{
	bool shared = f->flags & IPC_SHARED;
	uint32_t got = 0, seen;
	int rc = 0;

	if (flags_args_valid(mask, mode) || ipc_deadline_valid(deadline))
		return -EINVAL;
	if (!flags_take(f, mask, mode, &got, &seen)) {
		__atomic_fetch_add(&f->waiters, 1, __ATOMIC_SEQ_CST);
		while (!flags_take(f, mask, mode, &got, &seen)) {
			rc = ipc_futex_wait(&f->mask, seen, deadline, shared);
			if (rc)
				break;
		}
		__atomic_fetch_sub(&f->waiters, 1, __ATOMIC_RELAXED);
	}
	if (rc == 0 && matched)
		*matched = got;
	return rc;
}
