/* SPDX-License-Identifier: MIT */
/*
 * snapshot.h - a snapshot of every object of a mount: its state, who holds it, who waits.
 *
 * The daemon takes one (status.c) with every object locked at once, so it is consistent
 * across objects, and writes it as text or JSON into the files of /.ipcfs/. ipcctl reads the
 * text back into the same structure (snapshot_parse) to print tables and to run the deadlock
 * detection (deadlock.h). This file and snapshot.c are shared by both and know nothing of
 * FUSE.
 *
 * The text form, one record per line, fields "key=value" separated by one space; strings
 * (paths, commands) escape space, tab, newline, backslash and other control bytes as \ooo
 * (octal), as /proc/mounts does, so a line always splits on spaces:
 *
 *   ipcfs-status version=1 time=T objects=N memory=B max_objects=N max_memory=B parked=N
 *   object type=sem path=/sem/s mode=0644 uid=U gid=G opens=N KEY=N... holders=N waiters=N
 *   hold path=/sem/s pid=P tid=T pgid=G comm=C [host=H] units=N since=T
 *   wait path=/sem/s pid=P tid=T pgid=G comm=C [host=H] op=P units=N since=T
 *
 * Times are seconds since the epoch with microseconds (CLOCK_REALTIME). A process that has
 * exited shows pid=tid, pgid=-1 and comm=?. host= is there in cluster mode only: the name of
 * the host whose daemon the caller came through (this one's too); a caller at another host
 * shows pid=tid (its thread id, which is its pid when it has one thread, as shell tools do),
 * pgid=-1 and comm=?, since this host cannot look it up. Unknown keys are skipped by the
 * parser, so fields may be added without breaking readers.
 */
#ifndef IPCFS_SNAPSHOT_H
#define IPCFS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define SNAPSHOT_VERSION 1
#define SNAP_MAX_FIELDS 40 /* an mq has 7 fields and up to 32 priorities */
#define SNAP_KEY_MAX 16	   /* bytes of a field's key, NUL included */
#define SNAP_COMM_MAX 16   /* TASK_COMM_LEN */
#define SNAP_OP_MAX 8	   /* bytes of a wait's operation name, NUL included */
#define SNAP_HOST_MAX 65   /* a host name (HOST_NAME_MAX 64), NUL included */

/* One number of an object's state: "value", "bytes", "prio.5"... */
struct snap_field {
	char key[SNAP_KEY_MAX];
	uint64_t value;
};

/* A process holding units of an object, or waiting on it. */
struct snap_proc {
	pid_t tid;		  /* the caller as FUSE reported it (a thread id) */
	pid_t pid;		  /* its process (thread group); tid when it has exited */
	pid_t pgid;		  /* its process group; -1 when it has exited */
	char comm[SNAP_COMM_MAX]; /* its process's command name; "?" when it has exited */
	char op[SNAP_OP_MAX];	  /* waiters: what the call waits for ("P", "lock", "read"...) */
	char host[SNAP_HOST_MAX]; /* cluster mode: the caller's host name; else empty */
	uint64_t hostid;	  /* taking a snapshot: the caller's daemon (waiter.host), 0 for
				   * the memory store's; not written out */
	uint32_t units;		  /* holders: units held; waiters: units requested (0: none) */
	struct timespec since;	  /* CLOCK_REALTIME: since when it holds or waits */
};

struct snap_obj {
	char type[8];	    /* "sem", "mutex", "fifo", "mq", "shm" */
	char *path;	    /* below the mount point, with a leading '/' */
	uint32_t mode;	    /* permission bits */
	uint32_t uid, gid;  /* owner */
	uint32_t opens;	    /* open file descriptions */
	uint64_t ops;	    /* opens, reads and writes asked of it so far (through this mount) */
	bool resource;	    /* a semaphore or mutex: a column of the deadlock matrices */
	uint64_t available; /* resources: units free now (E = available + units held) */
	unsigned nfields;   /* type-specific state */
	struct snap_field fields[SNAP_MAX_FIELDS];
	size_t nholds, nwaits;
	size_t holds_cap, waits_cap;
	struct snap_proc *holds; /* in the order the object keeps them */
	struct snap_proc *waits; /* in the order they will be served */
};

struct snapshot {
	struct timespec time;		  /* CLOCK_REALTIME when it was taken */
	uint64_t objects, memory;	  /* what the mount uses... */
	uint64_t max_objects, max_memory; /* ...and may use */
	uint64_t parked;		  /* waiting calls, all objects */
	size_t nobjs, objs_cap;
	struct snap_obj *objs; /* sorted by path */
	bool incomplete;       /* memory ran out while taking it: some entries are missing */
};

/* snapshot_free - free s's contents (not s itself) and zero it. */
void snapshot_free(struct snapshot *s);

/* snapshot_add_obj - a new zeroed object at the end of s, or NULL when out of memory (then s
 * is marked incomplete). Its path is set by the caller (malloc'd, freed with s). */
struct snap_obj *snapshot_add_obj(struct snapshot *s);

/* snap_field_add - append a field; silently ignored beyond SNAP_MAX_FIELDS. */
void snap_field_add(struct snap_obj *o, const char *key, uint64_t value);

/* snap_field_get - the value of field key of o, or def when o has none. */
uint64_t snap_field_get(const struct snap_obj *o, const char *key, uint64_t def);

/* snap_hold_add, snap_wait_add - append a holder or waiter with its tid, the daemon it came
 * through (hostid: a struct waiter's host), units and since (the rest is resolved later, by
 * the daemon's status.c). Return it, or NULL when out of memory (s is then marked incomplete).
 * May be called with locks held: they only allocate. */
struct snap_proc *snap_hold_add(struct snapshot *s, struct snap_obj *o, pid_t tid, uint64_t hostid,
				uint32_t units, struct timespec since);
struct snap_proc *snap_wait_add(struct snapshot *s, struct snap_obj *o, pid_t tid, uint64_t hostid,
				const char *op, uint32_t units, struct timespec since);

/* snapshot_sort - order the objects by path. */
void snapshot_sort(struct snapshot *s);

/* snapshot_write_text, snapshot_write_json - the whole snapshot, in the forms above. */
void snapshot_write_text(const struct snapshot *s, FILE *out);
void snapshot_write_json(const struct snapshot *s, FILE *out);

/* snapshot_write_obj_json - one object as a JSON object (no newline). */
void snapshot_write_obj_json(const struct snap_obj *o, FILE *out);

/* snapshot_parse - read the text form from in into s (zeroed by the caller). Returns 0, or
 * -EPROTO when in does not start with an ipcfs-status line, -ENOMEM. On error s holds what
 * was read and must still be freed. */
int snapshot_parse(FILE *in, struct snapshot *s);

/* snapshot_find - the object at path ("/sem/s"), or NULL. */
struct snap_obj *snapshot_find(const struct snapshot *s, const char *path);

/* snap_escape - write str to out with space, '\\' and control bytes as \ooo. */
void snap_escape(FILE *out, const char *str);
/* snap_escape_str - the same into out (len bytes, NUL-terminated, cut at a whole escape). */
void snap_escape_str(char *out, size_t len, const char *str);

#endif /* IPCFS_SNAPSHOT_H */
