/* SPDX-License-Identifier: MIT */
/*
 * ns.c - the namespace: nodes, names, attributes, directories, and the lifetime of objects.
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
 * - readdir works on a snapshot of the directory, so offsets stay valid whatever is created or
 *   removed meanwhile; a read from offset 0 (the first, or after rewinddir) takes a fresh one,
 *   so a program that deletes while scanning and then rescans sees what is left.
 * - fs->all_nodes holds every object until it is freed, and every removed directory until it
 *   is freed: the kernel or an open handle may still hold them when the daemon stops, and
 *   ns_destroy frees them then (a linked directory is freed with the tree).
 *
 * Locking: fs->ns_lock for the tree, node->lock for attributes (see ipcfs.h).
 */
#include "ipcfs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ipcfs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static fuse_ino_t nodeid(const struct node *n)
{
	return n == n->fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

fuse_ino_t ns_ino(const struct node *n)
{
	return nodeid(n->alias_of ? n->alias_of : n);
}

struct node *ns_node(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return req_fs(req)->root;
	return (struct node *)(uintptr_t)ino;
}

/* The node operations apply to: an alias (mq/q@P) stands for its queue. */
static struct node *target_of(struct node *n)
{
	return n->alias_of ? n->alias_of : n;
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
static struct node *hash_find(struct ipcfs *fs, const struct node *parent, const char *name)
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

static void hash_add(struct ipcfs *fs, struct node *n)
{
	size_t b;

	if (fs->hcount >= fs->hsize)
		hash_grow(fs);
	b = name_hash(n->parent, n->name) & (fs->hsize - 1);
	n->hnext = fs->htab[b];
	fs->htab[b] = n;
	fs->hcount++;
}

static void hash_del(struct ipcfs *fs, struct node *n)
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

/* ---- node lifetime ---- */

static struct node *node_alloc(struct ipcfs *fs, const struct objtype *type, bool is_dir,
			       const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	struct node *n = calloc(1, sizeof(*n));
	struct timespec now;

	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name)
		goto free_node;
	if (!is_dir && type->obj_size) {
		n->obj = calloc(1, type->obj_size);
		if (!n->obj)
			goto free_name;
	}
	n->fs = fs;
	n->type = type;
	n->is_dir = is_dir;
	n->generation = __atomic_add_fetch(&fs->generation, 1, __ATOMIC_RELAXED);
	list_init(&n->children);
	list_init(&n->sibling);
	list_init(&n->all_link);
	list_init(&n->pollers);
	list_init(&n->handles);
	ipc_mutex_init(&n->lock, 0);
	n->mode = mode & 07777;
	n->uid = uid;
	n->gid = gid;
	clock_gettime(CLOCK_REALTIME, &now);
	n->atime = n->mtime = n->ctime = now;
	n->charge = sizeof(*n) + strlen(name) + 1 + (is_dir ? 0 : type->obj_size);
	if (!is_dir && type->init && type->init(n) != 0)
		goto free_obj;
	return n;

free_obj:
	free(n->obj);
free_name:
	free(n->name);
free_node:
	free(n);
	return NULL;
}

/* Free a node that was never charged (or the whole tree at exit). */
static void node_free(struct node *n)
{
	/* Handles are left only when the daemon stops with files still open (the kernel sends
	 * no RELEASE after that): close them as the kernel would have. */
	while (!list_empty(&n->handles)) {
		struct handle *h = list_first_entry(&n->handles, struct handle, link);
		LIST_HEAD_DECL(pw);

		if (n->type && n->type->release)
			n->type->release(h);
		ipc_mutex_lock(&n->lock);
		list_del(&h->link);
		poll_disarm(h, &pw);
		ipc_mutex_unlock(&n->lock);
		poll_discard(&pw);
		free(h);
	}
	if (!n->is_dir && n->obj && n->type->destroy)
		n->type->destroy(n);
	free(n->obj);
	free(n->name);
	free(n);
}

/* Free a charged node nobody references any more, and give back its charge. Takes ns_lock
 * (the node is in fs->all_nodes until now). */
static void node_discard(struct node *n)
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
static int charge(struct ipcfs *fs, size_t bytes)
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
static void link_node(struct ipcfs *fs, struct node *parent, struct node *n)
{
	n->parent = parent;
	/* linked and nsubdirs are also read by fill_attr, under node->lock only */
	__atomic_store_n(&n->linked, true, __ATOMIC_RELAXED);
	ns_ref(n); /* the link's reference */
	hash_add(fs, n);
	list_add_tail(&n->sibling, &parent->children);
	if (n->is_dir)
		__atomic_add_fetch(&parent->nsubdirs, 1, __ATOMIC_RELAXED);
	else
		list_add_tail(&n->all_link, &fs->all_nodes);
}

/* Make n unreachable. ns_lock held. The caller drops the link's reference (ns_unref) after
 * releasing ns_lock, and kills the object first if it is one. The node stays in (an object)
 * or joins (a directory) fs->all_nodes until it is freed. */
static void unlink_node(struct ipcfs *fs, struct node *n)
{
	hash_del(fs, n);
	list_del(&n->sibling);
	if (n->is_dir) {
		__atomic_sub_fetch(&n->parent->nsubdirs, 1, __ATOMIC_RELAXED);
		list_add_tail(&n->all_link, &fs->all_nodes);
	}
	__atomic_store_n(&n->linked, false, __ATOMIC_RELAXED);
}

/* Remove an unlinked node's object from use (EIDRM to its waiters and handles), then drop the
 * link's reference. No lock held. */
static void retire(struct node *n, int err)
{
	if (!n->is_dir && n->type->kill)
		n->type->kill(n, err);
	ns_unref(n);
}

/* ---- attributes ---- */

void ns_touch(struct node *n, bool data)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (data)
		n->mtime = now;
	n->ctime = now;
}

