/* SPDX-License-Identifier: MIT */
/*
 * client_poll.c - wait for readiness of an IPC file with poll, select or epoll, for the
 * integration tests.
 *
 *   client_poll [-m poll|select|epoll|epollet] [-e in|out] [-t MS] [-r] PATH
 *     -m   the interface (default poll); epollet is epoll with EPOLLET
 *     -e   wait until readable (in, default) or writable (out)
 *     -t   give up after MS milliseconds (default 5000)
 *     -r   once readable, read once without blocking and report it: readable must mean
 *          that a read does not block
 *
 * Opens PATH with O_RDONLY|O_NONBLOCK, so that opening never waits. Prints "ready MS" or
 * "timeout MS" (MS: milliseconds waited), then with -r "read ok" or "read ERRNAME".
 * Exit status 0 if ready (and the read, if any, succeeded), 1 on timeout, 2 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

/* In a sanitizer build, no leak check at exit: it stops the world with ptrace, and a signal
 * arriving meanwhile (these clients are signalled on purpose) can hang it for good. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 ready, 0 timeout, -1 error (errno) */
static int wait_poll(int fd, bool want_in, int ms)
{
	struct pollfd p = { .fd = fd, .events = want_in ? POLLIN : POLLOUT };
	int rc = poll(&p, 1, ms);

	if (rc > 0 && !(p.revents & (want_in ? POLLIN : POLLOUT))) {
		errno = EPROTO; /* woken with something else (POLLERR...) */
		return -1;
	}
	return rc;
}

static int wait_select(int fd, bool want_in, int ms)
{
	fd_set set;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	FD_ZERO(&set);
	FD_SET(fd, &set);
	return select(fd + 1, want_in ? &set : NULL, want_in ? NULL : &set, NULL, &tv);
}

static int wait_epoll(int fd, bool want_in, int ms, bool edge)
{
	struct epoll_event ev = { .events = (want_in ? EPOLLIN : EPOLLOUT) | (edge ? EPOLLET : 0) };
	int ep = epoll_create1(EPOLL_CLOEXEC), rc;

	if (ep < 0)
		return -1;
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(ep);
		return -1;
	}
	rc = epoll_wait(ep, &ev, 1, ms);
	close(ep);
	return rc;
}

int main(int argc, char **argv)
{
	const char *mode = "poll";
	bool want_in = true, do_read = false;
	int ms = 5000, opt, fd, rc;
	long long start;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "m:e:t:r")) != -1) {
		switch (opt) {
		case 'm':
			mode = optarg;
			break;
		case 'e':
			want_in = strcmp(optarg, "out") != 0;
			break;
		case 't':
			ms = atoi(optarg);
			break;
		case 'r':
			do_read = true;
			break;
		default:
			fprintf(stderr, "usage: client_poll [-m poll|select|epoll|epollet] "
					"[-e in|out] [-t MS] [-r] PATH\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "client_poll: no path\n");
		return 2;
	}
	fd = open(argv[optind], O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		printf("open %s\n", strerrorname_np(errno));
		return 2;
	}
	start = now_ms();
	if (strcmp(mode, "poll") == 0)
		rc = wait_poll(fd, want_in, ms);
	else if (strcmp(mode, "select") == 0)
		rc = wait_select(fd, want_in, ms);
	else if (strcmp(mode, "epoll") == 0)
		rc = wait_epoll(fd, want_in, ms, false);
	else if (strcmp(mode, "epollet") == 0)
		rc = wait_epoll(fd, want_in, ms, true);
	else {
		fprintf(stderr, "client_poll: unknown mode '%s'\n", mode);
		return 2;
	}
	if (rc < 0) {
		printf("%s %s\n", mode, strerrorname_np(errno));
		return 2;
	}
	printf("%s %lld\n", rc ? "ready" : "timeout", now_ms() - start);
	if (!rc)
		return 1;
	if (do_read) {
		char c;

		if (read(fd, &c, 1) < 0) {
			printf("read %s\n", strerrorname_np(errno));
			return 2;
		}
		printf("read ok\n");
	}
	close(fd);
	return 0;
}
