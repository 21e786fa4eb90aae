/* SPDX-License-Identifier: MIT */
/*
 * client_fifo_records.c - several writer processes send fixed-size records through one FIFO
 * while this process reads the stream back in odd-sized pieces and checks that no record was
 * torn (interleaved with another writer's bytes or cut short), lost, duplicated or reordered.
 *
 *   client_fifo_records [-n] [-s SIZE] [-w WPATH]... PATH WRITERS RECORDS
 *     -n       writers open with O_NONBLOCK and wait for POLLOUT between writes; a write of at
 *              most 4096 bytes must then write all or fail with EAGAIN, and a larger one
 *              goes on with its rest after a short count
 *     -s SIZE  bytes per record, at least 16 (default 4096)
 *     -w WPATH writers write through WPATH instead of PATH (the same FIFO through another
 *              mount of a cluster); given several times, writer i uses the (i mod n)th
 *
 * Each writer makes one write() per record: "W%02d R%06d " then its own filler letter up to
 * SIZE - 1 bytes, then '\n'. Without -n every write() must return SIZE, however large (a
 * blocking write returns when all of it is written). The reader opens PATH before the writers
 * start, reads until it has every byte, then expects end of file once the writers are gone.
 *
 * Prints "records N torn T disorder D short S" plus a line per problem (at most 10), and exits
 * 0 when all are 0 and N is WRITERS * RECORDS, 1 otherwise, 2 on a usage or system error.
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

#define HEADER_LEN 13 /* "W%02d R%06d " */

static size_t rec_size = 4096;
static bool nonblock;

static void make_record(char *rec, int w, int seq)
{
	char hdr[32];

	snprintf(hdr, sizeof(hdr), "W%02d R%06d ", w, seq); /* w < 100, seq < 10^6: 13 bytes */
	memcpy(rec, hdr, HEADER_LEN);
	memset(rec + HEADER_LEN, 'A' + w % 26, rec_size - HEADER_LEN - 1);
	rec[rec_size - 1] = '\n';
}

/* Write all of rec with O_NONBLOCK, waiting for POLLOUT. Returns 0, or 1 when a write of at
 * most 4096 bytes came back short (it must be all or nothing). */
static int write_nonblock(int fd, const char *rec)
{
	size_t done = 0;
	int bad = 0;

	while (done < rec_size) {
		ssize_t k = write(fd, rec + done, rec_size - done);

		if (k < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, 100); /* bounded: a missed wakeup costs time, not the test */
			continue;
		}
		if (k <= 0) {
			perror("client_fifo_records: write");
			exit(2);
		}
		if ((size_t)k < rec_size - done && rec_size - done <= 4096)
			bad = 1;
		done += (size_t)k;
	}
	return bad;
}

/* A writer process: returns its exit status (the number of bad writes, capped). */
static int writer(const char *path, int w, int records)
{
	char *rec = malloc(rec_size);
	int fd = open(path, O_WRONLY | (nonblock ? O_NONBLOCK : 0)), bad = 0;

	if (fd < 0 || !rec) {
		perror("client_fifo_records: writer open");
		return 100;
	}
	for (int seq = 0; seq < records; seq++) {
		make_record(rec, w, seq);
		if (nonblock) {
			bad += write_nonblock(fd, rec);
		} else {
			ssize_t k = write(fd, rec, rec_size);

			if (k < 0) {
				perror("client_fifo_records: write");
				return 100;
			}
			if ((size_t)k != rec_size) {
				fprintf(stderr, "writer %d: write of %zu returned %zd\n", w,
					rec_size, k);
				return 100;
			}
		}
	}
	close(fd);
	free(rec);
	return bad > 99 ? 99 : bad;
}

