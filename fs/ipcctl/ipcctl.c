/* SPDX-License-Identifier: MIT */
/*
 * ipcctl.c - the administration command of ipcfs, in the spirit of ipcs, ipcrm, ipcmk and
 * lslocks, working on a mounted tree.
 *
 * Implementation notes:
 * - Everything goes through the mount, as a shell user's commands would: objects are made,
 *   removed and operated on with open/read/write/unlink/setxattr, and what ipcctl shows comes
 *   from one read of /.ipcfs/status (one snapshot of every object, see snapshot.h), parsed
 *   back. The deadlock matrices and the graph are computed here from that snapshot by the
 *   same code the daemon uses for /.ipcfs/deadlock (deadlock.h), so rows can also be grouped
 *   by process group.
 * - Timeouts: the blocking call is interrupted by SIGALRM (no SA_RESTART). The daemon
 *   guarantees an interrupted P or receive takes nothing, so a timed-out command changed
 *   nothing.
 * - top reads a snapshot every interval and shows each object's operations per second: the
 *   difference of its ops counter between two snapshots, over the time between them. On a
 *   terminal it redraws one screen (no curses: plain escape sequences every terminal and ssh
 *   pass on) with the terminal in non-canonical mode, so that q needs no Enter; signals keep
 *   their keys (Ctrl-C ends it), and the terminal is restored however it ends.
 *
 * Exit status: 0 success, 1 failure, 2 usage, 3 deadlock found, 124 timed out (as timeout(1)).
 */
#include "inspect/deadlock.h"
#include "defaults.h"
#include "inspect/snapshot.h"

#include <ipc/common.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef IPCFS_VERSION
#define IPCFS_VERSION "unknown"
#endif

#define EXIT_USAGE 2
#define EXIT_DEADLOCK 3
#define EXIT_TIMEOUT 124

static const char *const type_names[] = { "sem",   "mutex",   "fifo",	"mq", "shm",
					  "event", "barrier", "rwlock", NULL };

static const char usage_text[] =
	"usage: ipcctl [-m DIR] COMMAND [ARGS]\n"
	"\n"
	"Inspect and operate the IPC objects of an ipcfs mount (default " IPCFS_DEFAULT_MOUNTPOINT
	",\n"
	"or the ipcfs mount the current directory is in). PATH is relative to the mount\n"
	"(sem/jobs) or a path into it.\n"
	"\n"
	"  ls [--json] [PATH]            objects and their state, one line each\n"
	"  stat [--json] PATH            one object in full, with holders and waiters\n"
	"  create TYPE PATH [--mode M] [--value N] [--capacity N] [--max-msg N]\n"
	"         [--max-size N] [--size N]\n"
	"                                make an object (TYPE: sem mutex fifo mq shm)\n"
	"  rm PATH...                    remove objects (their waiters get EIDRM)\n"
	"  wait PATH [N] [--timeout S]   P: take N units (default 1) of a semaphore\n"
	"  post PATH [N]                 V: give N units (default 1) to a semaphore\n"
	"  send PATH [--prio P] [-n] [--timeout S] [--] [MSG...]\n"
	"                                send MSG and a newline (-n: none) as one message;\n"
	"                                no MSG: standard input, as it is. Options come\n"
	"                                before MSG; after PATH, an unknown -word or what\n"
	"                                follows -- is message text\n"
	"  recv PATH [--timeout S]       receive one message (a FIFO: what is buffered)\n"
	"  deadlock [--pgrp]             matrices E, A, C, R and the verdict of detection\n"
	"  graph [--pgrp] [--dot]        the resource graph, as text or Graphviz DOT\n"
	"  top [-d S] [-n N]             a live view: every object with its holders, waiters,\n"
	"                                operations per second and state, redrawn every S\n"
	"                                seconds (default 1); q or Ctrl-C quits; -n: N screens\n"
	"\n"
	"--pgrp: one row per process group (a shell job) instead of one per process.\n"
	"Sizes take K, M, G. S may be fractional; 0 means do not wait.\n"
	"Exit status: 0 ok, 1 failure, 2 usage, 3 deadlock found, 124 timed out.\n";

/* ---- messages ---- */

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ipcctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see ipcctl --help)\n", stderr);
	return EXIT_USAGE;
}

/* "ipcctl: what: reason" on stderr; returns 1. */
static int fail(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ipcctl: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

/* The reason for errno err, in the words of an IPC object where strerror's are misleading. */
static const char *reason(int err)
{
	switch (err) {
	case EAGAIN:
		return "would block";
	case EIDRM:
		return "removed while waiting (EIDRM)";
	case EDEADLK:
		return "the caller already holds it (EDEADLK)";
	case EMSGSIZE:
		return "message longer than the queue's limit (EMSGSIZE)";
	default:
		return strerror(err);
	}
}

/* ---- the mount and paths in it ---- */

struct ctl {
	char mount[PATH_MAX]; /* the mount point, absolute, without a trailing '/' */
	char cwd[PATH_MAX];   /* the current directory, or "" */
};

/* Is path equal to dir or below it? */
static bool is_under(const char *path, const char *dir)
{
	size_t l = strlen(dir);

	return strncmp(path, dir, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

/* The ipcfs mount containing dir, from /proc/self/mountinfo, into out; false if none. */
static bool mount_containing(const char *dir, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0, best = 0;

	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		/* fields: id parent dev root mountpoint ... - fstype source options */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "fuse.ipcfs") != 0)
			continue;
		if (strchr(mnt, '\\'))
			continue; /* escaped names: not worth decoding for a guess */
		if (is_under(dir, mnt) && strlen(mnt) >= best) {
			best = strlen(mnt);
			snprintf(out, len, "%s", mnt);
		}
	}
	free(line);
	fclose(f);
	return best > 0;
}

