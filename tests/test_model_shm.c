/* SPDX-License-Identifier: MIT */
/*
 * test_model_shm.c - the shared-memory segment's state machine (model/shm.h) without FUSE:
 * contents at any offset, holes as zeros, short reads at the end, truncate down and up, the
 * per-segment cap and the mount's budget (a refusal changes nothing, the memory is given back),
 * st_blocks following the memory used, and the inspection fields.
 */
#include "model/shm.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <unistd.h>

#include "testutil.h"

#define MiB (1024u * 1024u)

/* A mount's worth of what a segment starts from: the cap and a budget nothing else uses. */
struct mount {
	struct model_budget budget;
	struct model_params params;
};

static void mount_make(struct mount *m, uint64_t max_size, uint64_t max_memory)
{
	memset(m, 0, sizeof(*m));
	m->budget.max = max_memory;
	m->params.budget = &m->budget;
	m->params.shm_max_size = max_size;
}

static uint64_t size_of(const struct mshm *s)
{
	uint64_t size, blocks;

	mshm_stat(s, &size, &blocks);
	return size;
}

static uint64_t blocks_of(const struct mshm *s)
{
	uint64_t size, blocks;

	mshm_stat(s, &size, &blocks);
	return blocks;
}

/* Assert that [off, off + len) reads as byte c. */
static void expect_bytes(const struct mshm *s, uint64_t off, size_t len, unsigned char c)
{
	unsigned char *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, c ^ 0xff, len);
	assert_int_equal(mshm_read(s, buf, len, off), len);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != c)
			fail_msg("byte %llu is %u, not %u", (unsigned long long)(off + i), buf[i],
				 c);
	free(buf);
}

static void test_model_shm_created_empty(void **state)
{
	struct mount m;
	struct mshm s;
	char buf[8] = "xxxxxxx";

	(void)state;
	mount_make(&m, MiB, 4 * MiB);
	mshm_init(&s, &m.params);
	assert_int_equal(size_of(&s), 0);
	assert_int_equal(blocks_of(&s), 0);
	assert_int_equal(m.budget.used, 0);
	assert_int_equal(mshm_read(&s, buf, sizeof(buf), 0), 0);
	assert_string_equal(buf, "xxxxxxx"); /* nothing copied */
	/* an empty write is done and changes nothing, even far past the cap */
	assert_int_equal(mshm_write(&s, buf, 0, 10 * MiB), MODEL_DONE);
	assert_int_equal(size_of(&s), 0);
	mshm_fini(&s);
	assert_int_equal(m.budget.used, 0);
}

static void test_model_shm_write_at_offset_leaves_a_hole_of_zeros(void **state)
{
	struct mount m;
	struct mshm s;
	char buf[16];

	(void)state;
	mount_make(&m, MiB, 4 * MiB);
	mshm_init(&s, &m.params);
	/* 3 pages in, across a page boundary */
	assert_int_equal(mshm_write(&s, "hello", 5, 3 * MSHM_PAGE - 2), MODEL_DONE);
	assert_int_equal(size_of(&s), 3 * MSHM_PAGE + 3);
	expect_bytes(&s, 0, 3 * MSHM_PAGE - 2, 0);
	assert_int_equal(mshm_read(&s, buf, 5, 3 * MSHM_PAGE - 2), 5);
	assert_memory_equal(buf, "hello", 5);
	/* only the two pages written cost memory: the hole is free */
	assert_int_equal(s.npages, 2);
	assert_int_equal(blocks_of(&s), 2 * (MSHM_PAGE / 512));
	/* a write inside the hole, and one over what is there */
	assert_int_equal(mshm_write(&s, "ab", 2, 10), MODEL_DONE);
	assert_int_equal(mshm_write(&s, "J", 1, 3 * MSHM_PAGE - 2), MODEL_DONE);
	assert_int_equal(size_of(&s), 3 * MSHM_PAGE + 3);
	assert_int_equal(mshm_read(&s, buf, 2, 10), 2);
	assert_memory_equal(buf, "ab", 2);
	expect_bytes(&s, 12, MSHM_PAGE - 12, 0);
	assert_int_equal(mshm_read(&s, buf, 5, 3 * MSHM_PAGE - 2), 5);
	assert_memory_equal(buf, "Jello", 5);
	mshm_fini(&s);
	assert_int_equal(m.budget.used, 0);
}

