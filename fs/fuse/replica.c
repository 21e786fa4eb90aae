/* SPDX-License-Identifier: MIT */
/*
 * replica.c - cluster mode in the FUSE face: the tree mirrored from the cluster's names, the
 * log's operations applied to it, and the requests that wait for theirs (replica.h).
 *
 * Implementation notes:
 * - Names change synchronously (store/cluster.h: one transaction, bounded by etcd_timeout)
 *   and then here at once; the watch reports the same change later and finds it made (same
 *   incarnation). Another daemon's changes arrive only through the watch.
 * - A node's cluster path ("sem/jobs") is kept in the node: operations name their object by
 *   it, and computing it would take ns_lock inside a step. Renames are refused in cluster
 *   mode, so it never changes.
 * - The waiters of a node that came through the log (this daemon's parked requests and the
 *   ghosts of other daemons' callers) are also on the node's cwaiters list, so that a CANCEL
 *   or a GONE finds them without knowing the type's queues.
 * - A ghost of this daemon is an orphan: its caller was answered (EIO: the operation was not
 *   written in time) before the operation came back. If the model serves it, the type's undo
 *   gives back what it took; if it waits, a CANCEL takes it out.
 *
 * Locking: fs->pend_lock protects fs->pend and pend_next; taken alone, or inside a step.
 * Mirroring takes ns_lock, then steps on the nodes, as everywhere (ipcfs.h).
 */
#include "replica.h"
#include "node.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Another daemon's caller, waiting in this replica (or this daemon's, with no caller). */
struct ghost {
	struct waiter w; /* w.ghost set; w.op the open it came through (a copen's), if any */
	struct node *n;	 /* the object it waits on (no reference: it dies with the object) */
};

/* ---- requests waiting for their operation ---- */

static struct list_head *bucket(struct ipcfs *fs, uint64_t id)
{
	return &fs->pend[id % IPCFS_PEND_BUCKETS];
}

/* Take the request submitted as id out of fs->pend: NULL when nobody waits for it (answered
 * already, or another daemon's). */
static struct parked *pend_take(struct ipcfs *fs, uint64_t id)
{
	struct parked *p, *found = NULL;

	ipc_mutex_lock(&fs->pend_lock);
	list_for_each_entry(p, bucket(fs, id), plink)
	{
		if (p->w.id == id) {
			list_del(&p->plink);
			found = p;
			break;
		}
	}
	ipc_mutex_unlock(&fs->pend_lock);
	return found;
}

/* The cluster path of directory or object n: "TYPE/PATH". NULL for the root. */
static const char *cpath(const struct node *n)
{
	if (n->cpath)
		return n->cpath;
	return n->fixed && n->type ? n->type->name : NULL;
}

void replica_submit(struct parked *p, uint32_t kind, uint64_t arg, uint32_t flags, const void *data,
		    size_t len)
{
	struct node *n = p->node;
	struct ipcfs *fs = n->fs;
	struct cluster_op op = { .path = cpath(n),
				 .inc = n->inc,
				 .pid = p->w.pid,
				 .kind = kind,
				 .arg = arg,
				 .flags = flags,
				 .open = p->h->copen ? p->h->copen->id : 0,
				 .data = data,
				 .len = len };
	int rc;

	ipc_mutex_lock(&fs->pend_lock);
	p->w.id = op.id = ++fs->pend_next;
	list_add_tail(&p->plink, bucket(fs, op.id));
	ipc_mutex_unlock(&fs->pend_lock);
	p->w.host = fs->host;
	rc = cluster_submit(fs->cluster, &op);
	store_end(&n->so);
	if (rc && pend_take(fs, op.id) == p)
		park_answer(p, rc);
}

int replica_post(struct node *n, uint32_t kind, uint64_t arg, pid_t pid)
{
	struct cluster_op op = {
		.path = cpath(n), .inc = n->inc, .pid = pid, .kind = kind, .arg = arg
	};

	return cluster_submit(n->fs->cluster, &op);
}

void replica_cancel(struct parked *p)
{
	struct cluster_op op = { .path = cpath(p->node),
				 .inc = p->node->inc,
				 .id = p->w.id,
				 .pid = p->w.pid,
				 .kind = CLUSTER_OP_CANCEL };

	if (p->cancel_sent)
		return;
	/* out of memory: the caller stays blocked as if the signal had not come; its next
	 * signal (or the watcher of deferred ones) tries again */
	p->cancel_sent = cluster_submit(p->node->fs->cluster, &op) == 0;
}

