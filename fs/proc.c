/* SPDX-License-Identifier: MIT */
/*
 * proc.c - what the daemon learns of its callers from /proc. FUSE tells a request's thread
 * id; the process it belongs to and its name are read here, off the hot path (EDEADLK checks,
 * inspection).
 */
#include "ipcfs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int proc_identify(pid_t tid, pid_t *tgid, char *comm, size_t len)
{
	char path[64], line[256];
	bool have_tgid = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (!have_tgid && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Name:\t", 6) == 0 && comm) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(comm, len, "%s", line + 6);
		} else if (sscanf(line, "Tgid: %d", tgid) == 1) {
			have_tgid = true; /* Name comes before Tgid */
		}
	}
	fclose(f);
	return have_tgid ? 0 : -ESRCH;
}

bool proc_alive(pid_t tid)
{
	/* kill() finds any thread by its id; EPERM still means it exists */
	return kill(tid, 0) == 0 || errno != ESRCH;
}
