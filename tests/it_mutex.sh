#!/bin/bash
# it_mutex.sh - mutexes through the mounted filesystem: opening acquires, the last close (or the
# holder's death) releases, FIFO hand-off, EDEADLK, O_NONBLOCK, interrupts, rm, and the
# issue's shell-worker counter.
source "$(dirname "$0")/lib.sh"

CB=$BUILD_DIR/tests/client_block
POLL=$BUILD_DIR/tests/client_poll
HAMMER=$BUILD_DIR/tests/client_hammer

# The release of the last close reaches the daemon asynchronously: wait for it.
free_soon() { wait_until 2 size_is 0 "$1" || fail "$1 still held"; }

test_mutex_open_acquires_and_last_close_releases() {
	touch mutex/m
	expect_eq "$(size mutex/m)" 0 "st_size of a new (free) mutex"
	exec 9<mutex/m
	expect_eq "$(size mutex/m)" 1 "st_size while held"
	expect_eq "$("$CB" -n mutex/m open 9<&-)" "open EAGAIN" "O_NONBLOCK open of a held mutex"
	expect_eq "$(size mutex/m)" 1 "still held after the refused open"
	exec 9<&-
	free_soon mutex/m
	expect_eq "$("$CB" -n mutex/m open)" "open ok" "O_NONBLOCK open once released"
	free_soon mutex/m
	# relocking at once works although the kernel sends the previous release asynchronously
	local i t0
	t0=$(now_ms)
	for i in $(seq 50); do
		exec 9<mutex/m
		exec 9<&-
	done
	[ $(($(now_ms) - t0)) -lt 5000 ] || fail "50 lock/unlock took $(($(now_ms) - t0)) ms"
	free_soon mutex/m
}

test_mutex_waiter_blocks_until_release() {
	touch mutex/w
	exec 9<mutex/w
	cat mutex/w 9<&- &
	local c=$!
	wait_blocked "$c" mutex/w
	sleep 0.2
	blocked "$c" || fail "cat did not wait for the held mutex"
	exec 9<&-
	wait_exit "$c" 2000
	expect_eq "$RC" 0 "the waiter's status once the holder closed"
	free_soon mutex/w
}

test_mutex_fifo_hand_off() {
	touch mutex/f
	: > "$WORK/order"
	exec 9<mutex/f
	local pids=() i
	for i in 1 2 3 4; do
		bash -c 'exec 8<mutex/f; echo '$i' >> "$1"; sleep 0.02; exec 8<&-' _ "$WORK/order" 9<&- &
		pids[i]=$!
		wait_blocked "${pids[i]}" mutex/f
	done
	exec 9<&-
	for i in 1 2 3 4; do
		wait_exit "${pids[i]}" 3000
	done
	expect_eq "$(tr '\n' ' ' < "$WORK/order")" "1 2 3 4 " "order in which the waiters got it"
	free_soon mutex/f
}

test_mutex_edeadlk_in_the_holder_and_its_children() {
	touch mutex/d
	expect_eq "$(timeout 5 "$CB" mutex/d open open)" "open ok
open EDEADLK" "a process opening it twice"
	free_soon mutex/d
	exec 9<mutex/d
	expect_err "Resource deadlock avoided" "a subshell that inherited the descriptor" -- \
		timeout 5 bash -c ': < mutex/d'
	expect_eq "$(timeout 5 "$CB" mutex/d open)" "open EDEADLK" "a child with the descriptor"
	# the same in this very shell (unbounded: only once the bounded checks passed)
	[ "$T_CUR_FAILED" = 0 ] && expect_err "Resource deadlock avoided" "the holding shell" -- \
		eval ': < mutex/d'
	expect_eq "$(size mutex/d)" 1 "still held by the first open"
	# a process without the descriptor waits instead
	expect_rc 124 "another process waits" -- timeout 0.3 cat mutex/d 9<&-
	exec 9<&-
	free_soon mutex/d
}

test_mutex_holder_death_releases() {
	touch mutex/k
	bash -c 'exec 9<mutex/k; exec sleep 30' &
	local holder=$! w
	wait_until 2 size_is 1 mutex/k || fail "the holder did not get the mutex"
	"$CB" mutex/k open sleep:100 close >"$WORK/w.out" &
	w=$!
	wait_blocked "$w" mutex/k
	kill -KILL "$holder"
	{ wait "$holder"; } 2>/dev/null
	wait_until 2 grep -q "open ok" "$WORK/w.out" || fail "the waiter did not get it after kill -9"
	wait_exit "$w" 2000
	expect_eq "$RC" 0 "the waiter's status"
	free_soon mutex/k
}

