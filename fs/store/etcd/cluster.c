/* SPDX-License-Identifier: MIT */
/*
 * cluster.c - the cluster store: names and a log of operations in etcd, replayed and watched
 * (the protocol is in store/cluster.h, the key layout and the reasoning in docs/design.md).
 *
 * Implementation notes:
 * - Three threads: the sender writes submitted operations in batches (one transaction of up
 *   to CLUSTER_BATCH keys, each required not to exist yet: a retried batch cannot land twice);
 *   the keeper renews the lease every third of its time and, if it expired, takes a new one
 *   and registers again; the watch (etcd.c) reports every change under the prefix in order.
 * - A batch that gets no answer is retried until the oldest of its operations has waited
 *   etcd_timeout; then their submitters get EIO and the keys become doubtful: before the
 *   sender writes anything else it writes a tombstone ("x") where each would land. A doubtful
 *   operation thus either landed before its tombstone (the watch reports it) or never will, and
 *   a daemon's operations stay in the order it submitted them.
 * - Operations queued while etcd is unreachable are not sent after their deadline: EIO, and
 *   nothing written.
 * - Checkpoints (cluster.h, "Compaction"): the watch's thread takes one between two revisions
 *   (the face encodes its replica into a struct cluster_ckpt, in memory); the compactor thread
 *   writes it, points c at it, and deletes what it replaces. Only the registered daemon with
 *   the lowest id takes them; should two think they are it, the pointer's compare lets one
 *   win, and a checkpoint whose keys another deleted cannot be pointed at (its first key is
 *   compared too).
 *
 * Locking: c->lock protects the queue, the sequence number, the doubtful keys, the members,
 * the checkpoint handed to the compactor and stop. No etcd call is made holding it. The
 * applied operations per daemon (c->seen) are the watch's (the replay's before it starts).
 */
#include "store/cluster.h"
#include "store/etcd/etcd.h"
#include "list.h"

#include <ipc/common.h>
#include <ipc/cond.h>
#include <ipc/mutex.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define CLUSTER_BATCH 32 /* operations per transaction (etcd allows 128 per branch) */
/* bytes of keys and values per transaction: etcd refuses a request over --max-request-bytes
 * (1.5 MiB by default) whole; one operation alone may be larger (a message up to 1020 KiB) */
#define CLUSTER_BATCH_BYTES (1u << 20)
/* keys per range call of a replay: each call must come back within etcd_timeout (a write is at
 * most 128 KiB, a message 1020 KiB) */
#define CLUSTER_PAGE 64
#define CLUSTER_RETRY_MS 50 /* between attempts while etcd does not answer */
/* etcd's history is compacted to the newest checkpoint at least this old: a daemon whose watch
 * lags further behind cannot be kept in step (cluster_face.lost) */
#define CLUSTER_HISTORY_S 60
#define CLUSTER_CKPT_KEEP 16   /* checkpoints remembered for that (one a few seconds at most) */
#define CLUSTER_REPLAY_TRIES 5 /* a replay that raced a new checkpoint starts over */
/* the keys of checkpoint REV taken by HOST, under sprefix: REV-HOST/I */
#define CKPT_DIR "%016" PRIx64 "-%016" PRIx64 "/"
#define CLUSTER_NAME_MAX 64  /* -o cluster= */
#define CLUSTER_KEY_MAX 4200 /* prefix + "n/" + a path (PATH_MAX) */

/* A daemon of the cluster and its host's name (h/HOST), for inspection. */
struct member {
	uint64_t host;
	char label[CLUSTER_LABEL_MAX];
};

/* The last operation applied of one daemon (l/HOST/SEQ). */
struct seen {
	uint64_t host;
	uint64_t seq;
	bool gone; /* its GONE was applied: it leaves the table at the next checkpoint */
};

/* A checkpoint taken, to be written by the compactor. */
struct cluster_ckpt {
	int64_t rev; /* of the replica it encodes */
	char **vals; /* the operations, encoded (op_encode) */
	size_t *lens;
	size_t n, cap;
	struct seen *seen; /* the last operation applied of each daemon, at rev */
	size_t nseen;
};

/* One submitted operation, its key and value built at submission. */
struct qop {
	struct list_head link; /* in c->queue, then in the sender's batch */
	uint64_t id;	       /* to answer on failure (0: nobody) */
	int64_t deadline_ms;   /* CLOCK_MONOTONIC: EIO past it */
	char *key;
	size_t key_len;
	char *value;
	size_t value_len;
};

struct cluster {
	struct etcd *etcd;
	char prefix[CLUSTER_NAME_MAX + 16]; /* "/ipcfs/NAME/" */
	size_t plen;
	uint64_t host;	     /* immutable after open */
	int64_t lease;	     /* the keeper's, after join */
	int64_t joined;	     /* the revision the replay read (cluster_join) */
	unsigned ttl;	     /* seconds */
	unsigned timeout_ms; /* etcd_timeout */
	struct cluster_face face;
	struct etcd_watch *watch;

	struct ipc_mutex lock;
	struct ipc_cond cond;	   /* queue grew, or stop */
	struct ipc_cond caught_up; /* applied moved */
	int64_t applied;	   /* the last revision reported to the face */
	struct list_head queue;	   /* struct qop, in submission order */
	uint64_t seq;		   /* last operation number handed out */
	char **doubt;		   /* keys of operations answered EIO, not yet fenced */
	size_t ndoubt, doubt_cap;
	struct member *members; /* the registered daemons, as the log has shown them */
	size_t nmembers, members_cap;
	bool stop;
	pthread_t sender, keeper, compactor;
	bool running;

