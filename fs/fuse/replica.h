/* SPDX-License-Identifier: MIT */
/*
 * replica.h - cluster mode in the FUSE face (replica.c): this daemon's tree as a replica of a
 * cluster's (store/cluster.h), kept in step by the log, and the parked requests that wait for
 * their operation to come back from it.
 *
 * A request in cluster mode: the face parks it (park_new, park_arm), then replica_submit
 * writes its operation to the log and returns; the FUSE thread is free. When the log reports
 * the operation (on every daemon, in the same order), the type's apply() runs it on the
 * replica, with the parked request on the daemon that submitted it and with a ghost waiter
 * (a struct waiter with op NULL) on the others; the submitting daemon answers its caller.
 * An interrupt submits a CANCEL: whichever of "served" and "cancelled" comes first in the log
 * wins, on every daemon alike, so an interrupted call either had its effect or none.
 */
#ifndef IPCFS_REPLICA_H
#define IPCFS_REPLICA_H

#include "ipcfs.h"
#include "park.h"
#include "store/cluster.h"

/*
 * An open file description as the cluster knows it, by (daemon, open id): this daemon's
 * handles (h->copen) and the opens of other daemons that operations came through (a mutex's
 * holder, a queue's reader in the middle of a message). The model sees its mo. It lives in its
 * node's copens list until its CLOSE (or its daemon's GONE) is applied, which may be after
 * the handle itself is gone: the model may still name it as a holder until then.
 */
struct copen {
	struct model_open mo;
	uint64_t host;	       /* the daemon it is open at */
	uint64_t id;	       /* its id there */
	struct list_head link; /* in its node's copens until closed; inside a step on the node */
	bool handle;	       /* a handle of this daemon still points to it; inside a step */
	bool closed;	       /* closed (its daemon's GONE) while the handle lives; ditto */
};

/* replica_open - -o etcd=...: connect (before the daemon forks; nothing started). Returns 0 or
 * -errno, with a message on stderr. */
int replica_open(struct ipcfs *fs, const char *endpoints, const char *name, unsigned ttl,
		 unsigned timeout_s, unsigned compact);
/* replica_join - join the cluster and mirror its tree, before the mount (no thread started, so
 * before the fork too). Returns 0 or -errno, with a message on stderr. */
int replica_join(struct ipcfs *fs);
/* replica_start - start keeping it in step (after the fork, before the loop). Returns 0 or
 * -errno, with a message on stderr. */
int replica_start(struct ipcfs *fs);
/* replica_stop - leave the cluster; every request still waiting for the log gets EIO. */
void replica_stop(struct ipcfs *fs);

/* replica_submit - p (armed: park_arm returned true, so n->so is held) waits for operation
 * kind(arg) of its object, carrying len bytes of data, to come back from the log; through its
 * handle's open, if it has one (h->copen). Drops n->so. flags: CLUSTER_OP_*. If the operation
 * cannot be queued, p is answered ENOMEM. */
void replica_submit(struct parked *p, uint32_t kind, uint64_t arg, uint32_t flags, const void *data,
		    size_t len);
/* replica_post - submit kind(arg) on n for pid with nobody to answer. 0 or -ENOMEM. */
int replica_post(struct node *n, uint32_t kind, uint64_t arg, pid_t pid);
/* replica_cancel - p was interrupted: submit its CANCEL (once). inside a step on p's node. */
void replica_cancel(struct parked *p);

/* replica_open_handle - cluster mode: h (being opened) gets its copen, known to the cluster
 * once an operation names it. Returns 0 or -ENOMEM. */
int replica_open_handle(struct handle *h);
/* replica_close_handle - h's open ends (its last close, or an open that failed or whose
 * caller is gone): submit its CLOSE; what it held is released once that is applied. Called
 * by handle_free. */
void replica_close_handle(struct handle *h);
/* replica_open_of - the open (host, id) of n as this replica knows it, or NULL (closed, or
 * it never did anything here). inside a step on n. */
struct copen *replica_open_of(struct node *n, uint64_t host, uint64_t id);
/* replica_open_make - the open op came through (op->host, op->open), mirrored here if it was
 * not; NULL when out of memory. inside a step on n. */
