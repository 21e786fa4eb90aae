/* SPDX-License-Identifier: MIT */
/*
 * test_semtext.c - the parser of the text written to a semaphore file: every form of the
 * grammar in semtext.h, its limits, and the inputs it must refuse without touching *out.
 */
#include "model/semtext.h"

#include <stdio.h>

#include "testutil.h"

/* A string literal with its length, embedded NUL bytes included, the trailing one not. */
#define LIT(s) (s), sizeof(s) - 1

/* What *out holds before each call: no parse result can look like it. */
#define SENTINEL_OP ((enum semtext_op)0x5a5a)
#define SENTINEL_N 0xdeadbeefu

/* buf[0..len) as a C string literal, for failure messages. */
static const char *escape(const char *buf, size_t len)
{
	static char s[256];
	size_t o = 0;

	for (size_t i = 0; i < len && o < sizeof(s) - 8; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			s[o++] = (char)c;
		else
			o += (size_t)snprintf(s + o, sizeof(s) - o, "\\x%02x", c);
	}
	s[o] = '\0';
	return s;
}

/* Parse a heap copy of exactly len bytes, so that ASan catches a read past len. */
static int parse(const char *buf, size_t len, struct semtext *out)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	rc = semtext_parse(copy, len, out);
	free(copy);
	return rc;
}

static void expect_op(const char *buf, size_t len, enum semtext_op op, uint32_t n)
{
	struct semtext t = { SENTINEL_OP, SENTINEL_N };
	int rc = parse(buf, len, &t);

	if (rc != 0 || t.op != op || t.n != n)
		fail_msg("\"%s\" (len %zu): rc %d op %d n %u, expected rc 0 op %d n %u",
			 escape(buf, len), len, rc, (int)t.op, t.n, (int)op, n);
}

/* -EINVAL, and *out untouched. */
static void expect_einval(const char *buf, size_t len)
{
	struct semtext t = { SENTINEL_OP, SENTINEL_N };
	int rc = parse(buf, len, &t);

	if (rc != -EINVAL || t.op != SENTINEL_OP || t.n != SENTINEL_N)
		fail_msg("\"%s\" (len %zu): rc %d op %d n %u, expected -EINVAL and *out unchanged",
			 escape(buf, len), len, rc, (int)t.op, t.n);
}

static void test_semtext_empty_is_v1(void **state)
{
	struct semtext t = { SENTINEL_OP, SENTINEL_N };

	(void)state;
	expect_op(LIT(""), SEMTEXT_V, 1);
	/* a zero-length write need not come with a buffer */
	assert_int_equal(semtext_parse(NULL, 0, &t), 0);
	assert_int_equal(t.op, SEMTEXT_V);
	assert_int_equal(t.n, 1);
}

static void test_semtext_white_space_only_is_v1(void **state)
{
	(void)state;
	expect_op(LIT(" "), SEMTEXT_V, 1);
	expect_op(LIT("\n"), SEMTEXT_V, 1);
	expect_op(LIT("\r\n"), SEMTEXT_V, 1);
	expect_op(LIT(" \t\n\v\f\r"), SEMTEXT_V, 1);
	expect_op(LIT("          \n"), SEMTEXT_V, 1);
}

static void test_semtext_number_is_v(void **state)
{
	(void)state;
	expect_op(LIT("1"), SEMTEXT_V, 1);
	expect_op(LIT("+1"), SEMTEXT_V, 1);
	expect_op(LIT("42"), SEMTEXT_V, 42);
	expect_op(LIT("+42"), SEMTEXT_V, 42);
	expect_op(LIT("2147483647"), SEMTEXT_V, 2147483647u);
	expect_op(LIT("+2147483647"), SEMTEXT_V, 2147483647u);
	/* decimal, never octal */
	expect_op(LIT("010"), SEMTEXT_V, 10);
	expect_op(LIT("+0000000000000000000000000000001"), SEMTEXT_V, 1);
}

