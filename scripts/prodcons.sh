#!/bin/bash
# prodcons.sh - producers and consumers over a bounded buffer, in pure shell.
#
# 1. With the three semaphores of the textbooks: `empty` (free slots, starts at N), `filled`
#    (full slots, starts at 0) and `mutex` (a binary semaphore around the buffer's indexes):
#        producer:  P(empty); P(mutex); put item at in; in++;  V(mutex); V(filled)
#        consumer:  P(filled); P(mutex); take item at out; out++; V(mutex); V(empty)
#    The buffer's slots and indexes are shared-memory segments (shm/prodcons/...). P is
#    `echo -1 > sem` (or `read < sem`, whose exit status is 1 though), V is `echo > sem`.
# 2. The same with one message queue, which is a bounded buffer with its synchronisation
#    built in: producers `echo item > mq/prodcons/q`, consumers `read -r item < mq/prodcons/q`.
#
# usage: scripts/prodcons.sh [MOUNTPOINT] [ITEMS_PER_PRODUCER]   (default 50)
# Two producers, two consumers, N = 4 slots. Exit status 0 when every item produced was
# consumed exactly once, in both versions.
source "$(dirname "$0")/common.sh"
items=${2:-50}
N=4
demo_dirs prodcons sem shm mq

P() { echo -1 >"$SEM/$1"; }
V() { echo >"$SEM/$1"; }

producer() {
	local i k
	for ((i = 1; i <= items; i++)); do
		P empty
		P mutex
		k=$(cat "$SHM/in")
		echo "$1-$i" >"$SHM/slot.$k"
		echo $(((k + 1) % N)) >"$SHM/in"
		V mutex
		V filled
	done
}

# consumer COUNT: take COUNT items, print them
consumer() {
	local i k
	for ((i = 0; i < $1; i++)); do
		P filled
		P mutex
		k=$(cat "$SHM/out")
		cat "$SHM/slot.$k"
		echo $(((k + 1) % N)) >"$SHM/out"
		V mutex
		V empty
	done
}

# check FILE: every item of both producers exactly once
check() {
	local want
	want=$(for p in p1 p2; do seq -f "$p-%g" "$items"; done | sort)
	if [ "$(sort "$1")" = "$want" ]; then
		echo "  $((2 * items)) items produced, each consumed exactly once"
	else
		echo "  MISMATCH: $(sort "$1" | uniq -d | wc -l) duplicated," \
			"$(comm -23 <(echo "$want") <(sort -u "$1") | wc -l) lost"
		return 1
	fi
}

out=$(mktemp)
trap 'rm -f "$out"; demo_cleanup' EXIT

echo "1. Semaphores empty=$N, filled=0, mutex=1 (2 producers, 2 consumers, $N slots):"
touch "$SEM/empty" "$SEM/filled" "$SEM/mutex"
echo $N >"$SEM/empty"
echo 1 >"$SEM/mutex"
echo 0 >"$SHM/in"
echo 0 >"$SHM/out"
producer p1 &
producer p2 &
consumer "$items" >>"$out" &
consumer "$items" >>"$out" &
wait
check "$out"

echo "2. One message queue (its capacity set to $N messages):"
: >"$out"
touch "$MQ/q"
setfattr -n user.max_msgs -v $N "$MQ/q"
for p in p1 p2; do
	(for ((i = 1; i <= items; i++)); do echo "$p-$i" >"$MQ/q"; done) &
done
for _ in 1 2; do
	(for ((i = 0; i < items; i++)); do
		read -r item <"$MQ/q"
		echo "$item"
	done >>"$out") &
done
wait
check "$out"
