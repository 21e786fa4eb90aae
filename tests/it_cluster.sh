#!/bin/bash
# it_cluster.sh - cluster mode (-o etcd=): two mounts, a and b, of one cluster on a real
# 3-member etcd (tests/etcd.sh), driven with shell tools: the same names, sizes and owners on
# both, a job limit that holds across them, waiters served first come first served across
# mounts, interrupts with no effect, O_NONBLOCK, everything kept across a restart of both
# daemons, a dead daemon's waiters taken out, and what happens when etcd members die.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/etcd.sh"
source "$(dirname "$0")/cluster.sh"

MNT=$WORK # tests run in the work directory, where the mounts a/ and b/ are
IO=$BUILD_DIR/tests/client_fifo_io

# same_on X Y PATH: `ls -l`'s line of PATH, the same on mounts X and Y (names, sizes, owners,
# modes, mtimes). same_on_both PATH: on a and b.
same_on() {
	local lx ly
	lx=$(ls -l --time-style=+%s.%N "$1/$3" | cut -d' ' -f1,3-)
	ly=$(ls -l --time-style=+%s.%N "$2/$3" | cut -d' ' -f1,3-)
	[ "${lx//$1\//}" == "${ly//$2\//}" ] || fail "$3: $1 shows '$lx', $2 shows '$ly'"
}
same_on_both() { same_on a b "$1"; }

test_cluster_names_sizes_and_owners_are_the_same_on_both_mounts() {
	touch a/sem/s
	# made on a a moment ago: b finds it at once (its lookup catches up with etcd)
	echo 3 >b/sem/s || fail "V on b"
	expect_eq "$(size a/sem/s)" 3 "count on a after V on b"
	wait_until 5 size_is 3 b/sem/s || fail "b's count"
	same_on_both sem/s
	chmod 640 b/sem/s
	chown 123:45 a/sem/s
	wait_until 5 bash -c '[ "$(stat -c %a.%u.%g a/sem/s)" = 640.123.45 ]' || fail "a's attributes"
	wait_until 5 bash -c '[ "$(stat -c %a.%u.%g b/sem/s)" = 640.123.45 ]' || fail "b's attributes"
	mkdir a/sem/app
	touch b/sem/app/jobs
	expect_eq "$(ls a/sem/app)" jobs "a lists what b made"
	expect_err "Directory not empty" "rmdir of a non-empty directory" -- rmdir b/sem/app
	expect_err "not supported" "rename in cluster mode" -- mv a/sem/s a/sem/t
	expect_err "not supported" "one write on several semaphores in cluster mode" -- \
		bash -c 'echo "1 s:1" > a/sem/app/jobs'
	rm a/sem/app/jobs
	rmdir b/sem/app || fail "rmdir on b of what a emptied"
	wait_until 5 bash -c '! [ -e a/sem/app ]' || fail "a still shows the directory"
	rm b/sem/s
	wait_until 5 bash -c '! [ -e a/sem/s ]' || fail "a still shows the semaphore"
	expect_eq "$(ls a/sem b/sem)" "a/sem:

b/sem:" "both empty"
	expect_err "not supported" "a segment in cluster mode (host-local memory)" -- touch a/shm/x
}

# 8 shell jobs, 4 through each mount, each holding one of the 2 units of a/sem/jobs for a
# moment: never more than 2 hold at once, and all 8 run.
test_cluster_a_job_limit_of_2_holds_across_both_mounts_under_8_jobs() {
	local m i pids=() max=0 cur=0 line
	touch a/sem/jobs
	echo 2 >a/sem/jobs
	: >"$WORK/jobs.log"
	for i in 1 2 3 4 5 6 7 8; do
		m=$([ $((i % 2)) -eq 0 ] && echo a || echo b)
		(
			read -r _ <"$m/sem/jobs" # P
			echo "+ $i" >>"$WORK/jobs.log"
			sleep 0.2
			echo "- $i" >>"$WORK/jobs.log"
			echo 1 >"$m/sem/jobs" # V
		) &
		pids+=($!)
	done
	wait "${pids[@]}"
	while read -r line; do
		case $line in
		+*) cur=$((cur + 1)) ;;
		-*) cur=$((cur - 1)) ;;
		esac
		[ "$cur" -gt "$max" ] && max=$cur
	done <"$WORK/jobs.log"
	expect_eq "$(grep -c '^+' "$WORK/jobs.log")" 8 "jobs that ran"
	expect_eq "$max" 2 "most jobs at once"
	expect_eq "$(size a/sem/jobs)" 2 "units at the end (a)"
	wait_until 5 size_is 2 b/sem/jobs || fail "units at the end (b): $(size b/sem/jobs)"
	rm a/sem/jobs
}