static void test_semtext_minus_number_is_p(void **state)
{
	(void)state;
	expect_op(LIT("-1"), SEMTEXT_P, 1);
	expect_op(LIT("-42"), SEMTEXT_P, 42);
	expect_op(LIT("-2147483647"), SEMTEXT_P, 2147483647u);
	expect_op(LIT("-010"), SEMTEXT_P, 10);
}

/* Every decimal form of N, over the whole range: the limits, every power of ten and its
 * neighbours, and a stride through the rest. */
static void check_n(uint32_t n)
{
	char s[16];
	int len;

	len = snprintf(s, sizeof(s), "%u", n);
	expect_op(s, (size_t)len, SEMTEXT_V, n);
	len = snprintf(s, sizeof(s), "+%u", n);
	expect_op(s, (size_t)len, SEMTEXT_V, n);
	len = snprintf(s, sizeof(s), "-%u", n);
	expect_op(s, (size_t)len, SEMTEXT_P, n);
	len = snprintf(s, sizeof(s), " %u\n", n);
	expect_op(s, (size_t)len, SEMTEXT_V, n);
}

static void test_semtext_accepts_the_whole_range(void **state)
{
	(void)state;
	for (uint32_t n = 1; n <= 1000; n++)
		check_n(n);
	for (uint64_t p = 10; p <= INT32_MAX; p *= 10) {
		check_n((uint32_t)p - 1);
		check_n((uint32_t)p);
		check_n((uint32_t)p + 1);
	}
	for (uint64_t n = 1; n <= INT32_MAX; n += 104729 * 13)
		check_n((uint32_t)n);
	check_n(INT32_MAX - 1);
	check_n(INT32_MAX);
}

static void test_semtext_zero_waits_for_zero(void **state)
{
	(void)state;
	expect_op(LIT("0"), SEMTEXT_WAIT_ZERO, 0);
	expect_op(LIT("00"), SEMTEXT_WAIT_ZERO, 0);
	expect_op(LIT("0\n"), SEMTEXT_WAIT_ZERO, 0);
	expect_op(LIT(" \t0 \n"), SEMTEXT_WAIT_ZERO, 0);
}

static void test_semtext_rejects_signed_zero(void **state)
{
	(void)state;
	expect_einval(LIT("+0"));
	expect_einval(LIT("-0"));
	expect_einval(LIT("-00"));
	expect_einval(LIT("+0\n"));
	expect_einval(LIT(" -0 "));
}

static void test_semtext_rejects_out_of_range(void **state)
{
	(void)state;
	expect_einval(LIT("2147483648"));
	expect_einval(LIT("+2147483648"));
	expect_einval(LIT("-2147483648"));
	expect_einval(LIT("2147483650"));
	expect_einval(LIT("4294967295"));
	/* the values that wrap to small ones in 32 and 64 bits */
	expect_einval(LIT("4294967296"));
	expect_einval(LIT("4294967297"));
	expect_einval(LIT("-4294967297"));
	expect_einval(LIT("18446744073709551616"));
	expect_einval(LIT("18446744073709551617"));
	expect_einval(LIT("99999999999999999999"));
	expect_einval(LIT("-99999999999999999999"));
	expect_einval(LIT("1000000000000000000000000000000000000000000000000000000000000001"));
}

static void test_semtext_rejects_a_sign_alone(void **state)
{
	(void)state;
	expect_einval(LIT("-"));
	expect_einval(LIT("+"));
	expect_einval(LIT(" -\n"));
	expect_einval(LIT("+\n"));
	expect_einval(LIT("--1"));
	expect_einval(LIT("+-1"));
	expect_einval(LIT("-+1"));
	expect_einval(LIT("++1"));
}

static void test_semtext_rejects_anything_else(void **state)
{
	(void)state;
	expect_einval(LIT("1 2"));
	expect_einval(LIT("1\n2"));
	expect_einval(LIT("1x"));
	expect_einval(LIT("x1"));
	expect_einval(LIT("x"));
	expect_einval(LIT("0x10"));
	expect_einval(LIT("1.5"));
	expect_einval(LIT("1e3"));
	expect_einval(LIT("1-"));
	expect_einval(LIT("- 1"));
	expect_einval(LIT("+ 1"));
	expect_einval(LIT("V"));
	expect_einval(LIT("P 1"));
	expect_einval(LIT("/1"));
	expect_einval(LIT("1:"));
}

