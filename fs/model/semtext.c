/* SPDX-License-Identifier: MIT */
/* semtext.c - parse the text written to a semaphore file (grammar in semtext.h). */
#include "semtext.h"

#include <errno.h>
#include <stdbool.h>

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