static int ctl_init(struct ctl *c, const char *mount_opt)
{
	char status[PATH_MAX + 32];

	if (!getcwd(c->cwd, sizeof(c->cwd)))
		c->cwd[0] = '\0';
	if (mount_opt) {
		if (!realpath(mount_opt, c->mount))
			return fail(mount_opt, "%s", strerror(errno));
	} else if (!c->cwd[0] || !mount_containing(c->cwd, c->mount, sizeof(c->mount))) {
		snprintf(c->mount, sizeof(c->mount), "%s", IPCFS_DEFAULT_MOUNTPOINT);
	}
	if (strcmp(c->mount, "/") == 0)
		c->mount[0] = '\0';
	snprintf(status, sizeof(status), "%s/.ipcfs/status", c->mount);
	if (access(status, R_OK) != 0)
		return fail(c->mount[0] ? c->mount : "/",
			    "not an ipcfs mount (no .ipcfs/status); mount one or use -m DIR");
	return 0;
}

/* Drop "." and ".." components of an absolute path, in place. */
static void normalize(char *path)
{
	char *out = path, *p = path;

	while (*p) {
		char *end;
		size_t l;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchr(p, '/');
		l = end ? (size_t)(end - p) : strlen(p);
		if (l == 1 && p[0] == '.') {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (out > path && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, p, l);
			out += l;
		}
		p += l;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/*
 * The path of arg inside the mount ("/sem/jobs") into rel: a path into the mount (absolute,
 * or relative to a current directory inside it), else taken as relative to the mount.
 */
static int object_path(const struct ctl *c, const char *arg, char *rel, size_t len)
{
	char abs[2 * PATH_MAX + 2];

	if (arg[0] == '/' && is_under(arg, c->mount[0] ? c->mount : "/"))
		snprintf(abs, sizeof(abs), "%s", arg);
	else if (arg[0] == '/')
		snprintf(abs, sizeof(abs), "%s%s", c->mount, arg);
	else if (c->cwd[0] && c->mount[0] && is_under(c->cwd, c->mount))
		snprintf(abs, sizeof(abs), "%s/%s", c->cwd, arg);
	else
		snprintf(abs, sizeof(abs), "%s/%s", c->mount, arg);
	normalize(abs);
	if (!is_under(abs, c->mount[0] ? c->mount : "/"))
		return fail(arg, "not inside the mount %s", c->mount);
	snprintf(rel, len, "%s", abs + strlen(c->mount));
	if (!rel[0])
		snprintf(rel, len, "/");
	return 0;
}

/* The object type of a path inside the mount: its first component, or NULL. */
static const char *type_of(const char *rel)
{
	for (const char *const *t = type_names; *t; t++) {
		size_t l = strlen(*t);

		if (rel[0] == '/' && strncmp(rel + 1, *t, l) == 0 && rel[l + 1] == '/' &&
		    rel[l + 2])
			return *t;
	}
	return NULL;
}

static void full_path(const struct ctl *c, const char *rel, char *out, size_t len)
{
	snprintf(out, len, "%s%s", c->mount, rel);
}

/* ---- numbers ---- */

/* A size: decimal with an optional K, M or G (powers of 1024). */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		end++;
		break;
	case 'M':
	case 'm':
		shift = 20;
		end++;
		break;
	case 'G':
	case 'g':
		shift = 30;
		end++;
		break;
	default:
		break;
	}
	if (*end || v > (ULLONG_MAX >> shift))
		return false; /* a suffix that would overflow, too */
	*out = v << shift;
	return true;
}