# Waiters queued alternately through a and b are served in the order they came.
test_cluster_waiters_are_served_in_order_across_mounts() {
	local i m pids=() order=
	touch a/sem/q
	for i in 1 2 3 4; do
		m=$([ $((i % 2)) -eq 0 ] && echo b || echo a)
		( echo -1 >"$m/sem/q" && echo "$i" >>"$WORK/order" ) &
		pids+=($!)
		wait_blocked "${pids[-1]}" "$m/sem/q"
		# its P is in the log once the other mount shows it waiting
		wait_until 5 grep -q "waiters=$i" a/.ipcfs/status || fail "a sees $i waiters"
		wait_until 5 grep -q "waiters=$i" b/.ipcfs/status || fail "b sees $i waiters"
	done
	for i in 1 2 3 4; do
		m=$([ $((i % 2)) -eq 0 ] && echo a || echo b) # V through the other mount
		echo 1 >"$m/sem/q"
		wait_until 5 bash -c "[ \$(wc -l <'$WORK/order') -ge $i ]" || fail "waiter $i not served"
	done
	wait "${pids[@]}"
	expect_eq "$(tr '\n' ' ' <"$WORK/order")" "1 2 3 4 " "the order they were served in"
	rm a/sem/q
}

# A P interrupted while it waits takes nothing: the unit a V brings afterwards stays; a P
# with O_NONBLOCK on an empty semaphore fails EAGAIN and queues nothing.
test_cluster_an_interrupted_p_takes_nothing_and_nonblock_does_not_wait() {
	local t0
	touch a/sem/i
	t0=$(now_ms)
	timeout 0.5 sh -c 'echo -1 >b/sem/i'
	expect_eq "$?" 124 "the P timed out"
	[ $(($(now_ms) - t0)) -lt 1500 ] || fail "the timed-out P took $(($(now_ms) - t0)) ms"
	expect_err "Resource temporarily unavailable" "O_NONBLOCK P on 0" -- \
		dd if=a/sem/i of=/dev/null bs=1 count=1 iflag=nonblock status=none
	echo 1 >a/sem/i
	wait_until 5 size_is 1 b/sem/i || fail "b's count"
	expect_eq "$(size a/sem/i)" 1 "a's count: the interrupted P took nothing"
	expect_eq "$(grep -c '^wait' a/.ipcfs/status)" 0 "waiters left on a"
	expect_eq "$(grep -c '^wait' b/.ipcfs/status)" 0 "waiters left on b"
	dd if=b/sem/i of=/dev/null bs=1 count=1 iflag=nonblock status=none || fail "P of the unit"
	expect_eq "$(size b/sem/i)" 0 "the unit taken"
	rm a/sem/i
}

# Both daemons stop and start again: names, counts and attributes are still there (they are
# in etcd); a waiter of a stopped daemon is gone from the queue.
test_cluster_everything_survives_a_restart_of_both_daemons() {
	local pid
	touch a/sem/keep
	mkdir b/sem/dir
	touch b/sem/dir/inner
	echo 7 >a/sem/keep
	echo 2 >b/sem/dir/inner
	chmod 600 a/sem/keep
	echo -3 >b/sem/dir/inner 2>/dev/null &
	pid=$!
	wait_blocked "$pid" b/sem/dir/inner
	cluster_unmount a
	cluster_unmount b
	wait "$pid" 2>/dev/null
	expect_eq "$?" 1 "the waiter of a stopped daemon fails"
	cluster_mount a
	cluster_mount b
	expect_eq "$(size b/sem/keep)" 7 "count on b"
	expect_eq "$(size a/sem/dir/inner)" 2 "inner count on a"
	expect_eq "$(stat -c %a a/sem/keep)" 600 "mode"
	same_on_both sem/keep
	same_on_both sem/dir/inner
	echo 1 >a/sem/dir/inner
	echo -3 >b/sem/dir/inner || fail "P(3) after the restart (a dead waiter ahead?)"
	expect_eq "$(size a/sem/dir/inner)" 0 "inner count"
	rm a/sem/keep a/sem/dir/inner
	rmdir a/sem/dir
}

