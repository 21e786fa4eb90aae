/* SPDX-License-Identifier: MIT */
/*
 * shm.c - shared-memory segments: shm/NAME, files in memory that processes mmap together; the
 * FUSE face of model/shm.h.
 *
 * Implementation notes:
 * - Unlike the other types a segment goes through the kernel's page cache (no direct_io):
 *   mmap(MAP_SHARED) needs it, and then every process mapping the segment maps the very same
 *   pages, so stores are seen at once and process-shared futexes (lib/) work across them. The
 *   daemon is only the backing store: it sees stores on writeback, and keeps them (keep_cache
 *   on open, no automatic invalidation), so a later reader gets them.
 * - The contents, holes, sizes and the -o shm_max_size / -o max_memory caps are the model's
 *   (model/shm.h): beyond either cap a request fails whole with ENOSPC (the kernel may have
 *   sent the part of a write before a page it had not read as a request of its own, which
 *   lands, as under RLIMIT_FSIZE). This file turns requests into model calls and answers.
 * - rm leaves open descriptors and mappings working, as with /dev/shm: the contents live until
 *   the last one is gone. Nothing ever waits here: no request is parked, no poller notified.
 *
 * Locking: n->so protects the struct mshm and its pages; the model is called with it
 * held, and requests are answered after dropping it.
 */
#include "ipcfs.h"
#include "model/shm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>

static struct mshm *shm_of(struct node *n)
{
	return store_state(&n->so);
}

static int shm_init_obj(struct node *n)
{
	mshm_init(shm_of(n), &n->fs->params);
	return 0;
}

static void shm_destroy(struct node *n)
{
	mshm_fini(shm_of(n));
}

static int shm_truncate(struct node *n, off_t size)
{
	int rc;

	if (size < 0)
		return -EINVAL;
	store_begin(&n->so);
	rc = mshm_truncate(shm_of(n), (uint64_t)size);
	if (rc == MODEL_DONE)
		ns_touch(n, true);
	store_commit(&n->so, NULL);
	return rc;
}

static int shm_open(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	(void)req;
	(void)create;
	/* keep the page cache across opens: it is the segment everyone maps */
	fi->keep_cache = 1;
	if (fi->flags & O_TRUNC)
		return shm_truncate(h->node, 0);
	return 0;
}

static void shm_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	struct node *n = h->node;
	char *buf = malloc(size ? size : 1); /* before the lock */
	size_t len = 0;

	(void)flags;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	store_begin(&n->so);
	if (off >= 0)
		len = mshm_read(shm_of(n), buf, size, (uint64_t)off);
	store_end(&n->so);
	fuse_reply_buf(req, buf, len);
	free(buf);
}

static void shm_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		      int flags)
{
	struct node *n = h->node;
	int rc;

	(void)flags; /* O_APPEND: the kernel has already made off the end */
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (size == 0) {
		fuse_reply_write(req, 0); /* no lock, and no mtime: nothing was written */
		return;
	}
	store_begin(&n->so);
	rc = mshm_write(shm_of(n), buf, size, (uint64_t)off);
	if (rc == MODEL_DONE)
		ns_touch(n, true);
	store_commit(&n->so, NULL);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}

static void shm_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	(void)h;
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM); /* never waits */
}

static void shm_kill(struct node *n, int err)
{
	(void)err;
	/* Open descriptors and mappings (a mapping keeps its file open) keep working after rm,
	 * as with /dev/shm. With none, nobody can reach the contents again: give the memory
	 * back now rather than when the kernel forgets the inode, a moment later. */
	store_begin(&n->so);
	if (list_empty(&n->handles))
		mshm_truncate(shm_of(n), 0);
	store_end(&n->so);
}

static void shm_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	mshm_inspect(shm_of(n), snap, o);
}

static void shm_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	uint64_t sz, blk;

	mshm_stat(shm_of(n), &sz, &blk);
	*size = (off_t)sz;
	*blocks = (blkcnt_t)blk;
}

const struct objtype shm_type = {
	.name = "shm",
	.obj_size = sizeof(struct mshm),
	.init = shm_init_obj,
	.destroy = shm_destroy,
	.kill = shm_kill,
	.open = shm_open,
	.read = shm_read,
	.write = shm_write,
	.poll = shm_poll,
	.stat_size = shm_stat_size,
	.inspect = shm_inspect,
	.truncate = shm_truncate,
	.direct_io = false,
};
