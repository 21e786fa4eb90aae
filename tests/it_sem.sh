#!/bin/bash
# it_sem.sh - semaphores through the mounted filesystem, driven with shell tools and, where a
# shell cannot tell what a system call returned, with tests/client_block.c.
source "$(dirname "$0")/lib.sh"

CB=$BUILD_DIR/tests/client_block


test_sem_created_with_count_zero() {
	touch sem/s
	expect_eq "$(size sem/s)" 0 "new semaphore count"
	expect_eq "$(stat -c %F sem/s)" "regular empty file" "file type"
}

test_sem_pool_of_three_then_blocks() {
	echo 3 > sem/pool
	expect_eq "$(size sem/pool)" 3 "count after V(3)"
	for i in 1 2 3; do
		expect_rc 0 "P number $i returns at once" -- timeout 2 cat sem/pool
	done
	expect_eq "$(size sem/pool)" 0 "count after three P"
	cat sem/pool &
	local waiter=$!
	sleep 0.2
	kill -0 "$waiter" 2>/dev/null || fail "the fourth P did not block"
	echo > sem/pool
	wait_until 2 eval '! kill -0 '"$waiter"' 2>/dev/null' || fail "V did not release the fourth P"
	wait "$waiter"
	expect_eq "$?" 0 "the fourth P's exit status"
	expect_eq "$(size sem/pool)" 0 "count after V and P"
}

test_sem_timeout_takes_nothing() {
	touch sem/empty
	expect_rc 124 "timeout 1 cat on an empty semaphore" -- timeout 1 cat sem/empty
	expect_eq "$(size sem/empty)" 0 "count after the interrupted P"
	echo > sem/empty
	expect_eq "$(size sem/empty)" 1 "a V after the interrupted P is not eaten by it"
}

test_sem_nonblocking_read_is_eagain() {
	touch sem/nb
	expect_err "Resource temporarily unavailable" "dd iflag=nonblock" -- \
		dd if=sem/nb iflag=nonblock count=1 status=none
	expect_eq "$(size sem/nb)" 0 "count unchanged"
}

test_sem_bad_text_is_einval_and_changes_nothing() {
	echo 2 > sem/t
	for bad in hello 1x "+0" "-0" "1 2" 2147483648 -2147483648 "--1"; do
		expect_err "Invalid argument" "write '$bad'" -- bash -c "echo '$bad' > sem/t"
	done
	expect_eq "$(size sem/t)" 2 "count after bad writes"
}

test_sem_overflow_is_eoverflow() {
	echo 2147483647 > sem/big
	expect_eq "$(size sem/big)" 2147483647 "count at the maximum"
	expect_err "Value too large" "V past INT32_MAX" -- bash -c 'echo > sem/big'
	expect_eq "$(size sem/big)" 2147483647 "count unchanged by the overflow"
}

test_sem_write_text_forms() {
	touch sem/v
	echo > sem/v
	expect_eq "$(size sem/v)" 1 "empty line: V(1)"
	echo 5 > sem/v
	expect_eq "$(size sem/v)" 6 "N: V(N)"
	echo +2 > sem/v
	expect_eq "$(size sem/v)" 8 "+N: V(N)"
	printf ' \t3 \n' > sem/v
	expect_eq "$(size sem/v)" 11 "white space around N"
	expect_rc 0 "-N with enough units returns at once" -- timeout 2 bash -c 'echo -4 > sem/v'
	expect_eq "$(size sem/v)" 7 "-N: P(N)"
	expect_rc 0 "-N taking every unit" -- timeout 2 bash -c 'echo -7 > sem/v'
	expect_eq "$(size sem/v)" 0 "count after taking all"
}

