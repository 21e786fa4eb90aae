/* SPDX-License-Identifier: MIT */
/*
 * test_deadlock.c - deadlock detection (deadlock.h) on snapshots built in memory: the
 * textbook example of Tanenbaum, the five dining philosophers, semaphores used as signals,
 * rows per process or per process group, the resource graph; and the text form of a snapshot
 * (snapshot.h) written and parsed back.
 */
#include "inspect/deadlock.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <stdio.h>

#include "testutil.h"

static const struct timespec T0 = { 1700000000, 123456000 };

/* ---- building snapshots ---- */

/* Append an object; every object is added before the first holder or waiter, since
 * snapshot_add_obj may move the array. Objects are added in path order (as the daemon's
 * snapshot_sort leaves them): the columns come out in that order. */
static struct snap_obj *add_obj(struct snapshot *s, const char *type, const char *path)
{
	struct snap_obj *o = snapshot_add_obj(s);

	assert_non_null(o);
	snprintf(o->type, sizeof(o->type), "%s", type);
	o->path = strdup(path);
	assert_non_null(o->path);
	o->mode = 0644;
	return o;
}

/* A semaphore or mutex with available free units. */
static void add_res(struct snapshot *s, const char *type, const char *path, uint64_t available)
{
	struct snap_obj *o = add_obj(s, type, path);

	o->resource = true;
	o->available = available;
	snap_field_add(o, strcmp(type, "mutex") == 0 ? "locked" : "value",
		       strcmp(type, "mutex") == 0 ? available == 0 : available);
}

static void set_proc(struct snap_proc *p, pid_t pid, pid_t pgid, const char *comm)
{
	assert_non_null(p);
	p->pid = pid;
	p->pgid = pgid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
}

/* Process pid of group pgid, named comm, holds units of object i. */
static void hold(struct snapshot *s, size_t i, pid_t pid, pid_t pgid, const char *comm,
		 uint32_t units)
{
	set_proc(snap_hold_add(s, &s->objs[i], pid, 0, units, T0), pid, pgid, comm);
}

/* ... waits for units of object i with operation op. */
static void want(struct snapshot *s, size_t i, pid_t pid, pid_t pgid, const char *comm,
		 const char *op, uint32_t units)
{
	set_proc(snap_wait_add(s, &s->objs[i], pid, 0, op, units, T0), pid, pgid, comm);
}

/* ---- looking at the result ---- */

enum output { TEXT, GRAPH, DOT };

