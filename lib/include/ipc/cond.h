/* SPDX-License-Identifier: MIT */
/*
 * ipc/cond.h - wait/notify: a sequence-counter futex, and a condition variable built on it.
 *
 * The sequence counter is the building block the other primitives and the daemon use: a waiter
 * reads the counter, checks its own condition, and sleeps only while the counter still has the
 * value it read; a notifier changes the condition, then bumps the counter and wakes. A notify
 * that comes between the read and the sleep changes the counter, so the sleep returns at once:
 * no wake is ever lost. Wakes may be spurious; waiters re-check their condition.
 * A notify makes a system call only when somebody is (about to be) asleep.
 */
#ifndef IPC_COND_H
#define IPC_COND_H

#include "common.h"
#include "mutex.h"

struct ipc_cond {
	uint32_t seq;	  /* bumped by every notify; the futex word */
	uint32_t waiters; /* callers between ipc_cond_seq() and the end of their sleep */
	uint32_t flags;	  /* IPC_SHARED or 0, fixed at init */
};

#define IPC_COND_INITIALIZER(fl)                      \
	{                                             \
		.seq = 0, .waiters = 0, .flags = (fl) \
	}

/* ipc_cond_init - Returns 0, or -EINVAL for unknown flags. */
int ipc_cond_init(struct ipc_cond *c, unsigned flags);

/*
 * ipc_cond_prepare - the counter's value, to pass to ipc_cond_wait_seq() after checking the
 * condition. Registers the caller as a waiter: every ipc_cond_prepare() must be followed by
 * exactly one ipc_cond_wait_seq() or ipc_cond_cancel().
 */
uint32_t ipc_cond_prepare(struct ipc_cond *c);

/* ipc_cond_cancel - the condition held after ipc_cond_prepare(): do not wait after all. */
void ipc_cond_cancel(struct ipc_cond *c);

/*
 * ipc_cond_wait_seq - sleep while the counter equals seen (from ipc_cond_prepare()), until
 * deadline (NULL: forever). Returns 0 (woken, or the counter had moved: re-check), -ETIMEDOUT,
 * -EINTR or -EINVAL.
 */
int ipc_cond_wait_seq(struct ipc_cond *c, uint32_t seen, const struct timespec *deadline);

/* ipc_cond_notify - bump the counter and wake up to n waiters (INT32_MAX: all). */
void ipc_cond_notify(struct ipc_cond *c, int n);

/*
 * ipc_cond_timedwait - the condition-variable form: m is held by the caller; atomically
 * release it and sleep until notified or deadline, then take m again. m is held on every
 * return. Returns 0 (possibly spuriously), -ETIMEDOUT, -EINTR or -EINVAL.
 */
int ipc_cond_timedwait(struct ipc_cond *c, struct ipc_mutex *m, const struct timespec *deadline);

static inline int ipc_cond_wait(struct ipc_cond *c, struct ipc_mutex *m)
{
	return ipc_cond_timedwait(c, m, NULL);
}

static inline void ipc_cond_signal(struct ipc_cond *c)
{
	ipc_cond_notify(c, 1);
}

static inline void ipc_cond_broadcast(struct ipc_cond *c)
{
	ipc_cond_notify(c, INT32_MAX);
}

#endif /* IPC_COND_H */
