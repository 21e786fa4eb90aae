/* SPDX-License-Identifier: MIT */
/*
 * bench_nullfs.c - the FUSE floor for the benchmarks: a minimal low-level filesystem that does
 * nothing, run by the daemon's own request loop (fs/fuse/loop.c) with the daemon's init flags and
 * mount options, so that ipcfs's overhead is a ratio against FUSE itself.
 *
 *   bench_nullfs [-f] [-d] [-s] [-o max_threads=N,...] MOUNTPOINT
 *
 * The root holds three files, answered at once and without any state:
 * - null: READ answers 0 bytes, WRITE answers the size written (a null operation);
 * - zero: READ answers the size asked, zeros; WRITE as null (for data-carrying requests);
 * - msg: a READ at offset 0 answers "x\n", any other 0 bytes: what `cat` of a queue holding
 *   one message receives (two READs), for its floor.
 * All are opened direct_io + nonseekable like an IPC object, and are looked up the way ipcfs
 * looks up an IPC object (fs/fuse/alias.c, alias_walk): entry timeout 0, so that every path walk sends a
 * LOOKUP, and an inode of the walk's own: the inode handed to the previous walk again while no
 * file is open through it and no walk holds it unopened, else a new one. Attribute timeouts and
 * the negative entry's are ipcfs's (fs/defaults.h). Extended attributes exist but are all
 * absent (ENODATA), so the kernel keeps asking for security.capability before a write to a
 * new inode, as it does of ipcfs, which has user.* attributes.
 */
#include "fuse/ipcfs.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* what fs/defaults.h gives ipcfs's directories and objects */
#define NULLFS_ENTRY_TIMEOUT IPCFS_ENTRY_TIMEOUT
#define NULLFS_DIR_ATTR_TIMEOUT IPCFS_DIR_ATTR_TIMEOUT
#define NULLFS_OBJ_ATTR_TIMEOUT IPCFS_OBJ_ATTR_TIMEOUT

#define ZERO_MAX (1024 * 1024) /* the largest READ the kernel sends (max_read) */

enum kind { KIND_NULL = 0, KIND_ZERO = 1, KIND_MSG = 2 };

#define NKINDS 3
#define KIND_BITS 2 /* an inode number's low bits: its kind */
#define KIND_OF(ino) ((unsigned)((ino) & ((1u << KIND_BITS) - 1)))

static const char *const names[NKINDS] = { "null", "zero", "msg" };
static const char zeros[ZERO_MAX];

/* The inode of the last walk of each file, as alias.c's alias_walk: protected by lock. Inode
 * numbers are (k << KIND_BITS) + kind, k > 0. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_k = 0;
static struct walk {
	fuse_ino_t ino; /* handed to the last walk; 0: none yet */
	bool lent;	/* handed to a walk that has not opened it */
	unsigned opens; /* files open through it */
} walks[NKINDS];

static fuse_ino_t walk_inode(unsigned kind)
{
	struct walk *w = &walks[kind];
	fuse_ino_t ino;

	pthread_mutex_lock(&lock);
	if (!w->ino || w->lent || w->opens) {
		w->ino = (++last_k << KIND_BITS) | kind;
		w->opens = 0;
	}
	w->lent = true;
	ino = w->ino;
	pthread_mutex_unlock(&lock);
	return ino;
}

/* An open (delta 1) or release (-1) of ino: counted while it is its file's walk inode. */
static void walk_count(fuse_ino_t ino, int delta)
{
	struct walk *w = &walks[KIND_OF(ino)];

	pthread_mutex_lock(&lock);
	if (w->ino == ino) {
		w->opens += (unsigned)delta;
		if (delta > 0)
			w->lent = false;
	}
	pthread_mutex_unlock(&lock);
}

static void fill_attr(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_blksize = 4096;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0666;
		st->st_nlink = 1;
	}
}

static void null_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* the same as ipcfs_init (fs/fuse/main.c) */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	conn->want &=
		~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

