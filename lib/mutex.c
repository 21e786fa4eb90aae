/* SPDX-License-Identifier: MIT */
/*
 * mutex.c - slow paths of the three-state futex mutex (fast paths inline in ipc/mutex.h).
 *
 * Implementation notes:
 * - A locker that finds the mutex held spins a bounded number of times, but only while the
 *   state is 1 (held, nobody sleeping): once somebody sleeps, the holder will make a system
 *   call on unlock anyway and spinning would only steal CPU from it.
 * - After spinning, the locker marks the state 2 with an exchange and sleeps while it stays 2.
 *   Whoever gets the mutex through that exchange keeps the state at 2 (it cannot know whether
 *   other sleepers remain), so the next unlock wakes one more sleeper: at worst one needless
 *   FUTEX_WAKE, never a lost one.
 */
#include <ipc/mutex.h>

#include <errno.h>

#include "futex.h"

int ipc_mutex_init(struct ipc_mutex *m, unsigned flags)
{
	if (flags & ~IPC_INIT_VALID)
		return -EINVAL;
	m->state = 0;
	m->flags = flags;
	return 0;
}

int ipc_mutex_lock_slow(struct ipc_mutex *m, const struct timespec *deadline)
{
	bool shared = m->flags & IPC_SHARED;
	uint32_t c;
	int rc;

	if (ipc_deadline_valid(deadline))
		return -EINVAL;

	for (int i = 0; i < IPC_SPIN_LIMIT; i++) {
		c = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
		if (c == 0 && __atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_ACQUIRE,
							  __ATOMIC_RELAXED))
			return 0;
		if (c == 2)
			break;
		ipc_cpu_relax();
	}

	while (__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE) != 0) {
		rc = ipc_futex_wait(&m->state, 2, deadline, shared);
		if (rc == -ETIMEDOUT || rc == -EINVAL)
			return rc;
		/* 0 or -EINTR: a mutex lock is not interruptible; try again */
	}
	return 0;
}

int ipc_mutex_unlock_slow(struct ipc_mutex *m, uint32_t old)
{
	if (old == 0)
		return -EPERM;
	ipc_futex_wake(&m->state, 1, m->flags & IPC_SHARED);
	return 0;
}
