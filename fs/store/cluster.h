/* SPDX-License-Identifier: MIT */
/*
 * cluster.h - the cluster store (store/etcd/cluster.c): the objects of one cluster, shared by
 * every mount of it on any host, kept in etcd as names and a log of operations.
 *
 * The idea is state-machine replication with etcd as the log. Every daemon of the cluster
 * keeps a replica of every object (the model's own state, as the memory store keeps it) and
 * applies to it, in etcd's revision order, every operation any daemon submitted. The model is
 * deterministic, so every replica goes through the same states: a P submitted on host A is
 * queued, in the same place, on every host; a V submitted on host B serves it on every host,
 * and host A, where its caller waits, answers it. Order across hosts is the log's order, so a
 * semaphore's waiters are served first come, first served across the cluster.
 *
 * Keys, under /ipcfs/CLUSTER/ (docs/design.md, "The cluster store"):
 *   h/HOST            a daemon of the cluster, on its lease: "LABEL PID". Its deletion (the
 *                     daemon stopped, or lost etcd for lease_ttl) makes every daemon append
 *                     a GONE operation: that daemon's waiters leave every queue.
 *   n/TYPE/PATH       a name: "D|O MODE UID GID SEC NSEC" (directory or object, attributes,
 *                     creation time). Its create revision is the object's incarnation: an
 *                     object removed and made again is another object.
 *   l/HOST/SEQ        one operation, written once and never changed (cluster_op, below).
 *                     The opens of a daemon (mutex holders, queue readers) are named in the
 *                     operations by (HOST, open id), and closed by a CLOSE or a GONE.
 *   c                 the newest checkpoint: "REV HOST N", then a line "HOST SEQ" per daemon
 *                     (the last of its operations the checkpoint has applied).
 * and beside them, outside what the daemons watch, under /ipcfs/CLUSTER:s/:
 *   REV-HOST/I        the checkpoint HOST took of its replica at revision REV: N operations
 *                     that rebuild on an empty replica every object's state as it was then.
 *
 * Compaction: every `compact` operations one daemon (the registered one with the lowest id)
 * takes a checkpoint between two revisions, writes it, points c at it, then deletes the log it
 * covers and the checkpoint before; etcd's history is compacted a while later
 * (CLUSTER_HISTORY_S). A daemon starting reads c, the checkpoint, then the log after it. An
 * operation is applied only if its SEQ is above the last one applied of its daemon: a write
 * retried after its first attempt landed and was compacted away cannot land twice.
 *
 * Exactly once: an operation is a key of its own, written by a transaction that requires it
 * not to exist yet. A write whose answer was lost is retried as the same key: if the first
 * write landed, the retry changes nothing. Until etcd_timeout has passed: then the submitter
 * is answered EIO, and before this daemon writes anything else it writes a tombstone where
 * such an operation would land, so that it either landed before (and is applied, with
 * nobody to answer: see the face's orphans) or never will.
 *
 * Locking: the functions may be called from any thread. The face's callbacks are called on
 * one thread at a time (the watch's; during cluster_start, the caller's), in revision order,
 * and must not block on the network: they may call cluster_submit.
 */
#ifndef IPCFS_STORE_CLUSTER_H
#define IPCFS_STORE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cluster;

/* The operations every type understands; a type's own kinds are below CLUSTER_OP_CANCEL. */
enum {
	CLUSTER_OP_CANCEL = 0xff00, /* the waiter (host, id) leaves its queue, if still in it */
	CLUSTER_OP_GONE,	    /* daemon arg left: its waiters leave every queue, its opens
				     * are closed */
	CLUSTER_OP_CLOSE,	    /* the open (host, open) is closed (its last close, or its
				     * holder died): what it held is released */
	CLUSTER_OP_TIMES,	    /* a checkpoint's: the object's atime, mtime and ctime, as
				     * data "SEC NSEC" three times */
};

/* Flags of an operation. */
#define CLUSTER_OP_NONBLOCK 1u /* O_NONBLOCK: do not queue */

/* One operation of the log: "INC HOST ID SEC NSEC PID KIND ARG FLAGS OPEN LEN PATH", a NUL,
 * then the LEN bytes of data. */
struct cluster_op {
	const char *path;     /* the object, "TYPE/PATH" (NUL-terminated); "" for GONE */
	int64_t inc;	      /* the object's incarnation (its name's create revision) */
	uint64_t host;	      /* the daemon that submitted it */
	uint64_t id;	      /* its request at that daemon, 0 for none */
	int64_t rev;	      /* the revision it was committed at (set when applied) */
	struct timespec time; /* CLOCK_REALTIME at the submitter: the object's mtime */
	int32_t pid;	      /* the caller */
	uint32_t kind;	      /* the type's operation, or CLUSTER_OP_* */
	uint64_t arg;	      /* its argument (units, a host) */
	uint32_t flags;	      /* CLUSTER_OP_* flags */
	uint64_t open;	      /* the open file description at host it came through, 0 none */
	const void *data;     /* bytes it carries (a message), len of them */
	size_t len;
};

/* A checkpoint being taken (cluster_face.checkpoint). */
struct cluster_ckpt;