/* What deadlock_write_text (TEXT) or deadlock_write_graph writes, malloc'd. */
static char *render(const struct deadlock *d, enum output what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	if (what == TEXT)
		deadlock_write_text(d, out);
	else
		deadlock_write_graph(d, out, what == DOT);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static void expect_contains(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("expected\n%s\nin\n%s", want, text);
}

static size_t count_of(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Compare n numbers of a vector or matrix with the expected ones. */
static void expect_numbers(const char *name, const uint64_t *got, const uint64_t *want, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (got[k] != want[k])
			fail_msg("%s[%zu] = %llu, expected %llu", name, k,
				 (unsigned long long)got[k], (unsigned long long)want[k]);
}

static void expect_rows(const struct deadlock *d, const pid_t *ids, size_t n)
{
	assert_int_equal(d->nrows, n);
	for (size_t i = 0; i < n; i++)
		if (d->rows[i].id != ids[i])
			fail_msg("row %zu is %d, expected %d", i, (int)d->rows[i].id, (int)ids[i]);
}

/* ---- Tanenbaum's example ---- */

/*
 * Modern Operating Systems, "deadlock detection with multiple resources of each type":
 *   E = (4 2 3 1), A = (2 1 0 0),
 *   C = ((0 0 1 0), (2 0 0 1), (0 1 2 0)), R = ((2 0 0 1), (1 0 1 0), (2 1 0 0)).
 * As scripts/tanenbaum.sh sets it up: each textbook process is a shell job (a process group)
 * whose leader holds the units and whose children wait, one P each; process 1 requests its 2
 * tape drives as two children waiting for one each. Around the four columns: objects that
 * are no columns (a FIFO with a reader, a semaphore with a wait for zero only, an idle one).
 */
static void tanenbaum(struct snapshot *s)
{
	enum { FIFO, ZERO, TAPE, PLOTTER, SCANNER, BLURAY, IDLE };

	add_obj(s, "fifo", "/fifo/x");
	add_res(s, "sem", "/sem/t/0-zero", 0);
	add_res(s, "sem", "/sem/t/1-tape", 2);
	add_res(s, "sem", "/sem/t/2-plotter", 1);
	add_res(s, "sem", "/sem/t/3-scanner", 0);
	add_res(s, "sem", "/sem/t/4-bluray", 0);
	add_res(s, "sem", "/sem/t/5-idle", 7);
	want(s, FIFO, 999, 999, "cat", "read", 4096);
	want(s, ZERO, 998, 998, "bash", "zero", 0);
	/* process 1: holds a scanner; requests 2 tapes and the Blu-ray */
	hold(s, SCANNER, 100, 100, "proc1", 1);
	want(s, TAPE, 101, 100, "bash", "P", 1);
	want(s, TAPE, 102, 100, "bash", "P", 1);
	want(s, BLURAY, 103, 100, "bash", "P", 1);
	/* process 2: holds 2 tapes and the Blu-ray; requests a tape and a scanner */
	hold(s, TAPE, 200, 200, "proc2", 2);
	hold(s, BLURAY, 200, 200, "proc2", 1);
	want(s, TAPE, 201, 200, "bash", "P", 1);
	want(s, SCANNER, 202, 200, "bash", "P", 1);
	/* process 3: holds a plotter and 2 scanners; requests 2 tapes and a plotter */
	hold(s, PLOTTER, 300, 300, "proc3", 1);
	hold(s, SCANNER, 300, 300, "proc3", 2);
	want(s, TAPE, 301, 300, "bash", "P", 2);
	want(s, PLOTTER, 302, 300, "bash", "P", 1);
}

static void test_deadlock_tanenbaum_by_process_group(void **state)
{
	static const uint64_t E[] = { 4, 2, 3, 1 }, A[] = { 2, 1, 0, 0 };
	static const uint64_t C[] = { 0, 0, 1, 0, 2, 0, 0, 1, 0, 1, 2, 0 };
	static const uint64_t R[] = { 2, 0, 0, 1, 1, 0, 1, 0, 2, 1, 0, 0 };
	static const pid_t ids[] = { 100, 200, 300 };
	static const char *const paths[] = { "/sem/t/1-tape", "/sem/t/2-plotter",
					     "/sem/t/3-scanner", "/sem/t/4-bluray" };
	struct snapshot s = { 0 };
	struct deadlock d;
	char *text;

	(void)state;
	tanenbaum(&s);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PGRP, &d), 0);
	assert_int_equal(d.by, DEADLOCK_BY_PGRP);
	assert_int_equal(d.nres, 4);
	for (size_t j = 0; j < 4; j++)
		assert_string_equal(d.res[j]->path, paths[j]);
	expect_rows(&d, ids, 3);
	/* a group's row bears its leader's name, although a child was seen first */
	assert_string_equal(d.rows[0].comm, "proc1");
	assert_string_equal(d.rows[1].comm, "proc2");
	assert_string_equal(d.rows[2].comm, "proc3");
	expect_numbers("E", d.E, E, 4);
	expect_numbers("A", d.A, A, 4);
	expect_numbers("C", d.C, C, 12);
	expect_numbers("R", d.R, R, 12);
	assert_false(d.deadlocked);
	assert_int_equal(d.nfinished, 3);
	/* P3, then P2, then P1; with all finished, every unit is free again */
	assert_int_equal(d.order[0], 2);
	assert_int_equal(d.order[1], 1);
	assert_int_equal(d.order[2], 0);
	expect_numbers("W", d.W, E, 4);
	for (size_t i = 0; i < 3; i++) {
		assert_true(d.rows[i].finished);
		assert_false(d.rows[i].signal);
	}

	text = render(&d, TEXT);
	expect_contains(text, "Deadlock detection, one row per process group\n");
	expect_contains(text, "Processes (rows):\n  P1 pgid 100 proc1\n  P2 pgid 200 proc2\n"
			      "  P3 pgid 300 proc3\n");
	expect_contains(text, "  R1 sem /sem/t/1-tape\n");
	expect_contains(text, "E = (4 2 3 1)\nA = (2 1 0 0)\n");
	expect_contains(text, "  P3 can finish: its request (2 1 0 0) <= A (2 1 0 0); "
			      "then A = (2 2 2 0)\n"
			      "  P2 can finish: its request (1 0 1 0) <= A (2 2 2 0); "
			      "then A = (4 2 2 1)\n"
			      "  P1 can finish: its request (2 0 0 1) <= A (4 2 2 1); "
			      "then A = (4 2 3 1)\n");
	expect_contains(text, "Verdict: no deadlock; the processes can finish in the order P3 P2 "
			      "P1\n");
	assert_null(strstr(text, "DEADLOCK"));
	free(text);
	text = render(&d, GRAPH);
	expect_contains(text, "no cycle\n");
	free(text);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* The same snapshot, one row per process: the leaders request nothing, the children hold
 * nothing; the columns and totals do not change. */
static void test_deadlock_tanenbaum_by_process(void **state)
{
	static const uint64_t E[] = { 4, 2, 3, 1 }, A[] = { 2, 1, 0, 0 };
	static const pid_t ids[] = { 100, 101, 102, 103, 200, 201, 202, 300, 301, 302 };
	static const uint64_t C300[] = { 0, 1, 2, 0 }, R301[] = { 2, 0, 0, 0 };
	struct snapshot s = { 0 };
	struct deadlock d;
	char *text;

	(void)state;
	tanenbaum(&s);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_int_equal(d.nres, 4);
	expect_rows(&d, ids, 10);
	assert_string_equal(d.rows[1].comm, "bash");
	expect_numbers("E", d.E, E, 4);
	expect_numbers("A", d.A, A, 4);
	expect_numbers("C of pid 300", d.C + 7 * 4, C300, 4);
	expect_numbers("R of pid 301", d.R + 8 * 4, R301, 4);
	assert_false(d.deadlocked);
	assert_int_equal(d.nfinished, 10);
	assert_int_equal(d.order[0], 0); /* pid 100 requests nothing */
	text = render(&d, TEXT);
	expect_contains(text, "Deadlock detection, one row per process\n");
	expect_contains(text, "  P2 pid 101 bash\n");
	expect_contains(text, "Verdict: no deadlock");
	free(text);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* ---- grouping ---- */

/*
 * Two shell jobs: the leader of each holds a mutex and has a child wait for the other
 * job's. Per process nobody is stuck (the leaders wait for nothing, so they can finish and
 * release); per process group the two jobs wait for each other. A process that has exited
 * (pgid -1) stays a row of its own.
 */
static void test_deadlock_grouping_by_pgid_vs_pid(void **state)
{
	static const pid_t by_pid[] = { 10, 11, 20, 21, 30 }, by_pgid[] = { 10, 20, 30 };
	struct snapshot s = { 0 };
	struct deadlock d;
	char *text;

	(void)state;
	add_res(&s, "mutex", "/mutex/a", 0);
	add_res(&s, "mutex", "/mutex/b", 0);
	add_res(&s, "sem", "/sem/c", 0);
	want(&s, 0, 21, 20, "bash", "lock", 1); /* seen before its leader */
	hold(&s, 0, 10, 10, "job1", 1);
	hold(&s, 1, 20, 20, "job2", 1);
	want(&s, 1, 11, 10, "bash", "lock", 1);
	hold(&s, 2, 30, -1, "?", 1);

	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	expect_rows(&d, by_pid, 5);
	assert_false(d.deadlocked);
	assert_int_equal(d.nfinished, 5);
	deadlock_free(&d);

	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PGRP, &d), 0);
	expect_rows(&d, by_pgid, 3);
	assert_string_equal(d.rows[0].comm, "job1");
	assert_string_equal(d.rows[1].comm, "job2");
	assert_string_equal(d.rows[2].comm, "?");
	assert_true(d.deadlocked);
	assert_int_equal(d.nfinished, 1);
	assert_int_equal(d.order[0], 2);
	assert_false(d.rows[0].finished);
	assert_false(d.rows[1].finished);
	assert_false(d.rows[0].signal);
	assert_false(d.rows[1].signal);
	text = render(&d, TEXT);
	expect_contains(text, "Verdict: DEADLOCK of 2 process groups:\n"
			      "  P1 pgid 10 job1 holds /mutex/a; waits for /mutex/b\n"
			      "  P2 pgid 20 job2 holds /mutex/b; waits for /mutex/a\n");
	free(text);
	text = render(&d, GRAPH);
	expect_contains(text, "cycle: pgid 10 -> /mutex/b -> pgid 20 -> /mutex/a -> pgid 10\n");
	free(text);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* ---- the dining philosophers ---- */

/* Five philosophers (pids 1000..1004), forks /mutex/fork0..4. Naive: philosopher i holds
 * fork i and waits for fork i+1. Ordered: philosopher 4 takes fork 0 first, so he holds
 * nothing yet and fork 4 is free. */
static void philosophers(struct snapshot *s, bool ordered)
{
	char path[32], comm[16];

	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/mutex/fork%d", i);
		add_res(s, "mutex", path, ordered && i == 4);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(comm, sizeof(comm), "phil%d", i);
		if (ordered && i == 4) {
			want(s, 0, 1004, 1004, comm, "lock", 1);
			continue;
		}
		hold(s, (size_t)i, 1000 + i, 1000 + i, comm, 1);
		want(s, (size_t)(i + 1) % 5, 1000 + i, 1000 + i, comm, "lock", 1);
	}
}

