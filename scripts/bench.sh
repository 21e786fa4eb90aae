#!/bin/bash
# bench.sh BUILD - ipcfs against the FUSE floor, the kernel and today's shell tools, measured in
# one run on this machine (called by `make bench` once BUILD holds ipcfs, tests/bench_ops,
# tests/bench_nullfs and tests/client_scale).
#
# Mounts the daemon and the null filesystem (tests/bench_nullfs.c: the same request loop, init
# flags and mount options, answering every request at once) on temporary directories, runs
# tests/bench_ops.c and bash loops for every figure, counts the FUSE requests each shell command
# sends (a second daemon of each with -d), measures the daemon's memory, and prints one Markdown
# table: every figure, its baseline, the ratio, and the synchronous requests. Writes the plot to
# docs/bench.png when gnuplot is there (BENCH_PLOT=FILE for another path, empty for none).
# Everything is unmounted and killed on exit; the whole run is bounded (BENCH_LIMIT seconds).
#
# Timing: figures are medians of RUNS runs (BENCH_RUNS, default 5); the machine is shared and
# noisy, so only the ratios of one run mean much. Nothing is pinned to a CPU: the figures are
# what a caller sees, moving between vCPUs as the scheduler pleases.
# shellcheck disable=SC2016,SC2034,SC2162,SC2317 # builtins as a user types them; trap
set -u
export LC_ALL=C

B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIMIT=${BENCH_LIMIT:-540}
RUNS=${BENCH_RUNS:-5}
PLOT=${BENCH_PLOT-$ROOT/docs/bench.png}

# The whole run under a time limit: timeout signals the process group (the daemons too), and
# the EXIT trap below cleans up.
if [ -z "${BENCH_TIMED:-}" ]; then
	BENCH_TIMED=1 exec timeout -s TERM "$LIMIT" "$0" "$@"
fi

IPCFS=$B/ipcfs
NULLFS=$B/tests/bench_nullfs
OPS=$B/tests/bench_ops
SCALE=$B/tests/client_scale
for f in "$IPCFS" "$NULLFS" "$OPS" "$SCALE"; do
	[ -x "$f" ] || {
		echo "bench.sh: $f missing: build it first (make bench)" >&2
		exit 2
	}
done