/* Fill st from n. n->lock held. */
static void fill_attr(struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = nodeid(n);
	st->st_mode = (n->is_dir ? S_IFDIR : S_IFREG) | n->mode;
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
	if (!n->is_dir && n->type->stat_size)
		n->type->stat_size(n, &st->st_size, &st->st_blocks);
}

static double attr_timeout(const struct node *n)
{
	return n->is_dir ? IPCFS_DIR_ATTR_TIMEOUT : IPCFS_OBJ_ATTR_TIMEOUT;
}

/*
 * Does a lookup of n hand the kernel an inode of its own for that path walk? The kernel
 * serialises write() per inode (i_rwsem) for the whole WRITE request, and a parked write (P(N)
 * on a semaphore, a full FIFO or queue) would then block every other writer of the object,
 * even the V that would release it. So each path walk of an IPC object gets a kernel inode
 * (an alias with the same st_ino) that no other open file shares: see walk_inode(). Not for
 * shared-memory segments: processes must share one inode to share its page cache.
 */
static bool per_lookup_inode(const struct node *n)
{
	return !n->is_dir && !n->fixed && n->type->direct_io;
}

/* Fill an entry reply for n and count the kernel's new reference. ns_lock held. */
static void fill_entry(struct node *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = nodeid(n);
	e->generation = n->generation;
	/* an IPC object's entry is never cached: the next path walk must come for a new
	 * inode (see per_lookup_inode), and an alias's object may be removed or made again */
	e->entry_timeout = n->alias_of || per_lookup_inode(n) ? 0 : IPCFS_ENTRY_TIMEOUT;
	e->attr_timeout = attr_timeout(n);
	ipc_mutex_lock(&target_of(n)->lock);
	fill_attr(target_of(n), &e->attr); /* st_ino: the object's, the same for its aliases */
	ipc_mutex_unlock(&target_of(n)->lock);
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
	link_node(fs, fs->root, d);
	for (const char *const *name = status_files; *name; name++) {
		struct node *f = node_alloc(fs, &status_type, false, *name, 0444, 0, 0);

		if (!f)
			return -ENOMEM;
		f->fixed = true;
		link_node(fs, d, f);
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
	if (!fs->htab)
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
		link_node(fs, fs->root, d);
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
	ipc_mutex_lock(&n->lock);
	list_add_tail(&h->link, &n->handles);
	ipc_mutex_unlock(&n->lock);
	return h;
}

void handle_free(struct handle *h)
{
	LIST_HEAD_DECL(pw);

	if (!h)
		return;
	ipc_mutex_lock(&h->node->lock);
	list_del(&h->link);
	poll_disarm(h, &pw);
	ipc_mutex_unlock(&h->node->lock);
	poll_notify(&pw); /* a poller on a closed file: let it see the close */
	if (h->via) {
		/* no file open through it any more: free for the next walk (walk_inode) */
		__atomic_sub_fetch(&h->via->opens, 1, __ATOMIC_SEQ_CST);
		ns_unref(h->via);
	}
	ns_unref(h->node);
	free(h);
}

/* ---- namespace operations ---- */

/* ---- mq/q@P: a queue's name at a priority ---- */

/* If name is "BASE@P" with a non-empty BASE and 0 <= P < MQ_PRIOS (one or two digits),
 * return the length of BASE and set *prio; else 0. Only in the mq tree. */
static size_t alias_split(const struct node *dir, const char *name, unsigned *prio)
{
	const char *at = strrchr(name, '@');
	size_t digits;

	if (dir->type != &mq_type || !at || at == name)
		return 0;
	digits = strlen(at + 1);
	if (digits < 1 || digits > 2 || !isdigit((unsigned char)at[1]) ||
	    (digits == 2 && !isdigit((unsigned char)at[2])))
		return 0;
	*prio = (unsigned)atoi(at + 1);
	return *prio < MQ_PRIOS ? (size_t)(at - name) : 0;
}

/* A new alias node standing for target (at priority prio, for queues), or NULL when out of
 * memory. It is neither linked nor charged; it holds a reference to target and is listed in
 * fs->aliases until freed. ns_lock held. */
static struct node *alias_new(struct ipcfs *fs, struct node *target, const char *name,
			      unsigned prio)
{
	struct node *a = calloc(1, sizeof(*a));

	if (!a || !(a->name = strdup(name))) {
		free(a);
		return NULL;
	}
	a->fs = fs;
	a->type = target->type;
	a->generation = __atomic_add_fetch(&fs->generation, 1, __ATOMIC_RELAXED);
	list_init(&a->children);
	list_init(&a->sibling);
	list_init(&a->all_link);
	list_init(&a->pollers);
	list_init(&a->handles);
	ipc_mutex_init(&a->lock, 0);
	a->alias_of = target;
	a->alias_prio = prio;
	ns_ref(target);
	list_add_tail(&a->all_link, &fs->aliases);
	return a;
}

/* The alias node for BASE@P in dir, if BASE is a queue there; NULL otherwise. ns_lock held. */
static struct node *alias_lookup(struct ipcfs *fs, struct node *dir, const char *name)
{
	unsigned prio;
	size_t len = alias_split(dir, name, &prio);
	char base[IPCFS_NAME_MAX + 1];
	struct node *target;

	if (!len)
		return NULL;
	memcpy(base, name, len);
	base[len] = '\0';
	target = hash_find(fs, dir, base);
	if (!target || target->is_dir)
		return NULL;
	return alias_new(fs, target, name, prio);
}

/*
 * The inode for a path walk of object n. Entries of IPC objects are never cached, so every
 * walk asks (LOOKUP, also to revalidate the dentry it has). The alias handed to the previous
 * walk is handed again while it is free: no file is open through it (none was, or the last
 * one was released) and no walk holds it without having opened it. Then the kernel's dentry
 * stays valid (one LOOKUP per walk, not two: a revalidation that got another inode would fail
 * and look up again). Otherwise a new alias: a walk that got the alias and has
 * not opened yet (it may be a stat, which never opens) keeps it to itself. An open through an
 * alias counts in alias->opens before it clears lent, so a lookup that sees lent clear also
 * sees the open. ns_lock held; NULL when out of memory.
 */
static struct node *walk_inode(struct ipcfs *fs, struct node *n, const char *name)
{
	struct node *a = n->walk_alias;

	/* a->nlookup > 0: the kernel still holds the alias, and with it the reference that
	 * keeps it alive (dropped only once nlookup is 0, under ns_lock). An alias the kernel has
	 * forgotten may be on its way to node_discard, which has yet to clear walk_alias. */
	if (!a || a->nlookup == 0 || __atomic_load_n(&a->lent, __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&a->opens, __ATOMIC_SEQ_CST) != 0) {
		a = alias_new(fs, n, name, 0);
		if (!a)
			return NULL;
		a->per_walk = true;
		n->walk_alias = a;
	}
	__atomic_store_n(&a->lent, true, __ATOMIC_SEQ_CST);
	return a;
}

/* An open through ino (an alias handed to a walk, or not): note it on h. */
static void walk_opened(struct node *a, struct handle *h)
{
	if (!a->per_walk)
		return; /* the object itself, or a q@P alias */
	ns_ref(a);
	h->via = a;
	__atomic_add_fetch(&a->opens, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&a->lent, false, __ATOMIC_SEQ_CST);
}

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
	n = hash_find(fs, dir, name);
	if (n && per_lookup_inode(n))
		n = walk_inode(fs, n, name); /* NULL when out of memory: answered ENOENT */
	else if (!n)
		n = alias_lookup(fs, dir, name);
	if (n) {
		fill_entry(n, &e);
	} else {
		/* a negative entry: the kernel may remember the name is free, since every
		 * creation goes through it; not for q@P names, which a new q would make valid */
		unsigned prio;

		memset(&e, 0, sizeof(e));
		e.entry_timeout = alias_split(dir, name, &prio) ? 0 : IPCFS_ENTRY_TIMEOUT;
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
	ipc_mutex_lock(&n->lock);
	fill_attr(n, &st);
	ipc_mutex_unlock(&n->lock);
	fuse_reply_attr(req, &st, attr_timeout(n));
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
	if ((to_set & FUSE_SET_ATTR_SIZE) && n->is_dir) {
		fuse_reply_err(req, EISDIR);
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
	clock_gettime(CLOCK_REALTIME, &now);
	ipc_mutex_lock(&n->lock);
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
	fill_attr(n, &st);
	ipc_mutex_unlock(&n->lock);
	fuse_reply_attr(req, &st, attr_timeout(n));
}

/*
 * Make a node called name in dir for the caller of req, charged against the limits but not
 * yet linked: a new object can be opened before anyone else can see it. Returns 0, -ENOMEM,
 * -ENOSPC or a name error; the node is released with node_discard.
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
	ipc_mutex_lock(&dir->lock);
	if (dir->mode & S_ISGID) {
		gid = dir->gid;
		if (is_dir)
			mode |= S_ISGID;
	}
	ipc_mutex_unlock(&dir->lock);
	*out = node_alloc(req_fs(req), dir->type, is_dir, name, mode, ctx->uid, gid);
	if (!*out)
		return -ENOMEM;
	rc = charge(req_fs(req), (*out)->charge);
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
	else if (hash_find(fs, dir, n->name))
		rc = -EEXIST;
	if (rc == 0) {
		link_node(fs, dir, n);
		ipc_mutex_lock(&dir->lock);
		ns_touch(dir, true);
		ipc_mutex_unlock(&dir->lock);
		fill_entry(n, e);
	}
	ipc_mutex_unlock(&fs->ns_lock);
	return rc;
}

static void make_entry(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		       bool is_dir)
{
	struct node *dir = ns_node(req, parent), *n;
	struct fuse_entry_param e;
	int rc = make_node(req, dir, name, mode, is_dir, &n);

	if (rc == 0) {
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
	return t->open(req, h, fi, create);
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
	if (!h) {
		rc = -ENOMEM;
		goto free_node;
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

	if (n->is_dir) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	h = handle_new(n, fi->flags, fuse_req_ctx(req)->pid);
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	h->mo.prio = a->alias_prio;
	walk_opened(a, h);
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
	n = hash_find(fs, dir, name);
	if (!n)
		rc = -ENOENT;
	else if (n->fixed)
		rc = -EPERM;
	else if (is_dir && !n->is_dir)
		rc = -ENOTDIR;
	else if (!is_dir && n->is_dir)
		rc = -EISDIR;
	else if (is_dir && !list_empty(&n->children))
		rc = -ENOTEMPTY;
	if (rc == 0) {
		unlink_node(fs, n);
		ipc_mutex_lock(&dir->lock);
		ns_touch(dir, true);
		ipc_mutex_unlock(&dir->lock);
	}
	ipc_mutex_unlock(&fs->ns_lock);
	if (rc == 0)
		retire(n, EIDRM);
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

void ns_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
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
	rc = check_new_name(to, newname);
	if (rc == 0 && !(newcopy = strdup(newname)))
		rc = -ENOMEM;
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}

	ipc_mutex_lock(&fs->ns_lock);
	n = hash_find(fs, from, name);
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
		victim = hash_find(fs, to, newname);
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
			unlink_node(fs, victim);
		hash_del(fs, n);
		list_del(&n->sibling);
		if (n->is_dir) {
			__atomic_sub_fetch(&from->nsubdirs, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&to->nsubdirs, 1, __ATOMIC_RELAXED);
		}
		free(n->name);
		n->name = newcopy;
		newcopy = NULL;
		n->parent = to;
		hash_add(fs, n);
		list_add_tail(&n->sibling, &to->children);
		ipc_mutex_lock(&n->lock);
		ns_touch(n, false);
		ipc_mutex_unlock(&n->lock);
		/* both directories' contents changed (ls -t, make, backup tools look) */
		ipc_mutex_lock(&from->lock);
		ns_touch(from, true);
		ipc_mutex_unlock(&from->lock);
		if (to != from) {
			ipc_mutex_lock(&to->lock);
			ns_touch(to, true);
			ipc_mutex_unlock(&to->lock);
		}
	}
unlock:
	ipc_mutex_unlock(&fs->ns_lock);
	free(newcopy);
	if (victim)
		retire(victim, EIDRM);
	fuse_reply_err(req, -rc);
}

