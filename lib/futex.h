/* SPDX-License-Identifier: MIT */
/*
 * futex.h - the only place in libipc that talks to futex(2). Internal to lib/.
 */
#ifndef IPC_FUTEX_H
#define IPC_FUTEX_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * ipc_futex_wait - sleep while *word == expected, until woken, until the absolute
 * CLOCK_MONOTONIC deadline (NULL: none) or until a signal handler runs.
 * Returns 0 when woken or when *word already differed (the caller re-checks its condition:
 * wakes may be spurious), -ETIMEDOUT, -EINTR, or -EINVAL for a malformed deadline.
 */
int ipc_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline, bool shared);

/* ipc_futex_wake - wake up to n sleepers on word (INT32_MAX: all). Returns how many woke. */
int ipc_futex_wake(uint32_t *word, int n, bool shared);

/* ipc_deadline_valid - 0 when deadline is NULL or well formed, -EINVAL otherwise. */
int ipc_deadline_valid(const struct timespec *deadline);

/*
 * How many times a waiter re-checks before it sleeps, and only while nobody sleeps yet: a
 * partner on another CPU usually acts within a microsecond or two, while a FUTEX_WAIT plus
 * FUTEX_WAKE round trip costs tens of microseconds across CPUs. 100 pauses stay well under that.
 */
#ifndef IPC_SPIN_LIMIT
#define IPC_SPIN_LIMIT 100
#endif

/* A CPU hint for spin loops. */
static inline void ipc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif /* IPC_FUTEX_H */
