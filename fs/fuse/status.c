/* SPDX-License-Identifier: MIT */
/*
 * status.c - the inspection view: /.ipcfs/status, status.json, deadlock and graph.dot.
 *
 * Implementation notes:
 * - Each open takes one snapshot of every object (snapshot.h) and renders the file from it
 *   into a buffer the handle keeps; reads at any offset serve that buffer, so one open sees
 *   one consistent document however long it takes to read, and `cat` twice sees two.
 * - A snapshot locks every object at once (ns_lock, then each n->so in fs->all_nodes
 *   order; no other path holds two node locks), so holders and waiters of different objects
 *   are seen at the same instant: the deadlock matrices never mix two moments, which could
 *   show a cycle that never existed. Nothing is answered, woken or changed meanwhile; the
 *   types' inspect hooks only copy. What needs /proc (process, group, command of each caller)
 *   is read after the locks are dropped.
 * - Reading the view never performs an operation: it is not an object, opening it takes
 *   nothing, and it cannot be written.
 * - It shows a reader only the objects it could reach by path: every directory above them
 *   searchable by the reader (root sees all), as a path walk would check, so a private
 *   directory's objects are not listed to others under allow_other.
 *
 * Locking: see above. The rendered document belongs to the handle (state[0]) and is counted:
 * a read holds it until its reply is written, since the reader may close, and the RELEASE
 * run on another thread, as soon as the kernel has copied the reply.
 */
#include "inspect/deadlock.h"
#include "ipcfs.h"
#include "inspect/snapshot.h"
#include "store/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const status_files[] = { "status", "status.json", "deadlock", "graph.dot", NULL };

/*
 * Fill in each caller's process, group and command (no lock held). drop: leave out those that
 * have exited (holders: a semaphore's table keeps them until it needs room, and they hold
 * nothing any more); else they stay, shown as exited. Returns how many are left. In cluster
 * mode each is named after its host; those of other hosts cannot be looked up here: they
 * stay as their daemon reported them (snapshot.h).
 */
static size_t resolve(struct ipcfs *fs, struct snap_proc *p, size_t n, bool drop)
{
	size_t w = 0;

	for (size_t k = 0; k < n; k++) {
		pid_t tgid;

		if (fs->cluster) {
			uint64_t host = p[k].hostid ? p[k].hostid : fs->host;

			cluster_host_label(fs->cluster, host, p[k].host, sizeof(p[k].host));
			if (host != fs->host) {
				p[w++] = p[k];
				continue;
			}
		}
		if (proc_identify(p[k].tid, &tgid, p[k].comm, sizeof(p[k].comm)) == 0) {
			p[k].pid = tgid;
			p[k].pgid = getpgid(p[k].tid);
		} else if (drop) {
			continue;
		}
		p[w++] = p[k];
	}
	return w;
}

/* One object's generic part and its type's. inside a step on n. */
static void inspect_node(struct node *n, struct snapshot *s, const char *path)
{
	struct snap_obj *o = snapshot_add_obj(s);
	struct handle *h;

	if (!o)
		return;
	o->path = strdup(path);
	if (!o->path) {
		s->nobjs--; /* keep the snapshot free of objects without a path */
		s->incomplete = true;
		return;
	}
	snprintf(o->type, sizeof(o->type), "%s", n->type->name);
	o->mode = n->mode;
	o->uid = n->uid;
	o->gid = n->gid;
	list_for_each_entry(h, &n->handles, link) o->opens++;
	o->ops = __atomic_load_n(&n->ops, __ATOMIC_RELAXED);
	if (n->type->inspect)
		n->type->inspect(n, s, o);
	s->parked += o->nwaits;
}

/* Is object n reachable by r through searchable directories? ns_lock held, no node lock. */
static bool visible(struct node *n, const struct caller *r)
{
	struct node *root = n->fs->root;

	if (r->uid == 0)
		return true;
	for (struct node *d = n->parent; d != root; d = d->parent)
		if (!caller_may(r, d, X_OK))
			return false;
	return caller_may(r, root, X_OK);
}

static int by_step(const void *a, const void *b)
{
	uintptr_t x = store_step_id(&(*(struct node *const *)a)->so);
	uintptr_t y = store_step_id(&(*(struct node *const *)b)->so);

	return x < y ? -1 : x > y;
}

/* Is nodes[i]'s step the one begun for nodes[i - 1] (sorted by_step)? */
static bool same_step(struct node *const *nodes, size_t i)
{
	return i > 0 && store_step_id(&nodes[i]->so) == store_step_id(&nodes[i - 1]->so);
}

/* snapshot_take - every object of fs that r may reach, at one instant, into s (zeroed).
 * Returns 0 or -ENOMEM (s may then be incomplete, and must be freed either way). */
