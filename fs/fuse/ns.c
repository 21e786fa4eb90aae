/* SPDX-License-Identifier: MIT */
/*
 * ns.c - the namespace's operations on names: lookup, forget, getattr, setattr, mknod, mkdir,
 * create, open, unlink, rmdir, rename (and the refused symlink and link).
 *
 * Implementation notes:
 * - An object is made charged and unlinked, opened if the call was a create, and only then
 *   published under its name: nobody else can reach a half-made object.
 * - Removal (unlink, rename over it) unlinks under ns_lock and kills the object after dropping
 *   it: its waiters get EIDRM, its open handles fail from then on.
 * - Nodes, attributes and handles: node.c; mq/q@P and per-walk inodes: alias.c; directories'
 *   listings: dir.c.
 *
 * Locking: fs->ns_lock for the tree, n->so for attributes (see ipcfs.h).
 */
#include "node.h"
#include "replica.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h> /* RENAME_NOREPLACE */
#include <stdlib.h>
#include <string.h>

/* Check that name may be created in dir (a directory below a type directory). */
static int check_new_name(const struct node *dir, const char *name)
{
	unsigned prio;

	if (!dir->is_dir)
		return -ENOTDIR;
	if (dir->type == NULL || dir->type == &status_type)
		return -EPERM; /* nothing but the type directories at the root; the view is fixed */
	if (strlen(name) > IPCFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EEXIST;
	if (alias_split(dir, name, &prio))
		return -EINVAL; /* q@P names a queue at a priority */
	return 0;
}

void ns_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ipcfs *fs = req_fs(req);
	struct node *dir = ns_node(req, parent), *n;
	struct fuse_entry_param e;

	if (strlen(name) > IPCFS_NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	ipc_mutex_lock(&fs->ns_lock);
	n = node_find(fs, dir, name);
	if (!n && fs->cluster && dir->type && dir->type != &status_type) {
		/* made on another mount, and the watch has not brought it yet? */
		bool made;

		ipc_mutex_unlock(&fs->ns_lock);
		made = replica_lookup_miss(fs, dir, name);
		ipc_mutex_lock(&fs->ns_lock);
		if (made)
			n = node_find(fs, dir, name);
	}
	if (n && alias_per_walk(n))
		n = alias_walk(fs, n, name); /* NULL when out of memory: answered ENOENT */
	else if (!n)
		n = alias_lookup(fs, dir, name);
	if (n) {
		node_fill_entry(n, &e);
	} else {
		/* a negative entry: the kernel may remember the name is free, since every
		 * creation goes through it; not for q@P names, which a new q would make valid,
		 * nor in cluster mode, where other mounts make names */
		unsigned prio;

		memset(&e, 0, sizeof(e));
		e.entry_timeout =
			alias_split(dir, name, &prio) || fs->cluster ? 0 : IPCFS_ENTRY_TIMEOUT;
	}
	ipc_mutex_unlock(&fs->ns_lock);
	fuse_reply_entry(req, &e);
}

/* Drop nlookup kernel references to n. */
static void forget_one(struct ipcfs *fs, struct node *n, uint64_t nlookup)
{
	bool last;

	ipc_mutex_lock(&fs->ns_lock);
	n->nlookup -= nlookup < n->nlookup ? nlookup : n->nlookup;
	last = n->nlookup == 0 && n != fs->root;
	ipc_mutex_unlock(&fs->ns_lock);
	if (last)
		ns_unref(n);
}

int ns_reply_create(fuse_req_t req, struct node *n, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	int rc;

	ipc_mutex_lock(&n->fs->ns_lock);
	node_fill_entry(n, &e);
	ipc_mutex_unlock(&n->fs->ns_lock);
	rc = fuse_reply_create(req, &e, fi);
	if (rc < 0)
		forget_one(n->fs, n, 1); /* the kernel never learnt of it */
	return rc;
}

void ns_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(req_fs(req), ns_node(req, ino), nlookup);
	fuse_reply_none(req);
}

