#!/bin/bash
# it_fifo.sh - FIFOs (fifo/NAME) through the mounted filesystem: the issue's examples, writers
# that never wait on open, the bounded buffer, atomic and large writes, O_NONBLOCK, the end of
# file rules, interrupts, poll readiness and rm. Shell tools where they show the behaviour;
# tests/client_fifo_io.c where the exact result of one system call matters, and
# tests/client_fifo_records.c for concurrent writers.
source "$(dirname "$0")/lib.sh"

IO=$BUILD_DIR/tests/client_fifo_io
RECORDS=$BUILD_DIR/tests/client_fifo_records


# ---- the issue's examples ----

test_fifo_cat_first_then_seq_100000() {
	touch fifo/f
	cat fifo/f >"$WORK/out" &
	local c=$!
	wait_blocked "$c" fifo/f
	expect_rc 0 "seq 100000 into the FIFO (9x its capacity)" -- timeout 20 bash -c \
		'seq 100000 > fifo/f'
	wait_exit "$c" 2000
	expect_eq "$RC" 0 "cat's status once the writer closed"
	seq 100000 >"$WORK/want"
	cmp -s "$WORK/out" "$WORK/want" || fail "cat's output differs from seq 100000"
	expect_eq "$(size fifo/f)" 0 "bytes buffered after"
}

test_fifo_two_echos_then_cat() {
	touch fifo/e
	echo a >fifo/e
	echo b >fifo/e
	expect_eq "$(timeout 2 cat fifo/e)" "a
b" "cat after two echos"
	expect_eq "$(size fifo/e)" 0 "bytes buffered after"
}

# ---- writers, the buffer, its capacity ----

test_fifo_writer_never_blocks_on_open_and_data_is_kept() {
	expect_rc 0 "echo into a new FIFO nobody reads" -- timeout 2 bash -c 'echo hi > fifo/k'
	expect_rc 0 "a second echo" -- timeout 2 bash -c 'echo there > fifo/k'
	expect_eq "$(size fifo/k)" 9 "st_size: the bytes buffered"
	expect_eq "$(stat -c %F fifo/k)" "regular file" "file type"
	expect_eq "$(timeout 2 cat fifo/k)" "hi
there" "a later cat"
	expect_eq "$(size fifo/k)" 0 "st_size after the cat"
}

test_fifo_capacity_xattr() {
	touch fifo/c
	expect_eq "$(getx fifo/c user.capacity)" 65536 "default capacity"
	setx fifo/c user.capacity 100
	expect_eq "$(getx fifo/c user.capacity)" 100 "capacity after setting it"
	setx fifo/c user.capacity 1K
	expect_eq "$(getx fifo/c user.capacity)" 1024 "a K suffix"
	echo data >fifo/c
	expect_err "Device or resource busy" "changing the capacity of a FIFO holding bytes" -- \
		setx fifo/c user.capacity 200
	expect_eq "$(getx fifo/c user.capacity)" 1024 "capacity unchanged by the refused change"
	expect_eq "$(timeout 2 cat fifo/c)" data "the bytes survive the refused change"
	setx fifo/c user.capacity 200 || fail "changing the capacity once empty again"
	expect_eq "$(getx fifo/c user.capacity)" 200 "capacity once empty"
	expect_err "Invalid argument" "capacity 0" -- setx fifo/c user.capacity 0
	expect_err "Invalid argument" "capacity over 64 MiB" -- setx fifo/c user.capacity 65M
	expect_err "Invalid argument" "capacity not a number" -- setx fifo/c user.capacity x
	expect_eq "$(getx fifo/c user.capacity)" 200 "capacity unchanged by the bad values"
	# the new capacity is the one enforced
	expect_eq "$("$IO" -n -w fifo/c open writen:300)" "open ok
write 200" "a non-blocking write of 300 into 200 bytes of capacity"
}