static bool parse_count(const char *s, uint32_t *out)
{
	uint64_t v;

	if (!parse_size(s, &v) || v < 1 || v > INT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* ---- timeouts ---- */

static void on_alarm(int sig)
{
	(void)sig; /* only there to interrupt the blocked call */
}

/* Arm a timer for seconds (> 0); the blocked call then fails with EINTR. The timer repeats
 * every 10 ms until disarmed: a first SIGALRM that comes before the call has started (a tiny
 * timeout) would otherwise be spent, and the call wait for ever. */
static void arm_timeout(double seconds)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 10000 }, { 0, 0 } };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: the call must end */
	sigaction(SIGALRM, &sa, NULL);
	it.it_value.tv_sec = (time_t)seconds;
	it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
	if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm_timeout(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static bool parse_timeout(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && *out >= 0 && *out < 1e9;
}

/* Open for an operation that may wait: O_NONBLOCK when timeout is 0, a timer when > 0. */
static int open_waiting(const char *path, int flags, double timeout)
{
	if (timeout == 0)
		flags |= O_NONBLOCK;
	else if (timeout > 0)
		arm_timeout(timeout);
	return open(path, flags | O_CLOEXEC);
}

/* The exit status and message of a failed waiting call with errno err. */
static int wait_failed(const char *what, int err, double timeout)
{
	if ((err == EINTR || err == EAGAIN) && timeout >= 0) {
		fprintf(stderr, "ipcctl: %s: timed out after %g s\n", what, timeout);
		return EXIT_TIMEOUT;
	}
	return fail(what, "%s", reason(err));
}

/* ---- the snapshot ---- */

static int load_snapshot(const struct ctl *c, struct snapshot *s)
{
	char path[PATH_MAX + 32];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/.ipcfs/status", c->mount);
	f = fopen(path, "re");
	if (!f)
		return fail(path, "%s", strerror(errno));
	rc = snapshot_parse(f, s);
	fclose(f);
	if (rc)
		return fail(path, "%s", rc == -EPROTO ? "not an ipcfs status" : strerror(-rc));
	return 0;
}

static double age(const struct snapshot *s, struct timespec t)
{
	return (double)(s->time.tv_sec - t.tv_sec) + (double)(s->time.tv_nsec - t.tv_nsec) / 1e9;
}

static void owner_name(uint32_t uid, char *out, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(out, len, "%s", pw->pw_name);
	else
		snprintf(out, len, "%u", uid);
}

/* The state of o in a few words. */
static void state_words(const struct snapshot *s, const struct snap_obj *o, char *out, size_t len)
{
#define F(key) ((unsigned long long)snap_field_get(o, key, 0))
	if (strcmp(o->type, "sem") == 0) {
		snprintf(out, len, "value %llu", F("value"));
	} else if (strcmp(o->type, "mutex") == 0) {
		/* a command name and a host are anybody's text: escaped, as paths are, so that no
		 * control byte reaches the terminal */
		char host[4 * SNAP_HOST_MAX], comm[4 * SNAP_COMM_MAX];

		snap_escape_str(host, sizeof(host), o->nholds ? o->holds[0].host : "");
		snap_escape_str(comm, sizeof(comm), o->nholds ? o->holds[0].comm : "");
		if (o->nholds)
			snprintf(out, len, "held by %.64s%s%d (%.64s) %.1fs", host,
				 host[0] ? ":" : "", (int)o->holds[0].pid, comm,
				 age(s, o->holds[0].since));
		else
			snprintf(out, len, "free");
	} else if (strcmp(o->type, "fifo") == 0) {
		snprintf(out, len, "%llu/%llu bytes, %llu writers", F("bytes"), F("capacity"),
			 F("writers"));
	} else if (strcmp(o->type, "mq") == 0) {
		snprintf(out, len, "%llu/%llu msgs, %llu bytes, msgsize %llu", F("messages"),
			 F("max_msgs"), F("bytes"), F("msgsize"));
	} else if (strcmp(o->type, "shm") == 0) {
		snprintf(out, len, "%llu bytes, %llu in memory", F("size"), F("memory"));
	} else if (strcmp(o->type, "event") == 0) {
		snprintf(out, len, "%s%s", F("value") ? "set" : "clear",
			 F("auto_reset") ? ", auto reset" : "");
	} else if (strcmp(o->type, "rwlock") == 0) {
		if (F("writer"))
			snprintf(out, len, "held for writing");
		else if (F("readers"))
			snprintf(out, len, "held by %llu readers", F("readers"));
		else
			snprintf(out, len, "free");
	} else if (strcmp(o->type, "barrier") == 0) {
		snprintf(out, len, "%llu/%llu arrived, %llu rounds", F("arrived"), F("parties"),
			 F("rounds"));
	} else {
		snprintf(out, len, "-");
	}
#undef F
}

static bool selected(const struct snap_obj *o, const char *rel)
{
	return !rel || strcmp(rel, "/") == 0 || is_under(o->path, rel);
}

/* ---- commands ---- */

static int cmd_ls(const struct ctl *c, int argc, char **argv)
{
	struct snapshot s = { 0 };
	char rel[PATH_MAX], full[2 * PATH_MAX];
	const char *arg = NULL;
	bool json = false, first = true;
	struct stat st;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("ls: unknown option %s", argv[i]);
		else if (arg)
			return usage_error("ls: one PATH at most");
		else
			arg = argv[i];
	}
	if (arg) {
		if ((rc = object_path(c, arg, rel, sizeof(rel))) != 0)
			return rc;
		full_path(c, rel, full, sizeof(full));
		if (stat(full, &st) != 0)
			return fail(arg, "%s", strerror(errno));
	}
	if ((rc = load_snapshot(c, &s)) != 0)
		goto out;
	if (json) {
		fputc('[', stdout);
		for (size_t i = 0; i < s.nobjs; i++) {
			if (!selected(&s.objs[i], arg ? rel : NULL))
				continue;
			fputs(first ? "\n" : ",\n", stdout);
			snapshot_write_obj_json(&s.objs[i], stdout);
			first = false;
		}
		fputs("\n]\n", stdout);
		goto out;
	}
	printf("%-7s %-24s %-4s %-8s %7s %7s  %s\n", "TYPE", "PATH", "MODE", "OWNER", "HOLDERS",
	       "WAITERS", "STATE");
	for (size_t i = 0; i < s.nobjs; i++) {
		const struct snap_obj *o = &s.objs[i];
		char owner[64], state[160], path[4 * PATH_MAX];

		if (!selected(o, arg ? rel : NULL))
			continue;
		owner_name(o->uid, owner, sizeof(owner));
		state_words(&s, o, state, sizeof(state));
		snap_escape_str(path, sizeof(path), o->path);
		printf("%-7s %-24s %04o %-8s %7zu %7zu  %s\n", o->type, path, o->mode, owner,
		       o->nholds, o->nwaits, state);
	}
out:
	snapshot_free(&s);
	return rc;
}

static void print_procs(const struct snapshot *s, const char *title, const struct snap_proc *p,
			size_t n, bool waits)
{
	printf("%s: %zu\n", title, n);
	for (size_t k = 0; k < n; k++, p++) {
		if (p->host[0]) {
			printf("  host ");
			snap_escape(stdout, p->host);
			printf(" pid %d", (int)p->pid);
		} else {
			printf("  pid %d", (int)p->pid);
		}
		if (p->tid != p->pid)
			printf(" tid %d", (int)p->tid);
		printf(" pgid %d (", (int)p->pgid);
		snap_escape(stdout, p->comm);
		if (waits)
			printf(") %s %u, waiting %.1fs\n", p->op, p->units, age(s, p->since));
		else
			printf(") %u unit%s, for %.1fs\n", p->units, p->units == 1 ? "" : "s",
			       age(s, p->since));
	}
}