test_sem_read_is_one_p_returning_nothing() {
	echo 4 > sem/r
	expect_eq "$(cat sem/r | wc -c)" 0 "bytes cat of a semaphore prints"
	expect_eq "$(size sem/r)" 3 "cat is one P"
	read -r < sem/r # a bash builtin: one P, without a fork (status 1: end of file)
	expect_eq "$(size sem/r)" 2 "read < sem is one P"
	expect_eq "$("$CB" sem/r open read read)" "open ok
read ok
read ok" "two reads on one descriptor"
	expect_eq "$(size sem/r)" 0 "each read() on a descriptor is one P"
}

test_sem_minus_n_takes_n_at_once_or_nothing() {
	echo 2 > sem/n
	expect_rc 124 "P(3) with 2 units waits" -- timeout 0.5 bash -c 'echo -3 > sem/n'
	expect_eq "$(size sem/n)" 2 "an interrupted P(3) took nothing, not even the 2 there were"
	expect_rc 0 "P(2) with 2 units returns at once" -- timeout 2 bash -c 'echo -2 > sem/n'
	expect_eq "$(size sem/n)" 0 "count after P(2)"
}

test_sem_p_n_at_the_head_is_not_overtaken() {
	echo 3 > sem/f
	"$CB" -w -H USR1 sem/f open write:-5 >"$WORK/p5" &
	local p5=$! p1
	wait_blocked "$p5" sem/f
	expect_rc 124 "a later P(1) waits behind the P(5) although 3 units are there" -- \
		timeout 0.5 cat sem/f
	expect_eq "$(size sem/f)" 3 "count while P(5) waits at the head"
	cat sem/f &
	p1=$!
	wait_blocked "$p1" sem/f
	kill -USR1 "$p5"
	wait_exit "$p5" 1000
	expect_eq "$RC:$(tail -1 "$WORK/p5")" "4:write:-5 EINTR" "the interrupted P(5)"
	wait_exit "$p1" 1000 # the P(1) behind it goes as soon as the head leaves
	expect_eq "$RC" 0 "the P(1) once the P(5) left the queue"
	expect_eq "$(size sem/f)" 2 "count: the P(1) took one, the P(5) nothing"
}

test_sem_readers_are_served_in_arrival_order() {
	touch sem/o
	local pids=() i
	for i in 0 1 2; do
		"$CB" sem/o open read >/dev/null &
		pids[i]=$!
		wait_blocked "${pids[i]}" sem/o
	done
	for i in 0 1 2; do
		echo > sem/o
		wait_exit "${pids[i]}" 2000
		expect_eq "$RC" 0 "reader $i returned after V number $i"
		sleep 0.1
		for ((j = i + 1; j < 3; j++)); do
			blocked "${pids[j]}" || fail "reader $j overtook reader $i"
		done
	done
	expect_eq "$(size sem/o)" 0 "count after three V and three P"
}

test_sem_wait_for_zero() {
	touch sem/z
	expect_rc 0 "'0' on a zero count returns at once" -- timeout 2 bash -c 'echo 0 > sem/z'
	echo 2 > sem/z
	"$CB" -w sem/z open write:0 >/dev/null &
	local z=$!
	wait_blocked "$z" sem/z
	cat sem/z
	sleep 0.1
	blocked "$z" || fail "the wait for zero returned at count 1"
	cat sem/z
	wait_exit "$z" 1000
	expect_eq "$RC" 0 "the wait for zero once the count is 0"
	expect_eq "$(size sem/z)" 0 "waiting for zero takes nothing"
}

test_sem_nonblocking_p_and_zero_are_eagain() {
	echo 1 > sem/nb
	expect_err "Resource temporarily unavailable" "'-2' with O_NONBLOCK and 1 unit" -- \
		bash -c 'echo -2 | dd of=sem/nb oflag=nonblock conv=notrunc status=none'
	expect_err "Resource temporarily unavailable" "'0' with O_NONBLOCK and 1 unit" -- \
		bash -c 'echo 0 | dd of=sem/nb oflag=nonblock conv=notrunc status=none'
	expect_eq "$(size sem/nb)" 1 "count unchanged by the refused P(2) and wait for zero"
	expect_eq "$("$CB" -n sem/nb open read read)" "open ok
read ok
read EAGAIN" "non-blocking reads: the first takes the unit, the second would wait"
	expect_eq "$(size sem/nb)" 0 "count after the non-blocking reads"
}