test_fifo_write_blocks_while_full() {
	touch fifo/full
	setx fifo/full user.capacity 10
	printf 0123456789 >fifo/full
	expect_eq "$(size fifo/full)" 10 "bytes buffered: full"
	printf abc >fifo/full &
	local w=$!
	wait_blocked "$w" fifo/full
	sleep 0.1
	blocked "$w" || fail "a write into a full FIFO did not wait"
	expect_eq "$("$IO" fifo/full open read:4)" 'open ok
read 4 "0123"' "read 4 bytes"
	wait_exit "$w" 1000
	expect_eq "$RC" 0 "the writer's status once room was made"
	expect_eq "$(size fifo/full)" 9 "bytes buffered"
	expect_eq "$(timeout 2 cat fifo/full)" 456789abc "the bytes in order"
}

# Writes of up to 4096 bytes are never interleaved. A blocking write that went in part and
# parked with the rest would let other writers' records in between; with O_NONBLOCK, a short
# count for a 4096-byte write (the writer then writes its rest, after other writers' bytes)
# tears it, which makes the non-blocking run the sharper one.
test_fifo_writes_up_to_4096_bytes_are_atomic() {
	touch fifo/a
	setx fifo/a user.capacity 10000 # room for two records, rarely three
	expect_eq "$(timeout 30 "$RECORDS" -n fifo/a 4 300)" \
		"records 1200 torn 0 disorder 0 short 0" "4 non-blocking writers of 4096-byte records"
	expect_eq "$(timeout 30 "$RECORDS" fifo/a 4 300)" \
		"records 1200 torn 0 disorder 0 short 0" "4 blocking writers of 4096-byte records"
	expect_eq "$(timeout 30 "$RECORDS" -n -s 100 fifo/a 4 2000)" \
		"records 8000 torn 0 disorder 0 short 0" "4 non-blocking writers of 100-byte records"
	expect_eq "$(size fifo/a)" 0 "bytes buffered after"
}

# A write larger than 4096 bytes (or than the capacity) may be split, but returns only when
# all of it is written.
test_fifo_large_write_returns_when_all_written() {
	touch fifo/big
	head -c 300000 /dev/urandom >"$WORK/big"
	cat fifo/big >"$WORK/got" &
	local c=$!
	wait_blocked "$c" fifo/big
	expect_eq "$(timeout 10 "$IO" -w fifo/big open writefile:"$WORK/big")" "open ok
write 300000" "one write() of 300000 bytes into a 65536-byte FIFO"
	wait_exit "$c" 2000
	cmp -s "$WORK/big" "$WORK/got" || fail "the reader got other bytes than were written"
	# each write() of a record must return all of it (the client checks); one writer, since
	# other writers' bytes may come between the pieces of a large write
	setx fifo/big user.capacity 10000
	expect_eq "$(timeout 30 "$RECORDS" -s 25000 fifo/big 1 40)" \
		"records 40 torn 0 disorder 0 short 0" "writes of 25000 bytes, 10000 capacity"
}

test_fifo_nonblocking_write_is_partial_or_eagain() {
	touch fifo/nb
	setx fifo/nb user.capacity 10000
	expect_eq "$("$IO" -n -w fifo/nb open writen:9000 writen:4096 writen:5000 writen:1)" \
		"open ok
write 9000
write EAGAIN
write 1000
write EAGAIN" "9000 fit; 4096 (atomic) do not; 5000 write the 1000 that fit; then full"
	expect_eq "$(size fifo/nb)" 10000 "bytes buffered"
	"$IO" fifo/nb open read:8192 >/dev/null
	expect_eq "$("$IO" -n -w fifo/nb open writen:4096)" "open ok
write 4096" "4096 once there is room for all of it"
}

test_fifo_nonblocking_read_of_empty_fifo_is_eagain() {
	touch fifo/nr
	expect_eq "$("$IO" -n fifo/nr open read:10)" "open ok
read EAGAIN" "no writer seen yet"
	exec 3>fifo/nr
	expect_eq "$("$IO" -n fifo/nr open read:10)" "open ok
read EAGAIN" "a writer has it open"
	exec 3>&-
	echo x >fifo/nr
	expect_eq "$("$IO" -n fifo/nr open read:10 read:10)" 'open ok
read 2 "x\n"
read 0 ""' "bytes, then end of file (no writer, data received)"
}