	/* checkpoints */
	char sprefix[CLUSTER_NAME_MAX + 16]; /* "/ipcfs/NAME:s/": not under prefix, not watched */
	size_t splen;
	unsigned compact;    /* operations between checkpoints, 0 never; immutable */
	uint64_t since_ckpt; /* operations applied since the last one; the watch's */
	struct seen *seen;   /* the last operation applied of each daemon; the watch's */
	size_t nseen, seen_cap;
	struct cluster_ckpt *ckpt;	      /* taken, for the compactor; c->lock */
	bool ckpt_busy;			      /* the compactor is writing one; c->lock */
	int64_t ckpt_revs[CLUSTER_CKPT_KEEP]; /* checkpoints written (the compactor's) */
	int64_t ckpt_ms[CLUSTER_CKPT_KEEP];   /* when, CLOCK_MONOTONIC */
	size_t nckpt;
	bool lost; /* the watch's history was compacted away: apply nothing more; the watch's */
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* pre (plen bytes) + the parts, into buf (CLUSTER_KEY_MAX). Returns its length, or 0 when too
 * long. */
static size_t vmake(char *buf, const char *pre, size_t plen, const char *fmt, va_list ap)
{
	int len;

	memcpy(buf, pre, plen);
	len = vsnprintf(buf + plen, CLUSTER_KEY_MAX - plen, fmt, ap);
	if (len < 0 || (size_t)len >= CLUSTER_KEY_MAX - plen)
		return 0;
	return plen + (size_t)len;
}

/* A key of the cluster (make_key) or of its checkpoints (make_skey): as vmake. */
static size_t make_key(const struct cluster *c, char *buf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static size_t make_key(const struct cluster *c, char *buf, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = vmake(buf, c->prefix, c->plen, fmt, ap);
	va_end(ap);
	return len;
}

static size_t make_skey(const struct cluster *c, char *buf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static size_t make_skey(const struct cluster *c, char *buf, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = vmake(buf, c->sprefix, c->splen, fmt, ap);
	va_end(ap);
	return len;
}

static void qop_free(struct qop *q)
{
	free(q->key);
	free(q->value);
	free(q);
}

/* ---- the operations' text: "INC HOST ID SEC NSEC PID KIND ARG FLAGS OPEN LEN PATH\0DATA" ---- */

static char *op_encode(const struct cluster_op *op, size_t *len)
{
	char *head = NULL, *s;
	int n = asprintf(&head,
			 "%" PRId64 " %016" PRIx64 " %" PRIu64 " %lld %ld %" PRId32 " %" PRIu32
			 " %" PRIu64 " %" PRIu32 " %" PRIu64 " %zu %s",
			 op->inc, op->host, op->id, (long long)op->time.tv_sec, op->time.tv_nsec,
			 op->pid, op->kind, op->arg, op->flags, op->open, op->len, op->path);

	if (n < 0)
		return NULL;
	if (!op->len) {
		*len = (size_t)n;
		return head;
	}
	s = realloc(head, (size_t)n + 1 + op->len);
	if (!s) {
		free(head);
		return NULL;
	}
	memcpy(s + n + 1, op->data, op->len); /* after the path's NUL */
	*len = (size_t)n + 1 + op->len;
	return s;
}

/* Parse value (len bytes, NUL-terminated after them) into op (path and data point into it).
 * Returns 0 or -EINVAL. */
static int op_decode(char *value, size_t len, struct cluster_op *op)
{
	long long sec;
	int at = -1;

	if (sscanf(value,
		   "%" SCNd64 " %" SCNx64 " %" SCNu64 " %lld %ld %" SCNd32 " %" SCNu32 " %" SCNu64
		   " %" SCNu32 " %" SCNu64 " %zu %n",
		   &op->inc, &op->host, &op->id, &sec, &op->time.tv_nsec, &op->pid, &op->kind,
		   &op->arg, &op->flags, &op->open, &op->len, &at) != 11 ||
	    at < 0)
		return -EINVAL;
	op->time.tv_sec = (time_t)sec;
	op->path = value + at;
	op->data = NULL;
	if (op->len) {
		size_t head = (size_t)at + strlen(op->path) + 1;

		if (head > len || len - head != op->len)
			return -EINVAL;
		op->data = value + head;
	}
	return 0;
}

/* ---- applying what etcd reports ---- */

/* h/HOST appeared with value "LABEL PID" (label: its host's name), or left (value NULL). */
static void member_set(struct cluster *c, uint64_t host, const char *value, size_t len)
{
	size_t i;

	ipc_mutex_lock(&c->lock);
	for (i = 0; i < c->nmembers && c->members[i].host != host; i++)
		;
	if (!value) {
		if (i < c->nmembers)
			c->members[i] = c->members[--c->nmembers];
	} else {
		if (i == c->nmembers && c->nmembers == c->members_cap) {
			size_t cap = c->members_cap ? c->members_cap * 2 : 8;
			struct member *m = realloc(c->members, cap * sizeof(*m));

			if (m) {
				c->members = m;
				c->members_cap = cap;
			}
		}
		if (i < c->members_cap) {
			size_t n = strcspn(value, " ");

			if (n > len)
				n = len;
			if (n >= CLUSTER_LABEL_MAX)
				n = CLUSTER_LABEL_MAX - 1;
			c->members[i].host = host;
			memcpy(c->members[i].label, value, n);
			c->members[i].label[n] = '\0';
			if (i == c->nmembers)
				c->nmembers++;
		} /* else out of memory: inspection shows it unnamed */
	}
	ipc_mutex_unlock(&c->lock);
}

void cluster_host_label(struct cluster *c, uint64_t host, char *buf, size_t len)
{
	size_t i;

	ipc_mutex_lock(&c->lock);
	for (i = 0; i < c->nmembers && c->members[i].host != host; i++)
		;
	if (i < c->nmembers)
		snprintf(buf, len, "%s", c->members[i].label);
	else
		snprintf(buf, len, "%016" PRIx64, host); /* gone, or not seen yet */
	ipc_mutex_unlock(&c->lock);
}

/* The entry of daemon host in c->seen, made if need be (NULL: out of memory). */
static struct seen *seen_of(struct cluster *c, uint64_t host)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i].host == host)
			return &c->seen[i];
	if (c->nseen == c->seen_cap) {
		size_t cap = c->seen_cap ? 2 * c->seen_cap : 16;
		struct seen *bigger = realloc(c->seen, cap * sizeof(*bigger));

		if (!bigger)
			return NULL;
		c->seen = bigger;
		c->seen_cap = cap;
	}
	c->seen[c->nseen] = (struct seen){ .host = host };
	return &c->seen[c->nseen++];
}

/* The daemon and sequence number of log key k (after the prefix): 0 or -EINVAL. */
static int log_key(const char *k, uint64_t *host, uint64_t *seq)
{
	return sscanf(k, "l/%16" SCNx64 "/%16" SCNx64, host, seq) == 2 ? 0 : -EINVAL;
}

/* One change under the prefix, at revision rev: to the face. Replay and watch alike. */
static void apply_kv(struct cluster *c, const struct etcd_kv *kv, int64_t rev)
{
	const char *k = kv->key + c->plen;
	bool deleted = kv->version == 0;

	if (kv->key_len < c->plen + 2 || memcmp(kv->key, c->prefix, c->plen) != 0)
		return;
	if (strncmp(k, "h/", 2) == 0) {
		struct cluster_op gone = { .path = "", .kind = CLUSTER_OP_GONE };

		if (sscanf(k + 2, "%" SCNx64, &gone.arg) != 1)
			return;
		member_set(c, gone.arg, deleted ? NULL : kv->value, kv->value_len);
		/* a daemon left: every daemon appends its GONE, so that its waiters leave the
		 * queues at one place of the log for all (the duplicates find nothing) */
		if (deleted && cluster_submit(c, &gone) != 0)
			fprintf(stderr, "ipcfs: cluster: out of memory for a GONE\n");
	} else if (strncmp(k, "n/", 2) == 0) {
		if (deleted)
			c->face.name_del(c->face.ctx, k + 2);
		else
			c->face.name_put(c->face.ctx, k + 2, kv->value, kv->create_rev,
					 kv->version);
	} else if (strncmp(k, "l/", 2) == 0 && !deleted && kv->version == 1 &&
		   strcmp(kv->value, "x") != 0) {
		struct cluster_op op;
		uint64_t host, seq;
		struct seen *e;

		if (log_key(k, &host, &seq) != 0 || op_decode(kv->value, kv->value_len, &op) != 0) {
			fprintf(stderr, "ipcfs: cluster: malformed operation at %s\n", kv->key);
			return;
		}
		e = seen_of(c, host);
		if (e && seq <= e->seq)
			return; /* a retry of one applied before and compacted away since */
		if (e)
			e->seq = seq;
		if (op.kind == CLUSTER_OP_GONE && (e = seen_of(c, op.arg)) != NULL)
			e->gone = true;
		op.rev = rev;
		c->face.op(c->face.ctx, &op);
		c->since_ckpt++;
	}
}

