/* SPDX-License-Identifier: MIT */
/*
 * client_mq_stress.c - producer and consumer processes moving distinct messages through one
 * queue: the multiset received must equal the multiset sent.
 *
 *   client_mq_stress [-b BUF] QUEUE PRODUCERS CONSUMERS TOTAL
 *     -b BUF   consumers read with BUF-byte read() calls (default 64), so that most messages
 *              take several reads, then one read returning 0, as a C program reads a queue
 *
 * Producer p sends TOTAL / PRODUCERS messages (the first ones one more for the remainder),
 * one write() each: "P<p> S<seq> " then a filler whose length depends on (p, seq). Even
 * producers write to QUEUE (priority 0); odd ones to the alias QUEUE@<p * 7 % 32>, so the
 * queue holds several priorities at once. When every producer is done, CONSUMERS messages
 * "END" are sent at priority 0: behind every data message, so a consumer that receives one has
 * nothing more to wait for, and each consumer stops at its first.
 * Each consumer opens QUEUE itself and passes every message it reassembles to this process
 * through a pipe. Checked: each message arrives exactly once and intact, and each consumer
 * receives a producer's messages in the order they were sent (one priority per producer:
 * FIFO within a priority).
 *
 * Prints "sent N received R duplicates D lost L malformed M disorder O" and exits 0 when
 * R == N and D, L, M, O are 0; 1 otherwise; 2 on a usage or system error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROCS 16
#define MAX_MSG 256

static size_t filler_len(int p, int seq)
{
	return (size_t)((seq * 37 + p * 11) % 120);
}

static int msg_format(char *buf, int p, int seq)
{
	int n = snprintf(buf, MAX_MSG, "P%d S%d ", p, seq);
	size_t f = filler_len(p, seq);

	memset(buf + n, 'a' + (seq + p) % 26, f);
	return n + (int)f;
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t k = write(fd, buf, len);

	if (k != (ssize_t)len) {
		fprintf(stderr, "client_mq_stress: write of %zu returned %zd (%s)\n", len, k,
			k < 0 ? strerror(errno) : "short");
		return -1;
	}
	return 0;
}

static int producer(const char *queue, int p, int count)
{
	char path[4096], buf[MAX_MSG];
	int fd;

	if (p % 2)
		snprintf(path, sizeof(path), "%s@%d", queue, p * 7 % 32);
	else
		snprintf(path, sizeof(path), "%s", queue);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		perror("client_mq_stress: producer open");
		return 2;
	}
	for (int seq = 0; seq < count; seq++)
		if (send_all(fd, buf, (size_t)msg_format(buf, p, seq)) != 0)
			return 2;
	close(fd);
	return 0;
}

/* Runs the producers, then sends the end markers. */
static int producers(const char *queue, int nprod, int ncons, int total)
{
	int status, rc = 0, fd;

	for (int p = 0; p < nprod; p++) {
		int count = total / nprod + (p < total % nprod);
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (pid == 0)
			_exit(producer(queue, p, count));
	}
	for (int p = 0; p < nprod; p++) {
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			rc = 2;
	}
	fd = open(queue, O_WRONLY);
	for (int c = 0; c < ncons; c++)
		if (fd < 0 || send_all(fd, "END", 3) != 0)
			return 2;
	close(fd);
	return rc;
}

/* Reads messages, each in bufsize pieces up to a read returning 0, and writes each as a line
 * to out, up to the first "END". */
static int consumer(const char *queue, int out, size_t bufsize)
{
	char msg[MAX_MSG + 1], *buf = malloc(bufsize);
	FILE *f = fdopen(out, "w");
	int fd = open(queue, O_RDONLY);

	if (fd < 0 || !f || !buf) {
		perror("client_mq_stress: consumer open");
		return 2;
	}
	for (;;) {
		size_t len = 0;
		ssize_t k;

		while ((k = read(fd, buf, bufsize)) > 0) {
			if (len + (size_t)k > MAX_MSG) {
				fprintf(stderr, "client_mq_stress: message over %d bytes\n",
					MAX_MSG);
				return 2;
			}
			memcpy(msg + len, buf, (size_t)k);
			len += (size_t)k;
		}
		if (k < 0) {
			perror("client_mq_stress: read");
			return 2;
		}
		if (len == 0) {
			fprintf(stderr, "client_mq_stress: a message of 0 bytes\n");
			return 2;
		}
		if (len == 3 && memcmp(msg, "END", 3) == 0)
			break;
		msg[len] = '\n';
		fwrite(msg, 1, len + 1, f);
	}
	close(fd);
	free(buf);
	return fclose(f) == 0 ? 0 : 2;
}

/* What the checks found, over all consumers. */
struct tally {
	unsigned long received, dups, malformed, disorder;
};

