/* SPDX-License-Identifier: MIT */
/*
 * dir.c - directories: opendir, readdir, releasedir.
 *
 * Implementation notes:
 * - readdir works on a snapshot of the directory, so offsets stay valid whatever is created or
 *   removed meanwhile; a read from offset 0 (the first, or after rewinddir) takes a fresh one,
 *   so a program that deletes while scanning and then rescans sees what is left.
 *
 * Locking: fs->ns_lock while a snapshot is taken; an open directory's handle needs none (the
 * kernel sends one READDIR at a time per open directory).
 */
#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct dirent_snap {
	fuse_ino_t ino;
	mode_t type; /* S_IFDIR, S_IFLNK or S_IFREG: the entry's d_type */
	char *name;
};

struct dirsnap {
	size_t count;
	struct dirent_snap ent[];
};

/* An open directory. The kernel sends one READDIR at a time per open directory (it holds the
 * file's readdir lock), so nothing here needs a lock. */
struct dirhandle {
	struct node *dir;     /* holds a node reference */
	struct dirsnap *snap; /* what readdir lists; NULL until the first read */
};

static void dirsnap_free(struct dirsnap *s)
{
	for (size_t i = 0; s && i < s->count; i++)
		free(s->ent[i].name);
	free(s);
}

/* The entries of d now: ".", ".." and its children. NULL when out of memory. A name whose
 * copy failed is left out of the listing. Takes ns_lock. */
static struct dirsnap *dirsnap_take(struct ipcfs *fs, struct node *d)
{
	struct dirsnap *s;
	size_t count = 2, i = 0;
	struct node *n;

	ipc_mutex_lock(&fs->ns_lock);
	list_for_each_entry(n, &d->children, sibling) count++;
	s = malloc(sizeof(*s) + count * sizeof(s->ent[0]));
	if (!s)
		goto unlock;
	s->ent[i++] = (struct dirent_snap){ node_id(d), S_IFDIR, strdup(".") };
	s->ent[i++] = (struct dirent_snap){ node_id(d->parent), S_IFDIR, strdup("..") };
	list_for_each_entry(n, &d->children, sibling) s->ent[i++] =
		(struct dirent_snap){ node_id(n),
				      n->is_dir ? S_IFDIR
				      : n->link ? S_IFLNK
						: S_IFREG,
				      strdup(n->name) };
	s->count = i;
unlock:
	ipc_mutex_unlock(&fs->ns_lock);
	return s;
}

static void dirhandle_free(struct dirhandle *dh)
{
	dirsnap_free(dh->snap);
	ns_unref(dh->dir);
	free(dh);
}

void ns_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *d = ns_node(req, ino);
	struct dirhandle *dh;

	if (!d->is_dir) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	dh = calloc(1, sizeof(*dh));
	if (!dh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ns_ref(d);
	dh->dir = d;
	fi->fh = (uint64_t)(uintptr_t)dh;
	if (fuse_reply_open(req, fi) == -ENOENT)
		dirhandle_free(dh); /* the opener is gone: no releasedir will come */
}

void ns_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct dirhandle *dh = (struct dirhandle *)(uintptr_t)fi->fh;
	struct dirsnap *s;
	char *buf;
	size_t pos = 0;

	(void)ino;
	if (off == 0 || !dh->snap) {
		/* a listing (re)starts: show the directory as it is now */
		s = dirsnap_take(req_fs(req), dh->dir);
		if (!s) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		dirsnap_free(dh->snap);
		dh->snap = s;
	}
	s = dh->snap;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; i < s->count; i++) {
		struct stat st = { .st_ino = s->ent[i].ino, .st_mode = s->ent[i].type };
		size_t len;

		if (!s->ent[i].name)
			continue; /* strdup failed: leave the entry out */
		len = fuse_add_direntry(req, buf + pos, size - pos, s->ent[i].name, &st,
					(off_t)i + 1);
		if (len > size - pos)
			break;
		pos += len;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

void ns_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	dirhandle_free((struct dirhandle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}