static void test_model_shm_read_past_end_is_short(void **state)
{
	struct mount m;
	struct mshm s;
	char buf[16];

	(void)state;
	mount_make(&m, MiB, 4 * MiB);
	mshm_init(&s, &m.params);
	assert_int_equal(mshm_write(&s, "0123456789", 10, 0), MODEL_DONE);
	assert_int_equal(mshm_read(&s, buf, sizeof(buf), 4), 6);
	assert_memory_equal(buf, "456789", 6);
	assert_int_equal(mshm_read(&s, buf, sizeof(buf), 10), 0);
	assert_int_equal(mshm_read(&s, buf, sizeof(buf), 11), 0);
	assert_int_equal(mshm_read(&s, buf, sizeof(buf), UINT64_MAX), 0);
	/* the size counts, not the pages: a truncate up reads zeros to the new end */
	assert_int_equal(mshm_truncate(&s, 12), MODEL_DONE);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(mshm_read(&s, buf, sizeof(buf), 8), 4);
	assert_memory_equal(buf, "89\0\0", 4);
	mshm_fini(&s);
}

static void test_model_shm_truncate_shrink_then_grow_reads_zeros(void **state)
{
	struct mount m;
	struct mshm s;
	unsigned char page[MSHM_PAGE];

	(void)state;
	mount_make(&m, MiB, 4 * MiB);
	mshm_init(&s, &m.params);
	memset(page, 'a', sizeof(page));
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(mshm_write(&s, page, sizeof(page), i * MSHM_PAGE), MODEL_DONE);
	assert_int_equal(s.npages, 4);
	/* shrink to the middle of page 1: pages 2 and 3 go, the tail of page 1 is zeroed */
	assert_int_equal(mshm_truncate(&s, MSHM_PAGE + 100), MODEL_DONE);
	assert_int_equal(size_of(&s), MSHM_PAGE + 100);
	assert_int_equal(s.npages, 2);
	assert_int_equal(blocks_of(&s), 2 * (MSHM_PAGE / 512));
	/* grow again: the old bytes do not come back */
	assert_int_equal(mshm_truncate(&s, 4 * MSHM_PAGE), MODEL_DONE);
	assert_int_equal(size_of(&s), 4 * MSHM_PAGE);
	assert_int_equal(s.npages, 2); /* growing allocates nothing */
	expect_bytes(&s, 0, MSHM_PAGE + 100, 'a');
	expect_bytes(&s, MSHM_PAGE + 100, 3 * MSHM_PAGE - 100, 0);
	/* to a page boundary, then to 0 */
	assert_int_equal(mshm_truncate(&s, MSHM_PAGE), MODEL_DONE);
	assert_int_equal(s.npages, 1);
	expect_bytes(&s, 0, MSHM_PAGE, 'a');
	assert_int_equal(mshm_truncate(&s, 0), MODEL_DONE);
	assert_int_equal(size_of(&s), 0);
	assert_int_equal(blocks_of(&s), 0);
	assert_int_equal(m.budget.used, 0); /* pages and table */
	mshm_fini(&s);
}

