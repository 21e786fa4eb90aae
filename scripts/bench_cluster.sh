#!/bin/bash
# bench_cluster.sh BUILD - cluster mode (-o etcd=) against etcd's own command-line tool, in one
# run on this machine (called by `make bench` after bench.sh).
#
# Starts a 3-member etcd on loopback (free ports, data in a temporary directory) and two ipcfs
# mounts of one cluster on it, then measures, each a median of RUNS runs (BENCH_RUNS, default 5):
#   - a V through mount A and a P through mount B of one semaphore, from C on open descriptors
#     (bench_ops xsem), and the etcd proposals each pair costs (etcd's own counter);
#   - the same pair from bash: `echo > A/sem/s` then `read < B/sem/s`;
#   - semaphore operations per second over both mounts: 4, 16 and 64 such C clients at once,
#     each on a semaphore of its own (a daemon writes what its callers submitted meanwhile in
#     one transaction: more callers, larger batches);
#   - the baselines a shell user has with etcd alone: `etcdctl put` + `etcdctl get`, and
#     `etcdctl lock NAME true` (acquire, run, release), per shell command;
#   - the floor of one operation: one put (a consensus round) from C through the same etcd
#     client the daemon uses (tests/client_etcd time put), against which an operation's
#     time shows what the daemon adds (the watch that brings it back, FUSE);
#   - compaction: 20,000 operations through a daemon of a cluster without checkpoints
#     (-o compact=0) and of one with them (-o compact=2000); then the operations left in
#     etcd's log, and the time a daemon joining each cluster takes to mount (it replays
#     what is there).
# Prints one Markdown table. Everything is unmounted and killed on exit.
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
IPCFS=$BUILD/ipcfs
OPS=$BUILD/tests/bench_ops
ETCD_C=$BUILD/tests/client_etcd
RUNS=${BENCH_RUNS:-5}
T=$(mktemp -d /tmp/ipcfs-bench-cluster.XXXXXX)
DAEMONS=()
ETCDS=()

note() { echo "bench_cluster.sh: $*" >&2; }

cleanup() {
	local p m
	for m in $(awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts); do
		fusermount3 -u -z "$m" 2>/dev/null
	done
	for p in "${DAEMONS[@]}" "${ETCDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v etcd >/dev/null && command -v etcdctl >/dev/null || {
	note "etcd or etcdctl missing (scripts/install-deps.sh installs them): skipped"
	exit 0
}