int main(int argc, char **argv)
{
	static const size_t piece[] = { 1000, 4096, 5000, 333, 8192, 1 };
	unsigned long records_seen = 0, torn = 0, disorder = 0, shorts = 0, reports = 0;
	int opt, writers, records, fd, *next, status;
	size_t fill = 0, ip = 0;
	unsigned long long total, got = 0;
	char *rec, *want, buf[8192];
	const char *wpath[8];
	int nwpath = 0;

	while ((opt = getopt(argc, argv, "ns:w:")) != -1) {
		switch (opt) {
		case 'n':
			nonblock = true;
			break;
		case 'w':
			if (nwpath == 8)
				goto usage;
			wpath[nwpath++] = optarg;
			break;
		case 's':
			rec_size = strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 3 || rec_size < 16)
		goto usage;
	writers = atoi(argv[optind + 1]);
	records = atoi(argv[optind + 2]);
	if (writers < 1 || writers > 99 || records < 1 || records > 999999)
		goto usage;
	total = (unsigned long long)writers * records * rec_size;
	rec = malloc(rec_size);
	want = malloc(rec_size);
	next = calloc((size_t)writers, sizeof(*next));
	if (!rec || !want || !next)
		return 2;

	/* opened before any writer: the first reads wait for them instead of ending */
	fd = open(argv[optind], O_RDONLY);
	if (fd < 0) {
		perror("client_fifo_records: open");
		return 2;
	}
	for (int w = 0; w < writers; w++) {
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (pid == 0) {
			close(fd);
			_exit(writer(nwpath ? wpath[w % nwpath] : argv[optind], w, records));
		}
	}

	while (got < total) {
		size_t want_now = piece[ip++ % (sizeof(piece) / sizeof(piece[0]))];
		ssize_t k;

		if (want_now > total - got)
			want_now = (size_t)(total - got);
		k = read(fd, buf, want_now);
		if (k <= 0) {
			fprintf(stderr,
				"client_fifo_records: read returned %zd (%s) after %llu of "
				"%llu bytes\n",
				k, k ? strerror(errno) : "end of file", got, total);
			break;
		}
		got += (unsigned long long)k;
		for (ssize_t i = 0; i < k;) {
			size_t left = (size_t)(k - i);
			size_t take = rec_size - fill < left ? rec_size - fill : left;
			int w, seq;

			memcpy(rec + fill, buf + i, take);
			fill += take;
			i += (ssize_t)take;
			if (fill < rec_size)
				continue;
			fill = 0;
			records_seen++;
			if (sscanf(rec, "W%2d R%6d ", &w, &seq) != 2 || w < 0 || w >= writers) {
				torn++;
				if (reports++ < 10)
					printf("bad header '%.13s' in record %lu\n", rec,
					       records_seen);
				continue;
			}
			make_record(want, w, seq);
			if (memcmp(rec, want, rec_size) != 0) {
				torn++;
				if (reports++ < 10)
					printf("torn record W%02d R%06d\n", w, seq);
			} else if (seq != next[w]) {
				disorder++;
				if (reports++ < 10)
					printf("writer %d: record %d, expected %d\n", w, seq,
					       next[w]);
			}
			next[w] = seq + 1;
		}
	}
	for (int w = 0; w < writers; w++) {
		if (wait(&status) < 0)
			return 2;
		if (!WIFEXITED(status) || WEXITSTATUS(status) >= 100)
			return 2;
		shorts += WEXITSTATUS(status);
	}
	/* every writer gone, every byte read: end of file, not a wait */
	if (got == total) {
		ssize_t k = read(fd, buf, 1);

		if (k != 0) {
			printf("read after the last byte returned %zd, expected end of file\n", k);
			torn++;
		}
	}
	printf("records %lu torn %lu disorder %lu short %lu\n", records_seen, torn, disorder,
	       shorts);
	close(fd);
	free(rec);
	free(want);
	free(next);
	return records_seen == (unsigned long)writers * records && !torn && !disorder && !shorts
		       ? 0
		       : 1;

usage:
	fprintf(stderr,
		"usage: client_fifo_records [-n] [-s SIZE] [-w WPATH]... PATH WRITERS RECORDS\n");
	return 2;
}
