#!/bin/bash
# lib.sh - sourced by the integration tests (tests/it_*.sh): mount a fresh ipcfs in a
# temporary directory, run test functions bounded in time, report TAP-like lines, and always
# unmount (trap), also when a test fails or the script is killed.
#
#   source "$(dirname "$0")/lib.sh"
#   test_something() { ...; expect_eq "$(stat -c %s "$MNT/sem/s")" 3 "count"; }
#   mount_ipcfs [ipcfs options...]
#   run_test test_something
#   finish
#
# Environment: IPCFS (the daemon binary, default build/ipcfs), IPC_TEST_STEP_TIMEOUT.
set -u

IPCFS=${IPCFS:-build/ipcfs}
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_DIR=$(cd "$(dirname "$IPCFS")" && pwd)
IPCFS=$BUILD_DIR/$(basename "$IPCFS") # absolute: tests run with the mount as cwd
# A sanitizer build (build/<sanitizers>/, make SANITIZE=...) runs many times slower. The tests
# that prove a scale (10,000 waiters, 5,000 messages) prove it in the plain build and check
# the same behaviour with a fifth of it there: `scaled N` is N, or N/5 under a sanitizer.
case $BUILD_DIR in */build) SANITIZED= ;; *) SANITIZED=1 ;; esac
scaled() { if [ -n "$SANITIZED" ]; then echo $(($1 / 5)); else echo "$1"; fi; }
T_NUM=0
T_FAILED=0
T_CUR_FAILED=0
MNT=
DAEMON_PID=
DAEMON_LOG=
MOUNTS=0
WORK=$(mktemp -d /tmp/ipcfs-test.XXXXXX)

say() { printf '# %s\n' "$*"; }

# fail MESSAGE: the current test fails (it goes on, to report every broken expectation).
fail() {
	printf '#   FAIL: %s\n' "$*"
	T_CUR_FAILED=1
}

expect_eq() { # ACTUAL EXPECTED MESSAGE
	[ "$1" == "$2" ] || fail "$3: got '$1', expected '$2'"
}

expect_contains() { # TEXT PART MESSAGE
	[[ "$1" == *"$2"* ]] || fail "$3: '$2' is not in: $1"
}

expect_rc() { # EXPECTED_RC MESSAGE -- COMMAND...: run COMMAND, check its exit status
	local want=$1 msg=$2 rc
	shift 3
	"$@"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "$msg: exit status $rc, expected $want"
}

# The errno text a failed command printed must contain PATTERN.
expect_err() { # PATTERN MESSAGE -- COMMAND...
	local pat=$1 msg=$2 out
	shift 3
	if out=$("$@" 2>&1); then
		fail "$msg: succeeded, expected an error matching '$pat'"
	elif ! grep -q -- "$pat" <<<"$out"; then
		fail "$msg: error '$out' does not match '$pat'"
	fi
}

# wait_until SECONDS COMMAND...: poll COMMAND every 10 ms until it succeeds; 1 on timeout.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}

# interrupt_race_loses_nothing PATH: 1000 times, a reader parked in the daemon on PATH.1 (a FIFO
# or a queue) is sent a (handled) signal while a write would satisfy it, the two a random 0 to
# 300 us apart in either order (tests/client_fifo_race.c); each read returns bytes or EINTR,
# and the bytes received, then those left, must be exactly those written. A reply path that
# let an interrupt arriving 30 us after the bytes were taken lose them fails this every time.
interrupt_race_loses_nothing() {
	local out rc data eintr total_data=0 total_eintr=0 round
	# The guard that the two really raced (100 reads ended each way) may need a second or third
	# run of 1000 on a loaded machine (a sanitizer build, other jobs): each run is checked whole.
	for round in 1 2 3; do
		touch "$1.$round"
		out=$(ASAN_OPTIONS=$NO_LEAK_CHECK timeout 60 "$BUILD_DIR/tests/client_fifo_race" "$1.$round" 1000)
		rc=$?
		expect_eq "$rc" 0 "run $round: the race client's status ($out)"
		read -r _ _ _ data _ eintr <<<"$out"
		say "run $round: $out"
		total_data=$((total_data + ${data:-0}))
		total_eintr=$((total_eintr + ${eintr:-0}))
		[ "$total_data" -ge 100 ] && [ "$total_eintr" -ge 100 ] && return 0
	done
	fail "too few reads ended each way in 3 runs to have raced: data $total_data eintr $total_eintr"
}

# ---- per-object limits: extended attributes "user.NAME" ----

setx() { setfattr -n "$2" -v "$3" "$1"; } # FILE NAME VALUE
getx() { getfattr --only-values -n "$2" "$1" && echo; } # FILE NAME: its value

# ---- helpers for tests of blocking operations ----

# Clients that `timeout` may signal run without LeakSanitizer when built with ASan: timeout
# signals the whole process group, and a signal that reaches LeakSanitizer's tracer process
# while it checks at exit leaves the client spinning forever.
NO_LEAK_CHECK=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

