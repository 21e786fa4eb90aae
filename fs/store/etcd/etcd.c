/* SPDX-License-Identifier: MIT */
/*
 * etcd.c - the etcd v3 JSON-gateway client (etcd.h).
 *
 * Implementation notes:
 * - One HTTP POST per call, on a libcurl easy handle taken from the client's pool: handles
 *   keep their connections alive, so a call on loopback costs one round trip, not a TCP
 *   handshake. The pool grows to the number of threads calling at once and keeps up to
 *   ETCD_POOL_MAX handles.
 * - Failover: a call starts at the endpoint that answered last and moves to the next when an
 *   attempt fails with no answer (see etcd.h). Each attempt gets a share of what is left of the
 *   call's time, so that one member that accepts and then hangs (no quorum) cannot use all of
 *   it; the last attempt gets the rest.
 * - The gateway maps gRPC errors to HTTP statuses with a JSON body {"error", "code",
 *   "message"}; the code decides (etcd_errno).
 * - 64-bit numbers come as JSON strings ("revision": "42"); keys and values as base64.
 * - A watch is one streaming POST per member it listens to: the gateway sends one JSON object
 *   per line ({"result": {...}}). The "Grpc-Metadata-hasleader: true" header makes a member
 *   that has lost its leader cancel the stream, so the watch moves on instead of waiting on a
 *   member that cannot see changes. libcurl's progress callback (called at least once a
 *   second) ends the transfer when the watch is stopped.
 *
 * Locking: c->lock protects the pool and c->current; a watch's fields are its thread's but for
 * stop (atomic).
 */
#include "store/etcd/etcd.h"

#include <curl/curl.h>
#include <json-c/json.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ETCD_POOL_MAX 16	/* idle connections a client keeps */
#define ETCD_ATTEMPT_MIN_MS 200 /* the least time one attempt gets */
#define ETCD_ENDPOINTS_MAX 16
#define ETCD_URL_MAX 400  /* characters of one endpoint: it and a path fit in a URL buffer */
#define ETCD_RETRY_MS 200 /* a watch that found no member waits this long to try again */

struct etcd {
	char *endpoints[ETCD_ENDPOINTS_MAX]; /* base URLs; immutable */
	unsigned nendpoints;		     /* immutable */
	unsigned timeout_ms;		     /* immutable */
	pthread_mutex_t lock;
	unsigned current; /* the endpoint that answered last; lock */
	CURL *pool[ETCD_POOL_MAX];
	unsigned npool; /* idle handles in pool; lock */
};

struct etcd_watch {
	struct etcd *c;
	char *key, *end;  /* base64 */
	int64_t next_rev; /* the first revision not reported yet; 0: from now */
	void (*fn)(void *ctx, const struct etcd_kv *ev, int64_t rev);
	void *ctx;
	int stop; /* atomic */
	pthread_t thread;
	/* the line being received */
	char *line;
	size_t len, cap;
	int failed; /* the stream ended with an error or was cancelled */
};

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A NUL-terminated base64 copy of len bytes of p, or NULL when out of memory. */
static char *b64_encode(const void *p, size_t len)
{
	const unsigned char *s = p;
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char ch)
{
	const char *at = ch ? strchr(b64, ch) : NULL;

	return at ? (int)(at - b64) : -1;
}

/* Decode s into a NUL-terminated buffer (*len bytes before the NUL). NULL when out of memory
 * or s is not base64. */
static char *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n / 4 * 3 + 3);
	uint32_t acc = 0;
	int bits = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64_value(s[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

/* ---- JSON helpers ---- */

/* obj[key] as a 64-bit number (etcd sends them as strings); 0 when absent. */
static int64_t j_i64(json_object *obj, const char *key)
{
	json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v))
		return 0;
	return json_object_get_int64(v);
}

static bool j_bool(json_object *obj, const char *key)
{
	json_object *v;

	return obj && json_object_object_get_ex(obj, key, &v) && json_object_get_boolean(v);
}

