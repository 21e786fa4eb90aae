/* SPDX-License-Identifier: MIT */
/*
 * node.c - the namespace's nodes: the (parent, name) hash table, node lifetime, references
 * and charges, attributes, setup and teardown, paths, and open handles.
 *
 * Implementation notes:
 * - The root holds one fixed directory per object type; everything else lives below those and
 *   belongs to that type: a regular file created there is an object of the type.
 * - Names are found through one hash table keyed by (parent, name), so a lookup costs the same
 *   with one object or a million, and a directory needs no index of its own; each directory
 *   also lists its children (for readdir and rmdir's emptiness check).
 * - A node's inode number is its address. Its references (n->refs) count one for being linked,
 *   one while the kernel remembers it (nlookup > 0), one per handle and parked request; the
 *   last one to drop it frees it, so an object removed while open or waited on lives on until
 *   its last handle closes (operations through those fail with EIDRM) and the kernel forgets it.
 * - fs->all_nodes holds every object until it is freed, and every removed directory until it
 *   is freed: the kernel or an open handle may still hold them when the daemon stops, and
 *   ns_destroy frees them then (a linked directory is freed with the tree).
 *
 * Locking: fs->ns_lock for the tree, n->so for attributes (see ipcfs.h).
 */
#include "node.h"
#include "replica.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

