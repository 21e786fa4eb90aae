#!/bin/bash
# it_park.sh - the machinery of parked requests: poll/select/epoll readiness and wake-ups,
# interrupts racing with completions, 10,000 blocked callers, and shutdown with parked callers.
source "$(dirname "$0")/lib.sh"

CB=$BUILD_DIR/tests/client_block
POLL=$BUILD_DIR/tests/client_poll
HAMMER=$BUILD_DIR/tests/client_hammer
SCALE=$BUILD_DIR/tests/client_scale
# given to the daemon below: the most request threads libfuse may start. The daemon may have
# three more: its main thread, the watcher of deferred interrupts (park.h) and a sanitizer's
# background thread.
MAX_THREADS=10

# PID sleeps in poll, select or epoll_wait.
polling() { grep -qE 'poll|select' "/proc/$1/wchan" 2>/dev/null; }
threads() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status"; }

# ---- poll, select, epoll ----

test_park_poll_readable_only_when_a_read_would_not_block() {
	touch sem/p
	expect_eq "$("$POLL" -t 300 sem/p | cut -d' ' -f1)" timeout "poll of an empty semaphore"
	expect_eq "$("$POLL" -e out -t 300 sem/p | cut -d' ' -f1)" ready "writable (a V never waits)"
	echo > sem/p
	expect_eq "$("$POLL" -t 300 -r sem/p | sed 's/ready [0-9]*/ready/' | tr '\n' ' ')" \
		"ready read ok " "a readable semaphore, then a non-blocking read"
	expect_eq "$(size sem/p)" 0 "count after that read"
	# 3 units but a P(5) waits at the head: a read would queue behind it
	echo 3 > sem/p
	"$CB" -w -H USR1 sem/p open write:-5 >/dev/null &
	local p5=$!
	wait_blocked "$p5" sem/p
	expect_eq "$("$POLL" -t 300 sem/p | cut -d' ' -f1)" timeout \
		"poll while a P(5) at the head waits for more than the 3 units there"
	kill -USR1 "$p5"
	wait "$p5"
	expect_eq "$(size sem/p)" 3 "count after the interrupted P(5)"
}

test_park_poll_select_epoll_wake_on_a_post() {
	local mode p out
	for mode in poll select epoll epollet; do
		touch "sem/w$mode"
		"$POLL" -m "$mode" -t 5000 "sem/w$mode" >"$WORK/poll.out" &
		p=$!
		wait_until 5 polling "$p" || fail "$mode: the poller never slept"
		sleep 0.05
		echo > "sem/w$mode"
		wait_exit "$p" 1000
		out=$(cat "$WORK/poll.out")
		expect_eq "$RC:${out%% *}" "0:ready" "$mode woken by a V ($out)"
		expect_eq "$(size "sem/w$mode")" 1 "$mode: polling takes nothing"
	done
}

# The head waiter leaves (interrupted): the units it was waiting behind become readable, and
# a poller must hear of it.
test_park_poll_wakes_when_the_head_waiter_leaves() {
	echo 3 > sem/h
	"$CB" -w -H USR1 sem/h open write:-5 >/dev/null &
	local p5=$! p out
	wait_blocked "$p5" sem/h
	"$POLL" -t 5000 sem/h >"$WORK/poll.out" &
	p=$!
	wait_until 5 polling "$p" || fail "the poller never slept"
	sleep 0.05
	kill -USR1 "$p5"
	wait "$p5"
	wait_exit "$p" 1000
	out=$(cat "$WORK/poll.out")
	expect_eq "$RC:${out%% *}" "0:ready" "poller woken when the P(5) left ($out)"
}

test_park_poll_wakes_on_rm() {
	touch sem/gone
	"$POLL" -t 5000 sem/gone >"$WORK/poll.out" &
	local p=$!
	wait_until 5 polling "$p" || fail "the poller never slept"
	sleep 0.05
	rm sem/gone
	wait_exit "$p" 1000
	expect_eq "$RC" 0 "poller woken by rm ($(cat "$WORK/poll.out"))"
}

# ---- interrupts racing with completions ----

# Threads interrupted (SIGUSR1, no SA_RESTART) at random while posts arrive: each read or "-2"
# write tells exactly whether it took its units, so the count must balance exactly.
test_park_interrupts_racing_posts_keep_the_count_exact() {
	touch sem/race
	local out rc
	out=$("$HAMMER" sem sem/race 3 16)
	rc=$?
	say "$out"
	expect_eq "$rc" 0 "hammer's verdict"
}

