/* SPDX-License-Identifier: MIT */
/*
 * deadlock.c - the matrices E, A, C, R of a snapshot, detection, and the resource graph.
 * See deadlock.h for the model.
 */
#include "deadlock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The row key of a holder or waiter: its process, or its process group when grouped (a
 * process that has exited has no group any more: it stays a row of its own); and in cluster
 * mode its host (snap_proc.host), since pids are a host's own. */
static pid_t row_key(const struct deadlock *d, const struct snap_proc *p)
{
	return d->by == DEADLOCK_BY_PGRP && p->pgid > 0 ? p->pgid : p->pid;
}

static bool takes_part(const struct snap_obj *o)
{
	if (!o->resource)
		return false;
	for (size_t k = 0; k < o->nholds; k++)
		if (o->holds[k].units)
			return true;
	for (size_t k = 0; k < o->nwaits; k++)
		if (o->waits[k].units)
			return true;
	return false;
}

/* Rows in order of (host, id). */
static int key_cmp(const char *xhost, pid_t x, const char *yhost, pid_t y)
{
	int h = strcmp(xhost, yhost);

	return h ? h : (x > y) - (x < y);
}

static int row_cmp(const void *a, const void *b)
{
	const struct deadlock_row *x = a, *y = b;

	return key_cmp(x->host, x->id, y->host, y->id);
}

/* The row of holder or waiter p (there is one: every one taking part made one). */
static size_t row_index(const struct deadlock *d, const struct snap_proc *p)
{
	struct deadlock_row key = { .id = row_key(d, p) };
	struct deadlock_row *r;

	memcpy(key.host, p->host, sizeof(key.host));
	r = bsearch(&key, d->rows, d->nrows, sizeof(*d->rows), row_cmp);
	return (size_t)(r - d->rows);
}

/* A holder or waiter taking part, while the rows are collected. */
struct member {
	pid_t id;   /* its row's key, with p->host */
	size_t seq; /* the order it was met in */
	const struct snap_proc *p;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int k = key_cmp(x->p->host, x->id, y->p->host, y->id);