/* cluster_ckpt_add - op is the checkpoint's next operation: applied in this order to an empty
 * replica, the checkpoint's operations rebuild the state the face has now. Every field is
 * kept as given (a waiter's host, id, pid, time). 0 or -ENOMEM. */
int cluster_ckpt_add(struct cluster_ckpt *k, const struct cluster_op *op);

/* What the cluster reports to the face. Called in revision order, one at a time. */
struct cluster_face {
	void *ctx;
	/* a name appeared (version 1) or its attributes changed (version > 1) */
	void (*name_put)(void *ctx, const char *path, const char *value, int64_t create_rev,
			 int64_t version);
	/* a name was removed */
	void (*name_del)(void *ctx, const char *path);
	/* an operation to apply */
	void (*op)(void *ctx, const struct cluster_op *op);
	/* an operation submitted with id could not be written in time: answer it rc (-EIO);
	 * it has no effect (but see "Exactly once" above). Not called in revision order. */
	void (*failed)(void *ctx, uint64_t id, int rc);
	/* write every object's state as operations (cluster_ckpt_add) that rebuild it. Called
	 * on the watch's thread between two revisions: everything up to the last one reported
	 * has been applied, nothing after it. 0, or -errno: no checkpoint this time. */
	int (*checkpoint)(void *ctx, struct cluster_ckpt *k);
	/* this replica fell behind what etcd keeps (its history was compacted past it): it can
	 * no longer be kept in step, and the daemon must leave (a restart joins afresh) */
	void (*lost)(void *ctx);
};

/*
 * cluster_open - a daemon of cluster name on the etcd members of endpoints ("URL+URL"),
 * leases of ttl seconds, every etcd call bounded by timeout_s, a checkpoint every compact
 * operations (0: never; see Compaction above). Checks that a member answers
 * (so that a wrong address fails here, before the mount is made) but starts nothing: no
 * thread, so it may be called before the daemon forks. Returns 0 with *out set, or -EINVAL
 * (a malformed endpoint list or name), -EIO (no member answered), -ENOMEM.
 */
int cluster_open(const char *endpoints, const char *name, unsigned ttl, unsigned timeout_s,
		 unsigned compact, const struct cluster_face *face, struct cluster **out);

/*
 * cluster_join - replay the cluster's state to the face (every name, then the newest
 * checkpoint's operations, then every operation of the log after it, in order) on the calling
 * thread, then take a lease and register this daemon. Starts no thread, so it runs before the
 * daemon forks and mounts: a cluster it cannot join is an error of the command, not a mount
 * that vanishes. Returns 0 or -EIO, -ENOMEM (the lease given back).
 */
int cluster_join(struct cluster *c);

/*
 * cluster_start - after cluster_join (soon: the lease runs): start the threads that keep the
 * lease, write submitted operations (the replay's first), write checkpoints and watch for
 * changes from where the replay read. Returns 0 or -EAGAIN (nothing running, the lease given back).
 */
int cluster_start(struct cluster *c);

/* cluster_host - this daemon's id in the cluster (cluster_op.host). */
uint64_t cluster_host(const struct cluster *c);

/* cluster_host_label - the name of the host of daemon host (this one's too), into buf: as
 * registered (h/HOST), or the id in hex if it is not registered (gone, or not seen yet). */
#define CLUSTER_LABEL_MAX 65 /* HOST_NAME_MAX and a NUL */
void cluster_host_label(struct cluster *c, uint64_t host, char *buf, size_t len);

/*
 * cluster_submit - queue op (path copied) to be written to the log, after every operation
 * this daemon submitted before it. op->host and op->time are set here. Never blocks. Returns
 * 0, or -ENOMEM (nothing queued).
 */
int cluster_submit(struct cluster *c, const struct cluster_op *op);

/*
 * The names, changed synchronously (bounded by the timeout). path is "TYPE/PATH".
 * cluster_name_create - make path with value, if its parent exists (a type directory always
 * does) and path does not: 0 with *inc its incarnation, -EEXIST, -ENOENT, -EIO.
 * cluster_name_set - new attributes for incarnation inc: 0, -ENOENT (gone), -EIO.
 * cluster_name_delete - remove incarnation inc of path; a directory only if nothing is below
 * it: 0, -ENOENT, -ENOTEMPTY, -EIO.
 * cluster_name_sync - does path exist now? If so, return 0 once the face has been told (the
 * watch may lag behind the transaction that made it); else -ENOENT; or -EIO.
 */
int cluster_name_create(struct cluster *c, const char *path, const char *value, int64_t *inc);
int cluster_name_set(struct cluster *c, const char *path, int64_t inc, const char *value);
int cluster_name_delete(struct cluster *c, const char *path, int64_t inc, bool is_dir);
int cluster_name_sync(struct cluster *c, const char *path);

/* cluster_stop - leave: stop the threads, revoke the lease (the other daemons see this one
 * gone at once). No callback runs after it returns; operations submitted from now on, and
 * those still queued, are dropped: the face answers their callers itself. */
void cluster_stop(struct cluster *c);
/* cluster_close - cluster_stop, then free c. NULL: nothing. */
void cluster_close(struct cluster *c);

#endif /* IPCFS_STORE_CLUSTER_H */
