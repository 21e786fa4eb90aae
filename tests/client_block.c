/* SPDX-License-Identifier: MIT */
/*
 * client_block.c - a tiny client for the integration tests: opens a path and runs a list of
 * steps on it, reporting the exact outcome (errno name) of each system call, which a shell
 * command cannot do once a signal is involved.
 *
 *   client_block [-n] [-w|-W] [-H SIG]... [-T MS] PATH STEP...
 *     -n       open with O_NONBLOCK
 *     -w / -W  open O_WRONLY / O_RDWR (default O_RDONLY)
 *     -H SIG   handle SIG (by number or name: INT, TERM, USR1...) without SA_RESTART: a
 *              blocked call then returns EINTR instead of the process dying
 *     -T MS    raise SIGALRM after MS milliseconds (handled like -H ALRM)
 *   steps: open | read | write:TEXT | sleep:MS | close
 *
 * Every signal starts with its default disposition and unblocked, whatever the shell that
 * started us did (a background job of a non-interactive bash ignores SIGINT and SIGQUIT).
 * Each step prints "STEP ok" or "STEP ERRNAME" on stdout; the first failing step ends the
 * program with the errno as exit status. Exit status 0: every step succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clientutil.h"

/* In a sanitizer build, no leak check at exit: it stops the world with ptrace, and a signal
 * arriving meanwhile (these clients are signalled on purpose) can hang it for good. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static int report(const char *step, int rc)
{
	if (rc == 0)
		printf("%s ok\n", step);
	else
		printf("%s %s\n", step, strerrorname_np(rc) ? strerrorname_np(rc) : "E?");
	return rc;
}

static int run_step(const char *path, int oflags, int *fd, const char *step)
{
	char buf[4096];

	if (strcmp(step, "open") == 0) {
		*fd = open(path, oflags);
		return *fd < 0 ? errno : 0;
	}
	if (strcmp(step, "close") == 0) {
		int rc = close(*fd) < 0 ? errno : 0;

		*fd = -1;
		return rc;
	}
	if (strcmp(step, "read") == 0) {
		ssize_t n = read(*fd, buf, sizeof(buf));

		return n < 0 ? errno : 0;
	}
	if (strncmp(step, "write:", 6) == 0) {
		size_t len = strlen(step + 6);
		ssize_t n = write(*fd, step + 6, len);

		if (n < 0)
			return errno;
		return (size_t)n == len ? 0 : EIO;
	}
	if (strncmp(step, "sleep:", 6) == 0) {
		long ms = atol(step + 6);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return 0;
	}
	fprintf(stderr, "client_block: unknown step '%s'\n", step);
	exit(100);
}

int main(int argc, char **argv)
{
	int oflags = O_RDONLY, fd = -1, opt;
	long alarm_ms = -1;

	default_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "+nwWH:T:")) != -1) {
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
		case 'H': {
			int sig = signal_number(optarg);

			if (sig < 0) {
				fprintf(stderr, "client_block: bad signal '%s'\n", optarg);
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
			fprintf(stderr, "usage: client_block [-n] [-w|-W] [-H SIG]... [-T MS] PATH "
					"STEP...\n");
			return 100;
		}
	}
	if (optind + 1 >= argc) {
		fprintf(stderr, "client_block: a path and at least one step are needed\n");
		return 100;
	}
	if (alarm_ms >= 0) {
		struct itimerval it = { { 0, 0 }, { alarm_ms / 1000, (alarm_ms % 1000) * 1000 } };

		if (alarm_ms == 0)
			it.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &it, NULL);
	}
	for (int i = optind + 1; i < argc; i++) {
		int rc = report(argv[i], run_step(argv[optind], oflags, &fd, argv[i]));

		if (rc)
			return rc;
	}
	return 0;
}
