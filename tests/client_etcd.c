/* SPDX-License-Identifier: MIT */
/*
 * client_etcd.c - drives the etcd client (fs/store/etcd/etcd.h) for tests/it_etcd.sh, against
 * real members. One operation per call, results on stdout, one line each:
 *
 *   client_etcd ENDPOINTS TIMEOUT_MS OP ARGS...
 *     put KEY VALUE [LEASE]   "put REV" | "put ERRNAME"
 *     create KEY VALUE        put only if KEY does not exist: "create REV" | "create exists" |
 *                             "create ERRNAME" (retrying after an EIO changes nothing twice)
 *     get KEY                 "get VALUE MOD_REV" | "get none" | "get ERRNAME"
 *     incr KEY N ID           N increments of the decimal counter at KEY, each one a
 *                             transaction that also writes KEY/done/ID-i, retried on a lost
 *                             race; after an EIO it looks for that marker, so that an
 *                             increment is applied exactly once: "incr N retries R eio E"
 *     count PREFIX [PAGE]     "count N": keys that begin with PREFIX; with PAGE, read in pages
 *                             of PAGE keys (etcd_range_all): "count disorder" if a key
 *                             came twice or out of order
 *     grant TTL               "grant ID"
 *     keepalive ID SECONDS    renews the lease every TTL/3 for SECONDS: "keepalive ok" or
 *                             "keepalive ERRNAME"
 *     watch PREFIX REV N SECS the first N changes of keys beginning with PREFIX from REV on:
 *                             "ev KEY VALUE REV" each, then "watch N" (fewer on time-out)
 *     time OP ... SECONDS     (put or get) repeated for SECONDS: "time OPS_PER_S US_PER_OP"
 *
 * ERRNAME is EIO, EINVAL, ENOENT...; the exit status is 0 when the operation itself answered.
 */
