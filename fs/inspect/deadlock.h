/* SPDX-License-Identifier: MIT */
/*
 * deadlock.h - deadlock detection with the matrix algorithm (Tanenbaum, Modern Operating
 * Systems, "deadlock detection with multiple resources of each type"), on a snapshot.
 *
 * Resource classes (columns) are the semaphores and mutexes somebody holds or waits for; a
 * semaphore has as many units as its count plus the units processes took with P and have not
 * given back, a mutex has one. Rows are the processes (or, grouped, the process groups) that
 * hold or request units. Then
 *   E[j]    existing units of resource j,       A[j] units free now,
 *   C[i][j] units of j that row i holds,        R[i][j] units of j that row i waits for,
 * and detection repeatedly finds an unfinished row whose R row fits in A, lets it finish
 * (A += its C row), until no row fits: the rows left are deadlocked.
 *
 * Semaphores are also signals: a V may come from any process, not only from one that took
 * units. A row that waits for more units of a semaphore j than all other rows hold plus what
 * is free (R[i][j] > E[j] - C[i][j]) waits for such a V, not for anybody's release; the
 * matrices cannot tell whether it will come, so such a row is marked "waits for a signal" and
 * counted as able to finish (a consumer waiting for an empty queue's semaphore is not
 * deadlocked). Mutexes have no such rule: only their holder gives their unit back.
 *
 * Shared by the daemon (/.ipcfs/deadlock, /.ipcfs/graph.dot) and ipcctl.
 */
#ifndef IPCFS_DEADLOCK_H
#define IPCFS_DEADLOCK_H

#include "snapshot.h"

enum deadlock_rows {
	DEADLOCK_BY_PROCESS, /* one row per process */
	DEADLOCK_BY_PGRP,    /* one row per process group (a shell job and its children) */
};

struct deadlock_row {
	pid_t id;		  /* pid, or pgid when grouped */
	char host[SNAP_HOST_MAX]; /* cluster mode: its host (pids are a host's own); else "" */
	char comm[SNAP_COMM_MAX]; /* its command (grouped: the group leader's, if it takes part) */
	bool finished;		  /* detection let it finish */
	bool signal;		  /* it waits for a V nobody holds units for (see above) */
};

struct deadlock {
	enum deadlock_rows by;
	size_t nres, nrows;
	const struct snap_obj **res; /* the columns, in path order */
	struct deadlock_row *rows;   /* in id order */
	uint64_t *E, *A;	     /* [nres]; A is the free units before detection */
	uint64_t *W;		     /* [nres]: free units once the finished rows gave theirs */
	uint64_t *C, *R;	     /* [nrows * nres], row-major */
	size_t *order;		     /* rows in the order detection let them finish */
	size_t nfinished;
	bool deadlocked; /* some row could not finish */
};

/* The largest matrices built: rows x columns. Beyond (thousands of processes each holding
 * and waiting for one of thousands of objects), C and R alone would take tens of megabytes and
 * their text far more; deadlock_build refuses. */
#define DEADLOCK_MAX_CELLS (1u << 20)

/* deadlock_build - the matrices of s (which must outlive d) and the verdict. Returns 0,
 * -E2BIG (more than DEADLOCK_MAX_CELLS: d holds only nres and nrows, to report) or -ENOMEM
 * (d is then empty). */
int deadlock_build(const struct snapshot *s, enum deadlock_rows by, struct deadlock *d);

/* deadlock_free - free what deadlock_build allocated. */
void deadlock_free(struct deadlock *d);

/* deadlock_write_text - E, A, C, R with labels, the steps of detection and the verdict. */
void deadlock_write_text(const struct deadlock *d, FILE *out);

/* deadlock_write_graph - the resource graph: processes, resources, an edge resource->process
 * per hold and process->resource per wait; a cycle among deadlocked rows is marked. dot:
 * Graphviz DOT, else one line per row and a "cycle:" line. */
void deadlock_write_graph(const struct deadlock *d, FILE *out, bool dot);

#endif /* IPCFS_DEADLOCK_H */
