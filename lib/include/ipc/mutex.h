/* SPDX-License-Identifier: MIT */
/*
 * ipc/mutex.h - the three-state futex mutex (Drepper, "Futexes Are Tricky", mutex #2).
 *
 * state: 0 free, 1 locked with no sleepers, 2 locked and somebody may sleep in the kernel.
 * An uncontended lock is one CAS and an uncontended unlock one exchange: no system call.
 * Fairness: sleepers are woken one at a time in the kernel's (FIFO) futex queue order, but a
 * running thread may take a just-released mutex before the woken sleeper runs (barging), which
 * is what makes the uncontended path cheap. Not recursive, not robust, no owner check: unlocking
 * a mutex held by another thread is undefined (like PTHREAD_MUTEX_NORMAL); unlocking a free one
 * returns -EPERM. For locks that free themselves when their holder dies use ipcfs's mutex/
 * files, which the daemon releases on the holder's last close.
 */
#ifndef IPC_MUTEX_H
#define IPC_MUTEX_H

#include <errno.h>

#include "common.h"

struct ipc_mutex {
	uint32_t state; /* 0 free, 1 locked, 2 locked with possible sleepers; the futex word */
	uint32_t flags; /* IPC_SHARED or 0, fixed at init */
};

#define IPC_MUTEX_INITIALIZER(fl)         \
	{                                 \
		.state = 0, .flags = (fl) \
	}

/* ipc_mutex_init - make m a free mutex. Returns 0, or -EINVAL for unknown flags. */
int ipc_mutex_init(struct ipc_mutex *m, unsigned flags);

/* The slow paths of the inline functions below; not for direct use. */
int ipc_mutex_lock_slow(struct ipc_mutex *m, const struct timespec *deadline);
int ipc_mutex_unlock_slow(struct ipc_mutex *m, uint32_t old);

/* ipc_mutex_trylock - take m if it is free. Returns 0, or -EAGAIN when it is held. */
static inline int ipc_mutex_trylock(struct ipc_mutex *m)
{
	uint32_t c = 0;

	return __atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)
		       ? 0
		       : -EAGAIN;
}

/* ipc_mutex_timedlock - take m, waiting until deadline (NULL: forever).
 * Returns 0, -ETIMEDOUT (m not taken) or, when it has to wait, -EINVAL for a
 * malformed deadline (m not taken). */
static inline int ipc_mutex_timedlock(struct ipc_mutex *m, const struct timespec *deadline)
{
	uint32_t c = 0;

	if (__builtin_expect(__atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_ACQUIRE,
							 __ATOMIC_RELAXED),
			     1))
		return 0;
	return ipc_mutex_lock_slow(m, deadline);
}

/* ipc_mutex_lock - take m, waiting as long as needed. Returns 0. */
static inline int ipc_mutex_lock(struct ipc_mutex *m)
{
	return ipc_mutex_timedlock(m, NULL);
}

/* ipc_mutex_unlock - release m, held by the caller. Returns 0, or -EPERM if m was free. */
static inline int ipc_mutex_unlock(struct ipc_mutex *m)
{
	uint32_t old = __atomic_exchange_n(&m->state, 0, __ATOMIC_RELEASE);

	if (__builtin_expect(old == 1, 1))
		return 0;
	return ipc_mutex_unlock_slow(m, old);
}

#endif /* IPC_MUTEX_H */