# timeout_storm SEM COMMAND...: 6 loops of 25 runs of COMMAND (a P on SEM), each under timeout
# with a limit of twice a caller's start-up (measured here: a few ms, far more under the
# sanitizers on a loaded machine) plus 10-50 ms, racing with a V on SEM every 1-9 ms while any
# loop runs. Sets POSTED and STATUS (the commands' exit statuses, one a line).
timeout_storm() {
	local sem=$1 w t0 start_ms ms
	shift
	POSTED=0
	t0=$(now_ms)
	for w in 1 2 3 4 5; do
		ASAN_OPTIONS=$NO_LEAK_CHECK "$CB" -H TERM "$sem" open >/dev/null
	done
	# STORM_SLOWER (default 1) stretches the time given: a loaded machine (a sanitizer, CI)
	# may start clients slower during the storm than while measuring
	start_ms=$((($(now_ms) - t0) / 5 * ${STORM_SLOWER:-1}))
	for w in 1 2 3 4 5 6; do
		for _ in $(seq 25); do
			ms=$((2 * start_ms + 10 + RANDOM % 41))
			timeout -s TERM --preserve-status "$((ms / 1000)).$(printf %03d $((ms % 1000)))" \
				"$@" >/dev/null
			echo $?
		done >"$WORK/rc.$w" 2>/dev/null &
	done
	while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
		echo > "$sem"
		POSTED=$((POSTED + 1))
		sleep 0.00$((RANDOM % 9 + 1))
	done
	wait
	STATUS=$(cat "$WORK"/rc.*)
}

# The same from the shell, with `timeout` interrupting: the client handles SIGTERM, so its exit
# status says whether its P took a unit (0) or not (4: EINTR; 143: the signal came before the
# handler was set, before any P).
test_park_timeout_racing_posts_keep_the_count_exact() {
	touch sem/t
	local ok intr other posted=0 taken=0 try
	# the count must be exact after every storm; a storm in which no P was taken (or none
	# interrupted) raced nothing: try again with more time, up to 3 storms
	for try in 1 2 4; do
		STORM_SLOWER=$try timeout_storm sem/t "$CB" -H TERM sem/t open read
		ok=$(grep -c '^0$' <<<"$STATUS")
		intr=$(grep -cE '^(4|143)$' <<<"$STATUS")
		other=$(grep -cvE '^(0|4|143)$' <<<"$STATUS")
		posted=$((posted + POSTED))
		taken=$((taken + ok))
		say "posted $POSTED, P taken $ok, interrupted $intr, other $other, count $(size sem/t)"
		expect_eq "$other" 0 "callers with another outcome"
		expect_eq "$(size sem/t)" $((posted - taken)) "count = posted - taken"
		[ "$ok" -gt 0 ] && [ "$intr" -gt 0 ] && return 0
	done
	fail "no race in 3 storms: the last had $ok P's taken, $intr interrupted"
}

# The same with `timeout cat`. A P answered just as the signal lands is taken, and cat then dies
# of the signal anyway: its status cannot count the P's exactly (the test above does). But no
# unit may appear, no P may be taken twice, and every cat must end.
test_park_timeout_cat_racing_posts_creates_no_units() {
	touch sem/tc
	local ok
	timeout_storm sem/tc cat sem/tc
	ok=$(grep -c '^0$' <<<"$STATUS")
	say "posted $POSTED, cats that returned $ok, count $(size sem/tc)"
	expect_eq "$(grep -cvE '^(0|143)$' <<<"$STATUS")" 0 "cats with another outcome"
	[ "$(size sem/tc)" -le $((POSTED - ok)) ] ||
		fail "count $(size sem/tc) exceeds posted - returned = $((POSTED - ok))"
}

# kill -9 of callers blocked in a P, racing with posts. A P answered just before its caller
# died is taken (the caller got it, then died); an interrupted one takes nothing. So the count
# may never exceed posted - completed, and nobody may hang.
test_park_sigkill_racing_posts() {
	touch sem/k
	local pids=() i posted=0 ok=0
	{ # the shell's "Killed" notices are noise here
		for i in $(seq 40); do
			cat sem/k &
			pids[i]=$!
		done
		wait_blocked "${pids[40]}" sem/k
		for i in $(seq 40); do
			if ((i % 2)); then
				echo > sem/k
				posted=$((posted + 1))
			fi
			kill -KILL "${pids[i]}" 2>/dev/null
			sleep 0.00$((RANDOM % 5))
		done
		for i in $(seq 40); do
			wait_exit "${pids[i]}" 2000
			[ "$RC" -eq 0 ] && ok=$((ok + 1))
		done
	} 2>/dev/null
	say "posted $posted, completed $ok, count $(size sem/k)"
	[ "$(size sem/k)" -le $((posted - ok)) ] ||
		fail "count $(size sem/k) exceeds posted - completed = $((posted - ok))"
	i=$(size sem/k)
	echo > sem/k
	sleep 0.1
	expect_eq "$(size sem/k)" $((i + 1)) "a V after the storm stays (no ghost of a killed P)"
}

