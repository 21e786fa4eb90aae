/* SPDX-License-Identifier: MIT */
/*
 * list.h - intrusive circular doubly-linked lists, in the style of the Linux kernel's.
 * No allocation, O(1) insert/remove; the caller provides the locking.
 */
#ifndef IPCFS_LIST_H
#define IPCFS_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)     \
	{                        \
		&(name), &(name) \
	}
/* Declare and initialise an empty list head named name. */
#define LIST_HEAD_DECL(name) struct list_head name = LIST_HEAD_INIT(name)

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)

#define list_for_each_entry(pos, head, member)                                                 \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head); \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

#define list_for_each_entry_safe(pos, n, head, member)                  \
	for (pos = list_entry((head)->next, __typeof__(*pos), member),  \
	    n = list_entry(pos->member.next, __typeof__(*pos), member); \
	     &pos->member != (head);                                    \
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

static inline void list_init(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_add_between(struct list_head *e, struct list_head *prev,
				    struct list_head *next)
{
	next->prev = e;
	e->next = next;
	e->prev = prev;
	prev->next = e;
}

/* Insert e at the tail of h (FIFO order). */
static inline void list_add_tail(struct list_head *e, struct list_head *h)
{
	list_add_between(e, h->prev, h);
}

/* Insert e at the head of h. */
static inline void list_add(struct list_head *e, struct list_head *h)
{
	list_add_between(e, h, h->next);
}

/* Remove e from its list; e is left self-linked, so list_empty(e) tells it is unlinked. */
static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	list_init(e);
}

/* Move every entry of from to the tail of to; from becomes empty. */
static inline void list_splice_tail(struct list_head *from, struct list_head *to)
{
	if (list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	list_init(from);
}

#endif /* IPCFS_LIST_H */