static json_object *j_get(json_object *obj, const char *key)
{
	json_object *v;

	return obj && json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* Add key: base64(p, len). Returns 0 or -ENOMEM. */
static int j_add_b64(json_object *obj, const char *key, const void *p, size_t len)
{
	char *s = b64_encode(p, len);
	json_object *v;

	if (!s)
		return -ENOMEM;
	v = json_object_new_string(s);
	free(s);
	if (!v || json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Add key: the number n as etcd wants it (a decimal string). Returns 0 or -ENOMEM. */
static int j_add_i64(json_object *obj, const char *key, int64_t n)
{
	char buf[24];
	json_object *v;

	snprintf(buf, sizeof(buf), "%lld", (long long)n);
	v = json_object_new_string(buf);
	if (!v || json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int j_add_str(json_object *obj, const char *key, const char *s)
{
	json_object *v = json_object_new_string(s);

	if (!v || json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Fill kv from etcd's JSON form. Returns 0 or -ENOMEM/-EIO (kv's strings freed). */
static int kv_parse(json_object *j, struct etcd_kv *kv)
{
	const char *k = json_object_get_string(j_get(j, "key"));
	const char *v = json_object_get_string(j_get(j, "value"));

	memset(kv, 0, sizeof(*kv));
	kv->key = b64_decode(k ? k : "", &kv->key_len);
	kv->value = b64_decode(v ? v : "", &kv->value_len);
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		kv->key = kv->value = NULL;
		return -EIO;
	}
	kv->create_rev = j_i64(j, "create_revision");
	kv->mod_rev = j_i64(j, "mod_revision");
	kv->version = j_i64(j, "version");
	kv->lease = j_i64(j, "lease");
	return 0;
}

void etcd_kvs_free(struct etcd_kvs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->kvs[i].key);
		free(r->kvs[i].value);
	}
	free(r->kvs);
	r->kvs = NULL;
	r->n = 0;
}

/* Append the kvs of a JSON array to r. Returns 0 or -ENOMEM/-EIO (r keeps what it had). */
static int kvs_append(struct etcd_kvs *r, json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	struct etcd_kv *kvs;

	if (n == 0)
		return 0;
	kvs = realloc(r->kvs, (r->n + n) * sizeof(*kvs));
	if (!kvs)
		return -ENOMEM;
	r->kvs = kvs;
	for (size_t i = 0; i < n; i++) {
		if (kv_parse(json_object_array_get_idx(arr, i), &r->kvs[r->n]) != 0)
			return -EIO;
		r->n++;
	}
	return 0;
}

/* ---- the client ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int etcd_open(const char *endpoints, unsigned timeout_ms, struct etcd **out)
{
	struct etcd *c;
	const char *p = endpoints;

	if (!endpoints || !*endpoints || timeout_ms == 0)
		return -EINVAL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->timeout_ms = timeout_ms;
	for (;;) {
		size_t n = strcspn(p, "+,");

		if (n == 0 || n > ETCD_URL_MAX || c->nendpoints == ETCD_ENDPOINTS_MAX ||
		    (strncmp(p, "http://", 7) != 0 && strncmp(p, "https://", 8) != 0))
			goto invalid; /* also an empty item: "a++b", a trailing '+' */
		c->endpoints[c->nendpoints] = strndup(p, n);
		if (!c->endpoints[c->nendpoints]) {
			etcd_close(c);
			return -ENOMEM;
		}
		/* "http://h:2379/" names the same member as "http://h:2379" */
		while (n > 1 && c->endpoints[c->nendpoints][n - 1] == '/')
			c->endpoints[c->nendpoints][--n] = '\0';
		c->nendpoints++;
		p += strcspn(p, "+,");
		if (!*p)
			break;
		p++;
	}
	*out = c;
	return 0;
invalid:
	etcd_close(c);
	return -EINVAL;
}

void etcd_close(struct etcd *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	for (unsigned i = 0; i < c->nendpoints; i++)
		free(c->endpoints[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static CURL *pool_take(struct etcd *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->npool)
		h = c->pool[--c->npool];
	pthread_mutex_unlock(&c->lock);
	return h ? h : curl_easy_init();
}

static void pool_give(struct etcd *c, CURL *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->npool < ETCD_POOL_MAX) {
		c->pool[c->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

struct body {
	char *p;
	size_t len, cap;
};

static size_t body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p)
			return 0; /* libcurl fails the transfer */
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What an error body's gRPC code means: -EAGAIN for "try another member", else the errno.
 * -ENOTCONN: the member refused before proposing anything ("no leader"): another member may
 * take even a change. */
static int etcd_errno(json_object *resp)
{
	const char *msg = json_object_get_string(j_get(resp, "error"));

	if (!msg)
		msg = json_object_get_string(j_get(resp, "message"));
	if (msg && strcmp(msg, "etcdserver: no leader") == 0)
		return -ENOTCONN;
	switch (j_i64(resp, "code")) {
	case 4:	 /* DEADLINE_EXCEEDED */
	case 14: /* UNAVAILABLE: no leader, stopping, not started */
		return -EAGAIN;
	case 3:	 /* INVALID_ARGUMENT */
	case 9:	 /* FAILED_PRECONDITION */
	case 11: /* OUT_OF_RANGE: a compacted or future revision */
		return -EINVAL;
	case 5: /* NOT_FOUND: a lease */
		return -ENOENT;
	default:
		return -EIO;
	}
}

/* Did the attempt that ended with cc leave the request unsent (no member has seen it)? */
static bool not_sent(CURL *h, CURLcode cc)
{
	curl_off_t pre = 0;

	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
		return true;
	/* a time-out before the request went out: still connecting */
	return cc == CURLE_OPERATION_TIMEDOUT &&
	       curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre) == CURLE_OK && pre == 0;
}

/*
 * POST req (consumed) to path on the members until one answers or the time is up. Returns 0
 * with *resp the answer's JSON (json_object_put it), or -EIO, -ENOMEM, or an error body's
 * errno (etcd_errno). A request that changes something (idempotent false) goes to another
 * member only when the previous one certainly did not see it: once sent, a time-out or an
 * UNAVAILABLE answer may hide a change that commits all the same (the member keeps the
 * proposal), and sending it again would apply it twice or report the second attempt's
 * verdict as the first one's. Then the answer is -EIO: not known.
 */
static int call(struct etcd *c, const char *path, json_object *req, bool idempotent,
		json_object **resp)
{
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	int64_t deadline = now_ms() + c->timeout_ms;
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	struct body b = { 0 };
	unsigned first, tried = 0;
	int rc = -EIO;
	CURL *h = pool_take(c);

	if (!text || !hdr || !h) {
		rc = -ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&c->lock);
	first = c->current;
	pthread_mutex_unlock(&c->lock);
	for (;;) {
		unsigned e = (first + tried) % c->nendpoints;
		int64_t left = deadline - now_ms();
		long attempt, status = 0;
		char url[ETCD_URL_MAX + 64];
		CURLcode cc;

		if (left <= 0)
			break;
		/* a share of what is left, so that a member that hangs leaves time for the others */
		attempt = left / (long)(c->nendpoints > 1 ? 2 : 1);
		if (attempt < ETCD_ATTEMPT_MIN_MS)
			attempt = left;
		snprintf(url, sizeof(url), "%s%s", c->endpoints[e], path);
		b.len = 0;
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, attempt);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, attempt);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		tried++;
		if (cc == CURLE_OK && b.p) {
			json_object *j = json_tokener_parse(b.p);

			if (j && status == 200) {
				*resp = j;
				rc = 0;
				pthread_mutex_lock(&c->lock);
				c->current = e;
				pthread_mutex_unlock(&c->lock);
				break;
			}
			rc = j ? etcd_errno(j) : -EIO;
			json_object_put(j);
			if (rc != -EAGAIN && rc != -EIO && rc != -ENOTCONN)
				break; /* an answer: the request itself is refused */
		}
		if (!idempotent && rc != -ENOTCONN && !not_sent(h, cc)) {
			rc = -EIO;
			break; /* it may have been applied: not known */
		}
		rc = -EIO;
		if (tried % c->nendpoints == 0) {
			/* every member failed once: wait a little before the next round, so that
			 * a cluster electing a leader is not hammered */
			struct timespec ts = { 0, 50 * 1000000L };

			if (deadline - now_ms() > 50)
				nanosleep(&ts, NULL);
		}
	}
out:
	curl_slist_free_all(hdr);
	free(b.p);
	if (h)
		pool_give(c, h);
	json_object_put(req);
	return rc;
}

/* Add key (and range_end) in base64 to obj. */
static int j_add_range(json_object *obj, const void *key, size_t key_len, const void *end,
		       size_t end_len)
{
	int rc = j_add_b64(obj, "key", key, key_len);

	if (rc == 0 && end)
		rc = j_add_b64(obj, "range_end", end, end_len);
	return rc;
}

int etcd_put(struct etcd *c, const void *key, size_t key_len, const void *value, size_t value_len,
	     int64_t lease, int64_t *rev)
{
	json_object *req = json_object_new_object(), *resp;
	int rc;

	if (!req)
		return -ENOMEM;
	rc = j_add_b64(req, "key", key, key_len);
	if (rc == 0)
		rc = j_add_b64(req, "value", value, value_len);
	if (rc == 0 && lease)
		rc = j_add_i64(req, "lease", lease);
	if (rc) {
		json_object_put(req);
		return rc;
	}
	rc = call(c, "/v3/kv/put", req, false, &resp);
	if (rc)
		return rc;
	if (rev)
		*rev = j_i64(j_get(resp, "header"), "revision");
	json_object_put(resp);
	return 0;
}

/* One range call (at revision rev, 0: the latest), its keys appended to out; out->rev and
 * out->more set. 0 or -errno (out keeps what it had, and maybe part of these). */
static int range_call(struct etcd *c, const void *key, size_t key_len, const void *end,
		      size_t end_len, unsigned limit, int64_t rev, struct etcd_kvs *out)
{
	json_object *req = json_object_new_object(), *resp;
	int rc;

	if (!req)
		return -ENOMEM;
	rc = j_add_range(req, key, key_len, end, end_len);
	if (rc == 0 && limit)
		rc = j_add_i64(req, "limit", limit);
	if (rc == 0 && rev)
		rc = j_add_i64(req, "revision", rev);
	if (rc) {
		json_object_put(req);
		return rc;
	}
	rc = call(c, "/v3/kv/range", req, true, &resp);
	if (rc)
		return rc;
	out->rev = j_i64(j_get(resp, "header"), "revision");
	out->more = j_bool(resp, "more");
	rc = kvs_append(out, j_get(resp, "kvs"));
	json_object_put(resp);
	return rc;
}

int etcd_range(struct etcd *c, const void *key, size_t key_len, const void *end, size_t end_len,
	       unsigned limit, struct etcd_kvs *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = range_call(c, key, key_len, end, end_len, limit, 0, out);
	if (rc)
		etcd_kvs_free(out);
	return rc;
}

int etcd_range_all(struct etcd *c, const void *key, size_t key_len, const void *end, size_t end_len,
		   unsigned page, struct etcd_kvs *out)
{
	char *from = NULL;
	size_t from_len = 0;
	int64_t rev = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	do {
		size_t had = out->n;

		rc = range_call(c, from ? from : key, from ? from_len : key_len, end, end_len, page,
				rev, out);
		free(from);
		from = NULL;
		if (rc)
			break;
		rev = out->rev; /* every page at the first one's revision: one consistent view */
		if (out->more && out->n > had) {
			/* the next page starts just after the last key: that key and a NUL */
			const struct etcd_kv *last = &out->kvs[out->n - 1];

			from_len = last->key_len + 1;
			from = malloc(from_len);
			if (!from) {
				rc = -ENOMEM;
				break;
			}
			memcpy(from, last->key, last->key_len);
			from[last->key_len] = '\0';
		}
	} while (from);
	if (rc)
		etcd_kvs_free(out);
	out->more = false;
	return rc;
}

size_t etcd_prefix_end(const void *prefix, size_t len, char *end)
{
	memcpy(end, prefix, len);
	while (len > 0) {
		unsigned char ch = (unsigned char)end[len - 1];

		if (ch < 0xff) {
			end[len - 1] = (char)(ch + 1);
			return len;
		}
		len--; /* 0xff cannot be incremented: shorten and carry */
	}
	return 0;
}

long etcd_delete(struct etcd *c, const void *key, size_t key_len, const void *end, size_t end_len,
		 int64_t *rev)
{
	json_object *req = json_object_new_object(), *resp;
	long n;
	int rc;

	if (!req)
		return -ENOMEM;
	rc = j_add_range(req, key, key_len, end, end_len);
	if (rc) {
		json_object_put(req);
		return rc;
	}
	rc = call(c, "/v3/kv/deleterange", req, false, &resp);
	if (rc)
		return rc;
	n = (long)j_i64(resp, "deleted");
	if (rev)
		*rev = j_i64(j_get(resp, "header"), "revision");
	json_object_put(resp);
	return n;
}

static const char *const target_names[] = { "VERSION", "CREATE", "MOD", "VALUE", "LEASE" };
static const char *const target_fields[] = { "version", "create_revision", "mod_revision", "value",
					     "lease" };
static const char *const result_names[] = { "EQUAL", "GREATER", "LESS", "NOT_EQUAL" };

static json_object *compare_json(const struct etcd_compare *k)
{
	json_object *o = json_object_new_object();
	int rc;

	if (!o)
		return NULL;
	rc = j_add_range(o, k->key, k->key_len, k->end, k->end_len);
	if (rc == 0)
		rc = j_add_str(o, "target", target_names[k->target]);
	if (rc == 0)
		rc = j_add_str(o, "result", result_names[k->result]);
	if (rc == 0 && k->target == ETCD_VALUE)
		rc = j_add_b64(o, "value", k->value, k->value_len);
	else if (rc == 0)
		rc = j_add_i64(o, target_fields[k->target], k->number);
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *op_json(const struct etcd_op *op)
{
	json_object *o = json_object_new_object(), *inner = json_object_new_object();
	const char *name;
	int rc;

	if (!o || !inner)
		goto fail;
	rc = j_add_range(inner, op->key, op->key_len, op->kind == ETCD_OP_PUT ? NULL : op->end,
			 op->end_len);
	switch (op->kind) {
	case ETCD_OP_PUT:
		name = "request_put";
		if (rc == 0)
			rc = j_add_b64(inner, "value", op->value, op->value_len);
		if (rc == 0 && op->lease)
			rc = j_add_i64(inner, "lease", op->lease);
		break;
	case ETCD_OP_DELETE:
		name = "request_delete_range";
		break;
	default:
		name = "request_range";
		break;
	}
	if (rc || json_object_object_add(o, name, inner) != 0)
		goto fail;
	return o;
fail:
	json_object_put(inner);
	json_object_put(o);
	return NULL;
}

/* Add an array of n items made by make to obj as key. */
static int j_add_array(json_object *obj, const char *key, const void *items, size_t size, size_t n,
		       json_object *(*make)(const void *item))
{
	json_object *arr = json_object_new_array();

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *it = make((const char *)items + i * size);

		if (!it || json_object_array_add(arr, it) != 0) {
			json_object_put(it);
			json_object_put(arr);
			return -ENOMEM;
		}
	}
	if (json_object_object_add(obj, key, arr) != 0) {
		json_object_put(arr);
		return -ENOMEM;
	}
	return 0;
}

static json_object *compare_item(const void *k)
{
	return compare_json(k);
}

static json_object *op_item(const void *op)
{
	return op_json(op);
}

int etcd_txn(struct etcd *c, const struct etcd_txn *t, int64_t *rev, struct etcd_kvs *ranges)
{
	json_object *req = json_object_new_object(), *resp, *responses;
	int rc, succeeded;

	if (ranges)
		memset(ranges, 0, sizeof(*ranges));
	if (!req)
		return -ENOMEM;
	rc = j_add_array(req, "compare", t->cmp, sizeof(*t->cmp), t->ncmp, compare_item);
	if (rc == 0)
		rc = j_add_array(req, "success", t->success, sizeof(*t->success), t->nsuccess,
				 op_item);
	if (rc == 0)
		rc = j_add_array(req, "failure", t->failure, sizeof(*t->failure), t->nfailure,
				 op_item);
	if (rc) {
		json_object_put(req);
		return rc;
	}
	rc = call(c, "/v3/kv/txn", req, false, &resp);
	if (rc)
		return rc;
	succeeded = j_bool(resp, "succeeded");
	if (rev)
		*rev = j_i64(j_get(resp, "header"), "revision");
	responses = j_get(resp, "responses");
	for (size_t i = 0; ranges && responses && i < json_object_array_length(responses); i++) {
		json_object *r = j_get(json_object_array_get_idx(responses, i), "response_range");

		if (r && (rc = kvs_append(ranges, j_get(r, "kvs"))) != 0) {
			etcd_kvs_free(ranges);
			break;
		}
		if (r)
			ranges->rev = j_i64(j_get(resp, "header"), "revision");
	}
	json_object_put(resp);
	return rc ? rc : succeeded;
}

int etcd_lease_grant(struct etcd *c, unsigned ttl, int64_t *id)
{
	json_object *req = json_object_new_object(), *resp;
	int rc;

	if (!req)
		return -ENOMEM;
	if (ttl == 0 || j_add_i64(req, "TTL", ttl) != 0) {
		json_object_put(req);
		return ttl ? -ENOMEM : -EINVAL;
	}
	rc = call(c, "/v3/lease/grant", req, false, &resp);
	if (rc)
		return rc;
	*id = j_i64(resp, "ID");
	json_object_put(resp);
	return *id ? 0 : -EIO;
}

long etcd_lease_keepalive(struct etcd *c, int64_t id)
{
	json_object *req = json_object_new_object(), *resp;
	long ttl;
	int rc;

	if (!req)
		return -ENOMEM;
	if (j_add_i64(req, "ID", id) != 0) {
		json_object_put(req);
		return -ENOMEM;
	}
	rc = call(c, "/v3/lease/keepalive", req, true, &resp);
	if (rc)
		return rc;
	/* a streaming call: the gateway answers {"result": {...}}; an expired lease has TTL 0
	 * (absent) */
	ttl = (long)j_i64(j_get(resp, "result"), "TTL");
	json_object_put(resp);
	return ttl > 0 ? ttl : -ENOENT;
}

int etcd_lease_revoke(struct etcd *c, int64_t id)
{
	json_object *req = json_object_new_object(), *resp;
	int rc;

	if (!req)
		return -ENOMEM;
	if (j_add_i64(req, "ID", id) != 0) {
		json_object_put(req);
		return -ENOMEM;
	}
	rc = call(c, "/v3/lease/revoke", req, false, &resp);
	if (rc == 0)
		json_object_put(resp);
	return rc;
}

int etcd_compact(struct etcd *c, int64_t rev)
{
	json_object *req = json_object_new_object(), *resp;
	int rc;

	if (!req)
		return -ENOMEM;
	if (j_add_i64(req, "revision", rev) != 0) {
		json_object_put(req);
		return -ENOMEM;
	}
	/* compacting twice to one revision is refused (OUT_OF_RANGE), not harmful: idempotent */
	rc = call(c, "/v3/kv/compaction", req, true, &resp);
	if (rc == 0)
		json_object_put(resp);
	return rc;
}

/* ---- watches ---- */

/* One line of a watch stream: report its events, or note that the stream is over. */
static void watch_line(struct etcd_watch *w, const char *text)
{
	json_object *j = json_tokener_parse(text), *res = j_get(j, "result"), *events;
	struct etcd_kv *kvs;
	size_t n, parsed = 0;
	int64_t compact;

	if (!res) {
		w->failed = 1; /* {"error": ...}: the member cannot go on */
		json_object_put(j);
		return;
	}
	if (j_bool(res, "created") && w->next_rev == 0) {
		/* "from now": should the member fail us before the first change, go on from
		 * here, not from whenever the next member answers */
		w->next_rev = j_i64(j_get(res, "header"), "revision") + 1;
	}
	compact = j_i64(res, "compact_revision");
	if (compact > 0) {
		/* what we asked for is gone: the caller must read afresh from here on */
		w->fn(w->ctx, NULL, compact);
		w->next_rev = compact;
	}
	if (j_bool(res, "canceled"))
		w->failed = 1;
	events = j_get(res, "events");
	n = events ? json_object_array_length(events) : 0;
	/* the whole line parsed before any of it is reported: a failure half way would report
	 * part of a revision now and all of it again after the resume */
	kvs = n ? calloc(n, sizeof(*kvs)) : NULL;
	if (n && !kvs) {
		w->failed = 1;
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (kv_parse(j_get(json_object_array_get_idx(events, i), "kv"), &kvs[i]) != 0) {
			w->failed = 1;
			parsed = 0;
			break;
		}
		parsed = i + 1;
	}
	if (!w->failed || parsed == n) {
		int64_t last = 0;

		for (size_t i = 0; i < parsed; i++) {
			/* a DELETE event has only key and mod_revision */
			if (kvs[i].mod_rev >= w->next_rev) {
				w->fn(w->ctx, &kvs[i], kvs[i].mod_rev);
				last = kvs[i].mod_rev;
			}
		}
		if (last)
			w->next_rev = last + 1; /* a revision's events come in one line */
	}
	for (size_t i = 0; i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
	json_object_put(j);
}

static size_t watch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct etcd_watch *w = arg;
	size_t n = size * nmemb;

	for (size_t i = 0; i < n; i++) {
		if (w->len + 1 >= w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 4096;
			char *p = realloc(w->line, cap);

			if (!p)
				return 0;
			w->line = p;
			w->cap = cap;
		}
		if (data[i] != '\n') {
			w->line[w->len++] = data[i];
			continue;
		}
		w->line[w->len] = '\0';
		if (w->len)
			watch_line(w, w->line);
		w->len = 0;
	}
	return n;
}

static int watch_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct etcd_watch *w = arg;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE) || w->failed;
}

