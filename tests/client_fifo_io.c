/* SPDX-License-Identifier: MIT */
/*
 * client_fifo_io.c - byte-exact I/O on fifo/ and mq/ files for the integration tests: runs a
 * list of steps on one open file description and reports what each system call returned (the
 * count, the bytes, or the errno name), which a shell command cannot show: the size of one
 * write() or read(), a short count, EAGAIN, EINTR, a read returning 0 in the middle of a loop.
 *
 *   client_fifo_io [-n] [-w|-W] [-x] [-s] [-H SIG]... [-T MS] PATH STEP...
 *     -n       open with O_NONBLOCK
 *     -w / -W  open O_WRONLY / O_RDWR (default O_RDONLY)
 *     -H SIG   handle SIG (INT, TERM, USR1... or a number) without SA_RESTART: a blocked call
 *              then returns EINTR instead of the process dying
 *     -T MS    raise SIGALRM after MS milliseconds (handled like -H ALRM)
 *     -x       stop after the first step that fails (a read ended by `timeout` then does not
 *              go on to wait in the next one)
 *     -s       also stop before a step once a handled signal has come (one that came between
 *              two calls, spent, would not end the next one: a read would wait for good);
 *              prints "signal"
 *   steps:
 *     open | close | sleep:MS
 *     read:N          one read() of N bytes: "read K \"BYTES\"" (C escapes), or "read ERRNAME"
 *     write:TEXT      one write() of TEXT, with \n, \t, \\ and \0 unescaped: "write K"
 *     writen:N        one write() of N bytes, byte i being 'a' + i % 26, from a buffer that
 *                     starts 1 byte before a page boundary (so it spans the most pages N
 *                     bytes can: the kernel splits a write into requests by pages): "write K"
 *     writefile:PATH  one write() of the whole content of PATH: "write K"
 *     poll:in|out:MS  one poll() for POLLIN or POLLOUT: "poll REVENTS" (e.g. "poll in|rdnorm")
 *                     or "poll timeout"
 *
 * Every signal starts with its default disposition and unblocked, whatever the shell that
 * started us did. Every step runs, also after a failing one (unless -x). Exit status: 0 when
 * every step succeeded, else the errno of the last that failed (a poll timeout counts as
 * ETIMEDOUT).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clientutil.h"

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "E?";
}

/* Print len bytes as a C string literal. */
static void print_escaped(const unsigned char *p, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		switch (p[i]) {
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		case '\\':
		case '"':
			printf("\\%c", p[i]);
			break;
		default:
			if (p[i] >= 0x20 && p[i] < 0x7f)
				putchar(p[i]);
			else
				printf("\\x%02x", p[i]);
		}
	}
	putchar('"');
}

/* Undo the escapes of write:TEXT in place; returns the length. */
static size_t unescape(char *s)
{
	size_t n = 0;

	for (char *p = s; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			s[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == '0' ? '\0' : *p;
		} else {
			s[n++] = *p;
		}
	}
	return n;
}

/* One write() of buf; prints the outcome. Returns 0 or the errno. */
static int do_write(int fd, const void *buf, size_t len)
{
	ssize_t k = write(fd, buf, len);

	if (k < 0) {
		int err = errno;

		printf("write %s\n", errname(err));
		return err;
	}
	printf("write %zd\n", k);
	return 0;
}

static void *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) != 0)
		return NULL;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		got += (size_t)k;
	}
	close(fd);
	*len = got;
	return buf;
}

