/* SPDX-License-Identifier: MIT */
/*
 * futex.c - thin wrappers over futex(2).
 *
 * FUTEX_WAIT_BITSET is used instead of FUTEX_WAIT because it takes an absolute timeout, measured
 * on CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME is given: a deadline survives spurious wakes
 * and retries without being recomputed, and wall-clock jumps do not move it.
 */
#include "futex.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

int ipc_deadline_valid(const struct timespec *deadline)
{
	if (!deadline)
		return 0;
	if (deadline->tv_sec < 0 || deadline->tv_nsec < 0 || deadline->tv_nsec >= 1000000000L)
		return -EINVAL;
	return 0;
}

int ipc_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline, bool shared)
{
	int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG);
	long rc;

	if (ipc_deadline_valid(deadline))
		return -EINVAL;
	rc = syscall(SYS_futex, word, op, expected, deadline, NULL, FUTEX_BITSET_MATCH_ANY);
	if (rc == 0)
		return 0;
	switch (errno) {
	case EAGAIN: /* *word != expected: the condition may already hold */
		return 0;
	case ETIMEDOUT:
	case EINTR:
		return -errno;
	default:
		/* EFAULT/EINVAL/ENOSYS mean a bug in the caller: a bad address or a kernel
		 * without futexes. Report it rather than spin. */
		return -errno;
	}
}

int ipc_futex_wake(uint32_t *word, int n, bool shared)
{
	int op = FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG);
	long rc = syscall(SYS_futex, word, op, n, NULL, NULL, 0);

	return rc < 0 ? -errno : (int)rc;
}
