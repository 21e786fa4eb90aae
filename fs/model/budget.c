/* SPDX-License-Identifier: MIT */
/*
 * budget.c - the memory budget of a mount's objects (-o max_memory), see model.h.
 */
#include "model.h"

#include <errno.h>

int budget_charge(struct model_budget *b, size_t bytes)
{
	uint64_t old = __atomic_load_n(&b->used, __ATOMIC_RELAXED);

	/* compare-and-swap, not add-check-undo: two racing charges near the cap would both
	 * fail where one fits */
	do {
		if (bytes > b->max || old > b->max - bytes)
			return -ENOSPC;
	} while (!__atomic_compare_exchange_n(&b->used, &old, old + bytes, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return 0;
}

void budget_uncharge(struct model_budget *b, size_t bytes)
{
	__atomic_sub_fetch(&b->used, bytes, __ATOMIC_RELAXED);
}

void budget_charge_force(struct model_budget *b, size_t bytes)
{
	__atomic_add_fetch(&b->used, bytes, __ATOMIC_RELAXED);
}