static int run_step(const char *path, int oflags, int *fd, char *step)
{
	if (strcmp(step, "open") == 0) {
		*fd = open(path, oflags);
		if (*fd < 0) {
			printf("open %s\n", errname(errno));
			return errno;
		}
		printf("open ok\n");
		return 0;
	}
	if (strcmp(step, "close") == 0) {
		int rc = close(*fd) < 0 ? errno : 0;

		*fd = -1;
		printf("close %s\n", rc ? errname(rc) : "ok");
		return rc;
	}
	if (strncmp(step, "sleep:", 6) == 0) {
		long ms = atol(step + 6);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return 0;
	}
	if (strncmp(step, "read:", 5) == 0) {
		size_t size = strtoul(step + 5, NULL, 10);
		unsigned char *buf = malloc(size ? size : 1);
		ssize_t k;

		if (!buf)
			return ENOMEM;
		k = read(*fd, buf, size);
		if (k < 0) {
			int err = errno;

			printf("read %s\n", errname(err));
			free(buf);
			return err;
		}
		printf("read %zd ", k);
		print_escaped(buf, (size_t)k);
		putchar('\n');
		free(buf);
		return 0;
	}
	if (strncmp(step, "write:", 6) == 0)
		return do_write(*fd, step + 6, unescape(step + 6));
	if (strncmp(step, "writen:", 7) == 0) {
		size_t len = strtoul(step + 7, NULL, 10), page = (size_t)sysconf(_SC_PAGESIZE);
		size_t map = len + 2 * page;
		char *mem =
			mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *buf = mem + page - 1;
		int rc;

		if (mem == MAP_FAILED)
			return ENOMEM;
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)('a' + i % 26);
		rc = do_write(*fd, buf, len);
		munmap(mem, map);
		return rc;
	}
	if (strncmp(step, "writefile:", 10) == 0) {
		size_t len;
		char *buf = read_file(step + 10, &len);
		int rc;

		if (!buf) {
			fprintf(stderr, "client_fifo_io: cannot read %s\n", step + 10);
			exit(100);
		}
		rc = do_write(*fd, buf, len);
		free(buf);
		return rc;
	}
	if (strncmp(step, "poll:", 5) == 0) {
		struct pollfd p = { .fd = *fd };
		char *colon = strchr(step + 5, ':');
		static const struct {
			short bit;
			const char *name;
		} bits[] = { { POLLIN, "in" },	       { POLLRDNORM, "rdnorm" }, { POLLOUT, "out" },
			     { POLLWRNORM, "wrnorm" }, { POLLERR, "err" },	 { POLLHUP, "hup" },
			     { POLLNVAL, "nval" } };
		const char *sep = "";
		int rc;

		p.events = strncmp(step + 5, "out", 3) == 0 ? POLLOUT : POLLIN;
		rc = poll(&p, 1, colon ? atoi(colon + 1) : -1);
		if (rc < 0) {
			int err = errno;

			printf("poll %s\n", errname(err));
			return err;
		}
		if (rc == 0) {
			printf("poll timeout\n");
			return ETIMEDOUT;
		}
		printf("poll ");
		for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
			if (p.revents & bits[i].bit) {
				printf("%s%s", sep, bits[i].name);
				sep = "|";
			}
		}
		putchar('\n');
		return 0;
	}
	fprintf(stderr, "client_fifo_io: unknown step '%s'\n", step);
	exit(100);
}

int main(int argc, char **argv)
{
	int oflags = O_RDONLY, fd = -1, opt, last = 0;
	bool stop = false, stop_signalled = false;
	long alarm_ms = -1;

	default_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "+nwWxsH:T:")) != -1) {
		switch (opt) {
		case 'n':
			oflags |= O_NONBLOCK;
			break;
		case 'w':
			oflags = (oflags & ~O_ACCMODE) | O_WRONLY;
			break;
		case 'W':
			oflags = (oflags & ~O_ACCMODE) | O_RDWR;
			break;
		case 'x':
			stop = true;
			break;
		case 's':
			stop_signalled = true;
			break;
		case 'H': {
			int sig = signal_number(optarg);

			if (sig < 0) {
				fprintf(stderr, "client_fifo_io: bad signal '%s'\n", optarg);
				return 100;
			}
			handle(sig);
			break;
		}
		case 'T':
			alarm_ms = atol(optarg);
			handle(SIGALRM);
			break;
		default:
			fprintf(stderr,
				"usage: client_fifo_io [-n] [-w|-W] [-x] [-s] [-H SIG]... [-T MS] "
				"PATH STEP...\n");
			return 100;
		}
	}
	if (optind + 1 >= argc) {
		fprintf(stderr, "client_fifo_io: a path and at least one step are needed\n");
		return 100;
	}
	if (alarm_ms >= 0) {
		struct itimerval it = { { 0, 0 }, { alarm_ms / 1000, (alarm_ms % 1000) * 1000 } };

		if (alarm_ms == 0)
			it.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &it, NULL);
	}
	for (int i = optind + 1; i < argc; i++) {
		int rc;

		if (stop_signalled && signalled) {
			printf("signal\n");
			return EINTR;
		}
		rc = run_step(argv[optind], oflags, &fd, argv[i]);
		if (rc) {
			last = rc;
			if (stop)
				break;
		}
	}
	return last;
}