struct copen *replica_open_make(struct node *n, const struct cluster_op *op);
/* replica_close - submit the CLOSE of open c of n (an orphan's, say). Any thread. */
void replica_close(struct node *n, const struct copen *c);
/* replica_free_opens - n is being freed: so are its copens. */
void replica_free_opens(struct node *n);

/* replica_ghost - a waiter for op of another daemon (or of this one whose caller is gone), to
 * give the model in apply(), through the open op names (mirrored if need be). NULL when out
 * of memory. inside a step on n. */
struct waiter *replica_ghost(struct node *n, const struct cluster_op *op);
/* replica_waiter - the waiter of op for the model, inside the step apply() began on n: p's,
 * or a ghost (replica_ghost). NULL when out of memory: the step is ended, a message printed
 * (this replica now lacks that waiter). */
struct waiter *replica_waiter(struct node *n, const struct cluster_op *op, struct parked *p);
/* replica_settle - end apply()'s step once the model answered rc for w (asked to queue):
 * MODEL_WOULD_BLOCK, w waits (replica_queued); else w's caller is answered rc (a ghost is
 * freed). Either way the step is committed with what after holds (a FIFO write that waits
 * for room may have handed bytes to waiting reads). */
void replica_settle(struct node *n, struct waiter *w, int rc, struct store_after *after);
/* replica_queued - the model queued w (apply's MODEL_WOULD_BLOCK): the parked request's, or a
 * ghost. inside a step on n. */
void replica_queued(struct node *n, struct waiter *w);
/* replica_unqueued - w left the model's queues (served, cancelled, killed) with rc: a ghost is
 * freed (with what it was handed, given back first if it was this daemon's: objtype.handed),
 * else w leaves the cluster list. Returns true when w was a ghost (gone now). inside a step on
 * w's node. */
bool replica_unqueued(struct waiter *w, int rc);

/*
 * Checkpoints (store/cluster.h, "Compaction"): a type's checkpoint hook writes its object's
 * state as operations that rebuild it on an empty replica, with these.
 * replica_ckpt_op - op set to an operation on n (path, incarnation, time n's mtime) of kind
 * and arg, from nobody (host 0: no daemon's).
 * replica_ckpt_waiter - op set to what waiter w of n waits for, as its daemon submitted it
 * (host, id, pid, since, kind, arg, and the open it came through).
 * replica_ckpt_open - op set to kind and arg through open c (its daemon, id and opener).
 * replica_ckpt_queue - add to k the waiters of queue, each as replica_ckpt_waiter says, in
 * order: 0 or -ENOMEM.
 * replica_open_id - the cluster's id of open mo (a copen's).
 */
void replica_ckpt_op(struct node *n, uint32_t kind, uint64_t arg, struct cluster_op *op);
void replica_ckpt_waiter(struct node *n, const struct waiter *w, struct cluster_op *op);
void replica_ckpt_open(struct node *n, const struct copen *c, uint32_t kind, uint64_t arg,
		       struct cluster_op *op);
int replica_ckpt_queue(struct node *n, const struct list_head *queue, struct cluster_ckpt *k);
uint64_t replica_open_id(const struct model_open *mo);

/* replica_make - make dir/name in the cluster and here (mknod, mkdir, create). 0 with *out
 * the node (a reference), or -errno. */
int replica_make(struct ipcfs *fs, struct node *dir, const char *name, mode_t mode, bool is_dir,
		 uid_t uid, gid_t gid, struct node **out);
/* replica_lookup_miss - dir/name is not in this replica: is it in the cluster? Then returns
 * true once the replica has caught up with its making (a name made on another mount a moment
 * ago is found, as on one mount), else false. Waits for etcd (bounded by etcd_timeout). */
bool replica_lookup_miss(struct ipcfs *fs, struct node *dir, const char *name);
/* replica_remove - remove n (unlink, rmdir) in the cluster and here. 0 or -errno. */
int replica_remove(struct ipcfs *fs, struct node *n);
/* replica_setattr - n's mode and owner as set, in the cluster (they apply here when the
 * watch reports them; the caller applies them at once too). 0 or -errno. */
int replica_setattr(struct ipcfs *fs, struct node *n, mode_t mode, uid_t uid, gid_t gid);

#endif /* IPCFS_REPLICA_H */