# A FIFO across mounts: `cat` on b started first waits for the first writer, gets `seq`'s
# bytes written through a in order, and end of file at the writer's close; bytes written and
# not read stay for the next reader, on either mount, also across a restart of both daemons;
# the size and capacity are the same on both.
test_cluster_a_fifo_streams_bytes_across_mounts() {
	local pid
	touch a/fifo/f
	cat b/fifo/f >"$WORK/fifo.got" &
	pid=$!
	wait_blocked "$pid" b/fifo/f
	seq 100000 >a/fifo/f
	wait_exit "$pid" 10000 || fail "cat on b did not end at the writer's close"
	cmp -s "$WORK/fifo.got" <(seq 100000) || fail "cat on b: not seq's bytes ($(wc -c <"$WORK/fifo.got") bytes)"
	printf 'one\n' >a/fifo/f
	printf 'two\n' >b/fifo/f
	wait_until 5 size_is 8 a/fifo/f || fail "a's size: $(size a/fifo/f)"
	same_on_both fifo/f
	expect_err "busy" "user.capacity while bytes are buffered" -- \
		setfattr -n user.capacity -v 100000 b/fifo/f
	cluster_unmount a
	cluster_unmount b
	cluster_mount a
	cluster_mount b
	expect_eq "$(size b/fifo/f)" 8 "bytes kept across the restart"
	expect_eq "$(head -c 4 b/fifo/f)" one "the first write, read through b"
	expect_eq "$(cat a/fifo/f)" two "the second, through a, then end of file"
	setfattr -n user.capacity -v 100000 b/fifo/f || fail "user.capacity of an empty FIFO"
	wait_until 5 bash -c '[ "$(getfattr --only-values -n user.capacity a/fifo/f)" = 100000 ]' ||
		fail "a does not see b's capacity"
	rm a/fifo/f
}

# 4 writers, 2 through each mount, 300 records of 4096 bytes each into one FIFO read on b in
# odd-sized pieces: no record torn (writes of 4096 bytes are atomic), lost, duplicated or out
# of its writer's order; then records of 20000 bytes and of 128 KiB (not atomic: in pieces,
# but every byte once, in order).
test_cluster_fifo_writes_up_to_4096_bytes_are_atomic_across_mounts() {
	local out
	touch a/fifo/r
	out=$(timeout 120 "$BUILD_DIR/tests/client_fifo_records" -w a/fifo/r -w b/fifo/r b/fifo/r 4 300 2>&1)
	expect_eq "$?" 0 "client_fifo_records: $out"
	say "4096-byte records: $out"
	out=$(timeout 60 "$BUILD_DIR/tests/client_fifo_records" -s 20000 -w a/fifo/r -w b/fifo/r \
		a/fifo/r 2 50 2>&1)
	say "20000-byte records: $out"
	[[ "$out" == "records 100 torn "* ]] || fail "20000-byte records: $out"
	[[ "$out" == *" disorder 0 short 0"* ]] || fail "20000-byte records lost or out of order: $out"
	# 12 writes of 128 KiB at once per mount: more than etcd takes in one request (1.5 MiB),
	# so a daemon splits what its callers submitted into several transactions
	out=$(timeout 60 "$BUILD_DIR/tests/client_fifo_records" -s 131072 -w a/fifo/r -w b/fifo/r \
		a/fifo/r 24 2 2>&1)
	say "128 KiB records: $out"
	[[ "$out" == "records 48 torn "* && "$out" == *" disorder 0 short 0"* ]] ||
		fail "128 KiB records: $out"
	rm a/fifo/r
}

# An interrupted read takes nothing, O_NONBLOCK does not wait, and a reader waiting on b gets
# end of file when a's writer's daemon dies (its open is closed by the lease's expiry).
test_cluster_fifo_interrupts_nonblock_and_a_dead_writers_daemon() {
	local pid wpid
	touch a/fifo/i
	(exec 9>a/fifo/i && exec sleep 1000) & # a writer, so that reads wait
	wpid=$!
	disown "$wpid"
	wait_until 5 bash -c "grep -q 'path=/fifo/i .*writers=1' b/.ipcfs/status" ||
		fail "b does not count a's writer"
	timeout -s INT 0.5 cat b/fifo/i
	expect_eq "$?" 124 "a read on b waits while a's writer is open"
	expect_err "Resource temporarily unavailable" "O_NONBLOCK read" -- \
		dd if=b/fifo/i of=/dev/null iflag=nonblock count=1 status=none
	echo x >a/fifo/i
	expect_eq "$(timeout 5 head -c 2 b/fifo/i)" x "what was written after the interrupted read"
	cat b/fifo/i >"$WORK/eof" &
	pid=$!
	wait_blocked "$pid" b/fifo/i
	cluster_kill a
	wait_exit "$pid" 5000 || fail "b's reader got no end of file after a's daemon died"
	kill -KILL "$wpid"
	cluster_mount a
	rm a/fifo/i
}

