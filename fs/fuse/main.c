/* SPDX-License-Identifier: MIT */
/*
 * main.c - the ipcfs daemon: options, the one FUSE operations table, and the request loop.
 *
 * Namespace operations go to ns.c; operations on an open object go straight to its type
 * (through the handle in fi->fh), so the hot path takes no global lock.
 */
#include "ipcfs.h"
#include "park.h"
#include "replica.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef IPCFS_VERSION
#define IPCFS_VERSION "unknown"
#endif

/* The object types, in the order of their directories at the root. */
static const struct objtype *const types[] = {
	&sem_type, &mutex_type, &fifo_type,    &mq_type,
	&shm_type, &event_type, &barrier_type, &rwlock_type
};

/* One source for the -o options: the parser, the defaults and --help all read this table. */
static const struct option_doc {
	const char *name;
	size_t offset; /* of its field in struct ipcfs */
	int bits;      /* 32 or 64: the field's width */
	unsigned long long def, min, max;
	const char *help;
} option_docs[] = {
	{ "max_objects", offsetof(struct ipcfs, max_objects), 64, IPCFS_DEFAULT_MAX_OBJECTS, 1,
	  UINT32_MAX, "most objects and directories" },
	{ "max_memory", offsetof(struct ipcfs, budget.max), 64, IPCFS_DEFAULT_MAX_MEMORY, 1,
	  ULLONG_MAX, "most bytes for objects and their contents" },
	{ "fifo_capacity", offsetof(struct ipcfs, params.fifo_capacity), 32,
	  IPCFS_DEFAULT_FIFO_CAPACITY, 1, IPCFS_MAX_FIFO_CAPACITY, "bytes a new FIFO buffers" },
	{ "mq_msgsize", offsetof(struct ipcfs, params.mq_msgsize), 32, IPCFS_DEFAULT_MQ_MSGSIZE, 1,
	  IPCFS_MAX_MQ_MSGSIZE, "largest message of a new queue, in bytes" },
	{ "mq_max_msgs", offsetof(struct ipcfs, params.mq_max_msgs), 32, IPCFS_DEFAULT_MQ_MAX_MSGS,
	  1, IPCFS_MAX_MQ_MAX_MSGS, "messages a new queue holds" },
	{ "shm_max_size", offsetof(struct ipcfs, params.shm_max_size), 64,
	  IPCFS_DEFAULT_SHM_MAX_SIZE, 1, ULLONG_MAX, "largest size of a shared-memory segment" },
	{ "deadlock_check", offsetof(struct ipcfs, deadlock_check), 32,
	  IPCFS_DEFAULT_DEADLOCK_CHECK, 0, 1,
	  "1: EDEADLK for a mutex open closing a cycle of waits" },
	{ "lease_ttl", offsetof(struct ipcfs, lease_ttl), 32, IPCFS_DEFAULT_LEASE_TTL, 1, 3600,
	  "cluster: seconds before a silent daemon is gone" },
	{ "etcd_timeout", offsetof(struct ipcfs, etcd_timeout), 32, IPCFS_DEFAULT_ETCD_TIMEOUT, 1,
	  3600, "cluster: seconds before an operation etcd does not take fails (EIO)" },
	{ "compact", offsetof(struct ipcfs, compact), 32, IPCFS_DEFAULT_COMPACT, 0, UINT32_MAX,
	  "cluster: operations between checkpoints (then the log is trimmed; 0 never)" },
};

/* The string options: -o etcd=URL+URL (cluster mode) and -o cluster=NAME. */
static const struct string_option {
	const char *name;
	size_t offset; /* of its char * in struct ipcfs */
	const char *help;
} string_options[] = {
	{ "etcd", offsetof(struct ipcfs, etcd), "cluster mode: etcd members, URLs joined by '+'" },
	{ "cluster", offsetof(struct ipcfs, cluster_name),
	  "cluster mode: the cluster's name (default " IPCFS_DEFAULT_CLUSTER ")" },
};

#define NOPTIONS (sizeof(option_docs) / sizeof(option_docs[0]))

static void option_set(struct ipcfs *fs, const struct option_doc *o, unsigned long long v)
{
	void *field = (char *)fs + o->offset;

	if (o->bits == 32)
		*(uint32_t *)field = (uint32_t)v;
	else
		*(uint64_t *)field = v;
}