T=$(mktemp -d /tmp/ipcfs-bench.XXXXXX)
PIDS=()    # daemons and servers, terminated at exit
MNTS=()    # mount points, unmounted at exit
CLIENTS=() # clients, killed at exit
cleanup() {
	local p m i
	trap - EXIT INT TERM
	for p in "${CLIENTS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for m in "${MNTS[@]}"; do
		fusermount3 -u -z "$m" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for ((i = 0; i < 30; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "bench.sh: stopped" >&2; exit 130' INT TERM

note() { echo "bench.sh: $*" >&2; }

# mount_fs BINARY MOUNTPOINT LOG [OPTIONS...]: start a daemon in the foreground, in the
# background; wait for its mount. Sets LAST_PID.
mount_fs() {
	local bin=$1 mnt=$2 log=$3 i
	shift 3
	mkdir -p "$mnt"
	"$bin" -f "$@" "$mnt" 2>"$log" &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
	MNTS+=("$mnt")
	for ((i = 0; i < 100; i++)); do
		if awk -v m="$mnt" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
			return 0
		fi
		sleep 0.05
	done
	note "$bin did not mount $mnt:"
	cat "$log" >&2
	exit 1
}

# ---- results: R[name] = value, U[name] = unit ----
declare -A R U
# run NAME ARGS...: bench_ops ARGS, each output line "key value unit" stored as NAME.key, and
# as NAME too when there is one line.
run() {
	local name=$1 out key val unit n=0
	shift
	out=$(timeout 120 "$OPS" -r "$RUNS" "$@") || {
		note "bench_ops $* failed"
		return 0
	}
	while read -r key val unit; do
		R[$name.$key]=$val
		U[$name.$key]=$unit
		R[$name]=$val
		U[$name]=$unit
		n=$((n + 1))
	done <<<"$out"
	[ "$n" -gt 1 ] && unset "R[$name]"
	return 0
}

# runi NAME1 "ARGS1" NAME2 "ARGS2": the same as run for both, but interleaved: one run of each
# in turn, RUNS times, so that the machine's drift hits both alike (ipcfs against its floor).
runi() {
	local -A acc=()
	local r name args key val unit k
	for ((r = 0; r < RUNS; r++)); do
		for k in 1 2; do
			if [ $k = 1 ]; then name=$1 args=$2; else name=$3 args=$4; fi
			# shellcheck disable=SC2086 # ARGS are words without blanks
			while read -r key val unit; do
				[ -n "$key" ] || continue
				acc[$name.$key]+="$val "
				U[$name.$key]=$unit
			done < <(timeout 120 "$OPS" -r 1 $args || note "bench_ops $args failed")
		done
	done
	for k in "${!acc[@]}"; do
		# shellcheck disable=SC2086
		R[$k]=$(median ${acc[$k]})
	done
	for name in "$1" "$3"; do
		k=("${!acc[@]}")
		if [ "$(printf '%s\n' "${k[@]}" | grep -c "^$name\.")" = 1 ]; then
			R[$name]=${R[$(printf '%s\n' "${k[@]}" | grep "^$name\.")]}
			U[$name]=${U[$(printf '%s\n' "${k[@]}" | grep "^$name\.")]}
		fi
	done
}

# median of the arguments
median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# tsh NAME N FUNCTION: median over RUNS of the ns per iteration of FUNCTION N (a bash loop)
tsh() {
	local name=$1 n=$2 fn=$3 r t0 t1 vals=()
	for ((r = 0; r < RUNS; r++)); do
		t0=$EPOCHREALTIME
		$fn "$n"
		t1=$EPOCHREALTIME
		vals+=("$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) * 1e9 / n }')")
	done
	R[$name]=$(median "${vals[@]}")
	U[$name]=ns/op
}

# tshi N NAME1 FN1 NAME2 FN2 ...: tsh for each pair, interleaved: one run of each in turn, RUNS
# times, so that the machine's drift hits ipcfs and its floor alike (as runi does for C).
tshi() {
	# not i: the loops measured use it (bash's scoping is dynamic)
	local n=$1 run p t0 t1
	shift
	local -a pairs=("$@")
	local -A vals=()
	for ((run = 0; run < RUNS; run++)); do
		for ((p = 0; p < ${#pairs[@]}; p += 2)); do
			t0=$EPOCHREALTIME
			${pairs[p + 1]} "$n"
			t1=$EPOCHREALTIME
			vals[${pairs[p]}]+="$(awk -v a="$t0" -v b="$t1" -v n="$n" \
				'BEGIN { printf "%.1f", (b - a) * 1e9 / n }') "
		done
	done
	for ((p = 0; p < ${#pairs[@]}; p += 2)); do
		# shellcheck disable=SC2086
		R[${pairs[p]}]=$(median ${vals[${pairs[p]}]})
		U[${pairs[p]}]=ns/op
	done
}

# ---- the mounts ----
IM=$T/ipcfs # the daemon measured
NM=$T/null  # the FUSE floor
mount_fs "$IPCFS" "$IM" "$T/ipcfs.log"
IPID=$LAST_PID
mount_fs "$NULLFS" "$NM" "$T/null.log"
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; } # KiB
note "mounted ipcfs at $IM and the null filesystem at $NM"

# ---- memory (first, on a fresh daemon) ----
timeout 60 "$OPS" create "$IM/sem" 100 >/dev/null # warm up: worker threads, arenas
mkdir "$IM/sem/mem" "$IM/fifo/mem" "$IM/mq/mem" "$IM/mq/mem64"
r0=$(rss "$IPID")
timeout 120 "$OPS" create "$IM/sem/mem" 10000 >/dev/null
r1=$(rss "$IPID")
R[mem.sem]=$(((r1 - r0) * 1024 / 10000))
U[mem.sem]=B/object
timeout 60 "$OPS" fill "$IM/fifo/mem/f" 64 61440 4096 >/dev/null
r2=$(rss "$IPID")
R[mem.fifo]=$(awk -v d=$((r2 - r1)) 'BEGIN { printf "%.2f", d * 1024 / (64 * 61440) }')
U[mem.fifo]=B/byte
timeout 60 "$OPS" fill "$IM/mq/mem/q" 16 262144 256 >/dev/null
r3=$(rss "$IPID")
R[mem.mq]=$(awk -v d=$((r3 - r2)) 'BEGIN { printf "%.2f", d * 1024 / (16 * 262144) }')
U[mem.mq]=B/byte
timeout 60 "$OPS" fill "$IM/mq/mem64/q" 8 65536 64 >/dev/null
r4=$(rss "$IPID")
R[mem.mq64]=$(((r4 - r3) * 1024 / (8 * 1024)))
U[mem.mq64]=B/message
note "memory: ${R[mem.sem]} B per semaphore, ${R[mem.fifo]} B per FIFO byte"

# ---- C on an open descriptor: ipcfs, the floor, the kernel ----
touch "$IM/sem/b" "$IM/mq/b" "$IM/mutex/b" "$IM/fifo/tp"
runi c.sem "sem $IM/sem/b" f.w "rw $NM/null 1"
runi c.sem2 "sem $IM/sem/b" f.wr "rw $NM/null 1 1" # each against its floor, interleaved
runi c.sem3 "sem $IM/sem/b" f.r "rw $NM/null 0 1"
runi c.mq64 "mq $IM/mq/b 64" f.mq64 "rw $NM/zero 64 64 1"
runi c.mq8k "mq $IM/mq/b 8192" f.mq8k "rw $NM/zero 8192 8192 1"
runi c.mutex "openclose $IM/mutex/b" f.oc "openclose $NM/null"
runi c.fifo64k "fifo $IM/fifo/tp 65536 64" f.s64k "rw $NM/zero 65536 65536"
runi c.fifo128k "fifo $IM/fifo/tp 131072 64" f.s128k "rw $NM/zero 131072 131072"
runi c.fifo64k2 "fifo $IM/fifo/tp 65536 64" k.pipe64k "k-pipetp 65536 64"
runi c.fifo128k2 "fifo $IM/fifo/tp 131072 64" k.pipe128k "k-pipetp 131072 64"
run k.pipe k-pipe
run k.fifo k-fifo
run k.eventfd k-eventfd
run k.sem k-sem
run k.mq64 k-mq 64
run k.mq8k k-mq 8192
run k.flock k-flock /dev/shm/ipcfs-bench-flock.$$
rm -f /dev/shm/ipcfs-bench-flock.$$
# the floor for a stream: one WRITE and one READ of BS bytes each, as MB/s
for s in 64k 128k; do
	bs=$((${s%k} * 1024))
	[ -n "${R[f.s$s]:-}" ] && R[f.tp$s]=$(awk -v ns="${R[f.s$s]}" -v bs=$bs \
		'BEGIN { printf "%.1f", bs / (1024 * 1024) / (ns / 1e9) }') && U[f.tp$s]=MB/s
done
note "C figures done"

# ---- bash: builtins and forked cat ----
echo 2 >"$IM/sem/jobs"
sh_sem() { for ((i = 0; i < $1; i++)); do
	echo >"$IM/sem/b"
	read <"$IM/sem/b"
done; }
sh_mq() { for ((i = 0; i < $1; i++)); do
	echo >"$IM/mq/b"
	read -r l <"$IM/mq/b"
done; }
sh_null() { for ((i = 0; i < $1; i++)); do
	echo >"$NM/null"
	read <"$NM/null"
done; }
sh_shm() { for ((i = 0; i < $1; i++)); do
	echo >"/dev/shm/ipcfs-bench.$$"
	read <"/dev/shm/ipcfs-bench.$$"
done; }
cat_sem() { for ((i = 0; i < $1; i++)); do
	echo >"$IM/sem/b"
	cat "$IM/sem/b"
done; }
cat_mq() { for ((i = 0; i < $1; i++)); do
	echo >"$IM/mq/b"
	cat "$IM/mq/b" >/dev/null
done; }
cat_null() { for ((i = 0; i < $1; i++)); do
	echo >"$NM/null"
	cat "$NM/null"
done; }
# cat of a queue reads the message, then its end: two READs; msg answers the same two
cat_msg() { for ((i = 0; i < $1; i++)); do
	echo >"$NM/null"
	cat "$NM/msg" >/dev/null
done; }
sh_jobs() { for ((i = 0; i < $1; i++)); do
	echo -1 >"$IM/sem/jobs"
	true
	echo >"$IM/sem/jobs"
done; }
tshi 500 s.sem sh_sem s.mq sh_mq s.null sh_null s.shm sh_shm
rm -f "/dev/shm/ipcfs-bench.$$"
tshi 200 s.catsem cat_sem s.catmq cat_mq s.catnull cat_null s.catmsg cat_msg
tsh s.jobs 500 sh_jobs
note "bash figures done"

# ---- what shell users use today: GNU parallel's sem, redis-cli ----
if ! command -v sem >/dev/null || ! command -v redis-server >/dev/null ||
	! command -v redis-cli >/dev/null || ! command -v gnuplot >/dev/null; then
	note "installing the comparison tools (scripts/install-deps.sh --bench)"
	timeout 300 "$ROOT/scripts/install-deps.sh" --bench >"$T/install.log" 2>&1 ||
		note "could not install them (see above); the missing ones are skipped"
fi
SKIPPED=()
if command -v sem >/dev/null && sem --version 2>/dev/null | grep -q 'GNU parallel'; then
	# parallel keeps its semaphores in ~/.parallel: a home of its own
	mkdir -p "$T/home/.parallel" && touch "$T/home/.parallel/will-cite"
	par_sem() { for ((i = 0; i < $1; i++)); do
		HOME=$T/home sem --fg --id ipcfs-bench -j 2 true
	done; }
	tsh t.sem 3 par_sem
else
	SKIPPED+=("GNU parallel's sem (not installed)")
fi
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	SOCK=$T/redis.sock
	redis-server --port 0 --unixsocket "$SOCK" --save '' --appendonly no \
		--dir "$T" >"$T/redis.log" 2>&1 &
	PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		[ -S "$SOCK" ] && break
		sleep 0.05
	done
	if [ -S "$SOCK" ]; then
		redis_pair() { for ((i = 0; i < $1; i++)); do
			redis-cli -s "$SOCK" LPUSH q x >/dev/null
			redis-cli -s "$SOCK" RPOP q >/dev/null
		done; }
		tsh t.redis 50 redis_pair
	else
		SKIPPED+=("redis (the server did not start)")
	fi
else
	SKIPPED+=("redis (not installed)")
fi

# ---- scale: V and P round-robin over N semaphores, then with 10,000 parked waiters ----
run x.1 -n 4000 scale "$IM/sem/mem" 1
run x.100 -n 4000 scale "$IM/sem/mem" 100
run x.10000 -n 10000 scale "$IM/sem/mem" 10000
touch "$IM/sem/parked"
rp0=$(rss "$IPID")
"$SCALE" "$IM/sem/parked" 10000 >"$T/scale.out" 2>&1 &
CLIENTS+=("$!")
SPID=$!
for ((i = 0; i < 900; i++)); do
	grep -q '^blocked\|^stuck' "$T/scale.out" && break
	sleep 0.1
done
if grep -q '^blocked 10000' "$T/scale.out"; then
	rp1=$(rss "$IPID")
	R[mem.parked]=$(((rp1 - rp0) * 1024 / 10000))
	U[mem.parked]=B/waiter
	run p.1 -n 4000 scale "$IM/sem/mem" 1
	run p.10000 -n 10000 scale "$IM/sem/mem" 10000
	echo 10000 >"$IM/sem/parked"
	for ((i = 0; i < 300; i++)); do
		grep -q '^returned' "$T/scale.out" && break
		sleep 0.1
	done
	grep -q '^returned 10000 0' "$T/scale.out" || note "parked waiters: $(cat "$T/scale.out")"
else
	note "10,000 waiters did not park: $(cat "$T/scale.out")"
fi
kill -KILL "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
note "scale done"

# ---- FUSE requests per command: a second daemon of each with -d ----
DI=$T/ipcfs-d
DN=$T/null-d
mount_fs "$IPCFS" "$DI" "$T/ipcfs-d.log" -d
mount_fs "$NULLFS" "$DN" "$T/null-d.log" -d
touch "$DI/sem/s" "$DI/mq/q" "$DI/mq/c" "$DI/mq/l" "$DI/mutex/m" "$DI/fifo/f"
echo 100 >"$DI/sem/s"
for ((i = 0; i < 20; i++)); do echo >"$DI/mq/q"; done
declare -A RQ RQN
ASYNC='^(RELEASE|FORGET|BATCH_FORGET|INTERRUPT)$'
# count KEY LOG NOPS COMMAND: run COMMAND once to warm up, then once more; RQ[KEY] = the
# synchronous requests of the second run per op, RQN[KEY] = their opcodes (x N when repeated)
count() {
	local key=$1 log=$2 nops=$3 cmd=$4 s0
	(eval "$cmd") >/dev/null 2>&1
	sleep 0.1
	s0=$(stat -c %s "$log")
	(eval "$cmd") >/dev/null 2>&1
	sleep 0.2
	tail -c +$((s0 + 1)) "$log" | grep -o 'opcode: [A-Z_]*' | awk '{ print $2 }' >"$T/ops"
	RQ[$key]=$(grep -Evc "$ASYNC" "$T/ops" |
		awk -v n="$nops" '{ v = int($1 / n * 10 + 0.5) / 10; printf (v == int(v) ? "%d" : "%.1f"), v }')
	RQN[$key]=$(grep -Ev "$ASYNC" "$T/ops" | sort | uniq -c | sort -k2 |
		awk -v n="$nops" '{ c = int($1 / n + 0.5); if (c == 0) next
			printf "%s%s", sep, $2 (c == 1 ? "" : "×" c); sep = " " }')
}
count q.echo "$T/ipcfs-d.log" 1 "echo >'$DI/sem/s'"
count q.read "$T/ipcfs-d.log" 1 "read <'$DI/sem/s'"
count q.p "$T/ipcfs-d.log" 1 "echo -1 >'$DI/sem/s'"
count q.cat "$T/ipcfs-d.log" 1 "cat '$DI/sem/s'"
count q.mqecho "$T/ipcfs-d.log" 1 "echo >'$DI/mq/q'"
count q.mqread "$T/ipcfs-d.log" 1 "read -r l <'$DI/mq/q'"
count q.mqcat "$T/ipcfs-d.log" 1 "cat '$DI/mq/q'"
count q.mutex "$T/ipcfs-d.log" 1 "exec 9>'$DI/mutex/m'; exec 9>&-"
count q.stat "$T/ipcfs-d.log" 1 "stat -c %s '$DI/sem/s'"
count q.cvp "$T/ipcfs-d.log" 100 "timeout 20 '$OPS' -r 1 -n 100 rw '$DI/sem/s' 1 1"
count q.cmq "$T/ipcfs-d.log" 100 "timeout 20 '$OPS' -r 1 -n 100 mq '$DI/mq/c' 64"
count q.coc "$T/ipcfs-d.log" 100 "timeout 20 '$OPS' -r 1 -n 100 openclose '$DI/mutex/m'"
# in a loop, as timed above: a RELEASE still in flight changes what the next walk gets
count q.lsem "$T/ipcfs-d.log" 50 "for i in {1..50}; do echo >'$DI/sem/s'; read <'$DI/sem/s'; done"
count q.lmq "$T/ipcfs-d.log" 50 "for i in {1..50}; do echo >'$DI/mq/l'; read -r l <'$DI/mq/l'; done"
count q.lcat "$T/ipcfs-d.log" 20 "for i in {1..20}; do echo >'$DI/sem/s'; cat '$DI/sem/s'; done"
count n.loop "$T/null-d.log" 50 "for i in {1..50}; do echo >'$DN/null'; read <'$DN/null'; done"
count n.lcat "$T/null-d.log" 20 "for i in {1..20}; do echo >'$DN/null'; cat '$DN/null'; done"
count n.echo "$T/null-d.log" 1 "echo >'$DN/null'"
count n.read "$T/null-d.log" 1 "read <'$DN/null'"
count n.cat "$T/null-d.log" 1 "cat '$DN/null'"
count n.open "$T/null-d.log" 1 "exec 9>'$DN/null'; exec 9>&-"
count n.stat "$T/null-d.log" 1 "stat -c %s '$DN/null'"
count n.cvp "$T/null-d.log" 100 "timeout 20 '$OPS' -r 1 -n 100 rw '$DN/null' 1 1"
count n.cmq "$T/null-d.log" 100 "timeout 20 '$OPS' -r 1 -n 100 rw '$DN/zero' 64 64 1"
count n.coc "$T/null-d.log" 100 "timeout 20 '$OPS' -r 1 -n 100 openclose '$DN/null'"
note "request counts done"

# ---- the table ----
R[one.kib]=1024
U[one.kib]=B/object
us() { awk -v v="$1" 'BEGIN { if (v >= 100000) printf "%.0f", v / 1000; else if (v >= 1000) printf "%.1f", v / 1000; else printf "%.3f", v / 1000 }'; }
fmt() { # KEY -> the figure in its unit for the table
	local v=${R[$1]:-} u=${U[$1]:-}
	if [ -z "$v" ]; then
		printf 'n/a'
	elif [ "$u" = ns/op ]; then
		printf '%s µs' "$(us "$v")"
	elif [ "$u" = ops/s ]; then
		awk -v v="$v" 'BEGIN { printf "%.0f ops/s", v }'
	else
		printf '%s %s' "$v" "$u"
	fi
}
ratio() { # A B -> A/B
	local a=${R[$1]:-} b=${R[$2]:-}
	if [ -z "$a" ] || [ -z "$b" ]; then
		printf -- '—'
	else
		awk -v a="$a" -v b="$b" 'BEGIN { if (b == 0) print "—"; else if (a / b >= 100) printf "%.0f", a / b; else printf "%.2f", a / b }'
	fi
}
# row FIGURE KEY BASELINE BASEKEY REQUESTS
row() {
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(fmt "$2")" "$3" "$(fmt "$4")" \
		"$(ratio "$2" "$4")" "$5"
}
rq() { printf '%s (%s)' "${RQ[$1]:-?}" "${RQN[$1]:-}"; }

echo
echo "## ipcfs against the FUSE floor, the kernel and shell tools"
echo
echo "Machine: $(nproc) vCPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
	"kernel $(uname -r), libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?')."
echo "Medians of $RUNS runs; ratio = ipcfs / baseline (times: lower is better; MB/s and"
echo "ops/s: higher is better). Requests: synchronous FUSE requests per operation (all but"
echo "RELEASE, FORGET, BATCH_FORGET, INTERRUPT), counted on a second daemon with -d."
echo
echo "| figure | ipcfs | baseline | baseline figure | ratio | sync FUSE requests (ipcfs) |"
echo "|---|---:|---|---:|---:|---|"
echo "| **C, one open descriptor, against the FUSE floor** | | | | | |"
row "semaphore V (1-byte write)" c.sem.v "null WRITE" f.w "1 (WRITE)"
row "semaphore P (read)" c.sem3.p "null READ" f.r "1 (READ)"
row "semaphore V+P" c.sem2.vp "null WRITE+READ" f.wr "$(rq q.cvp)"
row "queue send+receive, 64 B" c.mq64 "null WRITE+READ+READ" f.mq64 "$(rq q.cmq)"
row "queue send+receive, 8 KiB" c.mq8k "null WRITE+READ+READ, 8 KiB" f.mq8k "3 (WRITE READ×2)"
row "mutex open+close (acquire+release)" c.mutex "null open+close" f.oc "$(rq q.coc)"
row "FIFO stream, 64 KiB writes" c.fifo64k "null WRITE+READ of 64 KiB" f.tp64k "1 per write, 1 per read"
row "FIFO stream, 128 KiB writes" c.fifo128k "null WRITE+READ of 128 KiB" f.tp128k "1 per write, 1 per read"
echo "| **C, against the kernel** | | | | | |"
row "semaphore V+P" c.sem2.vp "eventfd write+read" k.eventfd "2"
row "semaphore V+P" c.sem2.vp "pshared sem_t post+wait" k.sem "2"
row "semaphore V+P" c.sem2.vp "pipe 1-byte write+read" k.pipe "2"
row "semaphore V+P" c.sem2.vp "named FIFO 1-byte write+read" k.fifo "2"
row "queue send+receive, 64 B" c.mq64 "POSIX mq 64 B" k.mq64 "3"
row "queue send+receive, 8 KiB" c.mq8k "POSIX mq 8 KiB" k.mq8k "3"
row "mutex open+close" c.mutex "open+flock+close (/dev/shm)" k.flock "${RQ[q.coc]:-?}"
row "FIFO stream, 64 KiB writes" c.fifo64k2 "pipe, 64 KiB writes" k.pipe64k ""
row "FIFO stream, 128 KiB writes" c.fifo128k2 "pipe, 128 KiB writes" k.pipe128k ""
row "FUSE floor: null WRITE+READ" f.wr "pipe 1-byte write+read" k.pipe "2"
echo "| **bash, per command pair** | | | | | |"
row "\`echo > sem/s\` + \`read < sem/s\`" s.sem "\`echo > null\` + \`read < null\`" s.null \
	"alone: $(rq q.echo) + $(rq q.read); in the loop: $(rq q.lsem) (null: $(rq n.loop))"
row "\`echo > sem/s\` + \`read < sem/s\`" s.sem "the same on a /dev/shm file" s.shm ""
row "\`echo > mq/q\` + \`read -r l < mq/q\`" s.mq "\`echo > null\` + \`read < null\`" s.null \
	"alone: $(rq q.mqecho) + $(rq q.mqread); in the loop: $(rq q.lmq)"
row "\`echo > sem/s\` + \`cat sem/s\`" s.catsem "\`echo > null\` + \`cat null\`" s.catnull \
	"alone: $(rq q.echo) + $(rq q.cat); in the loop: $(rq q.lcat) (null: $(rq n.lcat))"
row "\`echo > mq/q\` + \`cat mq/q\`" s.catmq "\`echo > null\` + \`cat msg\` (2 READs)" \
	s.catmsg "$(rq q.mqecho) + $(rq q.mqcat)"
echo "| **what shell users use today** | | | | | |"
row "job slot: \`echo -1 > sem/j\`; \`echo > sem/j\`" s.jobs "GNU parallel \`sem --fg -j 2 true\`" t.sem \
	"$(rq q.p) + $(rq q.echo)"
row "\`echo > mq/q\` + \`read -r l < mq/q\`" s.mq "\`redis-cli LPUSH\` + \`redis-cli RPOP\`" t.redis ""
row "\`echo > mq/q\` + \`cat mq/q\`" s.catmq "\`redis-cli LPUSH\` + \`redis-cli RPOP\`" t.redis ""
echo "| **scale: V and P round-robin over N semaphores, open descriptors** | | | | | |"
row "N = 1" x.1 "N = 1" x.1 ""
row "N = 100" x.100 "N = 1" x.1 ""
row "N = 10,000" x.10000 "N = 1" x.1 ""
row "N = 1, 10,000 callers parked on another" p.1 "N = 1" x.1 ""
row "N = 10,000, 10,000 callers parked on another" p.10000 "N = 10,000" x.10000 ""
echo "| **daemon memory (VmRSS)** | | | | | |"
row "per empty semaphore (10,000 created)" mem.sem "1 KiB target" one.kib ""
row "per byte queued in FIFOs (64 × 60 KiB)" mem.fifo "" none ""
row "per byte queued in queues (16 × 1024 × 256 B)" mem.mq "" none ""
row "per 64-byte message (8 × 1024)" mem.mq64 "" none ""
row "per parked waiter (10,000 open + P)" mem.parked "" none ""
echo "| **requests per shell command (ipcfs / null filesystem)** | | | | | |"
for k in echo:echo read:read cat:cat mutex:open stat:stat; do
	a=q.${k%%:*}
	b=n.${k##*:}
	case ${k%%:*} in
	echo) c='`echo > sem/s` / `echo > null`' ;;
	read) c='`read < sem/s` / `read < null`' ;;
	cat) c='`cat sem/s` / `cat null`' ;;
	mutex) c='`exec 9>mutex/m; exec 9>&-` / the same on null' ;;
	stat) c='`stat -c %s sem/s` / `stat null`' ;;
	esac
	R[$a]=${RQ[$a]:-}
	R[$b]=${RQ[$b]:-}
	printf '| %s | %s | null filesystem | %s | %s | %s |\n' "$c" "${RQ[$a]:-?}" "${RQ[$b]:-?}" \
		"$(ratio "$a" "$b")" "ipcfs: ${RQN[$a]:-}; null: ${RQN[$b]:-}"
done
for k in mqecho mqread mqcat p; do
	case $k in
	mqecho) c='`echo > mq/q`' ;;
	mqread) c='`read -r l < mq/q` (1-byte message)' ;;
	mqcat) c='`cat mq/q`' ;;
	p) c='`echo -1 > sem/s`' ;;
	esac
	printf '| %s | %s | | | | %s |\n' "$c" "${RQ[q.$k]:-?}" "${RQN[q.$k]:-}"