test_mutex_reads_eof_writes_eperm() {
	touch mutex/io
	expect_eq "$(cat mutex/io | wc -c)" 0 "bytes read from a mutex"
	expect_err "Operation not permitted" "writing to a mutex" -- bash -c 'echo x > mutex/io'
	exec 9<>mutex/io
	expect_err "Operation not permitted" "writing through the holder's descriptor" -- \
		eval 'echo x >&9'
	expect_eq "$(size mutex/io)" 1 "a refused write does not release it"
	exec 9<&-
	free_soon mutex/io
	# neither ever waits: readable and writable at once (the poller's open holds it meanwhile)
	expect_eq "$("$POLL" -t 300 mutex/io | cut -d' ' -f1)" ready "poll for reading"
	free_soon mutex/io
	expect_eq "$("$POLL" -e out -t 300 mutex/io | cut -d' ' -f1)" ready "poll for writing"
	free_soon mutex/io
}

# The opener is interrupted while it waits: it must not end up holding the mutex.
test_mutex_interrupted_open_acquires_nothing() {
	touch mutex/i
	exec 9<mutex/i
	local how pid want
	for how in USR1 INT TERM KILL timeout; do
		case $how in
		USR1) "$CB" -H USR1 mutex/i open >"$WORK/out" 9<&- & ;;
		INT) "$CB" mutex/i open 9<&- & ;; # default disposition: dies
		TERM | KILL) cat mutex/i 9<&- & ;;
		timeout) timeout 0.3 cat mutex/i 9<&- & ;;
		esac
		pid=$!
		if [ "$how" != timeout ]; then
			wait_blocked "$pid" mutex/i || continue
			kill -"$how" "$pid"
		fi
		wait_exit "$pid" 1000
		case $how in
		USR1) want=4 ;; # EINTR, reported by the client
		INT) want=130 ;;
		TERM) want=143 ;;
		KILL) want=137 ;;
		timeout) want=124 ;;
		esac
		expect_eq "$RC" "$want" "exit status of the open ended by $how"
	done
	exec 9<&-
	free_soon mutex/i
	expect_eq "$("$CB" -n mutex/i open)" "open ok" "free after the holder left"
}

test_mutex_rm_gives_waiters_eidrm() {
	touch mutex/r
	bash -c 'exec 9<mutex/r; exec sleep 30' &
	local holder=$! w
	wait_until 2 size_is 1 mutex/r || fail "the holder did not get the mutex"
	"$CB" mutex/r open >"$WORK/r.out" &
	w=$!
	wait_blocked "$w" mutex/r
	rm mutex/r
	wait_exit "$w" 1000
	expect_eq "$(cat "$WORK/r.out")" "open EIDRM" "the waiter after rm"
	kill "$holder"
	wait "$holder"
}

# ls, create, lock, unlock and remove on other objects; prints the milliseconds taken.
namespace_operations() {
	local t0
	t0=$(now_ms)
	timeout 5 ls -l mutex >/dev/null || fail "ls"
	timeout 5 touch mutex/other sem/other || fail "creating objects"
	timeout 5 bash -c 'exec 8<mutex/other' || fail "locking another mutex"
	timeout 5 rm mutex/other sem/other || fail "removing objects"
	echo $(($(now_ms) - t0))
}

test_mutex_waiters_do_not_block_the_namespace() {
	touch mutex/n
	local pids=() i idle busy
	idle=$(namespace_operations)
	exec 9<mutex/n
	for i in 1 2 3; do
		cat mutex/n 9<&- &
		pids[i]=$!
	done
	wait_blocked "${pids[3]}" mutex/n
	busy=$(namespace_operations)
	# Relative to the same operations without waiters in this run: a loaded machine makes
	# both slow; waiters that held the namespace would make the second hang (5 s each).
	[ "$busy" -le $((2 * idle + 1000)) ] ||
		fail "namespace operations took $busy ms with waiters, $idle ms without"
	exec 9<&-
	for i in 1 2 3; do
		wait_exit "${pids[i]}" 3000
	done
	free_soon mutex/n
}

# The issue's example: 8 shell workers x 200 increments of a counter file under the mutex.
counter_workers() { # LOCK(1/0)
	local w
	echo 0 > "$WORK/counter"
	for w in 1 2 3 4 5 6 7 8; do
		(
			for _ in $(seq 200); do
				if [ "$1" = 1 ]; then
					exec 9<mutex/c
					n=$(cat "$WORK/counter")
					echo $((n + 1)) > "$WORK/counter"
					exec 9<&-
				else
					n=$(cat "$WORK/counter")
					echo $((n + 1)) > "$WORK/counter"
				fi
			done
		) &
	done
	wait
	cat "$WORK/counter"
}

test_mutex_counter_with_8_shell_workers_is_exact() {
	touch mutex/c
	expect_eq "$(counter_workers 1)" 1600 "counter after 8 x 200 locked increments"
	free_soon mutex/c
}