static void test_semtext_allows_white_space_around(void **state)
{
	(void)state;
	expect_op(LIT(" 1\n"), SEMTEXT_V, 1);
	expect_op(LIT("\t-3\n"), SEMTEXT_P, 3);
	expect_op(LIT("\r\n +7 \r\n"), SEMTEXT_V, 7);
	expect_op(LIT("\v\f5\f\v"), SEMTEXT_V, 5);
}

/* "\000" is one NUL byte: an octal escape ends after three digits, so "\0001" is NUL, '1'. */
static void test_semtext_rejects_nul_bytes(void **state)
{
	(void)state;
	expect_einval(LIT("1\0"));
	expect_einval(LIT("\0"));
	expect_einval(LIT("\0\0"));
	expect_einval(LIT("\0001"));
	expect_einval(LIT(" \0\n"));
	expect_einval(LIT("1\0002"));
	expect_einval(LIT("-\0001"));
	expect_einval(LIT("0\0"));
}

static void test_semtext_rejects_non_ascii_bytes(void **state)
{
	(void)state;
	/* NO-BREAK SPACE and FULLWIDTH DIGIT ONE in UTF-8; '1' and ' ' with the high bit set.
	 * "\x31" is '1': a hex escape would swallow a literal digit after it. */
	expect_einval(LIT("\xc2\xa0\x31"));
	expect_einval(LIT("1\xc2\xa0"));
	expect_einval(LIT("\xef\xbc\x91"));
	expect_einval(LIT("\xb1"));
	expect_einval(LIT("\xa0\x31"));
	expect_einval(LIT("1\xa0"));
	expect_einval(LIT("\x80"));
	expect_einval(LIT("\xff"));
	expect_einval(LIT("-\xb1"));
}

static void test_semtext_reads_len_bytes_not_up_to_nul(void **state)
{
	(void)state;
	expect_op("12", 1, SEMTEXT_V, 1);
	expect_op("-5x", 2, SEMTEXT_P, 5);
	expect_op("1 2", 1, SEMTEXT_V, 1);
	expect_op("3abc", 1, SEMTEXT_V, 3);
	expect_op("0-", 1, SEMTEXT_WAIT_ZERO, 0);
	expect_op("7", 0, SEMTEXT_V, 1);
	expect_op("\n9", 1, SEMTEXT_V, 1);
	expect_op("2147483647999", 10, SEMTEXT_V, 2147483647u);
	expect_einval("-1", 1);
	expect_einval("+0", 1);
}

static void test_semtext_error_leaves_output_unchanged(void **state)
{
	struct semtext t = { SENTINEL_OP, SENTINEL_N };

	(void)state;
	assert_int_equal(parse(LIT("-9"), &t), 0);
	assert_int_equal(t.op, SEMTEXT_P);
	assert_int_equal(t.n, 9);
	/* errors found at every stage: sign, digits, overflow, signed zero */
	assert_int_equal(parse(LIT("-"), &t), -EINVAL);
	assert_int_equal(parse(LIT("12x"), &t), -EINVAL);
	assert_int_equal(parse(LIT("3000000000"), &t), -EINVAL);
	assert_int_equal(parse(LIT("+0"), &t), -EINVAL);
	assert_int_equal(t.op, SEMTEXT_P);
	assert_int_equal(t.n, 9);
}

/* ---- several terms (semtext_parse_terms) ---- */

static int parse_terms(const char *text, struct semtext_terms *out)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	rc = semtext_parse_terms(copy, len, out);
	if (rc == 0) /* names point into the buffer: compare them before it goes */
		for (uint32_t i = 0; i < out->n; i++)
			if (out->t[i].name)
				out->t[i].name = strndup(out->t[i].name, out->t[i].namelen);
	free(copy);
	return rc;
}

static void free_terms(struct semtext_terms *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		free((char *)t->t[i].name);
}

