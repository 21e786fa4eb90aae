#!/bin/bash
# philosophers.sh - five dining philosophers as five shell processes, the forks as mutexes.
#
# First round: every philosopher takes the fork on the left, then the one on the right. Once
# all five hold their left fork they wait for each other in a circle: a deadlock.
# `ipcctl deadlock` prints the matrices and names the five, `ipcctl graph` the cycle. The
# philosophers are then killed: their waits end and take nothing.
# Second round: the forks are taken in a global order (the lower-numbered fork first), which
# breaks the circle: all five eat.
#
# usage: scripts/philosophers.sh [MOUNTPOINT]    (default: $IPCFS_MOUNT, else /run/ipcfs)
# Exit status: 0 when the first round deadlocked and was detected and the second round ate.
#
# A mutex is held by keeping it open: `exec 8>fork` takes it (waiting while another process
# holds it), closing the descriptor or exiting gives it back.
source "$(dirname "$0")/common.sh"
demo_dirs philosophers mutex mq
F=$MUTEX
Q=$MQ
N=5

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