/* The open (host, id) of n, mirrored here if it was not (create), or NULL. inside a step. */
static struct copen *copen_of(struct node *n, uint64_t host, uint64_t id, bool create, pid_t pid)
{
	struct copen *c;

	list_for_each_entry(c, &n->copens, link)
	{
		if (c->host == host && c->id == id)
			return c;
	}
	if (!create || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->mo.pid = pid;
	c->host = host;
	c->id = id;
	list_add_tail(&c->link, &n->copens);
	return c;
}

struct copen *replica_open_of(struct node *n, uint64_t host, uint64_t id)
{
	return copen_of(n, host, id, false, 0);
}

struct copen *replica_open_make(struct node *n, const struct cluster_op *op)
{
	return copen_of(n, op->host, op->open, true, op->pid);
}

int replica_open_handle(struct handle *h)
{
	struct node *n = h->node;
	struct ipcfs *fs = n->fs;
	struct copen *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->mo = h->mo;
	c->host = fs->host;
	c->handle = true;
	ipc_mutex_lock(&fs->pend_lock);
	c->id = ++fs->pend_next;
	ipc_mutex_unlock(&fs->pend_lock);
	store_begin(&n->so);
	list_add_tail(&c->link, &n->copens);
	store_end(&n->so);
	h->copen = c;
	return 0;
}

void replica_close(struct node *n, const struct copen *c)
{
	struct cluster_op op = { .path = cpath(n),
				 .inc = n->inc,
				 .pid = c->mo.pid,
				 .kind = CLUSTER_OP_CLOSE,
				 .open = c->id };

	/* out of memory: the open stays known until this daemon leaves (its GONE) */
	if (cluster_submit(n->fs->cluster, &op) != 0)
		fprintf(stderr, "ipcfs: cluster: out of memory: an open of %s stays held\n",
			n->cpath);
}

void replica_close_handle(struct handle *h)
{
	struct node *n = h->node;
	struct copen *c = h->copen, mine;

	store_begin(&n->so);
	c->handle = false;
	mine = *c;
	store_end(&n->so);
	if (mine.closed)
		free(c); /* the cluster closed it already (this daemon's GONE) */
	else
		replica_close(n, &mine); /* the CLOSE's apply frees it */
}

void replica_free_opens(struct node *n)
{
	/* the handles are gone (node_free closes them first): nobody points to these */
	while (!list_empty(&n->copens)) {
		struct copen *c = list_first_entry(&n->copens, struct copen, link);

		list_del(&c->link);
		free(c);
	}
}

struct waiter *replica_ghost(struct node *n, const struct cluster_op *op)
{
	struct ghost *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	if (op->open) {
		struct copen *c = copen_of(n, op->host, op->open, true, op->pid);

		if (!c) {
			free(g);
			return NULL;
		}
		g->w.op = &c->mo;
	}
	g->w.ghost = true;
	list_init(&g->w.link);
	list_init(&g->w.clink);
	g->w.host = op->host;
	g->w.id = op->id;
	g->w.pid = op->pid;
	g->w.since = op->time;
	g->w.kind = (int)op->kind;
	g->w.arg = op->arg;
	g->n = n;
	return &g->w;
}

struct waiter *replica_waiter(struct node *n, const struct cluster_op *op, struct parked *p)
{
	struct waiter *w = p ? &p->w : replica_ghost(n, op);