# A daemon killed with SIGKILL: once its lease expires (lease_ttl=2), its waiter leaves the
# queue everywhere, and a waiter behind it is served by the next V.
test_cluster_a_dead_daemons_waiters_leave_the_queue() {
	local pid t0
	touch a/sem/d
	echo -1 >b/sem/d 2>/dev/null &
	pid=$!
	wait_blocked "$pid" b/sem/d
	wait_until 5 grep -q "waiters=1" a/.ipcfs/status || fail "a sees b's waiter"
	t0=$(now_ms)
	cluster_kill b
	wait "$pid" 2>/dev/null
	wait_until 10 grep -q "waiters=0" a/.ipcfs/status || fail "b's waiter still queued on a"
	say "b's waiter left a's queue $(($(now_ms) - t0)) ms after b's daemon died (lease_ttl 2 s)"
	[ $(($(now_ms) - t0)) -le 3500 ] || fail "later than lease_ttl + 1.5 s"
	echo -1 >a/sem/d &
	pid=$!
	wait_blocked "$pid" a/sem/d
	echo 1 >a/sem/d
	wait_exit "$pid" 3000
	expect_eq "$RC" 0 "the waiter behind the dead one got the unit"
	cluster_mount b
	expect_eq "$(size b/sem/d)" 0 "count on the remounted b"
	rm a/sem/d
}

# One etcd member down: service goes on. Two down: an operation fails with EIO within the
# bound (etcd_timeout=2), a waiter stays parked; both back: service resumes, the waiter is
# served, nothing was applied twice or lost.
test_cluster_etcd_member_failures() {
	local pid t0 rc late
	touch a/sem/f
	etcd_member_kill 1
	echo 2 >a/sem/f || fail "V with one member down"
	echo -1 >b/sem/f || fail "P with one member down"
	expect_eq "$(size a/sem/f)" 1 "count with one member down"
	echo -2 >b/sem/f 2>/dev/null &
	pid=$!
	wait_blocked "$pid" b/sem/f
	wait_until 5 grep -q "waiters=1" a/.ipcfs/status || fail "a sees b's waiter"
	etcd_member_kill 2
	t0=$(now_ms)
	echo 1 >a/sem/f 2>"$WORK/eio"
	rc=$?
	say "V without quorum: status $rc after $(($(now_ms) - t0)) ms: $(cat "$WORK/eio")"
	expect_eq "$rc" 1 "a V without quorum fails"
	grep -q "Input/output error" "$WORK/eio" || fail "not EIO: $(cat "$WORK/eio")"
	[ $(($(now_ms) - t0)) -le 3500 ] || fail "EIO after more than etcd_timeout + 1.5 s"
	blocked "$pid" || fail "the parked P(2) was answered during the outage"
	# a daemon that cannot read the cluster mounts nothing: status 1, within the bound
	mkdir -p "$WORK/c"
	t0=$(now_ms)
	timeout 30 "$IPCFS" -f -o "etcd=$ETCD_ENDPOINTS,cluster=t,$CLUSTER_OPTS" "$WORK/c" 2>"$WORK/c.err"
	rc=$?
	say "mount without quorum: status $rc after $(($(now_ms) - t0)) ms: $(cat "$WORK/c.err")"
	expect_eq "$rc" 1 "a mount without quorum"
	if grep -q " $WORK/c fuse" /proc/mounts; then
		fail "mounted without quorum"
		fusermount3 -u -z "$WORK/c"
	fi
	etcd_member_start 1
	etcd_member_start 2
	etcd_wait_healthy 30 || fail "etcd did not recover"
	wait_until 10 bash -c 'echo 1 >a/sem/f' || fail "service did not resume"
	wait_exit "$pid" 10000
	expect_eq "$RC" 0 "the parked P(2) served after recovery"
	# A V answered EIO that etcd had taken before it lost its quorum commits once it is
	# back: the daemon says so (docs/semantics.md); every other one had no effect.
	late=$(grep -c "landed after its caller got EIO" a.log)
	say "V answered EIO that landed all the same: $late"
	wait_until 5 size_is "$late" b/sem/f || fail "count after recovery: $(size b/sem/f)"
	expect_eq "$(size a/sem/f)" "$late" "count on a"
	rm a/sem/f
}