static void test_deadlock_five_philosophers(void **state)
{
	static const uint64_t ones[] = { 1, 1, 1, 1, 1 }, zeros[] = { 0, 0, 0, 0, 0 };
	static const pid_t ids[] = { 1000, 1001, 1002, 1003, 1004 };
	struct snapshot s = { 0 };
	struct deadlock d;
	char *text;

	(void)state;
	philosophers(&s, false);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_int_equal(d.nres, 5);
	expect_rows(&d, ids, 5);
	expect_numbers("E", d.E, ones, 5);
	expect_numbers("A", d.A, zeros, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(d.C[i * 5 + i], 1);
		assert_int_equal(d.R[i * 5 + (i + 1) % 5], 1);
		assert_false(d.rows[i].finished);
		assert_false(d.rows[i].signal);
	}
	assert_true(d.deadlocked);
	assert_int_equal(d.nfinished, 0);
	expect_numbers("W", d.W, zeros, 5);

	text = render(&d, TEXT);
	expect_contains(text, "  no other request fits in A = (0 0 0 0 0)\n"
			      "Verdict: DEADLOCK of 5 processes:\n"
			      "  P1 pid 1000 phil0 holds /mutex/fork0; waits for /mutex/fork1\n");
	expect_contains(text, "  P5 pid 1004 phil4 holds /mutex/fork4; waits for /mutex/fork0\n");
	free(text);

	text = render(&d, GRAPH);
	expect_contains(text, "pid 1002 (phil2) holds /mutex/fork2; waits for /mutex/fork3\n");
	expect_contains(text, "cycle: pid 1000 -> /mutex/fork1 -> pid 1001 -> /mutex/fork2 -> "
			      "pid 1002 -> /mutex/fork3 -> pid 1003 -> /mutex/fork4 -> pid 1004 "
			      "-> /mutex/fork0 -> pid 1000\n");
	free(text);

	text = render(&d, DOT);
	expect_contains(text, "digraph ipcfs {\n");
	expect_contains(text, "\tp1 [shape=circle, label=\"pid 1000\\nphil0\", color=red];\n");
	expect_contains(text, "\tr2 -> p2 [label=\"holds 1\", color=red, penwidth=2];\n");
	expect_contains(text,
			"\tp5 -> r1 [label=\"wants 1\", style=dashed, color=red, penwidth=2];\n");
	/* five rows in the deadlock; every hold and wait edge is on the cycle */
	assert_int_equal(count_of(text, "\", color=red];"), 5);
	assert_int_equal(count_of(text, "color=red, penwidth=2"), 10);
	free(text);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* The forks taken in a global order: philosopher 3 gets fork 4 and the others follow. */
static void test_deadlock_ordered_philosophers_all_finish(void **state)
{
	struct snapshot s = { 0 };
	struct deadlock d;
	char *text;

	(void)state;
	philosophers(&s, true);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_false(d.deadlocked);
	assert_int_equal(d.nfinished, 5);
	assert_int_equal(d.order[0], 3);
	assert_int_equal(d.order[1], 2);
	assert_int_equal(d.order[2], 1);
	assert_int_equal(d.order[3], 0);
	assert_int_equal(d.order[4], 4);
	text = render(&d, TEXT);
	expect_contains(text, "Verdict: no deadlock; the processes can finish in the order P4 P3 "
			      "P2 P1 P5\n");
	free(text);
	text = render(&d, GRAPH);
	expect_contains(text, "no cycle\n");
	assert_null(strstr(text, "cycle:"));
	free(text);
	text = render(&d, DOT);
	assert_null(strstr(text, "color=red"));
	free(text);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* ---- semaphores as signals ---- */

/* A consumer waits for an item nobody holds (only a V can bring it): not a deadlock, and
 * what the consumer holds is counted as given back, so a process waiting for that is not
 * stuck either. */
static void test_deadlock_signal_waiter_is_not_deadlocked(void **state)
{
	struct snapshot s = { 0 };
	struct deadlock d;
	char *text;

	(void)state;
	add_res(&s, "mutex", "/mutex/m", 0);
	add_res(&s, "sem", "/sem/items", 0);
	hold(&s, 0, 50, 50, "consumer", 1);
	want(&s, 1, 50, 50, "consumer", "P", 1);
	want(&s, 0, 51, 51, "other", "lock", 1);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_int_equal(d.E[1], 0);
	assert_true(d.rows[0].signal);
	assert_false(d.rows[1].signal);
	assert_false(d.deadlocked);
	assert_int_equal(d.nfinished, 2);
	assert_int_equal(d.order[0], 0);
	assert_int_equal(d.order[1], 1);
	text = render(&d, TEXT);
	expect_contains(text, "  P1 waits for a signal, assumed to finish: its request (0 1) "
			      "exceeds what the others hold and A (0 0); then A = (1 0)\n");
	expect_contains(text,
			"Verdict: no deadlock; the processes can finish in the order P1 P2\n");
	free(text);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* P(2) on a semaphore of which the others hold 1 in all: more than any release can give,
 * so a signal; P(1) there is an ordinary request, and with a cycle it is a deadlock. */
static void test_deadlock_signal_only_beyond_what_others_hold(void **state)
{
	struct snapshot s = { 0 };
	struct deadlock d;

	(void)state;
	add_res(&s, "mutex", "/mutex/m", 0);
	add_res(&s, "sem", "/sem/s", 0);
	hold(&s, 1, 60, 60, "a", 1);
	want(&s, 0, 60, 60, "a", "lock", 1);
	hold(&s, 0, 61, 61, "b", 1);
	want(&s, 1, 61, 61, "b", "P", 2);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_int_equal(d.E[1], 1);
	assert_false(d.rows[0].signal);
	assert_true(d.rows[1].signal);
	assert_false(d.deadlocked);
	assert_int_equal(d.order[0], 1);
	assert_int_equal(d.order[1], 0);
	deadlock_free(&d);

	/* the same with P(1): request == E - own holdings, an ordinary wait */
	s.objs[1].waits[0].units = 1;
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_false(d.rows[0].signal);
	assert_false(d.rows[1].signal);
	assert_true(d.deadlocked);
	assert_int_equal(d.nfinished, 0);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* Nothing held or requested: no columns, no rows, and the text says so. */
static void test_deadlock_nothing_to_detect(void **state)
{
	struct snapshot s = { 0 };
	struct deadlock d;
	char *text;

	(void)state;
	add_obj(&s, "shm", "/shm/z");
	add_res(&s, "mutex", "/mutex/free", 1);
	add_res(&s, "sem", "/sem/z", 0);
	want(&s, 2, 7, 7, "bash", "zero", 0);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_int_equal(d.nres, 0);
	assert_int_equal(d.nrows, 0);
	assert_false(d.deadlocked);
	text = render(&d, TEXT);
	assert_string_equal(text, "Deadlock detection, one row per process\n"
				  "No process holds or waits for a semaphore or mutex.\n"
				  "Verdict: no deadlock\n");
	free(text);
	text = render(&d, DOT);
	assert_string_equal(text, "digraph ipcfs {\n\trankdir=LR;\n}\n");
	free(text);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* A hold of 0 units (a parsed file may say so) makes no row and is no allocation. */
static void test_deadlock_zero_unit_hold_is_ignored(void **state)
{
	struct snapshot s = { 0 };
	struct deadlock d;

	(void)state;
	add_res(&s, "sem", "/sem/z", 0);
	hold(&s, 0, 999999, 999999, "ghost", 0);
	hold(&s, 0, 10, 10, "a", 1);
	want(&s, 0, 11, 11, "b", "P", 1);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_int_equal(d.nrows, 2);
	assert_int_equal(d.E[0], 1);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* Cluster mode: pids are a host's own. Pid 100 of host h1 holds m and pid 100 of host h2
 * waits for it: two rows, no deadlock (one row would hold and wait for m: a self-deadlock). */
static void test_deadlock_same_pid_on_two_hosts_is_two_rows(void **state)
{
	struct snapshot s = { 0 };
	struct deadlock d;
	char *text;

	(void)state;
	add_res(&s, "mutex", "/mutex/m", 0);
	hold(&s, 0, 100, -1, "?", 1);
	snprintf(s.objs[0].holds[0].host, SNAP_HOST_MAX, "h1");
	want(&s, 0, 100, -1, "?", "lock", 1);
	snprintf(s.objs[0].waits[0].host, SNAP_HOST_MAX, "h2");
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_int_equal(d.nrows, 2);
	assert_false(d.deadlocked);
	text = render(&d, GRAPH);
	deadlock_free(&d);
	snapshot_free(&s);
	expect_contains(text, "pid h1:100 (?) holds /mutex/m\n");
	expect_contains(text, "pid h2:100 (?) waits for /mutex/m\n");
	free(text);
}

/* The cycle goes through the other holder of a semaphore, not back to the row itself: P1
 * holds 1 unit of s and wants 2 more, P2 holds the other 2 and wants m, which P1 holds. */
static void test_deadlock_cycle_prefers_another_holder(void **state)
{
	struct snapshot s = { 0 };
	struct deadlock d;
	char *text;

	(void)state;
	add_res(&s, "mutex", "/mutex/m", 0);
	add_res(&s, "sem", "/sem/s", 0);
	hold(&s, 0, 1, 1, "p1", 1);
	hold(&s, 1, 1, 1, "p1", 1);
	want(&s, 1, 1, 1, "p1", "P", 2);
	hold(&s, 1, 2, 2, "p2", 2);
	want(&s, 0, 2, 2, "p2", "lock", 1);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	assert_true(d.deadlocked);
	text = render(&d, GRAPH);
	deadlock_free(&d);
	snapshot_free(&s);
	expect_contains(text, "cycle: pid 1 -> /sem/s -> pid 2 -> /mutex/m -> pid 1\n");
	free(text);
}

/* Matrices beyond DEADLOCK_MAX_CELLS are refused (-E2BIG, with their size to report), and
 * those at the limit are built. */
static void test_deadlock_refuses_huge_matrices(void **state)
{
	struct snapshot s = { 0 };
	struct deadlock d;
	const size_t nres = 1100;

	(void)state;
	for (size_t i = 0; i < nres; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/mutex/m%zu", i);
		add_res(&s, "mutex", path, 0);
		hold(&s, i, (pid_t)(1000 + i), (pid_t)(1000 + i), "p", 1);
	}
	/* 1100 rows x 1100 columns = 1,210,000 cells */
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), -E2BIG);
	assert_int_equal(d.nres, nres);
	assert_int_equal(d.nrows, nres);
	deadlock_free(&d);
	/* the same by process group with ten groups: 10 x 1100 cells */
	for (size_t i = 0; i < nres; i++)
		s.objs[i].holds[0].pgid = (pid_t)(1 + i % 10);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PGRP, &d), 0);
	assert_int_equal(d.nrows, 10);
	assert_false(d.deadlocked);
	deadlock_free(&d);
	snapshot_free(&s);
}

/* graph.dot: every label is a DOT string, whatever the command or path it names. (Checked
 * after freeing everything, so that a failure leaves no leak for LeakSanitizer to add.) */
static void test_deadlock_graph_dot_escapes_quotes(void **state)
{
	static const char *const labels[] = {
		"\tr1 [shape=box, label=\"/mutex/a\\\"b\"];\n",
		"\tp1 [shape=circle, label=\"pid 5\\nq\\\"x\"];\n",
		"\tp2 [shape=circle, label=\"pid 6\\nback\\\\slash\"];\n",
	};
	struct snapshot s = { 0 };
	struct deadlock d;
	const char *missing = NULL;
	char *text;

	(void)state;
	add_res(&s, "mutex", "/mutex/a\"b", 0);
	hold(&s, 0, 5, 5, "q\"x", 1);
	want(&s, 0, 6, 6, "back\\slash", "lock", 1);
	assert_int_equal(deadlock_build(&s, DEADLOCK_BY_PROCESS, &d), 0);
	text = render(&d, DOT);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]) && !missing; i++)
		if (!strstr(text, labels[i]))
			missing = labels[i];
	if (missing)
		print_error("expected\n%s\nin\n%s", missing, text);
	free(text);
	deadlock_free(&d);
	snapshot_free(&s);
	if (missing)
		fail_msg("a label of graph.dot is not escaped");
}

