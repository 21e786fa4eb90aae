#!/bin/bash
# etcd.sh - sourced after lib.sh by the tests that need etcd: a cluster of real etcd members
# (Debian's etcd-server) on loopback ports picked free at run time, with their data in the
# test's temporary directory; stopped (SIGKILL) and removed at exit, also on failure (the
# stop is one of lib.sh's cleanup hooks).
#
#   etcd_cluster_start N          start members 1..N; sets ETCD_ENDPOINTS ("http://...+...")
#   etcd_member_kill I            SIGKILL member I
#   etcd_member_start I           start member I again on its data (after a kill)
#   etcd_wait_healthy [SECONDS]   until a quorum serves a linearizable read
#
# A member's client URL is ETCD_CLIENT[I]; its pid is in $WORK/etcd/mI.pid while it runs (a
# file, not a variable: tests run in subshells, and the cleanup must see what they started).

ETCD_N=0
ETCD_CLIENT=()
ETCD_PEER=()
ETCD_ENDPOINTS=
ETCD_INITIAL=

# free_ports N: N TCP ports on 127.0.0.1 that nobody listens on now.
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# etcd_member_run I STATE: start member I (STATE new or existing) in the background.
etcd_member_run() {
	local i=$1
	etcd --name "m$i" --data-dir "$WORK/etcd/m$i" \
		--listen-client-urls "${ETCD_CLIENT[i]}" --advertise-client-urls "${ETCD_CLIENT[i]}" \
		--listen-peer-urls "${ETCD_PEER[i]}" --initial-advertise-peer-urls "${ETCD_PEER[i]}" \
		--initial-cluster "$ETCD_INITIAL" --initial-cluster-state "$2" \
		--initial-cluster-token "ipcfs-test-$$" \
		--heartbeat-interval 50 --election-timeout 500 \
		>>"$WORK/etcd/m$i.log" 2>&1 &
	echo $! >"$WORK/etcd/m$i.pid"
	disown $! # killed on purpose: no "Killed" notice from the shell
}

etcd_cluster_start() {
	local n=$1 i ports
	ETCD_N=$n
	mkdir -p "$WORK/etcd"
	read -r -a ports <<<"$(free_ports $((2 * n)))"
	ETCD_INITIAL=
	ETCD_ENDPOINTS=
	for ((i = 1; i <= n; i++)); do
		ETCD_CLIENT[i]=http://127.0.0.1:${ports[2 * i - 2]}
		ETCD_PEER[i]=http://127.0.0.1:${ports[2 * i - 1]}
		ETCD_INITIAL+=${ETCD_INITIAL:+,}m$i=${ETCD_PEER[i]}
		ETCD_ENDPOINTS+=${ETCD_ENDPOINTS:++}${ETCD_CLIENT[i]}
	done
	for ((i = 1; i <= n; i++)); do
		etcd_member_run "$i" new
	done
	CLEANUP_HOOKS+=(etcd_cluster_stop)
	etcd_wait_healthy 30 || {
		echo "Bail out! etcd did not start: $(tail -5 "$WORK"/etcd/m*.log)"
		exit 1
	}
}

etcd_member_kill() {
	local f=$WORK/etcd/m$1.pid pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	rm -f "$f"
	kill -KILL "$pid" 2>/dev/null
	wait_until 5 bash -c "! kill -0 $pid 2>/dev/null"
}

etcd_member_start() {
	[ -f "$WORK/etcd/m$1.pid" ] || etcd_member_run "$1" existing
}

# A linearizable read through any member succeeds: a quorum is up and has a leader.
etcd_healthy() {
	ETCDCTL_API=3 timeout 3 etcdctl --endpoints="${ETCD_ENDPOINTS//+/,}" \
		--command-timeout=2s get --consistency=l ipcfs-health >/dev/null 2>&1
}

etcd_wait_healthy() {
	wait_until "${1:-30}" etcd_healthy
}

etcd_cluster_stop() {
	local i
	for ((i = 1; i <= ETCD_N; i++)); do
		etcd_member_kill "$i"
	done
	# and anything else started on our data (a test killed between start and pid file)
	pkill -KILL -f -- "--data-dir $WORK/etcd/" 2>/dev/null
	rm -rf "$WORK/etcd"
}
