/* SPDX-License-Identifier: MIT */
/*
 * shm.c - the shared-memory segment's state machine (shm.h).
 *
 * Implementation notes:
 * - The contents are a table of 4 KiB pages allocated on first write; holes (a truncate up,
 *   writes past the end) read as zeros and cost nothing, so st_blocks is the memory really
 *   used.
 * - Pages, and the page table (8 bytes per slot up to the last written), are charged against
 *   -o max_memory; a segment may not grow past -o shm_max_size. Beyond either: -ENOSPC with
 *   nothing changed. A write charges every page it misses in one go before allocating any,
 *   so that a refusal leaves no trace; the budget's compare-and-swap (budget.c) keeps two
 *   segments racing near the cap from both failing where one fits.
 * - The table doubles as it grows (sequential writes copy it O(log n) times) but never past
 *   the slots -o shm_max_size allows; it shrinks only when a truncate leaves it mostly
 *   unused, so that a segment resized up and down around a size does not copy it each time.
 * - Nothing ever waits here: no waiter, no waker.
 *
 * Locking: the object's lock (store.h) protects struct mshm and its pages. The budget is
 * shared by the mount's objects but atomic (model.h): no lock of its own.
 */
#include "model/shm.h"

#include "inspect/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MSHM_MIN_SLOTS 16 /* the smallest page table: 64 KiB of segment */

void mshm_init(struct mshm *s, const struct model_params *params)
{
	memset(s, 0, sizeof(*s));
	s->params = params;
}

/* Free the pages from slot first on and give their memory back. */
static void free_pages_from(struct mshm *s, size_t first)
{
	size_t freed = 0;

	for (size_t i = first; i < s->nslots; i++) {
		if (s->pages[i]) {
			free(s->pages[i]);
			s->pages[i] = NULL;
			freed++;
		}
	}
	s->npages -= freed;
	budget_uncharge(s->params->budget, freed * MSHM_PAGE);
}

/* Free the page table (every slot a hole already) and give its memory back. */
static void free_table(struct mshm *s)
{
	free(s->pages);
	budget_uncharge(s->params->budget, s->nslots * sizeof(*s->pages));
	s->pages = NULL;
	s->nslots = 0;
}

void mshm_fini(struct mshm *s)
{
	free_pages_from(s, 0);
	free_table(s);
	s->size = 0;
}

/*
 * Make the page table hold slot last. The table is memory as real as the pages: a segment
 * written only at its 1 GiB end needs 262144 slots (2 MiB), so its growth is charged against
 * the budget too. Returns 0, -ENOSPC or -ENOMEM; on failure nothing changed. last must be
 * below the slots shm_max_size allows (the caller checked the end of the write).
 */
static int grow_table(struct mshm *s, size_t last)
{
	uint64_t max_slots = (s->params->shm_max_size + MSHM_PAGE - 1) / MSHM_PAGE;
	size_t want = s->nslots ? s->nslots : MSHM_MIN_SLOTS;
	size_t more;
	unsigned char **t;

	if (last < s->nslots)
		return 0;
	while (want <= last)
		want *= 2;
	if (want > max_slots)
		want = (size_t)max_slots; /* all a segment may use; last < max_slots */
	more = (want - s->nslots) * sizeof(*t);
	if (budget_charge(s->params->budget, more) != 0)
		return -ENOSPC;
	t = realloc(s->pages, want * sizeof(*t));
	if (!t) {
		budget_uncharge(s->params->budget, more);
		return -ENOMEM;
	}
	memset(t + s->nslots, 0, more);
	s->pages = t;
	s->nslots = want;
	return 0;
}

/* The table holds slots [0, keep) only now (the slots from keep on are holes): give back what
 * a much smaller segment no longer needs, all of it when keep is 0. On allocation failure the
 * table just stays bigger: still correct, only less memory given back. */
static void shrink_table(struct mshm *s, size_t keep)
{
	size_t want = MSHM_MIN_SLOTS;
	unsigned char **t;

	if (keep == 0) {
		free_table(s);
		return;
	}
	while (want < keep)
		want *= 2;
	if (want * 4 > s->nslots)
		return; /* not worth a copy: growing back would double it again */
	t = realloc(s->pages, want * sizeof(*t));
	if (!t)
		return;
	budget_uncharge(s->params->budget, (s->nslots - want) * sizeof(*t));
	s->pages = t;
	s->nslots = want;
}