done
for s in "${SKIPPED[@]}"; do
	echo
	echo "Skipped: $s."
done

# ---- the plot ----
if [ -n "$PLOT" ] && command -v gnuplot >/dev/null; then
	d() { awk -v v="${R[$1]:-}" 'BEGIN { if (v == "") print "NaN"; else printf "%.3f", v / 1000 }'; }
	{
		echo "\"C: sem V+P\" $(d c.sem2.vp) $(d f.wr) $(d k.eventfd)"
		echo "\"C: queue 64 B\" $(d c.mq64) $(d f.mq64) $(d k.mq64)"
		echo "\"C: queue 8 KiB\" $(d c.mq8k) $(d f.mq8k) $(d k.mq8k)"
		echo "\"C: mutex\" $(d c.mutex) $(d f.oc) $(d k.flock)"
		echo "\"bash: echo+read\" $(d s.sem) $(d s.null) $(d s.shm)"
		echo "\"bash: echo+cat\" $(d s.catsem) $(d s.catnull) NaN"
	} >"$T/plot.dat"
	gnuplot >"$T/gnuplot.log" 2>&1 <<EOF
set terminal png size 1100,600
set output "$PLOT"
set title "Latency per operation (medians, one run of make bench; log scale)"
set ylabel "microseconds per operation"
set logscale y
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set grid ytics
set xtics noenhanced
plot "$T/plot.dat" using 2:xtic(1) title "ipcfs", \
     "" using 3 title "FUSE floor (bench\\\\_nullfs, same requests)", \
     "" using 4 title "kernel (eventfd, POSIX mq, flock, /dev/shm file)"
EOF
	if [ -s "$PLOT" ]; then
		note "plot written to $PLOT"
	else
		note "gnuplot failed: $(cat "$T/gnuplot.log")"
	fi
elif [ -n "$PLOT" ]; then
	echo
	echo "No plot: gnuplot is not installed."
fi
exit 0
