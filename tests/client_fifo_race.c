/* SPDX-License-Identifier: MIT */
/*
 * client_fifo_race.c - race the interrupt of a blocked read with the write that would satisfy
 * it, on a FIFO or a message queue, many times: whatever wins, nothing may be lost or taken
 * twice. A read interrupted before it took bytes must leave them for the next reader.
 *
 *   client_fifo_race PATH ROUNDS [SPREAD_US]
 *
 * Each round: a child opens PATH (O_RDONLY) and blocks in one read() of 100 bytes, with
 * SIGUSR1 handled (no SA_RESTART); once the child sleeps in the daemon (its wchan is
 * request_wait_answer), this process writes a distinct message "r<N>\n" to PATH and sends
 * the child SIGUSR1, in either order, SPREAD_US (default 300) microseconds apart at most, at
 * random. The child reports what its read returned: bytes, or EINTR. (A child whose read
 * finds the bytes an interrupted one left returns at once: no race that round, and it does
 * not count.) This process keeps PATH
 * open for writing throughout, so a FIFO reader waits rather than seeing end of file. At the
 * end it drains PATH without blocking. One reader at a time: the bytes received, in order,
 * then those drained, must be exactly the bytes sent (a queue's messages come out whole, one
 * per read, then a read of 0 that the drain skips).
 *
 * Prints "rounds N data D eintr E" (the rounds raced, and how their reads ended) and, on a
 * mismatch, what differs; exits 0 when the bytes
 * match, 1 when they do not, 2 on a usage or system error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_signal(int sig)
{
	(void)sig; /* only there to make the blocked read return EINTR */
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void spin_us(long us)
{
	long long end = now_us() + us;

	while (now_us() < end)
		;
}

/* Is pid asleep in a FUSE request? */
static int in_request(pid_t pid)
{
	char path[64], buf[64];
	ssize_t k;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return 0;
	buf[k] = '\0';
	return strcmp(buf, "request_wait_answer") == 0;
}

/* The child: block in one read and report "D<bytes>" or "E<errno name>" on out. */
static int reader(const char *path, int ready, int out)
{
	struct sigaction sa;
	char buf[101];
	ssize_t k;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 2;
	if (write(ready, "r", 1) != 1)
		return 2;
	k = read(fd, buf + 1, 100);
	if (k < 0) {
		buf[0] = 'E';
		k = snprintf(buf + 1, 100, "%s", strerrorname_np(errno));
	} else {
		buf[0] = 'D';
	}
	if (write(out, buf, (size_t)k + 1) != k + 1)
		return 2;
	close(fd);
	return 0;
}

/* Append n bytes to the growing buffer *b of length *len. */
static void append(char **b, size_t *len, const char *p, size_t n)
{
	*b = realloc(*b, *len + n + 1);
	if (!*b)
		exit(2);
	memcpy(*b + *len, p, n);
	*len += n;
	(*b)[*len] = '\0';
}

int main(int argc, char **argv)
{
	char *sent = NULL, *got = NULL, buf[4096];
	size_t sent_len = 0, got_len = 0;
	int rounds, spread = 300, wfd, dfd, data = 0, eintr = 0, immediate = 0, status;

	if (argc < 3 || argc > 4 || (rounds = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: client_fifo_race PATH ROUNDS [SPREAD_US]\n");
		return 2;
	}
	if (argc == 4)
		spread = atoi(argv[3]);
	srand((unsigned)(now_us() ^ getpid()));
	wfd = open(argv[1], O_WRONLY);
	if (wfd < 0) {
		perror("client_fifo_race: open");
		return 2;
	}
	for (int i = 0; i < rounds; i++) {
		int ready[2], rep[2];
		char msg[32];
		long delay = spread ? rand() % (2 * spread + 1) - spread : 0;
		long long deadline;
		pid_t pid;
		ssize_t k;
		int n, parked;

		if (pipe(ready) != 0 || pipe(rep) != 0)
			return 2;
		pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			close(wfd);
			close(ready[0]);
			close(rep[0]);
			_exit(reader(argv[1], ready[1], rep[1]));
		}
		close(ready[1]);
		close(rep[1]);
		if (read(ready[0], buf, 1) != 1)
			return 2;
		/* wait until the read sleeps in the daemon; it returns at once instead when an
		 * earlier round's interrupted reader left its bytes (they are this one's then) */
		deadline = now_us() + 2000000;
		while (!(parked = in_request(pid))) {
			struct pollfd p = { .fd = rep[0], .events = POLLIN };

			if (poll(&p, 1, 0) > 0)
				break;
			if (now_us() > deadline) {
				fprintf(stderr, "client_fifo_race: the reader never blocked\n");
				return 2;
			}
			usleep(50);
		}
		if (parked) {
			/* it is parked: race its interrupt with a write */
			n = snprintf(msg, sizeof(msg), "r%d\n", i);
			if (delay < 0) {
				kill(pid, SIGUSR1);
				spin_us(-delay);
			}
			if (write(wfd, msg, (size_t)n) != n) {
				perror("client_fifo_race: write");
				return 2;
			}
			append(&sent, &sent_len, msg, (size_t)n);
			if (delay >= 0) {
				spin_us(delay);
				/* if the read returned already, only the handler runs */
				kill(pid, SIGUSR1);
			}
		} else {
			immediate++;
		}
		k = read(rep[0], buf, sizeof(buf));
		if (k < 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "client_fifo_race: the reader failed\n");
			return 2;
		}
		if (buf[0] == 'D') {
			data++;
			append(&got, &got_len, buf + 1, (size_t)k - 1);
		} else if (k == 6 && memcmp(buf, "EEINTR", 6) == 0) {
			eintr++;
		} else {
			fprintf(stderr, "client_fifo_race: the read failed with %.*s\n", (int)k - 1,
				buf + 1);
			return 2;
		}
		close(ready[0]);
		close(rep[0]);
	}

	/* what nobody took is still there */
	dfd = open(argv[1], O_RDONLY | O_NONBLOCK);
	if (dfd < 0)
		return 2;
	for (;;) {
		ssize_t k = read(dfd, buf, sizeof(buf));

		if (k < 0 && errno == EAGAIN)
			break;
		if (k < 0)
			return 2;
		append(&got, &got_len, buf, (size_t)k); /* 0: a message's end */
	}
	close(dfd);
	close(wfd);

	printf("rounds %d data %d eintr %d\n", rounds - immediate, data - immediate, eintr);
	if (got_len != sent_len || (got_len && memcmp(got, sent, got_len) != 0)) {
		size_t i = 0;

		while (i < got_len && i < sent_len && got[i] == sent[i])
			i++;
		printf("received %zu bytes for %zu sent; they differ from byte %zu: got \"%.20s\", "
		       "sent \"%.20s\"\n",
		       got_len, sent_len, i, got ? got + i : "", sent + i);
		return 1;
	}
	free(sent);
	free(got);
	return 0;
}
