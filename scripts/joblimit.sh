#!/bin/bash
# joblimit.sh - run many shell jobs, at most K at a time, with a counting semaphore: the ipcfs
# answer to GNU parallel's `sem -j K`.
#
#     echo K > sem/jobs                        # K slots
#     for job in ...; do
#         echo -1 > sem/jobs                   # P: wait for a free slot (no fork)
#         { run "$job"; echo > sem/jobs; } &   # V when the job ends
#     done
#     wait
#
# usage: scripts/joblimit.sh [MOUNTPOINT] [JOBS] [K]    (default 12 jobs, 3 at a time)
# Each job sleeps a little and logs its start and end; the script prints how many ran at once
# at most. Exit status 0 when that was K (never more).
#
# A job killed before its V would keep its slot: give it back in a trap, as below.
source "$(dirname "$0")/common.sh"
jobs=${2:-12}
k=${3:-3}
demo_dirs joblimit sem mq

echo "$k" >"$SEM/slots"
touch "$MQ/log"
job() {
	trap 'echo >"$SEM/slots"' EXIT # the slot comes back however the job ends
	echo "+ $1" >"$MQ/log"
	sleep "0.$((RANDOM % 2 + 1))"
	echo "- $1" >"$MQ/log"
}
for ((j = 1; j <= jobs; j++)); do
	echo -1 >"$SEM/slots"
	job "$j" &
done
wait
# replay the log: the number running after each event
max=0
running=0
for ((e = 0; e < 2 * jobs; e++)); do
	read -r sign _ <"$MQ/log"
	if [ "$sign" = + ]; then running=$((running + 1)); else running=$((running - 1)); fi
	[ "$running" -gt "$max" ] && max=$running
done
echo "$jobs jobs ran, at most $max at a time (limit $k); slots free now: $(stat -c %s "$SEM/slots")"
[ "$max" -eq "$k" ]
