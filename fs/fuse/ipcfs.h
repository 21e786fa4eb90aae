/* SPDX-License-Identifier: MIT */
/*
 * ipcfs.h - the daemon's core types: the filesystem, its nodes, open handles, object types.
 *
 * Locking:
 * - fs->ns_lock protects the tree: every node's parent, name, hash chain, children list,
 *   nlookup, refs and linked flag, and the object/memory counters' decisions.
 * - A step on a node (store.h: store_begin(&n->so) ... store_commit or store_end; in the
 *   memory store, the node's lock n->so.lock) covers the node's attributes (mode, owner,
 *   times) and its object state,
 *   including the wait queues of parked requests and the poll list.
 * - Order: ns_lock before a node's step. No fuse_reply_*, no fuse_req_interrupt_func and no
 *   poll notification is ever made while holding either (see park.h).
 */
#ifndef IPCFS_IPCFS_H
#define IPCFS_IPCFS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <ipc/cond.h>
#include <ipc/mutex.h>

#include <pthread.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "defaults.h"
#include "list.h"
#include "model/model.h"
#include "model/proc.h"
#include "store/store.h"

struct node;
struct handle;
struct parked;
struct pollwait;
struct snapshot;
struct snap_obj;
struct cluster_op;
struct cluster_ckpt;
struct copen;

#define IPCFS_PEND_BUCKETS 256 /* buckets of submitted requests by id (cluster mode) */

/*
 * struct objtype - one object type (sem, mutex, ...): the directory it lives under and the
 * operations on its objects. Every function is called with no lock held unless it says so.
 * Functions given a request must answer it, now or later (by parking it).
 */
