/* SPDX-License-Identifier: MIT */
/*
 * ipc/sem.h - counting semaphore on a futex.
 *
 * The value is an int32 in [0, INT32_MAX]. Post adds N (all or nothing, -EOVERFLOW past
 * INT32_MAX); wait takes 1, or N at once (System V semop style: never part of N).
 * Fairness: a post wakes sleepers in the kernel's FIFO futex order, but a running caller may
 * take units before a woken sleeper runs, and a waiter for N units waits until N are there at
 * once, so waiters for fewer units may overtake it (as with semop). Under steady load each woken
 * sleeper competes again; none is skipped by the wake order.
 */
#ifndef IPC_SEM_H
#define IPC_SEM_H

#include <errno.h>

#include "common.h"

struct ipc_sem {
	uint32_t value;	       /* the count, 0..INT32_MAX; the futex word */
	uint32_t waiters;      /* callers asleep or about to sleep on value */
	uint32_t wide_waiters; /* those among them waiting for more than one unit */
	uint32_t spin;	       /* adaptive spin budget of the wait slow path; racy on purpose */
	uint32_t flags;	       /* IPC_SHARED or 0, fixed at init */
};

#define IPC_SEM_VALUE_MAX INT32_MAX
#define IPC_SEM_INITIALIZER(v, fl)          \
	{                                   \
		.value = (v), .flags = (fl) \
	}

/* ipc_sem_init - Returns 0, or -EINVAL for unknown flags or value > IPC_SEM_VALUE_MAX. */
int ipc_sem_init(struct ipc_sem *s, uint32_t value, unsigned flags);

/* The slow paths of the inline functions below; not for direct use. */
int ipc_sem_post_slow(struct ipc_sem *s, uint32_t n);
void ipc_sem_wake(struct ipc_sem *s, uint32_t n);
int ipc_sem_wait_slow(struct ipc_sem *s, uint32_t n, const struct timespec *deadline);

/* ipc_sem_post - V(n): add n >= 1 at once. Returns 0, -EINVAL (n == 0 or n > INT32_MAX) or
 * -EOVERFLOW (the value would pass IPC_SEM_VALUE_MAX); on error the value is unchanged. */
static inline int ipc_sem_post(struct ipc_sem *s, uint32_t n)
{
	uint32_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);

	/* fast path: one CAS, and no system call unless somebody sleeps */
	if (__builtin_expect(n - 1 < IPC_SEM_VALUE_MAX && v <= IPC_SEM_VALUE_MAX - n, 1) &&
	    __atomic_compare_exchange_n(&s->value, &v, v + n, 0, __ATOMIC_SEQ_CST,
					__ATOMIC_RELAXED)) {
		if (__builtin_expect(__atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST) != 0, 0))
			ipc_sem_wake(s, n);
		return 0;
	}
	return ipc_sem_post_slow(s, n);
}

/* ipc_sem_timedwait_n - P(n): wait until n units are there at once and take them.
 * Returns 0, -EAGAIN (try form), -ETIMEDOUT, -EINTR or -EINVAL (n == 0, n > INT32_MAX, bad
 * deadline); on error nothing is taken. */
static inline int ipc_sem_timedwait_n(struct ipc_sem *s, uint32_t n,
				      const struct timespec *deadline)
{
	uint32_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);

	if (__builtin_expect(n - 1 < IPC_SEM_VALUE_MAX && v >= n, 1) &&
	    __atomic_compare_exchange_n(&s->value, &v, v - n, 0, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return 0;
	return ipc_sem_wait_slow(s, n, deadline);
}

int ipc_sem_trywait_n(struct ipc_sem *s, uint32_t n);

static inline int ipc_sem_wait_n(struct ipc_sem *s, uint32_t n)
{
	return ipc_sem_timedwait_n(s, n, NULL);
}

static inline int ipc_sem_wait(struct ipc_sem *s)
{
	return ipc_sem_timedwait_n(s, 1, NULL);
}

static inline int ipc_sem_trywait(struct ipc_sem *s)
{
	return ipc_sem_trywait_n(s, 1);
}

static inline int ipc_sem_timedwait(struct ipc_sem *s, const struct timespec *deadline)
{
	return ipc_sem_timedwait_n(s, 1, deadline);
}

/* ipc_sem_value - the current value (a snapshot). */
static inline int32_t ipc_sem_value(const struct ipc_sem *s)
{
	return (int32_t)__atomic_load_n(&s->value, __ATOMIC_RELAXED);
}

#endif /* IPC_SEM_H */
