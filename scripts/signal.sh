#!/bin/bash
# signal.sh - signaling with a semaphore: section X of process A always runs before section Y
# of process B, whoever starts first and however long X takes.
#
#     A:  X; echo > sem/signal/x-done        (V: one unit)
#     B:  echo -1 > sem/signal/x-done; Y     (P: waits for the unit)
#
# (`read < sem/signal/x-done` is the same P without a fork, but its exit status is 1, end of
# file, which `set -e` takes for a failure; `echo -1 >` exits 0.)
#
# usage: scripts/signal.sh [MOUNTPOINT] [ROUNDS]     (default 5)
# Each round starts B first, then A after a random delay, and prints the order of the
# sections. Exit status 0 when X came first every time.
source "$(dirname "$0")/common.sh"
rounds=${2:-5}
demo_dirs signal sem mq

ok=0
for ((r = 1; r <= rounds; r++)); do
	touch "$SEM/x-done" "$MQ/log"
	# B starts first and has to wait for X
	(
		echo -1 >"$SEM/x-done"
		echo Y >"$MQ/log"
	) &
	sleep "0.0$((RANDOM % 9 + 1))"
	(
		echo X >"$MQ/log"
		echo >"$SEM/x-done"
	) &
	wait
	order="$(cat "$MQ/log") $(cat "$MQ/log")"
	echo "round $r: $order"
	[ "$order" = "X Y" ] && ok=$((ok + 1))
	rm "$SEM/x-done" "$MQ/log"
done
echo "X before Y in $ok of $rounds rounds"
[ "$ok" -eq "$rounds" ]