struct objtype {
	const char *name; /* its directory at the root, and its name in messages */
	size_t obj_size;  /* bytes of the state (n->so.state), charged against -o max_memory */
	/* make the state (obj_size bytes, zeroed, already allocated): Returns 0 or -errno. */
	int (*init)(struct node *n);
	/* free what the state holds: no handle is open and no request is parked any more */
	void (*destroy)(struct node *n);
	/* the object is going away (rm, rename over it, unmount): answer every parked
	 * request with err, and make later operations through open handles fail with err */
	void (*kill)(struct node *n, int err);
	/* the open is allowed by the kernel; h is allocated. Returns 0 (the caller answers
	 * and h stays open), -errno (the caller answers the error and frees h), or
	 * IPCFS_PARKED: the type parked req and answers it later with fuse_reply_open (with
	 * ns_reply_create when create is true) or an error, freeing h itself then. Must not
	 * park when create is true in the memory store (nobody else sees a new object).
	 * NULL: opening never waits nor fails (a semaphore, an event, a barrier). */
	int (*open)(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create);
	/* the last close of an open file description */
	void (*release)(struct handle *h);
	void (*read)(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags);
	void (*write)(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		      int flags);
	void (*poll)(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph);
	/* st_size and st_blocks (512-byte units) of the object; called inside a step on n */
	void (*stat_size)(struct node *n, off_t *size, blkcnt_t *blocks);
	/* truncate/ftruncate/O_TRUNC: 0 or -errno. NULL: accepted and ignored (what
	 * `echo x > obj` sends for an IPC object) */
	int (*truncate)(struct node *n, off_t size);
	/* extended attributes "user.NAME" the type offers (NULL-terminated names without the
	 * "user." prefix); get writes the value as decimal text, set parses one: 0 or -errno */
	const char *const *xattrs;
	int (*getxattr)(struct node *n, const char *name, uint64_t *value);
	int (*setxattr)(struct node *n, const char *name, uint64_t value);
	/* an interrupted parked request leaves its queue without effect (the model's cancel:
	 * those behind it proceed if they now can); inside a step on n, the waiters it serves are
	 * claimed into a->done (park_waker), pollers of other objects it changed go to a->pw */
	void (*cancel)(struct node *n, struct waiter *w, struct store_after *a);
	/* complete a parked request claimed by a waker, the interrupt or kill: reply (rc 0: success,
	 * else -errno) and undo its effect if the reply cannot be delivered */
	void (*complete)(struct parked *p);
	/* describe n for a snapshot (snapshot.h): its state as fields of o, its holders and
	 * its waiters in the order they will be served. inside a step on n (with one on every
	 * other object, see status.c): only allocation, no reply, no wait. */
	void (*inspect)(struct node *n, struct snapshot *s, struct snap_obj *o);
	bool direct_io; /* reads and writes bypass the page cache (every type but shm) */
	/* cluster mode (cluster.h): apply op, from the log, to n's replica; p is the parked
	 * request of this daemon that submitted it, or NULL (another daemon's, or its caller is
	 * gone). Must act the same on every daemon given the same log. NULL: the type is not
	 * shared (creating one in cluster mode is refused). */
	void (*apply)(struct node *n, const struct cluster_op *op, struct parked *p);
	/* cluster mode: ghost w leaves this replica (replica.h): free what it carries or was
	 * handed (a message); rc 0 and give_back: it was served for a caller of this daemon
	 * that is gone, so first submit what gives it back (a V, a put-back, a CLOSE). inside a
	 * step on n. NULL: a ghost holds nothing. */
	void (*handed)(struct node *n, struct waiter *w, bool give_back);
	/* cluster mode: the open mo is closed (CLOSE, GONE): release what it holds, as the
	 * type's release does for a handle; waiters served go to wk. inside a step on n */
	void (*close_open)(struct node *n, struct model_open *mo, const struct timespec *when,
			   struct model_waker *wk);
	/* cluster mode: what a new object starts from, as this daemon's options say (a queue's
	 * limits), into v; every replica then starts it from there (set_params, before anyone
	 * uses it). NULL: nothing beyond the defaults every daemon shares. */
	void (*cluster_params)(const struct model_params *p, uint64_t v[2]);
	void (*set_params)(struct node *n, const uint64_t v[2]);
	/* cluster mode: write n's state into k as operations (cluster_ckpt_add, replica.h's
	 * replica_ckpt_*) that, applied in order by apply() to a new object, rebuild it: its
	 * contents, holders, opens with their state, and waiters in their order, each waiter as
	 * its own daemon submitted it. inside a step on n. 0 or -ENOMEM. */
	int (*checkpoint)(struct node *n, struct cluster_ckpt *k);
};

#define IPCFS_PARKED 1 /* an operation parked its request and answers it later */

/* One file or directory. ino is the node's address (FUSE_ROOT_ID for the root). */
struct node {
	struct ipcfs *fs;	    /* the filesystem it belongs to; immutable */
	const struct objtype *type; /* the type tree it is in; NULL for the root; immutable */
	bool is_dir;		    /* immutable */
	/* a symbolic link: its target, which the kernel resolves (no state, never opened); NULL
	 * for objects and directories. immutable */
	char *link;
	bool fixed;		   /* root or a type directory: cannot be removed or renamed */
	struct node *parent;	   /* protected by fs->ns_lock */
	char *name;		   /* protected by fs->ns_lock */
	struct node *hnext;	   /* hash chain of (parent, name); protected by fs->ns_lock */
	struct list_head children; /* directories: entries; protected by fs->ns_lock */
	struct list_head sibling;  /* in parent->children; protected by fs->ns_lock */
	uint64_t nlookup;	   /* the kernel's references; protected by fs->ns_lock */
	uint64_t generation;	   /* tells apart nodes that reuse an address; immutable */
	/* references, atomic: one while linked, one while nlookup > 0, one per handle, parked
	 * request or scan. The node is freed when it drops to zero, by whoever drops it. */
	uint32_t refs;
	struct list_head all_link; /* objects: in fs->all_nodes; protected by fs->ns_lock */
	bool linked;		   /* reachable by name; protected by fs->ns_lock */
	uint32_t nsubdirs;	   /* directories: for st_nlink; protected by fs->ns_lock */
	size_t charge;		   /* bytes charged to fs->budget; immutable */
	/* objects: the opens, reads and writes asked of it through this mount so far, for
	 * inspection (operations per second: ipcctl top); atomic */
	uint64_t ops;

