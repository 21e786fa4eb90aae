#!/bin/bash
# it_etcd.sh - the etcd client (fs/store/etcd/etcd.h), which cluster mode is built on, against
# a real 3-member etcd cluster on loopback (tests/etcd.sh): reads and writes through any
# member, transactions that count exactly under contention and member failures, leases,
# watches that miss and repeat nothing when their member dies, failover, and EIO within the
# time bound without a quorum, then recovery. Driven by tests/client_etcd.c.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/etcd.sh"

CLIENT=$BUILD_DIR/tests/client_etcd
TIMEOUT_MS=2000
MNT=$WORK # no mount here: tests run in the work directory

ec() { ASAN_OPTIONS=$NO_LEAK_CHECK "$CLIENT" "$ETCD_ENDPOINTS" "$TIMEOUT_MS" "$@"; }
# ec_at I OP...: through member I alone
ec_at() {
	local i=$1
	shift
	ASAN_OPTIONS=$NO_LEAK_CHECK "$CLIENT" "${ETCD_CLIENT[i]}" "$TIMEOUT_MS" "$@"
}

test_etcd_bad_endpoints_are_einval() {
	local e
	for e in "" "127.0.0.1:2379" "http://a:1++http://b:2" "http://a:1+" "ftp://x"; do
		expect_eq "$(ASAN_OPTIONS=$NO_LEAK_CHECK "$CLIENT" "$e" 1000 get k)" "open EINVAL" \
			"endpoints '$e'"
	done
	expect_eq "$(ASAN_OPTIONS=$NO_LEAK_CHECK "$CLIENT" "${ETCD_CLIENT[1]}" 0 get k)" \
		"open EINVAL" "a zero timeout"
}