# A mutex held through a blocks an open through b (O_NONBLOCK: EAGAIN); the holder's SIGKILL
# hands it to b's waiter, and that one's death frees it, on both mounts.
test_cluster_a_mutex_held_on_a_blocks_b_and_its_holders_death_frees_it() {
	local holder waiter
	rm -f "$WORK/got"
	touch a/mutex/m
	(exec 9<a/mutex/m && exec sleep 1000) &
	holder=$!
	disown "$holder" # killed on purpose: no "Killed" notice
	wait_until 5 size_is 1 b/mutex/m || fail "b does not see the mutex held"
	expect_err "Resource temporarily unavailable" "O_NONBLOCK open on b" -- \
		dd if=b/mutex/m of=/dev/null iflag=nonblock status=none
	timeout 0.5 cat b/mutex/m
	expect_eq "$?" 124 "an open on b waits"
	(exec 9<b/mutex/m && echo got >"$WORK/got" && exec sleep 1000) &
	waiter=$!
	disown "$waiter"
	wait_blocked "$waiter" b/mutex/m
	[ -e "$WORK/got" ] && fail "b's waiter got a held mutex"
	kill -KILL "$holder"
	wait_until 5 test -e "$WORK/got" || fail "the holder's death did not hand it to b's waiter"
	expect_eq "$(size a/mutex/m)" 1 "held by b's waiter, seen on a"
	kill -KILL "$waiter"
	wait_until 5 size_is 0 a/mutex/m || fail "a: not freed by the death of b's holder"
	wait_until 5 size_is 0 b/mutex/m || fail "b: not freed by the death of its holder"
	rm a/mutex/m
}

# Two processes deadlocked across the mounts (x holds m1 through a and waits for m2, y the
# other way through b): /.ipcfs and `ipcctl deadlock` on either mount see both, named
# host:pid, and find the deadlock; once they are killed, none.
test_cluster_inspection_and_deadlock_see_every_host() {
	local x y z host out rc m
	host=$(hostname)
	touch a/mutex/m1 a/mutex/m2
	(exec 8<a/mutex/m1 && touch "$WORK/x1" && wait_until 5 test -e "$WORK/y1" &&
		exec 9<a/mutex/m2 && exec sleep 1000) &
	x=$!
	disown "$x"
	(exec 8<b/mutex/m2 && touch "$WORK/y1" && wait_until 5 test -e "$WORK/x1" &&
		exec 9<b/mutex/m1 && exec sleep 1000) &
	y=$!
	disown "$y"
	wait_blocked "$x" a/mutex/m2
	wait_blocked "$y" b/mutex/m1
	wait_until 5 grep -q "^wait path=/mutex/m1 pid=$y .*host=$host " a/.ipcfs/status ||
		fail "a's status does not show b's waiter with its host: $(grep mutex a/.ipcfs/status)"
	grep -q "^hold path=/mutex/m2 pid=$y tid=$y pgid=-1 comm=? host=$host " a/.ipcfs/status ||
		fail "a's status does not show b's holder: $(grep mutex a/.ipcfs/status)"
	grep -q "^hold path=/mutex/m1 pid=$x tid=$x pgid=[0-9]* comm=bash host=$host " \
		a/.ipcfs/status || fail "a's status does not show its own holder with its command"
	for m in a b; do
		out=$(timeout 10 "$BUILD_DIR/ipcctl" -m "$m" deadlock 2>&1)
		rc=$?
		expect_eq "$rc" 3 "ipcctl -m $m deadlock: the deadlock across mounts"
		expect_contains "$out" "pid $host:$x " "ipcctl -m $m deadlock names x by host:pid"
		expect_contains "$out" "pid $host:$y " "ipcctl -m $m deadlock names y by host:pid"
	done
	out=$(timeout 10 "$BUILD_DIR/ipcctl" -m b stat mutex/m1 2>&1)
	expect_contains "$out" "host $host pid $x " "ipcctl stat on b: a's holder, with its host"
	# a semaphore's holders too (the units a P took and no V gave back)
	echo 2 >a/sem/h
	(read <a/sem/h && exec sleep 1000) &
	z=$!
	disown "$z"
	wait_until 5 grep -q "^hold path=/sem/h pid=$z tid=$z pgid=-1 comm=? host=$host units=1 " \
		b/.ipcfs/status || fail "b's status does not show a's semaphore holder"
	kill -KILL "$x" "$y" "$z"
	rm a/sem/h
	wait_until 5 size_is 0 a/mutex/m1 || fail "m1 not freed"
	wait_until 5 size_is 0 b/mutex/m2 || fail "m2 not freed"
	expect_rc 0 "ipcctl deadlock once they are gone" -- timeout 10 "$BUILD_DIR/ipcctl" -m a deadlock >/dev/null
	rm a/mutex/m1 a/mutex/m2
}