	/* the object's state in the store (store.h), and the steps on it: a step (store_begin ...
	 * store_commit/store_end) covers everything below */
	struct store_obj so;
	mode_t mode; /* permission bits only (S_IFMT comes from is_dir) */
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
	bool dead;		  /* removed: operations through open handles fail */
	int dead_err;		  /* the errno they fail with (EIDRM, or EIO at unmount) */
	struct list_head pollers; /* struct pollwait of handles waiting for a change */
	struct list_head handles; /* open handles (struct handle.link), to free them at exit */
	struct node *alias_of;	  /* an alias: the object it stands for (holds a reference) */
	unsigned alias_prio;	  /* mq/q@P: P; both immutable */
	/* The per-walk inode (see ns.c): an object's alias last handed to a path walk, reused by
	 * the next walk while nobody can write through it. walk_alias: protected by ns_lock;
	 * opens and lent (aliases): atomic. */
	struct node *walk_alias;
	uint32_t opens; /* open handles made through this alias */
	bool lent;	/* handed to a walk that has not opened it (yet) */
	bool per_walk;	/* an alias made by walk_inode (not q@P); immutable */
	/* cluster mode: the create revision of its name (its incarnation; immutable), and the
	 * waiters queued in it (struct waiter.clink; inside a step on it) */
	int64_t inc;
	struct list_head cwaiters;
	struct list_head copens; /* cluster mode: struct copen (replica.h); inside a step */
	char *cpath;		 /* cluster mode: "TYPE/PATH", its name in the cluster; immutable */
	uint64_t cparams[2]; /* cluster mode: what it started from (cluster_params); immutable */
};

/* One open file description. fi->fh points to it. */
struct handle {
	struct node *node;     /* holds a node reference; immutable */
	struct list_head link; /* in node->handles; inside a step on the node */
	/* what the model knows of this open: flags, opener, send priority (mq/q@P), and the
	 * type's per-open state (inside a step on the node) */
	struct model_open mo;
	struct pollwait *pw; /* pending poll notification; inside a step on the node */
	struct node *via;    /* the per-walk alias it was opened through (a reference), or NULL */
	struct copen *copen; /* cluster mode: the open as the cluster knows it; immutable */
};

/* The whole daemon. Handed to FUSE as userdata: the daemon has no mutable globals. */
struct ipcfs {
	struct fuse_session *se; /* set once before the loop starts */
	struct store *store;	 /* where the objects' state lives (-o store); immutable */
	struct ipc_mutex ns_lock;
	struct node *root;    /* immutable after setup */
	struct node **htab;   /* (parent, name) -> node; protected by ns_lock */
	size_t hsize;	      /* buckets, a power of two; protected by ns_lock */
	size_t hcount;	      /* nodes hashed; protected by ns_lock */
	uint64_t nobjects;    /* objects and directories below the type dirs; atomic */
	uint64_t generation;  /* last node generation handed out; atomic */
	uint64_t max_objects; /* -o max_objects; immutable */
	/* -o max_memory (budget.max) and the bytes charged against it, by nodes and by the
	 * objects' contents (budget.used, atomic) */
	struct model_budget budget;
	/* what a new object starts from: -o fifo_capacity, mq_msgsize, mq_max_msgs, shm_max_size
	 * (params.budget points at budget); immutable */
	struct model_params params;
	uint32_t deadlock_check; /* -o deadlock_check; immutable */
	char *etcd;		 /* -o etcd: cluster mode's members, or NULL; immutable */
	char *cluster_name;	 /* -o cluster; immutable */
	uint32_t lease_ttl;	 /* -o lease_ttl, seconds; immutable */
	uint32_t etcd_timeout;	 /* -o etcd_timeout, seconds; immutable */
	uint32_t compact;	 /* -o compact, operations between checkpoints; immutable */
	/* serialises "would this mutex wait close a cycle?" with parking it, so two waits
	 * cannot close a cycle together (-o deadlock_check only); taken before ns_lock */
	struct ipc_mutex cycle_lock;
	bool shutting_down;	    /* set once the loop has ended; protected by ns_lock */
	char *mountpoint;	    /* absolute path of the mount point; immutable */
	struct list_head all_nodes; /* every object node, for shutdown; protected by ns_lock */
	struct list_head aliases;   /* every alias node (all_link), freed at exit; ns_lock */
	/* parked requests whose interrupt was deferred, and the thread that watches their
	 * callers for a signal that must end them (park.c) */
	struct ipc_mutex defer_lock; /* protects the three below and parked.dlink/deferred */
	struct ipc_cond defer_cond;  /* a deferral, or the watcher must stop */
	struct list_head deferred;
	bool watcher_stop;
	bool watcher_running; /* set and read by main's thread only */
	pthread_t watcher;
	/* cluster mode (-o etcd=, cluster.c): the store's log and this daemon's id in it, and
	 * the parked requests submitted and not yet applied, by id (pend_lock) */
	struct cluster *cluster; /* NULL: the memory store; immutable once started */
	uint64_t host;		 /* immutable */
	struct ipc_mutex pend_lock;
	struct list_head pend[IPCFS_PEND_BUCKETS];
	uint64_t pend_next; /* last request or open id handed out; pend_lock */
	/* the step of every semaphore (store_obj_join): one write may take or give units of
	 * several at once, and serving one may then serve others (sem.c) */
	struct store_obj sem_group;
};

