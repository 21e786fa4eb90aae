/* SPDX-License-Identifier: MIT */
/*
 * defaults.h - every limit and default of the daemon, in one place. The -o option table in
 * options.c, the --help text and docs/ are generated from or checked against these.
 */
#ifndef IPCFS_DEFAULTS_H
#define IPCFS_DEFAULTS_H

/* Where `ipcfs` and `ipcctl` mount and look when no mount point is given (root). */
#define IPCFS_DEFAULT_MOUNTPOINT "/run/ipcfs"

/* Longest name of one path component, as on other Linux filesystems. */
#define IPCFS_NAME_MAX 255

/* -o max_objects: objects and directories below the type directories, at most. */
#define IPCFS_DEFAULT_MAX_OBJECTS 100000
/* -o max_memory: bytes the daemon may spend on objects, their names and their contents. */
#define IPCFS_DEFAULT_MAX_MEMORY (256ULL << 20)

/* -o fifo_capacity: bytes a new FIFO buffers (xattr user.capacity per FIFO), and its bounds. */
#define IPCFS_DEFAULT_FIFO_CAPACITY (64u << 10)
#define IPCFS_MAX_FIFO_CAPACITY (64u << 20)

/* -o mq_msgsize and -o mq_max_msgs: a new queue's limits (xattrs user.msgsize and
 * user.max_msgs per queue). 1024 messages: a shell loop filling a queue nobody reads stops
 * only far beyond what a script would expect to hold. */
#define IPCFS_DEFAULT_MQ_MSGSIZE 8192u
/* The kernel sends one write() as one request only while it spans at most 256 pages
 * (max_pages); a 1 MiB buffer that does not start on a page boundary spans 257 and arrives as
 * two requests, i.e. two messages. 1020 KiB always arrives whole. */
#define IPCFS_MAX_MQ_MSGSIZE (1020u << 10)
#define IPCFS_DEFAULT_MQ_MAX_MSGS 1024u
#define IPCFS_MAX_MQ_MAX_MSGS (1u << 20)
/* Message priorities are 0 .. MQ_PRIOS-1, higher first; q@P is queue q at priority P. */
#define MQ_PRIOS 32

/* Terms of one write to a semaphore file (an operation on several semaphores at once), at
 * most; more fail with E2BIG, as System V's semop past SEMOPM. */
#define IPCFS_MAX_SEM_TERMS 32u

/* Symbolic links the daemon follows in one resolution when it resolves a name itself (a
 * semaphore named in a write), in all, nested or one after another: the kernel's own limit on
 * a path walk (MAXSYMLINKS). More: ELOOP. Counting them all, not only their nesting, bounds
 * the work a crafted chain of links can cause. */
#define IPCFS_MAX_LINKS 40

/* A new barrier's user.parties (callers a round needs), and the most it may be set to. */
#define IPCFS_DEFAULT_PARTIES 2u
#define IPCFS_MAX_PARTIES (1u << 20)

/* -o shm_max_size: the largest a shared-memory segment may grow. */
#define IPCFS_DEFAULT_SHM_MAX_SIZE (1ULL << 30)

/* -o deadlock_check: 1 makes an open of a mutex that would close a cycle of mutex waits fail
 * with EDEADLK instead of waiting forever. */
#define IPCFS_DEFAULT_DEADLOCK_CHECK 0u

/* Cluster mode (-o etcd=): the cluster a mount joins without -o cluster=, the seconds a
 * daemon may be silent before the others count it gone and free what it held (-o lease_ttl),
 * and the seconds an operation etcd does not take may wait before it fails with EIO
 * (-o etcd_timeout). */
#define IPCFS_DEFAULT_CLUSTER "default"
#define IPCFS_DEFAULT_LEASE_TTL 5u
#define IPCFS_DEFAULT_ETCD_TIMEOUT 5u
/* Cluster mode: the operations between two checkpoints (-o compact; 0: never), after each of
 * which the log they cover is deleted from etcd. A start replays the newest checkpoint and at
 * most about this many operations after it. */
#define IPCFS_DEFAULT_COMPACT 10000u

/* Cache lifetimes given to the kernel, in seconds. Every namespace change goes through this
 * mount, so entries may be cached long (IPC objects' entries are not cached at all: see
 * ns.c). Object sizes change with every operation, but each path walk brings fresh attributes
 * with its LOOKUP; valid for a moment (one kernel tick), they spare the GETATTR the open's
 * permission check would send right after. So `stat PATH` is always exact; fstat() on a
 * descriptor may show a size up to one tick old. */
#define IPCFS_ENTRY_TIMEOUT 3600.0
#define IPCFS_DIR_ATTR_TIMEOUT 1.0
#define IPCFS_OBJ_ATTR_TIMEOUT 0.001

#endif /* IPCFS_DEFAULTS_H */