/* ---- the text form of a snapshot ---- */

/* A snapshot with everything the text form must carry through: escapes in paths and
 * commands, 64-bit numbers, all 32 priorities of a queue, waits for zero, times. */
static void rich_snapshot(struct snapshot *s)
{
	struct snap_obj *o;
	struct snap_proc *p;
	char key[SNAP_KEY_MAX];

	s->time = (struct timespec){ 1700000001, 5000 };
	s->objects = 7;
	s->memory = 123456789012ULL;
	s->max_objects = 100000;
	s->max_memory = 268435456;
	s->parked = 4;
	s->incomplete = true;

	o = add_obj(s, "mq", "/mq/q=1 \\x");
	o->uid = 1000;
	o->gid = 1001;
	o->opens = 3;
	snap_field_add(o, "messages", 32);
	snap_field_add(o, "bytes", 5000000000ULL);
	snap_field_add(o, "msgsize", 8192);
	snap_field_add(o, "max_msgs", 1024);
	for (int prio = 31; prio >= 0; prio--) {
		snprintf(key, sizeof(key), "prio.%d", prio);
		snap_field_add(o, key, 1);
	}
	o = add_obj(s, "mutex", "/mutex/m");
	o->resource = true;
	o->available = 0;
	snap_field_add(o, "locked", 1);
	o = add_obj(s, "sem", "/sem/a b\tc\nd\\e");
	o->mode = 0640;
	o->opens = 2;
	o->ops = 12345678901ULL;
	o->resource = true;
	o->available = 5;
	snap_field_add(o, "value", 5);
	snap_field_add(o, "paused", 1);
	o = add_obj(s, "shm", "/shm/\x7f\x01\xc3\xa9");
	o->mode = 01777;
	snap_field_add(o, "size", 10000);
	snap_field_add(o, "memory", 8192);

	want(s, 0, 4300, -1, "?", "send", 5);
	p = snap_hold_add(s, &s->objs[1], 4301, 0, 1, (struct timespec){ 1699999999, 999999000 });
	set_proc(p, 4301, 4300, "my prog");
	want(s, 1, 4302, 4300, "lock", "lock", 1);
	p = snap_hold_add(s, &s->objs[2], 4242, 0, 2, (struct timespec){ 1700000000, 0 });
	set_proc(p, 4240, 4200, "a b\\c\nd\te");
	want(s, 2, 4243, 4200, "x", "P", 3);
	p = snap_wait_add(s, &s->objs[2], 4244, 0, "zero", 0, (struct timespec){ 1, 1000 });
	set_proc(p, 4244, 4200, "z");
	snprintf(p->host, sizeof(p->host), "node 2"); /* cluster mode: its host's name */
}