fuse_ino_t node_id(const struct node *n)
{
	return n == n->fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

fuse_ino_t ns_ino(const struct node *n)
{
	return node_id(n->alias_of ? n->alias_of : n);
}

struct node *ns_node(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return req_fs(req)->root;
	return (struct node *)(uintptr_t)ino;
}

struct node *ns_object(fuse_req_t req, fuse_ino_t ino)
{
	return target_of(ns_node(req, ino));
}

/* ---- hash table of (parent, name) ---- */

static size_t name_hash(const struct node *parent, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)parent;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

/* Find the child of parent called name. ns_lock held. */
struct node *node_find(struct ipcfs *fs, const struct node *parent, const char *name)
{
	struct node *n = fs->htab[name_hash(parent, name) & (fs->hsize - 1)];

	for (; n; n = n->hnext)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

/* Double the table when it is full. ns_lock held; on allocation failure the table just stays
 * more crowded. */
static void hash_grow(struct ipcfs *fs)
{
	size_t nsize = fs->hsize * 2;
	struct node **nt = calloc(nsize, sizeof(*nt));

	if (!nt)
		return;
	for (size_t i = 0; i < fs->hsize; i++) {
		struct node *n = fs->htab[i], *next;

		for (; n; n = next) {
			size_t b = name_hash(n->parent, n->name) & (nsize - 1);

			next = n->hnext;
			n->hnext = nt[b];
			nt[b] = n;
		}
	}
	free(fs->htab);
	fs->htab = nt;
	fs->hsize = nsize;
}

void node_hash_add(struct ipcfs *fs, struct node *n)
{
	size_t b;

	if (fs->hcount >= fs->hsize)
		hash_grow(fs);
	b = name_hash(n->parent, n->name) & (fs->hsize - 1);
	n->hnext = fs->htab[b];
	fs->htab[b] = n;
	fs->hcount++;
}

void node_hash_del(struct ipcfs *fs, struct node *n)
{
	struct node **pp = &fs->htab[name_hash(n->parent, n->name) & (fs->hsize - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			n->hnext = NULL;
			fs->hcount--;
			return;
		}
	}
}

/* ---- permissions ---- */

void caller_of(fuse_req_t req, struct caller *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->ngroups = c->uid ? fuse_req_getgroups(req, 64, c->groups) : 0;
	if (c->ngroups > 64)
		c->ngroups = 64; /* more than we asked for: the first 64 are there */
}

bool caller_may(const struct caller *c, struct node *n, int mask)
{
	mode_t mode;
	uid_t uid;
	gid_t gid;
	bool in_group;

	if (c->uid == 0)
		return true;
	store_begin(&n->so);
	mode = n->mode;
	uid = n->uid;
	gid = n->gid;
	store_end(&n->so);
	if (c->uid == uid)
		return ((mode >> 6) & (mode_t)mask) == (mode_t)mask;
	in_group = c->gid == gid;
	for (int i = 0; !in_group && i < c->ngroups; i++)
		in_group = c->groups[i] == gid;
	return ((in_group ? mode >> 3 : mode) & (mode_t)mask) == (mode_t)mask;
}

/* ---- symbolic links ---- */

/* *links: links followed so far in this resolution (all of them, not only the nested). */
static struct node *follow(struct ipcfs *fs, const struct caller *c, struct node *dir,
			   const char *path, unsigned *links, int *err)
{
	size_t mlen = strlen(fs->mountpoint);
	struct node *n = dir;
	const char *p = path;

	if (path[0] == '/') {
		/* absolute: only what lies below this mount point is ours to resolve */
		if (strncmp(path, fs->mountpoint, mlen) != 0 || (path[mlen] && path[mlen] != '/')) {
			*err = -ENOENT;
			return NULL;
		}
		n = fs->root;
		p = path + mlen;
	}
	while (*p) {
		const char *end;
		char name[IPCFS_NAME_MAX + 1];
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (!n->is_dir) {
			*err = -ENOTDIR;
			return NULL;
		}
		if (!caller_may(c, n, X_OK)) {
			*err = -EACCES; /* as the kernel's walk checks each directory it searches */
			return NULL;
		}
		if (len > IPCFS_NAME_MAX) {
			*err = -ENOENT;
			return NULL;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p = end;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			n = n->parent; /* the root's parent is the root */
			continue;
		}
		dir = n;
		n = node_find(fs, dir, name);
		if (!n) {
			*err = -ENOENT;
			return NULL;
		}
		if (n->link) {
			if (++*links > IPCFS_MAX_LINKS) {
				*err = -ELOOP;
				return NULL;
			}
			n = follow(fs, c, dir, n->link, links, err);
			if (!n)
				return NULL;
		}
	}
	return n;
}

struct node *node_follow(struct ipcfs *fs, const struct caller *c, struct node *dir,
			 const char *path, int *err)
{
	unsigned links = 0;

	return follow(fs, c, dir, path, &links, err);
}

/* ---- node lifetime ---- */

/* A node of type: a directory, a symbolic link to link, or else an object (made). */
static struct node *node_new(struct ipcfs *fs, const struct objtype *type, bool is_dir,
			     const char *link, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	struct node *n = calloc(1, sizeof(*n));
	bool object = !is_dir && !link;
	struct timespec now;

	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name)
		goto free_node;
	if (link && !(n->link = strdup(link)))
		goto free_name;
	/* the root, the type directories, directories and links have no state, only attributes */
	if (store_obj_init(fs->store, &n->so, object ? type->obj_size : 0) != 0)
		goto free_name;
	n->fs = fs;
	n->type = type;
	n->is_dir = is_dir;
	n->generation = __atomic_add_fetch(&fs->generation, 1, __ATOMIC_RELAXED);
	list_init(&n->children);
	list_init(&n->sibling);
	list_init(&n->all_link);
	list_init(&n->pollers);
	list_init(&n->handles);
	list_init(&n->cwaiters);
	list_init(&n->copens);
	n->mode = mode & 07777;
	n->uid = uid;
	n->gid = gid;
	clock_gettime(CLOCK_REALTIME, &now);
	n->atime = n->mtime = n->ctime = now;
	n->charge = sizeof(*n) + strlen(name) + 1 + (object ? type->obj_size : 0) +
		    (link ? strlen(link) + 1 : 0);
	if (object && type->init && type->init(n) != 0)
		goto free_obj;
	return n;

free_obj:
	store_obj_fini(&n->so);
free_name:
	free(n->link);
	free(n->name);
free_node:
	free(n);
	return NULL;
}

struct node *node_alloc(struct ipcfs *fs, const struct objtype *type, bool is_dir, const char *name,
			mode_t mode, uid_t uid, gid_t gid)
{
	return node_new(fs, type, is_dir, NULL, name, mode, uid, gid);
}

struct node *node_alloc_link(struct ipcfs *fs, const struct objtype *type, const char *name,
			     const char *target, uid_t uid, gid_t gid)
{
	return node_new(fs, type, false, target, name, 0777, uid, gid); /* a link's mode: 0777 */
}

/* Free a node that was never charged (or the whole tree at exit). */
void node_free(struct node *n)
{
	/* Handles are left only when the daemon stops with files still open (the kernel sends
	 * no RELEASE after that): close them as the kernel would have. */
	while (!list_empty(&n->handles)) {
		struct handle *h = list_first_entry(&n->handles, struct handle, link);
		LIST_HEAD_DECL(pw);

		if (n->type && n->type->release)
			n->type->release(h);
		store_begin(&n->so);
		list_del(&h->link);
		poll_disarm(h, &pw);
		store_end(&n->so);
		poll_discard(&pw);
		if (h->copen && h->copen->closed)
			free(h->copen); /* else in n->copens, freed below */
		free(h);
	}
	replica_free_opens(n);
	/* aliases have no state of their own: the object's is freed with the object */
	if (node_is_object(n) && store_state(&n->so) && n->type->destroy)
		n->type->destroy(n);
	store_obj_fini(&n->so);
	free(n->cpath);
	free(n->link);
	free(n->name);
	free(n);
}

/* Free a charged node nobody references any more, and give back its charge. Takes ns_lock
 * (the node is in fs->all_nodes until now). */
void node_discard(struct node *n)
{
	if (n->alias_of) {
		struct node *target = n->alias_of;

		ipc_mutex_lock(&n->fs->ns_lock);
		list_del(&n->all_link); /* from fs->aliases; an alias is not charged */
		if (target->walk_alias == n)
			target->walk_alias = NULL;
		ipc_mutex_unlock(&n->fs->ns_lock);
		node_free(n);
		ns_unref(target);
		return;
	}
	ipc_mutex_lock(&n->fs->ns_lock);
	list_del(&n->all_link);
	ipc_mutex_unlock(&n->fs->ns_lock);
	budget_uncharge(&n->fs->budget, n->charge);
	__atomic_sub_fetch(&n->fs->nobjects, 1, __ATOMIC_RELAXED);
	node_free(n);
}

void ns_ref(struct node *n)
{
	__atomic_add_fetch(&n->refs, 1, __ATOMIC_RELAXED);
}

void ns_unref(struct node *n)
{
	if (__atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) == 0)
		node_discard(n);
}

