/* SPDX-License-Identifier: MIT */
/*
 * semtext.h - the text written to a semaphore file, parsed into one operation.
 *
 *   ""  or white space only   V(1)
 *   "N" or "+N"               V(N), 1 <= N <= 2147483647
 *   "-N"                      P(N), 1 <= N <= 2147483647
 *   "0"                       wait until the count is zero (System V)
 * White space around the number (the newline of `echo`) is allowed; anything else is EINVAL.
 */
#ifndef IPCFS_SEMTEXT_H
#define IPCFS_SEMTEXT_H

#include <stddef.h>
#include <stdint.h>

enum semtext_op {
	SEMTEXT_V,	   /* add n */
	SEMTEXT_P,	   /* take n, waiting until n are there at once */
	SEMTEXT_WAIT_ZERO, /* wait until the count is 0 */
};

struct semtext {
	enum semtext_op op;
	uint32_t n; /* 1..INT32_MAX for V and P; 0 for WAIT_ZERO */
};

/* semtext_parse - parse len bytes of buf (not NUL-terminated). Returns 0 and fills *out, or
 * -EINVAL leaving *out unchanged. */
int semtext_parse(const char *buf, size_t len, struct semtext *out);

#endif /* IPCFS_SEMTEXT_H */
