/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c - the snapshot of a mount's objects: building, text and JSON forms, parsing the
 * text form back. Shared by the daemon and ipcctl; the format is described in snapshot.h.
 */
#include "snapshot.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->nobjs; i++) {
		free(s->objs[i].path);
		free(s->objs[i].holds);
		free(s->objs[i].waits);
	}
	free(s->objs);
	memset(s, 0, sizeof(*s));
}

/* Make room for one more element of size elem in *arr (count used, *cap allocated). */
static bool grow(void **arr, size_t count, size_t *cap, size_t elem)
{
	size_t ncap;
	void *p;

	if (count < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

struct snap_obj *snapshot_add_obj(struct snapshot *s)
{
	struct snap_obj *o;

	if (!grow((void **)&s->objs, s->nobjs, &s->objs_cap, sizeof(*s->objs))) {
		s->incomplete = true;
		return NULL;
	}
	o = &s->objs[s->nobjs++];
	memset(o, 0, sizeof(*o));
	return o;
}

void snap_field_add(struct snap_obj *o, const char *key, uint64_t value)
{
	if (o->nfields == SNAP_MAX_FIELDS)
		return;
	snprintf(o->fields[o->nfields].key, SNAP_KEY_MAX, "%s", key);
	o->fields[o->nfields++].value = value;
}

uint64_t snap_field_get(const struct snap_obj *o, const char *key, uint64_t def)
{
	for (unsigned i = 0; i < o->nfields; i++)
		if (strcmp(o->fields[i].key, key) == 0)
			return o->fields[i].value;
	return def;
}

static struct snap_proc *proc_add(struct snapshot *s, struct snap_proc **arr, size_t *n,
				  size_t *cap, pid_t tid, uint64_t hostid, uint32_t units,
				  struct timespec since)
{
	struct snap_proc *p;

	if (!grow((void **)arr, *n, cap, sizeof(**arr))) {
		s->incomplete = true;
		return NULL;
	}
	p = &(*arr)[(*n)++];
	memset(p, 0, sizeof(*p));
	p->tid = tid;
	p->pid = tid;
	p->pgid = -1;
	strcpy(p->comm, "?");
	p->hostid = hostid;
	p->units = units;
	p->since = since;
	return p;
}

struct snap_proc *snap_hold_add(struct snapshot *s, struct snap_obj *o, pid_t tid, uint64_t hostid,
				uint32_t units, struct timespec since)
{
	return proc_add(s, &o->holds, &o->nholds, &o->holds_cap, tid, hostid, units, since);
}

struct snap_proc *snap_wait_add(struct snapshot *s, struct snap_obj *o, pid_t tid, uint64_t hostid,
				const char *op, uint32_t units, struct timespec since)
{
	struct snap_proc *p =
		proc_add(s, &o->waits, &o->nwaits, &o->waits_cap, tid, hostid, units, since);

	if (p)
		snprintf(p->op, sizeof(p->op), "%s", op);
	return p;
}

static int obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap_obj *)a)->path, ((const struct snap_obj *)b)->path);
}

void snapshot_sort(struct snapshot *s)
{
	if (s->nobjs > 1)
		qsort(s->objs, s->nobjs, sizeof(*s->objs), obj_cmp);
}

struct snap_obj *snapshot_find(const struct snapshot *s, const char *path)
{
	for (size_t i = 0; i < s->nobjs; i++)
		if (strcmp(s->objs[i].path, path) == 0)
			return &s->objs[i];
	return NULL;
}

/* ---- text ---- */

void snap_escape(FILE *out, const char *str)
{
	for (const unsigned char *c = (const unsigned char *)str; *c; c++) {
		if (*c <= ' ' || *c == '\\' || *c == 0x7f)
			fprintf(out, "\\%03o", *c);
		else
			fputc(*c, out);
	}
}

void snap_escape_str(char *out, size_t len, const char *str)
{
	size_t n = 0;

	if (len == 0)
		return;
	for (const unsigned char *c = (const unsigned char *)str; *c; c++) {
		bool esc = *c <= ' ' || *c == '\\' || *c == 0x7f;

		if (n + (esc ? 4 : 1) >= len)
			break;
		if (esc)
			n += (size_t)snprintf(out + n, len - n, "\\%03o", *c);
		else
			out[n++] = (char)*c;
	}
	out[n] = '\0';
}

