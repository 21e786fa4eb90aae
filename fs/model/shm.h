/* SPDX-License-Identifier: MIT */
/*
 * shm.h - the shared-memory segment's state machine: bytes at any offset, a size, holes that
 * read as zeros, and the memory they cost against the mount's budget.
 *
 * Every function is called with the object's lock held (store.h) and never blocks, sleeps or
 * answers anybody. Unlike the other types nothing ever waits on a segment (a read or a write
 * is done or fails at once), so no operation takes a waiter or a waker (model.h): there is
 * nobody to hand back, and the face has nothing to park.
 *
 * Errors are -errno with nothing changed, as model.h says; the one exception (-ENOMEM half way
 * through a write) is stated at mshm_write.
 */
#ifndef IPCFS_MODEL_SHM_H
#define IPCFS_MODEL_SHM_H

#include "model.h"

struct snapshot;
struct snap_obj;

/* The unit of allocation: st_blocks and the inspected "memory" count whole pages. */
#define MSHM_PAGE 4096u

struct mshm {
	/* the mount's -o shm_max_size and -o max_memory budget (params->budget); immutable, and
	 * must outlive the segment */
	const struct model_params *params;
	uint64_t size;	       /* st_size: bytes from 0, written or not */
	unsigned char **pages; /* pages[i]: bytes from i * MSHM_PAGE on; NULL: a hole (zeros) */
	size_t nslots;	       /* entries in pages[], each charged against the budget */
	size_t npages;	       /* pages allocated and charged (st_blocks / 8) */
};

/* mshm_init - an empty segment (size 0, no memory) limited by params, which it keeps a pointer
 * to. Charges nothing. */
void mshm_init(struct mshm *s, const struct model_params *params);

/* mshm_fini - free the contents and give every byte they were charged back to the budget.
 * s is empty afterwards (size 0), as after mshm_init. */
void mshm_fini(struct mshm *s);

/* mshm_read - copy up to len bytes from offset off into buf: holes as zeros. Returns the bytes
 * copied: len, fewer at the end of the segment, 0 from the end on. Changes nothing. */
size_t mshm_read(const struct mshm *s, void *buf, size_t len, uint64_t off);

/*
 * mshm_write - store len bytes of buf at offset off, growing the size to off + len if that is
 * beyond it; holes before off stay holes. A write of 0 bytes is MODEL_DONE and changes nothing.
 * Returns MODEL_DONE, or:
 *   -ENOSPC past params->shm_max_size (off + len larger), or when the pages and page table it
 *           needs do not fit in the budget: nothing changed (contents, size, budget);
 *   -ENOMEM out of memory: size and contents as before, though some holes of the range may
 *           now be allocated zero pages (charged, counted in st_blocks) and the table bigger.
 * Every page the range misses is charged before any is allocated, so a refusal is whole.
 */
int mshm_write(struct mshm *s, const void *buf, size_t len, uint64_t off);

/* mshm_truncate - set the size. Shrinking frees the pages past the end (and gives back their
 * memory and most of a page table grown for them); what grows back reads as zeros. Growing
 * allocates nothing. Returns MODEL_DONE, or -ENOSPC past params->shm_max_size (nothing
 * changed). mshm_truncate(s, 0) gives back all the memory, as mshm_fini. */
int mshm_truncate(struct mshm *s, uint64_t size);

/* mshm_stat - st_size and st_blocks (512-byte units of memory really used: holes cost none). */
void mshm_stat(const struct mshm *s, uint64_t *size, uint64_t *blocks);

/* mshm_inspect - the fields "size" and "memory" (bytes of pages allocated) into o. A segment
 * has no holders and no waiters. */
void mshm_inspect(const struct mshm *s, struct snapshot *snap, struct snap_obj *o);

#endif /* IPCFS_MODEL_SHM_H */