size_t mshm_read(const struct mshm *s, void *buf, size_t len, uint64_t off)
{
	unsigned char *out = buf;

	if (off >= s->size)
		return 0;
	if (s->size - off < len)
		len = (size_t)(s->size - off);
	for (size_t done = 0; done < len;) {
		uint64_t pos = off + done;
		size_t slot = (size_t)(pos / MSHM_PAGE), in = (size_t)(pos % MSHM_PAGE);
		size_t chunk = MSHM_PAGE - in < len - done ? MSHM_PAGE - in : len - done;

		if (slot < s->nslots && s->pages[slot])
			memcpy(out + done, s->pages[slot] + in, chunk);
		else
			memset(out + done, 0, chunk); /* a hole */
		done += chunk;
	}
	return len;
}

int mshm_write(struct mshm *s, const void *buf, size_t len, uint64_t off)
{
	struct model_budget *b = s->params->budget;
	uint64_t max = s->params->shm_max_size;
	const unsigned char *in_buf = buf;
	size_t first, last, need = 0, got = 0;
	int rc;

	if (len == 0)
		return MODEL_DONE;
	if (off > max || len > max - off) /* off + len > max, without overflowing */
		return -ENOSPC;
	first = (size_t)(off / MSHM_PAGE);
	last = (size_t)((off + len - 1) / MSHM_PAGE);
	/* charge every missing page (the table after) first, so that a failure changes nothing */
	for (size_t i = first; i <= last; i++)
		need += i >= s->nslots || !s->pages[i];
	if (need && budget_charge(b, need * MSHM_PAGE) != 0)
		return -ENOSPC;
	rc = grow_table(s, last);
	if (rc) {
		budget_uncharge(b, need * MSHM_PAGE);
		return rc;
	}
	for (size_t i = first; i <= last; i++) {
		if (s->pages[i])
			continue;
		s->pages[i] = calloc(1, MSHM_PAGE);
		if (!s->pages[i]) {
			/* the pages allocated so far stay, reading as the holes did: zeros */
			budget_uncharge(b, (need - got) * MSHM_PAGE);
			return -ENOMEM;
		}
		s->npages++;
		got++;
	}
	for (size_t done = 0; done < len;) {
		uint64_t pos = off + done;
		size_t slot = (size_t)(pos / MSHM_PAGE), in = (size_t)(pos % MSHM_PAGE);
		size_t chunk = MSHM_PAGE - in < len - done ? MSHM_PAGE - in : len - done;

		memcpy(s->pages[slot] + in, in_buf + done, chunk);
		done += chunk;
	}
	if (off + len > s->size)
		s->size = off + len;
	return MODEL_DONE;
}

/* Zeroing the tail of the last page kept matters: the pages are whole, so without it a
 * shrink then a grow would bring the old bytes back instead of zeros. */
int mshm_truncate(struct mshm *s, uint64_t size)
{
	if (size > s->params->shm_max_size)
		return -ENOSPC;
	if (size < s->size) {
		size_t keep = (size_t)((size + MSHM_PAGE - 1) / MSHM_PAGE);
		size_t tail = (size_t)(size % MSHM_PAGE);

		free_pages_from(s, keep);
		if (tail && keep - 1 < s->nslots && s->pages[keep - 1])
			memset(s->pages[keep - 1] + tail, 0, MSHM_PAGE - tail);
		shrink_table(s, keep);
	}
	s->size = size;
	return MODEL_DONE;
}

void mshm_stat(const struct mshm *s, uint64_t *size, uint64_t *blocks)
{
	*size = s->size;
	*blocks = (uint64_t)s->npages * (MSHM_PAGE / 512);
}

void mshm_inspect(const struct mshm *s, struct snapshot *snap, struct snap_obj *o)
{
	(void)snap; /* no holders, no waiters */
	snap_field_add(o, "size", s->size);
	snap_field_add(o, "memory", (uint64_t)s->npages * MSHM_PAGE);
}
