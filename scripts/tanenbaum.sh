#!/bin/bash
# tanenbaum.sh - the example of deadlock detection with multiple resources of each type from
# Tanenbaum's Modern Operating Systems, set up live on an ipcfs mount:
#
#   E = (4 2 3 1)   4 tape drives, 2 plotters, 3 scanners, 1 Blu-ray drive
#   A = (2 1 0 0)
#   C = ((0 0 1 0), (2 0 0 1), (0 1 2 0))     what processes 1, 2, 3 hold
#   R = ((2 0 0 1), (1 0 1 0), (2 1 0 0))     what they request
#
# `ipcctl deadlock --pgrp` prints these matrices and finds no deadlock: process 3 can finish,
# then process 2, then process 1. Then the requests are let through, and the three processes
# do finish in that order.
#
# usage: scripts/tanenbaum.sh [MOUNTPOINT]    (default: $IPCFS_MOUNT, else /run/ipcfs)
#
# How it is set up:
# - Each resource class is a semaphore, sem/tanenbaum/1-tape ... 4-bluray (the names sort in
#   the textbook's column order).
# - A textbook "process" is a shell job, i.e. a process group (job control is on: `set -m`),
#   so one process can request several classes at once: the job's leader takes what the
#   process holds, then starts one child per class it requests, each blocked in its P.
#   `--pgrp` makes one row per process group.
# - A real system grants a request that fits at once, and process 3's request fits in A: the
#   textbook's state is a snapshot of one instant. The semaphores are paused (extended
#   attribute user.paused=1: no P is granted) while the requests are made, and resumed after.
# - The jobs learn when to go on from message queues, which are not resources of the matrices.
source "$(dirname "$0")/common.sh"
demo_dirs tanenbaum sem mq
S=$SEM
Q=$MQ
classes=(1-tape 2-plotter 3-scanner 4-bluray)
for c in "${classes[@]}"; do touch "$S/$c"; done
echo 4 >"$S/1-tape"
echo 2 >"$S/2-plotter"
echo 3 >"$S/3-scanner"
echo 1 >"$S/4-bluray"
touch "$Q/ready" "$Q/go1" "$Q/go2" "$Q/go3" "$Q/done"

# post SIGN "2 0 0 1": write SIGN2 to class 1 and SIGN1 to class 4 (SIGN -: P, take; SIGN
# empty: V, give back).
post() {
	local i=0 n
	for n in $2; do
		[ "$n" -gt 0 ] && echo "$1$n" >"$S/${classes[$i]}"
		i=$((i + 1))
	done
	return 0
}

# process NUMBER HOLDS REQUESTS: one job
process() {
	set +m # its children stay in its process group
	local i=0 n pids=()
	post - "$2"
	echo "$1" >"$Q/ready"
	read -r _ <"$Q/go$1"
	for n in $3; do
		if [ "$n" -gt 0 ]; then
			echo "-$n" >"$S/${classes[$i]}" &
			pids+=($!)
		fi
		i=$((i + 1))
	done
	wait "${pids[@]}"
	echo "process $1 has all it requested and finishes"
	echo "$1" >"$Q/done"
	post "" "$2"
	post "" "$3"
}

set -m
process 1 "0 0 1 0" "2 0 0 1" &
process 2 "2 0 0 1" "1 0 1 0" &
process 3 "0 1 2 0" "2 1 0 0" &
set +m
for _ in 1 2 3; do read -r _ <"$Q/ready"; done

# Pause the semaphores, then let the processes make their requests, process 3's first so the
# queues are served as the textbook's order of completion once resumed.
for c in "${classes[@]}"; do setfattr -n user.paused -v 1 "$S/$c"; done
waiting() { "$ipcctl" ls "$S" | awk 'NR > 1 { w += $6 } END { print w + 0 }'; }
want=0
for p in 3 2 1; do
	echo go >"$Q/go$p"
	want=$((want + 2)) # each process requests two classes
	for _ in $(seq 200); do
		[ "$(waiting)" -ge "$want" ] && break
		sleep 0.05
	done
done
[ "$(waiting)" -eq 6 ] || { echo "tanenbaum: the requests did not all arrive" >&2; exit 1; }

rc=0
"$ipcctl" deadlock --pgrp || rc=$?
[ "$rc" -eq 0 ] || { echo "tanenbaum: ipcctl deadlock said $rc, expected 0" >&2; exit 1; }

echo
echo "Resuming the semaphores:"
for c in "${classes[@]}"; do setfattr -n user.paused -v 0 "$S/$c"; done
order=
for _ in 1 2 3; do
	read -r p <"$Q/done"
	order="$order $p"
done
wait
echo "finished in the order:$order"
