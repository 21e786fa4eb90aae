/* SPDX-License-Identifier: MIT */
/*
 * client_scale.c - many concurrently blocked callers, for the integration tests.
 *
 *   client_scale PATH NTHREADS
 *
 * Opens PATH NTHREADS times (one open file description each, so that no thread waits for
 * another's file position lock), then starts NTHREADS threads with small stacks, each doing
 * one read() on its own descriptor. Prints "blocked N" once every thread sleeps in a FUSE
 * request (its /proc wchan is request_wait_answer; "stuck K" after SCALE_BLOCK_SECONDS if K
 * never did), then
 * "returned OK ERR" when every thread has returned. Exit status 0 if every read succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* In a sanitizer build, no leak check at exit: it stops the world with ptrace, and a signal
 * arriving meanwhile (these clients are signalled on purpose) can hang it for good. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

#define STACK_SIZE (128 * 1024) /* small, yet enough for a sanitizer build */
/* How long all the threads may take to start and block: 10,000 of them in 4 processes take
 * over 60 s under ThreadSanitizer on these 2-vCPU machines (seen in CI). */
#define SCALE_BLOCK_SECONDS 150

struct worker {
	pthread_t thread;
	int fd;
	pid_t tid; /* set by the thread before it blocks */
	int err;   /* errno of its read, 0 on success */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char c;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	w->err = read(w->fd, &c, 1) < 0 ? errno : 0;
	return NULL;
}

static bool sleeps_in_fuse(pid_t tid)
{
	char path[64], wchan[64] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", (int)tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, wchan, sizeof(wchan) - 1);
	close(fd);
	return n > 0 && strncmp(wchan, "request_wait_answer", 19) == 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	pthread_attr_t attr;
	struct worker *w;
	long n, ok = 0, bad = 0;
	size_t next = 0;
	time_t deadline;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: client_scale PATH NTHREADS\n");
		return 2;
	}
	rl.rlim_cur = rl.rlim_max = (rlim_t)n + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		perror("client_scale: setrlimit");
		return 2;
	}
	w = calloc((size_t)n, sizeof(*w));
	if (!w)
		return 2;
	for (long i = 0; i < n; i++) {
		w[i].fd = open(argv[1], O_RDONLY);
		if (w[i].fd < 0) {
			perror("client_scale: open");
			return 2;
		}
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	for (long i = 0; i < n; i++) {
		int rc = pthread_create(&w[i].thread, &attr, worker_main, &w[i]);

		if (rc) {
			fprintf(stderr, "client_scale: thread %ld: %s\n", i, strerror(rc));
			return 2;
		}
	}
	/* wait until every thread sleeps in its read, in tid order of a single pass */
	deadline = time(NULL) + SCALE_BLOCK_SECONDS;
	while (next < (size_t)n && time(NULL) < deadline) {
		pid_t tid = __atomic_load_n(&w[next].tid, __ATOMIC_ACQUIRE);

		if (tid && sleeps_in_fuse(tid))
			next++;
		else
			usleep(1000);
	}
	if (next == (size_t)n)
		printf("blocked %ld\n", n);
	else
		printf("stuck %ld\n", n - (long)next);
	for (long i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].err)
			bad++;
		else
			ok++;
		close(w[i].fd);
	}
	printf("returned %ld %ld\n", ok, bad);
	free(w);
	return bad ? 1 : 0;
}