# ---- scale ----

# ls, stat, a V, a P and a lock on objects nobody waits on; prints the milliseconds taken.
other_operations() {
	local t0
	t0=$(now_ms)
	timeout 5 ls -l sem mutex >/dev/null || fail "ls"
	expect_eq "$(timeout 5 stat -c %s sem/big)" 0 "stat of the semaphore"
	timeout 5 bash -c 'echo 2 > sem/other && cat sem/other && exec 9<mutex/other' ||
		fail "V, P and a lock on other objects"
	echo $(($(now_ms) - t0))
}

# 10,000 callers: 4 processes of 2,500 threads (a ThreadSanitizer build allows fewer than 8,192
# threads a process; under a sanitizer 2,000 callers, lib.sh's scaled).
test_park_10000_blocked_callers_hold_no_threads() {
	touch sem/big sem/other mutex/other
	local before during idle busy pids=() i out t0 per all
	per=$(scaled 2500)
	all=$((4 * per))
	idle=$(other_operations)
	before=$(threads "$DAEMON_PID")
	for i in 1 2 3 4; do
		: >"$WORK/scale.$i"
		"$SCALE" sem/big "$per" >"$WORK/scale.$i" 2>&1 &
		pids[i]=$!
	done
	for i in 1 2 3 4; do
		wait_until 160 grep -q 'blocked\|stuck' "$WORK/scale.$i" ||
			fail "the callers of process $i never blocked"
	done
	# queued after the 10,000 reads: once answered, all of them are in the daemon
	timeout 10 stat sem/big >/dev/null || fail "a stat queued behind the waiters never answered"
	during=$(threads "$DAEMON_PID")
	say "daemon threads: $before before, $during with $all parked reads"
	[ "$during" -le $((MAX_THREADS + 3)) ] ||
		fail "$during daemon threads with $all waiters (max_threads=$MAX_THREADS)"
	busy=$(other_operations)
	say "ls, stat, V, P, lock on other objects: $idle ms without waiters, $busy ms with $all"
	# Relative to the same operations without waiters, measured in this run: a loaded
	# machine (CI, sanitizers) makes both slow; waiters that held threads or locks would make
	# the second hang (each has a 5 s timeout) or take many times longer.
	[ "$busy" -le $((2 * idle + 1000)) ] ||
		fail "those operations took $busy ms with $all waiters, $idle ms without"
	t0=$(now_ms)
	echo "$all" > sem/big
	for i in 1 2 3 4; do
		wait_exit "${pids[i]}" 30000
		out=$(tr '\n' ' ' <"$WORK/scale.$i")
		expect_eq "$RC:$out" "0:blocked $per returned $per 0 " "the callers of process $i"
	done
	say "one V($all) released them all in $(($(now_ms) - t0)) ms"
	expect_eq "$(size sem/big)" 0 "count after $all P's"
	[ "$(threads "$DAEMON_PID")" -le $((MAX_THREADS + 3)) ] || fail "threads grew afterwards"
}

# ---- shutdown ----

# A second instance, mounted by the shutdown test at $WORK/mnt2: stopped at exit whatever
# happened to the test (lib.sh's cleanup only knows the first).
stop_second_instance() {
	local pid
	for pid in $(cat "$WORK/holder2.pid" "$WORK/daemon2.pid" 2>/dev/null); do
		kill -TERM "$pid" 2>/dev/null
	done
	grep -q " $WORK/mnt2 fuse" /proc/mounts && fusermount3 -u -z "$WORK/mnt2"
	rm -f "$WORK/holder2.pid" "$WORK/daemon2.pid"
}
trap 'stop_second_instance; cleanup' EXIT

