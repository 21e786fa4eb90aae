/* SPDX-License-Identifier: MIT */
/*
 * semtext.h - the text written to a semaphore file, parsed into one operation.
 *
 *   ""  or white space only   V(1)
 *   "N" or "+N"               V(N), 1 <= N <= 2147483647
 *   "-N"                      P(N), 1 <= N <= 2147483647
 *   "0"                       wait until the count is zero (System V)
 * White space around the number (the newline of `echo`) is allowed; anything else is EINVAL.
 *
 * Several semaphores at once (one operation, all or nothing, as System V's semop):
 *
 *   TERM [TERM...]            terms separated by white space, at most IPCFS_MAX_SEM_TERMS
 *   TERM = N | NAME:N         N as above, on the file written, or on the semaphore NAME in the
 *                             same directory (the last ':' separates; NAME holds no '/', is
 *                             not "." or "..", at most IPCFS_NAME_MAX bytes)
 *
 * e.g. "-1 right:-1" written to sem/left takes one unit of left and one of right, or waits
 * until both are there. A name given twice is EINVAL; more terms than the limit E2BIG.
 */
#ifndef IPCFS_SEMTEXT_H
#define IPCFS_SEMTEXT_H

#include "defaults.h"

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

/* One term of a write: an operation on the file written (name NULL) or on a sibling. */
struct semtext_term {
	const char *name; /* into the parsed buffer, not NUL-terminated; NULL: the file written */
	size_t namelen;	  /* bytes of name */
	struct semtext op;
};

/* Every term of a write, in the order written. */
struct semtext_terms {
	uint32_t n; /* 1..IPCFS_MAX_SEM_TERMS */
	struct semtext_term t[IPCFS_MAX_SEM_TERMS];
};

/* semtext_parse_terms - parse len bytes of buf as terms (above). Returns 0 and fills *out;
 * -EINVAL (a term or name that is not valid, a name twice) or -E2BIG (too many terms) leaving
 * *out unchanged. Text without a name is one term, parsed as semtext_parse does. */
int semtext_parse_terms(const char *buf, size_t len, struct semtext_terms *out);

#endif /* IPCFS_SEMTEXT_H */