static char *snapshot_text(const struct snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	snapshot_write_text(s, out);
	assert_int_equal(fclose(out), 0);
	return buf;
}

/* Parse text (a NUL-terminated string) into s; the parser's return value. */
static int parse_text(const char *text, struct snapshot *s)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(in);
	rc = snapshot_parse(in, s);
	fclose(in);
	return rc;
}

static void expect_proc(const struct snap_proc *got, const struct snap_proc *want_p)
{
	assert_int_equal(got->pid, want_p->pid);
	assert_int_equal(got->tid, want_p->tid);
	assert_int_equal(got->pgid, want_p->pgid);
	assert_string_equal(got->comm, want_p->comm);
	assert_string_equal(got->host, want_p->host);
	assert_string_equal(got->op, want_p->op);
	assert_int_equal(got->units, want_p->units);
	assert_int_equal(got->since.tv_sec, want_p->since.tv_sec);
	assert_int_equal(got->since.tv_nsec, want_p->since.tv_nsec);
}

static void test_deadlock_snapshot_text_round_trip(void **state)
{
	struct snapshot s = { 0 }, back = { 0 };
	char *text, *again;

	(void)state;
	rich_snapshot(&s);
	text = snapshot_text(&s);
	/* one record a line, whatever the strings hold */
	assert_int_equal(count_of(text, "\n"), 1 + 4 + 6);
	expect_contains(text, "ipcfs-status version=1 time=1700000001.000005 objects=7 "
			      "memory=123456789012 max_objects=100000 max_memory=268435456 "
			      "parked=4 incomplete=1\n");
	expect_contains(
		text,
		"object type=sem path=/sem/a\\040b\\011c\\012d\\134e mode=0640 uid=0 "
		"gid=0 opens=2 ops=12345678901 value=5 paused=1 available=5 holders=1 waiters=2\n"
		"hold path=/sem/a\\040b\\011c\\012d\\134e pid=4240 tid=4242 pgid=4200 "
		"comm=a\\040b\\134c\\012d\\011e units=2 since=1700000000.000000\n");
	expect_contains(text,
			"wait path=/sem/a\\040b\\011c\\012d\\134e pid=4244 tid=4244 pgid=4200 "
			"comm=z host=node\\0402 op=zero units=0 since=1.000001\n");
	expect_contains(text, "object type=shm path=/shm/\\177\\001\xc3\xa9 mode=1777 ");
	expect_contains(text, "hold path=/mutex/m pid=4301 tid=4301 pgid=4300 comm=my\\040prog "
			      "units=1 since=1699999999.999999\n");

	assert_int_equal(parse_text(text, &back), 0);
	assert_int_equal(back.time.tv_sec, s.time.tv_sec);
	assert_int_equal(back.time.tv_nsec, s.time.tv_nsec);
	assert_int_equal(back.objects, s.objects);
	assert_int_equal(back.memory, s.memory);
	assert_int_equal(back.max_objects, s.max_objects);
	assert_int_equal(back.max_memory, s.max_memory);
	assert_int_equal(back.parked, s.parked);
	assert_true(back.incomplete);
	assert_int_equal(back.nobjs, s.nobjs);
	for (size_t i = 0; i < s.nobjs; i++) {
		const struct snap_obj *a = &s.objs[i], *b = &back.objs[i];

		assert_string_equal(b->type, a->type);
		assert_string_equal(b->path, a->path);
		assert_int_equal(b->mode, a->mode);
		assert_int_equal(b->uid, a->uid);
		assert_int_equal(b->gid, a->gid);
		assert_int_equal(b->opens, a->opens);
		assert_int_equal(b->ops, a->ops);
		assert_int_equal(b->resource, a->resource);
		assert_int_equal(b->available, a->available);
		assert_int_equal(b->nfields, a->nfields);
		for (unsigned f = 0; f < a->nfields; f++) {
			assert_string_equal(b->fields[f].key, a->fields[f].key);
			assert_int_equal(b->fields[f].value, a->fields[f].value);
		}
		assert_int_equal(b->nholds, a->nholds);
		assert_int_equal(b->nwaits, a->nwaits);
		for (size_t k = 0; k < a->nholds; k++)
			expect_proc(&b->holds[k], &a->holds[k]);
		for (size_t k = 0; k < a->nwaits; k++)
			expect_proc(&b->waits[k], &a->waits[k]);
	}
	assert_int_equal(snap_field_get(&back.objs[0], "prio.0", 99), 1);
	assert_int_equal(snap_field_get(&back.objs[0], "bytes", 0), 5000000000ULL);
	assert_non_null(snapshot_find(&back, "/sem/a b\tc\nd\\e"));
	/* and written again, the very same text */
	again = snapshot_text(&back);
	assert_string_equal(again, text);
	free(again);
	free(text);
	snapshot_free(&back);
	snapshot_free(&s);
}