# ---- end of file ----

test_fifo_cat_started_first_waits_for_the_first_writer() {
	touch fifo/w1
	cat fifo/w1 >"$WORK/out" &
	local c=$!
	wait_blocked "$c" fifo/w1
	sleep 0.2
	blocked "$c" || fail "cat of an empty FIFO that never had a writer did not wait"
	echo hi >fifo/w1
	wait_exit "$c" 1000
	expect_eq "$RC:$(cat "$WORK/out")" "0:hi" "cat's status and output"
}

# A writer that opens and closes without writing ends a reader that waited for it, as with a
# named pipe.
test_fifo_writer_that_came_and_went_ends_a_waiting_reader() {
	touch fifo/w2
	cat fifo/w2 >"$WORK/out" &
	local c=$!
	wait_blocked "$c" fifo/w2
	exec 3>fifo/w2
	exec 3>&-
	wait_exit "$c" 1000
	expect_eq "$RC:$(wc -c <"$WORK/out")" "0:0" "cat's status and bytes printed"
	# also when it came and went before the read
	expect_eq "$("$IO" fifo/w2 open sleep:200 read:10 & sleep 0.1 && exec 3>fifo/w2)" 'open ok
read 0 ""' "a reader opened before a writer that came and went meanwhile"
}

test_fifo_reader_waits_while_a_writer_has_it_open() {
	touch fifo/w3
	exec 3>fifo/w3
	echo a >&3
	cat fifo/w3 >"$WORK/out" 3>&- &
	local c=$!
	wait_blocked "$c" fifo/w3
	sleep 0.1
	blocked "$c" || fail "cat returned end of file while a writer had the FIFO open"
	expect_eq "$(cat "$WORK/out")" a "what cat printed so far"
	echo b >&3
	sleep 0.1
	blocked "$c" || fail "cat ended with the writer still there"
	exec 3>&-
	wait_exit "$c" 1000
	expect_eq "$RC:$(cat "$WORK/out")" "0:a
b" "cat's status and output once the writer closed"
}

# A reader that opened while a writer had the FIFO open has seen a writer: end of file once
# it closes, although this reader received nothing.
test_fifo_reader_that_saw_a_writer_gets_eof_when_it_closes() {
	touch fifo/w4
	exec 3>fifo/w4
	cat fifo/w4 >"$WORK/out" 3>&- &
	local c=$!
	wait_blocked "$c" fifo/w4
	exec 3>&-
	wait_exit "$c" 1000
	expect_eq "$RC:$(wc -c <"$WORK/out")" "0:0" "cat's status and bytes printed"
}

test_fifo_rdwr_opener_never_gets_eof() {
	touch fifo/rw
	echo x >fifo/rw
	expect_rc 124 "cat of an O_RDWR descriptor waits once empty" -- \
		bash -c 'timeout 0.5 cat 0<>fifo/rw >"$1"' _ "$WORK/out"
	expect_eq "$(cat "$WORK/out")" x "what it printed first"
	expect_eq "$("$IO" -W -T 300 fifo/rw open write:y read:10 read:10)" 'open ok
write 1
read 1 "y"
read EINTR' "an O_RDWR reader: its own byte, then a wait (no end of file)"
}

# ---- interrupts ----

test_fifo_timeout_on_a_blocked_reader_takes_nothing() {
	touch fifo/t
	exec 3>fifo/t
	expect_rc 124 "timeout 0.3 cat of an empty FIFO" -- timeout 0.3 cat fifo/t
	local how pid
	for how in KILL TERM USR1; do
		if [ "$how" = USR1 ]; then
			"$IO" -H USR1 fifo/t open read:100 >"$WORK/out" 3>&- &
		else
			cat fifo/t >"$WORK/out" 3>&- &
		fi
		pid=$!
		wait_blocked "$pid" fifo/t || continue
		kill -"$how" "$pid"
		wait_exit "$pid" 500
		[ "$how" = USR1 ] && expect_eq "$(tail -1 "$WORK/out")" "read EINTR" \
			"the read ended by a handled signal"
	done
	echo "after the interrupts" >&3
	exec 3>&-
	expect_eq "$(size fifo/t)" 21 "bytes buffered: nobody took them"
	expect_eq "$(timeout 2 cat fifo/t)" "after the interrupts" "the next reader gets them all"
}