void ns_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		forget_one(req_fs(req), ns_node(req, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

void ns_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *n = target_of(ns_node(req, ino));
	struct stat st;

	(void)fi;
	store_begin(&n->so);
	node_fill_attr(n, &st);
	store_end(&n->so);
	fuse_reply_attr(req, &st, node_attr_timeout(n));
}

void ns_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		   struct fuse_file_info *fi)
{
	struct node *n = target_of(ns_node(req, ino));
	struct timespec now;
	struct stat st;

	(void)fi;
	if (n->type == &status_type) {
		fuse_reply_err(req, EPERM); /* the view is fixed: no chmod, chown, touch */
		return;
	}
	if ((to_set & FUSE_SET_ATTR_SIZE) && !node_is_object(n)) {
		fuse_reply_err(req, n->is_dir ? EISDIR : EINVAL);
		return;
	}
	/* The kernel has checked permissions (default_permissions). A size change goes to the
	 * type; an IPC object accepts and ignores it: it is what O_TRUNC of `echo x > obj`
	 * sends without FUSE_CAP_ATOMIC_O_TRUNC. */
	if ((to_set & FUSE_SET_ATTR_SIZE) && n->type->truncate) {
		int rc = n->type->truncate(n, attr->st_size);

		if (rc) {
			fuse_reply_err(req, -rc);
			return;
		}
	}
	if (n->fs->cluster &&
	    (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
		/* mode and owner are the cluster's (the same on every mount); times are this
		 * mount's until an operation moves them */
		int rc;

		store_begin(&n->so);
		st.st_mode = to_set & FUSE_SET_ATTR_MODE ? attr->st_mode & 07777 : n->mode;
		st.st_uid = to_set & FUSE_SET_ATTR_UID ? attr->st_uid : n->uid;
		st.st_gid = to_set & FUSE_SET_ATTR_GID ? attr->st_gid : n->gid;
		store_end(&n->so);
		rc = n->cpath ? replica_setattr(n->fs, n, st.st_mode, st.st_uid, st.st_gid)
			      : -EPERM;
		if (rc) {
			fuse_reply_err(req, -rc);
			return;
		}
	}
	clock_gettime(CLOCK_REALTIME, &now);
	store_begin(&n->so);
	if (to_set & FUSE_SET_ATTR_MODE)
		n->mode = attr->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		n->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		n->gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_ATIME)
		n->atime = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		n->atime = now;
	if (to_set & FUSE_SET_ATTR_MTIME)
		n->mtime = attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		n->mtime = now;
	n->ctime = now;
	node_fill_attr(n, &st);
	store_commit(&n->so, NULL);
	fuse_reply_attr(req, &st, node_attr_timeout(n));
}

/*
 * Make a node called name in dir for the caller of req, charged against the limits but not
 * yet linked: a new object can be opened before anyone else can see it. Returns 0, -ENOMEM,
 * -ENOSPC or a name error; the node is released with node_discard. In cluster mode the node
 * is linked already (every mount of the cluster sees it) and *out is a reference to drop.
 */
static int make_node(fuse_req_t req, struct node *dir, const char *name, mode_t mode, bool is_dir,
		     struct node **out)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	int rc = check_new_name(dir, name);
	gid_t gid = ctx->gid;

	if (rc)
		return rc;
	/* A set-group-ID directory gives its group to what is made in it, and the bit to its
	 * subdirectories, as on every Linux filesystem: how a group shares a namespace. (The
	 * kernel already dropped S_ISGID from the mode of a file its caller may not have.) */
	store_begin(&dir->so);
	if (dir->mode & S_ISGID) {
		gid = dir->gid;
		if (is_dir)
			mode |= S_ISGID;
	}
	store_end(&dir->so);
	if (req_fs(req)->cluster) /* made and linked at once, cluster-wide (replica.h) */
		return replica_make(req_fs(req), dir, name, mode, is_dir, ctx->uid, gid, out);
	*out = node_alloc(req_fs(req), dir->type, is_dir, name, mode, ctx->uid, gid);
	if (!*out)
		return -ENOMEM;
	rc = node_charge(req_fs(req), (*out)->charge);
	if (rc)
		node_free(*out);
	return rc;
}

/* Link a new node under dir, or fail (-EEXIST, -ENOENT) changing nothing; on success fill e
 * for the entry reply. */
static int publish(struct ipcfs *fs, struct node *dir, struct node *n, struct fuse_entry_param *e)
{
	int rc = 0;

	ipc_mutex_lock(&fs->ns_lock);
	if (!dir->linked)
		rc = -ENOENT; /* the directory was removed meanwhile */
	else if (node_find(fs, dir, n->name))
		rc = -EEXIST;
	if (rc == 0) {
		node_link(fs, dir, n);
		store_begin(&dir->so);
		ns_touch(dir, true);
		store_commit(&dir->so, NULL);
		node_fill_entry(n, e);
	}
	ipc_mutex_unlock(&fs->ns_lock);
	return rc;
}

/* The entry reply of n, made in cluster mode (linked already). */
static void entry_of_made(struct ipcfs *fs, struct node *n, struct fuse_entry_param *e)
{
	ipc_mutex_lock(&fs->ns_lock);
	node_fill_entry(n, e);
	ipc_mutex_unlock(&fs->ns_lock);
}