/* node_count_op - one more operation asked of object n (node.ops). */
static inline void node_count_op(struct node *n)
{
	__atomic_add_fetch(&n->ops, 1, __ATOMIC_RELAXED);
}

/* node_is_object - does n hold an IPC object (not a directory nor a symbolic link)? */
static inline bool node_is_object(const struct node *n)
{
	return !n->is_dir && !n->link;
}

/* Who makes a request, for the permission checks the daemon makes itself (beyond the kernel's
 * of each path walk and open): its ids and supplementary groups. */
struct caller {
	uid_t uid;
	gid_t gid;
	int ngroups; /* supplementary groups in groups[], or -1 if unknown */
	gid_t groups[64];
};

/* caller_of - who makes req. caller_may - may c access n as mask (R_OK|W_OK|X_OK) says, by n's
 * mode and owner, as the kernel's check would (root may all)? Takes a step on n. */
void caller_of(fuse_req_t req, struct caller *c);
bool caller_may(const struct caller *c, struct node *n, int mask);

/* The object types, in the order of their directories at the root. */
extern const struct objtype sem_type;
extern const struct objtype mutex_type;
extern const struct objtype fifo_type;
extern const struct objtype mq_type;
extern const struct objtype shm_type;
extern const struct objtype event_type;
extern const struct objtype barrier_type;
extern const struct objtype rwlock_type;
/* The inspection view /.ipcfs (status.c): a fixed directory of read-only files, each made
 * afresh from one snapshot of every object at its open. */
extern const struct objtype status_type;
extern const char *const status_files[]; /* their names, NULL-terminated */

/* ns.c: the namespace. */
int ns_init(struct ipcfs *fs, const struct objtype *const *types, size_t ntypes);
void ns_shutdown(struct ipcfs *fs);
void ns_destroy(struct ipcfs *fs);
/* ns_node - the node of an inode number the kernel holds a reference to. */
struct node *ns_node(fuse_req_t req, fuse_ino_t ino);
/* node_open_by - has the process of thread requester a descriptor open on object n (through
 * any of its inodes)? Reads /proc; no lock held. An open of a lock (mutex, rwlock) that would
 * wait for a holder that is that process itself would wait forever: EDEADLK. */
bool node_open_by(struct node *n, pid_t requester);

/* The read, write and poll of a lock (mutex, rwlock), which is taken by opening and carries
 * no data: a read returns end of file (or the removed object's errno), a write fails with
 * EPERM, poll is always ready. */
