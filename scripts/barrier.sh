#!/bin/bash
# barrier.sh - N workers in lock-step through phases, with a barrier: no worker starts phase
# p+1 before every worker has finished phase p.
#
#     setfattr -n user.parties -v N barrier/step
#     for p in phases; do work "$p"; cat barrier/step; done      # in each of the N workers
#
# usage: scripts/barrier.sh [MOUNTPOINT] [WORKERS] [PHASES]   (default 4 workers, 3 phases)
# Each worker logs "PHASE WORKER" to a queue as it finishes a phase (after a random moment of
# work); the script replays the log and checks that the phases never overlap. Exit status 0
# when they did not.
source "$(dirname "$0")/common.sh"
workers=${2:-4}
phases=${3:-3}
demo_dirs barrier barrier mq

touch "$BARRIER/step" "$MQ/log"
setfattr -n user.parties -v "$workers" "$BARRIER/step"
worker() {
	local p
	for ((p = 1; p <= phases; p++)); do
		sleep "0.0$((RANDOM % 9 + 1))" # the phase's work
		echo "$p $1" >"$MQ/log"
		cat "$BARRIER/step" # wait for the others
	done
}
for ((i = 1; i <= workers; i++)); do worker "$i" & done
wait
last=1 overlaps=0
for ((e = 0; e < workers * phases; e++)); do
	read -r p _ <"$MQ/log"
	[ "$p" -lt "$last" ] && overlaps=$((overlaps + 1))
	last=$p
done
echo "$workers workers, $phases phases, $(getfattr --only-values -n user.parties \
	"$BARRIER/step") parties: phases overlapped $overlaps times"
[ "$overlaps" -eq 0 ]
