/* SPDX-License-Identifier: MIT */
/*
 * fuzz_semtext.c - libFuzzer harness for semtext_parse (`make fuzz`).
 *
 * Every input is parsed from a heap copy of exactly its size, so that ASan reports a read
 * past len, and checked against:
 * - the contract: rc is 0 or -EINVAL; on success V and P carry 1 <= n <= INT32_MAX and
 *   WAIT_ZERO carries 0; on failure *out is untouched; the input is not written to;
 * - a reference parser built differently (libc's isspace and strtoull on a NUL-terminated
 *   copy), which must agree on the outcome and the result.
 */
#include "model/semtext.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL_OP ((enum semtext_op)0x5a5a)
#define SENTINEL_N 0xdeadbeefu

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz_semtext: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The grammar of semtext.h, read from a NUL-terminated string of n bytes. */
static int reference_parse(char *s, size_t n, struct semtext *out)
{
	unsigned long long v;
	char *p = s, *end = s + n, *stop;
	char sign = 0;

	if (memchr(s, '\0', n))
		return -EINVAL;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (p == end) {
		*out = (struct semtext){ SEMTEXT_V, 1 };
		return 0;
	}
	if (*p == '+' || *p == '-')
		sign = *p++;
	/* strtoull would take white space, a second sign or "0x": only digits may follow */
	if (p == end || strspn(p, "0123456789") != (size_t)(end - p))
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &stop, 10);
	if (stop != end || errno == ERANGE || v > INT32_MAX)
		return -EINVAL;
	if (v == 0 && sign)
		return -EINVAL;
	if (v == 0)
		*out = (struct semtext){ SEMTEXT_WAIT_ZERO, 0 };
	else
		*out = (struct semtext){ sign == '-' ? SEMTEXT_P : SEMTEXT_V, (uint32_t)v };
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct semtext t = { SENTINEL_OP, SENTINEL_N };
	struct semtext r = { SENTINEL_OP, SENTINEL_N };
	char *buf = malloc(size), *ref = malloc(size + 1);
	int rc, ref_rc;

	CHECK(ref && (buf || !size));
	if (size)
		memcpy(buf, data, size);

	rc = semtext_parse(buf, size, &t);
	CHECK(rc == 0 || rc == -EINVAL);
	CHECK(!size || memcmp(buf, data, size) == 0);
	if (rc == 0) {
		switch (t.op) {
		case SEMTEXT_V:
		case SEMTEXT_P:
			CHECK(t.n >= 1 && t.n <= INT32_MAX);
			break;
		case SEMTEXT_WAIT_ZERO:
			CHECK(t.n == 0);
			break;
		default:
			CHECK(!"op out of range");
		}
	} else {
		CHECK(t.op == SENTINEL_OP && t.n == SENTINEL_N);
	}

	if (size)
		memcpy(ref, data, size);
	ref[size] = '\0';
	ref_rc = reference_parse(ref, size, &r);
	CHECK(rc == ref_rc);
	CHECK(t.op == r.op && t.n == r.n);

	/* the same bytes as terms: the contract of semtext_parse_terms, and the single-number
	 * text (no ':', one word) must read as semtext_parse reads it */
	{
		struct semtext_terms *terms = malloc(sizeof(*terms));
		int trc;

		CHECK(terms);
		terms->n = 0xdead;
		trc = semtext_parse_terms(buf, size, terms);
		CHECK(trc == 0 || trc == -EINVAL || trc == -E2BIG);
		CHECK(!size || memcmp(buf, data, size) == 0);
		if (trc == 0) {
			CHECK(terms->n >= 1 && terms->n <= IPCFS_MAX_SEM_TERMS);
			for (uint32_t i = 0; i < terms->n; i++) {
				const struct semtext_term *x = &terms->t[i];

				CHECK(!x->name ||
				      (x->name >= buf && x->name + x->namelen <= buf + size &&
				       x->namelen >= 1 && x->namelen <= IPCFS_NAME_MAX &&
				       !memchr(x->name, '/', x->namelen)));
			}
			if (terms->n == 1 && !terms->t[0].name)
				CHECK(rc == 0 && terms->t[0].op.op == t.op &&
				      terms->t[0].op.n == t.n);
		} else {
			CHECK(terms->n == 0xdead);
		}
		if (rc == 0)
			CHECK(trc == 0 && terms->n == 1 && !terms->t[0].name);
		free(terms);
	}

	free(ref);
	free(buf);
	return 0;
}