/* Unknown keys and records are skipped; a time may have fewer than six decimals. */
static void test_deadlock_snapshot_parse_skips_what_it_does_not_know(void **state)
{
	struct snapshot s = { 0 };

	(void)state;
	assert_int_equal(parse_text("\n"
				    "ipcfs-status version=2 time=12.5 objects=1 flavour=new\n"
				    "object type=sem path=/sem/s value=1 available=1 holders=0 "
				    "waiters=1\n"
				    "future record=1\n"
				    "wait path=/sem/s pid=5 tid=6 pgid=7 comm=x op=P units=2 "
				    "since=3.25 colour=blue\n",
				    &s),
			 0);
	assert_int_equal(s.time.tv_sec, 12);
	assert_int_equal(s.time.tv_nsec, 500000000);
	assert_int_equal(s.objects, 1);
	assert_int_equal(s.nobjs, 1);
	assert_true(s.objs[0].resource);
	assert_int_equal(s.objs[0].nfields, 1);
	assert_int_equal(snap_field_get(&s.objs[0], "value", 0), 1);
	assert_int_equal(s.objs[0].nwaits, 1);
	assert_int_equal(s.objs[0].waits[0].pid, 5);
	assert_int_equal(s.objs[0].waits[0].tid, 6);
	assert_int_equal(s.objs[0].waits[0].pgid, 7);
	assert_string_equal(s.objs[0].waits[0].op, "P");
	assert_int_equal(s.objs[0].waits[0].units, 2);
	assert_int_equal(s.objs[0].waits[0].since.tv_sec, 3);
	assert_int_equal(s.objs[0].waits[0].since.tv_nsec, 250000000);
	snapshot_free(&s);
}