static void make_entry(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		       bool is_dir)
{
	struct node *dir = ns_node(req, parent), *n;
	struct fuse_entry_param e;
	int rc = make_node(req, dir, name, mode, is_dir, &n);

	if (rc == 0 && req_fs(req)->cluster) {
		entry_of_made(req_fs(req), n, &e);
		ns_unref(n);
	} else if (rc == 0) {
		rc = publish(req_fs(req), dir, n, &e);
		if (rc)
			node_discard(n);
	}
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

void ns_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)rdev;
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM); /* device nodes, FIFOs, sockets */
		return;
	}
	make_entry(req, parent, name, mode, false);
}

void ns_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_entry(req, parent, name, mode, true);
}

/* Open h's object: the per-type open, with the flags every IPC file needs. */
static int open_object(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	const struct objtype *t = h->node->type;

	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = t->direct_io;
	fi->nonseekable = t->direct_io;
	fi->keep_cache = !t->direct_io;
	node_count_op(h->node);
	return t->open ? t->open(req, h, fi, create) : 0;
}

void ns_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		  struct fuse_file_info *fi)
{
	struct node *dir = ns_node(req, parent), *n = NULL;
	struct fuse_entry_param e;
	struct handle *h = NULL;
	int rc = make_node(req, dir, name, mode, false, &n);

	if (rc)
		goto fail;
	h = handle_new(n, fi->flags, fuse_req_ctx(req)->pid);
	if (!h && req_fs(req)->cluster) {
		ns_unref(n);
		rc = -ENOMEM;
		goto fail;
	}
	if (!h) {
		rc = -ENOMEM;
		goto free_node;
	}
	if (req_fs(req)->cluster) {
		/* made and linked already: an open that fails leaves the object, as open(2)
		 * with O_CREAT on any filesystem may */
		ns_unref(n); /* h holds its own reference */
		rc = open_object(req, h, fi, true);
		if (rc == IPCFS_PARKED)
			return; /* a mutex, taken through the log: answered by ns_reply_create */
		if (rc) {
			handle_free(h);
			fuse_reply_err(req, -rc);
			return;
		}
		ns_reply_create(req, n, fi);
		return;
	}
	rc = open_object(req, h, fi, true);
	if (rc)
		goto free_handle;
	rc = publish(req_fs(req), dir, n, &e);
	if (rc) {
		if (n->type->release)
			n->type->release(h);
		goto free_handle;
	}
	fuse_reply_create(req, &e, fi);
	return;

free_handle:
	/* n was never linked: its only reference is h's, so freeing h frees it */
	handle_free(h);
	fuse_reply_err(req, -rc);
	return;
free_node:
	node_discard(n);
fail:
	fuse_reply_err(req, -rc);
}

void ns_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *a = ns_node(req, ino), *n = target_of(a);
	struct handle *h;
	int rc;

	if (!node_is_object(n)) {
		/* a link reaches here only by O_NOFOLLOW's kind of open, which refuses links */
		fuse_reply_err(req, n->is_dir ? EISDIR : ELOOP);
		return;
	}
	h = handle_new(n, fi->flags, fuse_req_ctx(req)->pid);
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	h->mo.prio = a->alias_prio;
	alias_opened(a, h);
	rc = open_object(req, h, fi, false);
	if (rc == IPCFS_PARKED)
		return;
	if (rc) {
		handle_free(h);
		fuse_reply_err(req, -rc);
		return;
	}
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* the opener is gone (interrupted): no release will come for this open */
		if (n->type->release)
			n->type->release(h);
		handle_free(h);
	}
}

/* Remove parent/name: a file (unlink) or an empty directory (rmdir). */
static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name, bool is_dir)
{
	struct ipcfs *fs = req_fs(req);
	struct node *dir = ns_node(req, parent), *n;
	int rc = 0;

	ipc_mutex_lock(&fs->ns_lock);
	n = node_find(fs, dir, name);
	if (!n)
		rc = -ENOENT;
	else if (n->fixed)
		rc = -EPERM;
	else if (is_dir && !n->is_dir)
		rc = -ENOTDIR;
	else if (!is_dir && n->is_dir)
		rc = -EISDIR;
	else if (is_dir && !list_empty(&n->children) && !fs->cluster)
		rc = -ENOTEMPTY; /* in cluster mode the cluster says: this replica may lag */
	if (rc == 0 && fs->cluster) {
		/* removed cluster-wide first (bounded by etcd_timeout), then here */
		ns_ref(n);
		ipc_mutex_unlock(&fs->ns_lock);
		rc = replica_remove(fs, n);
		ns_unref(n);
		fuse_reply_err(req, -rc);
		return;
	}
	if (rc == 0) {
		node_unlink(fs, n);
		store_begin(&dir->so);
		ns_touch(dir, true);
		store_commit(&dir->so, NULL);
	}
	ipc_mutex_unlock(&fs->ns_lock);
	if (rc == 0)
		node_retire(n, EIDRM);
	fuse_reply_err(req, -rc);
}