test_park_sigterm_answers_parked_callers_with_eio() {
	local m2=$WORK/mnt2 d2 holder pids=() i
	mkdir -p "$m2"
	"$IPCFS" -f "$m2" 2>"$WORK/daemon2.log" &
	d2=$!
	echo "$d2" >"$WORK/daemon2.pid"
	wait_until 10 grep -q " $m2 fuse" /proc/mounts || {
		fail "second instance did not mount"
		return
	}
	touch "$m2/sem/s" "$m2/sem/z" "$m2/sem/n" "$m2/mutex/m"
	echo 1 > "$m2/sem/z"
	bash -c 'exec 9<"$1"; exec sleep 30' _ "$m2/mutex/m" &
	holder=$!
	echo "$holder" >"$WORK/holder2.pid"
	wait_until 2 size_is 1 "$m2/mutex/m" || fail "the holder did not get the mutex"
	"$CB" "$m2/sem/s" open read >"$WORK/c1" &
	pids[1]=$!
	"$CB" -w "$m2/sem/n" open write:-3 >"$WORK/c2" &
	pids[2]=$!
	"$CB" -w "$m2/sem/z" open write:0 >"$WORK/c3" &
	pids[3]=$!
	"$CB" "$m2/mutex/m" open >"$WORK/c4" &
	pids[4]=$!
	for i in 1 2 3 4; do
		wait_until 5 blocked "${pids[i]}" || fail "caller $i never blocked"
	done
	stat "$m2/sem/s" >/dev/null
	sleep 0.1
	kill -TERM "$d2"
	for i in 1 2 3 4; do
		wait_exit "${pids[i]}" 2000
		# "read EIO", "write:-3 EIO"...: not ECONNABORTED, not a hang
		expect_eq "$RC:$(tail -1 "$WORK/c$i")" "5:$(tail -1 "$WORK/c$i" | cut -d' ' -f1) EIO" \
			"caller $i after SIGTERM to the daemon"
	done
	wait_exit "$d2" 5000
	expect_eq "$RC" 0 "the daemon's exit status"
	grep -q " $m2 fuse" /proc/mounts && fail "still mounted"
	if grep -qE 'Sanitizer|runtime error' "$WORK/daemon2.log"; then
		fail "sanitizer report from the second daemon"
		sed 's/^/#   /' "$WORK/daemon2.log" | head -40
	fi
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	stop_second_instance
}

# ---- signals a wait must outlive ----

# A shell whose background jobs end while it waits in a P gets SIGCHLD, which bash catches.
# Written to OUT: "status N" of `echo -1 > SEM` once it returns. TRAP: bash's trap for USR1.
shell_with_jobs_waits() { # SEM OUT [TRAP]
	bash -c '[ -n "$3" ] && trap "$3" USR1
		 for i in 1 2 3 4 5; do sleep 0.0$i & done
		 echo -1 > "$1"; echo "status $?" > "$2"; wait' _ "$@" &
}

# SIGCHLD interrupts no wait (as SA_RESTART would keep a kernel wait): the shell's P stays
# blocked while its five jobs end, and takes its unit when it comes.
test_park_sigchld_does_not_interrupt_a_wait() {
	touch sem/chld
	shell_with_jobs_waits sem/chld "$WORK/chld.out"
	local sh=$!
	wait_blocked "$sh" sem/chld
	sleep 0.3 # the five jobs have ended: five SIGCHLDs
	blocked "$sh" || fail "the shell's P ended without a V: $(cat "$WORK/chld.out" 2>&1)"
	echo > sem/chld
	wait_exit "$sh" 2000
	expect_eq "$(cat "$WORK/chld.out")" "status 0" "the P, after the SIGCHLDs"
	expect_eq "$(size sem/chld)" 0 "the unit was taken once"
}

# After a SIGCHLD was let pass, any other signal still ends the wait at once and takes
# nothing: SIGTERM (fatal), and SIGUSR1 that the shell traps (the P fails with EINTR).
test_park_signal_after_a_deferred_sigchld_ends_the_wait() {
	touch sem/after
	local sh
	shell_with_jobs_waits sem/after "$WORK/term.out"
	sh=$!
	wait_blocked "$sh" sem/after
	sleep 0.3
	blocked "$sh" || fail "TERM: the P ended by itself"
	kill -TERM "$sh"
	wait_exit "$sh" 1000
	shell_with_jobs_waits sem/after "$WORK/usr1.out" "echo trapped >> $WORK/usr1.out"
	sh=$!
	wait_blocked "$sh" sem/after
	sleep 0.3
	blocked "$sh" || fail "USR1: the P ended by itself"
	kill -USR1 "$sh"
	wait_exit "$sh" 1000
	expect_eq "$(head -1 "$WORK/usr1.out")" "status 1" "the trapped USR1 ended the P"
	echo 2 > sem/after
	expect_eq "$(size sem/after)" 2 "no interrupted wait took a unit"
}

mount_ipcfs -o max_threads=$MAX_THREADS
run_test test_park_sigchld_does_not_interrupt_a_wait
run_test test_park_signal_after_a_deferred_sigchld_ends_the_wait
run_test test_park_poll_readable_only_when_a_read_would_not_block
run_test test_park_poll_select_epoll_wake_on_a_post
run_test test_park_poll_wakes_when_the_head_waiter_leaves
run_test test_park_poll_wakes_on_rm
run_test test_park_interrupts_racing_posts_keep_the_count_exact
run_test test_park_timeout_racing_posts_keep_the_count_exact
run_test test_park_timeout_cat_racing_posts_creates_no_units
run_test test_park_sigkill_racing_posts
run_test test_park_10000_blocked_callers_hold_no_threads 300
run_test test_park_sigterm_answers_parked_callers_with_eio
finish