# ---- a 3-member etcd on free loopback ports ----
read -r -a PORTS <<<"$(python3 -c '
import socket
s = [socket.socket() for _ in range(6)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')"
INITIAL=
ENDPOINTS=
for i in 1 2 3; do
	INITIAL+=${INITIAL:+,}m$i=http://127.0.0.1:${PORTS[2 * i - 1]}
	ENDPOINTS+=${ENDPOINTS:++}http://127.0.0.1:${PORTS[2 * i - 2]}
done
for i in 1 2 3; do
	c=http://127.0.0.1:${PORTS[2 * i - 2]}
	p=http://127.0.0.1:${PORTS[2 * i - 1]}
	etcd --name "m$i" --data-dir "$T/m$i" --listen-client-urls "$c" --advertise-client-urls "$c" \
		--listen-peer-urls "$p" --initial-advertise-peer-urls "$p" \
		--initial-cluster "$INITIAL" --initial-cluster-state new \
		--initial-cluster-token "ipcfs-bench-$$" >"$T/m$i.log" 2>&1 &
	ETCDS+=("$!")
done
ETCDCTL=(env ETCDCTL_API=3 etcdctl --endpoints="${ENDPOINTS//+/,}")
for ((i = 0; i < 300; i++)); do
	"${ETCDCTL[@]}" get --consistency=l health >/dev/null 2>&1 && break
	sleep 0.1
done
M1=http://127.0.0.1:${PORTS[0]}
# proposals: what etcd has committed so far (each is one consensus round among the members)
proposals() { curl -s "$M1/metrics" | awk '/^etcd_server_proposals_committed_total / { print $2 }'; }

# ---- two mounts of one cluster ----
mkdir -p "$T/a" "$T/b"
for m in a b; do
	"$IPCFS" -f -o "etcd=$ENDPOINTS,cluster=bench" "$T/$m" 2>"$T/$m.log" &
	DAEMONS+=("$!")
done
for m in a b; do
	for ((i = 0; i < 100; i++)); do
		grep -q " $T/$m fuse" /proc/mounts && break
		sleep 0.1
	done
done
A=$T/a
B=$T/b
touch "$A/sem/x" "$A/sem/s"

declare -A R
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# tsh NAME N FUNCTION: median over RUNS of the ns per iteration of FUNCTION N
tsh() {
	local name=$1 n=$2 fn=$3 r t0 v=()
	"$fn" 2 >/dev/null 2>&1
	for ((r = 0; r < RUNS; r++)); do
		t0=${EPOCHREALTIME/./}
		"$fn" "$n" >/dev/null 2>&1
		v+=($(((${EPOCHREALTIME/./} - t0) * 1000 / n)))
	done
	R[$name]=$(median "${v[@]}")
}

# ---- C: V through A, P through B ----
R[c.xsem]=$("$OPS" -r "$RUNS" -n 500 xsem "$A/sem/x" "$B/sem/x" | awk '{ print $2 }')
p0=$(proposals)
"$OPS" -r 1 -n 500 xsem "$A/sem/x" "$B/sem/x" >/dev/null
p1=$(proposals)
R[c.rt]=$(awk -v a="$p0" -v b="$p1" 'BEGIN { printf "%.2f", (b - a) / 1000 }') # per operation

# ---- the floor: one put through the daemon's etcd client, median of RUNS runs of 2 s ----
floor=()
for ((r = 0; r < RUNS; r++)); do
	floor+=("$("$ETCD_C" "$ENDPOINTS" 5000 time put bench-floor 2 | awk '{ print $3 * 1000 }')")
done
R[c.floor]=$(median "${floor[@]}")

# ---- bash: the same pair, and etcdctl's ----
sh_pair() { for ((i = 0; i < $1; i++)); do
	echo >"$A/sem/s"
	read <"$B/sem/s"
done; }
ctl_pair() { for ((i = 0; i < $1; i++)); do
	"${ETCDCTL[@]}" put bench-k v >/dev/null
	"${ETCDCTL[@]}" get bench-k >/dev/null
done; }
ctl_lock() { for ((i = 0; i < $1; i++)); do
	"${ETCDCTL[@]}" lock bench-lock true >/dev/null
done; }
tsh s.pair 200 sh_pair
tsh t.pair 20 ctl_pair
tsh t.lock 20 ctl_lock

# ---- ops/s over both mounts: 4 C clients at once, V through one mount, P through the other ----
# opss NAME K: K clients at once; R[NAME] = their operations per second, summed
opss() {
	local k clients=() v p
	rm -f "$T"/ops.*
	for ((k = 1; k <= $2; k++)); do
		if [ $((k % 2)) -eq 0 ]; then v=$A p=$B; else v=$B p=$A; fi
		touch "$A/sem/c$k"
		"$OPS" -r "$RUNS" -n 300 xsem "$v/sem/c$k" "$p/sem/c$k" >"$T/ops.$k" &
		clients+=("$!")
	done
	wait "${clients[@]}"
	R[$1]=$(cat "$T"/ops.* | awk '{ s += 2e9 / $2 } END { printf "%.0f", s }')
}
opss c.opss4 4
opss c.opss16 16
opss c.opss64 64

# ---- compaction: the log a joining daemon replays, without and with checkpoints ----
mounted_at() { grep -q " $1 fuse" /proc/mounts; }
# mount_at DIR OPTIONS: a daemon on DIR; returns once it is mounted (its pid in DAEMON).
mount_at() {
	mkdir -p "$1"
	"$IPCFS" -f -o "etcd=$ENDPOINTS,$2" "$1" 2>>"$T/joins.log" &
	DAEMON=$!
	DAEMONS+=("$DAEMON")
	for ((i = 0; i < 600; i++)); do
		mounted_at "$1" && break
		sleep 0.05
	done
}
# grow NAME COMPACT: 20,000 operations (16 C clients) through a daemon of cluster NAME with
# -o compact=COMPACT; R[NAME.log] = operations left in etcd's log, R[NAME.join] = the median
# time (ns) another daemon takes to join it and mount.
grow() {
	local name=$1 k clients=() t0 v=() r
	mount_at "$T/$name" "cluster=$name,compact=$2"
	for ((k = 1; k <= 16; k++)); do
		touch "$T/$name/sem/g$k"
		"$OPS" -r 1 -n 625 xsem "$T/$name/sem/g$k" "$T/$name/sem/g$k" >/dev/null &
		clients+=("$!")
	done
	wait "${clients[@]}"
	sleep 1 # the last checkpoint written
	R[$name.log]=$("${ETCDCTL[@]}" get --prefix --keys-only "/ipcfs/$name/l/" | grep -c .)
	for ((r = 0; r < RUNS; r++)); do
		t0=${EPOCHREALTIME/./}
		mount_at "$T/$name.j" "cluster=$name"
		v+=($(((${EPOCHREALTIME/./} - t0) * 1000)))
		fusermount3 -u "$T/$name.j"
		wait "$DAEMON" 2>/dev/null
	done
	R[$name.join]=$(median "${v[@]}")
}
grow nocompact 0
grow compact 2000

us() { awk -v v="${R[$1]:-}" 'BEGIN { if (v == "") print "n/a"; else printf "%.1f µs", v / 1000 }'; }
ratio() { awk -v a="${R[$1]:-}" -v b="${R[$2]:-}" 'BEGIN { if (a == "" || b == "" || a == 0) print "—"; else printf "%.1f", b / a }'; }

echo
echo "## Cluster mode: two mounts on a 3-member etcd (loopback)"
echo
echo "etcd $(etcd --version | sed -n 's/^etcd Version: //p'), members on 127.0.0.1; medians of $RUNS runs."
echo "Speed-up = baseline time / ipcfs time (higher is better)."
echo
echo "| figure | ipcfs | baseline | baseline figure | speed-up |"
echo "|---|---:|---|---:|---:|"
echo "| C: V through mount A + P through mount B, open descriptors | $(us c.xsem) | | | |"
echo "| etcd proposals (consensus rounds) per operation, one caller | ${R[c.rt]} | | | |"
echo "| C: one operation (half a pair) | $(awk -v v="${R[c.xsem]}" 'BEGIN { printf "%.1f µs", v / 2000 }') | one etcd put, C, the daemon's client (the floor) | $(us c.floor) | $(awk -v a="${R[c.xsem]}" -v b="${R[c.floor]}" 'BEGIN { printf "%.2f", b / (a / 2) }') |"
echo "| bash: \`echo > A/sem/s\` + \`read < B/sem/s\` | $(us s.pair) | \`etcdctl put\` + \`etcdctl get\` | $(us t.pair) | $(ratio s.pair t.pair) |"
echo "| bash: one semaphore operation (half a pair) | $(awk -v v="${R[s.pair]}" 'BEGIN { printf "%.1f µs", v / 2000 }') | \`etcdctl lock L true\` (acquire+release) | $(us t.lock) | $(awk -v a="${R[s.pair]}" -v b="${R[t.lock]}" 'BEGIN { printf "%.1f", b / (a / 2) }') |"
for k in 4 16 64; do
	echo "| C: semaphore ops/s over both mounts, $k clients | ${R[c.opss$k]} ops/s | goal | 2000 ops/s | $(awk -v a="${R[c.opss$k]}" 'BEGIN { printf "%.1f", a / 2000 }') |"
done
echo "| compaction: operations left in etcd's log after 20,000 (-o compact=2000) | ${R[compact.log]} | no checkpoints (-o compact=0) | ${R[nocompact.log]} | $(ratio compact.log nocompact.log) |"
echo "| compaction: a daemon joining after them (replay, mount) | $(awk -v v="${R[compact.join]}" 'BEGIN { printf "%.0f ms", v / 1e6 }') | no checkpoints | $(awk -v v="${R[nocompact.join]}" 'BEGIN { printf "%.0f ms", v / 1e6 }') | $(ratio compact.join nocompact.join) |"