static int cmd_stat(const struct ctl *c, int argc, char **argv)
{
	struct snapshot s = { 0 };
	char rel[PATH_MAX], owner[64], group[64], state[160];
	const char *arg = NULL;
	const struct snap_obj *o;
	bool json = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("stat: unknown option %s", argv[i]);
		else if (arg)
			return usage_error("stat: one PATH");
		else
			arg = argv[i];
	}
	if (!arg)
		return usage_error("stat: PATH missing");
	if ((rc = object_path(c, arg, rel, sizeof(rel))) != 0)
		return rc;
	if ((rc = load_snapshot(c, &s)) != 0)
		goto out;
	o = snapshot_find(&s, rel);
	if (!o) {
		char full[2 * PATH_MAX];
		struct stat st;

		full_path(c, rel, full, sizeof(full));
		rc = stat(full, &st) != 0 ? fail(arg, "%s", strerror(errno))
					  : fail(arg, "not an IPC object");
		goto out;
	}
	if (json) {
		snapshot_write_obj_json(o, stdout);
		fputc('\n', stdout);
		goto out;
	}
	owner_name(o->uid, owner, sizeof(owner));
	snprintf(group, sizeof(group), "%u", o->gid);
	state_words(&s, o, state, sizeof(state));
	snap_escape(stdout, o->path);
	printf("\ntype: %s\nmode: %04o\nowner: %s\ngroup: %s\nopens: %u\nstate: %s\n", o->type,
	       o->mode, owner, group, o->opens, state);
	for (unsigned f = 0; f < o->nfields; f++)
		printf("%s: %llu\n", o->fields[f].key, (unsigned long long)o->fields[f].value);
	print_procs(&s, "holders", o->holds, o->nholds, false);
	print_procs(&s, "waiters", o->waits, o->nwaits, true);
out:
	snapshot_free(&s);
	return rc;
}

/* The options of create, and which types take them. */
struct create_opts {
	const char *mode, *value, *capacity, *max_msg, *max_size, *size;
};

static int set_xattr_size(const char *path, const char *what, const char *name, uint64_t v)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	if (setxattr(path, name, text, strlen(text), 0) != 0)
		return fail(what, "%s: %s", name, strerror(errno));
	return 0;
}

static int cmd_create(const struct ctl *c, int argc, char **argv)
{
	struct create_opts o = { 0 };
	const char *type = NULL, *arg = NULL;
	char rel[PATH_MAX], full[2 * PATH_MAX];
	mode_t mode = 0666;
	uint32_t value = 0;
	uint64_t capacity = 0, max_msg = 0, max_size = 0, size = 0;
	int fd, rc = 0;

	for (int i = 1; i < argc; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "--mode") == 0)
			slot = &o.mode;
		else if (strcmp(argv[i], "--value") == 0)
			slot = &o.value;
		else if (strcmp(argv[i], "--capacity") == 0)
			slot = &o.capacity;
		else if (strcmp(argv[i], "--max-msg") == 0)
			slot = &o.max_msg;
		else if (strcmp(argv[i], "--max-size") == 0)
			slot = &o.max_size;
		else if (strcmp(argv[i], "--size") == 0)
			slot = &o.size;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("create: unknown option %s", argv[i]);
		else if (!type)
			type = argv[i];
		else if (!arg)
			arg = argv[i];
		else
			return usage_error("create: one TYPE and one PATH");
		if (slot) {
			if (++i == argc)
				return usage_error("create: %s needs a value", argv[i - 1]);
			*slot = argv[i];
		}
	}
	if (!type || !arg)
		return usage_error("create: TYPE and PATH needed");
	{
		bool known = false;

		for (const char *const *t = type_names; *t; t++)
			known |= strcmp(*t, type) == 0;
		if (!known)
			return usage_error("create: unknown TYPE %s (sem mutex fifo mq shm event "
					   "barrier rwlock)",
					   type);
	}
	if ((o.value && strcmp(type, "sem")) || (o.capacity && strcmp(type, "fifo")) ||
	    (o.max_msg && strcmp(type, "mq")) || (o.max_size && strcmp(type, "mq")) ||
	    (o.size && strcmp(type, "shm")))
		return usage_error("create: option not for a %s (--value: sem, --capacity: fifo, "
				   "--max-msg and --max-size: mq, --size: shm)",
				   type);
	if (o.mode) {
		char *end;
		unsigned long m = strtoul(o.mode, &end, 8);

		if (!*o.mode || *end || m > 07777)
			return usage_error("create: invalid mode %s", o.mode);
		mode = (mode_t)m;
	}
	if (o.value) {
		uint64_t v;

		if (!parse_size(o.value, &v) || v > INT32_MAX)
			return usage_error("create: invalid value %s", o.value);
		value = (uint32_t)v;
	}
	{
		const struct {
			const char *text;
			uint64_t *value;
		} sizes[] = { { o.capacity, &capacity },
			      { o.max_msg, &max_msg },
			      { o.max_size, &max_size },
			      { o.size, &size } };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if (sizes[i].text && !parse_size(sizes[i].text, sizes[i].value))
				return usage_error("create: invalid size %s", sizes[i].text);
	}
	/* "jobs" means sem/jobs for a semaphore */
	if ((rc = object_path(c, arg, rel, sizeof(rel))) != 0)
		return rc;
	if (!type_of(rel) || strcmp(type_of(rel), type) != 0) {
		if (type_of(rel) || strchr(arg, '/'))
			return fail(arg, "a %s must be below %s/", type, type);
		snprintf(full, sizeof(full), "%s/%s%s", c->mount, type, rel);
	} else {
		full_path(c, rel, full, sizeof(full));
	}
	fd = open(full, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NONBLOCK, mode);
	if (fd < 0)
		return fail(arg, "%s", strerror(errno));
	if (o.mode && fchmod(fd, mode) != 0)
		rc = fail(arg, "chmod: %s", strerror(errno));
	if (!rc && value) {
		char text[16];
		int l = snprintf(text, sizeof(text), "%u", value);

		if (write(fd, text, (size_t)l) != l)
			rc = fail(arg, "initial value: %s", strerror(errno));
	}
	if (!rc && o.size && ftruncate(fd, (off_t)size) != 0)
		rc = fail(arg, "size: %s", strerror(errno));
	close(fd);
	if (!rc && o.capacity)
		rc = set_xattr_size(full, arg, "user.capacity", capacity);
	if (!rc && o.max_msg)
		rc = set_xattr_size(full, arg, "user.max_msgs", max_msg);
	if (!rc && o.max_size)
		rc = set_xattr_size(full, arg, "user.msgsize", max_size);
	if (rc)
		unlink(full); /* all or nothing */
	return rc;
}

