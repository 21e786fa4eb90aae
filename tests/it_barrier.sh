#!/bin/bash
# it_barrier.sh - barriers through the mounted filesystem, driven with shell tools: `cat` in
# each of user.parties workers returns in all of them once the last has arrived; the barrier
# is reused round after round; a worker interrupted while it waits leaves its round without
# breaking it.
source "$(dirname "$0")/lib.sh"

test_barrier_releases_a_round_of_parties_together_and_is_reused() {
	local round i pids
	touch barrier/b
	expect_eq "$(getx barrier/b user.parties)" 2 "a new barrier's parties"
	setx barrier/b user.parties 4
	for round in 1 2 3; do
		pids=()
		for i in 1 2 3; do
			cat barrier/b &
			pids+=($!)
		done
		for i in "${pids[@]}"; do wait_blocked "$i" barrier/b; done
		expect_eq "$(size barrier/b)" 3 "round $round: callers waiting"
		expect_rc 0 "round $round: the 4th arrival passes at once" -- timeout 2 cat barrier/b
		for i in "${pids[@]}"; do
			wait_exit "$i" 2000
			expect_eq "$RC" 0 "round $round: a waiter's exit status"
		done
		expect_eq "$(size barrier/b)" 0 "round $round: nobody waits after it"
	done
	grep -q "^object type=barrier path=/barrier/b .* parties=4 arrived=0 rounds=3 " \
		.ipcfs/status || fail "status: $(grep /barrier/b .ipcfs/status)"
}

test_barrier_an_interrupted_worker_leaves_without_breaking_the_round() {
	local a b c
	touch barrier/i
	setx barrier/i user.parties 3
	cat barrier/i &
	a=$!
	wait_blocked "$a" barrier/i
	expect_rc 124 "a worker that times out" -- timeout 0.5 cat barrier/i
	expect_eq "$(size barrier/i)" 1 "it left the round"
	cat barrier/i &
	b=$!
	wait_blocked "$b" barrier/i
	sleep 0.2
	exited "$a" && fail "the round was released with 2 of 3"
	cat barrier/i &
	c=$!
	for p in "$a" "$b" "$c"; do
		wait_exit "$p" 2000
		expect_eq "$RC" 0 "exit status"
	done
}

test_barrier_fewer_parties_release_those_waiting() {
	local a b
	touch barrier/f
	setx barrier/f user.parties 5
	cat barrier/f &
	a=$!
	cat barrier/f &
	b=$!
	wait_blocked "$a" barrier/f
	wait_blocked "$b" barrier/f
	setx barrier/f user.parties 2
	wait_exit "$a" 2000
	wait_exit "$b" 2000
	expect_eq "$(size barrier/f)" 0 "nobody waits"
}

test_barrier_bad_input_nonblock_and_rm() {
	local pid
	touch barrier/x
	for bad in 0 -1 1048577 x; do
		expect_err "Invalid argument" "user.parties $bad" -- setfattr -n user.parties -v "$bad" barrier/x
	done
	expect_eq "$(getx barrier/x user.parties)" 2 "unchanged"
	expect_err "Invalid argument" "a write" -- bash -c 'echo 1 > barrier/x'
	expect_err "Resource temporarily unavailable" "O_NONBLOCK arrival that does not complete it" -- \
		dd if=barrier/x iflag=nonblock count=1 status=none
	expect_eq "$(size barrier/x)" 0 "it was not counted"
	cat barrier/x 2>"$WORK/x.err" &
	pid=$!
	wait_blocked "$pid" barrier/x
	expect_rc 0 "O_NONBLOCK arrival that completes it" -- \
		dd if=barrier/x iflag=nonblock count=1 status=none
	wait_exit "$pid" 2000
	cat barrier/x 2>"$WORK/x.err" &
	pid=$!
	wait_blocked "$pid" barrier/x
	rm barrier/x
	wait_exit "$pid" 2000
	expect_eq "$RC" 1 "the waiter's exit status after rm"
	expect_contains "$(cat "$WORK/x.err")" "Identifier removed" "its error"
}

mount_ipcfs
run_test test_barrier_releases_a_round_of_parties_together_and_is_reused
run_test test_barrier_an_interrupted_worker_leaves_without_breaking_the_round
run_test test_barrier_fewer_parties_release_those_waiting
run_test test_barrier_bad_input_nonblock_and_rm
finish
