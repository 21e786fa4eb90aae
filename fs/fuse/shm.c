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
 *   used. Pages, and the page table (8 bytes per page up to the last written), are charged against
 *   -o max_memory; a segment may not grow past -o shm_max_size. Beyond either: ENOSPC,
 *   nothing changed (the request fails whole; the kernel may have sent the part of a write
 *   before a page it had not read as a request of its own, which lands, as under
 *   RLIMIT_FSIZE).
 * - rm leaves open descriptors and mappings working, as with /dev/shm: the contents live until
 *   the last one is gone. Nothing ever waits here.
 *
 * Locking: node->lock protects struct shm_obj and the pages.
 */
#include "ipcfs.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define SHM_PAGE 4096u
#define SHM_MIN_SLOTS 16 /* the smallest page table: 64 KiB of segment */

struct shm_obj {
	uint64_t size;	       /* st_size */
	unsigned char **pages; /* pages[i]: bytes from i * SHM_PAGE on; NULL: a hole */
	size_t nslots;	       /* entries in pages[], charged against -o max_memory */
	size_t npages;	       /* pages allocated and charged (st_blocks / 8) */
};

static struct shm_obj *shm_of(struct node *n)
{
	return n->obj;
}

/* Free the pages from slot `first` on and give their memory back. node->lock held. */
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
	budget_uncharge(&n->fs->budget, freed * SHM_PAGE);
}

static void shm_destroy(struct node *n)
{
	struct shm_obj *s = shm_of(n);

	free_pages_from(n, 0);
	free(s->pages);
	budget_uncharge(&n->fs->budget, s->nslots * sizeof(*s->pages));
}

/*
 * Make the page table hold slot `last`. The table is memory as real as the pages: a segment
 * written only at its 1 GiB end needs 262144 slots (2 MiB), so its growth is charged against
 * -o max_memory too. It doubles (sequential writes copy it O(log n) times), but never past
 * the slots -o shm_max_size allows. node->lock held. Returns 0, -ENOSPC or -ENOMEM; on failure
 * nothing changed.
 */
static int grow_table(struct node *n, size_t last)
{
	struct shm_obj *s = shm_of(n);
	uint64_t max_slots = (n->fs->params.shm_max_size + SHM_PAGE - 1) / SHM_PAGE;
	size_t want = s->nslots ? s->nslots : SHM_MIN_SLOTS;
	size_t more;
	unsigned char **t;

	if (last < s->nslots)
		return 0;
	while (want <= last)
		want *= 2;
	if (want > max_slots)
		want = (size_t)max_slots; /* all a segment may use; last < max_slots (checked) */
	more = (want - s->nslots) * sizeof(*t);
	if (budget_charge(&n->fs->budget, more) != 0)
		return -ENOSPC;
	t = realloc(s->pages, want * sizeof(*t));
	if (!t) {
		budget_uncharge(&n->fs->budget, more);
		return -ENOMEM;
	}
	memset(t + s->nslots, 0, more);
	s->pages = t;
	s->nslots = want;
	return 0;
}

/* The table holds slots [0, keep) only now: give back what a much smaller segment no longer
 * needs (all of it when keep is 0). On allocation failure the table just stays bigger.
 * node->lock held; the slots from keep on are holes. */
static void shrink_table(struct node *n, size_t keep)
{
	struct shm_obj *s = shm_of(n);
	size_t want = SHM_MIN_SLOTS;
	unsigned char **t;

	if (keep == 0) {
		free(s->pages);
		budget_uncharge(&n->fs->budget, s->nslots * sizeof(*s->pages));
		s->pages = NULL;
		s->nslots = 0;
		return;
	}
	while (want < keep)
		want *= 2;
	if (want * 4 > s->nslots)
		return; /* not worth a copy: growing back would double it again */
	t = realloc(s->pages, want * sizeof(*t));
	if (!t)
		return;
	budget_uncharge(&n->fs->budget, (s->nslots - want) * sizeof(*t));
	s->pages = t;
	s->nslots = want;
}

/* Set the size. Shrinking frees the pages past the end (and the table they needed) and zeroes
 * the tail of the last one, so that growing again reads zeros. Growing allocates nothing.
 * node->lock held. Returns 0 or -ENOSPC (past -o shm_max_size), with nothing changed. */
static int shm_resize(struct node *n, uint64_t size)
{
	struct shm_obj *s = shm_of(n);

	if (size > n->fs->params.shm_max_size)
		return -ENOSPC;
	if (size < s->size) {
		size_t keep = (size_t)((size + SHM_PAGE - 1) / SHM_PAGE);

		free_pages_from(n, keep);
		if (size % SHM_PAGE && keep - 1 < s->nslots && s->pages[keep - 1])
			memset(s->pages[keep - 1] + size % SHM_PAGE, 0, SHM_PAGE - size % SHM_PAGE);
		shrink_table(n, keep);
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
	size_t first, last, need = 0, got = 0;
	int rc = 0;

	(void)flags; /* O_APPEND: the kernel has already made off the end */
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
	if (end > n->fs->params.shm_max_size) {
		rc = -ENOSPC;
		goto unlock;
	}
	/* charge every missing page (and the table) first, so that a failure changes nothing */
	for (size_t i = first; i <= last; i++)
		need += i >= s->nslots || !s->pages[i];
	if (need && budget_charge(&n->fs->budget, need * SHM_PAGE) != 0) {
		rc = -ENOSPC;
		goto unlock;
	}
	rc = grow_table(n, last);
	if (rc) {
		budget_uncharge(&n->fs->budget, need * SHM_PAGE);
		goto unlock;
	}
	for (size_t i = first; i <= last; i++) {
		if (s->pages[i])
			continue;
		s->pages[i] = calloc(1, SHM_PAGE);
		if (!s->pages[i]) {
			/* the pages allocated so far stay, as holes would read: zeros */
			budget_uncharge(&n->fs->budget, (need - got) * SHM_PAGE);
			rc = -ENOMEM;
			goto unlock;
		}
		s->npages++;
		got++;
	}
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
unlock:
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
	(void)err;
	/* Open descriptors and mappings (a mapping keeps its file open) keep working after rm,
	 * as with /dev/shm. With none, nobody can reach the contents again: give the memory
	 * back now rather than when the kernel forgets the inode, a moment later. */
	ipc_mutex_lock(&n->lock);
	if (list_empty(&n->handles))
		shm_resize(n, 0);
	ipc_mutex_unlock(&n->lock);
}

static void shm_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	struct shm_obj *s = shm_of(n);

	(void)snap;
	snap_field_add(o, "size", s->size);
	snap_field_add(o, "memory", (uint64_t)s->npages * SHM_PAGE);
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
	.inspect = shm_inspect,
	.truncate = shm_truncate,
	.direct_io = false,
};
