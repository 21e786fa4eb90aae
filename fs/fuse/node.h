/* SPDX-License-Identifier: MIT */
/*
 * node.h - what the namespace's files share: nodes (node.c), aliases and per-walk inodes
 * (alias.c), used by the name operations (ns.c) and directories (dir.c). The face's types
 * and the namespace's public functions are in ipcfs.h.
 *
 * Locking: as ipcfs.h says; each declaration names the lock it expects.
 */
#ifndef IPCFS_NODE_H
#define IPCFS_NODE_H

#include "ipcfs.h"

static inline struct ipcfs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* The node operations apply to: an alias (mq/q@P, a per-walk inode) stands for its object. */
static inline struct node *target_of(struct node *n)
{
	return n->alias_of ? n->alias_of : n;
}

/* node.c: nodes, the (parent, name) hash table, references and charges, attributes. */

/* node_id - the inode number of n itself (FUSE_ROOT_ID for the root; aliases their own). */
fuse_ino_t node_id(const struct node *n);
/* node_find - the child of parent called name, or NULL. ns_lock held. */
struct node *node_find(struct ipcfs *fs, const struct node *parent, const char *name);
/* node_hash_add/node_hash_del - enter n under (n->parent, n->name) / take it out. ns_lock held */
void node_hash_add(struct ipcfs *fs, struct node *n);
void node_hash_del(struct ipcfs *fs, struct node *n);
/* node_follow - the node path names from directory dir, as the kernel's walk for caller c would
 * find it in this mount: each directory searched must let c search it, symbolic links are
 * followed (at most IPCFS_MAX_LINKS in all), an absolute path only below the mount point as
 * fs->mountpoint spells it.
 * NULL, with *err -ENOENT, -ENOTDIR, -EACCES or -ELOOP, when it names nothing c may reach
 * here. No reference taken. ns_lock held (directories' steps are taken inside). */
struct node *node_follow(struct ipcfs *fs, const struct caller *c, struct node *dir,
			 const char *path, int *err);
/* node_alloc_link - a new symbolic link to target in type's tree, not charged, not linked. NULL
 * when out of memory. */
struct node *node_alloc_link(struct ipcfs *fs, const struct objtype *type, const char *name,
			     const char *target, uid_t uid, gid_t gid);
/* node_alloc - a new node of type (NULL for the root) with its object made (type->init), not
 * charged, not linked. NULL when out of memory or init failed. */
struct node *node_alloc(struct ipcfs *fs, const struct objtype *type, bool is_dir, const char *name,
			mode_t mode, uid_t uid, gid_t gid);
/* node_free - free a node never charged (or the whole tree at exit), closing what handles
 * are left as the kernel would have. */
void node_free(struct node *n);
/* node_discard - free a charged node nobody references any more and give back its charge.
 * Takes ns_lock. */
void node_discard(struct node *n);
/* node_charge - charge one more node of bytes: 0, or -ENOSPC past -o max_objects or
 * -o max_memory with nothing charged. */
int node_charge(struct ipcfs *fs, size_t bytes);
/* node_link - make charged n reachable as parent/name (takes the link's reference). ns_lock */
void node_link(struct ipcfs *fs, struct node *parent, struct node *n);
/* node_unlink - make n unreachable. ns_lock held; the caller then calls node_retire. */
void node_unlink(struct ipcfs *fs, struct node *n);
/* node_retire - kill an unlinked object (err to its waiters and handles), drop the link's
 * reference. No lock held. */
void node_retire(struct node *n, int err);
/* node_fill_attr - st from n. inside a step on n. */
void node_fill_attr(struct node *n, struct stat *st);
/* node_attr_timeout - how long the kernel may keep n's attributes, in seconds. */
double node_attr_timeout(const struct node *n);
/* node_fill_entry - an entry reply for n; counts the kernel's new reference. ns_lock held. */
void node_fill_entry(struct node *n, struct fuse_entry_param *e);

/* alias.c: mq/q@P names and the per-walk inodes of IPC objects. */

/* alias_per_walk - does each path walk of n get an inode of its own (IPC objects)? */
bool alias_per_walk(const struct node *n);
/* alias_split - if name is "BASE@P" in the mq tree with 0 <= P < MQ_PRIOS, the length of BASE
 * (and *prio = P); else 0. */
size_t alias_split(const struct node *dir, const char *name, unsigned *prio);
/* alias_lookup - the alias for BASE@P in dir if BASE is a queue there, else NULL. ns_lock. */
struct node *alias_lookup(struct ipcfs *fs, struct node *dir, const char *name);
/* alias_walk - the inode for a path walk of object n (NULL when out of memory). ns_lock. */
struct node *alias_walk(struct ipcfs *fs, struct node *n, const char *name);
/* alias_opened - h was opened through a (the object itself, a q@P or a per-walk alias). */
void alias_opened(struct node *a, struct handle *h);

#endif /* IPCFS_NODE_H */