/* Check one message line (without its newline) received by consumer c. */
static void check(struct tally *t, const char *line, int nprod, int total, unsigned char **seen,
		  int *last)
{
	char want[MAX_MSG];
	int p, seq, n;

	t->received++;
	if (sscanf(line, "P%d S%d %n", &p, &seq, &n) != 2 || p < 0 || p >= nprod || seq < 0 ||
	    seq > total / nprod) {
		t->malformed++;
		return;
	}
	n = msg_format(want, p, seq);
	if ((size_t)n != strlen(line) || memcmp(want, line, (size_t)n) != 0) {
		t->malformed++;
		return;
	}
	if (seen[p][seq]++)
		t->dups++;
	if (seq <= last[p])
		t->disorder++;
	last[p] = seq;
}

int main(int argc, char **argv)
{
	struct tally t = { 0 };
	unsigned long lost = 0;
	int nprod, ncons, total, opt, status, rc = 0, open_pipes;
	bool ok;
	size_t bufsize = 64;
	struct pollfd pfd[MAX_PROCS];
	char pending[MAX_PROCS][MAX_MSG + 2]; /* a consumer's partial line */
	size_t plen[MAX_PROCS] = { 0 };
	int *last[MAX_PROCS];
	unsigned char *seen[MAX_PROCS];
	pid_t manager;

	while ((opt = getopt(argc, argv, "b:")) != -1) {
		if (opt != 'b')
			goto usage;
		bufsize = strtoul(optarg, NULL, 10);
	}
	if (argc - optind != 4 || bufsize < 1)
		goto usage;
	nprod = atoi(argv[optind + 1]);
	ncons = atoi(argv[optind + 2]);
	total = atoi(argv[optind + 3]);
	if (nprod < 1 || nprod > MAX_PROCS || ncons < 1 || ncons > MAX_PROCS || total < 1)
		goto usage;

	for (int c = 0; c < ncons; c++) {
		int fds[2];
		pid_t pid;

		if (pipe(fds) != 0 || (pid = fork()) < 0)
			return 2;
		if (pid == 0) {
			close(fds[0]);
			for (int i = 0; i < c; i++)
				close(pfd[i].fd);
			_exit(consumer(argv[optind], fds[1], bufsize));
		}
		close(fds[1]);
		pfd[c] = (struct pollfd){ .fd = fds[0], .events = POLLIN };
		last[c] = malloc(sizeof(int) * (size_t)nprod);
		if (!last[c])
			return 2;
		for (int p = 0; p < nprod; p++)
			last[c][p] = -1;
	}
	for (int p = 0; p < nprod; p++) {
		seen[p] = calloc((size_t)(total / nprod + 1), 1);
		if (!seen[p])
			return 2;
	}
	manager = fork();
	if (manager < 0)
		return 2;
	if (manager == 0) {
		for (int c = 0; c < ncons; c++)
			close(pfd[c].fd);
		_exit(producers(argv[optind], nprod, ncons, total));
	}

	/* read every consumer's pipe while they run: a full pipe would stop it */
	open_pipes = ncons;
	while (open_pipes > 0) {
		if (poll(pfd, (nfds_t)ncons, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 2;
		}
		for (int c = 0; c < ncons; c++) {
			char buf[4096];
			ssize_t k;

			if (pfd[c].fd < 0 || !pfd[c].revents)
				continue;
			k = read(pfd[c].fd, buf, sizeof(buf));
			if (k <= 0) {
				close(pfd[c].fd);
				pfd[c].fd = -1;
				open_pipes--;
				continue;
			}
			for (ssize_t i = 0; i < k; i++) {
				if (buf[i] != '\n') {
					if (plen[c] <= MAX_MSG)
						pending[c][plen[c]++] = buf[i];
					continue;
				}
				pending[c][plen[c]] = '\0';
				check(&t, pending[c], nprod, total, seen, last[c]);
				plen[c] = 0;
			}
		}
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			rc = 2;
	for (int p = 0; p < nprod; p++) {
		int count = total / nprod + (p < total % nprod);

		for (int seq = 0; seq < count; seq++)
			lost += !seen[p][seq];
	}
	printf("sent %d received %lu duplicates %lu lost %lu malformed %lu disorder %lu\n", total,
	       t.received, t.dups, lost, t.malformed, t.disorder);
	for (int c = 0; c < ncons; c++)
		free(last[c]);
	for (int p = 0; p < nprod; p++)
		free(seen[p]);
	if (rc)
		return rc;
	ok = t.received == (unsigned long)total && !t.dups && !lost && !t.malformed && !t.disorder;
	return ok ? 0 : 1;

usage:
	fprintf(stderr, "usage: client_mq_stress [-b BUF] QUEUE PRODUCERS CONSUMERS TOTAL\n");
	return 2;
}
