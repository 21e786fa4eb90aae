#!/bin/bash
# cluster.sh - sourced after lib.sh and etcd.sh by the tests of cluster mode: several ipcfs
# daemons of one cluster on the etcd members of etcd.sh, each on its own mount point.
#
#   cluster_mount NAME [OPTIONS...]   mount a daemon of cluster "t" on $WORK/NAME (so a test,
#                                     whose cwd is $WORK, writes NAME/sem/s); its pid is in
#                                     $WORK/NAME.pid, its stderr in $WORK/NAME.log
#   cluster_unmount NAME              SIGTERM it, wait (bounded), report a crash or
#                                     sanitizer findings as a failed test
#   cluster_kill NAME                 SIGKILL it and clear the mount (a daemon's death)
#   cluster_finish                    unmount every daemon, each checked as a test
#
# Every mount is unmounted at exit, also on failure, before the etcd members stop (the hook
# is installed first: a daemon stopping without etcd would wait for it).

# a checkpoint every 100 operations: every test runs across several
CLUSTER_OPTS=${CLUSTER_OPTS:-lease_ttl=2,etcd_timeout=2,compact=100}
CLUSTER_NAMES=()

cluster_mounted() { grep -q " $WORK/$1 fuse" /proc/mounts; }

cluster_mount() {
	local name=$1
	shift
	mkdir -p "$WORK/$name"
	"$IPCFS" -f -o "etcd=$ETCD_ENDPOINTS,cluster=t,$CLUSTER_OPTS" "$@" "$WORK/$name" \
		2>>"$WORK/$name.log" &
	echo $! >"$WORK/$name.pid"
	disown $!
	[[ " ${CLUSTER_NAMES[*]} " == *" $name "* ]] || CLUSTER_NAMES+=("$name")
	# it joins (replays the whole log) before it mounts: a long log takes a while
	if ! wait_until 30 cluster_mounted "$name"; then
		echo "Bail out! ipcfs $name did not mount: $(cat "$WORK/$name.log")"
		exit 1
	fi
}

# cluster_pid NAME: the daemon's pid, or nothing.
cluster_pid() { cat "$WORK/$1.pid" 2>/dev/null; }

# cluster_stop NAME SIGNAL: send SIGNAL to the daemon, wait for it (bounded), clear the mount.
cluster_stop() {
	local name=$1 pid
	pid=$(cluster_pid "$name")
	[ -n "$pid" ] || return 0
	rm -f "$WORK/$name.pid"
	kill "-$2" "$pid" 2>/dev/null
	if ! wait_until 10 exited "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		fail "daemon $name did not exit on SIG$2 within 10 s"
	fi
	cluster_mounted "$name" && fusermount3 -u -z "$WORK/$name" 2>/dev/null
	return 0
}

cluster_unmount() {
	cluster_stop "$1" TERM
	if grep -qE 'Sanitizer|runtime error' "$WORK/$1.log"; then
		fail "daemon $1: sanitizer findings"
		sed 's/^/#   /' "$WORK/$1.log" | head -60
	fi
	return 0
}

cluster_kill() { cluster_stop "$1" KILL; }

# cluster_finish: unmount every daemon, each a test of its own: it exits on SIGTERM, with
# nothing in its log from a sanitizer. If any test failed, the end of each daemon's log.
cluster_finish() {
	local name
	for name in "${CLUSTER_NAMES[@]}"; do
		eval "test_daemon_${name}_exits_cleanly() { cluster_unmount $name; }"
		[ -n "$(cluster_pid "$name")" ] && run_test "test_daemon_${name}_exits_cleanly"
	done
	if [ "$T_FAILED" -gt 0 ]; then
		for name in "${CLUSTER_NAMES[@]}"; do
			tail -n 20 "$WORK/$name.log" 2>/dev/null | sed "s/^/# $name.log: /"
		done
	fi
	return 0
}

cluster_unmount_all() {
	local name pid
	for name in "${CLUSTER_NAMES[@]}"; do
		cluster_unmount "$name" >/dev/null
	done
	# mounts made by test subshells, which CLUSTER_NAMES does not know
	for pid in "$WORK"/*.pid; do
		[ -f "$pid" ] && cluster_unmount "$(basename "$pid" .pid)" >/dev/null
	done
	return 0
}
CLEANUP_HOOKS=(cluster_unmount_all "${CLEANUP_HOOKS[@]}")