static int cmd_rm(const struct ctl *c, int argc, char **argv)
{
	int rc = 0;

	if (argc < 2)
		return usage_error("rm: PATH missing");
	for (int i = 1; i < argc; i++) {
		char rel[PATH_MAX], full[2 * PATH_MAX];

		if (object_path(c, argv[i], rel, sizeof(rel)) != 0) {
			rc = EXIT_FAILURE;
			continue;
		}
		full_path(c, rel, full, sizeof(full));
		if (remove(full) != 0)
			rc = fail(argv[i], "%s", strerror(errno));
	}
	return rc;
}

/* Parse "PATH [N] [--timeout S]" (and the options of send) for the operations. */
struct op_args {
	const char *path;
	const char *count; /* N, or NULL */
	double timeout;	   /* -1: wait as long as it takes */
	int prio;	   /* send: -1 for the queue's own name */
	bool no_newline;   /* send -n */
	int nwords;	   /* send: the message words */
	char **words;
};

static int parse_op(const char *cmd, int argc, char **argv, struct op_args *a, bool is_send)
{
	memset(a, 0, sizeof(*a));
	a->timeout = -1;
	a->prio = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 || strcmp(argv[i], "-t") == 0) {
			if (++i == argc || !parse_timeout(argv[i], &a->timeout))
				return usage_error("%s: --timeout needs seconds", cmd);
		} else if (is_send && strcmp(argv[i], "--prio") == 0) {
			char *end;
			long p;

			if (++i == argc)
				return usage_error("send: --prio needs a priority");
			p = strtol(argv[i], &end, 10);
			if (*end || end == argv[i] || p < 0 || p > 31)
				return usage_error("send: priority 0..31, not %s", argv[i]);
			a->prio = (int)p;
		} else if (is_send && strcmp(argv[i], "-n") == 0) {
			a->no_newline = true;
		} else if (is_send && strcmp(argv[i], "--") == 0 && a->path) {
			if (i + 1 < argc) { /* the rest is the message, options or not */
				a->words = argv + i + 1;
				a->nwords = argc - i - 1;
			}
			break;
		} else if (argv[i][0] == '-' && argv[i][1] && !(is_send && a->path)) {
			return usage_error("%s: unknown option %s", cmd, argv[i]);
		} else if (!a->path) {
			a->path = argv[i];
		} else if (is_send) {
			a->words = argv + i;
			a->nwords = argc - i;
			break;
		} else if (!a->count) {
			a->count = argv[i];
		} else {
			return usage_error("%s: too many arguments", cmd);
		}
	}
	if (!a->path)
		return usage_error("%s: PATH missing", cmd);
	return 0;
}

/* Resolve a's path for an operation on an object of one of the types want, into full; its
 * type into *type. */
static int op_path(const struct ctl *c, const struct op_args *a, const char *const *want,
		   const char *cmd, char *full, size_t len, const char **type)
{
	char rel[PATH_MAX];
	bool ok = false;
	int rc = object_path(c, a->path, rel, sizeof(rel));

	if (rc)
		return rc;
	*type = type_of(rel);
	for (const char *const *w = want; *w; w++)
		ok |= *type && strcmp(*type, *w) == 0;
	if (!ok)
		return fail(a->path, "%s works on %s%s%s", cmd, want[0], want[1] ? " and " : "",
			    want[1] ? want[1] : "");
	full_path(c, rel, full, len);
	return 0;
}

static int cmd_wait(const struct ctl *c, int argc, char **argv)
{
	static const char *const sems[] = { "sem", NULL };
	char full[2 * PATH_MAX], text[16];
	const char *type;
	struct op_args a;
	uint32_t n = 1;
	int rc = parse_op("wait", argc, argv, &a, false), fd;
	ssize_t k;

	if (rc)
		return rc;
	if (a.count && !parse_count(a.count, &n))
		return usage_error("wait: N must be 1..2147483647, not %s", a.count);
	if ((rc = op_path(c, &a, sems, "wait", full, sizeof(full), &type)) != 0)
		return rc;
	fd = open_waiting(full, n == 1 ? O_RDONLY : O_WRONLY, a.timeout);
	if (fd < 0)
		return fail(a.path, "%s", strerror(errno));
	if (n == 1) {
		k = read(fd, text, sizeof(text)); /* a read is P(1) */
	} else {
		int l = snprintf(text, sizeof(text), "-%u", n);

		k = write(fd, text, (size_t)l);
	}
	rc = k < 0 ? wait_failed(a.path, errno, a.timeout) : 0;
	disarm_timeout();
	close(fd);
	return rc;
}