# A blocked P ends at once whatever the signal (a few ms; asserted under 1 s, for noisy
# machines: the failure this catches is a caller that never ends), and takes nothing.
test_sem_signals_end_a_blocked_p_taking_nothing() {
	touch sem/i
	local how pid want times=
	for how in INT TERM KILL USR1 write-USR1; do
		case $how in
		INT) "$CB" sem/i open read >/dev/null & ;; # default disposition: dies
		TERM | KILL) cat sem/i & ;;
		USR1) "$CB" -H USR1 sem/i open read >"$WORK/out" & ;;
		write-USR1) "$CB" -w -H USR1 sem/i open write:-2 >"$WORK/out" & ;;
		esac
		pid=$!
		wait_blocked "$pid" sem/i || continue
		kill -"${how#write-}" "$pid"
		wait_exit "$pid" 1000
		case $how in
		INT) want=130 ;;
		TERM) want=143 ;;
		KILL) want=137 ;;
		*) want=4 ;; # EINTR, reported by the client
		esac
		expect_eq "$RC" "$want" "exit status of the P ended by $how"
		expect_eq "$(size sem/i)" 0 "count after $how"
		times+=" $how:${DT}ms"
	done
	say "signal to end:$times"
	echo > sem/i
	sleep 0.1
	expect_eq "$(size sem/i)" 1 "a V after the interrupted waits is not taken by a ghost of them"
}

test_sem_rm_gives_parked_waiters_eidrm() {
	touch sem/d
	cat sem/d 2>"$WORK/cat.err" &
	local c=$! b
	wait_blocked "$c" sem/d
	"$CB" sem/d open read >"$WORK/cb.out" &
	b=$!
	wait_blocked "$b" sem/d
	rm sem/d
	wait_exit "$c" 1000
	expect_eq "$RC" 1 "cat's status after rm"
	grep -q "Identifier removed" "$WORK/cat.err" || fail "cat said '$(cat "$WORK/cat.err")'"
	wait_exit "$b" 1000
	expect_eq "$(tail -1 "$WORK/cb.out")" "read EIDRM" "the client's read after rm"
}

# The kernel holds an inode's lock across a whole WRITE request: a parked "-N" write would keep
# every other writer of that inode out, the V that would release it included, and rm, which
# also holds the directory's lock meanwhile (stopping ls and creation in sem/). The daemon
# hands each lookup a fresh inode (ns.c, per_lookup_inode), so each open has a lock of its own.
test_sem_v_releases_a_parked_minus_n_write() {
	touch sem/kw
	"$CB" -w sem/kw open write:-2 >"$WORK/kw.out" &
	local w=$!
	wait_blocked "$w" sem/kw
	expect_rc 0 "V while a P(2) write waits" -- timeout -s KILL 2 bash -c 'echo 2 > sem/kw'
	wait_exit "$w" 1000
	expect_eq "$RC:$(cat "$WORK/kw.out" | tr '\n' ' ')" "0:open ok write:-2 ok " \
		"the P(2) write released by the V"
	expect_eq "$(size sem/kw)" 0 "count after V(2) and P(2)"
	"$CB" -w sem/kw open write:-1 >"$WORK/kw.out" &
	w=$!
	wait_blocked "$w" sem/kw
	expect_rc 0 "rm while a P(1) write waits" -- timeout -s KILL 2 rm sem/kw
	wait_exit "$w" 1000
	expect_eq "$(tail -1 "$WORK/kw.out")" "write:-1 EIDRM" "the P(1) write after rm"
	expect_rc 0 "ls" -- timeout -s KILL 2 ls sem >/dev/null
}

