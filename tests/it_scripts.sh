#!/bin/bash
# it_scripts.sh - every demo of scripts/ runs against a mount, in bounded time, shows what it
# says it shows, and leaves nothing behind in the tree.
source "$(dirname "$0")/lib.sh"

SCRIPTS=$(cd "$(dirname "$0")/../scripts" && pwd)
export IPCCTL=$BUILD_DIR/ipcctl

# run_script NAME ARGS...: run it against the mount; its output in $OUT, its status in $RC
run_script() {
	local name=$1
	shift
	OUT=$(timeout 100 "$SCRIPTS/$name" "$MNT" "$@" 2>"$WORK/$name.err")
	RC=$?
	[ "$RC" -eq 0 ] || say "$name stderr: $(head -c 2000 "$WORK/$name.err")"
}

# nothing of a demo is left in the tree once it ended
tree_is_empty() {
	expect_eq "$(find "$MNT" -mindepth 2 -not -path "$MNT/.ipcfs*" | head -5)" "" "left behind"
}

test_scripts_spooler_loses_nothing_inside_the_mutex() {
	run_script spooler.sh 60
	expect_eq "$RC" 0 "status"
	expect_eq "$(echo "$OUT" | sed -n 4p)" \
		"120 records written, 120 found in the spooler, 0 lost" "the protected run"
	echo "$OUT" | sed -n 2p | grep -qE '^120 records written, [0-9]+ found' ||
		fail "the unprotected run's line: $OUT"
	tree_is_empty
}

test_scripts_signal_orders_x_before_y() {
	run_script signal.sh 4
	expect_eq "$RC" 0 "status"
	expect_eq "$(echo "$OUT" | grep -c ': X Y$')" 4 "rounds with X first"
	tree_is_empty
}

test_scripts_prodcons_consumes_each_item_once() {
	run_script prodcons.sh 30
	expect_eq "$RC" 0 "status"
	expect_eq "$(echo "$OUT" | grep -c '60 items produced, each consumed exactly once')" 2 \
		"both versions"
	tree_is_empty
}

test_scripts_joblimit_runs_at_most_k() {
	run_script joblimit.sh 9 3
	expect_eq "$RC" 0 "status"
	expect_eq "$OUT" "9 jobs ran, at most 3 at a time (limit 3); slots free now: 3" "summary"
	tree_is_empty
}

test_scripts_shm_shares_stores() {
	run_script shm.sh
	expect_eq "$RC" 0 "status"
	echo "$OUT" | grep -q "reader sees counter 1000 and: hello through shared memory" ||
		fail "reader: $OUT"
	tree_is_empty
}

test_scripts_tanenbaum_reproduces_the_textbook() {
	run_script tanenbaum.sh
	expect_eq "$RC" 0 "status"
	echo "$OUT" | grep -qx 'E = (4 2 3 1)' || fail "E: $OUT"
	echo "$OUT" | grep -qx 'A = (2 1 0 0)' || fail "A: $OUT"
	expect_eq "$(echo "$OUT" | tail -1)" "finished in the order: 3 2 1" "completion order"
	tree_is_empty
}

test_scripts_philosophers_deadlock_then_eat() {
	run_script philosophers.sh
	expect_eq "$RC" 0 "status"
	echo "$OUT" | grep -q '^Verdict: DEADLOCK of 5 processes:$' || fail "verdict: $OUT"
	echo "$OUT" | grep -qx "all 5 philosophers ate" || fail "round 2: $OUT"
	echo "$OUT" | grep -q '^ipcctl deadlock: no deadlock in [1-9][0-9]* checks while they ate$' ||
		fail "round 3's deadlock checks: $OUT"
	expect_eq "$(echo "$OUT" | tail -1)" \
		"all 5 philosophers ate 50 times each (250 meals), never two neighbours at once" "round 3"
	tree_is_empty
}

test_scripts_readers_writers_share_reads_and_write_alone() {
	run_script readers_writers.sh 4 2 4
	expect_eq "$RC" 0 "status"
	expect_contains "$OUT" "a writer with company 0 times, torn reads 0, counter 8 (expected 8)" \
		"summary"
	tree_is_empty
}

test_scripts_barrier_keeps_workers_in_step() {
	run_script barrier.sh 4 3
	expect_eq "$RC" 0 "status"
	expect_eq "$OUT" "4 workers, 3 phases, 4 parties: phases overlapped 0 times" "summary"
	tree_is_empty
}

test_scripts_refuse_a_directory_that_is_no_mount() {
	local out rc
	out=$("$SCRIPTS/signal.sh" "$WORK" 2>&1)
	rc=$?
	expect_eq "$rc" 1 "status"
	echo "$out" | grep -q "is not an ipcfs mount" || fail "message: $out"
}

mount_ipcfs
run_test test_scripts_spooler_loses_nothing_inside_the_mutex 100
run_test test_scripts_signal_orders_x_before_y 100
run_test test_scripts_prodcons_consumes_each_item_once 100
run_test test_scripts_joblimit_runs_at_most_k 100
run_test test_scripts_shm_shares_stores 100
run_test test_scripts_tanenbaum_reproduces_the_textbook 100
run_test test_scripts_philosophers_deadlock_then_eat 100
run_test test_scripts_readers_writers_share_reads_and_write_alone 100
run_test test_scripts_barrier_keeps_workers_in_step 100
run_test test_scripts_refuse_a_directory_that_is_no_mount
finish
