/* SPDX-License-Identifier: MIT */
/*
 * shm.c - shared-memory segments: shm/NAME, files in memory that processes mmap together.
 *
 * Implementation notes:
 * - Unlike the other types a segment goes through the kernel's page cache (no direct_io):
 *   mmap(MAP_SHARED) needs it, and then every process mapping the segment maps the very same
 *   pages, so stores are seen at once and process-shared futexes (lib/) work across them. The
 *   daemon is only the backing store: it sees stores on writeback, and keeps them (keep_cache
 *   on open, no automatic invalidation), so a later reader gets them.
 * - The contents are a table of 4 KiB pages allocated on first write; holes (ftruncate up,
 *   writes past the end) read as zeros and cost nothing, so st_blocks is the memory really
 *   used. Pages are charged against -o max_memory; a segment may not grow past
 *   -o shm_max_size. Beyond either: ENOSPC, nothing changed.
 * - rm leaves open descriptors and mappings working, as with /dev/shm: the contents live until
 *   the last one is gone. Nothing ever waits here.
 *
 * Locking: node->lock protects struct shm_obj and the pages.
 */
#include "ipcfs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define SHM_PAGE 4096u

struct shm_obj {
	uint64_t size;	       /* st_size */
	unsigned char **pages; /* page table; NULL entries are holes */
	size_t nslots;	       /* entries in pages[] */
	size_t npages;	       /* pages allocated (st_blocks / 8) */
};

static struct shm_obj *shm_of(struct node *n)
{
	return n->obj;
}

static void free_pages_from(struct node *n, size_t first)
{
	struct shm_obj *s = shm_of(n);
	size_t freed = 0;

	for (size_t i = first; i < s->nslots; i++) {
		if (s->pages[i]) {
			free(s->pages[i]);
			s->pages[i] = NULL;
			freed++;
		}
	}
	s->npages -= freed;
	ns_uncharge(n->fs, freed * SHM_PAGE);
}

static void shm_destroy(struct node *n)
{
	struct shm_obj *s = shm_of(n);

	free_pages_from(n, 0);
	free(s->pages);
}

/* Make the page table hold slot index `last`. node->lock held. Returns 0 or -ENOMEM. */
static int grow_table(struct shm_obj *s, size_t last)
{
	size_t want = s->nslots ? s->nslots : 16;
	unsigned char **t;

	if (last < s->nslots)
		return 0;
	while (want <= last)
		want *= 2;
	t = realloc(s->pages, want * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t + s->nslots, 0, (want - s->nslots) * sizeof(*t));
	s->pages = t;
	s->nslots = want;
	return 0;
}

/* Set the size. Shrinking frees whole pages past the end and zeroes the tail of the last one,
 * so growing again reads zeros. Returns 0 or -ENOSPC (past -o shm_max_size). */
static int shm_resize(struct node *n, uint64_t size)
{
	struct shm_obj *s = shm_of(n);

	if (size > n->fs->shm_max_size)
		return -ENOSPC;
	if (size < s->size) {
		size_t keep = (size_t)((size + SHM_PAGE - 1) / SHM_PAGE);

		free_pages_from(n, keep);
		if (size % SHM_PAGE && keep - 1 < s->nslots && s->pages[keep - 1])
			memset(s->pages[keep - 1] + size % SHM_PAGE, 0, SHM_PAGE - size % SHM_PAGE);
	}
	s->size = size;
	return 0;
}

static int shm_truncate(struct node *n, off_t size)
{
	int rc;

	if (size < 0)
		return -EINVAL;
	ipc_mutex_lock(&n->lock);
	rc = shm_resize(n, (uint64_t)size);
	if (rc == 0)
		ns_touch(n, true);
	ipc_mutex_unlock(&n->lock);
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
	struct shm_obj *s = shm_of(n);
	unsigned char *buf = malloc(size ? size : 1);
	size_t len = 0;

	(void)flags;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ipc_mutex_lock(&n->lock);
	if (off >= 0 && (uint64_t)off < s->size) {
		len = s->size - (uint64_t)off < size ? (size_t)(s->size - (uint64_t)off) : size;
		for (size_t done = 0; done < len;) {
			uint64_t pos = (uint64_t)off + done;
			size_t slot = (size_t)(pos / SHM_PAGE), in = (size_t)(pos % SHM_PAGE);
			size_t chunk = SHM_PAGE - in < len - done ? SHM_PAGE - in : len - done;

			if (slot < s->nslots && s->pages[slot])
				memcpy(buf + done, s->pages[slot] + in, chunk);
			else
				memset(buf + done, 0, chunk); /* a hole */
			done += chunk;
		}
	}
	ipc_mutex_unlock(&n->lock);
	fuse_reply_buf(req, (const char *)buf, len);
	free(buf);
}

static void shm_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		      int flags)
{
	struct node *n = h->node;
	struct shm_obj *s = shm_of(n);
	uint64_t end = (uint64_t)off + size;
	size_t first, last, need = 0;
	int rc = 0;

	(void)flags;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (size == 0) {
		fuse_reply_write(req, 0);
		return;
	}
	first = (size_t)((uint64_t)off / SHM_PAGE);
	last = (size_t)((end - 1) / SHM_PAGE);
	ipc_mutex_lock(&n->lock);
	if (end > n->fs->shm_max_size)
		rc = -ENOSPC;
	if (rc == 0)
		rc = grow_table(s, last);
	/* charge every missing page first, so that a failure changes nothing */
	for (size_t i = first; rc == 0 && i <= last; i++)
		need += s->pages[i] == NULL;
	if (rc == 0 && need && ns_charge(n->fs, need * SHM_PAGE) != 0)
		rc = -ENOSPC;
	for (size_t i = first; rc == 0 && i <= last; i++) {
		if (s->pages[i])
			continue;
		s->pages[i] = calloc(1, SHM_PAGE);
		if (!s->pages[i]) {
			rc = -ENOMEM; /* pages allocated so far stay, as zeros */
			ns_uncharge(n->fs, (need - (i - first)) * SHM_PAGE);
			break;
		}
		s->npages++;
	}
	if (rc == 0) {
		for (size_t done = 0; done < size;) {
			uint64_t pos = (uint64_t)off + done;
			size_t slot = (size_t)(pos / SHM_PAGE), in = (size_t)(pos % SHM_PAGE);
			size_t chunk = SHM_PAGE - in < size - done ? SHM_PAGE - in : size - done;

			memcpy(s->pages[slot] + in, buf + done, chunk);
			done += chunk;
		}
		if (end > s->size)
			s->size = end;
		ns_touch(n, true);
	}
	ipc_mutex_unlock(&n->lock);
	if (rc)
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
	/* open descriptors and mappings keep working after rm, as with /dev/shm */
	(void)n;
	(void)err;
}

static void shm_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	struct shm_obj *s = shm_of(n);

	*size = (off_t)s->size;
	*blocks = (blkcnt_t)(s->npages * (SHM_PAGE / 512));
}

const struct objtype shm_type = {
	.name = "shm",
	.obj_size = sizeof(struct shm_obj),
	.destroy = shm_destroy,
	.kill = shm_kill,
	.open = shm_open,
	.read = shm_read,
	.write = shm_write,
	.poll = shm_poll,
	.stat_size = shm_stat_size,
	.truncate = shm_truncate,
	.direct_io = false,
};