	if (!w) {
		store_end(&n->so);
		fprintf(stderr, "ipcfs: cluster: out of memory: a waiter of %s is missing here\n",
			n->cpath);
	}
	return w;
}

void replica_settle(struct node *n, struct waiter *w, int rc, struct store_after *after)
{
	if (rc == MODEL_WOULD_BLOCK)
		replica_queued(n, w); /* its place in the queue */
	else if (!w->ghost)
		park_claim(container_of(w, struct parked, w), rc, &after->done);
	else
		replica_unqueued(w, rc); /* a ghost served at once, or refused */
	park_commit(n, after);
}

void replica_queued(struct node *n, struct waiter *w)
{
	list_add_tail(&w->clink, &n->cwaiters);
	if (!w->ghost)
		park_queued(container_of(w, struct parked, w));
}

/* Free ghost w, with what it carries; give_back: it was served for a caller of this daemon
 * that is gone (an orphan), whose effect must be undone. */
static void ghost_free(struct waiter *w, bool give_back)
{
	struct ghost *g = container_of(w, struct ghost, w);

	if (g->n->type->handed)
		g->n->type->handed(g->n, w, give_back);
	free(g);
}

bool replica_unqueued(struct waiter *w, int rc)
{
	list_del(&w->clink);
	if (!w->ghost)
		return false;
	ghost_free(w, rc == 0 && w->host == container_of(w, struct ghost, w)->n->fs->host);
	return true;
}

/* Which waiters of a node unqueue takes out. */
struct which {
	uint64_t host;		     /* of this daemon */
	uint64_t id;		     /* this request (0: all of that daemon's) */
	const struct model_open *op; /* through this open (NULL: any) */
};

static bool matches(const struct waiter *w, const struct which *k)
{
	return w->host == k->host && (!k->id || w->id == k->id) && (!k->op || w->op == k->op);
}

/*
 * Take the waiters k names out of n's queues, inside a step whose served waiters go to a:
 * the type's cancel lets those behind proceed; a parked request is answered rc. The list is
 * searched afresh after each one: a cancel may serve (and free) other ghosts. Returns whether
 * any was taken out.
 */
static bool unqueue_locked(struct node *n, const struct which *k, int rc, struct store_after *a)
{
	bool any = false;

	for (;;) {
		struct waiter *w, *found = NULL;

		list_for_each_entry(w, &n->cwaiters, clink)
		{
			if (matches(w, k)) {
				found = w;
				break;
			}
		}
		if (!found)
			return any;
		list_del(&found->clink);
		n->type->cancel(n, found, a);
		any = true;
		if (found->ghost)
			ghost_free(found, false);
		else
			park_claim(container_of(found, struct parked, w), rc, &a->done);
	}
}

/* Close open c of n at time when: its waiters leave (rc), then what it holds is released.
 * inside a step whose served waiters go to after->done; frees c. */
static void close_locked(struct node *n, struct copen *c, int rc, const struct timespec *when,
			 struct store_after *after)
{
	struct model_waker wk = park_waker(&after->done);
	struct which k = { .host = c->host, .op = &c->mo };

	unqueue_locked(n, &k, rc, after);
	if (n->type->close_open)
		n->type->close_open(n, &c->mo, when, &wk);
	list_del(&c->link);
	if (c->handle)
		c->closed = true; /* its handle frees it */
	else
		free(c);
}

/* A CANCEL (id) or a GONE (id 0): the waiters of daemon host leave n's queues; a GONE also
 * closes its opens. */
static void unqueue(struct node *n, uint64_t host, uint64_t id, int rc, const struct timespec *when)
{
	struct which k = { .host = host, .id = id };
	struct store_after after;
	bool any;

	park_after_init(&after);
	store_begin(&n->so);
	any = unqueue_locked(n, &k, rc, &after);
	while (!id) {
		struct copen *c, *found = NULL;

		list_for_each_entry(c, &n->copens, link)
		{
			if (c->host == host) {
				found = c;
				break;
			}
		}
		if (!found)
			break;
		close_locked(n, found, rc, when, &after);
		any = true;
	}
	if (any)
		park_commit(n, &after);
	else
		store_end(&n->so);
}

/* A CLOSE of open (host, id) of n at time when. */
static void close_open(struct node *n, uint64_t host, uint64_t id, const struct timespec *when)
{
	struct store_after after;
	struct copen *c;

	park_after_init(&after);
	store_begin(&n->so);
	c = copen_of(n, host, id, false, 0);
	if (!c) {
		store_end(&n->so); /* it never did anything this replica saw */
		return;
	}
	close_locked(n, c, -EBADF, when, &after);
	park_commit(n, &after);
}

/* Every linked object of fs, each with a reference (ns_unref it), in *count; NULL when out of
 * memory. Takes ns_lock. */
static struct node **linked_objects(struct ipcfs *fs, size_t *count)
{
	struct node **nodes, *n;
	size_t all = 0;