test_mutex_counter_without_the_mutex_loses_updates() {
	local try got
	for try in 1 2 3; do
		got=$(counter_workers 0)
		if [ "$got" -lt 1600 ]; then
			say "without the mutex: $got of 1600"
			return
		fi
	done
	say "SKIP: 3 unlocked runs lost no update on this machine; the locked test proves nothing"
}

# Interrupts (SIGALRM) and kill -9 racing with hand-offs: no two holders, no stale holder.
test_mutex_hammer_interrupts_and_kills() {
	touch mutex/h
	local out rc
	out=$("$HAMMER" mutex mutex/h 3 8 kill)
	rc=$?
	say "$out"
	expect_eq "$rc" 0 "hammer's verdict"
	free_soon mutex/h
}

# A process holding mutex $1 that then waits for $2 (wait_blocked), and stays until killed.
hold_then_wait() {
	bash -c 'exec 8<"$1"; echo held >"$3"; while [ ! -e "$4" ]; do sleep 0.01; done
		 exec 9<"$2" || exit 1; echo "got $2"; sleep 30' _ "$@" &
}

# Without -o deadlock_check a cycle of waits waits (as with any lock), and a signal ends it.
test_mutex_cycle_waits_without_the_check() {
	touch mutex/c1 mutex/c2
	hold_then_wait mutex/c1 mutex/c2 "$WORK/h1" "$WORK/go" >/dev/null
	local a=$!
	hold_then_wait mutex/c2 mutex/c1 "$WORK/h2" "$WORK/go" >/dev/null
	local b=$!
	wait_until 5 test -e "$WORK/h1" && wait_until 5 test -e "$WORK/h2" || fail "not holding"
	touch "$WORK/go"
	wait_blocked "$a" mutex/c2
	wait_blocked "$b" mutex/c1
	kill "$a" "$b"
	wait_exit "$a" 2000
	wait_exit "$b" 2000
	free_soon mutex/c1
	free_soon mutex/c2
}

# -o deadlock_check=1: the open that would close a cycle of waits fails with EDEADLK at once,
# and leaves the others waiting; an open at the end of a chain that is no cycle waits as usual.
test_mutex_deadlock_check_refuses_the_closing_open() {
	touch mutex/d1 mutex/d2 mutex/d3
	# a holds d1 and waits for d2, b holds d2 and waits for d3, c holds d3 and tries d1
	hold_then_wait mutex/d1 mutex/d2 "$WORK/ha" "$WORK/goa" >/dev/null
	local a=$!
	hold_then_wait mutex/d2 mutex/d3 "$WORK/hb" "$WORK/gob" >"$WORK/b.out"
	local b=$!
	hold_then_wait mutex/d3 mutex/d1 "$WORK/hc" "$WORK/goc" >"$WORK/c.out" 2>"$WORK/c.err"
	local c=$!
	for h in ha hb hc; do wait_until 5 test -e "$WORK/$h" || fail "$h not holding"; done
	touch "$WORK/goa" "$WORK/gob"
	wait_blocked "$a" mutex/d2
	wait_blocked "$b" mutex/d3
	# c is not waiting yet: an outsider's wait for d1 closes no cycle and waits
	cat mutex/d1 &
	local o=$!
	wait_blocked "$o" mutex/d1
	local t0
	t0=$(now_ms)
	touch "$WORK/goc"
	wait_exit "$c" 2000
	grep -q 'Resource deadlock avoided' "$WORK/c.err" ||
		fail "c's open of d1: $(cat "$WORK/c.err" "$WORK/c.out")"
	# c gave up and exited, releasing d3 to b; a and the outsider still wait
	wait_until 5 grep -q "got mutex/d3" "$WORK/b.out" || fail "b did not get d3 once c left"
	blocked "$a" && blocked "$o" || fail "the refusal disturbed the other waiters"
	kill "$a" "$b" "$o"
	wait_exit "$a" 2000
	wait_exit "$b" 2000
	wait_exit "$o" 2000
}

mount_ipcfs
run_test test_mutex_open_acquires_and_last_close_releases
run_test test_mutex_waiter_blocks_until_release
run_test test_mutex_fifo_hand_off
run_test test_mutex_edeadlk_in_the_holder_and_its_children
run_test test_mutex_holder_death_releases
run_test test_mutex_reads_eof_writes_eperm
run_test test_mutex_interrupted_open_acquires_nothing
run_test test_mutex_rm_gives_waiters_eidrm
run_test test_mutex_waiters_do_not_block_the_namespace
run_test test_mutex_counter_with_8_shell_workers_is_exact
run_test test_mutex_counter_without_the_mutex_loses_updates
run_test test_mutex_hammer_interrupts_and_kills
run_test test_mutex_cycle_waits_without_the_check
unmount_ipcfs
mount_ipcfs -o deadlock_check=1
run_test test_mutex_deadlock_check_refuses_the_closing_open
finish