/* Parse "N[KMG]": 0 and fills *out, or -1. */
static int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		mul = 1ULL << 10;
		end++;
		break;
	case 'M':
	case 'm':
		mul = 1ULL << 20;
		end++;
		break;
	case 'G':
	case 'g':
		mul = 1ULL << 30;
		end++;
		break;
	}
	if (*end || v > ULLONG_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct ipcfs *fs = data;

	(void)outargs;
	(void)key;
	for (size_t i = 0; i < sizeof(string_options) / sizeof(string_options[0]); i++) {
		const struct string_option *o = &string_options[i];
		size_t len = strlen(o->name);
		char **field = (char **)(void *)((char *)fs + o->offset);

		if (strncmp(arg, o->name, len) == 0 && arg[len] == '=') {
			free(*field);
			*field = strdup(arg + len + 1);
			return *field ? 0 : -1;
		}
	}
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct option_doc *o = &option_docs[i];
		size_t len = strlen(o->name);
		unsigned long long v;

		if (strncmp(arg, o->name, len) == 0 && arg[len] == '=') {
			if (parse_size(arg + len + 1, &v) != 0 || v < o->min || v > o->max) {
				fprintf(stderr, "ipcfs: bad value in -o %s (from %llu to %llu)\n",
					arg, o->min, o->max);
				return -1;
			}
			option_set(fs, o, v);
			return 0; /* consumed */
		}
	}
	return 1; /* not ours: keep it for FUSE */
}

/*
 * mount(8) runs "ipcfs SOURCE MOUNTPOINT -o OPTIONS" for `mount -t fuse.ipcfs SOURCE DIR` and
 * for an fstab line of type fuse.ipcfs (through mount.fuse3). SOURCE, the line's first field,
 * names nothing here (write ipcfs). Returns its index in argv when two words are given
 * besides options, else 0 (one word: the mount point; more: FUSE reports them).
 */
static int source_arg(int argc, char *argv[])
{
	int first = 0, words = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0)
			i++; /* its value */
		else if (argv[i][0] != '-' && words++ == 0)
			first = i;
	}
	return words == 2 ? first : 0;
}

static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n"
	       "       %s SOURCE MOUNTPOINT -o OPTIONS   (as mount -t fuse.ipcfs runs it)\n\n"
	       "A filesystem of IPC objects: sem/ (counting semaphores), mutex/ (mutexes),\n"
	       "fifo/ (byte streams), mq/ (message queues), shm/ (shared memory), event/\n"
	       "(events), barrier/ (barriers), rwlock/ (readers-writer locks).\n"
	       "MOUNTPOINT/.ipcfs/ shows them all (status, status.json, deadlock, graph.dot);\n"
	       "ipcctl(1) inspects and operates them.\n"
	       "Default mount point (used by the README): %s\n\n"
	       "ipcfs options (sizes take a K, M or G suffix):\n",
	       prog, prog, IPCFS_DEFAULT_MOUNTPOINT);
	for (size_t i = 0; i < NOPTIONS; i++) {
		char opt[64];

		snprintf(opt, sizeof(opt), "%s=N", option_docs[i].name);
		printf("    -o %-22s %s (default %llu)\n", opt, option_docs[i].help,
		       option_docs[i].def);
	}
	for (size_t i = 0; i < sizeof(string_options) / sizeof(string_options[0]); i++) {
		char opt[64];

		snprintf(opt, sizeof(opt), "%s=%s", string_options[i].name,
			 i == 0 ? "URL+URL" : "NAME");
		printf("    -o %-22s %s\n", opt, string_options[i].help);
	}
	printf("    -o %-22s %s\n", "allow_other", "let other users in; mode bits decide");
	printf("\nFUSE options:\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* ---- operations on open objects: straight to the type ---- */

static struct handle *fh(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

static void ipcfs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* O_TRUNC comes with the OPEN instead of a separate SETATTR: one request less per
	 * `echo > obj` */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* shm/: the page cache is the segment every process maps, and all writes reach it
	 * through this mount; an mtime the kernel sees change must not drop its pages */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	/* nothing to gain from splicing tiny IPC payloads */
	conn->want &=
		~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

static void ipcfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	node_count_op(h->node);
	h->node->type->read(req, h, size, off, fi->flags);
}

static void ipcfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	node_count_op(h->node);
	h->node->type->write(req, h, buf, size, off, fi->flags);
}