	*count = 0;
	ipc_mutex_lock(&fs->ns_lock);
	list_for_each_entry(n, &fs->all_nodes, all_link) all++;
	nodes = calloc(all + 1, sizeof(*nodes));
	if (nodes) {
		list_for_each_entry(n, &fs->all_nodes, all_link)
		{
			if (n->linked && !n->is_dir) {
				ns_ref(n); /* linked: it holds a reference, so refs > 0 */
				nodes[(*count)++] = n;
			}
		}
	}
	ipc_mutex_unlock(&fs->ns_lock);
	return nodes;
}

/* Daemon host left the cluster: its waiters leave every queue (this daemon's own, when its
 * lease expired, are answered EIO) and its opens are closed (a mutex it held is handed on). */
static void host_gone(struct ipcfs *fs, uint64_t host, const struct timespec *when)
{
	size_t i;
	struct node **nodes = linked_objects(fs, &i);

	if (!nodes) {
		fprintf(stderr,
			"ipcfs: cluster: out of memory: daemon %016" PRIx64
			"'s waiters stay queued here\n",
			host);
		return;
	}
	while (i > 0) {
		struct node *n = nodes[--i];

		unqueue(n, host, 0, -EIO, when);
		ns_unref(n);
	}
	free(nodes);
}

/* ---- checkpoints ---- */

void replica_ckpt_op(struct node *n, uint32_t kind, uint64_t arg, struct cluster_op *op)
{
	*op = (struct cluster_op){
		.path = cpath(n), .inc = n->inc, .time = n->mtime, .kind = kind, .arg = arg
	};
}

uint64_t replica_open_id(const struct model_open *mo)
{
	return container_of(mo, struct copen, mo)->id;
}

void replica_ckpt_waiter(struct node *n, const struct waiter *w, struct cluster_op *op)
{
	replica_ckpt_op(n, (uint32_t)w->kind, w->arg, op);
	op->host = w->host;
	op->id = w->id;
	op->pid = w->pid;
	op->time = w->since;
	if (w->ghost) {
		op->open = w->op ? replica_open_id(w->op) : 0;
	} else {
		/* a parked request: it came through its handle's copen, if it has one (a
		 * semaphore's model sees the handle's own mo) */
		const struct parked *p = container_of(w, struct parked, w);

		op->open = p->h && p->h->copen ? p->h->copen->id : 0;
	}
}

int replica_ckpt_queue(struct node *n, const struct list_head *queue, struct cluster_ckpt *k)
{
	const struct waiter *w;
	struct cluster_op op;
	int rc = 0;

	list_for_each_entry(w, queue, link)
	{
		replica_ckpt_waiter(n, w, &op);
		if ((rc = cluster_ckpt_add(k, &op)) != 0)
			break;
	}
	return rc;
}

void replica_ckpt_open(struct node *n, const struct copen *c, uint32_t kind, uint64_t arg,
		       struct cluster_op *op)
{
	replica_ckpt_op(n, kind, arg, op);
	op->host = c->host;
	op->open = c->id;
	op->pid = c->mo.pid;
}

/* Write n's state (a step on it held): the type's operations, then its times. */
static int checkpoint_node(struct node *n, struct cluster_ckpt *k)
{
	struct cluster_op op;
	char times[96];
	int rc = n->type->checkpoint(n, k);

	if (rc)
		return rc;
	replica_ckpt_op(n, CLUSTER_OP_TIMES, 0, &op);
	op.data = times;
	op.len = (size_t)snprintf(times, sizeof(times), "%lld %ld %lld %ld %lld %ld",
				  (long long)n->atime.tv_sec, n->atime.tv_nsec,
				  (long long)n->mtime.tv_sec, n->mtime.tv_nsec,
				  (long long)n->ctime.tv_sec, n->ctime.tv_nsec);
	return cluster_ckpt_add(k, &op);
}

/* The whole replica as operations that rebuild it (cluster_face.checkpoint): on the watch's
 * thread, which alone changes the replica's objects, so one object at a time is enough. */
static int on_checkpoint(void *ctx, struct cluster_ckpt *k)
{
	size_t i;
	struct node **nodes = linked_objects(ctx, &i);
	int rc = 0;

	if (!nodes)
		return -ENOMEM;
	while (i > 0) {
		struct node *n = nodes[--i];

		store_begin(&n->so);
		if (rc == 0 && !n->dead && n->cpath && n->type->checkpoint)
			rc = checkpoint_node(n, k);
		store_end(&n->so);
		ns_unref(n);
	}
	free(nodes);
	return rc;
}

/* A checkpoint's times of n: "ASEC ANSEC MSEC MNSEC CSEC CNSEC" (the operations before it
 * moved them to when they ran). */
static void set_times(struct node *n, const struct cluster_op *op)
{
	char text[96];
	long long sec[3];
	long nsec[3];

	if (op->len >= sizeof(text))
		return;
	memcpy(text, op->data, op->len);
	text[op->len] = '\0';
	if (sscanf(text, "%lld %ld %lld %ld %lld %ld", &sec[0], &nsec[0], &sec[1], &nsec[1],
		   &sec[2], &nsec[2]) != 6)
		return;
	store_begin(&n->so);
	n->atime = (struct timespec){ .tv_sec = (time_t)sec[0], .tv_nsec = nsec[0] };
	n->mtime = (struct timespec){ .tv_sec = (time_t)sec[1], .tv_nsec = nsec[1] };
	n->ctime = (struct timespec){ .tv_sec = (time_t)sec[2], .tv_nsec = nsec[2] };
	store_commit(&n->so, NULL);
}

/* ---- the names ---- */

/* The node at cluster path (ns_lock held): NULL when there is none. */
static struct node *walk(struct ipcfs *fs, const char *path)
{
	char buf[PATH_MAX], *save = NULL;
	struct node *n = fs->root;