# A P(5) at the head is not overtaken by a later P(1), however many V(1) come, until it is
# served: then the P(1) waits for its own unit.
test_sem_p5_then_p1_served_in_order_as_units_come() {
	touch sem/q
	"$CB" -w sem/q open write:-5 >/dev/null &
	local p5=$! p1
	wait_blocked "$p5" sem/q
	"$CB" sem/q open read >/dev/null &
	p1=$!
	wait_blocked "$p1" sem/q
	echo 1 > sem/q
	sleep 0.1
	blocked "$p1" || fail "the P(1) overtook the P(5) at the head"
	expect_eq "$(size sem/q)" 1 "count after V(1): nobody served"
	echo 4 > sem/q
	wait_exit "$p5" 1000
	expect_eq "$RC" 0 "the P(5) once 5 units are there"
	sleep 0.1
	blocked "$p1" || fail "the P(1) was served without a unit"
	expect_eq "$(size sem/q)" 0 "count after the P(5)"
	echo > sem/q
	wait_exit "$p1" 1000
	expect_eq "$RC:$(size sem/q)" "0:0" "the P(1) with the next V"
}

mount_ipcfs
# ---- one write on several semaphores (semop): "-1 b:-1" written to sem/a ----

# Both units or none: an interrupted wait takes nothing from either, a waiting one is seen
# waiting on both, and the unit that completes it gives it both at once.
test_sem_multi_takes_both_or_waits() {
	mkdir sem/mset
	echo 1 > sem/mset/a
	touch sem/mset/b
	expect_rc 124 "P on a and b with b empty waits" -- timeout 1 bash -c 'echo "-1 b:-1" > sem/mset/a'
	expect_eq "$(size sem/mset/a):$(size sem/mset/b)" "1:0" "counts after the interrupted multi"
	"$CB" -w sem/mset/a open "write:-1 b:-1" >"$WORK/m.out" &
	local m=$!
	wait_blocked "$m" sem/mset/a
	expect_eq "$(grep -c '"op":"P"' <(cat .ipcfs/status.json))" 2 "the multi waits on a and on b"
	expect_rc 124 "a later P of a's free unit waits behind it" -- timeout 0.5 cat sem/mset/a
	echo > sem/mset/b
	wait_exit "$m" 2000
	expect_eq "$RC:$(tail -1 "$WORK/m.out")" "0:write:-1 b:-1 ok" "the multi served by b's V"
	expect_eq "$(size sem/mset/a):$(size sem/mset/b)" "0:0" "both units taken at once"
	touch -d 2001-01-01 sem/mset/b
	echo "2 b:3" > sem/mset/a
	expect_eq "$(size sem/mset/a):$(size sem/mset/b)" "2:3" "a multi V gives to both"
	expect_eq "$(( $(stat -c %Y sem/mset/b) > 978307200 ))" 1 "b's mtime moved by the V"
	echo "-2 b:-1" > sem/mset/a
	expect_eq "$(size sem/mset/a):$(size sem/mset/b)" "0:2" "a multi P that fits returns at once"
}

# A multi at the head of b's queue keeps b's unit from readers; when it is interrupted, a
# poller of b (another semaphore than the one written) learns that b is readable now.
test_sem_multi_interrupted_wakes_pollers_of_its_other_semaphores() {
	mkdir sem/mpoll
	touch sem/mpoll/a
	echo 1 > sem/mpoll/b
	"$CB" -w sem/mpoll/a open "write:-1 b:-1" >/dev/null &
	local m=$! p
	wait_blocked "$m" sem/mpoll/a
	"$BUILD_DIR/tests/client_poll" -t 5000 -r sem/mpoll/b >"$WORK/poll.out" &
	p=$!
	sleep 0.3
	exited "$p" && fail "b was readable while the multi waited at its head: $(cat "$WORK/poll.out")"
	kill "$m"
	wait_exit "$p" 2000
	expect_eq "$RC" 0 "the poller's status"
	expect_eq "$(sed -n 2p "$WORK/poll.out")" "read ok" "b's unit read after the poll"
	wait "$m" 2>/dev/null
	expect_eq "$(size sem/mpoll/a):$(size sem/mpoll/b)" "0:0" "the interrupted multi took nothing"
}