# The FIFO has room for 2 bytes, not for the 5 of an (atomic) write: interrupted, it writes
# nothing, not even the 2 that would fit.
test_fifo_interrupted_blocked_writer_writes_nothing() {
	touch fifo/iw
	setx fifo/iw user.capacity 10
	printf 01234567 >fifo/iw
	"$IO" -w -H USR1 fifo/iw open write:hello >"$WORK/out" &
	local w=$!
	wait_blocked "$w" fifo/iw
	kill -USR1 "$w"
	wait_exit "$w" 500
	expect_eq "$(tail -1 "$WORK/out")" "write EINTR" "the blocked write ended by a signal"
	printf hello >fifo/iw &
	w=$!
	wait_blocked "$w" fifo/iw
	kill -KILL "$w"
	wait_exit "$w" 500
	expect_eq "$(size fifo/iw)" 8 "bytes buffered after the interrupted writes"
	expect_eq "$(timeout 2 cat fifo/iw)" 01234567 "the FIFO holds only the first bytes"
}

# A write larger than what fits, interrupted after part of it went in, returns that count (as
# a pipe's does) and the rest is not written.
test_fifo_interrupted_large_write_returns_its_count() {
	touch fifo/il
	setx fifo/il user.capacity 10
	"$IO" -w -H USR1 fifo/il open writen:25 >"$WORK/out" &
	local w=$!
	wait_blocked "$w" fifo/il
	kill -USR1 "$w"
	wait_exit "$w" 500
	expect_eq "$(tail -1 "$WORK/out")" "write 10" "the interrupted write's count"
	expect_eq "$(timeout 2 cat fifo/il)" abcdefghij "the bytes written"
	expect_eq "$(size fifo/il)" 0 "nothing more"
}

# One round of the hammer below on a fresh FIFO fifo/$1: the stream must come out whole; sets
# EINTRS to the reads that were interrupted while waiting.
hammer_round() {
	local f=fifo/$1 got=$WORK/got.$1 i t0 start_ms unit ms n=0 s
	touch "$f"
	exec 3>"$f" # the readers wait rather than see end of file between lines
	# A reader's timeout is twice its start-up time, measured here (a few ms, far more under
	# ASan on a loaded machine), plus 20 to 60 ms in which it often waits; the writer pauses
	# in units of the start-up, so that a slow reader still finds the FIFO empty and waits.
	t0=$(now_ms)
	for i in 1 2 3 4 5; do
		ASAN_OPTIONS=$NO_LEAK_CHECK "$IO" -H TERM "$f" open >/dev/null
	done
	start_ms=$((($(now_ms) - t0) / 5))
	unit=$((start_ms > 10 ? start_ms : 10))
	(
		for i in $(seq 100); do
			printf 'line %d\n' "$i" >&3
			sleep_ms $((RANDOM % 8 * unit))
		done
	) &
	s=$!
	while ! exited "$s"; do
		ms=$((2 * start_ms + 20 + RANDOM % 40))
		ASAN_OPTIONS=$NO_LEAK_CHECK timeout "$((ms / 1000)).$(printf %03d $((ms % 1000)))" \
			"$IO" -H TERM "$f" open read:$((RANDOM % 20 + 1)) >>"$got"
		n=$((n + 1))
	done
	wait "$s"
	exec 3>&-
	timeout 2 "$IO" "$f" open read:100000 >>"$got"
	# reassemble the stream from the reports ("read K \"BYTES\"")
	sed -n 's/^read [0-9]* "\(.*\)"$/\1/p' "$got" | tr -d '\n' | sed 's/\\n/\n/g' \
		>"$WORK/stream.$1"
	seq 100 | sed 's/^/line /' >"$WORK/want"
	cmp -s "$WORK/stream.$1" "$WORK/want" || fail "round $1: the bytes received differ from those sent"
	EINTRS=$(grep -c "read EINTR" "$got")
	say "round $1: $n readers (start-up ${start_ms} ms), $EINTRS interrupted while waiting"
}

