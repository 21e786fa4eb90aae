#!/bin/bash
# philosophers.sh - five dining philosophers as five shell processes, the forks as mutexes.
#
# First round: every philosopher takes the fork on the left, then the one on the right. Once
# all five hold their left fork they wait for each other in a circle: a deadlock.
# `ipcctl deadlock` prints the matrices and names the five, `ipcctl graph` the cycle. The
# philosophers are then killed: their waits end and take nothing.
# Second round: the forks are taken in a global order (the lower-numbered fork first), which
# breaks the circle: all five eat.
# Third round: the forks are semaphores of one directory, and each philosopher takes both in
# one atomic operation (`echo "-1 fork2:-1" > sem/philosophers/fork1`: both units or none,
# as System V's semop). Nobody ever holds one fork while waiting for the other, so no circle
# can form: `ipcctl deadlock` is asked again and again while they eat MEALS times each, and
# must say "no deadlock" every time; the log of meals shows no two neighbours ever ate at
# once.
#
# usage: scripts/philosophers.sh [MOUNTPOINT]    (default: $IPCFS_MOUNT, else /run/ipcfs)
# Exit status: 0 when the first round deadlocked and was detected, and the second and third
# rounds ate (the third with no deadlock seen and no neighbours eating together).
#
# A mutex is held by keeping it open: `exec 8>fork` takes it (waiting while another process
# holds it), closing the descriptor or exiting gives it back.
source "$(dirname "$0")/common.sh"
demo_dirs philosophers mutex mq sem
F=$MUTEX
Q=$MQ
S=$SEM
N=5
MEALS=${MEALS:-50}

# philosopher I FIRST SECOND: take fork FIRST, sit down, wait for the signal, take SECOND, eat.
philosopher() {
	exec 8>"$F/fork$2"
	echo "$1" >"$Q/seated"
	read -r _ <"$Q/go"
	exec 9>"$F/fork$3"
	echo "philosopher $1 eats with forks $2 and $3"
	exec 9>&- 8>&-
	echo "$1" >"$Q/ate"
}

# round ORDERED: seat the five, let them reach for their second fork
round() {
	rm -rf "$F"/* "$Q"/*
	for i in $(seq 0 $((N - 1))); do touch "$F/fork$i"; done
	touch "$Q/seated" "$Q/go" "$Q/ate"
	for i in $(seq 0 $((N - 1))); do
		local first=$i second=$(((i + 1) % N))
		if [ "$1" = ordered ] && [ "$second" -lt "$first" ]; then
			first=$second second=$i
		fi
		# (round 1 ends with kills: one of them may still get its fork; not a meal to show)
		if [ "$1" = ordered ]; then
			philosopher "$i" "$first" "$second" &
		else
			philosopher "$i" "$first" "$second" >/dev/null &
		fi
		# naive: seat them one by one, each with its first fork in hand, so that the
		# circle closes for sure (ordered, the last one waits for fork 0 at once)
		[ "$1" = ordered ] || read -r _ <"$Q/seated"
	done
	for _ in $(seq $N); do echo go >"$Q/go"; done
}

waiting() { "$ipcctl" ls "$F" | awk 'NR > 1 { w += $6 } END { print w + 0 }'; }

echo "== Round 1: everybody takes the left fork first"
round naive
for _ in $(seq 200); do
	[ "$(waiting)" -ge $N ] && break
	sleep 0.05
done
rc=0
"$ipcctl" deadlock || rc=$?
if [ "$rc" -ne 3 ]; then
	echo "philosophers: expected a deadlock (exit status 3), ipcctl deadlock said $rc" >&2
	exit 1
fi
echo
"$ipcctl" graph
echo "Ending it: a blocked open is interrupted by a signal like any blocked call"
kill $(jobs -p) 2>/dev/null || true
wait || true

echo
echo "== Round 2: the lower-numbered fork first"
round ordered
for _ in $(seq $N); do read -r _ <"$Q/ate"; done
wait
echo "all $N philosophers ate"

# atomic_philosopher I: MEALS times take forks I and I+1 at once, eat, put both back
atomic_philosopher() {
	local left=$1 right=$((($1 + 1) % N))
	for _ in $(seq "$MEALS"); do
		echo "-1 fork$right:-1" >"$S/fork$left"
		echo "start $1" >"$Q/log"
		echo "end $1" >"$Q/log"
		echo "1 fork$right:1" >"$S/fork$left"
	done
}

echo
echo "== Round 3: both forks in one atomic operation (semaphores fork0..fork$((N - 1)))"
for i in $(seq 0 $((N - 1))); do echo 1 >"$S/fork$i"; done
touch "$Q/log"
# nobody reads the log before all have eaten: room for all of it, or a full log would block a
# philosopher holding both forks
setfattr -n user.max_msgs -v $((2 * N * MEALS)) "$Q/log"
pids=()
for i in $(seq 0 $((N - 1))); do
	atomic_philosopher "$i" &
	pids+=($!)
done
checks=0
while kill -0 "${pids[@]}" 2>/dev/null; do
	rc=0
	"$ipcctl" deadlock >/dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "philosophers: ipcctl deadlock said $rc while they ate" >&2
		"$ipcctl" deadlock >&2 || true
		exit 1
	fi
	checks=$((checks + 1))
done
wait
# replay the log: a philosopher starts eating only while neither neighbour eats
declare -A eating=()
meals=0
for _ in $(seq $((2 * N * MEALS))); do
	read -r what who <"$Q/log"
	if [ "$what" = start ]; then
		if [ -n "${eating[$(((who + 1) % N))]-}" ] || [ -n "${eating[$(((who + N - 1) % N))]-}" ]; then
			echo "philosophers: $who ate while a neighbour ate" >&2
			exit 1
		fi
		eating[$who]=1
		meals=$((meals + 1))
	else
		unset "eating[$who]"
	fi
done
echo "ipcctl deadlock: no deadlock in $checks checks while they ate"
echo "all $N philosophers ate $MEALS times each ($meals meals), never two neighbours at once"