/* ---- directories ---- */

struct dirent_snap {
	fuse_ino_t ino;
	bool is_dir;
	char *name;
};

struct dirsnap {
	size_t count;
	struct dirent_snap ent[];
};

/* An open directory. The kernel sends one READDIR at a time per open directory (it holds the
 * file's readdir lock), so nothing here needs a lock. */
struct dirhandle {
	struct node *dir;     /* holds a node reference */
	struct dirsnap *snap; /* what readdir lists; NULL until the first read */
};

static void dirsnap_free(struct dirsnap *s)
{
	for (size_t i = 0; s && i < s->count; i++)
		free(s->ent[i].name);
	free(s);
}

/* The entries of d now: ".", ".." and its children. NULL when out of memory. A name whose
 * copy failed is left out of the listing. Takes ns_lock. */
static struct dirsnap *dirsnap_take(struct ipcfs *fs, struct node *d)
{
	struct dirsnap *s;
	size_t count = 2, i = 0;
	struct node *n;

	ipc_mutex_lock(&fs->ns_lock);
	list_for_each_entry(n, &d->children, sibling) count++;
	s = malloc(sizeof(*s) + count * sizeof(s->ent[0]));
	if (!s)
		goto unlock;
	s->ent[i++] = (struct dirent_snap){ nodeid(d), true, strdup(".") };
	s->ent[i++] = (struct dirent_snap){ nodeid(d->parent), true, strdup("..") };
	list_for_each_entry(n, &d->children, sibling) s->ent[i++] =
		(struct dirent_snap){ nodeid(n), n->is_dir, strdup(n->name) };
	s->count = i;
unlock:
	ipc_mutex_unlock(&fs->ns_lock);
	return s;
}