	if (strlen(path) >= sizeof(buf))
		return NULL;
	strcpy(buf, path);
	for (char *part = strtok_r(buf, "/", &save); part && n; part = strtok_r(NULL, "/", &save))
		n = n->is_dir ? node_find(fs, n, part) : NULL;
	return n == fs->root ? NULL : n;
}

/* A name's value: "D|O MODE UID GID SEC NSEC P0 P1" (directory or object, attributes, ctime,
 * and what the object started from: its type's cluster_params at the daemon that made it). */
struct name_attrs {
	bool is_dir;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec ctime;
	uint64_t params[2];
};

static int name_value(char *buf, size_t len, const struct name_attrs *a)
{
	return snprintf(buf, len, "%c %o %u %u %lld %ld %" PRIu64 " %" PRIu64,
			a->is_dir ? 'D' : 'O', (unsigned)a->mode, (unsigned)a->uid,
			(unsigned)a->gid, (long long)a->ctime.tv_sec, a->ctime.tv_nsec,
			a->params[0], a->params[1]);
}

static int parse_attrs(const char *value, struct name_attrs *a)
{
	char kind;
	unsigned mode, uid, gid;
	long long sec;

	if (sscanf(value, "%c %o %u %u %lld %ld %" SCNu64 " %" SCNu64, &kind, &mode, &uid, &gid,
		   &sec, &a->ctime.tv_nsec, &a->params[0], &a->params[1]) != 8 ||
	    (kind != 'D' && kind != 'O'))
		return -EINVAL;
	a->is_dir = kind == 'D';
	a->mode = mode & 07777;
	a->uid = uid;
	a->gid = gid;
	a->ctime.tv_sec = (time_t)sec;
	return 0;
}

/*
 * Make this replica hold incarnation inc of path with value's attributes: returns its node (a
 * reference), made if need be (replacing an older incarnation), or NULL (no parent here, a
 * malformed value, out of memory). A cluster's objects are not charged against this daemon's
 * -o max_objects: the cluster admitted them, and every replica must hold them all.
 */
static struct node *mirror(struct ipcfs *fs, const char *path, const char *value, int64_t inc,
			   int64_t version)
{
	const char *leaf = strrchr(path, '/');
	char dirpath[PATH_MAX];
	struct name_attrs a;
	struct node *dir, *old, *n = NULL;

	if (parse_attrs(value, &a) != 0 || !leaf || (size_t)(leaf - path) >= sizeof(dirpath))
		return NULL;
	memcpy(dirpath, path, (size_t)(leaf - path));
	dirpath[leaf - path] = '\0';
	leaf++;
	ipc_mutex_lock(&fs->ns_lock);
	dir = walk(fs, dirpath);
	if (!dir || !dir->is_dir || !dir->type || dir->type == &status_type) {
		ipc_mutex_unlock(&fs->ns_lock);
		return NULL;
	}
	old = node_find(fs, dir, leaf);
	if (old && old->inc == inc) {
		if (version > 1) {
			store_begin(&old->so);
			old->mode = a.mode;
			old->uid = a.uid;
			old->gid = a.gid;
			old->ctime = a.ctime;
			store_commit(&old->so, NULL);
		}
		ns_ref(old);
		ipc_mutex_unlock(&fs->ns_lock);
		return old;
	}
	if (old)
		node_unlink(fs, old);
	n = node_alloc(fs, dir->type, a.is_dir, leaf, a.mode, a.uid, a.gid);
	if (n)
		n->cpath = strdup(path);
	if (n && !n->cpath) {
		node_free(n);
		n = NULL;
	}
	if (n) {
		if (!a.is_dir && n->type->set_params)
			n->type->set_params(n, a.params); /* nobody uses it yet: no step */
		__atomic_add_fetch(&fs->nobjects, 1, __ATOMIC_RELAXED);
		budget_charge_force(&fs->budget, n->charge);
		n->inc = inc;
		n->cparams[0] = a.params[0];
		n->cparams[1] = a.params[1];
		n->atime = n->mtime = n->ctime = a.ctime;
		node_link(fs, dir, n);
		ns_ref(n);
		store_begin(&dir->so);
		ns_touch(dir, true);
		store_commit(&dir->so, NULL);
	}
	ipc_mutex_unlock(&fs->ns_lock);
	if (old)
		node_retire(old, EIDRM);
	if (!n)
		fprintf(stderr, "ipcfs: cluster: cannot mirror %s here\n", path);
	return n;
}

/* Remove path (incarnation inc; 0: whichever) from this replica, if it is here. */
static void unmirror(struct ipcfs *fs, const char *path, int64_t inc)
{
	struct node *n;

	ipc_mutex_lock(&fs->ns_lock);
	n = walk(fs, path);
	if (!n || n->fixed || (inc && n->inc != inc) || (n->is_dir && !list_empty(&n->children))) {
		ipc_mutex_unlock(&fs->ns_lock);
		return;
	}
	node_unlink(fs, n);
	store_begin(&n->parent->so);
	ns_touch(n->parent, true);
	store_commit(&n->parent->so, NULL);
	ipc_mutex_unlock(&fs->ns_lock);
	node_retire(n, EIDRM);
}

int replica_make(struct ipcfs *fs, struct node *dir, const char *name, mode_t mode, bool is_dir,
		 uid_t uid, gid_t gid, struct node **out)
{
	struct name_attrs a = { .is_dir = is_dir, .mode = mode & 07777, .uid = uid, .gid = gid };
	const char *base = cpath(dir);
	char path[PATH_MAX], value[128];
	int64_t inc;
	int rc;

	if (!dir->type->apply)
		return -EOPNOTSUPP; /* not shared in cluster mode (yet): docs/semantics.md */
	if (!base || snprintf(path, sizeof(path), "%s/%s", base, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	clock_gettime(CLOCK_REALTIME, &a.ctime);
	if (!is_dir && dir->type->cluster_params)
		dir->type->cluster_params(&fs->params, a.params);
	name_value(value, sizeof(value), &a);
	rc = cluster_name_create(fs->cluster, path, value, &inc);
	if (rc)
		return rc;
	*out = mirror(fs, path, value, inc, 1);
	return *out ? 0 : -ENOMEM;
}

bool replica_lookup_miss(struct ipcfs *fs, struct node *dir, const char *name)
{
	const char *base = cpath(dir);
	char path[PATH_MAX];

	if (!base || snprintf(path, sizeof(path), "%s/%s", base, name) >= (int)sizeof(path))
		return false;
	return cluster_name_sync(fs->cluster, path) == 0;
}

int replica_remove(struct ipcfs *fs, struct node *n)
{
	int rc = cluster_name_delete(fs->cluster, n->cpath, n->inc, n->is_dir);

	if (rc == 0)
		unmirror(fs, n->cpath, n->inc);
	return rc;
}

int replica_setattr(struct ipcfs *fs, struct node *n, mode_t mode, uid_t uid, gid_t gid)
{
	struct name_attrs a = { .is_dir = n->is_dir, .mode = mode, .uid = uid, .gid = gid };
	char value[128];

	clock_gettime(CLOCK_REALTIME, &a.ctime);
	a.params[0] = n->cparams[0];
	a.params[1] = n->cparams[1];
	name_value(value, sizeof(value), &a);
	return cluster_name_set(fs->cluster, n->cpath, n->inc, value);
}

/* ---- what the cluster reports ---- */

static void on_name_put(void *ctx, const char *path, const char *value, int64_t create_rev,
			int64_t version)
{
	struct node *n = mirror(ctx, path, value, create_rev, version);

	if (n)
		ns_unref(n);
}

static void on_name_del(void *ctx, const char *path)
{
	unmirror(ctx, path, 0);
}

static void on_op(void *ctx, const struct cluster_op *op)
{
	struct ipcfs *fs = ctx;
	struct parked *p = NULL;
	struct node *n;

	if (op->kind == CLUSTER_OP_GONE) {
		host_gone(fs, op->arg, &op->time);
		return;
	}
	ipc_mutex_lock(&fs->ns_lock);
	n = walk(fs, op->path);
	if (n && (n->is_dir || n->inc != op->inc || !n->type->apply))
		n = NULL; /* removed, or made again: the operation was on an object now gone */
	if (n)
		ns_ref(n);
	ipc_mutex_unlock(&fs->ns_lock);
	if (op->kind == CLUSTER_OP_TIMES) {
		if (n)
			set_times(n, op);
	} else if (op->kind == CLUSTER_OP_CANCEL) {
		if (n)
			unqueue(n, op->host, op->id, -EINTR, &op->time);
	} else if (op->kind == CLUSTER_OP_CLOSE) {
		if (n)
			close_open(n, op->host, op->open, &op->time);
	} else {
		if (op->host == fs->host && op->id)
			p = pend_take(fs, op->id);
		if (n)
			n->type->apply(n, op, p);
		else if (p)
			park_answer(p, -EIDRM);
	}
	if (n)
		ns_unref(n);
}

static void on_failed(void *ctx, uint64_t id, int rc)
{
	struct parked *p = pend_take(ctx, id);

	if (p)
		park_answer(p, rc);
}

/* The replica cannot be kept in step (cluster_face.lost): leave as on SIGTERM (callers get EIO,
 * the mount goes); a restart joins afresh. */
static void on_lost(void *ctx)
{
	(void)ctx;
	kill(getpid(), SIGTERM);
}

int replica_open(struct ipcfs *fs, const char *endpoints, const char *name, unsigned ttl,
		 unsigned timeout_s, unsigned compact)
{
	const struct cluster_face face = { .ctx = fs,
					   .name_put = on_name_put,
					   .name_del = on_name_del,
					   .op = on_op,
					   .failed = on_failed,
					   .checkpoint = on_checkpoint,
					   .lost = on_lost };
	int rc;

	ipc_mutex_init(&fs->pend_lock, 0);
	for (size_t i = 0; i < IPCFS_PEND_BUCKETS; i++)
		list_init(&fs->pend[i]);
	rc = cluster_open(endpoints, name, ttl, timeout_s, compact, &face, &fs->cluster);
	if (rc == -EINVAL)
		fprintf(stderr,
			"ipcfs: bad -o etcd=%s or -o cluster=%s (URLs joined by '+'; a "
			"name of letters, digits, '.', '_', '-')\n",
			endpoints, name);
	else if (rc)
		fprintf(stderr, "ipcfs: etcd at %s: %s\n", endpoints,
			rc == -EIO ? "no member answered" : strerror(-rc));
	return rc;
}

int replica_join(struct ipcfs *fs)
{
	int rc;

	fs->host = cluster_host(fs->cluster);
	rc = cluster_join(fs->cluster);
	if (rc)
		fprintf(stderr, "ipcfs: cannot join the cluster: %s\n", strerror(-rc));
	return rc;
}

int replica_start(struct ipcfs *fs)
{
	int rc = cluster_start(fs->cluster);

	if (rc)
		fprintf(stderr, "ipcfs: cannot start the cluster's threads: %s\n", strerror(-rc));
	return rc;
}

void replica_stop(struct ipcfs *fs)
{
	if (!fs->cluster)
		return;
	cluster_stop(fs->cluster);
	for (size_t i = 0; i < IPCFS_PEND_BUCKETS; i++) {
		for (;;) {
			struct parked *p;

			ipc_mutex_lock(&fs->pend_lock);
			p = list_empty(&fs->pend[i])
				    ? NULL
				    : list_first_entry(&fs->pend[i], struct parked, plink);
			if (p)
				list_del(&p->plink);
			ipc_mutex_unlock(&fs->pend_lock);
			if (!p)
				break;
			park_answer(p, -EIO);
		}
	}
}