/* Everything up to rev has been reported to the face. */
static void caught_up_to(struct cluster *c, int64_t rev)
{
	ipc_mutex_lock(&c->lock);
	if (rev > c->applied) {
		c->applied = rev;
		ipc_cond_notify(&c->caught_up, INT32_MAX);
	}
	ipc_mutex_unlock(&c->lock);
}

/* ---- checkpoints ---- */

int cluster_ckpt_add(struct cluster_ckpt *k, const struct cluster_op *op)
{
	char *v;
	size_t len;

	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		char **vals = realloc(k->vals, cap * sizeof(*vals));
		size_t *lens;

		if (!vals)
			return -ENOMEM;
		k->vals = vals;
		lens = realloc(k->lens, cap * sizeof(*lens));
		if (!lens)
			return -ENOMEM;
		k->lens = lens;
		k->cap = cap;
	}
	v = op_encode(op, &len);
	if (!v)
		return -ENOMEM;
	k->vals[k->n] = v;
	k->lens[k->n++] = len;
	return 0;
}

static void ckpt_free(struct cluster_ckpt *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->vals[i]);
	free(k->vals);
	free(k->lens);
	free(k->seen);
	free(k);
}

/* Is it this daemon's turn to take checkpoints (the registered one with the lowest id)?
 * c->lock. */
static bool ckpt_mine(const struct cluster *c)
{
	bool registered = false;

	for (size_t i = 0; i < c->nmembers; i++) {
		if (c->members[i].host < c->host)
			return false;
		registered |= c->members[i].host == c->host;
	}
	return registered;
}

/* On the watch's thread, between two revisions (everything up to c->applied applied): take a
 * checkpoint if one is due and the compactor is free, and hand it over. */
static void ckpt_take(struct cluster *c)
{
	struct cluster_ckpt *k;
	bool due;
	size_t kept = 0;

	ipc_mutex_lock(&c->lock);
	due = !c->ckpt_busy && ckpt_mine(c);
	ipc_mutex_unlock(&c->lock);
	if (!due || !(k = calloc(1, sizeof(*k))))
		return;
	k->rev = c->applied; /* written by this thread only */
	k->seen = malloc((c->nseen + 1) * sizeof(*k->seen));
	if (!k->seen || c->face.checkpoint(c->face.ctx, k) != 0) {
		ckpt_free(k); /* out of memory: the next operation tries again */
		return;
	}
	if (c->nseen) /* memcpy from NULL is undefined */
		memcpy(k->seen, c->seen, c->nseen * sizeof(*k->seen));
	k->nseen = c->nseen;
	/* the daemons gone leave the table: the checkpoint deletes all their keys */
	for (size_t i = 0; i < c->nseen; i++)
		if (!c->seen[i].gone)
			c->seen[kept++] = c->seen[i];
	c->nseen = kept;
	c->since_ckpt = 0;
	ipc_mutex_lock(&c->lock);
	c->ckpt = k;
	c->ckpt_busy = true;
	ipc_cond_notify(&c->cond, INT32_MAX);
	ipc_mutex_unlock(&c->lock);
}

static void watch_fn(void *ctx, const struct etcd_kv *ev, int64_t rev)
{
	struct cluster *c = ctx;

	if (!ev) {
		/* a daemon watching this far behind is past what etcd keeps (CLUSTER_HISTORY_S, or
		 * an operator's compaction): the changes in between are lost to this replica */
		fprintf(stderr,
			"ipcfs: cluster: etcd compacted its history past this daemon's "
			"replica (revision %" PRId64 "): leaving; a restart joins afresh\n",
			rev);
		c->lost = true;
		c->face.lost(c->face.ctx);
		return;
	}
	if (c->lost)
		return; /* what follows the gap would be applied to a replica that missed it */
	if (c->compact && c->since_ckpt >= c->compact && rev > c->applied)
		ckpt_take(c);
	apply_kv(c, ev, rev);
	caught_up_to(c, rev);
}

/*
 * The order the watch delivered them in: by revision, and within one revision (one sender's
 * transaction) by key, which is the order of its puts (l/HOST/SEQ, SEQ fixed-width). qsort is
 * not stable: without the second key, replay could apply a batch out of its order.
 */
