/* SPDX-License-Identifier: MIT */
/*
 * sem.c - counting semaphore.
 *
 * Implementation notes:
 * - The value is the futex word: a sleeper sleeps while the value is still what it saw, so a
 *   post between its check and its sleep makes the sleep return at once.
 * - waiters is raised before the value is re-read, and post changes the value before reading
 *   waiters (both sequentially consistent): a post never misses a sleeper, and an uncontended
 *   post makes no system call.
 * - Which sleepers to wake: when all sleepers want one unit, post(n) wakes n of them. When some
 *   want more (wide_waiters), a targeted wake could pick a sleeper that still cannot proceed
 *   while one that could stays asleep, so post wakes them all and lets them re-check.
 */
#include <ipc/sem.h>

#include <errno.h>

#include "futex.h"

int ipc_sem_init(struct ipc_sem *s, uint32_t value, unsigned flags)
{
	if (flags & ~IPC_INIT_VALID || value > IPC_SEM_VALUE_MAX)
		return -EINVAL;
	s->value = value;
	s->waiters = 0;
	s->wide_waiters = 0;
	s->spin = 0;
	s->flags = flags;
	return 0;
}

/* The units were added and somebody may sleep: wake as many as could now proceed. */
void ipc_sem_wake(struct ipc_sem *s, uint32_t n)
{
	int wake = __atomic_load_n(&s->wide_waiters, __ATOMIC_RELAXED) ? INT32_MAX : (int)n;

	ipc_futex_wake(&s->value, wake, s->flags & IPC_SHARED);
}

/* The inline fast path did not add the units: n out of range, overflow, or a lost CAS race. */
int ipc_sem_post_slow(struct ipc_sem *s, uint32_t n)
{
	uint32_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);

	if (n == 0 || n > IPC_SEM_VALUE_MAX)
		return -EINVAL;
	do {
		if (v > IPC_SEM_VALUE_MAX - n)
			return -EOVERFLOW;
	} while (!__atomic_compare_exchange_n(&s->value, &v, v + n, 1, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));

	if (__atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST))
		ipc_sem_wake(s, n);
	return 0;
}

/* Take n units if they are there. Returns true on success; *seen is the value last read. */
static bool sem_take(struct ipc_sem *s, uint32_t n, uint32_t *seen)
{
	uint32_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);

	while (v >= n) {
		if (__atomic_compare_exchange_n(&s->value, &v, v - n, 1, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
	}
	*seen = v;
	return false;
}

/*
 * Spin briefly, while nobody sleeps, hoping for a post from another CPU (see IPC_SPIN_LIMIT).
 * When the poster shares our CPU, spinning only delays it, so the budget adapts: a spin that
 * succeeds restores the full budget, one that fails halves it, and every SEM_PROBE_EVERY-th
 * slow wait of a thread spins the full budget to find out whether spinning pays again.
 */
#define SEM_PROBE_EVERY 128

static bool sem_spin(struct ipc_sem *s, uint32_t n, uint32_t *seen)
{
	static __thread uint32_t tick;
	uint32_t budget = __atomic_load_n(&s->spin, __ATOMIC_RELAXED);

	if (++tick % SEM_PROBE_EVERY == 0)
		budget = IPC_SPIN_LIMIT;
	for (uint32_t i = 0; i < budget && !__atomic_load_n(&s->waiters, __ATOMIC_RELAXED); i++) {
		ipc_cpu_relax();
		if (sem_take(s, n, seen)) {
			__atomic_store_n(&s->spin, IPC_SPIN_LIMIT, __ATOMIC_RELAXED);
			return true;
		}
	}
	if (budget)
		__atomic_store_n(&s->spin, budget / 2, __ATOMIC_RELAXED);
	return false;
}

int ipc_sem_trywait_n(struct ipc_sem *s, uint32_t n)
{
	uint32_t seen;

	if (n == 0 || n > IPC_SEM_VALUE_MAX)
		return -EINVAL;
	return sem_take(s, n, &seen) ? 0 : -EAGAIN;
}

int ipc_sem_wait_slow(struct ipc_sem *s, uint32_t n, const struct timespec *deadline)
{
	bool shared = s->flags & IPC_SHARED;
	uint32_t seen;
	int rc = 0;

	if (n == 0 || n > IPC_SEM_VALUE_MAX || ipc_deadline_valid(deadline))
		return -EINVAL;
	if (sem_take(s, n, &seen))
		return 0;

	if (sem_spin(s, n, &seen))
		return 0;

	__atomic_fetch_add(&s->waiters, 1, __ATOMIC_SEQ_CST);
	if (n > 1)
		__atomic_fetch_add(&s->wide_waiters, 1, __ATOMIC_SEQ_CST);
	while (!sem_take(s, n, &seen)) {
		rc = ipc_futex_wait(&s->value, seen, deadline, shared);
		if (rc)
			break;
	}
	if (n > 1)
		__atomic_fetch_sub(&s->wide_waiters, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&s->waiters, 1, __ATOMIC_RELAXED);
	return rc;
}