static void dirhandle_free(struct dirhandle *dh)
{
	dirsnap_free(dh->snap);
	ns_unref(dh->dir);
	free(dh);
}

void ns_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *d = ns_node(req, ino);
	struct dirhandle *dh;

	if (!d->is_dir) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	dh = calloc(1, sizeof(*dh));
	if (!dh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ns_ref(d);
	dh->dir = d;
	fi->fh = (uint64_t)(uintptr_t)dh;
	if (fuse_reply_open(req, fi) == -ENOENT)
		dirhandle_free(dh); /* the opener is gone: no releasedir will come */
}

void ns_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct dirhandle *dh = (struct dirhandle *)(uintptr_t)fi->fh;
	struct dirsnap *s;
	char *buf;
	size_t pos = 0;

	(void)ino;
	if (off == 0 || !dh->snap) {
		/* a listing (re)starts: show the directory as it is now */
		s = dirsnap_take(req_fs(req), dh->dir);
		if (!s) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		dirsnap_free(dh->snap);
		dh->snap = s;
	}
	s = dh->snap;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; i < s->count; i++) {
		struct stat st = { .st_ino = s->ent[i].ino,
				   .st_mode = s->ent[i].is_dir ? S_IFDIR : S_IFREG };
		size_t len;

		if (!s->ent[i].name)
			continue; /* strdup failed: leave the entry out */
		len = fuse_add_direntry(req, buf + pos, size - pos, s->ent[i].name, &st,
					(off_t)i + 1);
		if (len > size - pos)
			break;
		pos += len;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

void ns_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	dirhandle_free((struct dirhandle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}