static int by_revision(const void *a, const void *b)
{
	const struct etcd_kv *x = *(const struct etcd_kv *const *)a;
	const struct etcd_kv *y = *(const struct etcd_kv *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int k;

	if (x->mod_rev != y->mod_rev)
		return (x->mod_rev > y->mod_rev) - (x->mod_rev < y->mod_rev);
	k = memcmp(x->key, y->key, n);
	return k ? k : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Is host one of alive[0..n)? */
static bool host_in(const uint64_t *alive, size_t n, uint64_t host)
{
	for (size_t i = 0; i < n; i++)
		if (alive[i] == host)
			return true;
	return false;
}

/* Add host to list (n of them, room for it) unless it is there, or 0 (a checkpoint's own). */
static void host_add(uint64_t *list, size_t *n, uint64_t host)
{
	if (host && !host_in(list, *n, host))
		list[(*n)++] = host;
}

/* What c points at: "REV HOST N" and a line "HOST SEQ" per daemon. */
struct pointer {
	int64_t rev; /* 0: no checkpoint */
	uint64_t host;
	size_t n;
	const char *daemons; /* the lines after the first, in the pointer's value */
};

static int parse_pointer(const char *value, struct pointer *p)
{
	int at = -1;

	if (sscanf(value, "%" SCNd64 " %" SCNx64 " %zu%n", &p->rev, &p->host, &p->n, &at) != 3 ||
	    at < 0 || p->rev <= 0)
		return -EINVAL;
	p->daemons = value + at;
	return 0;
}

/*
 * Replay the cluster as it is at one revision: every name (in key order, so a directory before
 * what is in it), then the checkpoint c points at, then every operation after it in revision
 * order; then append a GONE for each daemon that appears in them but is not registered (it
 * died while nobody watched). Reads everything before it reports anything. Returns the
 * revision read, or -EAGAIN (a newer checkpoint replaced the one read meanwhile: read again),
 * -EIO, -EINVAL (a revision compacted meanwhile), -ENOMEM.
 */
static int64_t replay(struct cluster *c)
{
	char end[sizeof(c->prefix)], dir[CLUSTER_KEY_MAX], dend[CLUSTER_KEY_MAX];
	size_t elen = etcd_prefix_end(c->prefix, c->plen, end), dlen, delen;
	struct etcd_kvs all, ck = { 0 };
	struct pointer ptr = { 0 };
	const struct etcd_kv **ops = NULL;
	uint64_t *alive = NULL, *hosts = NULL;
	size_t nops = 0, nalive = 0, nhosts = 0, max;
	int64_t rc;

	rc = etcd_range_all(c->etcd, c->prefix, c->plen, elen ? end : "\0", elen ? elen : 1,
			    CLUSTER_PAGE, &all);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < all.n; i++) {
		const struct etcd_kv *kv = &all.kvs[i];

		if (kv->key_len == c->plen + 1 && kv->key[c->plen] == 'c' &&
		    parse_pointer(kv->value, &ptr) != 0) {
			fprintf(stderr, "ipcfs: cluster: malformed checkpoint pointer %s\n",
				kv->value);
			rc = -EIO;
			goto out;
		}
	}
	if (ptr.rev) {
		/* immutable once pointed at; deleted only once another is pointed at */
		dlen = make_skey(c, dir, CKPT_DIR, ptr.rev, ptr.host);
		delen = etcd_prefix_end(dir, dlen, dend);
		rc = etcd_range_all(c->etcd, dir, dlen, dend, delen, CLUSTER_PAGE, &ck);
		if (rc < 0)
			goto out;
		if (ck.n != ptr.n) {
			rc = -EAGAIN;
			goto out;
		}
	}
	max = all.n + ck.n + 1;
	for (const char *nl = ptr.daemons; nl && (nl = strchr(nl, '\n')) != NULL; nl++)
		max++;
	ops = calloc(max, sizeof(*ops));
	alive = calloc(max, sizeof(*alive));
	hosts = calloc(max, sizeof(*hosts));
	if (!ops || !alive || !hosts) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < all.n; i++) {
		const struct etcd_kv *kv = &all.kvs[i];
		const char *k = kv->key + c->plen;

		if (kv->key_len < c->plen + 2)
			continue;
		if (strncmp(k, "h/", 2) == 0 && sscanf(k + 2, "%" SCNx64, &alive[nalive]) == 1)
			member_set(c, alive[nalive++], kv->value, kv->value_len);
		else if (strncmp(k, "n/", 2) == 0)
			apply_kv(c, kv, all.rev);
		else if (strncmp(k, "l/", 2) == 0)
			ops[nops++] = kv;
	}
	/* the checkpoint: its daemons' last operations, then its own (in key order) */
	for (const char *line = ptr.daemons; line && *line;) {
		uint64_t host, seq;
		struct seen *e;

		if (sscanf(line, " %" SCNx64 " %" SCNu64, &host, &seq) == 2 &&
		    (e = seen_of(c, host)) != NULL) {
			e->seq = seq;
			host_add(hosts, &nhosts, host);
		}
		line = strchr(line + 1, '\n');
	}
	for (size_t i = 0; i < ck.n; i++) {
		struct cluster_op op;

		if (op_decode(ck.kvs[i].value, ck.kvs[i].value_len, &op) != 0) {
			fprintf(stderr, "ipcfs: cluster: malformed operation at %s\n",
				ck.kvs[i].key);
			continue;
		}
		op.rev = ptr.rev;
		c->face.op(c->face.ctx, &op);
		host_add(hosts, &nhosts, op.host);
	}
	qsort(ops, nops, sizeof(*ops), by_revision);
	for (size_t i = 0; i < nops; i++) {
		uint64_t host, seq;

		if (log_key(ops[i]->key + c->plen, &host, &seq) != 0)
			continue;
		if (ops[i]->mod_rev <= ptr.rev) {
			/* left by a checkpoint that did not finish deleting: the next one does */
			struct seen *e = seen_of(c, host);

			if (e && !host_in(hosts, nhosts, host)) {
				e->gone = true;
				e->seq = seq > e->seq ? seq : e->seq;
			}
			continue;
		}
		apply_kv(c, ops[i], ops[i]->mod_rev);
		host_add(hosts, &nhosts, host);
	}
	for (size_t i = 0; i < nhosts; i++) {
		struct cluster_op gone = { .path = "", .kind = CLUSTER_OP_GONE, .arg = hosts[i] };

		if (!host_in(alive, nalive, hosts[i]) && cluster_submit(c, &gone) != 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = all.rev;
out:
	free(ops);
	free(alive);
	free(hosts);
	etcd_kvs_free(&all);
	etcd_kvs_free(&ck);
	return rc;
}

/* ---- the sender ---- */

/* Tell the face that the operations of batch failed with rc, and free them. */
static void fail_batch(struct cluster *c, struct list_head *batch, int rc)
{
	while (!list_empty(batch)) {
		struct qop *q = list_first_entry(batch, struct qop, link);

		list_del(&q->link);
		if (q->id)
			c->face.failed(c->face.ctx, q->id, rc);
		qop_free(q);
	}
}

/* The operations of batch were answered EIO: remember their keys to fence them. c->lock. */
static void doubt_batch(struct cluster *c, struct list_head *batch)
{
	struct qop *q;

	list_for_each_entry(q, batch, link)
	{
		if (c->ndoubt == c->doubt_cap) {
			size_t cap = c->doubt_cap ? 2 * c->doubt_cap : 64;
			char **bigger = realloc(c->doubt, cap * sizeof(*bigger));

			if (!bigger)
				break; /* out of memory: that one stays unfenced */
			c->doubt = bigger;
			c->doubt_cap = cap;
		}
		c->doubt[c->ndoubt++] = q->key;
		q->key = NULL;
	}
}

/* Write a tombstone where each doubtful operation would land. Returns 0 when every one is
 * fenced (or was found to have landed), -EIO while etcd does not answer. c->lock not held;
 * only the sender touches the doubtful keys outside it. */
static int fence(struct cluster *c, char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(keys[i]);
		struct etcd_compare cmp = {
			.key = keys[i], .key_len = len, .target = ETCD_VERSION, .result = ETCD_EQUAL
		};
		struct etcd_op put = { .kind = ETCD_OP_PUT,
				       .key = keys[i],
				       .key_len = len,
				       .value = "x",
				       .value_len = 1 },
			       get = { .kind = ETCD_OP_RANGE, .key = keys[i], .key_len = len };
		struct etcd_txn t = { .cmp = &cmp,
				      .ncmp = 1,
				      .success = &put,
				      .nsuccess = 1,
				      .failure = &get,
				      .nfailure = 1 };
		struct etcd_kvs found = { 0 };
		int rc = etcd_txn(c->etcd, &t, NULL, &found);

		if (rc < 0)
			return rc;
		/* the key is there: the operation landed, or this very tombstone did, by an
		 * attempt answered EIO (etcd took it, the answer was lost) */
		if (rc == 0 && !(found.n == 1 && strcmp(found.kvs[0].value, "x") == 0))
			fprintf(stderr,
				"ipcfs: cluster: operation %s landed after its caller got EIO\n",
				keys[i]);
		etcd_kvs_free(&found);
	}
	return 0;
}

/* Write batch (n operations) as one transaction. Returns 0 once it is in the log (now or by
 * an earlier attempt), or -errno. */
static int send_batch(struct cluster *c, struct list_head *batch, size_t n)
{
	struct etcd_compare cmp[CLUSTER_BATCH];
	struct etcd_op put[CLUSTER_BATCH];
	struct etcd_txn t = { .cmp = cmp, .ncmp = n, .success = put, .nsuccess = n };
	struct qop *q;
	size_t i = 0;
	int rc;

	list_for_each_entry(q, batch, link)
	{
		cmp[i] = (struct etcd_compare){ .key = q->key,
						.key_len = q->key_len,
						.target = ETCD_VERSION,
						.result = ETCD_EQUAL };
		put[i] = (struct etcd_op){ .kind = ETCD_OP_PUT,
					   .key = q->key,
					   .key_len = q->key_len,
					   .value = q->value,
					   .value_len = q->value_len };
		i++;
	}
	rc = etcd_txn(c->etcd, &t, NULL, NULL);
	/* 0: a key exists already: an earlier attempt of this very batch landed (all of it:
	 * a transaction is atomic), since no other writer uses this daemon's keys */
	return rc < 0 ? rc : 0;
}

static void *sender_main(void *arg)
{
	struct cluster *c = arg;

	ipc_mutex_lock(&c->lock);
	while (!c->stop) {
		LIST_HEAD_DECL(batch);
		LIST_HEAD_DECL(late);
		size_t n = 0;
		int64_t oldest;
		int rc;

		if (c->ndoubt) {
			char **keys = c->doubt;
			size_t nkeys = c->ndoubt;

			c->doubt = NULL;
			c->ndoubt = c->doubt_cap = 0;
			ipc_mutex_unlock(&c->lock);
			rc = fence(c, keys, nkeys);
			ipc_mutex_lock(&c->lock);
			if (rc < 0) {
				/* not yet: keep them (first), and give up on what is late */
				struct timespec d = ipc_deadline_in(CLUSTER_RETRY_MS * 1000000LL);
				char **merged = realloc(keys, (nkeys + c->ndoubt) * sizeof(*keys));

				if (merged) {
					if (c->ndoubt) /* memcpy from NULL is undefined */
						memcpy(merged + nkeys, c->doubt,
						       c->ndoubt * sizeof(*keys));
					free(c->doubt);
					c->doubt = merged;
					c->ndoubt += nkeys;
					c->doubt_cap = c->ndoubt;
				} else {
					for (size_t i = 0; i < nkeys; i++)
						free(keys[i]);
					free(keys);
				}
				while (!list_empty(&c->queue)) {
					struct qop *q =
						list_first_entry(&c->queue, struct qop, link);

					if (q->deadline_ms > now_ms())
						break;
					list_del(&q->link);
					list_add_tail(&q->link, &late);
				}
				if (!list_empty(&late)) {
					ipc_mutex_unlock(&c->lock);
					fail_batch(c, &late, -EIO);
					ipc_mutex_lock(&c->lock);
				}
				if (!c->stop)
					ipc_cond_timedwait(&c->cond, &c->lock, &d);
				continue;
			}
			for (size_t i = 0; i < nkeys; i++)
				free(keys[i]);
			free(keys);
			continue;
		}
		if (list_empty(&c->queue)) {
			ipc_cond_wait(&c->cond, &c->lock);
			continue;
		}
		for (size_t bytes = 0; n < CLUSTER_BATCH && !list_empty(&c->queue);) {
			struct qop *q = list_first_entry(&c->queue, struct qop, link);

			if (n && bytes + q->key_len + q->value_len > CLUSTER_BATCH_BYTES)
				break; /* the next transaction's */
			bytes += q->key_len + q->value_len;
			list_del(&q->link);
			if (q->deadline_ms <= now_ms()) {
				list_add_tail(&q->link,
					      &late); /* never sent: certainly no effect */
				continue;
			}
			list_add_tail(&q->link, &batch);
			n++;
		}
		ipc_mutex_unlock(&c->lock);
		fail_batch(c, &late, -EIO);
		if (n == 0) {
			ipc_mutex_lock(&c->lock);
			continue;
		}
		oldest = list_first_entry(&batch, struct qop, link)->deadline_ms;
		while ((rc = send_batch(c, &batch, n)) == -EIO && now_ms() < oldest &&
		       !__atomic_load_n(&c->stop, __ATOMIC_RELAXED))
			usleep(CLUSTER_RETRY_MS * 1000);
		ipc_mutex_lock(&c->lock);
		if (rc == -EIO)
			doubt_batch(c, &batch);
		ipc_mutex_unlock(&c->lock);
		if (rc < 0) {
			if (rc != -EIO)
				fprintf(stderr, "ipcfs: cluster: etcd refused operations: %s\n",
					strerror(-rc));
			fail_batch(c, &batch, -EIO);
		} else {
			while (!list_empty(&batch)) {
				struct qop *q = list_first_entry(&batch, struct qop, link);

				list_del(&q->link);
				qop_free(q);
			}
		}
		ipc_mutex_lock(&c->lock);
	}
	ipc_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- the compactor ---- */

/* Delete the keys from key to end (NULL: every key that begins with key). Best effort: what
 * stays is deleted by a later checkpoint, or found by a later replay. */
static void delete_range(struct cluster *c, const char *key, size_t klen, const char *end,
			 size_t elen)
{
	char e[CLUSTER_KEY_MAX];

	if (!end) {
		elen = etcd_prefix_end(key, klen, e);
		end = e;
	}
	etcd_delete(c->etcd, key, klen, end, elen, NULL);
}

/* Write k's operations under dir (its REV-HOST/), CLUSTER_PAGE keys and at most
 * CLUSTER_BATCH_BYTES per transaction. 0, -errno, or -ECANCELED (stopping). */
static int ckpt_put_all(struct cluster *c, const struct cluster_ckpt *k, const char *dir,
			size_t dlen)
{
	char(*keys)[CLUSTER_KEY_MAX] = malloc(CLUSTER_PAGE * sizeof(*keys));
	struct etcd_op put[CLUSTER_PAGE];
	int rc = 0;

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < k->n && rc == 0;) {
		struct etcd_txn t = { .success = put };
		size_t bytes = 0;

		while (i < k->n && t.nsuccess < CLUSTER_PAGE &&
		       (t.nsuccess == 0 || bytes + k->lens[i] <= CLUSTER_BATCH_BYTES)) {
			size_t n = t.nsuccess++;

			bytes += k->lens[i];
			put[n] = (struct etcd_op){ .kind = ETCD_OP_PUT,
						   .key = keys[n],
						   .key_len = make_skey(c, keys[n], "%.*s%08zx",
									(int)(dlen - c->splen),
									dir + c->splen, i),
						   .value = k->vals[i],
						   .value_len = k->lens[i] };
			i++;
		}
		if (__atomic_load_n(&c->stop, __ATOMIC_RELAXED))
			rc = -ECANCELED;
		else if ((rc = etcd_txn(c->etcd, &t, NULL, NULL)) > 0)
			rc = 0;
	}
	free(keys);
	return rc;
}

/* The pointer's value for k: "REV HOST N", then "HOST SEQ" per daemon not gone. NULL when out
 * of memory. */
static char *ckpt_pointer(const struct cluster *c, const struct cluster_ckpt *k)
{
	char *v = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&v, &len);

	if (!f)
		return NULL;
	fprintf(f, "%" PRId64 " %016" PRIx64 " %zu\n", k->rev, c->host, k->n);
	for (size_t i = 0; i < k->nseen; i++)
		if (!k->seen[i].gone)
			fprintf(f, "%016" PRIx64 " %" PRIu64 "\n", k->seen[i].host, k->seen[i].seq);
	if (fclose(f) != 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* Compact etcd's history to the newest checkpoint written at least CLUSTER_HISTORY_S ago, after
 * recording k's. The compactor's. */
static void history_compact(struct cluster *c, int64_t rev)
{
	int64_t now = now_ms(), to = 0;
	size_t kept = 0;

	if (c->nckpt == CLUSTER_CKPT_KEEP) { /* forget the oldest */
		memmove(c->ckpt_revs, c->ckpt_revs + 1, (CLUSTER_CKPT_KEEP - 1) * sizeof(int64_t));
		memmove(c->ckpt_ms, c->ckpt_ms + 1, (CLUSTER_CKPT_KEEP - 1) * sizeof(int64_t));
		c->nckpt--;
	}
	c->ckpt_revs[c->nckpt] = rev;
	c->ckpt_ms[c->nckpt++] = now;
	for (size_t i = 0; i < c->nckpt; i++) {
		if (now - c->ckpt_ms[i] >= CLUSTER_HISTORY_S * 1000) {
			to = c->ckpt_revs[i];
		} else {
			c->ckpt_revs[kept] = c->ckpt_revs[i];
			c->ckpt_ms[kept++] = c->ckpt_ms[i];
		}
	}
	c->nckpt = kept;
	if (to)
		etcd_compact(c->etcd, to); /* -EINVAL: compacted that far already */
}

/*
 * Write checkpoint k, point c at it (unless a newer one is there, or another daemon's won),
 * then delete what it replaces: the other checkpoints, the log up to each daemon's last
 * operation it applied (all of a daemon gone). Returns 0 or -errno (nothing pointed at; keys
 * written stay until the next checkpoint deletes them).
 */
static int ckpt_write(struct cluster *c, struct cluster_ckpt *k)
{
	char ptr[CLUSTER_KEY_MAX], dir[CLUSTER_KEY_MAX], first[CLUSTER_KEY_MAX];
	char key[CLUSTER_KEY_MAX], end[CLUSTER_KEY_MAX];
	size_t plen = make_key(c, ptr, "c");
	size_t dlen = make_skey(c, dir, CKPT_DIR, k->rev, c->host), elen, flen, klen;
	struct etcd_compare cmp[2] = { { .key = ptr, .key_len = plen, .target = ETCD_VERSION } };
	struct etcd_op put = { .kind = ETCD_OP_PUT, .key = ptr, .key_len = plen };
	struct etcd_txn t = { .cmp = cmp, .ncmp = 1, .success = &put, .nsuccess = 1 };
	struct etcd_kvs old;
	int64_t old_rev = 0;
	char *value;
	int rc;

	rc = etcd_range(c->etcd, ptr, plen, NULL, 0, 1, &old);
	if (rc)
		return rc;
	if (old.n) {
		cmp[0].target = ETCD_MOD;
		cmp[0].number = old.kvs[0].mod_rev;
		sscanf(old.kvs[0].value, "%" SCNd64, &old_rev);
	}
	etcd_kvs_free(&old);
	if (old_rev >= k->rev)
		return 0; /* a newer one is there (another daemon's) */
	rc = ckpt_put_all(c, k, dir, dlen);
	if (rc)
		return rc;
	value = ckpt_pointer(c, k);
	if (!value)
		return -ENOMEM;
	put.value = value;
	put.value_len = strlen(value);
	if (k->n) {
		/* its keys are all there (another daemon's cleanup deletes them all at once) */
		flen = make_skey(c, first, "%.*s%08x", (int)(dlen - c->splen), dir + c->splen, 0);
		cmp[1] = (struct etcd_compare){ .key = first,
						.key_len = flen,
						.target = ETCD_VERSION,
						.result = ETCD_GREATER };
		t.ncmp = 2;
	}
	rc = etcd_txn(c->etcd, &t, NULL, NULL);
	free(value);
	if (rc <= 0) {
		if (rc == 0) /* another daemon's is there now */
			delete_range(c, dir, dlen, NULL, 0);
		return rc;
	}
	/* every other checkpoint: those before its directory, and those after */
	delete_range(c, c->sprefix, c->splen, dir, dlen);
	elen = etcd_prefix_end(dir, dlen, end);
	if (elen) {
		char send[sizeof(c->sprefix)];
		size_t selen = etcd_prefix_end(c->sprefix, c->splen, send);

		delete_range(c, end, elen, send, selen);
	}
	for (size_t i = 0; i < k->nseen; i++) {
		const struct seen *e = &k->seen[i];

		/* up to what it applied, even for a daemon gone: one that lost its lease comes
		 * back under the same id, and what it wrote since is not covered */
		klen = make_key(c, key, "l/%016" PRIx64 "/", e->host);
		elen = make_key(c, end, "l/%016" PRIx64 "/%016" PRIx64, e->host, e->seq + 1);
		delete_range(c, key, klen, end, elen);
	}
	history_compact(c, k->rev);
	return 0;
}

static void *compactor_main(void *arg)
{
	struct cluster *c = arg;

	ipc_mutex_lock(&c->lock);
	while (!c->stop) {
		struct cluster_ckpt *k = c->ckpt;
		int rc;

		if (!k) {
			ipc_cond_wait(&c->cond, &c->lock);
			continue;
		}
		c->ckpt = NULL;
		ipc_mutex_unlock(&c->lock);
		rc = ckpt_write(c, k);
		if (rc && rc != -ECANCELED)
			fprintf(stderr,
				"ipcfs: cluster: checkpoint at revision %" PRId64
				" not written: %s\n",
				k->rev, strerror(-rc));
		ckpt_free(k);
		ipc_mutex_lock(&c->lock);
		c->ckpt_busy = false;
	}
	ipc_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- the lease ---- */

/* Register this daemon on c->lease. Returns 0 or -errno. */
static int register_host(struct cluster *c)
{
	char key[CLUSTER_KEY_MAX], value[320], label[256] = "?";
	size_t len = make_key(c, key, "h/%016" PRIx64, c->host);
	int n;

	gethostname(label, sizeof(label) - 1);
	n = snprintf(value, sizeof(value), "%s %d", label, (int)getpid());
	return etcd_put(c->etcd, key, len, value, (size_t)n, c->lease, NULL);
}

static void *keeper_main(void *arg)
{
	struct cluster *c = arg;

	ipc_mutex_lock(&c->lock);
	while (!c->stop) {
		struct timespec d = ipc_deadline_in((int64_t)c->ttl * 1000000000LL / 3);
		long rc;

		ipc_cond_timedwait(&c->cond, &c->lock, &d);
		if (c->stop)
			break;
		ipc_mutex_unlock(&c->lock);
		rc = etcd_lease_keepalive(c->etcd, c->lease);
		if (rc == -ENOENT) {
			/* It expired (etcd was out of reach for ttl): the others have seen this
			 * daemon gone, and its waiters were answered EIO by the GONE. Join
			 * again, under the same id, to serve new callers. */
			int64_t lease;

			fprintf(stderr, "ipcfs: cluster: lease expired; joining again\n");
			if (etcd_lease_grant(c->etcd, c->ttl, &lease) == 0) {
				__atomic_store_n(&c->lease, lease, __ATOMIC_RELAXED);
				if (register_host(c) != 0)
					etcd_lease_revoke(c->etcd, lease); /* next round */
			}
		}
		ipc_mutex_lock(&c->lock);
	}
	ipc_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- the interface ---- */

static bool good_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CLUSTER_NAME_MAX)
		return false;
	for (const char *s = name; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

int cluster_open(const char *endpoints, const char *name, unsigned ttl, unsigned timeout_s,
		 unsigned compact, const struct cluster_face *face, struct cluster **out)
{
	struct cluster *c;
	struct etcd_kvs probe;
	int rc;

	if (!good_name(name) || ttl == 0 || timeout_s == 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->plen = (size_t)snprintf(c->prefix, sizeof(c->prefix), "/ipcfs/%s/", name);
	/* ':' is in no cluster's name: no other cluster's keys begin so */
	c->splen = (size_t)snprintf(c->sprefix, sizeof(c->sprefix), "/ipcfs/%s:s/", name);
	c->compact = compact;
	c->ttl = ttl;
	c->timeout_ms = timeout_s * 1000;
	c->face = *face;
	list_init(&c->queue);
	ipc_mutex_init(&c->lock, 0);
	ipc_cond_init(&c->cond, 0);
	ipc_cond_init(&c->caught_up, 0);
	if (getrandom(&c->host, sizeof(c->host), 0) != sizeof(c->host))
		c->host = (uint64_t)getpid() << 32 ^ (uint64_t)now_ms();
	c->host |= 1; /* never 0: 0 means "this daemon" in a waiter of the memory store */
	rc = etcd_open(endpoints, c->timeout_ms, &c->etcd);
	if (rc)
		goto free_c;
	rc = etcd_range(c->etcd, c->prefix, c->plen, NULL, 0, 1, &probe);
	if (rc)
		goto close_etcd;
	etcd_kvs_free(&probe);
	*out = c;
	return 0;

close_etcd:
	etcd_close(c->etcd);
free_c:
	free(c);
	return rc;
}

int cluster_join(struct cluster *c)
{
	/* the replay first (the GONEs it appends wait in the queue for the sender): however
	 * long a long log takes, the lease is taken after, when its keeper is about to start
	 * (this daemon has no operation in the log yet, nor waiters anybody must take out) */
	int64_t rev = replay(c);
	int rc;

	/* a checkpoint written meanwhile may have replaced what was read: read again */
	for (int i = 1; i < CLUSTER_REPLAY_TRIES && (rev == -EAGAIN || rev == -EINVAL); i++)
		rev = replay(c);
	if (rev < 0)
		return rev == -EAGAIN || rev == -EINVAL ? -EIO : (int)rev;
	rc = etcd_lease_grant(c->etcd, c->ttl, &c->lease);
	if (rc)
		return rc;
	rc = register_host(c);
	if (rc) {
		etcd_lease_revoke(c->etcd, c->lease);
		return rc;
	}
	c->joined = rev;
	return 0;
}

int cluster_start(struct cluster *c)
{
	char end[sizeof(c->prefix)];
	size_t elen;
	int rc;

	if (pthread_create(&c->sender, NULL, sender_main, c) != 0) {
		rc = -EAGAIN;
		goto revoke;
	}
	caught_up_to(c, c->joined);
	elen = etcd_prefix_end(c->prefix, c->plen, end);
	rc = etcd_watch_start(c->etcd, c->prefix, c->plen, elen ? end : "\0", elen ? elen : 1,
			      c->joined + 1, watch_fn, c, &c->watch);
	if (rc)
		goto stop_sender;
	if (pthread_create(&c->compactor, NULL, compactor_main, c) != 0) {
		rc = -EAGAIN;
		goto stop_watch;
	}
	if (pthread_create(&c->keeper, NULL, keeper_main, c) != 0) {
		rc = -EAGAIN;
		goto stop_compactor;
	}
	c->running = true;
	return 0;

stop_compactor:
	etcd_watch_stop(c->watch);
	c->watch = NULL;
	ipc_mutex_lock(&c->lock);
	__atomic_store_n(&c->stop, true, __ATOMIC_RELAXED);
	ipc_cond_notify(&c->cond, INT32_MAX);
	ipc_mutex_unlock(&c->lock);
	pthread_join(c->compactor, NULL);
	goto join_sender;
stop_watch:
	etcd_watch_stop(c->watch);
	c->watch = NULL;
stop_sender:
	ipc_mutex_lock(&c->lock);
	__atomic_store_n(&c->stop, true, __ATOMIC_RELAXED);
	ipc_cond_notify(&c->cond, INT32_MAX);
	ipc_mutex_unlock(&c->lock);
join_sender:
	pthread_join(c->sender, NULL);
	c->stop = false;
revoke:
	etcd_lease_revoke(c->etcd, c->lease);
	c->joined = 0;
	return rc;
}

uint64_t cluster_host(const struct cluster *c)
{
	return c->host;
}

int cluster_submit(struct cluster *c, const struct cluster_op *in)
{
	struct qop *q = calloc(1, sizeof(*q));
	struct cluster_op op = *in;
	char key[CLUSTER_KEY_MAX];

	if (!q)
		return -ENOMEM;
	op.host = c->host;
	clock_gettime(CLOCK_REALTIME, &op.time);
	q->id = op.kind == CLUSTER_OP_CANCEL ? 0 : op.id; /* a cancel's id is its waiter's */
	q->deadline_ms = now_ms() + c->timeout_ms;
	q->value = op_encode(&op, &q->value_len);
	if (!q->value) {
		free(q);
		return -ENOMEM;
	}
	ipc_mutex_lock(&c->lock);
	q->key_len = make_key(c, key, "l/%016" PRIx64 "/%016" PRIx64, c->host, ++c->seq);
	q->key = strndup(key, q->key_len);
	if (!q->key) {
		ipc_mutex_unlock(&c->lock);
		qop_free(q);
		return -ENOMEM;
	}
	list_add_tail(&q->link, &c->queue);
	ipc_cond_notify(&c->cond, INT32_MAX);
	ipc_mutex_unlock(&c->lock);
	return 0;
}

/* The create and mod revisions of key (either may be NULL): 0 when it does not exist. Returns
 * 0 or -EIO. */
static int name_read(struct cluster *c, const char *key, size_t klen, int64_t *created,
		     int64_t *mod)
{
	struct etcd_kvs r;
	int rc = etcd_range(c->etcd, key, klen, NULL, 0, 1, &r);

	if (rc)
		return rc;
	if (created)
		*created = r.n ? r.kvs[0].create_rev : 0;
	if (mod)
		*mod = r.n ? r.kvs[0].mod_rev : 0;
	etcd_kvs_free(&r);
	return 0;
}

int cluster_name_create(struct cluster *c, const char *path, const char *value, int64_t *inc)
{
	char key[CLUSTER_KEY_MAX], parent[CLUSTER_KEY_MAX];
	size_t klen = make_key(c, key, "n/%s", path), plen = 0;
	const char *slash = strrchr(path, '/');
	struct etcd_compare cmp[2];
	struct etcd_op put = { .kind = ETCD_OP_PUT, .value = value, .value_len = strlen(value) };
	struct etcd_txn t = { .cmp = cmp, .ncmp = 1, .success = &put, .nsuccess = 1 };
	int64_t created = 0;
	int rc;

	if (!klen)
		return -ENAMETOOLONG;
	put.key = key;
	put.key_len = klen;
	cmp[0] = (struct etcd_compare){
		.key = key, .key_len = klen, .target = ETCD_VERSION, .result = ETCD_EQUAL
	};
	/* below a type directory, the parent is a name too: it must still exist */
	if (slash && strchr(path, '/') != slash) {
		plen = make_key(c, parent, "n/%.*s", (int)(slash - path), path);
		cmp[1] = (struct etcd_compare){ .key = parent,
						.key_len = plen,
						.target = ETCD_VERSION,
						.result = ETCD_GREATER };
		t.ncmp = 2;
	}
	rc = etcd_txn(c->etcd, &t, inc, NULL);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return 0;
	/* it exists, or its parent does not */
	rc = name_read(c, key, klen, &created, NULL);
	return rc < 0 ? rc : created ? -EEXIST : -ENOENT;
}

int cluster_name_sync(struct cluster *c, const char *path)
{
	char key[CLUSTER_KEY_MAX];
	size_t klen = make_key(c, key, "n/%s", path);
	struct timespec deadline = ipc_deadline_in((int64_t)c->timeout_ms * 1000000);
	int64_t rev;
	int rc;

	if (!klen)
		return -ENAMETOOLONG;
	rc = name_read(c, key, klen, NULL, &rev);
	if (rc)
		return rc;
	if (!rev)
		return -ENOENT;
	ipc_mutex_lock(&c->lock);
	while (c->applied < rev && rc != -ETIMEDOUT)
		rc = ipc_cond_timedwait(&c->caught_up, &c->lock, &deadline);
	rc = c->applied >= rev ? 0 : -EIO;
	ipc_mutex_unlock(&c->lock);
	return rc;
}

int cluster_name_set(struct cluster *c, const char *path, int64_t inc, const char *value)
{
	char key[CLUSTER_KEY_MAX];
	size_t klen = make_key(c, key, "n/%s", path);
	struct etcd_compare cmp = { .key = key,
				    .key_len = klen,
				    .target = ETCD_CREATE,
				    .result = ETCD_EQUAL,
				    .number = inc };
	struct etcd_op put = { .kind = ETCD_OP_PUT,
			       .key = key,
			       .key_len = klen,
			       .value = value,
			       .value_len = strlen(value) };
	struct etcd_txn t = { .cmp = &cmp, .ncmp = 1, .success = &put, .nsuccess = 1 };
	int rc;

	if (!klen)
		return -ENAMETOOLONG;
	rc = etcd_txn(c->etcd, &t, NULL, NULL);
	return rc < 0 ? rc : rc == 1 ? 0 : -ENOENT;
}

int cluster_name_delete(struct cluster *c, const char *path, int64_t inc, bool is_dir)
{
	char key[CLUSTER_KEY_MAX], below[CLUSTER_KEY_MAX], end[CLUSTER_KEY_MAX];
	size_t klen = make_key(c, key, "n/%s", path);
	size_t blen = make_key(c, below, "n/%s/", path), elen;
	struct etcd_compare cmp[2] = {
		{ .key = key,
		  .key_len = klen,
		  .target = ETCD_CREATE,
		  .result = ETCD_EQUAL,
		  .number = inc },
	};
	struct etcd_op del = { .kind = ETCD_OP_DELETE, .key = key, .key_len = klen };
	struct etcd_txn t = { .cmp = cmp, .ncmp = 1, .success = &del, .nsuccess = 1 };
	int64_t created = 0;
	int rc;

	if (!klen || !blen)
		return -ENAMETOOLONG;
	if (is_dir) {
		/* nothing below it: an empty range compares as a key that does not exist */
		elen = etcd_prefix_end(below, blen, end);
		cmp[1] = (struct etcd_compare){ .key = below,
						.key_len = blen,
						.end = end,
						.end_len = elen,
						.target = ETCD_VERSION,
						.result = ETCD_EQUAL };
		t.ncmp = 2;
	}
	rc = etcd_txn(c->etcd, &t, NULL, NULL);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return 0;
	/* another incarnation, or gone, or something below it */
	rc = name_read(c, key, klen, &created, NULL);
	return rc < 0 ? rc : created == inc ? -ENOTEMPTY : -ENOENT;
}

void cluster_stop(struct cluster *c)
{
	if (c->joined && !c->running) {
		/* joined, never started (the mount failed): leave all the same */
		etcd_lease_revoke(c->etcd, c->lease);
		c->joined = 0;
	}
	if (c->running) {
		etcd_watch_stop(c->watch); /* first: the face submits from its callbacks */
		ipc_mutex_lock(&c->lock);
		__atomic_store_n(&c->stop, true, __ATOMIC_RELAXED);
		ipc_cond_notify(&c->cond, INT32_MAX);
		ipc_mutex_unlock(&c->lock);
		pthread_join(c->keeper, NULL);
		pthread_join(c->compactor, NULL);
		pthread_join(c->sender, NULL);
		etcd_lease_revoke(c->etcd, c->lease);
		c->running = false;
		c->joined = 0;
	}
}

void cluster_close(struct cluster *c)
{
	if (!c)
		return;
	cluster_stop(c);
	while (!list_empty(&c->queue)) {
		struct qop *q = list_first_entry(&c->queue, struct qop, link);

		list_del(&q->link);
		qop_free(q);
	}
	for (size_t i = 0; i < c->ndoubt; i++)
		free(c->doubt[i]);
	free(c->doubt);
	free(c->members);
	ckpt_free(c->ckpt);
	free(c->seen);
	etcd_close(c->etcd);
	free(c);
}
