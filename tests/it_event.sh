#!/bin/bash
# it_event.sh - events through the mounted filesystem, driven with shell tools: `echo 1 >`
# sets and wakes every waiter (broadcast), `echo 0 >` clears, `cat` waits while clear; with
# user.auto_reset a set wakes exactly one waiter, in arrival order, and an interrupted wait
# consumes nothing.
source "$(dirname "$0")/lib.sh"

CB=$BUILD_DIR/tests/client_block

test_event_a_set_wakes_every_waiter_and_stays_set() {
	local pids=() i
	touch event/go
	expect_eq "$(size event/go)" 0 "a new event is clear"
	for i in 1 2 3 4 5; do
		cat event/go &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait_blocked "$i" event/go; done
	grep -q "^object type=event path=/event/go .* value=0 .* waiters=5" .ipcfs/status ||
		fail "status: $(grep /event/go .ipcfs/status | head -1)"
	echo 1 >event/go
	for i in "${pids[@]}"; do
		wait_exit "$i" 2000
		expect_eq "$RC" 0 "waiter $i's exit status"
	done
	expect_eq "$(size event/go)" 1 "still set"
	expect_rc 0 "a wait while set passes at once" -- timeout 2 cat event/go
	expect_rc 0 "and so does the next" -- timeout 2 cat event/go
	echo 0 >event/go
	expect_eq "$(size event/go)" 0 "cleared"
	expect_rc 124 "a wait while clear waits" -- timeout 0.5 cat event/go
}

test_event_auto_reset_wakes_exactly_one_in_arrival_order() {
	local a b c
	touch event/one
	setx event/one user.auto_reset 1
	expect_eq "$(getx event/one user.auto_reset)" 1 "user.auto_reset"
	cat event/one &
	a=$!
	wait_blocked "$a" event/one
	cat event/one &
	b=$!
	wait_blocked "$b" event/one
	cat event/one &
	c=$!
	wait_blocked "$c" event/one
	echo 1 >event/one
	wait_exit "$a" 2000
	sleep 0.3
	exited "$b" && fail "a second waiter woke"
	exited "$c" && fail "a third waiter woke"
	expect_eq "$(size event/one)" 0 "the set was consumed by the one it woke"
	echo 1 >event/one
	wait_exit "$b" 2000
	exited "$c" || {
		echo 1 >event/one
		wait_exit "$c" 2000
	}
	# nobody waits: the set stays for the next wait, which consumes it
	echo 1 >event/one
	expect_eq "$(size event/one)" 1 "set with nobody waiting"
	expect_rc 0 "the next wait passes" -- timeout 2 cat event/one
	expect_eq "$(size event/one)" 0 "and consumed it"
}

test_event_an_interrupted_wait_consumes_nothing() {
	local pid
	touch event/int
	setx event/int user.auto_reset 1
	expect_rc 124 "timeout ends a wait" -- timeout 0.5 cat event/int
	"$CB" event/int open read >/dev/null & # SIGINT's default disposition: Ctrl-C
	pid=$!
	wait_blocked "$pid" event/int
	kill -INT "$pid"
	wait_exit "$pid" 2000
	expect_eq "$RC" 130 "the wait Ctrl-C ended"
	expect_eq "$(grep -c '^wait path=/event/int ' .ipcfs/status)" 0 "waiters left"
	echo 1 >event/int
	expect_eq "$(size event/int)" 1 "the set went to nobody gone"
}

test_event_nonblocking_wait_and_bad_input() {
	touch event/bad
	expect_err "Resource temporarily unavailable" "O_NONBLOCK wait while clear" -- \
		dd if=event/bad iflag=nonblock count=1 status=none
	for bad in 2 yes "" "1 1" 01 -1; do
		expect_err "Invalid argument" "write '$bad'" -- bash -c "echo '$bad' > event/bad"
	done
	expect_eq "$(size event/bad)" 0 "still clear"
	expect_err "Invalid argument" "user.auto_reset 2" -- setfattr -n user.auto_reset -v 2 event/bad
	expect_eq "$(getx event/bad user.auto_reset)" 0 "user.auto_reset unchanged"
	printf 1 >event/bad
	expect_eq "$(size event/bad)" 1 "set by '1' without a newline"
	expect_rc 0 "O_NONBLOCK wait while set" -- dd if=event/bad iflag=nonblock count=1 status=none
}

test_event_rm_ends_waiters_with_eidrm() {
	local pid
	touch event/gone
	cat event/gone 2>"$WORK/gone.err" &
	pid=$!
	wait_blocked "$pid" event/gone
	rm event/gone
	wait_exit "$pid" 2000
	expect_eq "$RC" 1 "the waiter's exit status"
	expect_contains "$(cat "$WORK/gone.err")" "Identifier removed" "its error"
}

mount_ipcfs
run_test test_event_a_set_wakes_every_waiter_and_stays_set
run_test test_event_auto_reset_wakes_exactly_one_in_arrival_order
run_test test_event_an_interrupted_wait_consumes_nothing
run_test test_event_nonblocking_wait_and_bad_input
run_test test_event_rm_ends_waiters_with_eidrm
finish