static int snapshot_take(struct ipcfs *fs, const struct caller *r, struct snapshot *s)
{
	char *path = malloc(PATH_MAX);
	struct node **nodes = NULL, *n;
	size_t count = 0, nshown = 0;

	if (!path)
		return -ENOMEM;
	ipc_mutex_lock(&fs->ns_lock);
	list_for_each_entry(n, &fs->all_nodes, all_link) count++;
	nodes = malloc((count + 1) * sizeof(*nodes));
	if (!nodes) {
		ipc_mutex_unlock(&fs->ns_lock);
		free(path);
		return -ENOMEM;
	}
	/* first which to show (directory locks, one at a time), then lock those together */
	list_for_each_entry(n, &fs->all_nodes, all_link)
	{
		/* removed objects are gone from the tree; the view's own files are no objects */
		if (n->linked && !n->fixed && node_is_object(n) && visible(n, r))
			nodes[nshown++] = n;
	}
	/* one step per group of objects that share theirs (every semaphore: sem.c), in order */
	qsort(nodes, nshown, sizeof(*nodes), by_step);
	for (size_t i = 0; i < nshown; i++) {
		if (!same_step(nodes, i))
			store_begin(&nodes[i]->so);
		if (ns_path_locked(nodes[i], path, PATH_MAX) == 0)
			inspect_node(nodes[i], s, path);
	}
	clock_gettime(CLOCK_REALTIME, &s->time);
	s->objects = __atomic_load_n(&fs->nobjects, __ATOMIC_RELAXED);
	s->memory = __atomic_load_n(&fs->budget.used, __ATOMIC_RELAXED);
	s->max_objects = fs->max_objects;
	s->max_memory = fs->budget.max;
	for (size_t i = 0; i < nshown; i++)
		if (!same_step(nodes, i))
			store_end(&nodes[i]->so);
	ipc_mutex_unlock(&fs->ns_lock);
	free(nodes);
	free(path);

	for (size_t i = 0; i < s->nobjs; i++) {
		s->objs[i].nholds = resolve(fs, s->objs[i].holds, s->objs[i].nholds, true);
		resolve(fs, s->objs[i].waits, s->objs[i].nwaits, false);
	}
	snapshot_sort(s);
	return 0;
}

/* Render file name of the view for r from a fresh snapshot into a malloc'd buffer. */
static int render(struct ipcfs *fs, const struct caller *r, const char *name, char **buf,
		  size_t *len)
{
	struct snapshot s = { 0 };
	struct deadlock d;
	FILE *out;
	int rc = snapshot_take(fs, r, &s);

	if (rc)
		goto free_snapshot;
	out = open_memstream(buf, len);
	if (!out) {
		rc = -ENOMEM;
		goto free_snapshot;
	}
	if (strcmp(name, "status") == 0) {
		snapshot_write_text(&s, out);
	} else if (strcmp(name, "status.json") == 0) {
		snapshot_write_json(&s, out);
	} else if ((rc = deadlock_build(&s, DEADLOCK_BY_PROCESS, &d)) == 0) {
		if (strcmp(name, "deadlock") == 0)
			deadlock_write_text(&d, out);
		else
			deadlock_write_graph(&d, out, true);
		deadlock_free(&d);
	} else if (rc == -E2BIG) {
		fprintf(out, "%s%zu processes x %zu resources: more than %u cells, no matrices\n",
			strcmp(name, "deadlock") == 0 ? "" : "// ", d.nrows, d.nres,
			DEADLOCK_MAX_CELLS);
		rc = 0;
	}
	if (fclose(out) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
free_snapshot:
	snapshot_free(&s);
	return rc;
}

/* A rendered file of the view, shared by its handle and the reads in flight. */
struct doc {
	uint32_t refs; /* atomic */
	size_t len;
	char *text;
};

static void doc_put(struct doc *d)
{
	if (__atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(d->text);
		free(d);
	}
}

static int status_open(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	struct caller r;
	struct doc *d;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (create)
		return -EPERM; /* cannot happen: nothing is created in the view */
	if ((h->mo.flags & O_ACCMODE) != O_RDONLY)
		return -EACCES; /* the view is read-only, for root too */
	caller_of(req, &r);
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	rc = render(h->node->fs, &r, h->node->name, &buf, &len);
	if (rc) {
		free(d);
		return rc;
	}
	d->refs = 1;
	d->len = len;
	d->text = buf;
	h->mo.state[0] = (uintptr_t)d;
	fi->nonseekable = 0; /* a document: reread from anywhere */
	return 0;
}

static void status_release(struct handle *h)
{
	doc_put((struct doc *)(uintptr_t)h->mo.state[0]);
	h->mo.state[0] = 0;
}

static void status_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	struct doc *d = (struct doc *)(uintptr_t)h->mo.state[0];

	(void)flags;
	if (off < 0 || (uint64_t)off >= d->len)
		size = 0;
	else if (size > d->len - (size_t)off)
		size = d->len - (size_t)off;
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED); /* until the reply is written */
	fuse_reply_buf(req, size ? d->text + off : NULL, size);
	doc_put(d);
}

static void status_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
			 int flags)
{
	(void)h;
	(void)buf;
	(void)size;
	(void)off;
	(void)flags;
	fuse_reply_err(req, EBADF); /* not reached: opens for writing are refused */
}

static void status_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	(void)h;
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, POLLIN | POLLRDNORM);
}

const struct objtype status_type = {
	.name = ".ipcfs",
	.open = status_open,
	.release = status_release,
	.read = status_read,
	.write = status_write,
	.poll = status_poll,
	.direct_io = true,
};