# Many readers time out while a writer sends numbered lines: every line is received exactly
# once. The readers handle SIGTERM (timeout's signal), so that a read that got bytes always
# reports them: a process killed by a signal just after its read returned would lose them
# itself, whatever the daemon did. The guard that the test raced at all (10 reads interrupted
# while waiting) may need a second or third round on a loaded machine; each round's stream is
# checked whole.
test_fifo_timed_out_reads_take_nothing_hammer() {
	local round total=0
	for round in 1 2 3; do
		hammer_round "h$round"
		total=$((total + EINTRS))
		[ "$total" -ge 10 ] && break
	done
	[ "$total" -ge 10 ] || fail "only $total reads were interrupted in 3 rounds: the test did not race"
}

# The sharp version of the test above (see lib.sh).
test_fifo_interrupt_racing_a_write_loses_nothing() {
	interrupt_race_loses_nothing fifo/race
}

# ---- readiness ----

test_fifo_poll_readiness() {
	touch fifo/p
	setx fifo/p user.capacity 5000
	expect_eq "$("$IO" -n fifo/p open poll:in:100)" "open ok
poll timeout" "empty, no writer seen yet: not readable"
	expect_eq "$("$IO" -n -w fifo/p open poll:out:100)" "open ok
poll out" "empty: writable"
	# a poller waiting for bytes is woken by a write
	"$IO" -n fifo/p open poll:in:5000 >"$WORK/out" &
	local p=$!
	sleep 0.2
	echo hi >fifo/p
	wait_exit "$p" 1000
	expect_eq "$(tail -1 "$WORK/out")" "poll in" "woken by a write"
	timeout 2 cat fifo/p >/dev/null
	# full: not writable, until a read makes room for a 4096-byte write
	head -c 4998 /dev/zero >fifo/p
	expect_eq "$("$IO" -n -w fifo/p open poll:out:100)" "open ok
poll timeout" "full: not writable"
	"$IO" -n -w fifo/p open poll:out:5000 >"$WORK/out" &
	p=$!
	sleep 0.2
	"$IO" fifo/p open read:100 >/dev/null
	sleep 0.1
	exited "$p" && fail "writable with 100 bytes free (a 4096-byte write would wait)"
	"$IO" fifo/p open read:4000 >/dev/null
	wait_exit "$p" 1000
	expect_eq "$(tail -1 "$WORK/out")" "poll out" "woken once a 4096-byte write fits"
	timeout 2 cat fifo/p >/dev/null
	# end of file is readable, with POLLHUP: a reader that saw the writer leave
	exec 3>fifo/p
	"$IO" -n fifo/p open poll:in:5000 >"$WORK/out" 3>&- &
	p=$!
	sleep 0.2
	exec 3>&-
	wait_exit "$p" 1000
	expect_eq "$(tail -1 "$WORK/out")" "poll in|hup" "woken by the last writer's close"
}

# ---- rm ----

test_fifo_rm_gives_parked_readers_eidrm() {
	touch fifo/d
	cat fifo/d 2>"$WORK/cat.err" &
	local c=$! r
	wait_blocked "$c" fifo/d
	"$IO" fifo/d open read:10 >"$WORK/io.out" &
	r=$!
	wait_blocked "$r" fifo/d
	rm fifo/d
	wait_exit "$c" 1000
	expect_eq "$RC" 1 "cat's status after rm"
	grep -q "Identifier removed" "$WORK/cat.err" || fail "cat said '$(cat "$WORK/cat.err")'"
	wait_exit "$r" 1000
	expect_eq "$(tail -1 "$WORK/io.out")" "read EIDRM" "the client's read after rm"
}