/* Take a reference unless the node is already being discarded (refs reached zero). For
 * walkers of fs->all_nodes, with ns_lock held: node_discard waits for it to leave the list. */
static bool ref_unless_zero(struct node *n)
{
	uint32_t r = __atomic_load_n(&n->refs, __ATOMIC_RELAXED);

	do {
		if (r == 0)
			return false;
	} while (!__atomic_compare_exchange_n(&n->refs, &r, r + 1, true, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

/* Add to *v unless that passes cap. A plain add-check-undo would make two racing creations
 * near the cap both fail, where one fits. */
static bool add_capped(uint64_t *v, uint64_t add, uint64_t cap)
{
	uint64_t old = __atomic_load_n(v, __ATOMIC_RELAXED);

	do {
		if (add > cap || old > cap - add)
			return false;
	} while (!__atomic_compare_exchange_n(v, &old, old + add, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

/* Take the charge for one more node: -ENOSPC past -o max_objects or -o max_memory, with
 * nothing charged. */
int node_charge(struct ipcfs *fs, size_t bytes)
{
	if (!add_capped(&fs->nobjects, 1, fs->max_objects))
		return -ENOSPC;
	if (budget_charge(&fs->budget, bytes) != 0) {
		__atomic_sub_fetch(&fs->nobjects, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	return 0;
}

/* Make n reachable as parent/name. ns_lock held; n holds its charge already. */
void node_link(struct ipcfs *fs, struct node *parent, struct node *n)
{
	n->parent = parent;
	/* linked and nsubdirs are also read by fill_attr, under n->so only */
	__atomic_store_n(&n->linked, true, __ATOMIC_RELAXED);
	ns_ref(n); /* the link's reference */
	node_hash_add(fs, n);
	list_add_tail(&n->sibling, &parent->children);
	if (n->is_dir)
		__atomic_add_fetch(&parent->nsubdirs, 1, __ATOMIC_RELAXED);
	if (node_is_object(n))
		list_add_tail(&n->all_link, &fs->all_nodes);
}

/* Make n unreachable. ns_lock held. The caller drops the link's reference (ns_unref) after
 * releasing ns_lock, and kills the object first if it is one. The node stays in (an object)
 * or joins (a directory, a symbolic link) fs->all_nodes until it is freed. */
void node_unlink(struct ipcfs *fs, struct node *n)
{
	node_hash_del(fs, n);
	list_del(&n->sibling);
	if (n->is_dir)
		__atomic_sub_fetch(&n->parent->nsubdirs, 1, __ATOMIC_RELAXED);
	if (!node_is_object(n))
		list_add_tail(&n->all_link, &fs->all_nodes);
	__atomic_store_n(&n->linked, false, __ATOMIC_RELAXED);
}

/* Remove an unlinked node's object from use (EIDRM to its waiters and handles), then drop the
 * link's reference. No lock held. */
void node_retire(struct node *n, int err)
{
	if (node_is_object(n) && n->type->kill)
		n->type->kill(n, err);
	ns_unref(n);
}

/* ---- attributes ---- */

void ns_touch(struct node *n, bool data)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ns_touch_at(n, data, &now);
}

void ns_touch_at(struct node *n, bool data, const struct timespec *when)
{
	if (data)
		n->mtime = *when;
	n->ctime = *when;
}

/* Fill st from n. inside a step on n. */
void node_fill_attr(struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = node_id(n);
	st->st_mode = (n->is_dir ? S_IFDIR : n->link ? S_IFLNK : S_IFREG) | n->mode;
	if (!__atomic_load_n(&n->linked, __ATOMIC_RELAXED))
		st->st_nlink = 0; /* removed, still open: what fstat says on every filesystem */
	else if (n->is_dir)
		st->st_nlink = 2 + __atomic_load_n(&n->nsubdirs, __ATOMIC_RELAXED);
	else
		st->st_nlink = 1;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_blksize = 4096;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
	if (n->link)
		st->st_size = (off_t)strlen(n->link); /* as lstat says of every symbolic link */
	else if (!n->is_dir && n->type->stat_size)
		n->type->stat_size(n, &st->st_size, &st->st_blocks);
}

double node_attr_timeout(const struct node *n)
{
	return n->is_dir ? IPCFS_DIR_ATTR_TIMEOUT : IPCFS_OBJ_ATTR_TIMEOUT;
}

/* Fill an entry reply for n and count the kernel's new reference. ns_lock held. */
void node_fill_entry(struct node *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = node_id(n);
	e->generation = n->generation;
	/* an IPC object's entry is never cached: the next path walk must come for a new
	 * inode (see alias_per_walk), and an alias's object may be removed or made again; in
	 * cluster mode no entry is: other mounts change the names */
	e->entry_timeout =
		n->alias_of || alias_per_walk(n) || n->fs->cluster ? 0 : IPCFS_ENTRY_TIMEOUT;
	e->attr_timeout = node_attr_timeout(n);
	store_begin(&target_of(n)->so);
	node_fill_attr(target_of(n), &e->attr); /* st_ino: the object's, the same for its aliases */
	store_end(&target_of(n)->so);
	if (n->nlookup++ == 0)
		ns_ref(n); /* the kernel's reference */
}

/* ---- setup and teardown ---- */

/* The inspection view: /.ipcfs and its read-only files (status.c), fixed like the type
 * directories. ns_lock not needed: nothing runs yet. */
static int make_view(struct ipcfs *fs)
{
	struct node *d = node_alloc(fs, &status_type, true, status_type.name, 0555, 0, 0);

	if (!d)
		return -ENOMEM;
	d->fixed = true;
	node_link(fs, fs->root, d);
	for (const char *const *name = status_files; *name; name++) {
		struct node *f = node_alloc(fs, &status_type, false, *name, 0444, 0, 0);

		if (!f)
			return -ENOMEM;
		f->fixed = true;
		node_link(fs, d, f);
	}
	return 0;
}

int ns_init(struct ipcfs *fs, const struct objtype *const *types, size_t ntypes)
{
	ipc_mutex_init(&fs->ns_lock, 0);
	ipc_mutex_init(&fs->cycle_lock, 0);
	ipc_mutex_init(&fs->defer_lock, 0);
	ipc_cond_init(&fs->defer_cond, 0);
	list_init(&fs->deferred);
	list_init(&fs->all_nodes);
	list_init(&fs->aliases);
	fs->hsize = 1024;
	fs->htab = calloc(fs->hsize, sizeof(*fs->htab));
	if (!fs->htab || store_obj_init(fs->store, &fs->sem_group, 0) != 0)
		return -ENOMEM;
	fs->root = node_alloc(fs, NULL, true, "", 0755, getuid(), getgid());
	if (!fs->root)
		return -ENOMEM;
	fs->root->fixed = true;
	fs->root->linked = true;
	fs->root->refs = 1;
	fs->root->parent = fs->root;
	for (size_t i = 0; i < ntypes; i++) {
		struct node *d = node_alloc(fs, types[i], true, types[i]->name, 01777, 0, 0);

		if (!d)
			return -ENOMEM;
		d->fixed = true;
		node_link(fs, fs->root, d);
	}
	return make_view(fs);
}

void ns_shutdown(struct ipcfs *fs)
{
	struct node **all;
	size_t count = 0, i = 0;
	struct node *n;

	ipc_mutex_lock(&fs->ns_lock);
	fs->shutting_down = true;
	list_for_each_entry(n, &fs->all_nodes, all_link) count++;
	all = calloc(count ? count : 1, sizeof(*all));
	list_for_each_entry(n, &fs->all_nodes, all_link)
	{
		if (!all)
			break;
		/* removed objects are dead already (EIDRM) and have no waiters; the directories
		 * here are removed ones */
		if (n->linked && ref_unless_zero(n))
			all[i++] = n;
	}
	ipc_mutex_unlock(&fs->ns_lock);
	for (size_t k = 0; k < i; k++) {
		if (all[k]->type->kill)
			all[k]->type->kill(all[k], EIO);
		ns_unref(all[k]);
	}
	free(all);
}

/* Free the whole tree at exit. Nothing else runs any more. */
static void free_subtree(struct node *d)
{
	struct node *n, *tmp;

	list_for_each_entry_safe(n, tmp, &d->children, sibling)
	{
		if (n->is_dir)
			free_subtree(n);
		list_del(&n->sibling);
		node_free(n);
	}
}

void ns_destroy(struct ipcfs *fs)
{
	struct node *n, *tmp;

	/* aliases the kernel still knew: just memory now, their objects are freed below */
	list_for_each_entry_safe(n, tmp, &fs->aliases, all_link)
	{
		list_del(&n->all_link);
		node_free(n);
	}

	/* nodes removed while still referenced: no longer in the tree */
	list_for_each_entry_safe(n, tmp, &fs->all_nodes, all_link)
	{
		if (!n->linked) {
			list_del(&n->all_link);
			node_free(n);
		}
	}
	if (fs->root) {
		free_subtree(fs->root);
		node_free(fs->root);
	}
	if (fs->sem_group.st)
		store_obj_fini(&fs->sem_group);
	free(fs->htab);
}

int ns_path_locked(struct node *n, char *buf, size_t len)
{
	struct ipcfs *fs = n->fs;
	size_t pos = len;
	int rc = 0;

	if (len == 0)
		return -ENAMETOOLONG;
	buf[--pos] = '\0';
	if (!n->linked)
		rc = -ENOENT;
	for (; rc == 0 && n != fs->root; n = n->parent) {
		size_t l = strlen(n->name);

		if (pos < l + 1) {
			rc = -ENAMETOOLONG;
			break;
		}
		pos -= l;
		memcpy(buf + pos, n->name, l);
		buf[--pos] = '/';
	}
	if (rc == 0)
		memmove(buf, buf + pos, len - pos);
	return rc;
}

int ns_path(struct node *n, char *buf, size_t len)
{
	int rc;

	ipc_mutex_lock(&n->fs->ns_lock);
	rc = ns_path_locked(n, buf, len);
	ipc_mutex_unlock(&n->fs->ns_lock);
	return rc;
}

/* ---- handles ---- */

struct handle *handle_new(struct node *n, int flags, pid_t pid)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->node = n;
	h->mo.flags = flags;
	h->mo.pid = pid;
	ns_ref(n);
	store_begin(&n->so);
	list_add_tail(&h->link, &n->handles);
	store_end(&n->so);
	return h;
}

void handle_free(struct handle *h)
{
	LIST_HEAD_DECL(pw);

	if (!h)
		return;
	if (h->copen)
		replica_close_handle(h); /* cluster mode: its CLOSE releases what it held */
	store_begin(&h->node->so);
	list_del(&h->link);
	poll_disarm(h, &pw);
	store_end(&h->node->so);
	poll_notify(&pw); /* a poller on a closed file: let it see the close */
	if (h->via) {
		/* no file open through it any more: free for the next walk (alias_walk) */
		__atomic_sub_fetch(&h->via->opens, 1, __ATOMIC_SEQ_CST);
		ns_unref(h->via);
	}
	ns_unref(h->node);
	free(h);
}

/*
 * Does process pid have a descriptor open on the object with inode number ino of our mount?
 * The descriptor's path only narrows the search (it may read "... (deleted)": every lookup
 * of an object hands the kernel a new inode, see ns.c); its st_ino tells, and statx with
 * AT_STATX_DONT_SYNC reads the kernel's cached one instead of asking us (we are the one
 * thread that would have to answer).
 */
static bool has_fd_on(pid_t pid, const char *mountpoint, uint64_t ino)
{
	char dir[64], link[PATH_MAX + 32], target[PATH_MAX];
	size_t mlen = strlen(mountpoint);
	struct dirent *de;
	bool found = false;
	struct statx stx;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strncmp(target, mountpoint, mlen) != 0 || target[mlen] != '/')
			continue;
		if (statx(AT_FDCWD, link, AT_STATX_DONT_SYNC, STATX_INO, &stx) == 0)
			found = stx.stx_ino == ino;
	}
	closedir(d);
	return found;
}

bool node_open_by(struct node *n, pid_t requester)
{
	pid_t tg;

	return proc_identify(requester, &tg, NULL, 0) == 0 &&
	       has_fd_on(tg, n->fs->mountpoint, ns_ino(n));
}

void lock_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	struct node *n = h->node;
	int err;

	(void)size;
	(void)off;
	(void)flags;
	store_begin(&n->so);
	err = n->dead ? n->dead_err : 0;
	store_end(&n->so);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, NULL, 0); /* end of file: a lock carries no data */
}

void lock_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		int flags)
{
	(void)h;
	(void)buf;
	(void)size;
	(void)off;
	(void)flags;
	fuse_reply_err(req, EPERM);
}

void lock_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	/* reads never block (end of file) and writes fail at once: always ready */
	(void)h;
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
}