static void test_model_shm_per_segment_cap_is_enospc_unchanged(void **state)
{
	struct mount m;
	struct mshm s;
	char buf[4];
	uint64_t used;

	(void)state;
	mount_make(&m, MiB, 4 * MiB);
	mshm_init(&s, &m.params);
	assert_int_equal(mshm_write(&s, "hi", 2, 0), MODEL_DONE);
	used = m.budget.used;
	/* a truncate to the cap is allowed, one byte more is not */
	assert_int_equal(mshm_truncate(&s, MiB + 1), -ENOSPC);
	assert_int_equal(size_of(&s), 2);
	assert_int_equal(mshm_truncate(&s, MiB), MODEL_DONE);
	assert_int_equal(mshm_truncate(&s, 2), MODEL_DONE);
	/* a write ending at the cap lands; at it or across it is refused whole */
	assert_int_equal(mshm_write(&s, "ab", 2, MiB - 2), MODEL_DONE);
	used = m.budget.used;
	assert_int_equal(mshm_write(&s, "cd", 2, MiB), -ENOSPC);
	assert_int_equal(mshm_write(&s, "cd", 2, MiB - 1), -ENOSPC);
	assert_int_equal(mshm_write(&s, "cd", 2, UINT64_MAX - 1), -ENOSPC); /* no wrap-around */
	assert_int_equal(size_of(&s), MiB);
	assert_int_equal(m.budget.used, used);
	assert_int_equal(mshm_read(&s, buf, 2, MiB - 2), 2);
	assert_memory_equal(buf, "ab", 2);
	assert_int_equal(mshm_read(&s, buf, 2, 0), 2);
	assert_memory_equal(buf, "hi", 2);
	mshm_fini(&s);
	assert_int_equal(m.budget.used, 0);
}

/* The budget of the whole mount runs out: the write that does not fit changes nothing, even
 * when part of its range is already allocated. */
static void test_model_shm_budget_enospc_changes_nothing(void **state)
{
	struct mount m;
	struct mshm a, b;
	unsigned char *big = malloc(MiB);
	uint64_t used_before, blocks_before;

	(void)state;
	assert_non_null(big);
	memset(big, 'z', MiB);
	/* half a MiB of pages and its table fit, a MiB more does not */
	mount_make(&m, 4 * MiB, MiB);
	mshm_init(&a, &m.params);
	mshm_init(&b, &m.params);
	assert_int_equal(mshm_write(&a, big, MiB / 2, 0), MODEL_DONE);
	used_before = m.budget.used;
	assert_true(used_before > MiB / 2); /* the pages and the table */
	/* b: a whole MiB does not fit next to a's half */
	assert_int_equal(mshm_write(&b, big, MiB, 0), -ENOSPC);
	assert_int_equal(size_of(&b), 0);
	assert_int_equal(blocks_of(&b), 0);
	assert_null(b.pages);
	assert_int_equal(m.budget.used, used_before);
	/* a: over its own first page (allocated) and on into pages that do not fit */
	assert_int_equal(mshm_write(&a, "Q", 1, 100), MODEL_DONE);
	blocks_before = blocks_of(&a);
	assert_int_equal(mshm_write(&a, big, MiB, 0), -ENOSPC);
	assert_int_equal(size_of(&a), MiB / 2);
	assert_int_equal(blocks_of(&a), blocks_before);
	assert_int_equal(m.budget.used, used_before);
	expect_bytes(&a, 0, 100, 'z');
	expect_bytes(&a, 100, 1, 'Q');
	expect_bytes(&a, 101, MiB / 2 - 101, 'z');
	/* what fits still does */
	assert_int_equal(mshm_write(&b, "ok", 2, 0), MODEL_DONE);
	mshm_fini(&a);
	mshm_fini(&b);
	assert_int_equal(m.budget.used, 0);
	free(big);
}

/* The page table is charged too: a write at the far end of an empty segment refused for the
 * table alone leaves the page charge given back. */
static void test_model_shm_table_charge_refused_gives_page_back(void **state)
{
	struct mount m;
	struct mshm s;

	(void)state;
	/* room for one page, not for a table of 262144 slots (2 MiB) */
	mount_make(&m, 1024 * MiB, 2 * MSHM_PAGE);
	mshm_init(&s, &m.params);
	assert_int_equal(mshm_write(&s, "x", 1, 1024 * MiB - 1), -ENOSPC);
	assert_int_equal(m.budget.used, 0);
	assert_int_equal(size_of(&s), 0);
	assert_int_equal(s.nslots, 0);
	/* near the start the table is small: page and table fit */
	assert_int_equal(mshm_write(&s, "x", 1, 0), MODEL_DONE);
	assert_int_equal(m.budget.used, MSHM_PAGE + 16 * sizeof(void *));
	mshm_fini(&s);
	assert_int_equal(m.budget.used, 0);
}

