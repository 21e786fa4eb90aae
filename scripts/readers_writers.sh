#!/bin/bash
# readers_writers.sh - the readers-writers problem with a readers-writer lock: readers of a
# shared record hold rwlock/…/db shared (`exec 8<`), writers exclusive (`exec 9>`).
#
#     exec 8<rwlock/db;  read a b <record;  exec 8<&-       # reader: alongside other readers
#     exec 9>rwlock/db;  update the record;  exec 9>&-       # writer: alone
#
# usage: scripts/readers_writers.sh [MOUNTPOINT] [READERS] [WRITERS] [ROUNDS]
#        (default 4 readers, 2 writers, 5 rounds each)
# The record is two copies of a counter in a shm/ segment; a writer changes one copy, waits a
# moment, then the other, so a read during a write would see them differ (a torn read). Every
# hold is logged to a queue; the script replays the log and prints how many readers held the
# lock at once at most, whether a writer ever had company, and the torn reads. Exit status 0
# when no writer had company, no read was torn, readers did share, and the counter is exact.
source "$(dirname "$0")/common.sh"
readers=${2:-4}
writers=${3:-2}
rounds=${4:-5}
demo_dirs readers_writers rwlock shm mq

touch "$RWLOCK/db" "$MQ/log"
echo "0 0" >"$SHM/record"
reader() {
	local r a b
	for ((r = 0; r < rounds; r++)); do
		exec 8<"$RWLOCK/db" # shared
		echo "+r" >"$MQ/log"
		read -r a b <"$SHM/record"
		[ "$a" = "$b" ] || echo torn >"$MQ/log"
		sleep 0.05
		echo "-r" >"$MQ/log"
		exec 8<&-
	done
}
writer() {
	local r a b
	for ((r = 0; r < rounds; r++)); do
		exec 9>"$RWLOCK/db" # exclusive
		echo "+w" >"$MQ/log"
		read -r a b <"$SHM/record"
		echo "$((a + 1)) $b" >"$SHM/record" # half done: a reader now would see a tear
		sleep 0.05
		echo "$((a + 1)) $((b + 1))" >"$SHM/record"
		echo "-w" >"$MQ/log"
		exec 9>&-
	done
}
for ((i = 0; i < readers; i++)); do reader & done
for ((i = 0; i < writers; i++)); do writer & done
wait
# replay the log
r=0 w=0 maxr=0 crowded=0 torn=0
for ((e = 0; e < 2 * (readers + writers) * rounds; e++)); do
	read -r ev <"$MQ/log"
	case $ev in
	torn) torn=$((torn + 1)) e=$((e - 1)) ;;
	+r) r=$((r + 1)) ;;
	-r) r=$((r - 1)) ;;
	+w) w=$((w + 1)) ;;
	-w) w=$((w - 1)) ;;
	esac
	[ "$r" -gt "$maxr" ] && maxr=$r
	if [ "$w" -gt 1 ] || { [ "$w" -eq 1 ] && [ "$r" -gt 0 ]; }; then crowded=$((crowded + 1)); fi
done
read -r a b <"$SHM/record"
echo "$readers readers, $writers writers, $rounds rounds: at most $maxr readers at once," \
	"a writer with company $crowded times, torn reads $torn, counter $a (expected $((writers * rounds)))"
[ "$crowded" -eq 0 ] && [ "$torn" -eq 0 ] && [ "$maxr" -gt 1 ] && [ "$a" -eq $((writers * rounds)) ]
