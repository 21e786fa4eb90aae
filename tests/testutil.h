/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - helpers shared by the cmocka unit tests: shared memory, threads, forked
 * children, clocks, and a main() that bounds the whole binary in time.
 */
#ifndef IPC_TESTUTIL_H
#define IPC_TESTUTIL_H

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* Seconds a whole test binary may run before SIGALRM kills it (and the run fails). */
#define TEST_BINARY_TIMEOUT 240

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* Zeroed memory shared with forked children. */
static inline void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static inline void shared_free(void *p, size_t size)
{
	munmap(p, size);
}

/* Run fn(i, arg) in n threads (n <= 16) and join them all. */
static inline void run_threads(int n, void *(*fn)(void *), void **args)
{
	pthread_t t[16];

	assert_true(n <= 16);
	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn, args[i]), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
}

/* Fork n children running fn(i, arg), each exiting with fn's return value; assert all
 * exited 0. A child that fails an assertion exits non-zero through cmocka. */
static inline void run_children(int n, int (*fn)(int, void *), void *arg)
{
	pid_t pid[16];
	int status;

	assert_true(n <= 16);
	for (int i = 0; i < n; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0)
			_exit(fn(i, arg));
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

/* Sleep for ms milliseconds. */
static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

#endif /* IPC_TESTUTIL_H */
