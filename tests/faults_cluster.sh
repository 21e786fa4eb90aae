#!/bin/bash
# faults_cluster.sh - cluster mode under real faults, repeated: two mounts (a, b) on a 3-member
# etcd (tests/etcd.sh), and in every round
#   1. one etcd member SIGKILLed: 10 V through a, 10 P through b and 10 messages sent through a
#      all succeed;
#   2. a second member SIGKILLed (no quorum): a V fails with EIO within etcd_timeout + 1.5 s, a
#      P parked on b before the loss stays parked;
#   3. both members back: service resumes (a V succeeds within 20 s), the parked P is served;
#   4. one daemon (a or b in turn) SIGKILLed and mounted again: it replays the cluster;
#   then, counting: the semaphore holds exactly the units posted and not taken (plus any V
#   answered EIO that landed when the quorum came back, which the daemon reports), and the 10
#   messages of the round are received through b, each once, in order.
# Called by .ci/run (not by make test: it takes minutes). ROUNDS (default 20) sets the rounds.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/etcd.sh"
source "$(dirname "$0")/cluster.sh"

MNT=$WORK
ROUNDS=${ROUNDS:-20}

# landed: V operations answered EIO that landed when the quorum came back, so far (both logs).
landed() { cat "$WORK"/a.log "$WORK"/b.log 2>/dev/null | grep -c "landed after its caller got EIO"; }

fault_round() {
	local r=$1 m1 m2 i pid t0 rc victim got late0 c
	# start from 0 units (a late landing of the round before may have left some)
	c=$(size a/sem/f)
	[ "$c" -gt 0 ] && echo "-$c" >b/sem/f
	late0=$(landed)
	m1=$((RANDOM % 3 + 1))
	m2=$((m1 % 3 + 1))
	etcd_member_kill "$m1"
	for i in $(seq 10); do
		echo 1 >a/sem/f || fail "V $i with member $m1 down"
		echo -1 >b/sem/f || fail "P $i with member $m1 down"
		echo "r$r-$i" >a/mq/f || fail "send $i with member $m1 down"
	done
	echo -1 >b/sem/f 2>/dev/null &
	pid=$!
	wait_blocked "$pid" b/sem/f
	wait_until 5 grep -q "waiters=1" a/.ipcfs/status || fail "a does not see b's P"
	etcd_member_kill "$m2"
	t0=$(now_ms)
	echo 1 >a/sem/f 2>"$WORK/err"
	rc=$?
	[ "$rc" -ne 0 ] && grep -q "Input/output error" "$WORK/err" ||
		fail "a V without quorum: status $rc, $(cat "$WORK/err")"
	[ $(($(now_ms) - t0)) -le 3500 ] || fail "EIO after $(($(now_ms) - t0)) ms"
	blocked "$pid" || fail "the parked P was answered during the outage"
	etcd_member_start "$m1"
	etcd_member_start "$m2"
	etcd_wait_healthy 30 || fail "etcd did not recover"
	wait_until 20 bash -c 'echo 1 >a/sem/f 2>/dev/null' || fail "service did not resume"
	wait_exit "$pid" 20000
	expect_eq "$RC" 0 "the parked P, served after recovery"
	# every V that succeeded met its P: what is left is the V answered EIO that landed late
	victim=$([ $((r % 2)) -eq 0 ] && echo a || echo b)
	cluster_kill "$victim"
	cluster_mount "$victim"
	c=$(($(landed) - late0))
	wait_until 5 size_is "$c" b/sem/f || fail "count on b: $(size b/sem/f), expected $c"
	expect_eq "$(size a/sem/f)" "$c" "count on a"
	got=$(for i in $(seq 10); do timeout 5 cat b/mq/f; done | tr '\n' ' ')
	expect_eq "$got" "$(for i in $(seq 10); do printf 'r%s-%s ' "$r" "$i"; done)" \
		"the round's messages, through b"
	expect_eq "$(size a/mq/f)" 0 "messages left"
	say "round $r: members $m1 and $m2 killed, daemon $victim killed; late landings so far: $(landed)"
}

etcd_cluster_start 3
cluster_mount a
cluster_mount b
(cd "$WORK" && touch a/sem/f a/mq/f)
for ((round = 1; round <= ROUNDS; round++)); do
	eval "test_fault_round_$round() { fault_round $round; }"
	run_test "test_fault_round_$round" 120
done
cluster_finish
finish