static void ipcfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	if (h->node->type->release)
		h->node->type->release(h);
	handle_free(h);
	fuse_reply_err(req, 0);
}

static void ipcfs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		       struct fuse_pollhandle *ph)
{
	struct handle *h = fh(fi);

	(void)ino;
	h->node->type->poll(req, h, ph);
}

/* ---- extended attributes: the per-object limits, "user.NAME" as decimal text ---- */

/* The attribute name without "user.", or NULL for other namespaces. */
static const char *user_xattr(const char *name)
{
	return strncmp(name, "user.", 5) == 0 ? name + 5 : NULL;
}

/* Is attr one of the type's? */
static bool has_xattr(const struct node *n, const char *attr)
{
	if (!node_is_object(n) || !n->type->xattrs || !attr)
		return false;
	for (const char *const *x = n->type->xattrs; *x; x++)
		if (strcmp(*x, attr) == 0)
			return true;
	return false;
}

static void ipcfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct node *n = ns_object(req, ino);
	const char *attr = user_xattr(name);
	char buf[32];
	uint64_t v;
	int len, rc;

	if (!has_xattr(n, attr)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	rc = n->type->getxattr(n, attr, &v);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	len = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	if (size == 0)
		fuse_reply_xattr(req, (size_t)len);
	else if (size < (size_t)len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)len);
}

static void ipcfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			   size_t size, int flags)
{
	struct node *n = ns_object(req, ino);
	const char *attr = user_xattr(name);
	unsigned long long v;
	char text[32];

	if (!has_xattr(n, attr)) {
		fuse_reply_err(req, !node_is_object(n) || !attr ? ENOTSUP : EINVAL);
		return;
	}
	if (flags & XATTR_CREATE) {
		fuse_reply_err(req, EEXIST); /* a limit always exists */
		return;
	}
	/* the value is not NUL-terminated; `setfattr -v 1M` sends "1M" */
	while (size > 0 && (value[size - 1] == '\n' || value[size - 1] == '\0'))
		size--;
	if (size == 0 || size >= sizeof(text)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	memcpy(text, value, size);
	text[size] = '\0';
	if (parse_size(text, &v) != 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	fuse_reply_err(req, -n->type->setxattr(n, attr, v));
}

static void ipcfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct node *n = ns_object(req, ino);
	char buf[256];
	size_t len = 0;

	for (const char *const *x = node_is_object(n) ? n->type->xattrs : NULL; x && *x; x++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "user.%s", *x) + 1;
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, len);
}

static void ipcfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct node *n = ns_object(req, ino);

	/* the limits can be changed, not removed */
	fuse_reply_err(req, has_xattr(n, user_xattr(name)) ? EPERM : ENODATA);
}

/* No flush: answering ENOSYS makes the kernel stop sending FLUSH, one request less per
 * close. Mutexes are released on RELEASE, the last close of the open file description. */