void ns_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, false);
}

void ns_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, true);
}

/*
 * A symbolic link parent/name to link, in a type tree (as on tmpfs: the kernel resolves it, so
 * `ln -s ../pool sem/app/jobs` makes sem/app/jobs another name of sem/pool for every call).
 * Refused at the root and in the view (EPERM), and in cluster mode (EOPNOTSUPP: the cluster's
 * names are objects and directories).
 */
void ns_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct ipcfs *fs = req_fs(req);
	struct node *dir = ns_node(req, parent), *n;
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	gid_t gid = ctx->gid;
	int rc = check_new_name(dir, name);

	if (rc == 0 && fs->cluster)
		rc = -EOPNOTSUPP;
	else if (rc == 0 && strlen(link) >= PATH_MAX)
		rc = -ENAMETOOLONG;
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	store_begin(&dir->so);
	if (dir->mode & S_ISGID)
		gid = dir->gid; /* as make_node does */
	store_end(&dir->so);
	n = node_alloc_link(fs, dir->type, name, link, ctx->uid, gid);
	rc = !n ? -ENOMEM : node_charge(fs, n->charge);
	if (rc == 0) {
		rc = publish(fs, dir, n, &e);
		if (rc)
			node_discard(n);
	} else if (n) {
		node_free(n);
	}
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

void ns_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct node *n = ns_node(req, ino);

	if (n->link)
		fuse_reply_readlink(req, n->link); /* immutable: no lock */
	else
		fuse_reply_err(req, EINVAL);
}

void ns_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EPERM);
}

/* Is a an ancestor of (or equal to) n? ns_lock held. */
static bool is_ancestor(const struct node *a, const struct node *n, const struct node *root)
{
	for (; n != root; n = n->parent)
		if (n == a)
			return true;
	return a == root;
}

void ns_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		  const char *newname, unsigned int flags)
{
	struct ipcfs *fs = req_fs(req);
	struct node *from = ns_node(req, parent), *to = ns_node(req, newparent);
	struct node *n, *victim = NULL;
	char *newcopy = NULL;
	int rc = 0;

	if (flags & ~RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL); /* RENAME_EXCHANGE, RENAME_WHITEOUT */
		return;
	}
	if (fs->cluster) {
		/* an object's name is its identity in the log (replica.c); not EXDEV, which
		 * would make mv copy it: read it, and so take from it */
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	rc = check_new_name(to, newname);
	if (rc == 0 && !(newcopy = strdup(newname)))
		rc = -ENOMEM;
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}

	ipc_mutex_lock(&fs->ns_lock);
	n = node_find(fs, from, name);
	if (!n)
		rc = -ENOENT;
	else if (n->fixed)
		rc = -EPERM;
	else if (from->type != to->type)
		rc = -EXDEV; /* an object cannot change type */
	else if (n->is_dir && is_ancestor(n, to, fs->root))
		rc = -EINVAL; /* into itself */
	else if (!to->linked)
		rc = -ENOENT;
	if (rc == 0) {
		victim = node_find(fs, to, newname);
		if (victim == n) {
			victim = NULL; /* same entry: nothing to do */
			goto unlock;
		}
		if (victim && (flags & RENAME_NOREPLACE))
			rc = -EEXIST;
		else if (victim && victim->is_dir && !n->is_dir)
			rc = -EISDIR;
		else if (victim && !victim->is_dir && n->is_dir)
			rc = -ENOTDIR;
		else if (victim && victim->is_dir && !list_empty(&victim->children))
			rc = -ENOTEMPTY;
	}
	if (rc == 0) {
		if (victim)
			node_unlink(fs, victim);
		node_hash_del(fs, n);
		list_del(&n->sibling);
		if (n->is_dir) {
			__atomic_sub_fetch(&from->nsubdirs, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&to->nsubdirs, 1, __ATOMIC_RELAXED);
		}
		free(n->name);
		n->name = newcopy;
		newcopy = NULL;
		n->parent = to;
		node_hash_add(fs, n);
		list_add_tail(&n->sibling, &to->children);
		store_begin(&n->so);
		ns_touch(n, false);
		store_commit(&n->so, NULL);
		/* both directories' contents changed (ls -t, make, backup tools look) */
		store_begin(&from->so);
		ns_touch(from, true);
		store_commit(&from->so, NULL);
		if (to != from) {
			store_begin(&to->so);
			ns_touch(to, true);
			store_commit(&to->so, NULL);
		}
	}
unlock:
	ipc_mutex_unlock(&fs->ns_lock);
	free(newcopy);
	if (victim)
		node_retire(victim, EIDRM);
	fuse_reply_err(req, -rc);
}