size() { stat -c %s "$1"; }
size_is() { [ "$(size "$2")" = "$1" ]; } # N FILE
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
# sleep_ms MS - sleep MS milliseconds (0: not at all)
sleep_ms() { [ "$1" -gt 0 ] && sleep "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"; return 0; }
# PID sleeps in a FUSE request (queued for the daemon or parked in it).
blocked() { [ "$(cat "/proc/$1/wchan" 2>/dev/null)" = request_wait_answer ]; }
exited() { ! kill -0 "$1" 2>/dev/null; }
# wait_blocked PID FILE: until PID's request is parked on FILE's object. FILE's attributes are
# never cached, so stat sends a GETATTR queued after PID's request: once it is answered, the
# daemon has taken PID's request as well.
wait_blocked() {
	wait_until 5 blocked "$1" || {
		fail "pid $1 never blocked"
		return 1
	}
	stat "$2" >/dev/null
	sleep 0.05
}
# wait_exit PID MS: wait for PID (a child) at most MS milliseconds; sets RC and DT (ms taken).
# A PID still there a second later fails the test and is killed (RC 999): if it sleeps in a
# request the daemon never answers, only the daemon's exit can end it.
wait_exit() {
	local t0
	t0=$(now_ms)
	while ! exited "$1"; do
		if [ $(($(now_ms) - t0)) -gt $(($2 + 1000)) ]; then
			fail "pid $1 still running after $(($(now_ms) - t0)) ms"
			kill -KILL "$1" 2>/dev/null
			RC=999
			return 1
		fi
		sleep 0.01
	done
	{ wait "$1"; } 2>/dev/null # no "Killed" notice
	RC=$?
	DT=$(($(now_ms) - t0))
	[ "$DT" -le "$2" ] || fail "pid $1 took ${DT} ms to end, more than $2 ms"
}

mounted() { grep -q " $MNT fuse" /proc/mounts; }

# mount_ipcfs [OPTIONS...]: start the daemon in the foreground (so that we know its pid and
# see its stderr, sanitizer reports included) on a new mount point $MNT.
mount_ipcfs() {
	MOUNTS=$((MOUNTS + 1))
	MNT=$WORK/mnt
	DAEMON_LOG=$WORK/daemon.$MOUNTS.log # one per mount: a report fails only its own
	mkdir -p "$MNT"
	"$IPCFS" -f "$@" "$MNT" 2>>"$DAEMON_LOG" &
	DAEMON_PID=$!
	if ! wait_until 10 mounted; then
		echo "Bail out! ipcfs did not mount: $(cat "$DAEMON_LOG")"
		exit 1
	fi
}

# unmount_ipcfs: SIGTERM the daemon, wait for it (bounded), report a crash or sanitizer
# findings as a failed test.
unmount_ipcfs() {
	local rc=0
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for _ in $(seq 500); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.01
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -KILL "$DAEMON_PID" 2>/dev/null
		T_NUM=$((T_NUM + 1))
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - daemon exits on SIGTERM"
	fi
	wait "$DAEMON_PID" 2>/dev/null
	rc=$?
	DAEMON_PID=
	mounted && fusermount3 -u -z "$MNT" 2>/dev/null
	if [ "$rc" -ne 0 ] || grep -qE 'Sanitizer|runtime error|LeakSanitizer' "$DAEMON_LOG"; then
		T_NUM=$((T_NUM + 1))
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - daemon exited cleanly (status $rc)"
		sed 's/^/#   /' "$DAEMON_LOG" | head -60
	fi
}

# Functions cleanup runs first, in order (tests/etcd.sh adds the stop of its members).
CLEANUP_HOOKS=()

cleanup() {
	local hook
	for hook in "${CLEANUP_HOOKS[@]}"; do
		"$hook"
	done
	# stopping the daemon answers every caller still blocked in it with EIO, so a failed
	# test's leftover background processes end too
	unmount_ipcfs
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_test FUNCTION [TIMEOUT]: run one test in a subshell bounded in time.
run_test() {
	local name=$1 limit=${2:-${IPC_TEST_STEP_TIMEOUT:-60}} rc
	T_NUM=$((T_NUM + 1))
	(
		T_CUR_FAILED=0
		cd "$MNT" || exit 1
		"$name"
		exit $T_CUR_FAILED
	) &
	local pid=$!
	# the watchdog polls, so that it ends (with no sleep left behind holding our stdout)
	# within 0.1 s of the test
	(
		for ((i = 0; i < limit * 10; i++)); do
			sleep 0.1
			kill -0 "$pid" 2>/dev/null || exit 0
		done
		kill -KILL "$pid" 2>/dev/null
	) &
	local watchdog=$!
	wait "$pid"
	rc=$?
	wait "$watchdog" 2>/dev/null
	if [ "$rc" -eq 0 ]; then
		echo "ok $T_NUM - $name"
	else
		[ "$rc" -eq 137 ] && echo "#   timed out after ${limit}s"
		echo "not ok $T_NUM - $name"
		T_FAILED=$((T_FAILED + 1))
	fi
}

# run_test_unless WHY FUNCTION [TIMEOUT]: run_test, or, when WHY (a reason) is not empty, a
# TAP SKIP line that gives it.
run_test_unless() {
	if [ -n "$1" ]; then
		T_NUM=$((T_NUM + 1))
		echo "ok $T_NUM - $2 # SKIP $1"
	else
		run_test "${@:2}"
	fi
}

finish() {
	unmount_ipcfs
	echo "1..$T_NUM"
	[ "$T_FAILED" -eq 0 ]
}