test_etcd_a_write_through_one_member_is_read_through_another() {
	local put rev
	put=$(ec_at 1 put greeting "hello world")
	rev=${put#put }
	[ "$rev" -gt 0 ] 2>/dev/null || fail "put answered '$put'"
	expect_eq "$(ec_at 3 get greeting)" "get hello world $rev" "read through member 3"
	expect_eq "$(ec_at 2 get nothing-here)" "get none" "a key never written"
}

# 4 processes x 150 increments of one counter, through different members, each a
# compare-and-swap transaction with a marker: the count is exact, and every marker is there.
test_etcd_transactions_count_exactly_under_contention() {
	local pids=() i out
	for i in 1 2 3 4; do
		ec_at $(((i - 1) % 3 + 1)) incr counter 150 "p$i" >"$WORK/incr.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in 1 2 3 4; do
		out=$(cat "$WORK/incr.$i")
		[[ $out == "incr 150 "* ]] || fail "process $i: $out"
	done
	say "$(cat "$WORK"/incr.* | tr '\n' ' ')"
	expect_eq "$(ec get counter | cut -d' ' -f2)" 600 "the counter"
	expect_eq "$(ec count counter/done/)" "count 600" "the markers"
	expect_eq "$(ec count counter/done/ 7)" "count 600" "the markers, read 7 at a time"
	grep -q "retries [1-9]" "$WORK"/incr.* || say "no transaction lost a race (no contention?)"
}

test_etcd_a_lease_keeps_its_key_while_renewed_and_drops_it_after() {
	local id
	id=$(ec grant 2 | cut -d' ' -f2)
	[ "$id" -gt 0 ] 2>/dev/null || fail "grant: $id"
	expect_eq "$(ec put leased yes "$id" | cut -c1-4)" "put " "put with the lease"
	expect_eq "$(ec keepalive "$id" 3.5)" "keepalive ok" "renewed for 3.5 s (past its 2 s)"
	expect_eq "$(ec get leased | cut -d' ' -f1-2)" "get yes" "the key after 3.5 s, renewed"
	wait_until 6 bash -c "[ \"\$(ASAN_OPTIONS=$NO_LEAK_CHECK $CLIENT $ETCD_ENDPOINTS \
		$TIMEOUT_MS get leased)\" = 'get none' ]" || fail "the key outlived its lease"
	expect_eq "$(ec keepalive "$id" 1)" "keepalive ENOENT" "renewing an expired lease"
	expect_eq "$(ec put leased again "$id")" "put ENOENT" "a put on an expired lease"
}

# create_until_done I KEY VALUE: create KEY through member I, again after an EIO (an election
# in progress) until it exists: exactly one change, whatever the EIOs hid.
create_until_done() {
	local out
	for _ in $(seq 30); do
		out=$(ec_at "$1" create "$2" "$3")
		[ "$out" != "create EIO" ] && return 0
	done
	fail "create $2 through member $1: $out"
}

# A watch on member 1 from a known revision; 200 writes go on while member 1 is killed and
# comes back: the watch moves to another member and reports every change once, in order.
test_etcd_a_watch_misses_and_repeats_nothing_when_its_member_dies() {
	local start i pid got
	start=$(ec put w/start 0 | cut -d' ' -f2)
	# member 1 first in the list: the watch starts there
	ASAN_OPTIONS=$NO_LEAK_CHECK "$CLIENT" "${ETCD_CLIENT[1]}+${ETCD_CLIENT[2]}+${ETCD_CLIENT[3]}" \
		"$TIMEOUT_MS" watch w/ $((start + 1)) 200 40 >"$WORK/watch" &
	pid=$!
	wait_until 10 grep -q watching "$WORK/watch" || fail "the watch did not start"
	for i in $(seq 1 100); do
		create_until_done 2 "w/k$i" "$i"
	done
	etcd_member_kill 1
	for i in $(seq 101 200); do
		create_until_done 3 "w/k$i" "$i"
	done
	etcd_member_start 1
	wait "$pid"
	got=$(grep -c '^ev ' "$WORK/watch")
	expect_eq "$got" 200 "changes reported"
	expect_eq "$(grep '^ev ' "$WORK/watch" | cut -d' ' -f3 | tr '\n' ' ')" \
		"$(seq 1 200 | tr '\n' ' ')" "values, in order, once each"
	# revisions strictly increasing
	grep '^ev ' "$WORK/watch" | awk '$4 <= last { bad = 1 } { last = $4 } END { exit bad }' ||
		fail "revisions not increasing"
	etcd_wait_healthy 30 || fail "member 1 did not rejoin"
}

test_etcd_one_member_down_service_goes_on() {
	local out
	etcd_member_kill 2
	# if it led, the others elect a leader first (a write sent meanwhile is EIO: not known)
	etcd_wait_healthy 10 || fail "no quorum with one member down"
	out=$(ec put one-down yes)
	[[ $out == "put "[0-9]* ]] || fail "put with member 2 down: $out"
	expect_eq "$(ec get one-down | cut -d' ' -f1-2)" "get yes" "get with member 2 down"
	# the dead member first in the list: the client moves on at once
	out=$(ASAN_OPTIONS=$NO_LEAK_CHECK "$CLIENT" "${ETCD_CLIENT[2]}+${ETCD_CLIENT[1]}" \
		"$TIMEOUT_MS" get one-down | cut -d' ' -f1-2)
	expect_eq "$out" "get yes" "failover past the dead member"
	etcd_member_start 2
	etcd_wait_healthy 30 || fail "member 2 did not rejoin"
}

# Two members down: no quorum. A call fails with EIO within its bound (TIMEOUT_MS, plus the
# client's start-up); the counter's transactions resume once quorum is back, and count exactly.
test_etcd_no_quorum_is_eio_within_the_bound_then_recovers() {
	local t0 dt out pid
	ec put q 0 >/dev/null
	ec incr qc 50 before >/dev/null
	etcd_member_kill 2
	etcd_member_kill 3
	t0=$(now_ms)
	out=$(ec put q 1)
	dt=$(($(now_ms) - t0))
	expect_eq "$out" "put EIO" "a put without quorum"
	say "EIO after $dt ms (bound ${TIMEOUT_MS} ms)"
	[ "$dt" -le $((TIMEOUT_MS + 1500)) ] || fail "EIO took $dt ms"
	expect_eq "$(ec get q)" "get EIO" "a linearizable read without quorum"
	# increments that start without quorum go on once it is back, each applied once
	ec incr qc 100 during >"$WORK/during" &
	pid=$!
	sleep 3
	etcd_member_start 2
	etcd_member_start 3
	etcd_wait_healthy 30 || fail "no quorum again"
	wait "$pid"
	say "$(cat "$WORK/during")"
	grep -q "eio [1-9]" "$WORK/during" || fail "the increments never met the outage"
	expect_eq "$(ec get qc | cut -d' ' -f2)" 150 "increments across the outage, exactly once"
	expect_eq "$(ec count qc/done/)" "count 150" "their markers"
	# The put that failed with EIO may still be applied: the member that took it keeps the
	# proposal and commits it once quorum is back. EIO means "not known", never "not done":
	# what must happen exactly once carries a marker (as the increments do).
	out=$(ec get q | cut -d' ' -f1-2)
	[ "$out" = "get 0" ] || [ "$out" = "get 1" ] || fail "q after the outage: $out"
	say "the put that got EIO: q is now ${out#get }"
}

etcd_cluster_start 3
run_test test_etcd_bad_endpoints_are_einval
run_test test_etcd_a_write_through_one_member_is_read_through_another
run_test test_etcd_transactions_count_exactly_under_contention 120
run_test test_etcd_a_lease_keeps_its_key_while_renewed_and_drops_it_after
run_test test_etcd_a_watch_misses_and_repeats_nothing_when_its_member_dies 90
run_test test_etcd_one_member_down_service_goes_on 60
run_test test_etcd_no_quorum_is_eio_within_the_bound_then_recovers 120
finish
