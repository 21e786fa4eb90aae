/* SPDX-License-Identifier: MIT */
/* test_list.c - the intrusive list: insertion order, removal, splicing, safe iteration. */
#include "list.h"

#include "testutil.h"

struct item {
	int v;
	struct list_head node;
};

static void items_init(struct item *it, int n)
{
	for (int i = 0; i < n; i++) {
		it[i].v = i + 1;
		list_init(&it[i].node);
	}
}

/* Assert that h holds exactly the values want[0..n), in that order, walking it both ways
 * (so that every prev link agrees with the next link it mirrors). */
static void assert_list(const struct list_head *h, const int *want, int n)
{
	const struct list_head *p = h;
	int i;

	for (i = 0; i < n; i++) {
		assert_ptr_equal(p->next->prev, p);
		p = p->next;
		assert_ptr_not_equal(p, h);
		assert_int_equal(list_entry(p, struct item, node)->v, want[i]);
	}
	assert_ptr_equal(p->next, h);
	assert_ptr_equal(h->prev, p);
	for (p = h->prev, i = n - 1; i >= 0; i--, p = p->prev)
		assert_int_equal(list_entry(p, struct item, node)->v, want[i]);
	assert_ptr_equal(p, h);
	assert_int_equal(list_empty(h), n == 0);
}

static void test_list_starts_empty(void **state)
{
	LIST_HEAD_DECL(a);
	struct list_head b;

	(void)state;
	assert_true(list_empty(&a));
	assert_ptr_equal(a.next, &a);
	assert_ptr_equal(a.prev, &a);
	list_init(&b);
	assert_true(list_empty(&b));
	assert_list(&b, NULL, 0);
}

static void test_list_add_tail_keeps_fifo_order(void **state)
{
	LIST_HEAD_DECL(h);
	struct item it[4];
	struct item *pos;
	int i = 0;

	(void)state;
	items_init(it, 4);
	for (int k = 0; k < 4; k++) {
		list_add_tail(&it[k].node, &h);
		assert_false(list_empty(&h));
	}
	assert_list(&h, (const int[]){ 1, 2, 3, 4 }, 4);
	assert_int_equal(list_first_entry(&h, struct item, node)->v, 1);
	list_for_each_entry(pos, &h, node)
	{
		assert_int_equal(pos->v, ++i);
	}
	assert_int_equal(i, 4);
}

static void test_list_add_inserts_at_head(void **state)
{
	LIST_HEAD_DECL(h);
	struct item it[4];

	(void)state;
	items_init(it, 4);
	for (int k = 0; k < 3; k++)
		list_add(&it[k].node, &h);
	assert_list(&h, (const int[]){ 3, 2, 1 }, 3);
	assert_int_equal(list_first_entry(&h, struct item, node)->v, 3);
	/* both ends of the same list */
	list_add_tail(&it[3].node, &h);
	assert_list(&h, (const int[]){ 3, 2, 1, 4 }, 4);
}

static void test_list_del_leaves_entry_self_linked(void **state)
{
	LIST_HEAD_DECL(h);
	struct item it[3];

	(void)state;
	items_init(it, 3);
	for (int k = 0; k < 3; k++)
		list_add_tail(&it[k].node, &h);

	list_del(&it[1].node);
	assert_true(list_empty(&it[1].node));
	assert_ptr_equal(it[1].node.next, &it[1].node);
	assert_ptr_equal(it[1].node.prev, &it[1].node);
	assert_list(&h, (const int[]){ 1, 3 }, 2);

	/* deleting an unlinked entry again touches nothing else */
	list_del(&it[1].node);
	assert_true(list_empty(&it[1].node));
	assert_list(&h, (const int[]){ 1, 3 }, 2);

	list_del(&it[0].node);
	assert_list(&h, (const int[]){ 3 }, 1);
	list_del(&it[2].node);
	assert_true(list_empty(&it[0].node));
	assert_true(list_empty(&it[2].node));
	assert_list(&h, NULL, 0);

	/* a deleted entry can be added again */
	list_add_tail(&it[1].node, &h);
	assert_list(&h, (const int[]){ 2 }, 1);
}

static void test_list_splice_tail_moves_all_and_empties_source(void **state)
{
	LIST_HEAD_DECL(to);
	LIST_HEAD_DECL(from);
	struct item it[5];

	(void)state;
	items_init(it, 5);
	list_add_tail(&it[0].node, &to);
	list_add_tail(&it[1].node, &to);
	list_add_tail(&it[2].node, &from);
	list_add_tail(&it[3].node, &from);

	list_splice_tail(&from, &to);
	assert_true(list_empty(&from));
	assert_list(&from, NULL, 0);
	assert_list(&to, (const int[]){ 1, 2, 3, 4 }, 4);

	/* an empty source changes nothing */
	list_splice_tail(&from, &to);
	assert_list(&from, NULL, 0);
	assert_list(&to, (const int[]){ 1, 2, 3, 4 }, 4);

	/* into an empty list, and a single entry */
	list_splice_tail(&to, &from);
	assert_list(&to, NULL, 0);
	assert_list(&from, (const int[]){ 1, 2, 3, 4 }, 4);
	list_add_tail(&it[4].node, &to);
	list_splice_tail(&to, &from);
	assert_list(&to, NULL, 0);
	assert_list(&from, (const int[]){ 1, 2, 3, 4, 5 }, 5);
}

static void test_list_for_each_entry_safe_allows_removal(void **state)
{
	LIST_HEAD_DECL(h);
	LIST_HEAD_DECL(odd);
	struct item it[6];
	struct item *pos, *n;
	int seen = 0;

	(void)state;
	items_init(it, 6);
	for (int k = 0; k < 6; k++)
		list_add_tail(&it[k].node, &h);

	/* remove the even ones and move the odd ones elsewhere, while iterating */
	list_for_each_entry_safe(pos, n, &h, node)
	{
		assert_int_equal(pos->v, ++seen);
		list_del(&pos->node);
		if (pos->v % 2)
			list_add_tail(&pos->node, &odd);
	}
	assert_int_equal(seen, 6);
	assert_list(&h, NULL, 0);
	assert_list(&odd, (const int[]){ 1, 3, 5 }, 3);
	for (int k = 1; k < 6; k += 2)
		assert_true(list_empty(&it[k].node));

	/* over an empty list the body never runs */
	list_for_each_entry_safe(pos, n, &h, node)
	{
		fail();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_starts_empty),
		cmocka_unit_test(test_list_add_tail_keeps_fifo_order),
		cmocka_unit_test(test_list_add_inserts_at_head),
		cmocka_unit_test(test_list_del_leaves_entry_self_linked),
		cmocka_unit_test(test_list_splice_tail_moves_all_and_empties_source),
		cmocka_unit_test(test_list_for_each_entry_safe_allows_removal),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