static int cmd_post(const struct ctl *c, int argc, char **argv)
{
	static const char *const sems[] = { "sem", NULL };
	char full[2 * PATH_MAX], text[16];
	const char *type;
	struct op_args a;
	uint32_t n = 1;
	int rc = parse_op("post", argc, argv, &a, false), fd, l;

	if (rc)
		return rc;
	if (a.count && !parse_count(a.count, &n))
		return usage_error("post: N must be 1..2147483647, not %s", a.count);
	if ((rc = op_path(c, &a, sems, "post", full, sizeof(full), &type)) != 0)
		return rc;
	fd = open(full, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(a.path, "%s", strerror(errno));
	l = snprintf(text, sizeof(text), "%u", n);
	if (write(fd, text, (size_t)l) != l)
		rc = fail(a.path, "%s", strerror(errno));
	close(fd);
	return rc;
}

/* Standard input whole into a malloc'd buffer. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t k;

	while (buf && (k = read(fd, buf + n, cap - n)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		n += (size_t)k;
		if (n == cap) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				free(buf);
			buf = bigger;
			cap *= 2;
		}
	}
	*len = n;
	return buf;
}

static int cmd_send(const struct ctl *c, int argc, char **argv)
{
	static const char *const queues[] = { "mq", "fifo", NULL };
	char full[2 * PATH_MAX + 8], *msg = NULL;
	const char *type;
	struct op_args a;
	size_t len = 0;
	ssize_t k;
	int rc = parse_op("send", argc, argv, &a, true), fd;

	if (rc)
		return rc;
	if ((rc = op_path(c, &a, queues, "send", full, sizeof(full) - 8, &type)) != 0)
		return rc;
	if (a.prio >= 0) {
		if (strcmp(type, "mq") != 0)
			return fail(a.path, "--prio works on message queues");
		char *end = full + strlen(full);

		snprintf(end, 8, "@%d", a.prio % 100); /* the queue at that priority */
	}
	if (a.nwords == 0) {
		msg = read_all(STDIN_FILENO, &len);
		if (!msg)
			return fail("standard input", "%s", strerror(errno));
	} else {
		for (int i = 0; i < a.nwords; i++)
			len += strlen(a.words[i]) + 1;
		msg = malloc(len + 1);
		if (!msg)
			return fail(a.path, "%s", strerror(ENOMEM));
		msg[0] = '\0';
		for (int i = 0; i < a.nwords; i++) {
			strcat(msg, a.words[i]);
			strcat(msg, i + 1 < a.nwords ? " " : "\n");
		}
		if (a.no_newline)
			len--;
	}
	fd = open_waiting(full, O_WRONLY, a.timeout);
	if (fd < 0) {
		rc = fail(a.path, "%s", strerror(errno));
		goto free_msg;
	}
	k = len ? write(fd, msg, len) : 0; /* one write: one message */
	if (k < 0)
		rc = wait_failed(a.path, errno, a.timeout);
	else if ((size_t)k != len)
		rc = fail(a.path, "only %zd of %zu bytes sent", k, len);
	disarm_timeout();
	close(fd);
free_msg:
	free(msg);
	return rc;
}

static int cmd_recv(const struct ctl *c, int argc, char **argv)
{
	static const char *const queues[] = { "mq", "fifo", NULL };
	char full[2 * PATH_MAX], buf[65536];
	const char *type;
	struct op_args a;
	bool mq;
	ssize_t k;
	int rc = parse_op("recv", argc, argv, &a, false), fd;

	if (rc)
		return rc;
	if (a.count)
		return usage_error("recv: too many arguments");
	if ((rc = op_path(c, &a, queues, "recv", full, sizeof(full), &type)) != 0)
		return rc;
	mq = strcmp(type, "mq") == 0;
	fd = open_waiting(full, O_RDONLY, a.timeout);
	if (fd < 0)
		return fail(a.path, "%s", strerror(errno));
	/* the first read waits and takes the message; the rest of it follows at once */
	k = read(fd, buf, sizeof(buf));
	disarm_timeout();
	if (k < 0) {
		rc = wait_failed(a.path, errno, a.timeout);
		goto out;
	}
	while (k > 0) {
		if (fwrite(buf, 1, (size_t)k, stdout) != (size_t)k) {
			rc = fail("standard output", "%s", strerror(errno));
			goto out;
		}
		if (!mq)
			break; /* a FIFO: what was buffered */
		k = read(fd, buf, sizeof(buf));
	}
	if (k < 0)
		rc = fail(a.path, "%s", reason(errno));
out:
	close(fd);
	return rc;
}

static int cmd_deadlock(const struct ctl *c, int argc, char **argv, bool graph)
{
	enum deadlock_rows by = DEADLOCK_BY_PROCESS;
	struct snapshot s = { 0 };
	struct deadlock d;
	bool dot = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pgrp") == 0)
			by = DEADLOCK_BY_PGRP;
		else if (graph && strcmp(argv[i], "--dot") == 0)
			dot = true;
		else
			return usage_error("%s: unknown argument %s", argv[0], argv[i]);
	}
	if ((rc = load_snapshot(c, &s)) != 0)
		goto out;
	rc = deadlock_build(&s, by, &d);
	if (rc == -E2BIG) {
		rc = fail(argv[0], "%zu processes x %zu resources: more than %u cells, no matrices",
			  d.nrows, d.nres, DEADLOCK_MAX_CELLS);
		goto out;
	} else if (rc) {
		rc = fail(argv[0], "%s", strerror(-rc));
		goto out;
	}
	if (graph)
		deadlock_write_graph(&d, stdout, dot);
	else
		deadlock_write_text(&d, stdout);
	rc = d.deadlocked && !graph ? EXIT_DEADLOCK : 0;
	deadlock_free(&d);