# Bad terms get a clear errno and change nothing.
test_sem_multi_errors_change_nothing() {
	mkdir sem/merr sem/merr/dir
	echo 1 > sem/merr/a
	echo 1 > sem/merr/b
	echo 2147483647 > sem/merr/max
	expect_err "No such file" "a sibling that does not exist" -- bash -c 'echo "-1 nope:-1" > sem/merr/a'
	expect_err "Is a directory" "a directory" -- bash -c 'echo "-1 dir:-1" > sem/merr/a'
	expect_err "Invalid argument" "a twice" -- bash -c 'echo "-1 a:-1" > sem/merr/a'
	expect_err "Invalid argument" "a path" -- bash -c 'echo "-1 ../x:-1" > sem/merr/a'
	expect_err "Value too large" "a V past INT32_MAX" -- bash -c 'echo "-1 b:-1 max:1" > sem/merr/a'
	expect_err "Argument list too long" "33 terms" -- \
		bash -c "echo '$(for i in $(seq 33); do printf 'n%d:1 ' "$i"; done)' > sem/merr/a"
	expect_err "Resource temporarily unavailable" "O_NONBLOCK" -- \
		bash -c 'printf "%s" "-2 b:-1" | dd of=sem/merr/a oflag=nonblock conv=notrunc status=none'
	expect_eq "$(size sem/merr/a):$(size sem/merr/b):$(size sem/merr/max)" "1:1:2147483647" \
		"counts after the refused writes"
}

# rm of a semaphore a multi waits on fails it with EIDRM and frees its place elsewhere.
test_sem_multi_rm_of_a_term_is_eidrm() {
	mkdir sem/mrm
	touch sem/mrm/a sem/mrm/b
	"$CB" -w sem/mrm/a open "write:-1 b:-1" >"$WORK/r.out" &
	local m=$!
	wait_blocked "$m" sem/mrm/a
	rm sem/mrm/b
	wait_exit "$m" 2000
	expect_eq "$(tail -1 "$WORK/r.out")" "write:-1 b:-1 EIDRM" "the multi after rm of b"
	echo > sem/mrm/a
	expect_rc 0 "a's unit is free for a plain P" -- timeout 2 cat sem/mrm/a
}

run_test test_sem_created_with_count_zero
run_test test_sem_pool_of_three_then_blocks
run_test test_sem_timeout_takes_nothing
run_test test_sem_nonblocking_read_is_eagain
run_test test_sem_bad_text_is_einval_and_changes_nothing
run_test test_sem_overflow_is_eoverflow
run_test test_sem_write_text_forms
run_test test_sem_read_is_one_p_returning_nothing
run_test test_sem_minus_n_takes_n_at_once_or_nothing
run_test test_sem_p_n_at_the_head_is_not_overtaken
run_test test_sem_readers_are_served_in_arrival_order
run_test test_sem_wait_for_zero
run_test test_sem_nonblocking_p_and_zero_are_eagain
run_test test_sem_signals_end_a_blocked_p_taking_nothing
run_test test_sem_rm_gives_parked_waiters_eidrm
run_test test_sem_v_releases_a_parked_minus_n_write
run_test test_sem_p5_then_p1_served_in_order_as_units_come
run_test test_sem_multi_takes_both_or_waits
run_test test_sem_multi_interrupted_wakes_pollers_of_its_other_semaphores
run_test test_sem_multi_errors_change_nothing
run_test test_sem_multi_rm_of_a_term_is_eidrm
finish
