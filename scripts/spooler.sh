#!/bin/bash
# spooler.sh - a race condition: the print spooler of the textbooks. Writers put records into
# the spooler's slots with
#     slot=$(cat in); echo RECORD > slot.$slot; echo $((slot + 1)) > in
# Two writers doing that at the same time read the same `in`, write the same slot, and one
# record overwrites the other: it is lost. Done inside a mutex (the critical section), none is.
#
# usage: scripts/spooler.sh [MOUNTPOINT] [RECORDS_PER_WRITER]   (default 100)
# Prints how many records each run lost. Exit status 0 when the protected run lost none.
#
# The spooler's state lives in shared-memory segments (shm/spooler/in and one per slot): files
# in memory, read with cat and written with echo, and with no synchronisation of their own.
# The mutex is mutex/spooler/lock: `exec 9>lock` takes it (waits while another holds it),
# `exec 9>&-` gives it back.
source "$(dirname "$0")/common.sh"
n=${2:-100}
demo_dirs spooler shm mutex

# writer NAME [mutex]: put n records
writer() {
	local i slot
	for ((i = 1; i <= n; i++)); do
		[ "${2:-}" = mutex ] && exec 9>"$MUTEX/lock"
		slot=$(cat "$SHM/in")
		echo "$1-$i" >"$SHM/slot.$slot"
		echo $((slot + 1)) >"$SHM/in"
		[ "${2:-}" = mutex ] && exec 9>&-
	done
	return 0
}

# run [mutex]: two writers at once; prints and returns the number of records lost
run() {
	rm -f "$SHM"/slot.* "$SHM/in"
	echo 0 >"$SHM/in"
	touch "$MUTEX/lock"
	writer A "${1:-}" &
	writer B "${1:-}" &
	wait
	local found
	found=$(cat "$SHM"/slot.* 2>/dev/null | sort -u | wc -l)
	echo "$((2 * n)) records written, $found found in the spooler, $((2 * n - found)) lost"
	lost=$((2 * n - found))
}

echo "Without protection (two writers, $n records each):"
run
echo "With the critical section inside mutex/spooler/lock:"
run mutex
[ "$lost" -eq 0 ]
