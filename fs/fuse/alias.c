/* SPDX-License-Identifier: MIT */
/*
 * alias.c - nodes that stand for an object under another name or inode: mq/q@P (a queue at a
 * send priority) and the per-walk inode every path walk of an IPC object gets.
 *
 * Implementation notes:
 * - An alias is a node with alias_of set: neither linked nor charged, listed in fs->aliases
 *   until freed, holding a reference to its object. Operations go to the object (target_of);
 *   st_ino is the object's.
 * - Why per-walk inodes, and when one is handed out again: alias_per_walk and alias_walk.
 *
 * Locking: fs->ns_lock for creating and handing out aliases; an alias's opens and lent flags
 * are atomic (see struct node).
 */
#include "node.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/*
 * Does a lookup of n hand the kernel an inode of its own for that path walk? The kernel
 * serialises write() per inode (i_rwsem) for the whole WRITE request, and a parked write (P(N)
 * on a semaphore, a full FIFO or queue) would then block every other writer of the object,
 * even the V that would release it. So each path walk of an IPC object gets a kernel inode
 * (an alias with the same st_ino) that no other open file shares: see alias_walk(). Not for
 * shared-memory segments: processes must share one inode to share its page cache.
 */
bool alias_per_walk(const struct node *n)
{
	return node_is_object(n) && !n->fixed && n->type->direct_io;
}

/* ---- mq/q@P: a queue's name at a priority ---- */

/* If name is "BASE@P" with a non-empty BASE and 0 <= P < MQ_PRIOS (one or two digits),
 * return the length of BASE and set *prio; else 0. Only in the mq tree. */
size_t alias_split(const struct node *dir, const char *name, unsigned *prio)
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

	if (!a || !(a->name = strdup(name)) || store_obj_init(fs->store, &a->so, 0) != 0) {
		if (a)
			free(a->name);
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
	list_init(&a->cwaiters);
	list_init(&a->copens);
	a->alias_of = target;
	a->alias_prio = prio;
	ns_ref(target);
	list_add_tail(&a->all_link, &fs->aliases);
	return a;
}

/* The alias node for BASE@P in dir, if BASE is a queue there; NULL otherwise. ns_lock held. */
struct node *alias_lookup(struct ipcfs *fs, struct node *dir, const char *name)
{
	unsigned prio;
	size_t len = alias_split(dir, name, &prio);
	char base[IPCFS_NAME_MAX + 1];
	struct node *target;

	if (!len)
		return NULL;
	memcpy(base, name, len);
	base[len] = '\0';
	target = node_find(fs, dir, base);
	if (!target || !node_is_object(target))
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
struct node *alias_walk(struct ipcfs *fs, struct node *n, const char *name)
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
void alias_opened(struct node *a, struct handle *h)
{
	if (!a->per_walk)
		return; /* the object itself, or a q@P alias */
	ns_ref(a);
	h->via = a;
	__atomic_add_fetch(&a->opens, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&a->lent, false, __ATOMIC_SEQ_CST);
}
