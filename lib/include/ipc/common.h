/* SPDX-License-Identifier: MIT */
/*
 * ipc/common.h - conventions shared by every primitive of libipc.
 *
 * Every primitive is a plain struct of 32-bit words with no pointers inside, so it may live in
 * ordinary memory (threads of one process) or in MAP_SHARED memory (several processes). The
 * IPC_SHARED flag, given to the init function, selects process-shared futexes; without it the
 * cheaper FUTEX_PRIVATE_FLAG operations are used and the object must not be shared.
 *
 * Every function returns 0 (or a non-negative count) on success and -errno on failure, never
 * -1 plus errno. Every blocking operation has three forms:
 *   ipc_X_op(...)              blocks until it can proceed;
 *   ipc_X_tryop(...)           never blocks: -EAGAIN when it would have to;
 *   ipc_X_timedop(..., dl)     blocks until the absolute CLOCK_MONOTONIC deadline dl
 *                              (NULL: forever): -ETIMEDOUT when it passes, -EINVAL when
 *                              dl->tv_nsec is not in [0, 1e9) or dl->tv_sec < 0.
 * A failed operation changes nothing. A blocked operation that is interrupted by a signal
 * handler returns -EINTR (mutex locking excepted: like pthread_mutex_lock it just retries).
 */
#ifndef IPC_COMMON_H
#define IPC_COMMON_H

#include <stdint.h>
#include <time.h>

/* Flags for the init functions. */
#define IPC_SHARED 0x1u		  /* usable between processes (in MAP_SHARED memory) */
#define IPC_INIT_VALID IPC_SHARED /* every init flag */

/*
 * ipc_deadline_in - the absolute CLOCK_MONOTONIC deadline `ns` nanoseconds from now (negative:
 * in the past), for the timed forms. Never fails; the result is always well formed.
 */
static inline struct timespec ipc_deadline_in(int64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ns / 1000000000;
	ts.tv_nsec += ns % 1000000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	} else if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += 1000000000;
	}
	return ts;
}

#endif /* IPC_COMMON_H */