out:
	snapshot_free(&s);
	return rc;
}

static int cmd_matrices(const struct ctl *c, int argc, char **argv)
{
	return cmd_deadlock(c, argc, argv, false);
}

static int cmd_graph(const struct ctl *c, int argc, char **argv)
{
	return cmd_deadlock(c, argc, argv, true);
}

/* ---- top: a live view ---- */

static volatile sig_atomic_t top_stop;	  /* a signal (or q) asked top to end */
static volatile sig_atomic_t top_resized; /* SIGWINCH: redraw at once, at the new size */

static void on_top_signal(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else
		top_stop = 1;
}

/* Wait up to seconds for a key (q ends top) or a signal, which are delivered only here (they
 * are blocked elsewhere: one that comes while a screen is drawn waits for this ppoll instead of
 * being missed before it). */
static void top_wait(double seconds, bool tty, const sigset_t *unblocked)
{
	struct timespec end = ipc_deadline_in((int64_t)(seconds * 1e9)), now;
	char key;

	while (!top_stop && !top_resized) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		struct timespec left;
		int64_t ns;
		int n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ns = (int64_t)(end.tv_sec - now.tv_sec) * 1000000000 + (end.tv_nsec - now.tv_nsec);
		if (ns <= 0)
			return;
		left.tv_sec = (time_t)(ns / 1000000000);
		left.tv_nsec = (long)(ns % 1000000000);
		n = ppoll(&pfd, tty ? 1 : 0, &left, unblocked);
		if (n < 0 && errno != EINTR)
			return;
		if (n > 0) {
			/* a hung-up terminal, or q */
			if ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) ||
			    read(STDIN_FILENO, &key, 1) != 1 || key == 'q' || key == 'Q')
				top_stop = 1;
		}
	}
}

/* One object of a screen: its operations per second (< 0: not known yet). */
struct top_row {
	const struct snap_obj *o;
	double rate;
};

static int by_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct snap_obj *)elem)->path);
}

/* Busiest first, then by path. */
static int by_rate(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	return strcmp(x->o->path, y->o->path);
}

/* The operations per second of o since prev was taken dt seconds earlier, or -1: o is new. */
static double top_rate(const struct snapshot *prev, const struct snap_obj *o, double dt)
{
	const struct snap_obj *p;

	if (!prev || dt <= 0)
		return -1;
	p = bsearch(o->path, prev->objs, prev->nobjs, sizeof(*prev->objs), by_path);
	if (!p || strcmp(p->type, o->type) != 0 || p->ops > o->ops)
		return -1; /* new, or removed and made again meanwhile */
	return (double)(o->ops - p->ops) / dt;
}

/* Where a screen is written: its width, whether it is a terminal, the lines written so far. */
struct top_out {
	int cols;
	bool tty;
	unsigned lines;
};

/* Write line: its first cols characters (a line never wraps), the rest of the terminal's line
 * cleared. On a terminal the newline goes before each line but the first: one after the last
 * line of a full screen would scroll its first line away. */
static void top_line(struct top_out *t, const char *line)
{
	if (t->tty && t->lines)
		putchar('\n');
	/* on a terminal, clear the line first: a clear after a line exactly cols wide would
	 * erase its last character (the cursor waits on it to wrap) */
	printf("%s%.*s%s", t->tty ? "\033[2K" : "", t->cols, line, t->tty ? "" : "\n");
	t->lines++;
}

/* One screen of s (rows x cols; rows 0: no limit). */
static void top_screen(const struct ctl *c, const struct snapshot *s, const struct snapshot *prev,
		       int rows, int cols, bool tty)
{
	struct top_out out = { cols, tty, 0 };
	struct top_row *row = calloc(s->nobjs ? s->nobjs : 1, sizeof(*row));
	double dt = prev ? age(s, prev->time) : 0;
	char line[5 * PATH_MAX], clock[16], path[4 * PATH_MAX];
	struct tm tm;
	time_t now = s->time.tv_sec;
	size_t shown = s->nobjs;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	snprintf(line, sizeof(line),
		 "ipcctl top - %s  %s  objects %llu/%llu  memory %llu/%llu  waiting %llu", c->mount,
		 clock, (unsigned long long)s->objects, (unsigned long long)s->max_objects,
		 (unsigned long long)s->memory, (unsigned long long)s->max_memory,
		 (unsigned long long)s->parked);
	top_line(&out, line);
	snprintf(line, sizeof(line), "%-7s %-28s %4s %4s %8s  %s", "TYPE", "PATH", "HOLD", "WAIT",
		 "OPS/S", "STATE");
	top_line(&out, line);
	if (!row) {
		top_line(&out, "(out of memory)");
		return;
	}
	for (size_t i = 0; i < s->nobjs; i++)
		row[i] = (struct top_row){ &s->objs[i], top_rate(prev, &s->objs[i], dt) };
	qsort(row, s->nobjs, sizeof(*row), by_rate);
	/* two lines of headings, one for "q quits" (or the count of those left out) */
	if (rows > 0 && shown > (size_t)(rows > 3 ? rows - 3 : 0))
		shown = (size_t)(rows > 3 ? rows - 3 : 0);
	if (rows > 0 && rows < 4) { /* a terminal too small for more than the headings */
		free(row);
		return;
	}
	for (size_t i = 0; i < shown; i++) {
		const struct snap_obj *o = row[i].o;
		char state[160], rate[16];
		size_t len;

		state_words(s, o, state, sizeof(state));
		snap_escape_str(path, sizeof(path), o->path);
		len = strlen(path);
		if (len > 28) { /* the end of a path names the object: keep it */
			size_t cut = len - 27;

			/* not inside a character: a UTF-8 continuation byte, or an escape \ooo
			 * (every literal backslash is itself escaped, so a '\' starts one) */
			while (cut < len && ((unsigned char)path[cut] & 0xc0) == 0x80)
				cut++;
			for (size_t b = cut > 3 ? cut - 3 : 0; b < cut; b++)
				if (path[b] == '\\')
					cut = b + 4;
			if (cut > len)
				cut = len;
			memmove(path + 1, path + cut, len - cut + 1);
			path[0] = '~';
		}
		if (row[i].rate < 0)
			snprintf(rate, sizeof(rate), "-");
		else
			snprintf(rate, sizeof(rate), "%.1f", row[i].rate);
		snprintf(line, sizeof(line), "%-7s %-28s %4zu %4zu %8s  %s", o->type, path,
			 o->nholds, o->nwaits, rate, state);
		top_line(&out, line);
	}
	if (shown < s->nobjs) {
		snprintf(line, sizeof(line), "... %zu more (the busiest are shown)%s",
			 s->nobjs - shown, tty ? "; q quits" : "");
		top_line(&out, line);
	} else if (tty) {
		top_line(&out, "q quits");
	}
	free(row);
}

