/* SPDX-License-Identifier: MIT */
/*
 * cond.c - sequence-counter wait/notify and the condition variable built on it.
 *
 * Implementation notes:
 * - waiters is raised before the counter is read (both sequentially consistent) and a notifier
 *   bumps the counter before reading waiters: either the notifier sees the waiter and wakes, or
 *   the waiter reads the bumped counter and does not sleep (the Dekker pattern).
 * - The counter wraps after 2^32 notifies; a waiter would miss a wake only if exactly 2^32
 *   notifies happened between its read and its sleep, which we accept as every futex-based
 *   condition variable does.
 * - ipc_cond_timedwait re-takes the mutex with a plain lock: requeueing sleepers onto the mutex
 *   (FUTEX_CMP_REQUEUE) saves wakes on broadcast, but our broadcasts wake few waiters.
 */
#include <ipc/cond.h>

#include <errno.h>

#include "futex.h"

int ipc_cond_init(struct ipc_cond *c, unsigned flags)
{
	if (flags & ~IPC_INIT_VALID)
		return -EINVAL;
	c->seq = 0;
	c->waiters = 0;
	c->flags = flags;
	return 0;
}

uint32_t ipc_cond_prepare(struct ipc_cond *c)
{
	__atomic_fetch_add(&c->waiters, 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&c->seq, __ATOMIC_SEQ_CST);
}

void ipc_cond_cancel(struct ipc_cond *c)
{
	__atomic_fetch_sub(&c->waiters, 1, __ATOMIC_RELAXED);
}

int ipc_cond_wait_seq(struct ipc_cond *c, uint32_t seen, const struct timespec *deadline)
{
	int rc = ipc_futex_wait(&c->seq, seen, deadline, c->flags & IPC_SHARED);

	__atomic_fetch_sub(&c->waiters, 1, __ATOMIC_RELAXED);
	return rc;
}

void ipc_cond_notify(struct ipc_cond *c, int n)
{
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->waiters, __ATOMIC_SEQ_CST))
		ipc_futex_wake(&c->seq, n, c->flags & IPC_SHARED);
}

int ipc_cond_timedwait(struct ipc_cond *c, struct ipc_mutex *m, const struct timespec *deadline)
{
	uint32_t seen;
	int rc;

	if (ipc_deadline_valid(deadline))
		return -EINVAL;
	seen = ipc_cond_prepare(c);
	ipc_mutex_unlock(m);
	rc = ipc_cond_wait_seq(c, seen, deadline);
	ipc_mutex_lock(m);
	return rc;
}
