/* SPDX-License-Identifier: MIT */
/*
 * proc.c - what the daemon learns of its callers from /proc. FUSE tells a request's thread
 * id; the process it belongs to and its name are read here, off the hot path (EDEADLK checks,
 * inspection).
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proc_identify(pid_t tid, pid_t *tgid, char *comm, size_t len)
{
	char path[64], line[256], state = '?';
	bool have_tgid = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	/* State: comes before Tgid: */
	while (!have_tgid && fgets(line, sizeof(line), f))
		if (sscanf(line, "State: %c", &state) != 1)
			have_tgid = sscanf(line, "Tgid: %d", tgid) == 1;
	fclose(f);
	if (!have_tgid || state == 'Z' || state == 'X')
		return -ESRCH; /* gone, or a zombie: it holds nothing and waits for nothing */
	if (comm && len) {
		/* comm as it is (status's Name: escapes backslashes and newlines) */
		ssize_t k;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		k = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (k > 0 && line[k - 1] == '\n')
			k--; /* the one the kernel appends */
		line[k > 0 ? k : 0] = '\0';
		snprintf(comm, len, "%s", k > 0 ? line : "?");
	}
	return 0;
}

bool proc_alive(pid_t tid)
{
	char path[64], buf[256], *paren;
	ssize_t k;
	int fd;

	/* 0: a caller outside our pid namespace, whom we cannot follow (and kill(0) would
	 * signal our own group) */
	if (tid <= 0)
		return false;
	/* kill() finds any thread by its id; EPERM still means it exists */
	if (kill(tid, 0) != 0 && errno == ESRCH)
		return false;
	/* an exited process stays findable until reaped (a zombie): it holds nothing either */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT && errno != ESRCH;
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return true;
	buf[k] = '\0';
	paren = strrchr(buf, ')'); /* "pid (comm) S ...": comm may hold anything */
	return !paren || (paren[1] != ' ' || (paren[2] != 'Z' && paren[2] != 'X'));
}

/* A signal mask line of /proc/PID/status ("SigPnd:\t0000000000010000"), or 0. */
static uint64_t mask_of(const char *line, const char *key)
{
	size_t l = strlen(key);

	return strncmp(line, key, l) == 0 ? strtoull(line + l, NULL, 16) : 0;
}

bool proc_signal_ends_wait(pid_t tid)
{
	const uint64_t ignored_by_default = 1ULL << (SIGCHLD - 1) | 1ULL << (SIGCONT - 1) |
					    1ULL << (SIGURG - 1) | 1ULL << (SIGWINCH - 1);
	uint64_t pending = 0, blocked = 0;
	char path[64], line[256];
	bool seen = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		pending |= mask_of(line, "SigPnd:") | mask_of(line, "ShdPnd:");
		blocked |= mask_of(line, "SigBlk:");
		seen |= strncmp(line, "SigBlk:", 7) == 0;
	}
	fclose(f);
	/* a fatal signal shows as SIGKILL pending in every thread of the dying process */
	return !seen || (pending & ~blocked & ~ignored_by_default) != 0;
}
