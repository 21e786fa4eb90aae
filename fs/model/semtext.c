/* SPDX-License-Identifier: MIT */
/* semtext.c - parse the text written to a semaphore file (grammar in semtext.h). */
#include "semtext.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int semtext_parse(const char *buf, size_t len, struct semtext *out)
{
	size_t i = 0, end = len;
	uint64_t v = 0;
	char sign = 0;

	while (i < end && is_space(buf[i]))
		i++;
	while (end > i && is_space(buf[end - 1]))
		end--;
	if (i == end) {
		*out = (struct semtext){ SEMTEXT_V, 1 };
		return 0;
	}
	if (buf[i] == '+' || buf[i] == '-')
		sign = buf[i++];
	if (i == end)
		return -EINVAL; /* a sign alone */
	for (; i < end; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(buf[i] - '0');
		if (v > INT32_MAX)
			return -EINVAL;
	}
	if (v == 0) {
		if (sign)
			return -EINVAL; /* "+0" and "-0" mean nothing useful */
		*out = (struct semtext){ SEMTEXT_WAIT_ZERO, 0 };
		return 0;
	}
	*out = (struct semtext){ sign == '-' ? SEMTEXT_P : SEMTEXT_V, (uint32_t)v };
	return 0;
}

/* A sibling's name as a term may give it: one path component of a name the tree allows. */
static bool valid_name(const char *name, size_t len)
{
	if (len == 0 || len > IPCFS_NAME_MAX || memchr(name, '/', len) || memchr(name, '\0', len))
		return false;
	return !(len == 1 && name[0] == '.') && !(len == 2 && name[0] == '.' && name[1] == '.');
}

int semtext_parse_terms(const char *buf, size_t len, struct semtext_terms *out)
{
	struct semtext_terms t = { 0 };
	size_t i = 0;

	while (i < len) {
		struct semtext_term *term;
		size_t start, end, colon;

		while (i < len && is_space(buf[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !is_space(buf[i]))
			i++;
		end = i;
		if (t.n == IPCFS_MAX_SEM_TERMS)
			return -E2BIG;
		term = &t.t[t.n++];
		for (colon = end; colon > start && buf[colon - 1] != ':'; colon--)
			;
		if (colon > start) { /* NAME:N */
			term->name = buf + start;
			term->namelen = colon - 1 - start;
			if (!valid_name(term->name, term->namelen) || colon == end)
				return -EINVAL;
			for (uint32_t k = 0; k + 1 < t.n; k++)
				if (t.t[k].name && t.t[k].namelen == term->namelen &&
				    memcmp(t.t[k].name, term->name, term->namelen) == 0)
					return -EINVAL;
			start = colon;
		}
		if (semtext_parse(buf + start, end - start, &term->op) < 0)
			return -EINVAL;
	}
	if (t.n == 0) /* nothing but white space: V(1), as semtext_parse says */
		semtext_parse(buf, len, &t.t[t.n++].op);
	else if (t.n > 1)
		for (uint32_t k = 0; k < t.n; k++)
			if (!t.t[k].name)
				for (uint32_t j = k + 1; j < t.n; j++)
					if (!t.t[j].name)
						return -EINVAL; /* the file written twice */
	*out = t;
	return 0;
}
