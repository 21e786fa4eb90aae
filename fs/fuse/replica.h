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

/* replica_open - -o etcd=...: connect (before the daemon forks; nothing started). Returns 0 or
 * -errno, with a message on stderr. */
int replica_open(struct ipcfs *fs, const char *endpoints, const char *name, unsigned ttl,
		 unsigned timeout_s);
/* replica_start - join the cluster and mirror its tree (after the fork, before the loop).
 * Returns 0 or -errno. */
int replica_start(struct ipcfs *fs);
/* replica_stop - leave the cluster; every request still waiting for the log gets EIO. */
void replica_stop(struct ipcfs *fs);

/* replica_submit - p (armed: park_arm returned true, so n->so is held) waits for operation
 * kind(arg) of its object to come back from the log. Drops n->so. flags: CLUSTER_OP_*. If the
 * operation cannot be queued, p is answered ENOMEM. */
void replica_submit(struct parked *p, uint32_t kind, uint64_t arg, uint32_t flags);
/* replica_post - submit kind(arg) on n for pid with nobody to answer. 0 or -ENOMEM. */
int replica_post(struct node *n, uint32_t kind, uint64_t arg, pid_t pid);
/* replica_cancel - p was interrupted: submit its CANCEL (once). inside a step on p's node. */
void replica_cancel(struct parked *p);

/* replica_ghost - a waiter for op of another daemon (or of this one whose caller is gone), to
 * give the model in apply(). NULL when out of memory. */
struct waiter *replica_ghost(struct node *n, const struct cluster_op *op);
/* replica_queued - the model queued w (apply's MODEL_WOULD_BLOCK): the parked request's, or a
 * ghost. inside a step on n. */
void replica_queued(struct node *n, struct waiter *w);
/* replica_unqueued - w left the model's queues (served, cancelled, killed): a ghost is freed
 * (giving back what it took if it was this daemon's, see objtype.undo), else w leaves the
 * cluster list. Returns true when w was a ghost (gone now). inside a step on w's node. */
bool replica_unqueued(struct waiter *w, int rc);

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