static void null_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	if (parent == FUSE_ROOT_ID) {
		for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			if (strcmp(name, names[k]) != 0)
				continue;
			e.ino = walk_inode(k);
			e.attr_timeout = NULLFS_OBJ_ATTR_TIMEOUT;
			e.entry_timeout = 0;
			fill_attr(e.ino, &e.attr);
			fuse_reply_entry(req, &e);
			return;
		}
	}
	e.entry_timeout = NULLFS_ENTRY_TIMEOUT; /* negative entry, as ipcfs */
	fuse_reply_entry(req, &e);
}

static void null_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void null_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

static void null_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	fill_attr(ino, &st);
	fuse_reply_attr(req, &st,
			ino == FUSE_ROOT_ID ? NULLFS_DIR_ATTR_TIMEOUT : NULLFS_OBJ_ATTR_TIMEOUT);
}

/* truncate and the like: accepted and ignored, as for an IPC object */
static void null_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			 struct fuse_file_info *fi)
{
	(void)attr;
	(void)to_set;
	null_getattr(req, ino, fi);
}

static void null_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino == FUSE_ROOT_ID) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->direct_io = 1;
	fi->nonseekable = 1;
	fi->keep_cache = 0;
	walk_count(ino, 1);
	fuse_reply_open(req, fi);
}

static void null_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	(void)fi;
	if (KIND_OF(ino) == KIND_ZERO)
		fuse_reply_buf(req, zeros, size < ZERO_MAX ? size : ZERO_MAX);
	else if (KIND_OF(ino) == KIND_MSG && off == 0)
		fuse_reply_buf(req, "x\n", size < 2 ? size : 2);
	else
		fuse_reply_buf(req, NULL, 0);
}

static void null_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)off;
	(void)fi;
	fuse_reply_write(req, size);
}

static void null_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	walk_count(ino, -1);
	fuse_reply_err(req, 0);
}

static void null_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	fuse_reply_err(req, ENODATA);
}

static void null_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino;
	if (size == 0)
		fuse_reply_xattr(req, 0);
	else
		fuse_reply_buf(req, NULL, 0);
}

/* No flush, as ipcfs: the kernel gets ENOSYS once and stops sending FLUSH. */
static const struct fuse_lowlevel_ops null_ops = {
	.init = null_init,
	.lookup = null_lookup,
	.forget = null_forget,
	.forget_multi = null_forget_multi,
	.getattr = null_getattr,
	.setattr = null_setattr,
	.open = null_open,
	.read = null_read,
	.write = null_write,
	.release = null_release,
	.getxattr = null_getxattr,
	.listxattr = null_listxattr,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd = { 0 };
	struct fuse_session *se;
	int ret = 1;

	if (fuse_parse_cmdline(&args, &cmd) != 0)
		goto free_args;
	if (cmd.show_help || cmd.show_version) {
		printf("usage: %s [-f] [-d] [-s] [-o OPTION,...] MOUNTPOINT\n", argv[0]);
		fuse_cmdline_help();
		ret = 0;
		goto free_args;
	}
	if (!cmd.mountpoint) {
		fprintf(stderr, "usage: %s [options] MOUNTPOINT\n", argv[0]);
		ret = 2;
		goto free_args;
	}
	/* the mount options ipcfs adds (fs/fuse/main.c) */
	fuse_opt_add_arg(&args, "-odefault_permissions");
	fuse_opt_add_arg(&args, "-ofsname=bench_nullfs");
	se = fuse_session_new(&args, &null_ops, sizeof(null_ops), NULL);
	if (!se)
		goto free_args;
	if (fuse_set_signal_handlers(se) != 0)
		goto destroy_session;
	if (fuse_session_mount(se, cmd.mountpoint) != 0)
		goto remove_handlers;
	if (fuse_daemonize(cmd.foreground) != 0)
		goto unmount;
	ret = session_loop(se, &cmd) < 0 ? 1 : 0;
unmount:
	fuse_session_unmount(se);
remove_handlers:
	fuse_remove_signal_handlers(se);
destroy_session:
	fuse_session_destroy(se);
free_args:
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