	return k ? k : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The rows, in id order, from the members (sorted here): one per key, named after the group
 * leader when it takes part (grouped), else after the first member met. */
static void rows_from(struct deadlock *d, struct member *m, size_t n)
{
	qsort(m, n, sizeof(*m), member_cmp);
	for (size_t i = 0; i < n;) {
		struct deadlock_row *r = &d->rows[d->nrows++];
		const struct snap_proc *name = m[i].p;
		size_t k = i;

		for (; k < n && key_cmp(m[k].p->host, m[k].id, m[i].p->host, m[i].id) == 0; k++)
			if (m[k].p->pid == m[i].id && name->pid != m[i].id)
				name = m[k].p;
		r->id = m[i].id;
		memcpy(r->host, m[i].p->host, sizeof(r->host));
		snprintf(r->comm, sizeof(r->comm), "%s", name->comm);
		i = k;
	}
}

static void detect(struct deadlock *d)
{
	bool progress = true;

	memcpy(d->W, d->A, d->nres * sizeof(*d->W));
	/* only a semaphore can get units from a V of anybody: a mutex's one unit comes back
	 * from its holder alone, even when that is the waiting row itself (a self-deadlock) */
	for (size_t i = 0; i < d->nrows; i++)
		for (size_t j = 0; j < d->nres; j++)
			if (strcmp(d->res[j]->type, "sem") == 0 &&
			    d->R[i * d->nres + j] > d->E[j] - d->C[i * d->nres + j])
				d->rows[i].signal = true;
	for (size_t first = 0; progress;) {
		progress = false;
		/* rows before first have all finished: the scan may start there */
		while (first < d->nrows && d->rows[first].finished)
			first++;
		for (size_t i = first; i < d->nrows; i++) {
			bool fits = !d->rows[i].finished;

			for (size_t j = 0; fits && !d->rows[i].signal && j < d->nres; j++)
				fits = d->R[i * d->nres + j] <= d->W[j];
			if (!fits)
				continue;
			for (size_t j = 0; j < d->nres; j++)
				d->W[j] += d->C[i * d->nres + j];
			d->rows[i].finished = true;
			d->order[d->nfinished++] = i;
			progress = true;
			break; /* rescan from the first row, as the textbook does */
		}
	}
	d->deadlocked = d->nfinished < d->nrows;
}

int deadlock_build(const struct snapshot *s, enum deadlock_rows by, struct deadlock *d)
{
	size_t maxrows = 0, nmembers = 0;
	struct member *members;

	memset(d, 0, sizeof(*d));
	d->by = by;
	for (size_t i = 0; i < s->nobjs; i++)
		if (takes_part(&s->objs[i])) {
			d->nres++;
			maxrows += s->objs[i].nholds + s->objs[i].nwaits;
		}
	d->res = calloc(d->nres + 1, sizeof(*d->res));
	d->rows = calloc(maxrows + 1, sizeof(*d->rows));
	members = calloc(maxrows + 1, sizeof(*members));
	if (!d->res || !d->rows || !members) {
		free(members);
		goto nomem;
	}
	d->nres = 0;
	for (size_t i = 0; i < s->nobjs; i++) {
		const struct snap_obj *o = &s->objs[i];

		if (!takes_part(o))
			continue;
		d->res[d->nres++] = o;
		for (size_t k = 0; k < o->nholds + o->nwaits; k++) {
			const struct snap_proc *p =
				k < o->nholds ? &o->holds[k] : &o->waits[k - o->nholds];

			if (!p->units)
				continue;
			members[nmembers] = (struct member){ row_key(d, p), nmembers, p };
			nmembers++;
		}
	}
	/* sorting, not a search per member: 10,000 waiters make 10,000 rows */
	rows_from(d, members, nmembers);
	free(members);
	if (d->nres && d->nrows > DEADLOCK_MAX_CELLS / d->nres) {
		size_t nres = d->nres, nrows = d->nrows;

		deadlock_free(d);
		d->nres = nres;
		d->nrows = nrows;
		return -E2BIG;
	}

	d->E = calloc(d->nres + 1, sizeof(*d->E));
	d->A = calloc(d->nres + 1, sizeof(*d->A));
	d->W = calloc(d->nres + 1, sizeof(*d->W));
	d->C = calloc(d->nrows * d->nres + 1, sizeof(*d->C));
	d->R = calloc(d->nrows * d->nres + 1, sizeof(*d->R));
	d->order = calloc(d->nrows + 1, sizeof(*d->order));
	if (!d->E || !d->A || !d->W || !d->C || !d->R || !d->order)
		goto nomem;
	for (size_t j = 0; j < d->nres; j++) {
		const struct snap_obj *o = d->res[j];

		d->A[j] = o->available;
		d->E[j] = o->available;
		for (size_t k = 0; k < o->nholds; k++) {
			size_t i;

			if (!o->holds[k].units)
				continue; /* no row was made for it (a parsed file may say so) */
			i = row_index(d, &o->holds[k]);
			d->E[j] += o->holds[k].units;
			d->C[i * d->nres + j] += o->holds[k].units;
		}
		for (size_t k = 0; k < o->nwaits; k++)
			if (o->waits[k].units) {
				size_t i = row_index(d, &o->waits[k]);

				d->R[i * d->nres + j] += o->waits[k].units;
			}
	}
	detect(d);
	return 0;

nomem:
	deadlock_free(d);
	return -ENOMEM;
}

void deadlock_free(struct deadlock *d)
{
	free(d->res);
	free(d->rows);
	free(d->E);
	free(d->A);
	free(d->W);
	free(d->C);
	free(d->R);
	free(d->order);
	memset(d, 0, sizeof(*d));
}

/* ---- text ---- */

static void write_vector(FILE *out, const uint64_t *v, size_t n)
{
	fputc('(', out);
	for (size_t j = 0; j < n; j++)
		fprintf(out, "%s%llu", j ? " " : "", (unsigned long long)v[j]);
	fputc(')', out);
}

static const char *row_word(const struct deadlock *d)
{
	return d->by == DEADLOCK_BY_PGRP ? "pgid" : "pid";
}

/* The id of row i: "1234", or in cluster mode "HOST:1234" (escaped, as snapshot.h says). */
#define ROW_ID_MAX (4 * SNAP_HOST_MAX + 16)
static const char *row_id(const struct deadlock *d, size_t i, char *out)
{
	char host[4 * SNAP_HOST_MAX];

	if (!d->rows[i].host[0]) {
		snprintf(out, ROW_ID_MAX, "%d", (int)d->rows[i].id);
		return out;
	}
	snap_escape_str(host, sizeof(host), d->rows[i].host);
	snprintf(out, ROW_ID_MAX, "%s:%d", host, (int)d->rows[i].id);
	return out;
}

/* The label of row i in the matrices: "P1 1234 bash", the command escaped (snapshot.h). */
static void row_label(const struct deadlock *d, size_t i, char *out, size_t len)
{
	char comm[4 * SNAP_COMM_MAX], id[ROW_ID_MAX];

	snap_escape_str(comm, sizeof(comm), d->rows[i].comm);
	snprintf(out, len, "P%zu %s %s", i + 1, row_id(d, i, id), comm);
}

/* One matrix with its column labels R1.. and row labels P1.. (pid comm). */
static void write_matrix(const struct deadlock *d, FILE *out, const char *title, const uint64_t *m)
{
	int width = 2, label = 0;
	char lab[128 + ROW_ID_MAX];

	for (size_t j = 0; j < d->nres; j++) {
		int w = snprintf(NULL, 0, "R%zu", j + 1);

		width = w > width ? w : width;
	}
	for (size_t i = 0; i < d->nrows * d->nres; i++) {
		int w = snprintf(NULL, 0, "%llu", (unsigned long long)m[i]);

		width = w > width ? w : width;
	}
	for (size_t i = 0; i < d->nrows; i++) {
		int w;

		row_label(d, i, lab, sizeof(lab));
		w = (int)strlen(lab);
		label = w > label ? w : label;
	}
	fprintf(out, "%s =\n  %*s", title, label, "");
	for (size_t j = 0; j < d->nres; j++) {
		char col[24];

		snprintf(col, sizeof(col), "R%zu", j + 1);
		fprintf(out, " %*s", width, col);
	}
	fputc('\n', out);
	for (size_t i = 0; i < d->nrows; i++) {
		row_label(d, i, lab, sizeof(lab));
		fprintf(out, "  %-*s", label, lab);
		for (size_t j = 0; j < d->nres; j++)
			fprintf(out, " %*llu", width, (unsigned long long)m[i * d->nres + j]);
		fputc('\n', out);
	}
}

/* "holds /a, /b x2; waits for /c" of row i. */
static void write_row_resources(const struct deadlock *d, FILE *out, size_t i)
{
	const char *sep = "holds ";
	bool any = false;

	for (size_t j = 0; j < d->nres; j++) {
		uint64_t c = d->C[i * d->nres + j];

		if (!c)
			continue;
		fprintf(out, "%s", sep);
		snap_escape(out, d->res[j]->path);
		if (c > 1)
			fprintf(out, " x%llu", (unsigned long long)c);
		sep = ", ";
		any = true;
	}
	sep = any ? "; waits for " : "waits for ";
	for (size_t j = 0; j < d->nres; j++) {
		uint64_t r = d->R[i * d->nres + j];

		if (!r)
			continue;
		fprintf(out, "%s", sep);
		snap_escape(out, d->res[j]->path);
		if (r > 1)
			fprintf(out, " x%llu", (unsigned long long)r);
		sep = ", ";
	}
}

void deadlock_write_text(const struct deadlock *d, FILE *out)
{
	uint64_t *work;
	char id[ROW_ID_MAX];

	fprintf(out, "Deadlock detection, one row per %s\n",
		d->by == DEADLOCK_BY_PGRP ? "process group" : "process");
	if (d->nres == 0) {
		fputs("No process holds or waits for a semaphore or mutex.\nVerdict: no deadlock\n",
		      out);
		return;
	}
	fputs("Resources (columns):\n", out);
	for (size_t j = 0; j < d->nres; j++) {
		fprintf(out, "  R%zu %s ", j + 1, d->res[j]->type);
		snap_escape(out, d->res[j]->path);
		fputc('\n', out);
	}
	fputs("Processes (rows):\n", out);
	for (size_t i = 0; i < d->nrows; i++) {
		fprintf(out, "  P%zu %s %s ", i + 1, row_word(d), row_id(d, i, id));
		snap_escape(out, d->rows[i].comm);
		fputc('\n', out);
	}
	fputs("E = ", out);
	write_vector(out, d->E, d->nres);
	fputs("\nA = ", out);
	write_vector(out, d->A, d->nres);
	fputc('\n', out);
	write_matrix(d, out, "C", d->C);
	write_matrix(d, out, "R", d->R);

	/* replay the steps for the reader */
	fputs("Detection:\n", out);
	work = malloc(d->nres * sizeof(*work));
	if (work) {
		memcpy(work, d->A, d->nres * sizeof(*work));
		for (size_t k = 0; k < d->nfinished; k++) {
			size_t i = d->order[k];

			fprintf(out, "  P%zu %s: its request ", i + 1,
				d->rows[i].signal ? "waits for a signal, assumed to finish"
						  : "can finish");
			write_vector(out, d->R + i * d->nres, d->nres);
			fputs(d->rows[i].signal ? " exceeds what the others hold and A " : " <= A ",
			      out);
			write_vector(out, work, d->nres);
			for (size_t j = 0; j < d->nres; j++)
				work[j] += d->C[i * d->nres + j];
			fputs("; then A = ", out);
			write_vector(out, work, d->nres);
			fputc('\n', out);
		}
		free(work);
	}
	if (!d->deadlocked) {
		fputs("Verdict: no deadlock; the processes can finish in the order", out);
		for (size_t k = 0; k < d->nfinished; k++)
			fprintf(out, " P%zu", d->order[k] + 1);
		fputc('\n', out);
		return;
	}
	fprintf(out, "  no other request fits in A = ");
	write_vector(out, d->W, d->nres);
	fprintf(out, "\nVerdict: DEADLOCK of %zu %s:\n", d->nrows - d->nfinished,
		d->by == DEADLOCK_BY_PGRP
			? (d->nrows - d->nfinished > 1 ? "process groups" : "process group")
			: (d->nrows - d->nfinished > 1 ? "processes" : "process"));
	for (size_t i = 0; i < d->nrows; i++) {
		if (d->rows[i].finished)
			continue;
		fprintf(out, "  P%zu %s %s ", i + 1, row_word(d), row_id(d, i, id));
		snap_escape(out, d->rows[i].comm);
		fputc(' ', out);
		write_row_resources(d, out, i);
		fputc('\n', out);
	}
}

/* ---- the resource graph ---- */

/*
 * A cycle among the deadlocked rows, as alternating row and resource indexes in cyc (rows at
 * even positions); returns its number of rows, 0 if there is none. A deadlocked row waits
 * for more of some resource than would ever be free (W), so some other deadlocked row holds
 * units of it: following such edges from any deadlocked row must come back to a row seen.
 */
static size_t find_cycle(const struct deadlock *d, size_t *cyc)
{
	size_t *seen_at, len = 0, start = SIZE_MAX, i = SIZE_MAX;

	if (!d->deadlocked)
		return 0;
	seen_at = malloc(d->nrows * sizeof(*seen_at));
	if (!seen_at)
		return 0;
	for (size_t k = 0; k < d->nrows; k++) {
		seen_at[k] = SIZE_MAX;
		if (!d->rows[k].finished && i == SIZE_MAX)
			i = k;
	}
	while (i != SIZE_MAX && seen_at[i] == SIZE_MAX) {
		size_t next = SIZE_MAX, via = SIZE_MAX;

		seen_at[i] = len;
		cyc[2 * len] = i;
		for (size_t j = 0; j < d->nres && next == SIZE_MAX; j++) {
			if (d->R[i * d->nres + j] <= d->W[j])
				continue;
			/* another row holding it, if any; the row itself only when it alone
			 * holds what it waits for (a self-deadlock) */
			for (size_t k = 0; k < d->nrows && next == SIZE_MAX; k++)
				if (k != i && !d->rows[k].finished && d->C[k * d->nres + j]) {
					next = k;
					via = j;
				}
			if (next == SIZE_MAX && d->C[i * d->nres + j]) {
				next = i;
				via = j;
			}
		}
		cyc[2 * len + 1] = via;
		len++;
		if (next != SIZE_MAX && seen_at[next] != SIZE_MAX)
			start = seen_at[next];
		i = next;
	}
	free(seen_at);
	if (start == SIZE_MAX)
		return 0;
	memmove(cyc, cyc + 2 * start, 2 * (len - start) * sizeof(*cyc));
	return len - start;
}

static bool in_cycle(const size_t *cyc, size_t n, size_t row, size_t res, bool wait)
{
	for (size_t k = 0; k < n; k++) {
		size_t r = cyc[2 * k], via = cyc[2 * k + 1], next = cyc[2 * ((k + 1) % n)];

		if (wait && r == row && via == res)
			return true; /* row waits for res */
		if (!wait && next == row && via == res)
			return true; /* res is held by the next row */
	}
	return false;
}

/* str inside a DOT quoted string: quotes and backslashes escaped, control bytes as '?'. */
static void dot_text(FILE *out, const char *str)
{
	for (const unsigned char *c = (const unsigned char *)str; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else
			fputc(*c < 0x20 || *c == 0x7f ? '?' : *c, out);
	}
}

static void write_dot(const struct deadlock *d, FILE *out, const size_t *cyc, size_t n)
{
	fputs("digraph ipcfs {\n\trankdir=LR;\n", out);
	for (size_t i = 0; i < d->nrows; i++) {
		char id[ROW_ID_MAX];

		fprintf(out, "\tp%zu [shape=circle, label=\"%s %s\\n", i + 1, row_word(d),
			row_id(d, i, id));
		dot_text(out, d->rows[i].comm);
		fprintf(out, "\"%s];\n", d->rows[i].finished ? "" : ", color=red");
	}
	for (size_t j = 0; j < d->nres; j++) {
		fprintf(out, "\tr%zu [shape=box, label=\"", j + 1);
		dot_text(out, d->res[j]->path);
		fputs("\"];\n", out);
	}
	for (size_t i = 0; i < d->nrows; i++)
		for (size_t j = 0; j < d->nres; j++) {
			uint64_t c = d->C[i * d->nres + j], r = d->R[i * d->nres + j];

			if (c)
				fprintf(out, "\tr%zu -> p%zu [label=\"holds %llu\"%s];\n", j + 1,
					i + 1, (unsigned long long)c,
					in_cycle(cyc, n, i, j, false) ? ", color=red, penwidth=2"
								      : "");
			if (r)
				fprintf(out,
					"\tp%zu -> r%zu [label=\"wants %llu\", style=dashed%s];\n",
					i + 1, j + 1, (unsigned long long)r,
					in_cycle(cyc, n, i, j, true) ? ", color=red, penwidth=2"
								     : "");
		}
	fputs("}\n", out);
}

void deadlock_write_graph(const struct deadlock *d, FILE *out, bool dot)
{
	size_t *cyc = malloc((2 * d->nrows + 2) * sizeof(*cyc));
	size_t n = cyc ? find_cycle(d, cyc) : 0;
	char id[ROW_ID_MAX];

	if (dot) {
		write_dot(d, out, cyc, n);
		free(cyc);
		return;
	}
	for (size_t i = 0; i < d->nrows; i++) {
		fprintf(out, "%s %s (", row_word(d), row_id(d, i, id));
		snap_escape(out, d->rows[i].comm);
		fputs(") ", out);
		write_row_resources(d, out, i);
		fputc('\n', out);
	}
	if (n) {
		fputs("cycle:", out);
		for (size_t k = 0; k <= n; k++) {
			fprintf(out, " %s %s", row_word(d), row_id(d, cyc[2 * (k % n)], id));
			if (k == n)
				break;
			fputs(" -> ", out);
			snap_escape(out, d->res[cyc[2 * k + 1]]->path);
			fputs(" ->", out);
		}
		fputc('\n', out);
	} else {
		fputs("no cycle\n", out);
	}
	free(cyc);
}