static void test_model_shm_blocks_follow_memory_used(void **state)
{
	struct mount m;
	struct mshm s;
	struct snapshot snap = { 0 };
	struct snap_obj *o = snapshot_add_obj(&snap);

	(void)state;
	mount_make(&m, 64 * MiB, 64 * MiB);
	mshm_init(&s, &m.params);
	/* a large hole costs nothing */
	assert_int_equal(mshm_truncate(&s, 32 * MiB), MODEL_DONE);
	assert_int_equal(blocks_of(&s), 0);
	assert_int_equal(m.budget.used, 0);
	/* one byte in each of three pages, far apart */
	assert_int_equal(mshm_write(&s, "a", 1, 0), MODEL_DONE);
	assert_int_equal(mshm_write(&s, "b", 1, 5 * MiB), MODEL_DONE);
	assert_int_equal(mshm_write(&s, "c", 1, 32 * MiB - 1), MODEL_DONE);
	assert_int_equal(mshm_write(&s, "d", 1, 32 * MiB - 2), MODEL_DONE); /* same page */
	assert_int_equal(blocks_of(&s), 3 * (MSHM_PAGE / 512));
	assert_int_equal(size_of(&s), 32 * MiB);
	/* the budget holds the pages and the table (8 bytes a slot up to the last written) */
	assert_int_equal(m.budget.used, 3 * MSHM_PAGE + s.nslots * sizeof(void *));
	assert_true(s.nslots >= 32 * MiB / MSHM_PAGE);
	mshm_inspect(&s, &snap, o);
	assert_int_equal(snap_field_get(o, "size", 0), 32 * MiB);
	assert_int_equal(snap_field_get(o, "memory", 0), 3 * MSHM_PAGE);
	assert_int_equal(o->nholds, 0);
	assert_int_equal(o->nwaits, 0);
	snapshot_free(&snap);
	mshm_fini(&s);
	assert_int_equal(m.budget.used, 0);
}

/* Shrinking gives back the pages past the end and most of a table grown for them; freeing
 * gives back the rest. */
static void test_model_shm_budget_given_back_on_shrink_and_free(void **state)
{
	struct mount m;
	struct mshm s;
	unsigned char *big = malloc(4 * MiB);
	uint64_t small;

	(void)state;
	assert_non_null(big);
	memset(big, 'k', 4 * MiB);
	mount_make(&m, 16 * MiB, 16 * MiB);
	mshm_init(&s, &m.params);
	assert_int_equal(mshm_write(&s, big, MSHM_PAGE, 0), MODEL_DONE);
	small = m.budget.used;
	assert_int_equal(mshm_write(&s, big, 4 * MiB, 0), MODEL_DONE);
	assert_true(m.budget.used >= 4 * MiB + (4 * MiB / MSHM_PAGE) * sizeof(void *));
	/* back to one page: its page and the smallest table, as before the growth */
	assert_int_equal(mshm_truncate(&s, MSHM_PAGE), MODEL_DONE);
	assert_int_equal(m.budget.used, small);
	assert_int_equal(blocks_of(&s), MSHM_PAGE / 512);
	expect_bytes(&s, 0, MSHM_PAGE, 'k');
	/* free with pages still there */
	assert_int_equal(mshm_write(&s, big, 2 * MiB, MiB), MODEL_DONE);
	mshm_fini(&s);
	assert_int_equal(m.budget.used, 0);
	assert_int_equal(size_of(&s), 0);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_shm_created_empty),
		cmocka_unit_test(test_model_shm_write_at_offset_leaves_a_hole_of_zeros),
		cmocka_unit_test(test_model_shm_read_past_end_is_short),
		cmocka_unit_test(test_model_shm_truncate_shrink_then_grow_reads_zeros),
		cmocka_unit_test(test_model_shm_per_segment_cap_is_enospc_unchanged),
		cmocka_unit_test(test_model_shm_budget_enospc_changes_nothing),
		cmocka_unit_test(test_model_shm_table_charge_refused_gives_page_back),
		cmocka_unit_test(test_model_shm_blocks_follow_memory_used),
		cmocka_unit_test(test_model_shm_budget_given_back_on_shrink_and_free),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