# A mutex held through b is freed for a's waiter when b's daemon dies: within lease_ttl + 1 s.
test_cluster_a_mutex_is_freed_when_its_holders_daemon_dies() {
	local holder waiter t0 dt
	touch b/mutex/d
	(exec 9<b/mutex/d && exec sleep 1000) &
	holder=$!
	disown "$holder"
	wait_until 5 size_is 1 a/mutex/d || fail "a does not see the mutex held"
	(exec 9<a/mutex/d && echo got >"$WORK/got.d" && exec sleep 1000) &
	waiter=$!
	disown "$waiter"
	wait_blocked "$waiter" a/mutex/d
	t0=$(now_ms)
	cluster_kill b
	wait_until 10 test -e "$WORK/got.d" || fail "a's waiter never got it"
	dt=$(($(now_ms) - t0))
	say "a's waiter got the mutex $dt ms after b's daemon died (lease_ttl 2 s)"
	[ "$dt" -le 3000 ] || fail "later than lease_ttl + 1 s: $dt ms"
	kill -KILL "$holder" "$waiter"
	cluster_mount b
	wait_until 5 size_is 0 b/mutex/d || fail "b, mounted again: still held"
	rm a/mutex/d
}

# Messages sent through one mount are received through the other: one per write, higher
# priority first, a waiting receive is served by a send elsewhere, an interrupted receive takes
# nothing, limits set on one mount hold on the other.
test_cluster_messages_cross_mounts_with_their_boundaries_and_priorities() {
	local pid
	touch a/mq/q
	echo one >a/mq/q
	echo urgent >b/mq/q@9
	wait_until 5 size_is 2 a/mq/q || fail "a does not see 2 messages"
	expect_eq "$(cat b/mq/q)" urgent "first received (priority 9)"
	expect_eq "$(cat a/mq/q)" one "then"
	cat b/mq/q >"$WORK/got.q" &
	pid=$!
	wait_blocked "$pid" b/mq/q
	echo hello >a/mq/q
	wait_exit "$pid" 3000
	expect_eq "$(cat "$WORK/got.q")" hello "a waiting receive on b, served by a send on a"
	expect_rc 124 "a receive that times out" -- timeout 0.5 cat b/mq/q
	echo kept >a/mq/q
	expect_eq "$(size a/mq/q)" 1 "the interrupted receive took nothing (a)"
	wait_until 5 size_is 1 b/mq/q || fail "b: $(size b/mq/q) messages"
	expect_eq "$(cat b/mq/q)" kept "the message the interrupted receive left"
	setfattr -n user.max_msgs -v 1 b/mq/q
	wait_until 5 bash -c '[ "$(getfattr --only-values -n user.max_msgs a/mq/q)" = 1 ]' ||
		fail "a does not see b's max_msgs"
	echo fills >a/mq/q
	expect_err "write EAGAIN" "O_NONBLOCK send to a full queue" -- \
		"$IO" -n -w -x b/mq/q open write:more
	expect_eq "$(cat b/mq/q)" fills "the message that filled it"
	rm a/mq/q
}

# 4 producers and 4 consumers, two of each per mount, 5,000 distinct messages (1,000 under a
# sanitizer: lib.sh's scaled); consumers
# killed at random (timeout's SIGTERM, which they handle: a read it ends returns EINTR, having
# taken nothing, or its message, which the consumer then reports): the multiset received is
# the multiset sent.
test_cluster_4_producers_4_consumers_5000_messages_consumers_killed_at_random() {
	local p c m pids=() cons=() k reads t0 per
	per=$(scaled 1250) # messages per producer
	reads=$(printf 'read:100 %.0s' $(seq 400)) # 200 messages, if no signal comes first
	t0=$(now_ms)
	touch a/mq/work
	for p in 1 2 3 4; do
		m=$([ $((p % 2)) -eq 0 ] && echo a || echo b)
		(for ((k = 1; k <= per; k++)); do echo "p$p-$k"; done >"$m/mq/work") &
		pids+=($!)
	done
	for c in 1 2 3 4; do
		m=$([ $((c % 2)) -eq 0 ] && echo b || echo a)
		(while [ ! -e "$WORK/producers.done" ] || [ "$(size "$m/mq/work")" -gt 0 ]; do
			# -s: a signal spent between two calls (in the open, say) ends the
			# client before its next read. -k: it can still come between that check
			# and the read() (a few instructions); then the read would wait for good
			ASAN_OPTIONS=$NO_LEAK_CHECK timeout -k 5 "0.$((RANDOM % 9 + 1))" "$IO" -x -s -H TERM \
				"$m/mq/work" open $reads
		done >"$WORK/cons.$c") &
		cons+=($!)
	done
	wait "${pids[@]}"
	touch "$WORK/producers.done"
	wait "${cons[@]}"
	grep '^read [1-9]' "$WORK"/cons.* | sed 's/^[^"]*"//; s/\\n"$//' | sort >"$WORK/received"
	for p in 1 2 3 4; do seq 1 "$per" | sed "s/^/p$p-/"; done | sort >"$WORK/sent"
	say "$(cat "$WORK"/cons.* | grep -c '^open ok') consumer processes, $(cat "$WORK"/cons.* |
		grep -c 'read EINTR') receives interrupted, $(($(now_ms) - t0)) ms"
	if ! cmp -s "$WORK/sent" "$WORK/received"; then
		fail "received $(wc -l <"$WORK/received") of $((4 * per)); lost: $(comm -23 "$WORK/sent" \
			"$WORK/received" | head -5 | tr '\n' ' ') duplicated or odd: $(comm -13 \
			"$WORK/sent" "$WORK/received" | head -5 | tr '\n' ' ')"
	fi
	expect_eq "$(size a/mq/work)" 0 "left in the queue"
	rm a/mq/work
}