void lock_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags);
void lock_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		int flags);
void lock_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph);

/* ns_ino - the inode number the kernel and st_ino know n by (aliases: their object's). */
fuse_ino_t ns_ino(const struct node *n);
/* ns_object - the same, with an alias (mq/q@P) resolved to its queue. */
struct node *ns_object(fuse_req_t req, fuse_ino_t ino);
/* ns_ref/ns_unref - keep n alive; the last unref of an unlinked, forgotten node frees it.
 * ns_unref takes fs->ns_lock when the count drops to zero: never call it holding that. */
void ns_ref(struct node *n);
void ns_unref(struct node *n);
/* ns_touch - an operation changed the object's state (mtime) or attributes (ctime).
 * inside a step on n. */
void ns_touch(struct node *n, bool data);
/* ns_touch_at - the same at time when (cluster mode: the operation's, the same on every
 * daemon). inside a step on n. */
void ns_touch_at(struct node *n, bool data, const struct timespec *when);
/* ns_reply_create - answer the CREATE req with n's entry and the open fi; if the creator is
 * gone, the entry's lookup is dropped. Returns fuse_reply_create's result. No lock held. */
int ns_reply_create(fuse_req_t req, struct node *n, struct fuse_file_info *fi);
/* ns_path - the absolute path of n below the mount point into buf. Returns 0 or -ENAMETOOLONG
 * (or -ENOENT once n is unlinked). Takes fs->ns_lock. */
int ns_path(struct node *n, char *buf, size_t len);
/* ns_path_locked - the same with fs->ns_lock held by the caller. */
int ns_path_locked(struct node *n, char *buf, size_t len);

/* loop.c: session_loop - run se's request loop (multithreaded unless cmd says -s) with cmd's
 * thread settings until the session ends. Returns fuse_session_loop's result. */
int session_loop(struct fuse_session *se, const struct fuse_cmdline_opts *cmd);

/* handle_new - a handle for an open of n by pid. Returns NULL when out of memory. */
struct handle *handle_new(struct node *n, int flags, pid_t pid);
/* handle_free - free h and its pending poll notification, drop its node reference. */
void handle_free(struct handle *h);

/* poll.c: readiness notification. */
/* poll_prepare - wrap ph (may be NULL) before taking the node lock. NULL: nothing to arm. */
struct pollwait *poll_prepare(struct fuse_pollhandle *ph);
/* poll_arm - remember pw for h until the next change. inside a step on n. */
void poll_arm(struct handle *h, struct pollwait *pw);
/* poll_disarm - h is closing: move its pending notification to out. inside a step on n. */
void poll_disarm(struct handle *h, struct list_head *out);
/* poll_collect - the state changed: move every pending notification to out. inside a step on n */
void poll_collect(struct node *n, struct list_head *out);
/* poll_notify - send and free what was collected. No lock held. */
void poll_notify(struct list_head *collected);
/* poll_reply - answer the poll req of h (ph its handle, may be NULL) for a type whose only
 * readiness that changes is readable(n) (asked inside a step on n): POLLIN while it holds,
 * plus writable's bits (POLLOUT for a type whose writes never wait, else 0) always; a
 * removed object is readable and in error. */
void poll_reply(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph, unsigned writable,
		bool (*readable)(struct node *n));
/* poll_discard - free what was collected without notifying (the daemon is stopping). */
void poll_discard(struct list_head *collected);

/* The FUSE operations of the namespace (ns.c), referenced by main.c's table. */
void ns_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void ns_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void ns_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void ns_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ns_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		   struct fuse_file_info *fi);
void ns_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void ns_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void ns_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void ns_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void ns_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void ns_op_readlink(fuse_req_t req, fuse_ino_t ino);
void ns_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void ns_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		  const char *newname, unsigned int flags);
void ns_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		  struct fuse_file_info *fi);
void ns_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ns_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ns_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void ns_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

#endif /* IPCFS_IPCFS_H */