static void write_time(FILE *out, const char *key, struct timespec t)
{
	fprintf(out, " %s=%lld.%06ld", key, (long long)t.tv_sec, t.tv_nsec / 1000);
}

static void write_proc_text(FILE *out, const char *kind, const struct snap_obj *o,
			    const struct snap_proc *p)
{
	fprintf(out, "%s path=", kind);
	snap_escape(out, o->path);
	fprintf(out, " pid=%d tid=%d pgid=%d comm=", (int)p->pid, (int)p->tid, (int)p->pgid);
	snap_escape(out, p->comm);
	if (p->host[0]) {
		fputs(" host=", out);
		snap_escape(out, p->host);
	}
	if (p->op[0])
		fprintf(out, " op=%s", p->op);
	fprintf(out, " units=%u", p->units);
	write_time(out, "since", p->since);
	fputc('\n', out);
}

void snapshot_write_text(const struct snapshot *s, FILE *out)
{
	fprintf(out, "ipcfs-status version=%d", SNAPSHOT_VERSION);
	write_time(out, "time", s->time);
	fprintf(out, " objects=%llu memory=%llu max_objects=%llu max_memory=%llu parked=%llu%s\n",
		(unsigned long long)s->objects, (unsigned long long)s->memory,
		(unsigned long long)s->max_objects, (unsigned long long)s->max_memory,
		(unsigned long long)s->parked, s->incomplete ? " incomplete=1" : "");
	for (size_t i = 0; i < s->nobjs; i++) {
		const struct snap_obj *o = &s->objs[i];

		fprintf(out, "object type=%s path=", o->type);
		snap_escape(out, o->path);
		fprintf(out, " mode=%04o uid=%u gid=%u opens=%u ops=%llu", o->mode, o->uid, o->gid,
			o->opens, (unsigned long long)o->ops);
		for (unsigned f = 0; f < o->nfields; f++)
			fprintf(out, " %s=%llu", o->fields[f].key,
				(unsigned long long)o->fields[f].value);
		if (o->resource)
			fprintf(out, " available=%llu", (unsigned long long)o->available);
		fprintf(out, " holders=%zu waiters=%zu\n", o->nholds, o->nwaits);
		for (size_t k = 0; k < o->nholds; k++)
			write_proc_text(out, "hold", o, &o->holds[k]);
		for (size_t k = 0; k < o->nwaits; k++)
			write_proc_text(out, "wait", o, &o->waits[k]);
	}
}

/* ---- JSON ---- */