test_fifo_rm_fails_later_io_on_open_descriptors() {
	touch fifo/d2
	echo x >fifo/d2
	expect_eq "$("$IO" -W fifo/d2 open sleep:300 read:10 write:y & sleep 0.1 && rm fifo/d2)" \
		"open ok
read EIDRM
write EIDRM" "reads and writes through a descriptor opened before rm"
}

# A parked write does not hold up rm (observed on kernel 6.18: concurrent writes to one file
# all reach the daemon, the inode lock is not held across them).
test_fifo_rm_gives_a_parked_writer_eidrm() {
	touch fifo/dw
	setx fifo/dw user.capacity 1
	printf x >fifo/dw
	"$IO" -w fifo/dw open write:y >"$WORK/io.out" &
	local w=$!
	wait_blocked "$w" fifo/dw
	expect_rc 0 "rm while a write is parked" -- timeout -s KILL 2 rm fifo/dw
	wait_exit "$w" 1000
	expect_eq "$(tail -1 "$WORK/io.out")" "write EIDRM" "the parked write after rm"
}

# A waiting read holds a buffer for its whole wait: it is charged to -o max_memory and no
# larger than the FIFO (cat asks 128 KiB of a 64 KiB FIFO), and given back when the read ends.
test_fifo_waiting_reads_are_charged_to_the_budget() {
	touch fifo/cw
	local m0 m1 m2 pids=() i
	memory() { sed -n '1s/.* memory=\([0-9]*\) .*/\1/p' .ipcfs/status; }
	m0=$(memory)
	for i in 1 2 3 4 5 6 7 8; do
		cat fifo/cw >/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait_blocked "$i" fifo/cw
	done
	m1=$(memory)
	expect_eq "$((m1 - m0))" $((8 * 65536)) "bytes charged for 8 waiting reads"
	echo x >fifo/cw # one reader gets it; the writer gone, the others see end of file
	for i in "${pids[@]}"; do
		wait_exit "$i" 3000
	done
	m2=$(memory)
	expect_eq "$m2" "$m0" "the budget once the reads ended"
}

mount_ipcfs
run_test test_fifo_cat_first_then_seq_100000
run_test test_fifo_two_echos_then_cat
run_test test_fifo_writer_never_blocks_on_open_and_data_is_kept
run_test test_fifo_capacity_xattr
run_test test_fifo_write_blocks_while_full
run_test test_fifo_writes_up_to_4096_bytes_are_atomic
run_test test_fifo_large_write_returns_when_all_written
run_test test_fifo_nonblocking_write_is_partial_or_eagain
run_test test_fifo_nonblocking_read_of_empty_fifo_is_eagain
run_test test_fifo_cat_started_first_waits_for_the_first_writer
run_test test_fifo_writer_that_came_and_went_ends_a_waiting_reader
run_test test_fifo_reader_waits_while_a_writer_has_it_open
run_test test_fifo_reader_that_saw_a_writer_gets_eof_when_it_closes
run_test test_fifo_rdwr_opener_never_gets_eof
run_test test_fifo_timeout_on_a_blocked_reader_takes_nothing
run_test test_fifo_interrupted_blocked_writer_writes_nothing
run_test test_fifo_interrupted_large_write_returns_its_count
run_test test_fifo_timed_out_reads_take_nothing_hammer
run_test test_fifo_interrupt_racing_a_write_loses_nothing
run_test test_fifo_poll_readiness
run_test test_fifo_rm_gives_parked_readers_eidrm
run_test test_fifo_rm_fails_later_io_on_open_descriptors
run_test test_fifo_rm_gives_a_parked_writer_eidrm
run_test test_fifo_waiting_reads_are_charged_to_the_budget
unmount_ipcfs

test_fifo_capacity_mount_option() {
	touch fifo/o
	expect_eq "$(getx fifo/o user.capacity)" 1000 "capacity of a new FIFO"
	expect_eq "$("$IO" -n -w fifo/o open writen:1500)" "open ok
write 1000" "a non-blocking write of 1500"
	expect_eq "$(size fifo/o)" 1000 "bytes buffered"
}

mount_ipcfs -o fifo_capacity=1000
run_test test_fifo_capacity_mount_option
finish