static const struct fuse_lowlevel_ops ipcfs_ops = {
	.init = ipcfs_init,
	.lookup = ns_op_lookup,
	.forget = ns_op_forget,
	.forget_multi = ns_op_forget_multi,
	.getattr = ns_op_getattr,
	.setattr = ns_op_setattr,
	.mknod = ns_op_mknod,
	.mkdir = ns_op_mkdir,
	.unlink = ns_op_unlink,
	.rmdir = ns_op_rmdir,
	.symlink = ns_op_symlink,
	.readlink = ns_op_readlink,
	.link = ns_op_link,
	.rename = ns_op_rename,
	.create = ns_op_create,
	.open = ns_op_open,
	.read = ipcfs_read,
	.write = ipcfs_write,
	.release = ipcfs_release,
	.opendir = ns_op_opendir,
	.readdir = ns_op_readdir,
	.releasedir = ns_op_releasedir,
	.poll = ipcfs_poll,
	.setxattr = ipcfs_setxattr,
	.getxattr = ipcfs_getxattr,
	.listxattr = ipcfs_listxattr,
	.removexattr = ipcfs_removexattr,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts cmd = { 0 };
	struct ipcfs fs = { 0 };
	struct fuse_session *se;
	int ret = 1, source = source_arg(argc, argv);

	for (int i = 0; i < argc; i++)
		if ((i == 0 || i != source) && fuse_opt_add_arg(&args, argv[i]) != 0)
			goto free_args;
	fs.params.budget = &fs.budget;
	for (size_t i = 0; i < NOPTIONS; i++)
		option_set(&fs, &option_docs[i], option_docs[i].def);
	if (fuse_opt_parse(&args, &fs, NULL, opt_proc) != 0)
		goto free_args;
	if (fuse_parse_cmdline(&args, &cmd) != 0)
		goto free_args;
	if (cmd.show_help) {
		usage(argv[0]);
		ret = 0;
		goto free_args;
	}
	if (cmd.show_version) {
		printf("ipcfs %s\n", IPCFS_VERSION);
		fflush(stdout); /* before fusermount3's line, which it prints from a child */
		fuse_lowlevel_version();
		ret = 0;
		goto free_args;
	}
	if (!cmd.mountpoint) {
		fprintf(stderr, "usage: %s [options] [SOURCE] MOUNTPOINT (--help for more)\n",
			argv[0]);
		ret = 2;
		goto free_args;
	}
	fs.mountpoint = realpath(cmd.mountpoint, NULL);
	if (!fs.mountpoint) {
		fprintf(stderr, "ipcfs: %s: %s\n", cmd.mountpoint, strerror(errno));
		goto free_args;
	}
	if (store_mem_open(&fs.store) != 0) {
		fprintf(stderr, "ipcfs: out of memory\n");
		goto free_mountpoint;
	}
	if (ns_init(&fs, types, sizeof(types) / sizeof(types[0])) != 0) {
		fprintf(stderr, "ipcfs: out of memory\n");
		goto free_ns;
	}
	if (fs.cluster_name && !fs.etcd) {
		fprintf(stderr, "ipcfs: -o cluster= needs -o etcd=\n");
		goto free_ns;
	}
	/* join now, so that a wrong address or a cluster out of reach fails before the mount */
	if (fs.etcd &&
	    (replica_open(&fs, fs.etcd, fs.cluster_name ? fs.cluster_name : IPCFS_DEFAULT_CLUSTER,
			  fs.lease_ttl, fs.etcd_timeout, fs.compact) != 0 ||
	     replica_join(&fs) != 0))
		goto free_ns;

	/* The kernel enforces the mode bits, also for other users under allow_other. */
	fuse_opt_add_arg(&args, "-odefault_permissions");
	fuse_opt_add_arg(&args, "-ofsname=ipcfs");
	se = fuse_session_new(&args, &ipcfs_ops, sizeof(ipcfs_ops), &fs);
	if (!se)
		goto free_ns;
	fs.se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto destroy_session;
	if (fuse_session_mount(se, fs.mountpoint) != 0)
		goto remove_handlers;
	if (fuse_daemonize(cmd.foreground) != 0)
		goto unmount;
	if (park_start(&fs) != 0) {
		fprintf(stderr, "ipcfs: cannot start the interrupt watcher\n");
		goto unmount;
	}
	/* after the fork: the cluster's threads must run in the daemon */
	if (fs.cluster && replica_start(&fs) != 0)
		goto unmount;

	ret = session_loop(se, &cmd);
	/* Parked callers get a clean EIO rather than ECONNABORTED or a hang. */
	replica_stop(&fs);
	ns_shutdown(&fs);
	ret = ret < 0 ? 1 : 0;

unmount:
	park_stop(&fs); /* not started yet: nothing to do */
	fuse_session_unmount(se);
remove_handlers:
	fuse_remove_signal_handlers(se);
destroy_session:
	/* the tree before the session: closing files left open may still notify pollers */
	ns_destroy(&fs);
	fuse_session_destroy(se);
	goto close_store;
free_ns:
	ns_destroy(&fs);
close_store:
	cluster_close(fs.cluster);
	store_close(fs.store);
free_mountpoint:
	free(fs.mountpoint);
free_args:
	free(fs.etcd);
	free(fs.cluster_name);
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
