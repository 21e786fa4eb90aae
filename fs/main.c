/* SPDX-License-Identifier: MIT */
/*
 * main.c - the ipcfs daemon: options, the one FUSE operations table, and the request loop.
 *
 * Namespace operations go to ns.c; operations on an open object go straight to its type
 * (through the handle in fi->fh), so the hot path takes no global lock.
 */
#include "ipcfs.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IPCFS_VERSION
#define IPCFS_VERSION "unknown"
#endif

/* The object types, in the order of their directories at the root. */
static const struct objtype *const types[] = { &sem_type, &mutex_type };

struct options {
	unsigned long long max_objects;
	unsigned long long max_memory;
};

/* One source for the -o options: the parser and --help both read this table. */
static const struct option_doc {
	const char *name;
	size_t offset;
	const char *help;
} option_docs[] = {
	{ "max_objects", offsetof(struct options, max_objects),
	  "most objects and directories (default %llu)" },
	{ "max_memory", offsetof(struct options, max_memory),
	  "most bytes for objects and their contents, suffix K/M/G (default %llu)" },
};

static unsigned long long option_default(size_t i)
{
	return i == 0 ? IPCFS_DEFAULT_MAX_OBJECTS : IPCFS_DEFAULT_MAX_MEMORY;
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
	if (*end || v == 0 || v > ULLONG_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	(void)key;
	for (size_t i = 0; i < sizeof(option_docs) / sizeof(option_docs[0]); i++) {
		size_t len = strlen(option_docs[i].name);

		if (strncmp(arg, option_docs[i].name, len) == 0 && arg[len] == '=') {
			unsigned long long *field = (void *)((char *)o + option_docs[i].offset);

			if (parse_size(arg + len + 1, field) != 0) {
				fprintf(stderr, "ipcfs: bad value in -o %s\n", arg);
				return -1;
			}
			return 0; /* consumed */
		}
	}
	return 1; /* not ours: keep it for FUSE */
}

static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n\n"
	       "A filesystem of IPC objects: sem/ mutex/ hold counting semaphores and mutexes.\n"
	       "Default mount point (used by the README and ipcctl): %s\n\n"
	       "ipcfs options:\n",
	       prog, IPCFS_DEFAULT_MOUNTPOINT);
	for (size_t i = 0; i < sizeof(option_docs) / sizeof(option_docs[0]); i++) {
		char line[160];

		snprintf(line, sizeof(line), option_docs[i].help, option_default(i));
		printf("    -o %-24s %s\n", option_docs[i].name, line);
	}
	printf("    -o %-24s %s\n", "allow_other", "let other users in; mode bits decide");
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
	/* nothing to gain from splicing tiny IPC payloads */
	conn->want &=
		~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

static void ipcfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
	h->node->type->read(req, h, size, off, fi->flags);
}

static void ipcfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct handle *h = fh(fi);

	(void)ino;
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
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options opts = { IPCFS_DEFAULT_MAX_OBJECTS, IPCFS_DEFAULT_MAX_MEMORY };
	struct fuse_cmdline_opts cmd = { 0 };
	struct fuse_loop_config *loop_cfg = NULL;
	struct ipcfs fs = { 0 };
	struct fuse_session *se;
	int ret = 1;

	if (fuse_opt_parse(&args, &opts, NULL, opt_proc) != 0)
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
		fuse_lowlevel_version();
		ret = 0;
		goto free_args;
	}
	if (!cmd.mountpoint) {
		fprintf(stderr, "usage: %s [options] MOUNTPOINT (--help for more)\n", argv[0]);
		ret = 2;
		goto free_args;
	}
	fs.mountpoint = realpath(cmd.mountpoint, NULL);
	if (!fs.mountpoint) {
		fprintf(stderr, "ipcfs: %s: %s\n", cmd.mountpoint, strerror(errno));
		goto free_args;
	}
	fs.max_objects = opts.max_objects;
	fs.max_memory = opts.max_memory;
	if (ns_init(&fs, types, sizeof(types) / sizeof(types[0])) != 0) {
		fprintf(stderr, "ipcfs: out of memory\n");
		goto free_ns;
	}

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

	if (cmd.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		loop_cfg = fuse_loop_cfg_create();
		if (!loop_cfg)
			goto unmount;
		fuse_loop_cfg_set_clone_fd(loop_cfg, (unsigned)cmd.clone_fd);
		fuse_loop_cfg_set_max_threads(loop_cfg, cmd.max_threads);
		if (cmd.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop_cfg, cmd.max_idle_threads);
		ret = fuse_session_loop_mt(se, loop_cfg);
		fuse_loop_cfg_destroy(loop_cfg);
	}
	/* Parked callers get a clean EIO rather than ECONNABORTED or a hang. */
	ns_shutdown(&fs);
	ret = ret < 0 ? 1 : 0;

unmount:
	fuse_session_unmount(se);
remove_handlers:
	fuse_remove_signal_handlers(se);
destroy_session:
	fuse_session_destroy(se);
free_ns:
	ns_destroy(&fs);
	free(fs.mountpoint);
free_args:
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