static void test_deadlock_snapshot_parse_rejects_missing_header(void **state)
{
	static const char *const bad[] = {
		"",
		"\n \n",
		"object type=sem path=/sem/s mode=0644 value=1 available=1 holders=0 waiters=0\n",
		"hold path=/sem/s pid=1 tid=1 pgid=1 comm=x units=1 since=1.000000\n"
		"ipcfs-status version=1 objects=0\n",
		"ipcfs-statuses version=1\n",
		"status version=1 objects=0 memory=0\n",
	};
	struct snapshot s = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_text(bad[i], &s);

		if (rc != -EPROTO)
			fail_msg("input %zu: %d, expected -EPROTO", i, rc);
		assert_int_equal(s.nobjs, 0);
		snapshot_free(&s);
	}
	/* the header alone is a valid, empty snapshot */
	assert_int_equal(parse_text("ipcfs-status version=1 objects=0 parked=0\n", &s), 0);
	assert_int_equal(s.nobjs, 0);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadlock_tanenbaum_by_process_group),
		cmocka_unit_test(test_deadlock_tanenbaum_by_process),
		cmocka_unit_test(test_deadlock_grouping_by_pgid_vs_pid),
		cmocka_unit_test(test_deadlock_five_philosophers),
		cmocka_unit_test(test_deadlock_ordered_philosophers_all_finish),
		cmocka_unit_test(test_deadlock_signal_waiter_is_not_deadlocked),
		cmocka_unit_test(test_deadlock_signal_only_beyond_what_others_hold),
		cmocka_unit_test(test_deadlock_nothing_to_detect),
		cmocka_unit_test(test_deadlock_refuses_huge_matrices),
		cmocka_unit_test(test_deadlock_zero_unit_hold_is_ignored),
		cmocka_unit_test(test_deadlock_same_pid_on_two_hosts_is_two_rows),
		cmocka_unit_test(test_deadlock_cycle_prefers_another_holder),
		cmocka_unit_test(test_deadlock_graph_dot_escapes_quotes),
		cmocka_unit_test(test_deadlock_snapshot_text_round_trip),
		cmocka_unit_test(test_deadlock_snapshot_parse_skips_what_it_does_not_know),
		cmocka_unit_test(test_deadlock_snapshot_parse_rejects_missing_header),
	};

	alarm(TEST_BINARY_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
