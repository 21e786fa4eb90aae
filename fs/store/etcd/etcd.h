/* SPDX-License-Identifier: MIT */
/*
 * etcd.h - a client of etcd v3 through its JSON gateway (POST /v3/...), on libcurl and json-c:
 * what the etcd store (cluster mode) is built on. No FUSE here, and nothing of ipcfs's types.
 *
 * Every call is synchronous and bounded: it tries the endpoints in turn (starting with the one
 * that answered last) until one answers or the client's timeout has passed since the call
 * began, and then fails with -EIO. So a call blocks its thread for at most the timeout: the
 * store makes them from threads of its own, never from a FUSE request's.
 *
 * What counts as an answer: an HTTP 200 with a JSON body. A member that cannot serve (no
 * quorum, stopped, starting) is skipped: connection refused, a time-out of the attempt, or an
 * error body of gRPC code UNAVAILABLE (14) or DEADLINE_EXCEEDED (4). Another error body (a
 * malformed request, an unknown lease) is the call's answer: -EINVAL, -ENOENT. But a call that
 * changes something (put, delete, txn, lease grant and revoke) moves to another member only
 * when the previous one certainly never got it (no connection): once sent, a time-out or an
 * UNAVAILABLE answer may hide a change that commits all the same, so the call fails with -EIO
 * (not known) rather than apply it twice or report a second attempt's verdict as the first's.
 *
 * Keys and values are byte strings (base64 on the wire). Revisions are etcd's: the store's
 * logical clock, one per committed change, the same on every member.
 *
 * Locking: a client may be used by several threads at once; each call takes a connection from
 * the client's pool (kept alive between calls) and gives it back. A watch runs on a thread of
 * its own.
 */
#ifndef IPCFS_ETCD_H
#define IPCFS_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etcd;
struct etcd_watch;

/* One key-value pair as etcd keeps it. key and value are NUL-terminated copies (the NUL is
 * not counted in the lengths). */
struct etcd_kv {
	char *key;
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_rev; /* revision of its creation */
	int64_t mod_rev;    /* revision of its last change */
	int64_t version;    /* changes since its creation, from 1 */
	int64_t lease;	    /* the lease it is attached to, 0 for none */
};

/* The answer to a range, or the events of a watch: kvs[0..n). */
struct etcd_kvs {
	struct etcd_kv *kvs;
	size_t n;
	int64_t rev; /* the store's revision the answer was read at */
	bool more;   /* a range: more keys than its limit */
};

/* etcd_kvs_free - free what a range or a txn returned (the struct itself is the caller's). */
void etcd_kvs_free(struct etcd_kvs *r);

/*
 * etcd_open - a client of the members named in endpoints: "http://HOST:PORT" URLs separated by
 * '+' or ',' (as -o etcd= takes them). timeout_ms bounds every call. Returns 0 with *out set,
 * -EINVAL for a malformed list or a zero timeout (nothing made), or -ENOMEM.
 */
int etcd_open(const char *endpoints, unsigned timeout_ms, struct etcd **out);
/* etcd_close - free c; no call and no watch on it is running. */
void etcd_close(struct etcd *c);

/* etcd_put - key = value, attached to lease (0: none). Returns 0 and *rev (may be NULL) the
 * revision of the change, or -EIO (no member answered in time: it may or may not have been
 * applied), -ENOENT (no such lease), -EINVAL. */
int etcd_put(struct etcd *c, const void *key, size_t key_len, const void *value, size_t value_len,
	     int64_t lease, int64_t *rev);

/*
 * etcd_range - the keys from key up to end (exclusive; end NULL: key alone; end "\0" with
 * end_len 1: every key from key on), at most limit of them (0: no limit), in key order, read
 * linearizably (what every member agrees has been committed). Returns 0 with *out filled
 * (etcd_kvs_free it), or -EIO, -EINVAL (nothing to free).
 */
int etcd_range(struct etcd *c, const void *key, size_t key_len, const void *end, size_t end_len,
	       unsigned limit, struct etcd_kvs *out);

/*
 * etcd_range_all - every key of the range (as etcd_range, no limit) at one revision, read in
 * pages of at most page keys: each page is one call bounded by the timeout, so a range too
 * large to come back within it (a long log) is read all the same. Returns as etcd_range.
 */
int etcd_range_all(struct etcd *c, const void *key, size_t key_len, const void *end, size_t end_len,
		   unsigned page, struct etcd_kvs *out);

/* etcd_prefix_end - the end of the range of keys that begin with prefix, into end (len bytes,
 * as many as prefix). Returns its length, or 0 when every key from prefix on is meant (prefix
 * of 0xff bytes only): then pass end "\0" with length 1. */