#include "store/etcd/etcd.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int rc)
{
	switch (-rc) {
	case EIO:
		return "EIO";
	case EINVAL:
		return "EINVAL";
	case ENOENT:
		return "ENOENT";
	case ENOMEM:
		return "ENOMEM";
	default:
		return "E?";
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One increment of the counter at key, with marker as its proof. 1 applied, 0 lost the race
 * (try again), or -errno. */
static int incr_once(struct etcd *c, const char *key, const char *marker)
{
	struct etcd_kvs r;
	char val[32];
	long long v = 0;
	int64_t mod = 0;
	int rc = etcd_range(c, key, strlen(key), NULL, 0, 0, &r);

	if (rc)
		return rc;
	if (r.n) {
		v = strtoll(r.kvs[0].value, NULL, 10);
		mod = r.kvs[0].mod_rev;
	}
	etcd_kvs_free(&r);
	snprintf(val, sizeof(val), "%lld", v + 1);
	{
		/* a key never written has mod revision 0 */
		struct etcd_compare cmp = { .key = key,
					    .key_len = strlen(key),
					    .target = ETCD_MOD,
					    .result = ETCD_EQUAL,
					    .number = mod };
		struct etcd_op ops[2] = {
			{ .kind = ETCD_OP_PUT,
			  .key = key,
			  .key_len = strlen(key),
			  .value = val,
			  .value_len = strlen(val) },
			{ .kind = ETCD_OP_PUT,
			  .key = marker,
			  .key_len = strlen(marker),
			  .value = "1",
			  .value_len = 1 },
		};
		struct etcd_txn t = { .cmp = &cmp, .ncmp = 1, .success = ops, .nsuccess = 2 };

		return etcd_txn(c, &t, NULL, NULL);
	}
}

/* Does marker exist? 1 or 0, asking until a member answers; or -errno other than EIO. */
static int marker_exists(struct etcd *c, const char *marker)
{
	for (;;) {
		struct etcd_kvs r;
		int rc = etcd_range(c, marker, strlen(marker), NULL, 0, 0, &r);

		if (rc == -EIO)
			continue;
		if (rc)
			return rc;
		rc = r.n > 0;
		etcd_kvs_free(&r);
		return rc;
	}
}

static int do_incr(struct etcd *c, const char *key, long n, const char *id)
{
	long retries = 0, eio = 0;

	for (long i = 0; i < n; i++) {
		char marker[256];

		snprintf(marker, sizeof(marker), "%s/done/%s-%ld", key, id, i);
		for (;;) {
			int rc = incr_once(c, key, marker);

			if (rc == 1)
				break;
			if (rc == 0) {
				retries++;
				continue;
			}
			if (rc != -EIO) {
				printf("incr %s\n", errname(rc));
				return 1;
			}
			/* applied or not? the marker tells, once a member answers again */
			eio++;
			rc = marker_exists(c, marker);
			if (rc < 0) {
				printf("incr %s\n", errname(rc));
				return 1;
			}
			if (rc == 1)
				break;
		}
	}
	printf("incr %ld retries %ld eio %ld\n", n, retries, eio);
	return 0;
}

struct watched {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	long n, want;
};

static void on_event(void *ctx, const struct etcd_kv *ev, int64_t rev)
{
	struct watched *w = ctx;

	pthread_mutex_lock(&w->lock);
	if (w->n < w->want) {
		if (ev)
			printf("ev %s %s %" PRId64 "\n", ev->key, ev->value, rev);
		else
			printf("compacted %" PRId64 "\n", rev);
		fflush(stdout);
		if (ev)
			w->n++;
	}
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int do_watch(struct etcd *c, const char *prefix, int64_t rev, long want, double secs)
{
	struct watched w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, want };
	char end[256];
	size_t len = strlen(prefix), elen = etcd_prefix_end(prefix, len, end);
	struct etcd_watch *wt;
	struct timespec dl;
	int rc;

	rc = etcd_watch_start(c, prefix, len, elen ? end : "", elen ? elen : 1, rev, on_event, &w,
			      &wt);
	if (rc) {
		printf("watch %s\n", errname(rc));
		return 1;
	}
	printf("watching\n");
	fflush(stdout);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += (time_t)secs;
	pthread_mutex_lock(&w.lock);
	while (w.n < want && pthread_cond_timedwait(&w.cond, &w.lock, &dl) == 0)
		;
	pthread_mutex_unlock(&w.lock);
	etcd_watch_stop(wt);
	printf("watch %ld\n", w.n);
	return 0;
}

int main(int argc, char **argv)
{
	struct etcd *c;
	const char *op;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: %s ENDPOINTS TIMEOUT_MS OP ARGS...\n", argv[0]);
		return 2;
	}
	rc = etcd_open(argv[1], (unsigned)atoi(argv[2]), &c);
	if (rc) {
		printf("open %s\n", errname(rc));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	op = argv[3];
	rc = 0;
	if (strcmp(op, "put") == 0 && argc >= 6) {
		int64_t rev;
		int r = etcd_put(c, argv[4], strlen(argv[4]), argv[5], strlen(argv[5]),
				 argc > 6 ? strtoll(argv[6], NULL, 10) : 0, &rev);

		if (r)
			printf("put %s\n", errname(r));
		else
			printf("put %" PRId64 "\n", rev);
	} else if (strcmp(op, "create") == 0 && argc >= 6) {
		struct etcd_compare cmp = { .key = argv[4],
					    .key_len = strlen(argv[4]),
					    .target = ETCD_CREATE,
					    .result = ETCD_EQUAL,
					    .number = 0 };
		struct etcd_op put = { .kind = ETCD_OP_PUT,
				       .key = argv[4],
				       .key_len = strlen(argv[4]),
				       .value = argv[5],
				       .value_len = strlen(argv[5]) };
		struct etcd_txn t = { .cmp = &cmp, .ncmp = 1, .success = &put, .nsuccess = 1 };
		int64_t rev;
		int r = etcd_txn(c, &t, &rev, NULL);

		if (r < 0)
			printf("create %s\n", errname(r));
		else if (r == 0)
			printf("create exists\n");
		else
			printf("create %" PRId64 "\n", rev);
	} else if (strcmp(op, "get") == 0 && argc >= 5) {
		struct etcd_kvs r;
		int e = etcd_range(c, argv[4], strlen(argv[4]), NULL, 0, 0, &r);

		if (e)
			printf("get %s\n", errname(e));
		else if (r.n == 0)
			printf("get none\n");
		else
			printf("get %s %" PRId64 "\n", r.kvs[0].value, r.kvs[0].mod_rev);
		if (!e)
			etcd_kvs_free(&r);
	} else if (strcmp(op, "incr") == 0 && argc >= 7) {
		rc = do_incr(c, argv[4], atol(argv[5]), argv[6]);
	} else if (strcmp(op, "count") == 0 && argc >= 5) {
		char end[256];
		size_t len = strlen(argv[4]), elen = etcd_prefix_end(argv[4], len, end);
		struct etcd_kvs r;
		int e = argc >= 6 ? etcd_range_all(c, argv[4], len, elen ? end : "",
						   elen ? elen : 1, (unsigned)atoi(argv[5]), &r)
				  : etcd_range(c, argv[4], len, elen ? end : "", elen ? elen : 1, 0,
					       &r);
		bool ordered = true;

		for (size_t i = 1; i < (e ? 0 : r.n); i++)
			if (strcmp(r.kvs[i - 1].key, r.kvs[i].key) >= 0)
				ordered = false;
		if (e)
			printf("count %s\n", errname(e));
		else if (!ordered)
			printf("count disorder\n");
		else
			printf("count %zu\n", r.n);
		if (!e)
			etcd_kvs_free(&r);
	} else if (strcmp(op, "grant") == 0 && argc >= 5) {
		int64_t id;
		int e = etcd_lease_grant(c, (unsigned)atoi(argv[4]), &id);

		if (e)
			printf("grant %s\n", errname(e));
		else
			printf("grant %" PRId64 "\n", id);
	} else if (strcmp(op, "keepalive") == 0 && argc >= 6) {
		int64_t id = strtoll(argv[4], NULL, 10);
		double end = now_s() + atof(argv[5]);
		long ttl = 0;

		while (now_s() < end) {
			ttl = etcd_lease_keepalive(c, id);
			if (ttl < 0)
				break;
			usleep((useconds_t)(ttl * 1000000 / 3));
		}
		if (ttl < 0)
			printf("keepalive %s\n", errname((int)ttl));
		else
			printf("keepalive ok\n");
	} else if (strcmp(op, "watch") == 0 && argc >= 8) {
		rc = do_watch(c, argv[4], strtoll(argv[5], NULL, 10), atol(argv[6]), atof(argv[7]));
	} else if (strcmp(op, "time") == 0 && argc >= 7) {
		/* time put KEY SECONDS | time get KEY SECONDS */
		double t0 = now_s(), secs = atof(argv[6]);
		long n = 0;
		int e = 0;

		while (e == 0 && now_s() - t0 < secs) {
			if (strcmp(argv[4], "put") == 0) {
				e = etcd_put(c, argv[5], strlen(argv[5]), "x", 1, 0, NULL);
			} else {
				struct etcd_kvs r;

				e = etcd_range(c, argv[5], strlen(argv[5]), NULL, 0, 0, &r);
				if (!e)
					etcd_kvs_free(&r);
			}
			n++;
		}
		if (e)
			printf("time %s\n", errname(e));
		else
			printf("time %.0f %.1f\n", n / (now_s() - t0), (now_s() - t0) * 1e6 / n);
	} else {
		fprintf(stderr, "client_etcd: bad operation or arguments\n");
		rc = 2;
	}
	etcd_close(c);
	return rc;
}