static void test_semtext_terms_name_siblings(void **state)
{
	struct semtext_terms t;

	(void)state;
	assert_int_equal(parse_terms(" -1\tright:-1 b:c:+2 z:0\n", &t), 0);
	assert_int_equal(t.n, 4);
	assert_null(t.t[0].name);
	assert_int_equal(t.t[0].op.op, SEMTEXT_P);
	assert_int_equal(t.t[0].op.n, 1);
	assert_string_equal(t.t[1].name, "right");
	assert_int_equal(t.t[1].op.op, SEMTEXT_P);
	assert_string_equal(t.t[2].name, "b:c"); /* the last ':' separates */
	assert_int_equal(t.t[2].op.op, SEMTEXT_V);
	assert_int_equal(t.t[2].op.n, 2);
	assert_int_equal(t.t[3].op.op, SEMTEXT_WAIT_ZERO);
	free_terms(&t);
	/* one term without a name is what semtext_parse says, the empty text too */
	assert_int_equal(parse_terms("-7", &t), 0);
	assert_true(t.n == 1 && !t.t[0].name && t.t[0].op.op == SEMTEXT_P && t.t[0].op.n == 7);
	assert_int_equal(parse_terms(" \n", &t), 0);
	assert_true(t.n == 1 && !t.t[0].name && t.t[0].op.op == SEMTEXT_V && t.t[0].op.n == 1);
}

static void test_semtext_terms_reject_bad_terms_unchanged(void **state)
{
	static const char *const bad[] = {
		"a:",	"a: -1", ":1",	"a/b:1", ".:1", "..:1", "a:1 a:2",
		"-1 2", "a:-0",	 "a:x", "a:1x",	 "a:+", "a::",	"-1 -",
	};
	struct semtext_terms t = { .n = 99 };
	char many[4 * (IPCFS_MAX_SEM_TERMS + 1) + 1] = "", longname[IPCFS_NAME_MAX + 4];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_terms(bad[i], &t) != -EINVAL)
			fail_msg("\"%s\": expected -EINVAL", bad[i]);
		assert_int_equal(t.n, 99);
	}
	for (unsigned i = 0; i <= IPCFS_MAX_SEM_TERMS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%c:1 ", 'A' + i);
	assert_int_equal(parse_terms(many, &t), -E2BIG);
	many[strlen(many) - 5] = '\0'; /* the limit itself is fine */
	assert_int_equal(parse_terms(many, &t), 0);
	assert_int_equal(t.n, IPCFS_MAX_SEM_TERMS);
	free_terms(&t);
	memset(longname, 'n', IPCFS_NAME_MAX + 1);
	strcpy(longname + IPCFS_NAME_MAX + 1, ":1");
	assert_int_equal(parse_terms(longname, &t), -EINVAL);
	strcpy(longname + IPCFS_NAME_MAX, ":1");
	assert_int_equal(parse_terms(longname, &t), 0);
	free_terms(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semtext_empty_is_v1),
		cmocka_unit_test(test_semtext_white_space_only_is_v1),
		cmocka_unit_test(test_semtext_number_is_v),
		cmocka_unit_test(test_semtext_minus_number_is_p),
		cmocka_unit_test(test_semtext_accepts_the_whole_range),
		cmocka_unit_test(test_semtext_zero_waits_for_zero),
		cmocka_unit_test(test_semtext_rejects_signed_zero),
		cmocka_unit_test(test_semtext_rejects_out_of_range),
		cmocka_unit_test(test_semtext_rejects_a_sign_alone),
		cmocka_unit_test(test_semtext_rejects_anything_else),
		cmocka_unit_test(test_semtext_allows_white_space_around),
		cmocka_unit_test(test_semtext_rejects_nul_bytes),
		cmocka_unit_test(test_semtext_rejects_non_ascii_bytes),
		cmocka_unit_test(test_semtext_reads_len_bytes_not_up_to_nul),
		cmocka_unit_test(test_semtext_error_leaves_output_unchanged),
		cmocka_unit_test(test_semtext_terms_name_siblings),
		cmocka_unit_test(test_semtext_terms_reject_bad_terms_unchanged),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