# etcd_get KEY: its value; etcd_count PREFIX: how many keys begin with PREFIX.
etcdctl3() { ETCDCTL_API=3 timeout 10 etcdctl --endpoints="${ETCD_ENDPOINTS//+/,}" "$@"; }
etcd_get() { etcdctl3 get --print-value-only "$1"; }
etcd_count() { etcdctl3 get --prefix --keys-only "$1" | grep -c .; }

# A checkpoint (every 100 operations here: CLUSTER_OPTS) rebuilds every type for a daemon that
# joins after it, and the log it covers is deleted: a semaphore with a holder and a waiter, a
# mutex held and waited for, a queue's messages (priorities, a limit, two read in part by
# opens), a FIFO's bytes and its writer. The new mount c shows them as a does (sizes, mtimes,
# holders, waiters) and acts on them as a and b do: its V serves a's waiter, its reads get the
# messages and the bytes in order, the rest of a message read in part is its open's.
test_cluster_a_checkpoint_rebuilds_every_type_for_a_daemon_joining_later() {
	local holder pwait mholder mwait fw ptr i n p host vkey vval
	host=$(hostname)
	touch a/sem/ck a/mutex/ck a/mq/ck a/fifo/ck a/sem/pad
	echo 3 >a/sem/ck
	(echo -2 >b/sem/ck && exec sleep 1000) &
	holder=$!
	disown "$holder"
	wait_until 5 size_is 1 a/sem/ck || fail "the holder's P(2)"
	echo -4 >a/sem/ck 2>/dev/null &
	pwait=$!
	wait_blocked "$pwait" a/sem/ck
	(exec 9<a/mutex/ck && exec sleep 1000) &
	mholder=$!
	disown "$mholder"
	wait_until 5 size_is 1 b/mutex/ck || fail "the mutex is not held"
	(exec 9<b/mutex/ck && touch "$WORK/got.ck" && exec sleep 1000) &
	mwait=$!
	disown "$mwait"
	wait_blocked "$mwait" b/mutex/ck
	setx a/mq/ck user.max_msgs 7
	echo partly >a/mq/ck
	exec 6<a/mq/ck
	expect_eq "$(dd bs=3 count=1 status=none <&6)" par "the first 3 bytes of a message"
	echo again >b/mq/ck
	exec 5<b/mq/ck # on each mount: one is the daemon that takes the checkpoint
	expect_eq "$(dd bs=2 count=1 status=none <&5)" ag "the first 2 bytes of the next one"
	echo one >a/mq/ck
	echo two >b/mq/ck@5
	echo three >a/mq/ck
	(exec 7>a/fifo/ck && printf 'hello\n' >&7 && exec sleep 1000) &
	fw=$!
	disown "$fw"
	wait_until 5 size_is 6 b/fifo/ck || fail "the FIFO's bytes"
	# enough operations for a checkpoint after all of that; the first one's key and value
	ptr=$(etcd_get /ipcfs/t/c)
	echo 1 >a/sem/pad
	vkey=$(etcdctl3 get --prefix /ipcfs/t/l/ | grep -a -B1 ' sem/pad$' | head -1)
	vval=$(etcd_get "$vkey")
	for i in $(seq 119); do echo 1 >a/sem/pad; done
	wait_until 10 bash -c "[ \"\$(ETCDCTL_API=3 etcdctl --endpoints=${ETCD_ENDPOINTS//+/,} \
		get --print-value-only /ipcfs/t/c)\" != '$ptr' ]" || fail "no checkpoint was written"
	n=$(etcd_count /ipcfs/t/l/)
	[ "$n" -lt 100 ] || fail "the log it covers was not deleted: $n operations in etcd"
	wait_until 5 bash -c "[ \$(ETCDCTL_API=3 etcdctl --endpoints=${ETCD_ENDPOINTS//+/,} \
		get --prefix --keys-only /ipcfs/t:s/ | grep -o '^/ipcfs/t:s/[^/]*/' | sort -u |
		wc -l) = 1 ]" || fail "the checkpoints before the newest were not deleted"
	say "after 120 V: $n operations left in the log; checkpoint $(etcd_get /ipcfs/t/c | head -1)"
	# the first V's write, retried after its first attempt landed and was deleted, lands
	# again: every daemon ignores it, and so does one that joins later
	[ -n "$vval" ] && [ -z "$(etcd_get "$vkey")" ] || fail "the first V is still in the log"
	etcdctl3 put "$vkey" "$vval" >/dev/null || fail "etcdctl put"
	sleep 0.5
	expect_eq "$(size a/sem/pad).$(size b/sem/pad)" 120.120 "counts after a V landed twice"
	cluster_mount c
	for p in sem/ck mutex/ck mq/ck fifo/ck sem/pad; do same_on a c "$p"; done
	expect_eq "$(size c/sem/pad)" 120 "the count the log's operations left"
	expect_eq "$(getx c/mq/ck user.max_msgs)" 7 "the queue's limit"
	grep -q "^hold path=/sem/ck pid=$holder .*host=$host units=2 " c/.ipcfs/status ||
		fail "c: no holder of 2 units: $(grep /sem/ck c/.ipcfs/status)"
	grep -q "^wait path=/sem/ck pid=$pwait " c/.ipcfs/status || fail "c: no waiter of sem/ck"
	grep -q "^hold path=/mutex/ck pid=$mholder " c/.ipcfs/status || fail "c: no mutex holder"
	grep -q "^wait path=/mutex/ck pid=$mwait " c/.ipcfs/status || fail "c: no mutex waiter"
	# c acts on what it rebuilt as a and b do
	echo 3 >c/sem/ck # 1 + 3 = 4: a's waiter first in line
	wait_exit "$pwait" 5000
	for p in a b c; do wait_until 5 size_is 0 "$p/sem/ck" || fail "$p: count $(size $p/sem/ck)"; done
	kill -KILL "$mholder"
	wait_until 5 test -e "$WORK/got.ck" || fail "the mutex waiter was not handed the mutex"
	wait_until 5 grep -q "^hold path=/mutex/ck pid=$mwait " c/.ipcfs/status ||
		fail "c: not held by the waiter it was handed to"
	expect_eq "$(timeout 5 dd bs=100 count=1 status=none <&6)" tly "the rest, through the open"
	expect_eq "$(timeout 5 dd bs=100 count=1 status=none <&5)" ain "the rest, through the open"
	exec 6<&- 5<&-
	# (bounded: a replica that lost a message would wait for it)
	expect_eq "$(timeout 5 cat c/mq/ck)" two "first received on c (priority 5)"
	expect_eq "$(timeout 5 cat b/mq/ck)" one "then"
	same_on a c mq/ck
	expect_eq "$(timeout 5 cat c/mq/ck)" three "then"
	kill -KILL "$fw"
	expect_eq "$(timeout 5 cat c/fifo/ck)" hello "the FIFO's bytes, then end of file"
	kill -KILL "$holder" "$mwait"
	cluster_unmount c
	rm a/sem/ck a/mutex/ck a/mq/ck a/fifo/ck a/sem/pad
}