static int cmd_top(const struct ctl *c, int argc, char **argv)
{
	struct snapshot snaps[2], *s = &snaps[0], *prev = NULL;
	bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	struct sigaction sa = { .sa_handler = on_top_signal }; /* no SA_RESTART: ppoll returns */
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };
	sigset_t block, unblocked;
	struct termios saved, raw;
	double interval = 1;
	long screens = -1;
	int rc = 0;

	memset(snaps, 0, sizeof(snaps));
	for (int i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			if (!parse_timeout(argv[++i], &interval) || interval < 0.1 ||
			    interval > 86400)
				return usage_error("top: -d takes seconds, from 0.1 to 86400");
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			screens = strtol(argv[++i], &end, 10);
			if (*end || end == argv[i] || screens < 1)
				return usage_error("top: -n takes a count of screens, at least 1");
		} else {
			return usage_error("top: unknown argument %s", argv[i]);
		}
	}
	sigemptyset(&block);
	for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++) {
		sigaction(sigs[k], &sa, NULL);
		sigaddset(&block, sigs[k]);
	}
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	/* each screen leaves in one write: never half of one on the terminal */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		/* keys one by one, unechoed, signals kept (Ctrl-C); Ctrl-S does not freeze it */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_iflag &= ~(tcflag_t)IXON;
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		fputs("\033[?25l", stdout); /* no cursor */
	} else {
		tty = false;
	}
	while (!top_stop) {
		struct winsize ws = { 0 };
		int rows = 0, cols = 512;

		if ((rc = load_snapshot(c, s)) != 0)
			break;
		if (tty) {
			rows = 24;
			cols = 80;
			if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
				rows = ws.ws_row;
				cols = ws.ws_col;
			}
			fputs("\033[H", stdout); /* home, then each line clears its rest */
		}
		top_screen(c, s, prev, rows, cols, tty);
		if (tty)
			fputs("\033[J", stdout); /* and below the last line */
		else
			putchar('\n');
		fflush(stdout);
		if (prev)
			snapshot_free(prev);
		prev = s;
		s = s == &snaps[0] ? &snaps[1] : &snaps[0];
		if (screens > 0 && --screens == 0)
			break;
		top_resized = 0;
		top_wait(interval, tty, &unblocked);
	}
	if (prev)
		snapshot_free(prev);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fputs("\033[?25h\n", stdout); /* the cursor back, and the shell's prompt below */
	}
	fflush(stdout);
	sigprocmask(SIG_SETMASK, &unblocked, NULL);
	return rc;
}

static const struct command {
	const char *name;
	int (*run)(const struct ctl *c, int argc, char **argv); /* argv[0]: the command */
} commands[] = {
	{ "ls", cmd_ls },	{ "stat", cmd_stat }, { "create", cmd_create },
	{ "rm", cmd_rm },	{ "wait", cmd_wait }, { "post", cmd_post },
	{ "send", cmd_send },	{ "recv", cmd_recv }, { "deadlock", cmd_matrices },
	{ "graph", cmd_graph }, { "top", cmd_top },
};

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	const char *mount = NULL;
	struct ctl c;
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("ipcctl %s\n", IPCFS_VERSION);
			return 0;
		} else if (strcmp(argv[i], "-m") == 0) {
			if (i + 1 == argc)
				return usage_error("-m needs a directory");
			mount = argv[++i];
		} else {
			return usage_error("unknown option %s", argv[i]);
		}
	}
	if (i == argc)
		return usage_error("COMMAND missing");
	if (strcmp(argv[i], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			cmd = &commands[k];
	if (!cmd)
		return usage_error("unknown command %s", argv[i]);
	if ((rc = ctl_init(&c, mount)) != 0)
		return rc;
	rc = cmd->run(&c, argc - i, argv + i);
	if (fflush(stdout) != 0 && rc == 0)
		rc = fail("standard output", "%s", strerror(errno));
	return rc;
}