/* The length of the valid UTF-8 sequence at c (1 to 4), or 0 if it is none. */
static size_t utf8_len(const unsigned char *c)
{
	size_t n;
	uint32_t cp;

	if (c[0] < 0x80)
		return 1;
	if ((c[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = c[0] & 0x1f;
	} else if ((c[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = c[0] & 0x0f;
	} else if ((c[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = c[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((c[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		cp = cp << 6 | (c[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing beyond U+10FFFF */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* A JSON string. Names are bytes, JSON is Unicode: a byte that is not part of valid UTF-8 is
 * written as the code point of the same value (\u00XX), so the document always parses. */
static void json_string(FILE *out, const char *str)
{
	const unsigned char *c = (const unsigned char *)str;

	fputc('"', out);
	while (*c) {
		size_t n = utf8_len(c);

		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f || n == 0)
			fprintf(out, "\\u%04x", *c);
		else
			fwrite(c, 1, n, out);
		c += n ? n : 1;
	}
	fputc('"', out);
}

static void json_time(FILE *out, struct timespec t)
{
	fprintf(out, "%lld.%06ld", (long long)t.tv_sec, t.tv_nsec / 1000);
}

static void write_procs_json(FILE *out, const struct snap_proc *p, size_t n)
{
	fputc('[', out);
	for (size_t k = 0; k < n; k++, p++) {
		fprintf(out, "%s{\"pid\":%d,\"tid\":%d,\"pgid\":%d,\"comm\":", k ? "," : "",
			(int)p->pid, (int)p->tid, (int)p->pgid);
		json_string(out, p->comm);
		if (p->host[0]) {
			fputs(",\"host\":", out);
			json_string(out, p->host);
		}
		if (p->op[0]) {
			fputs(",\"op\":", out);
			json_string(out, p->op);
		}
		fprintf(out, ",\"units\":%u,\"since\":", p->units);
		json_time(out, p->since);
		fputc('}', out);
	}
	fputc(']', out);
}

void snapshot_write_obj_json(const struct snap_obj *o, FILE *out)
{
	fputs("{\"type\":", out);
	json_string(out, o->type);
	fputs(",\"path\":", out);
	json_string(out, o->path);
	fprintf(out,
		",\"mode\":\"%04o\",\"uid\":%u,\"gid\":%u,\"opens\":%u,\"ops\":%llu,\"state\":{",
		o->mode, o->uid, o->gid, o->opens, (unsigned long long)o->ops);
	for (unsigned f = 0; f < o->nfields; f++) {
		fputs(f ? "," : "", out);
		json_string(out, o->fields[f].key); /* a parsed file's keys may hold anything */
		fprintf(out, ":%llu", (unsigned long long)o->fields[f].value);
	}
	if (o->resource)
		fprintf(out, "%s\"available\":%llu", o->nfields ? "," : "",
			(unsigned long long)o->available);
	fputs("},\"holders\":", out);
	write_procs_json(out, o->holds, o->nholds);
	fputs(",\"waiters\":", out);
	write_procs_json(out, o->waits, o->nwaits);
	fputc('}', out);
}

void snapshot_write_json(const struct snapshot *s, FILE *out)
{
	fprintf(out, "{\"version\":%d,\"time\":", SNAPSHOT_VERSION);
	json_time(out, s->time);
	fprintf(out,
		",\"totals\":{\"objects\":%llu,\"memory\":%llu,\"max_objects\":%llu,"
		"\"max_memory\":%llu,\"parked\":%llu},\"incomplete\":%s,\"objects\":[",
		(unsigned long long)s->objects, (unsigned long long)s->memory,
		(unsigned long long)s->max_objects, (unsigned long long)s->max_memory,
		(unsigned long long)s->parked, s->incomplete ? "true" : "false");
	for (size_t i = 0; i < s->nobjs; i++) {
		fputs(i ? ",\n" : "\n", out);
		snapshot_write_obj_json(&s->objs[i], out);
	}
	fputs("\n]}\n", out);
}

/* ---- parsing the text form ---- */

/* Undo snap_escape in place. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static struct timespec parse_time(const char *v)
{
	struct timespec t = { 0, 0 };
	char *end;

	t.tv_sec = strtoll(v, &end, 10);
	if (*end == '.') {
		long us = 0;
		int digits = 0;

		for (end++; isdigit((unsigned char)*end) && digits < 6; end++, digits++)
			us = us * 10 + (*end - '0');
		for (; digits < 6; digits++)
			us *= 10;
		t.tv_nsec = us * 1000;
	}
	return t;
}

static uint64_t num(const char *v)
{
	return strtoull(v, NULL, 10);
}

/* Split line into its space-separated "key=value" fields; call fn for each. */
#define MAX_TOKENS (SNAP_MAX_FIELDS + 16)

struct token {
	char *key, *value;
};

static size_t tokenize(char *line, struct token *tok)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(line, " \n", &save); t && n < MAX_TOKENS;
	     t = strtok_r(NULL, " \n", &save)) {
		char *eq = strchr(t, '=');

		tok[n].key = t;
		tok[n].value = eq ? eq + 1 : (char *)"";
		if (eq)
			*eq = '\0';
		n++;
	}
	return n;
}

static void parse_proc(struct snap_proc *p, struct token *tok, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		const char *k = tok[i].key;
		char *v = tok[i].value;

		if (strcmp(k, "pid") == 0)
			p->pid = (pid_t)strtol(v, NULL, 10);
		else if (strcmp(k, "tid") == 0)
			p->tid = (pid_t)strtol(v, NULL, 10);
		else if (strcmp(k, "pgid") == 0)
			p->pgid = (pid_t)strtol(v, NULL, 10);
		else if (strcmp(k, "comm") == 0) {
			unescape(v);
			snprintf(p->comm, sizeof(p->comm), "%s", v);
		} else if (strcmp(k, "host") == 0) {
			unescape(v);
			snprintf(p->host, sizeof(p->host), "%s", v);
		} else if (strcmp(k, "op") == 0)
			snprintf(p->op, sizeof(p->op), "%s", v);
		else if (strcmp(k, "units") == 0)
			p->units = (uint32_t)num(v);
		else if (strcmp(k, "since") == 0)
			p->since = parse_time(v);
	}
}

static int parse_object(struct snapshot *s, struct token *tok, size_t n)
{
	struct snap_obj *o = snapshot_add_obj(s);

	if (!o)
		return -ENOMEM;
	for (size_t i = 1; i < n; i++) {
		const char *k = tok[i].key;
		char *v = tok[i].value;

		if (strcmp(k, "type") == 0) {
			snprintf(o->type, sizeof(o->type), "%s", v);
		} else if (strcmp(k, "path") == 0) {
			unescape(v);
			free(o->path);
			o->path = strdup(v);
			if (!o->path)
				return -ENOMEM;
		} else if (strcmp(k, "mode") == 0) {
			o->mode = (uint32_t)strtoul(v, NULL, 8);
		} else if (strcmp(k, "uid") == 0) {
			o->uid = (uint32_t)num(v);
		} else if (strcmp(k, "gid") == 0) {
			o->gid = (uint32_t)num(v);
		} else if (strcmp(k, "opens") == 0) {
			o->opens = (uint32_t)num(v);
		} else if (strcmp(k, "ops") == 0) {
			o->ops = num(v);
		} else if (strcmp(k, "available") == 0) {
			o->resource = true;
			o->available = num(v);
		} else if (strcmp(k, "holders") != 0 && strcmp(k, "waiters") != 0) {
			snap_field_add(o, k, num(v));
		}
	}
	if (!o->path) {
		o->path = strdup("?");
		if (!o->path)
			return -ENOMEM;
	}
	return 0;
}

int snapshot_parse(FILE *in, struct snapshot *s)
{
	struct token tok[MAX_TOKENS];
	char *line = NULL;
	size_t cap = 0;
	bool header = false;
	int rc = 0;

	while (rc == 0 && getline(&line, &cap, in) > 0) {
		size_t n = tokenize(line, tok);
		struct snap_obj *o = s->nobjs ? &s->objs[s->nobjs - 1] : NULL;
		struct snap_proc *p;

		if (n == 0)
			continue;
		if (!header) {
			if (strcmp(tok[0].key, "ipcfs-status") != 0) {
				rc = -EPROTO;
				break;
			}
			header = true;
			for (size_t i = 1; i < n; i++) {
				const char *k = tok[i].key, *v = tok[i].value;

				if (strcmp(k, "time") == 0)
					s->time = parse_time(v);
				else if (strcmp(k, "objects") == 0)
					s->objects = num(v);
				else if (strcmp(k, "memory") == 0)
					s->memory = num(v);
				else if (strcmp(k, "max_objects") == 0)
					s->max_objects = num(v);
				else if (strcmp(k, "max_memory") == 0)
					s->max_memory = num(v);
				else if (strcmp(k, "parked") == 0)
					s->parked = num(v);
				else if (strcmp(k, "incomplete") == 0)
					s->incomplete = num(v) != 0;
			}
		} else if (strcmp(tok[0].key, "object") == 0) {
			rc = parse_object(s, tok, n);
		} else if (o &&
			   (strcmp(tok[0].key, "hold") == 0 || strcmp(tok[0].key, "wait") == 0)) {
			/* records of an object follow it */
			p = tok[0].key[0] == 'h'
				    ? snap_hold_add(s, o, 0, 0, 0, (struct timespec){ 0, 0 })
				    : snap_wait_add(s, o, 0, 0, "", 0, (struct timespec){ 0, 0 });
			if (!p)
				rc = -ENOMEM;
			else
				parse_proc(p, tok, n);
		}
	}
	free(line);
	if (rc == 0 && !header)
		rc = -EPROTO;
	return rc;
}
