#!/bin/bash
# it_rwlock.sh - readers-writer locks through the mounted filesystem, driven with shell tools
# and tests/client_block.c: an open for reading holds it shared, one for writing exclusive,
# first come first served (a reader behind a waiting writer waits: writers do not starve, and
# the readers behind a writer go in together), the last close and the holder's death release,
# O_NONBLOCK, EDEADLK, interrupts that take nothing, rm, and what inspection shows.
source "$(dirname "$0")/lib.sh"

CB=$BUILD_DIR/tests/client_block

# The release of the last close reaches the daemon asynchronously: wait for it.
free_soon() { wait_until 2 size_is 0 "$1" || fail "$1 still held"; }

test_rwlock_readers_share_a_writer_waits_then_has_it_alone() {
	local r1 r2 w
	touch rwlock/l
	expect_eq "$(size rwlock/l)" 0 "a new lock is free"
	bash -c 'exec 8<rwlock/l; exec sleep 30' &
	r1=$!
	disown "$r1"
	bash -c 'exec 8<rwlock/l; exec sleep 30' &
	r2=$!
	disown "$r2"
	wait_until 2 size_is 2 rwlock/l || fail "two readers do not hold it: $(size rwlock/l)"
	expect_eq "$("$CB" -n -w rwlock/l open)" "open EAGAIN" "O_NONBLOCK writer while read"
	"$CB" -w rwlock/l open sleep:300 close >"$WORK/w.out" &
	w=$!
	wait_blocked "$w" rwlock/l
	grep -q "^wait path=/rwlock/l pid=$w .* op=wrlock units=65536 " .ipcfs/status ||
		fail "status: $(grep /rwlock/l .ipcfs/status)"
	kill -KILL "$r1"
	sleep 0.2
	exited "$w" && fail "the writer got it while a reader held it"
	kill -KILL "$r2"
	wait_until 2 grep -q "open ok" "$WORK/w.out" || fail "the writer never got it"
	expect_eq "$(size rwlock/l)" 1 "held by the writer"
	expect_eq "$("$CB" -n rwlock/l open)" "open EAGAIN" "O_NONBLOCK reader while written"
	wait_exit "$w" 2000
	expect_eq "$RC" 0 "the writer's status"
	free_soon rwlock/l
}

test_rwlock_a_reader_behind_a_waiting_writer_waits_first_come_first_served() {
	local r1 w r2 r3 order
	touch rwlock/f
	: >"$WORK/order"
	bash -c 'exec 8<rwlock/f; exec sleep 30' &
	r1=$!
	disown "$r1"
	wait_until 2 size_is 1 rwlock/f || fail "the first reader"
	(exec 9>rwlock/f && echo w >>"$WORK/order" && exec sleep 0.5) &
	w=$!
	wait_blocked "$w" rwlock/f
	# a reader is compatible with the reader holding it, but a writer waits: it waits too
	(exec 8<rwlock/f && echo r2 >>"$WORK/order" && exec sleep 0.3) &
	r2=$!
	wait_blocked "$r2" rwlock/f
	(exec 8<rwlock/f && echo r3 >>"$WORK/order" && exec sleep 0.3) &
	r3=$!
	wait_blocked "$r3" rwlock/f
	expect_eq "$(size rwlock/f)" 1 "only the first reader holds it"
	kill -KILL "$r1"
	for p in "$w" "$r2" "$r3"; do wait_exit "$p" 3000; done
	order=$(tr '\n' ' ' <"$WORK/order")
	[ "$order" = "w r2 r3 " ] || [ "$order" = "w r3 r2 " ] ||
		fail "order in which they got it: '$order' (the writer first, then both readers)"
	free_soon rwlock/f
}

test_rwlock_edeadlk_interrupts_and_rm() {
	local w pid
	touch rwlock/d
	expect_eq "$(timeout 5 "$CB" rwlock/d open open)" "open ok
open ok" "one process opening it twice for reading (nobody waits)"
	free_soon rwlock/d
	expect_eq "$(timeout 5 "$CB" -w rwlock/d open open)" "open ok
open EDEADLK" "a writer opening it again"
	free_soon rwlock/d
	exec 8<rwlock/d
	expect_rc 124 "a writer that times out" -- timeout 0.5 "$CB" -w rwlock/d open 8<&-
	expect_eq "$(grep -c '^wait path=/rwlock/d ' .ipcfs/status)" 0 "waiters after the timeout"
	expect_rc 0 "a reader after the interrupted writer goes in at once" -- \
		timeout 2 cat rwlock/d 8<&-
	"$CB" -w rwlock/d open 8<&- 2>"$WORK/d.err" >"$WORK/d.out" &
	pid=$!
	wait_blocked "$pid" rwlock/d
	rm rwlock/d
	wait_exit "$pid" 2000
	expect_eq "$(cat "$WORK/d.out")" "open EIDRM" "the waiting writer after rm"
	exec 8<&-
}

test_rwlock_reads_eof_writes_eperm_and_bad_input_changes_nothing() {
	touch rwlock/x
	exec 8<rwlock/x
	expect_eq "$(cat <&8 | wc -c)" 0 "a read returns end of file"
	exec 8<&-
	exec 9>rwlock/x
	expect_err "Operation not permitted" "a write" -- bash -c 'echo x >&9'
	expect_eq "$(size rwlock/x)" 1 "still held by the writer"
	exec 9>&-
	free_soon rwlock/x
}

mount_ipcfs
run_test test_rwlock_readers_share_a_writer_waits_then_has_it_alone
run_test test_rwlock_a_reader_behind_a_waiting_writer_waits_first_come_first_served
run_test test_rwlock_edeadlk_interrupts_and_rm
run_test test_rwlock_reads_eof_writes_eperm_and_bad_input_changes_nothing
finish