/* A watch's request headers, or NULL when out of memory (nothing to free). */
static struct curl_slist *watch_headers(void)
{
	struct curl_slist *a = curl_slist_append(NULL, "Content-Type: application/json"), *b;

	if (!a)
		return NULL;
	b = curl_slist_append(a, "Grpc-Metadata-hasleader: true");
	if (!b)
		curl_slist_free_all(a);
	return b;
}

static void *watch_thread(void *arg)
{
	struct etcd_watch *w = arg;
	struct curl_slist *hdr = watch_headers();
	CURL *h = curl_easy_init();
	unsigned e;

	pthread_mutex_lock(&w->c->lock);
	e = w->c->current;
	pthread_mutex_unlock(&w->c->lock);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		json_object *req = json_object_new_object(), *create = json_object_new_object();
		char url[ETCD_URL_MAX + 64];
		const char *text;

		if (!h || !hdr || !req || !create ||
		    json_object_object_add(req, "create_request", create) != 0) {
			/* out of memory: a watch may not end by itself; try again in a moment */
			struct timespec ts = { 0, ETCD_RETRY_MS * 1000000L };

			json_object_put(create);
			json_object_put(req);
			nanosleep(&ts, NULL);
			if (!h)
				h = curl_easy_init();
			if (!hdr)
				hdr = watch_headers();
			continue;
		}
		json_object_object_add(create, "key", json_object_new_string(w->key));
		if (w->end)
			json_object_object_add(create, "range_end", json_object_new_string(w->end));
		if (w->next_rev > 0)
			j_add_i64(create, "start_revision", w->next_rev);
		text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
		snprintf(url, sizeof(url), "%s/v3/watch", w->c->endpoints[e]);
		w->len = 0;
		w->failed = 0;
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, watch_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)w->c->timeout_ms);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		/* a member whose host vanished (no reset, no leader loss) is noticed by TCP */
		curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
		curl_easy_perform(h); /* until the stream ends, fails, or we stop it */
		json_object_put(req);
		if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE))
			break;
		/* the member failed us: the next one, from where we are */
		e = (e + 1) % w->c->nendpoints;
		if (e == 0) {
			struct timespec ts = { 0, ETCD_RETRY_MS * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	curl_slist_free_all(hdr);
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

int etcd_watch_start(struct etcd *c, const void *key, size_t key_len, const void *end,
		     size_t end_len, int64_t start_rev,
		     void (*fn)(void *ctx, const struct etcd_kv *ev, int64_t rev), void *ctx,
		     struct etcd_watch **out)
{
	struct etcd_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->c = c;
	w->fn = fn;
	w->ctx = ctx;
	w->next_rev = start_rev;
	w->key = b64_encode(key, key_len);
	w->end = end ? b64_encode(end, end_len) : NULL;
	if (!w->key || (end && !w->end) || pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
		free(w->key);
		free(w->end);
		free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

void etcd_watch_stop(struct etcd_watch *w)
{
	if (!w)
		return;
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	pthread_join(w->thread, NULL);
	free(w->line);
	free(w->key);
	free(w->end);
	free(w);
}