etcd_cluster_start 3
cluster_mount a
cluster_mount b
run_test test_cluster_names_sizes_and_owners_are_the_same_on_both_mounts
run_test test_cluster_a_job_limit_of_2_holds_across_both_mounts_under_8_jobs
run_test test_cluster_waiters_are_served_in_order_across_mounts
run_test test_cluster_an_interrupted_p_takes_nothing_and_nonblock_does_not_wait
run_test test_cluster_everything_survives_a_restart_of_both_daemons
run_test test_cluster_a_dead_daemons_waiters_leave_the_queue
run_test test_cluster_a_fifo_streams_bytes_across_mounts
run_test test_cluster_fifo_writes_up_to_4096_bytes_are_atomic_across_mounts 150
run_test test_cluster_fifo_interrupts_nonblock_and_a_dead_writers_daemon
run_test test_cluster_messages_cross_mounts_with_their_boundaries_and_priorities
run_test test_cluster_4_producers_4_consumers_5000_messages_consumers_killed_at_random 300
run_test test_cluster_a_mutex_held_on_a_blocks_b_and_its_holders_death_frees_it
run_test test_cluster_inspection_and_deadlock_see_every_host
run_test test_cluster_a_mutex_is_freed_when_its_holders_daemon_dies
run_test test_cluster_etcd_member_failures 120
run_test test_cluster_a_checkpoint_rebuilds_every_type_for_a_daemon_joining_later 120
cluster_finish
finish