size_t etcd_prefix_end(const void *prefix, size_t len, char *end);

/* etcd_delete - delete the keys from key up to end (as etcd_range). Returns the number deleted
 * (>= 0), or -EIO, -EINVAL. */
long etcd_delete(struct etcd *c, const void *key, size_t key_len, const void *end, size_t end_len,
		 int64_t *rev);

/* A transaction: if every compare holds, the success operations, else the failure ones, all
 * at one revision. */
enum etcd_target { ETCD_VERSION, ETCD_CREATE, ETCD_MOD, ETCD_VALUE, ETCD_LEASE };
enum etcd_result { ETCD_EQUAL, ETCD_GREATER, ETCD_LESS, ETCD_NOT_EQUAL };
enum etcd_op_kind { ETCD_OP_PUT, ETCD_OP_DELETE, ETCD_OP_RANGE };

struct etcd_compare {
	const void *key;
	size_t key_len;
	/* NULL: key alone; else every key from key up to end (as etcd_range) must pass, and an
	 * empty range compares as a key that does not exist (version, revisions 0) */
	const void *end;
	size_t end_len;
	enum etcd_target target;
	enum etcd_result result;
	int64_t number;	   /* VERSION, CREATE, MOD, LEASE */
	const void *value; /* VALUE */
	size_t value_len;
};

struct etcd_op {
	enum etcd_op_kind kind;
	const void *key;
	size_t key_len;
	const void *end; /* DELETE, RANGE: as etcd_range */
	size_t end_len;
	const void *value; /* PUT */
	size_t value_len;
	int64_t lease; /* PUT */
};

struct etcd_txn {
	const struct etcd_compare *cmp;
	size_t ncmp;
	const struct etcd_op *success;
	size_t nsuccess;
	const struct etcd_op *failure;
	size_t nfailure;
};

/*
 * etcd_txn - run t. Returns 1 (the compares held: the success branch ran) or 0 (the failure
 * branch ran), with *rev (may be NULL) the revision after it, and, when ranges is not NULL,
 * the keys every RANGE operation of the branch that ran read, concatenated in order
 * (etcd_kvs_free it). Or -EIO (no member answered in time: it may or may not have been
 * applied; a caller that must know writes something it can look for), -EINVAL, -ENOENT.
 */
int etcd_txn(struct etcd *c, const struct etcd_txn *t, int64_t *rev, struct etcd_kvs *ranges);

/* etcd_lease_grant - a lease of ttl seconds. Returns 0 and *id, or -EIO, -EINVAL. */
int etcd_lease_grant(struct etcd *c, unsigned ttl, int64_t *id);
/* etcd_lease_keepalive - renew lease id to its full time. Returns the seconds it now has
 * (> 0), -ENOENT when it has expired (or never was), or -EIO. */
long etcd_lease_keepalive(struct etcd *c, int64_t id);
/* etcd_lease_revoke - end lease id now: its keys are deleted. 0, -ENOENT or -EIO. */
int etcd_lease_revoke(struct etcd *c, int64_t id);

/* etcd_compact - drop the history before revision rev (older values of keys, deleted keys):
 * reads and watches of older revisions fail from then on. 0, -EINVAL (rev compacted already,
 * or in the future), -EIO. */
int etcd_compact(struct etcd *c, int64_t rev);

/*
 * etcd_watch_start - watch the keys from key up to end (as etcd_range) for changes from
 * revision start_rev on (0: from now), on a thread of its own. fn(ctx, ev, rev) is called on
 * that thread for every change, in revision order, each exactly once: ev->value_len == 0 and
 * ev->version == 0 for a deletion; rev is the change's revision. If the member it listens to
 * fails, the watch moves to another and goes on from the revision after the last it reported,
 * so nothing is missed or repeated; while no member answers it retries every moment. If that
 * revision has been compacted meanwhile, fn is called once with ev NULL and rev the oldest
 * revision left: the caller must read the keys afresh. Returns 0 with *out set, or -ENOMEM,
 * -EINVAL.
 */
int etcd_watch_start(struct etcd *c, const void *key, size_t key_len, const void *end,
		     size_t end_len, int64_t start_rev,
		     void (*fn)(void *ctx, const struct etcd_kv *ev, int64_t rev), void *ctx,
		     struct etcd_watch **out);
/* etcd_watch_stop - stop w and free it; fn is not called any more once it returns. Not from
 * fn itself. */
void etcd_watch_stop(struct etcd_watch *w);

#endif /* IPCFS_ETCD_H */
