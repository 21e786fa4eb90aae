#!/bin/bash
# it_ipcctl.sh - the administration command ipcctl (fs/ipcctl/ipcctl.c) on a mounted ipcfs: every
# command with its output, errors and exit statuses (0 ok, 1 failure with "ipcctl: PATH:
# reason" on stderr, 2 usage, 3 deadlock found, 124 timed out), how it finds the mount, the
# deadlock detection it prints (fs/inspect/deadlock.c) and the two demo scripts that use it
# (scripts/tanenbaum.sh, scripts/philosophers.sh).
source "$(dirname "$0")/lib.sh"

REPO=$(cd "$TESTS_DIR/.." && pwd)
IPCCTL=$BUILD_DIR/ipcctl # built next to the daemon

# run_ctl ARGS...: run ipcctl (in the foreground, bounded in time: a hang shows as 137, never
# as ipcctl's own 124); sets OUT (stdout), ERR (stderr) and RC.
run_ctl() {
	OUT=$(timeout -s KILL 10 "$IPCCTL" "$@" 2>"$WORK/ctl.err")
	RC=$?
	ERR=$(cat "$WORK/ctl.err")
}

# ctl_ok MESSAGE ARGS...: ipcctl ARGS must exit 0 and print nothing on stderr.
ctl_ok() {
	local msg=$1
	shift
	run_ctl "$@"
	[ "$RC" = 0 ] || fail "$msg: 'ipcctl $*' exited $RC (stderr: $ERR)"
	[ -z "$ERR" ] || fail "$msg: 'ipcctl $*' wrote on stderr: $ERR"
}

# ctl_fails RC STDERR_REGEX MESSAGE ARGS...: ipcctl ARGS must exit RC with stderr matching
# the extended regular expression, and print nothing on stdout.
ctl_fails() {
	local want=$1 pat=$2 msg=$3
	shift 3
	run_ctl "$@"
	[ "$RC" = "$want" ] || fail "$msg: 'ipcctl $*' exited $RC, expected $want (stderr: $ERR)"
	grep -qE -- "$pat" <<<"$ERR" || fail "$msg: 'ipcctl $*' stderr '$ERR' does not match '$pat'"
	[ -z "$OUT" ] || fail "$msg: 'ipcctl $*' printed on stdout: $OUT"
}

# json EXPR: evaluate the Python expression EXPR on the JSON document on stdin (as j).
json() { python3 -c 'import json,sys; j = json.load(sys.stdin); print('"$1"')'; }

# count_lines REGEX TEXT: how many lines of TEXT match.
count_lines() { grep -cE -- "$1" <<<"$2"; }

gone() { [ ! -e "$1" ]; }

# wait_comm PID NAME: until PID runs NAME (a "bash -c '...; exec sleep 30'" got to its exec).
wait_comm() {
	wait_until 5 eval '[ "$(cat /proc/'"$1"'/comm 2>/dev/null)" = '"$2"' ]' ||
		fail "pid $1 never became $2"
}

# ---- usage ----

test_ipcctl_help_and_usage_errors() {
	local cmd
	run_ctl --help
	expect_eq "$RC" 0 "--help exit status"
	grep -q '^usage: ipcctl \[-m DIR\] COMMAND' <<<"$OUT" || fail "--help prints no usage line"
	for cmd in ls stat create rm wait post send recv deadlock graph; do
		grep -qE "^  $cmd( |$)" <<<"$OUT" || fail "--help does not describe $cmd"
	done
	run_ctl -h
	expect_eq "$RC" 0 "-h exit status"
	ctl_fails 2 '^ipcctl: COMMAND missing' "no command"
	ctl_fails 2 '^ipcctl: unknown command frob' "unknown command" frob
	ctl_fails 2 '^ipcctl: unknown option --frob' "unknown global option" --frob ls
	ctl_fails 2 '^ipcctl: -m needs a directory' "-m without its directory" -m
	ctl_fails 2 'unknown option --frob' "ls --frob" ls --frob
	ctl_fails 2 'one PATH' "ls with two paths" ls sem mq
	ctl_fails 2 'unknown option --frob' "stat --frob" stat --frob sem/x
	ctl_fails 2 'PATH missing' "stat without PATH" stat
	ctl_fails 2 'unknown option --frob' "create --frob" create sem x --frob
	ctl_fails 2 'TYPE and PATH' "create without PATH" create sem
	ctl_fails 2 'needs a value' "create --mode without its value" create sem x --mode
	ctl_fails 2 'PATH missing' "rm without PATH" rm
	ctl_fails 2 'PATH missing' "wait without PATH" wait
	ctl_fails 2 'N must be' "wait 0" wait sem/x 0
	ctl_fails 2 'N must be' "post abc" post sem/x abc
	ctl_fails 2 'N must be' "post 2147483648" post sem/x 2147483648
	ctl_fails 2 'too many arguments' "post with two counts" post sem/x 1 2
	ctl_fails 2 'timeout needs seconds' "wait --timeout -1" wait sem/x --timeout -1
	ctl_fails 2 'timeout needs seconds' "wait --timeout abc" wait sem/x --timeout abc
	ctl_fails 2 'timeout needs seconds' "recv --timeout without seconds" recv mq/x --timeout
	ctl_fails 2 'priority 0..31' "send --prio 32" send mq/x --prio 32 hi
	ctl_fails 2 'priority 0..31' "send --prio -1" send mq/x --prio -1 hi
	ctl_fails 2 'too many arguments' "recv with an extra argument" recv mq/x extra
	ctl_fails 2 'unknown argument' "deadlock --dot" deadlock --dot
	ctl_fails 2 'unknown argument' "graph --frob" graph --frob
	# usage errors come with a pointer to the help, and change nothing
	run_ctl frob
	grep -q 'see ipcctl --help' <<<"$ERR" || fail "usage error without a pointer to --help"
	expect_eq "$(find sem mutex fifo mq shm -mindepth 1 | wc -l)" 0 "objects made by the refused commands"
}

# ---- ls ----

make_one_of_each() {
	mkdir sem/dir
	echo 3 > sem/a
	touch sem/ab sem/dir/inner mutex/m fifo/f mq/q shm/seg
	echo hello > fifo/f
	echo msg > mq/q
	truncate -s 8192 shm/seg
}

test_ipcctl_ls_table_and_filter() {
	ctl_ok "ls of an empty mount" ls
	expect_eq "$OUT" "$(printf '%-7s %-24s %-4s %-8s %7s %7s  %s' TYPE PATH MODE OWNER \
		HOLDERS WAITERS STATE)" "ls of an empty mount: the header alone"
	make_one_of_each
	ctl_ok "ls" ls
	expect_eq "$(awk 'NR > 1 { print $1, $2 }' <<<"$OUT" | tr '\n' ',')" \
		"fifo /fifo/f,mq /mq/q,mutex /mutex/m,sem /sem/a,sem /sem/ab,sem /sem/dir/inner,shm /shm/seg," \
		"ls: one line per object, sorted by path"
	local me
	me=$(id -un)
	grep -qE "^sem +/sem/a +0644 $me +0 +0  value 3$" <<<"$OUT" ||
		fail "ls line of sem/a: $(grep /sem/a <<<"$OUT" | head -1)"
	grep -qE "^fifo +/fifo/f .* 0  6/65536 bytes, 0 writers$" <<<"$OUT" ||
		fail "ls line of fifo/f: $(grep /fifo/f <<<"$OUT")"
	grep -qE "^mq +/mq/q .* 0  1/1024 msgs, 4 bytes, msgsize 8192$" <<<"$OUT" ||
		fail "ls line of mq/q: $(grep /mq/q <<<"$OUT")"
	grep -qE "^mutex +/mutex/m .* 0  free$" <<<"$OUT" || fail "ls line of mutex/m: $(grep /mutex/m <<<"$OUT")"
	grep -qE "^shm +/shm/seg .*  8192 bytes, " <<<"$OUT" || fail "ls line of shm/seg: $(grep /shm/seg <<<"$OUT")"

	# filters: a type directory, a subdirectory, one object (sem/a is not a prefix of sem/ab)
	ctl_ok "ls sem" ls sem
	expect_eq "$(awk 'NR > 1 { print $2 }' <<<"$OUT" | tr '\n' ' ')" "/sem/a /sem/ab /sem/dir/inner " "ls sem"
	ctl_ok "ls sem/dir/" ls sem/dir/
	expect_eq "$(awk 'NR > 1 { print $2 }' <<<"$OUT" | tr '\n' ' ')" "/sem/dir/inner " "ls sem/dir/"
	ctl_ok "ls sem/a" ls sem/a
	expect_eq "$(awk 'NR > 1 { print $2 }' <<<"$OUT" | tr '\n' ' ')" "/sem/a " "ls sem/a"
	ctl_ok "ls /mq" ls /mq
	expect_eq "$(awk 'NR > 1 { print $2 }' <<<"$OUT" | tr '\n' ' ')" "/mq/q " "ls /mq"
	ctl_fails 1 '^ipcctl: sem/nope: No such file or directory$' "ls of a missing path" ls sem/nope

	# holders and waiters show in their columns
	exec 9<mutex/m
	cat mutex/m 9<&- &
	local w=$!
	wait_blocked "$w" mutex/m
	ctl_ok "ls with a held mutex" ls mutex
	grep -qE "^mutex +/mutex/m .* +1 +1  held by $BASHPID \(bash\) [0-9.]+s$" <<<"$OUT" ||
		fail "ls line of a held mutex with a waiter: $(tail -1 <<<"$OUT")"
	exec 9<&-
	wait_exit "$w" 2000
}

test_ipcctl_ls_json() {
	make_one_of_each
	exec 9<mutex/m
	ctl_ok "ls --json" ls --json
	json 'len(j)' <<<"$OUT" >/dev/null || fail "ls --json is not JSON: $OUT"
	expect_eq "$(json '" ".join(o["type"] + ":" + o["path"] for o in j)' <<<"$OUT")" \
		"fifo:/fifo/f mq:/mq/q mutex:/mutex/m sem:/sem/a sem:/sem/ab sem:/sem/dir/inner shm:/shm/seg" \
		"ls --json: the objects"
	expect_eq "$(json '[o["mode"] for o in j if o["path"] == "/sem/a"][0], [o["uid"] for o in j][0]' <<<"$OUT")" \
		"0644 $(id -u)" "ls --json: mode and owner"
	expect_eq "$(json '[o["state"]["value"] for o in j if o["path"] == "/sem/a"][0]' <<<"$OUT")" 3 \
		"ls --json: the semaphore's value"
	expect_eq "$(json '[(o["state"]["bytes"], o["state"]["capacity"]) for o in j if o["type"] == "fifo"][0]' <<<"$OUT")" \
		"(6, 65536)" "ls --json: the FIFO's bytes and capacity"
	expect_eq "$(json '[(o["state"]["messages"], o["state"]["msgsize"], o["state"]["max_msgs"]) for o in j if o["type"] == "mq"][0]' <<<"$OUT")" \
		"(1, 8192, 1024)" "ls --json: the queue's state"
	expect_eq "$(json '[o["state"]["size"] for o in j if o["type"] == "shm"][0]' <<<"$OUT")" 8192 \
		"ls --json: the segment's size"
	expect_eq "$(json '[(o["state"]["locked"], [h["pid"] for h in o["holders"]], o["waiters"]) for o in j if o["type"] == "mutex"][0]' <<<"$OUT")" \
		"(1, [$BASHPID], [])" "ls --json: the mutex and its holder"
	exec 9<&-
	ctl_ok "ls --json sem/dir" ls --json sem/dir
	expect_eq "$(json '[o["path"] for o in j]' <<<"$OUT")" "['/sem/dir/inner']" "ls --json sem/dir"
	ctl_ok "ls --json shm" ls shm --json
	expect_eq "$(json '[o["path"] for o in j]' <<<"$OUT")" "['/shm/seg']" "ls shm --json (option after PATH)"
	rm -r sem/* mutex/* fifo/* mq/* shm/*
	ctl_ok "ls --json of an empty mount" ls --json
	expect_eq "$(json 'j' <<<"$OUT")" "[]" "ls --json of an empty mount"
}

# ---- stat ----

test_ipcctl_stat_holders_and_waiters() {
	echo 3 > sem/h
	touch sem/e mutex/m
	# a holder of 2 units of sem/h (the P is made by the shell itself, which then stays alive
	# as sleep) and a waiter on sem/e
	bash -c 'echo -2 > sem/h; exec sleep 30' &
	local h=$! w m
	wait_until 5 size_is 1 sem/h || fail "the holder did not take its units"
	wait_comm "$h" sleep
	cat sem/e &
	w=$!
	wait_blocked "$w" sem/e
	ctl_ok "stat sem/h" stat sem/h
	expect_eq "$(sed -n '1,3p;6,7p' <<<"$OUT" | tr '\n' '|')" \
		"/sem/h|type: sem|mode: 0644|opens: 0|state: value 1|" "stat sem/h: the head"
	grep -qE "^holders: 1$" <<<"$OUT" || fail "stat sem/h: holders count: $OUT"
	grep -qE "^  pid $h pgid [0-9]+ \(sleep\) 2 units, for [0-9.]+s$" <<<"$OUT" ||
		fail "stat sem/h: the holder line: $OUT"
	grep -qE "^waiters: 0$" <<<"$OUT" || fail "stat sem/h: waiters count: $OUT"
	ctl_ok "stat sem/e" stat sem/e
	grep -qE "^holders: 0$" <<<"$OUT" || fail "stat sem/e: holders: $OUT"
	grep -qE "^waiters: 1$" <<<"$OUT" || fail "stat sem/e: waiters count: $OUT"
	grep -qE "^  pid $w pgid [0-9]+ \(cat\) P 1, waiting [0-9.]+s$" <<<"$OUT" ||
		fail "stat sem/e: the waiter line: $OUT"

	ctl_ok "stat --json sem/h" stat --json sem/h
	expect_eq "$(json '(j["path"], j["type"], j["state"]["value"], [(p["pid"], p["comm"], p["units"]) for p in j["holders"]], j["waiters"])' <<<"$OUT")" \
		"('/sem/h', 'sem', 1, [($h, 'sleep', 2)], [])" "stat --json sem/h"
	ctl_ok "stat --json sem/e" stat sem/e --json
	expect_eq "$(json '([(p["pid"], p["comm"], p["op"], p["units"]) for p in j["waiters"]], j["holders"])' <<<"$OUT")" \
		"([($w, 'cat', 'P', 1)], [])" "stat --json sem/e"

	# a mutex: its holder and a waiter in line behind it
	bash -c 'exec 8<mutex/m; exec sleep 30' &
	m=$!
	wait_until 5 size_is 1 mutex/m || fail "the mutex holder did not get it"
	wait_comm "$m" sleep
	cat mutex/m &
	local mw=$!
	wait_blocked "$mw" mutex/m
	ctl_ok "stat mutex/m" stat mutex/m
	grep -qE "^state: held by $m \(sleep\) [0-9.]+s$" <<<"$OUT" || fail "stat mutex/m state: $OUT"
	grep -qE "^  pid $m pgid [0-9]+ \(sleep\) 1 unit, for " <<<"$OUT" || fail "stat mutex/m holder: $OUT"
	grep -qE "^  pid $mw pgid [0-9]+ \(cat\) lock 1, waiting " <<<"$OUT" || fail "stat mutex/m waiter: $OUT"
	ctl_ok "stat --json mutex/m" stat --json mutex/m
	expect_eq "$(json '([p["pid"] for p in j["holders"]], [(p["pid"], p["op"]) for p in j["waiters"]])' <<<"$OUT")" \
		"([$m], [($mw, 'lock')])" "stat --json mutex/m"

	kill "$h" "$m" "$w" "$mw"
	wait "$h" "$m" "$w" "$mw" 2>/dev/null
	# a holder that is gone (and reaped, by the wait above) holds nothing any more
	ctl_ok "stat sem/h once its holder died" stat sem/h
	grep -qE "^holders: 0$" <<<"$OUT" || fail "a dead holder is still listed: $OUT"

	mkdir sem/dir
	ctl_fails 1 '^ipcctl: sem/nope: No such file or directory$' "stat of a missing object" stat sem/nope
	ctl_fails 1 '^ipcctl: sem/dir: not an IPC object$' "stat of a directory" stat sem/dir
	ctl_fails 1 '^ipcctl: \.\./\.\./etc: not inside the mount' "stat outside the mount" stat ../../etc
}

# ---- create ----

test_ipcctl_create_each_type_with_options() {
	umask 022
	ctl_ok "create sem --value" create sem sem/s --value 5
	expect_eq "$(stat -c '%s %a %F' sem/s)" "5 644 regular file" "sem/s: count, mode (0666 - umask)"
	expect_rc 0 "P on the new semaphore" -- timeout 2 cat sem/s
	ctl_ok "create sem (short name) --mode" create sem jobs --mode 640
	expect_eq "$(stat -c '%s %a' sem/jobs)" "0 640" "sem/jobs: 'jobs' is sem/jobs, count 0, mode 0640"
	ctl_ok "create sem with a value over the umask's mode" create sem sem/open --mode 0666 --value 2K
	expect_eq "$(stat -c '%s %a' sem/open)" "2048 666" "sem/open: --mode is not masked by the umask; sizes take K"
	mkdir mutex/d
	ctl_ok "create mutex --mode" create mutex mutex/d/m --mode 600
	expect_eq "$(stat -c '%s %a' mutex/d/m)" "0 600" "mutex/d/m: free, mode 0600"
	expect_eq "$("$BUILD_DIR/tests/client_block" -n mutex/d/m open)" "open ok" "the new mutex is free"
	ctl_ok "create fifo --capacity" create fifo fifo/f --capacity 1K
	expect_eq "$(getfattr --only-values -n user.capacity fifo/f)" 1024 "fifo/f: user.capacity"
	expect_err "Resource temporarily unavailable" "a FIFO of 1 KiB takes no 2 KiB" -- \
		dd if=/dev/zero of=fifo/f bs=2048 count=1 oflag=nonblock status=none
	ctl_ok "create mq --max-msg --max-size" create mq mq/q --max-msg 3 --max-size 100
	expect_eq "$(getfattr --only-values -n user.max_msgs mq/q):$(getfattr --only-values -n user.msgsize mq/q)" \
		"3:100" "mq/q: user.max_msgs and user.msgsize"
	ctl_fails 1 '^ipcctl: mq/q: message longer than the queue.s limit \(EMSGSIZE\)$' \
		"a message over --max-size" send mq/q "$(head -c 100 /dev/zero | tr '\0' x)"
	for i in 1 2 3; do ctl_ok "message $i of 3" send mq/q "m$i"; done
	ctl_fails 124 'timed out' "a fourth message with --max-msg 3" send mq/q --timeout 0 m4
	expect_eq "$(size mq/q)" 3 "messages in mq/q"
	ctl_ok "create mq (defaults)" create mq mq/plain
	expect_eq "$(getfattr --only-values -n user.max_msgs mq/plain):$(getfattr --only-values -n user.msgsize mq/plain)" \
		"1024:8192" "mq/plain: the mount's defaults"
	ctl_ok "create shm --size" create shm shm/seg --size 1M
	expect_eq "$(size shm/seg)" 1048576 "shm/seg: size"
	expect_eq "$(head -c 1048576 shm/seg | tr -d '\0' | wc -c)" 0 "shm/seg reads as zeros"
	ctl_ok "create shm (empty)" create shm /shm/empty
	expect_eq "$(size shm/empty)" 0 "shm/empty: a path from the mount root"
	ctl_ok "ls of the new objects" ls
	expect_eq "$(awk 'NR > 1 { print $1 ":" $2 }' <<<"$OUT" | tr '\n' ' ')" \
		"fifo:/fifo/f mq:/mq/plain mq:/mq/q mutex:/mutex/d/m sem:/sem/jobs sem:/sem/open sem:/sem/s shm:/shm/empty shm:/shm/seg " \
		"the objects and their types"
}

test_ipcctl_create_errors() {
	local args
	# an option that is not for the type: usage error, nothing created
	for args in "sem s1 --capacity 1K" "sem s2 --max-msg 2" "sem s3 --max-size 2" \
		"sem s4 --size 1" "mutex m1 --value 1" "fifo f1 --max-msg 2" "fifo f2 --value 1" \
		"mq q1 --capacity 1K" "mq q2 --size 1" "shm g1 --value 1" "shm g2 --capacity 1"; do
		# shellcheck disable=SC2086 # words on purpose
		ctl_fails 2 '^ipcctl: create: option not for a ' "create $args" create $args
	done
	ctl_fails 2 'unknown TYPE frob' "an unknown type" create frob x
	ctl_fails 2 'invalid mode 9' "a mode that is not octal" create sem badmode --mode 9
	ctl_fails 2 'invalid mode 17777' "a mode too large" create sem badmode --mode 17777
	ctl_fails 2 'invalid value' "a value too large" create sem badvalue --value 2147483648
	ctl_fails 2 'invalid value' "a negative value" create sem badvalue --value -1
	expect_eq "$(find sem mutex fifo mq shm -mindepth 1 | wc -l)" 0 "objects after refused creates"

	# an existing object: failure, the object unchanged
	echo 7 > sem/there
	ctl_fails 1 '^ipcctl: sem/there: File exists$' "create over an existing object" \
		create sem sem/there --value 1
	expect_eq "$(size sem/there)" 7 "the existing semaphore's count"
	ctl_fails 1 '^ipcctl: there: File exists$' "create over an existing object (short name)" \
		create sem there
	# the wrong type's directory, a missing directory
	ctl_fails 1 '^ipcctl: mq/x: a sem must be below sem/$' "a semaphore in mq/" create sem mq/x
	ctl_fails 1 '^ipcctl: sem/nodir/x: No such file or directory$' "a missing directory" \
		create sem sem/nodir/x
	# an option the daemon refuses: nothing is left behind (all or nothing)
	ctl_fails 1 '^ipcctl: fifo/f: user.capacity: Invalid argument$' "--capacity 0" \
		create fifo fifo/f --capacity 0
	# (a bad number in --capacity/--max-msg/--max-size/--size is exit 1, in --value exit 2:
	# either is accepted here; what matters is that nothing is created)
	run_ctl create mq mq/q --max-msg 1X
	[ "$RC" = 1 ] || [ "$RC" = 2 ] || fail "--max-msg 1X: exit status $RC"
	grep -q '^ipcctl: .*1X' <<<"$ERR" || fail "--max-msg 1X: stderr '$ERR'"
	ctl_fails 1 '^ipcctl: mq/r: user.msgsize: ' "--max-size too large" create mq mq/r --max-size 2G
	ctl_fails 1 '^ipcctl: shm/big: size: ' "--size too large" create shm shm/big --size 2G
	expect_eq "$(find sem mutex fifo mq shm -mindepth 1 | tr '\n' ' ')" "sem/there " \
		"objects after failed creates"
}

# ---- rm ----

test_ipcctl_rm_several_paths() {
	touch sem/a mutex/b fifo/c mq/d shm/e sem/f
	ctl_ok "rm of five objects" rm sem/a mutex/b fifo/c "$MNT/mq/d" /shm/e
	expect_eq "$(find sem mutex fifo mq shm -mindepth 1 | tr '\n' ' ')" "sem/f " "what rm left"
	touch sem/g
	ctl_fails 1 '^ipcctl: sem/nope: No such file or directory$' "rm with a missing path" \
		rm sem/f sem/nope sem/g
	expect_eq "$(find sem -mindepth 1 | wc -l)" 0 "the paths around the missing one were removed"
	ctl_fails 1 '^ipcctl: sem: Operation not permitted$' "rm of a type directory" rm sem
	[ -d sem ] || fail "sem/ removed"
	# directories: empty ones go, others stay
	mkdir -p sem/empty sem/full
	touch sem/full/x
	ctl_fails 1 '^ipcctl: sem/full: Directory not empty$' "rm of a directory with an object" \
		rm sem/empty sem/full
	expect_eq "$(find sem -mindepth 1 | sort | tr '\n' ' ')" "sem/full sem/full/x " \
		"what rm of two directories left"
}

# Names with spaces: escaped as \040 in the table (as in /proc/mounts, so that a line always
# splits on spaces), as they are in JSON, and usable as PATH.
test_ipcctl_names_with_spaces() {
	ctl_ok "create a semaphore with a space in its name" create sem "sem/a b" --value 2
	expect_eq "$(size "sem/a b")" 2 "its count"
	echo 1 > sem/c
	ctl_ok "ls" ls sem
	expect_eq "$(awk '{ print $2 ":" NF }' <<<"$OUT" | tr '\n' ' ')" "PATH:7 /sem/a\\040b:8 /sem/c:8 " \
		"ls: the name escaped, one field"
	# the columns stay aligned however the name is written
	expect_eq "$(awk '{ print index($0, "0644") }' <<<"$(tail -n +2 <<<"$OUT")" | sort -u)" \
		"$(awk '{ print index($0, "MODE") }' <<<"$(head -1 <<<"$OUT")")" "the MODE column"
	ctl_ok "ls --json" ls --json sem
	expect_eq "$(json '[o["path"] for o in j]' <<<"$OUT")" "['/sem/a b', '/sem/c']" "ls --json: the raw names"
	ctl_ok "stat" stat "sem/a b"
	expect_eq "$(head -1 <<<"$OUT")" '/sem/a\040b' "stat: the escaped name"
	ctl_ok "wait" wait "sem/a b" 2
	expect_eq "$(size "sem/a b")" 0 "its count after wait 2"
	ctl_ok "rm" rm "sem/a b"
	gone "sem/a b" || fail "sem/a b still there"
}

test_ipcctl_rm_gives_waiters_eidrm() {
	touch sem/d
	"$IPCCTL" wait sem/d 2>"$WORK/w.err" &
	local w=$! c
	wait_blocked "$w" sem/d
	cat sem/d 2>"$WORK/c.err" &
	c=$!
	wait_blocked "$c" sem/d
	ctl_ok "rm sem/d" rm sem/d
	wait_exit "$w" 2000
	expect_eq "$RC:$(cat "$WORK/w.err")" "1:ipcctl: sem/d: removed while waiting (EIDRM)" \
		"ipcctl wait on the removed semaphore"
	wait_exit "$c" 2000
	grep -q "Identifier removed" "$WORK/c.err" || fail "cat after rm said '$(cat "$WORK/c.err")'"
	gone sem/d || fail "sem/d still there"
}

# ---- wait and post ----

test_ipcctl_wait_post_units() {
	touch sem/s
	ctl_ok "post" post sem/s
	expect_eq "$(size sem/s)" 1 "count after post"
	ctl_ok "post 4" post sem/s 4
	expect_eq "$(size sem/s)" 5 "count after post 4"
	ctl_ok "wait 3" wait sem/s 3
	expect_eq "$(size sem/s)" 2 "count after wait 3"
	ctl_ok "wait" wait sem/s
	expect_eq "$(size sem/s)" 1 "count after wait"
	ctl_ok "wait 1 --timeout 1" wait sem/s 1 --timeout 1
	expect_eq "$(size sem/s)" 0 "count after wait --timeout with a unit there"

	# wait 2 blocks until two units are there, taken at once
	"$IPCCTL" wait sem/s 2 &
	local w=$!
	wait_blocked "$w" sem/s
	ctl_ok "post 1 to the waiter" post sem/s 1
	sleep 0.1
	blocked "$w" || fail "wait 2 returned with 1 unit"
	expect_eq "$(size sem/s)" 1 "count while wait 2 waits"
	ctl_ok "post 1 more" post sem/s
	wait_exit "$w" 2000
	expect_eq "$RC:$(size sem/s)" "0:0" "wait 2 once there were 2 units"

	echo 2147483647 > sem/s
	ctl_fails 1 '^ipcctl: sem/s: Value too large' "post past the maximum" post sem/s
	expect_eq "$(size sem/s)" 2147483647 "count after the refused post"
	touch mq/q
	ctl_fails 1 '^ipcctl: mq/q: post works on sem$' "post to a queue" post mq/q
	ctl_fails 1 '^ipcctl: mq/q: wait works on sem$' "wait on a queue" wait mq/q
	expect_eq "$(size mq/q)" 0 "the queue after refused post and wait"
	ctl_fails 1 '^ipcctl: sem/nope: No such file or directory$' "post to a missing semaphore" \
		post sem/nope
	gone sem/nope || fail "post created sem/nope"
}

test_ipcctl_wait_timeout_takes_nothing() {
	touch sem/e
	local t0 dt
	t0=$(now_ms)
	ctl_fails 124 '^ipcctl: sem/e: timed out after 0.2 s$' "wait --timeout 0.2 on an empty semaphore" \
		wait sem/e --timeout 0.2
	dt=$(($(now_ms) - t0))
	[ "$dt" -ge 190 ] && [ "$dt" -lt 3000 ] || fail "wait --timeout 0.2 took $dt ms"
	ctl_ok "post after the timeout" post sem/e
	expect_eq "$(size sem/e)" 1 "count after the timed-out wait and one post: exact"
	sleep 0.1
	expect_eq "$(size sem/e)" 1 "count a little later: no ghost P took the unit"
	# wait N with fewer than N units takes none of them
	ctl_ok "post 1 more" post sem/e
	ctl_fails 124 'timed out' "wait 3 --timeout 0.2 with 2 units" wait sem/e 3 --timeout 0.2
	expect_eq "$(size sem/e)" 2 "count after the timed-out wait 3"
	# --timeout 0: do not wait at all
	t0=$(now_ms)
	ctl_fails 124 'timed out after 0 s' "wait 3 --timeout 0" wait sem/e 3 --timeout 0
	ctl_ok "wait 2 --timeout 0 with 2 units" wait sem/e 2 --timeout 0
	ctl_fails 124 'timed out after 0 s' "wait --timeout 0 on an empty semaphore" wait sem/e --timeout 0
	dt=$(($(now_ms) - t0))
	[ "$dt" -lt 2000 ] || fail "three --timeout 0 calls took $dt ms"
	expect_eq "$(size sem/e)" 0 "count after wait 2"
	ctl_ok "post" post sem/e
	expect_eq "$(size sem/e)" 1 "count after a post: the timed-out waits left nothing behind"
}

# ---- send and recv ----

test_ipcctl_send_recv_boundaries() {
	touch mq/q
	ctl_ok "send words" send mq/q hello   world
	printf 'a\nb\n\nc\n' | timeout -s KILL 10 "$IPCCTL" send mq/q || fail "send from stdin"
	ctl_ok "send -n" send -n mq/q no newline
	expect_eq "$(size mq/q)" 3 "three sends, three messages"
	timeout -s KILL 10 "$IPCCTL" recv mq/q >"$WORK/m1" || fail "recv 1"
	printf 'hello world\n' | cmp -s - "$WORK/m1" || fail "message 1: $(od -c "$WORK/m1")"
	timeout -s KILL 10 "$IPCCTL" recv mq/q >"$WORK/m2" || fail "recv 2"
	printf 'a\nb\n\nc\n' | cmp -s - "$WORK/m2" || fail "message 2 (stdin, one message): $(od -c "$WORK/m2")"
	timeout -s KILL 10 "$IPCCTL" recv mq/q >"$WORK/m3" || fail "recv 3"
	printf 'no newline' | cmp -s - "$WORK/m3" || fail "message 3 (-n): $(od -c "$WORK/m3")"
	expect_eq "$(size mq/q)" 0 "messages left"

	# stdin as it is, binary and larger than one read of ipcctl's, in one message; and recv
	# gives it back whole
	setfattr -n user.msgsize -v 200K mq/q
	head -c 150000 /dev/urandom >"$WORK/big"
	timeout -s KILL 10 "$IPCCTL" send mq/q <"$WORK/big" || fail "send of 150000 bytes"
	ctl_ok "send after the big one" send mq/q next
	expect_eq "$(size mq/q)" 2 "the big message is one message"
	timeout -s KILL 10 "$IPCCTL" recv mq/q >"$WORK/big.out" || fail "recv of the big one"
	cmp -s "$WORK/big" "$WORK/big.out" ||
		fail "the big message came back as $(wc -c <"$WORK/big.out") different bytes"
	ctl_ok "recv the next" recv mq/q
	expect_eq "$OUT" next "the message after the big one"
	: | timeout -s KILL 10 "$IPCCTL" send mq/q || fail "send of empty standard input"
	expect_eq "$(size mq/q)" 0 "an empty message is not sent"

	# a blocked recv gets the next message sent
	"$IPCCTL" recv mq/q >"$WORK/r.out" &
	local r=$!
	wait_blocked "$r" mq/q
	ctl_ok "send to the waiting recv" send mq/q for you
	wait_exit "$r" 2000
	expect_eq "$RC:$(cat "$WORK/r.out")" "0:for you" "the blocked recv"

	# FIFOs: a byte stream, recv gives what is buffered
	touch fifo/f
	ctl_ok "send to a FIFO" send fifo/f one
	ctl_ok "send to a FIFO again" send -n fifo/f two
	ctl_ok "recv from a FIFO" recv fifo/f
	expect_eq "$OUT" "one
two" "recv from the FIFO: all that was buffered"
	expect_eq "$(size fifo/f)" 0 "bytes left in the FIFO"
	ctl_fails 1 '^ipcctl: fifo/f: --prio works on message queues$' "send --prio to a FIFO" \
		send fifo/f --prio 1 x
	touch sem/s
	ctl_fails 1 '^ipcctl: sem/s: send works on mq and fifo$' "send to a semaphore" send sem/s x
	ctl_fails 1 '^ipcctl: sem/s: recv works on mq and fifo$' "recv from a semaphore" recv sem/s
	ctl_fails 1 '^ipcctl: mq/nope: No such file or directory$' "send to a missing queue" \
		send mq/nope x
	gone mq/nope || fail "send created mq/nope"
}

test_ipcctl_send_prio_order() {
	touch mq/p
	ctl_ok "send low" send mq/p low
	ctl_ok "send --prio 9" send mq/p --prio 9 high
	ctl_ok "send --prio 5" send --prio 5 mq/p mid
	ctl_ok "send --prio 31" send mq/p --prio 31 top
	ctl_ok "send --prio 0" send mq/p --prio 0 low2
	ctl_ok "send --prio 5 again" send mq/p --prio 5 mid2
	expect_eq "$(size mq/p)" 6 "messages queued"
	ctl_ok "stat of the queue" stat --json mq/p
	expect_eq "$(json 'sorted((k, v) for k, v in j["state"].items() if k.startswith("prio"))' <<<"$OUT")" \
		"[('prio.0', 2), ('prio.31', 1), ('prio.5', 2), ('prio.9', 1)]" "messages per priority"
	local got='' i
	for i in 1 2 3 4 5 6; do
		run_ctl recv mq/p
		[ "$RC" = 0 ] || fail "recv $i: $RC $ERR"
		got+="$OUT "
	done
	expect_eq "$got" "top high mid mid2 low low2 " "order of reception"
	[ -z "$(find mq -name '*@*')" ] || fail "a priority alias shows in mq/: $(ls mq)"
}

test_ipcctl_recv_timeout_keeps_later_message() {
	touch mq/e fifo/e
	local t0 dt
	t0=$(now_ms)
	ctl_fails 124 '^ipcctl: mq/e: timed out after 0.2 s$' "recv --timeout 0.2 on an empty queue" \
		recv mq/e --timeout 0.2
	dt=$(($(now_ms) - t0))
	[ "$dt" -ge 190 ] && [ "$dt" -lt 3000 ] || fail "recv --timeout 0.2 took $dt ms"
	ctl_fails 124 'timed out after 0 s' "recv --timeout 0 on an empty queue" recv mq/e --timeout 0
	ctl_ok "send after the timeouts" send mq/e "a whole message"
	sleep 0.1
	expect_eq "$(size mq/e)" 1 "the message sent after the timed-out receives is queued"
	ctl_ok "recv of it" recv mq/e --timeout 1
	expect_eq "$OUT" "a whole message" "the message after the timed-out receives, whole"
	expect_eq "$(size mq/e)" 0 "messages left"
	ctl_fails 124 'timed out' "recv --timeout 0.2 on an empty FIFO" recv fifo/e --timeout 0.2
	ctl_ok "send to the FIFO" send fifo/e bytes
	ctl_ok "recv from the FIFO" recv fifo/e -t 1
	expect_eq "$OUT" bytes "the FIFO's bytes after the timed-out receive"
	# send --timeout on a full queue sends nothing
	setfattr -n user.max_msgs -v 1 mq/e
	ctl_ok "fill the queue" send mq/e first
	ctl_fails 124 'timed out after 0.2 s' "send --timeout 0.2 to a full queue" \
		send mq/e --timeout 0.2 second
	expect_eq "$(size mq/e)" 1 "messages after the timed-out send"
	ctl_ok "recv" recv mq/e
	expect_eq "$OUT" first "the queue's only message"
	ctl_fails 124 'timed out' "nothing more" recv mq/e --timeout 0
}

# Options of send after PATH, up to the message; what follows "--", or an unknown -word, is
# message text.
test_ipcctl_send_options_after_path() {
	touch mq/n
	local args want
	while IFS='|' read -r args want; do
		# shellcheck disable=SC2086 # words on purpose
		ctl_ok "send $args" send $args
		timeout -s KILL 10 "$IPCCTL" recv mq/n --timeout 0 >"$WORK/n.out"
		printf -- "$want" | cmp -s - "$WORK/n.out" ||
			fail "'ipcctl send $args' sent '$(od -An -c "$WORK/n.out" | tr -s ' ')'"
	done <<-'EOF'
		mq/n -n hi|hi
		-n mq/n hi|hi
		mq/n --prio 3 -n hi|hi
		mq/n -n --timeout 1 hi there|hi there
		mq/n -- -n hi|-n hi\n
		mq/n hello -n --prio 3|hello -n --prio 3\n
		mq/n -x y|-x y\n
	EOF
	expect_eq "$(size mq/n)" 0 "messages left"
}

# A timer that fired before the blocking read()/write() had started (a short timeout, or a
# slow open on a busy machine) was once spent, and the call then waited forever: `ipcctl wait
# sem/e --timeout 0.00001` never returned (the timer now repeats until disarmed). A timeout
# always ends the command with 124 (each hang is cut after 1 s; the loops stop at the first).
test_ipcctl_short_timeout_never_hangs() {
	touch sem/e mq/e
	local i t cmd
	for cmd in "wait sem/e" "recv mq/e" "wait sem/e 2"; do
		for i in $(seq 10); do
			for t in 0.00001 0.0005; do
				# shellcheck disable=SC2086 # words on purpose
				{ timeout -s KILL 1 "$IPCCTL" $cmd --timeout "$t"; } 2>/dev/null
				RC=$?
				if [ "$RC" != 124 ]; then
					fail "'ipcctl $cmd --timeout $t' exited $RC, expected 124 (137: still waiting after 1 s)"
					break 3
				fi
			done
		done
	done
	expect_eq "$(size sem/e):$(size mq/e)" "0:0" "objects after the timeouts"
	ctl_ok "post after the timeouts" post sem/e
	sleep 0.1
	expect_eq "$(size sem/e)" 1 "count after the timeouts and one post"
}

# ---- deadlock and graph ----

# seat_philosophers N: N processes around mutex/ph/fork0..N-1, each in a process group of its
# own; each takes fork I, and once all have theirs reaches for fork I+1: a circle. PHIL: pids.
seat_philosophers() {
	local n=$1 i
	mkdir -p mutex/ph
	for ((i = 0; i < n; i++)); do touch "mutex/ph/fork$i"; done
	rm -f "$WORK/go"
	PHIL=()
	for ((i = 0; i < n; i++)); do
		setsid bash -c 'exec 8>"$1"; until [ -e "$3" ]; do sleep 0.01; done; exec 9>"$2"
			exec sleep 30' _ "mutex/ph/fork$i" "mutex/ph/fork$(((i + 1) % n))" "$WORK/go" &
		PHIL+=($!)
	done
	for ((i = 0; i < n; i++)); do
		wait_until 5 size_is 1 "mutex/ph/fork$i" || fail "philosopher $i has no fork"
	done
	touch "$WORK/go"
	for ((i = 0; i < n; i++)); do wait_blocked "${PHIL[i]}" "mutex/ph/fork$i"; done
}

unseat_philosophers() {
	kill "${PHIL[@]}" 2>/dev/null
	wait "${PHIL[@]}" 2>/dev/null
	rm -r mutex/ph
}

test_ipcctl_deadlock_none() {
	ctl_ok "deadlock on an empty mount" deadlock
	expect_eq "$OUT" "Deadlock detection, one row per process
No process holds or waits for a semaphore or mutex.
Verdict: no deadlock" "deadlock on an empty mount"
	ctl_ok "graph on an empty mount" graph
	expect_eq "$OUT" "no cycle" "graph on an empty mount"

	# a held mutex with a waiter, a waiter on an empty semaphore (it waits for a V, which
	# anybody may give): no deadlock
	touch mutex/m sem/e
	bash -c 'exec 8<mutex/m; exec sleep 30' &
	local h=$! w c
	wait_until 5 size_is 1 mutex/m || fail "the holder did not get the mutex"
	wait_comm "$h" sleep
	cat mutex/m &
	w=$!
	wait_blocked "$w" mutex/m
	cat sem/e &
	c=$!
	wait_blocked "$c" sem/e
	run_ctl deadlock
	expect_eq "$RC" 0 "deadlock with waiters but no cycle: exit status"
	grep -q '^Verdict: no deadlock; the processes can finish in the order P[0-9] P[0-9] P[0-9]$' <<<"$OUT" ||
		fail "deadlock verdict: $OUT"
	grep -qE "^  P[0-9] waits for a signal, assumed to finish: " <<<"$OUT" ||
		fail "the semaphore waiter is not marked as waiting for a signal: $OUT"
	[ "$(count_lines '^  P[0-9] (pid|can finish|waits)' "$OUT")" -ge 6 ] ||
		fail "three rows and three steps expected: $OUT"
	ctl_ok "graph without a cycle" graph
	expect_eq "$(tail -1 <<<"$OUT")" "no cycle" "graph's last line"
	grep -qE "^pid $w \(cat\) waits for /mutex/m$" <<<"$OUT" || fail "graph line of the waiter: $OUT"
	grep -qE "^pid $h \(sleep\) holds /mutex/m$" <<<"$OUT" || fail "graph line of the holder: $OUT"
	ctl_ok "graph --dot without a cycle" graph --dot
	grep -q red <<<"$OUT" && fail "red in a graph without a deadlock: $OUT"
	expect_eq "$(count_lines ' -> ' "$OUT")" 3 "edges: one hold, two waits"
	expect_eq "$(tail -1 .ipcfs/deadlock)" "$(timeout -s KILL 10 "$IPCCTL" deadlock | tail -1)" \
		"/.ipcfs/deadlock and ipcctl deadlock agree"
	kill "$h" "$w" "$c"
	wait "$h" "$w" "$c" 2>/dev/null
}

test_ipcctl_deadlock_philosophers() {
	local i
	seat_philosophers 5
	run_ctl deadlock
	expect_eq "$RC" 3 "ipcctl deadlock on five philosophers: exit status"
	grep -qx 'Deadlock detection, one row per process' <<<"$OUT" || fail "deadlock title: $OUT"
	grep -qx 'E = (1 1 1 1 1)' <<<"$OUT" || fail "E of five forks: $OUT"
	grep -qx 'A = (0 0 0 0 0)' <<<"$OUT" || fail "A of five forks: $OUT"
	grep -qx 'Verdict: DEADLOCK of 5 processes:' <<<"$OUT" || fail "deadlock verdict: $OUT"
	for ((i = 0; i < 5; i++)); do
		grep -qE "^  P[1-5] pid ${PHIL[i]} bash holds /mutex/ph/fork$i; waits for /mutex/ph/fork$(((i + 1) % 5))$" <<<"$OUT" ||
			fail "philosopher $i (pid ${PHIL[i]}) is not listed as deadlocked: $OUT"
	done
	expect_eq "$(count_lines '^  P[0-9]+ pid [0-9]+ .* holds ' "$OUT")" 5 "deadlocked processes listed"
	# the C and R matrices: each row holds one fork and wants the next
	expect_eq "$(sed -n '/^C =$/,/^R =$/p' <<<"$OUT" | awk 'NF == 8 { print $4 $5 $6 $7 $8 }' | sort | tr '\n' ' ')" \
		"00001 00010 00100 01000 10000 " "C: one fork per philosopher"
	run_ctl deadlock --pgrp
	expect_eq "$RC" 3 "ipcctl deadlock --pgrp: exit status"
	grep -qx 'Verdict: DEADLOCK of 5 process groups:' <<<"$OUT" || fail "deadlock --pgrp verdict: $OUT"
	grep -q "^  P[1-5] pgid ${PHIL[0]} bash holds /mutex/ph/fork0" <<<"$OUT" ||
		fail "deadlock --pgrp rows: $OUT"
	# the daemon's own view says the same
	grep -qx 'Verdict: DEADLOCK of 5 processes:' .ipcfs/deadlock || fail "/.ipcfs/deadlock: $(cat .ipcfs/deadlock)"

	# one philosopher leaves: the others can all eat, no deadlock any more
	kill "${PHIL[4]}"
	wait "${PHIL[4]}" 2>/dev/null
	# (the kernel sends the release of its fork asynchronously): philosopher 3 gets fork 4
	# and goes on to sleep with both forks
	wait_comm "${PHIL[3]}" sleep
	run_ctl deadlock
	expect_eq "$RC" 0 "deadlock once philosopher 4 left"
	unseat_philosophers
	ctl_ok "deadlock once all left" deadlock
}

test_ipcctl_deadlock_two_semaphores() {
	# two semaphores used as locks, taken in opposite orders by two processes
	echo 1 > sem/x
	echo 1 > sem/y
	bash -c 'echo -1 > sem/x; until [ -e "$1" ]; do sleep 0.01; done; echo -1 > sem/y' _ "$WORK/go2" &
	local a=$! b
	bash -c 'echo -1 > sem/y; until [ -e "$1" ]; do sleep 0.01; done; echo -1 > sem/x' _ "$WORK/go2" &
	b=$!
	wait_until 5 size_is 0 sem/x || fail "a did not take sem/x"
	wait_until 5 size_is 0 sem/y || fail "b did not take sem/y"
	touch "$WORK/go2"
	wait_blocked "$a" sem/y
	wait_blocked "$b" sem/x
	run_ctl deadlock
	expect_eq "$RC" 3 "deadlock of two semaphores: exit status"
	grep -qx 'E = (1 1)' <<<"$OUT" || fail "E: $OUT"
	grep -qx 'Verdict: DEADLOCK of 2 processes:' <<<"$OUT" || fail "verdict: $OUT"
	grep -qE "^  P[12] pid $a bash holds /sem/x; waits for /sem/y$" <<<"$OUT" || fail "row of a: $OUT"
	grep -qE "^  P[12] pid $b bash holds /sem/y; waits for /sem/x$" <<<"$OUT" || fail "row of b: $OUT"
	ctl_ok "graph" graph
	grep -qE "^cycle: pid ($a -> /sem/y -> pid $b -> /sem/x -> pid $a|$b -> /sem/x -> pid $a -> /sem/y -> pid $b)$" <<<"$OUT" ||
		fail "graph's cycle: $OUT"
	# a V from outside breaks it: semaphores are signals too
	ctl_ok "post sem/y" post sem/y
	wait_exit "$a" 2000
	expect_eq "$RC" 0 "a, once sem/y was posted"
	run_ctl deadlock
	expect_eq "$RC" 0 "no deadlock once a finished"
	kill "$b" 2>/dev/null
	wait "$b" 2>/dev/null
}

test_ipcctl_graph_cycle_text_and_dot() {
	local i line
	seat_philosophers 5
	run_ctl graph
	expect_eq "$RC" 0 "graph exits 0 even with a deadlock"
	for ((i = 0; i < 5; i++)); do
		grep -qx "pid ${PHIL[i]} (bash) holds /mutex/ph/fork$i; waits for /mutex/ph/fork$(((i + 1) % 5))" <<<"$OUT" ||
			fail "graph line of philosopher $i: $OUT"
	done
	line=$(grep '^cycle:' <<<"$OUT")
	[ -n "$line" ] || fail "graph prints no cycle: line: $OUT"
	# "cycle: pid P -> /res -> pid Q -> ... -> pid P": 5 processes, each followed by the fork it
	# waits for, which the next one holds
	local words first last
	read -ra words <<<"$line"
	first=${words[2]}
	last=${words[${#words[@]} - 1]}
	expect_eq "$last" "$first" "the cycle ends where it started"
	for ((i = 0; i < 5; i++)); do
		grep -q " pid ${PHIL[i]} -> /mutex/ph/fork$(((i + 1) % 5)) -> pid ${PHIL[(i + 1) % 5]}\( \|$\)" <<<"$line" ||
			fail "the cycle lacks philosopher $i -> fork$(((i + 1) % 5)) -> philosopher $(((i + 1) % 5)): $line"
	done
	expect_eq "$(grep -o 'pid ' <<<"$line" | wc -l)" 6 "pids on the cycle line (5, and the first again)"

	run_ctl graph --dot
	expect_eq "$RC" 0 "graph --dot exit status"
	expect_eq "$(head -1 <<<"$OUT")" "digraph ipcfs {" "graph --dot: a digraph"
	expect_eq "$(tail -1 <<<"$OUT")" "}" "graph --dot: closed"
	expect_eq "$(count_lines '^	p[0-9]+ \[shape=circle, .*color=red\];$' "$OUT")" 5 "red process nodes"
	expect_eq "$(count_lines '^	r[0-9]+ \[shape=box, label="/mutex/ph/fork[0-4]"\];$' "$OUT")" 5 "resource nodes"
	expect_eq "$(count_lines '^	r[0-9]+ -> p[0-9]+ \[label="holds 1", color=red, penwidth=2\];$' "$OUT")" 5 \
		"red hold edges"
	expect_eq "$(count_lines '^	p[0-9]+ -> r[0-9]+ \[label="wants 1", style=dashed, color=red, penwidth=2\];$' "$OUT")" 5 \
		"red wait edges"
	expect_eq "$(count_lines ' -> ' "$OUT")" 10 "edges in all"
	for ((i = 0; i < 5; i++)); do
		grep -q "label=\"pid ${PHIL[i]}\\\\nbash\", color=red" <<<"$OUT" ||
			fail "graph --dot: no red node for philosopher $i: $OUT"
	done
	if command -v dot >/dev/null; then
		dot -Tcanon <<<"$OUT" >/dev/null 2>"$WORK/dot.err" ||
			fail "Graphviz rejects the graph: $(cat "$WORK/dot.err")"
	fi
	run_ctl graph --dot --pgrp
	expect_eq "$(count_lines 'color=red, penwidth=2' "$OUT"):$(count_lines 'label="pgid ' "$OUT")" "10:5" \
		"graph --dot --pgrp: the same cycle between process groups"
	local daemon
	daemon=$(cat .ipcfs/graph.dot)
	expect_eq "$(count_lines 'color=red, penwidth=2' "$daemon")" 10 "/.ipcfs/graph.dot: red cycle edges"
	unseat_philosophers
	ctl_ok "graph once they left" graph
	expect_eq "$OUT" "no cycle" "graph once they left"
}

# ---- finding the mount ----

test_ipcctl_finds_mount_from_cwd_and_m() {
	mkdir -p sem/sub/deeper
	echo 2 > sem/sub/s
	echo 5 > sem/top
	(
		cd sem/sub || exit 1
		ctl_ok "ls from a directory inside the mount" ls
		expect_eq "$(awk 'NR > 1 { print $2 }' <<<"$OUT" | tr '\n' ' ')" "/sem/sub/s /sem/top " \
			"ls from sem/sub lists the whole mount"
		ctl_ok "post s from sem/sub" post s 3
		expect_eq "$(size s)" 5 "'s' from sem/sub is sem/sub/s"
		ctl_ok "stat ../top" stat ../top
		expect_eq "$(head -1 <<<"$OUT")" /sem/top "'../top' from sem/sub"
		ctl_ok "ls ." ls .
		expect_eq "$(awk 'NR > 1 { print $2 }' <<<"$OUT" | tr '\n' ' ')" "/sem/sub/s " "'ls .' from sem/sub"
		ctl_ok "stat /sem/top" stat /sem/top
		expect_eq "$(head -1 <<<"$OUT")" /sem/top "an absolute path not into the mount is from its root"
		cd deeper || exit 1
		ctl_ok "create from sem/sub/deeper" create sem here --value 1
		expect_eq "$(size "$MNT/sem/sub/deeper/here")" 1 "create 'here' from sem/sub/deeper"
		exit "$T_CUR_FAILED"
	) || T_CUR_FAILED=1
	mkdir "$WORK/elsewhere"
	(
		cd "$WORK/elsewhere" || exit 1
		ctl_ok "-m MOUNT ls" -m "$MNT" ls sem/sub
		expect_eq "$(awk 'NR > 1 { print $2 }' <<<"$OUT" | tr '\n' ' ')" "/sem/sub/deeper/here /sem/sub/s " \
			"-m from outside: PATH relative to the mount"
		ctl_ok "-m MOUNT wait" -m "$MNT" wait sem/sub/s 2
		expect_eq "$(size "$MNT/sem/sub/s")" 3 "-m from outside: wait on sem/sub/s"
		ctl_ok "-m MOUNT with an absolute path into the mount" -m "$MNT" post "$MNT/sem/top"
		expect_eq "$(size "$MNT/sem/top")" 6 "an absolute path into the mount"
		ln -s "$MNT" "$WORK/link"
		ctl_ok "-m through a symbolic link" -m "$WORK/link" stat sem/top
		expect_eq "$(head -1 <<<"$OUT")" /sem/top "-m through a symbolic link"
		ctl_fails 1 '^ipcctl: \.\./x: not inside the mount' "-m with a path above the mount" \
			-m "$MNT" stat ../x
		exit "$T_CUR_FAILED"
	) || T_CUR_FAILED=1
}

test_ipcctl_non_ipcfs_directory() {
	mkdir -p "$WORK/plain" "$WORK/fake/.ipcfs"
	(
		cd "$WORK/plain" || exit 1
		ctl_fails 1 "^ipcctl: $WORK/plain: not an ipcfs mount \(no \.ipcfs/status\); mount one or use -m DIR$" \
			"-m a plain directory" -m "$WORK/plain" ls
		ctl_fails 1 "^ipcctl: $WORK/nope: No such file or directory$" "-m a missing directory" \
			-m "$WORK/nope" ls
		ctl_fails 1 "^ipcctl: $MNT/sem: not an ipcfs mount" "-m a directory inside the mount" \
			-m "$MNT/sem" ls
		echo "not a status" >"$WORK/fake/.ipcfs/status"
		ctl_fails 1 "^ipcctl: $WORK/fake/.ipcfs/status: not an ipcfs status$" \
			"-m a directory with a bogus .ipcfs/status" -m "$WORK/fake" ls
		# no -m, outside any ipcfs mount: the default mount point
		if ! grep -q ' /run/ipcfs fuse.ipcfs ' /proc/self/mountinfo; then
			ctl_fails 1 '^ipcctl: /run/ipcfs: not an ipcfs mount' "outside a mount, without -m" ls
			ctl_fails 1 '^ipcctl: /run/ipcfs: not an ipcfs mount' "deadlock outside a mount" deadlock
		else
			say "SKIP: /run/ipcfs is an ipcfs mount here; the default is not checked"
		fi
		exit "$T_CUR_FAILED"
	) || T_CUR_FAILED=1
}

test_ipcctl_status_files() {
	echo 2 > sem/s
	touch mq/q
	local c
	json 'j["version"], [o["path"] for o in j["objects"]]' <.ipcfs/status.json >"$WORK/sj" ||
		fail "/.ipcfs/status.json is not JSON: $(cat .ipcfs/status.json)"
	expect_eq "$(cat "$WORK/sj")" "1 ['/mq/q', '/sem/s']" "/.ipcfs/status.json: version and objects"
	expect_eq "$(head -1 .ipcfs/status | cut -d' ' -f1,2)" "ipcfs-status version=1" "/.ipcfs/status header"
	grep -q '^object type=sem path=/sem/s .* value=2 available=2 holders=0 waiters=0$' .ipcfs/status ||
		fail "/.ipcfs/status line of sem/s: $(cat .ipcfs/status)"
	expect_err "Permission denied" "writing /.ipcfs/status" -- bash -c 'echo x > .ipcfs/status'
	# what ipcctl shows comes from that file
	touch sem/e
	cat sem/e &
	c=$!
	wait_blocked "$c" sem/e
	grep -q "^wait path=/sem/e pid=$c tid=$c pgid=[0-9]* comm=cat op=P units=1 since=" .ipcfs/status ||
		fail "/.ipcfs/status wait record: $(cat .ipcfs/status)"
	ctl_ok "ls --json" ls --json
	expect_eq "$(json '[(o["path"], len(o["waiters"])) for o in j]' <<<"$OUT")" \
		"[('/mq/q', 0), ('/sem/e', 1), ('/sem/s', 0)]" "ls --json with a waiter"
	kill "$c"
	wait "$c" 2>/dev/null
}

# Readers of the view in parallel, as many ipcctl users or monitoring loops would be. A
# regression test: the document of a view file was freed by the RELEASE of the reader's
# close while the thread that answered its last READ was still inside fuse_reply_buf (the
# kernel wakes the reader as soon as it has the reply): a heap-use-after-free that ASan and
# TSan reported within a second or two (then "daemon exited cleanly" fails after this test).
test_ipcctl_status_reads_in_parallel() {
	echo 1 > sem/s
	touch mq/q mutex/m
	local i pids=()
	for i in 1 2 3; do
		(
			for _ in $(seq 500); do
				cat .ipcfs/status >/dev/null || exit 1
			done
		) &
		pids+=($!)
	done
	for i in 0 1 2; do
		wait "${pids[i]}" || fail "reader $i of /.ipcfs/status failed (the daemon died?)"
	done
	mounted || fail "the mount is gone"
	ctl_ok "ls after the readers" ls sem
	expect_eq "$(awk 'NR > 1 { print $2 }' <<<"$OUT")" /sem/s "ls after the readers"
}

# ---- the demo scripts ----

test_ipcctl_tanenbaum_script() {
	local out=$WORK/tanenbaum.out rc
	IPCCTL=$IPCCTL timeout -s KILL 30 "$REPO/scripts/tanenbaum.sh" "$MNT" >"$out" 2>"$WORK/tanenbaum.err"
	rc=$?
	expect_eq "$rc" 0 "scripts/tanenbaum.sh exit status (stderr: $(cat "$WORK/tanenbaum.err"))"
	grep -qx 'Deadlock detection, one row per process group' "$out" || fail "title"
	expect_eq "$(sed -n '/^Resources (columns):$/,/^Processes/p' "$out" | sed '1d;$d' | tr -s ' ' | tr '\n' '|')" \
		" R1 sem /sem/tanenbaum/1-tape| R2 sem /sem/tanenbaum/2-plotter| R3 sem /sem/tanenbaum/3-scanner| R4 sem /sem/tanenbaum/4-bluray|" \
		"the resource classes"
	expect_eq "$(grep -c '^  P[123] pgid [0-9]* tanenbaum.sh$' "$out")" 3 "three processes (groups)"
	grep -qx 'E = (4 2 3 1)' "$out" || fail "E = (4 2 3 1) missing"
	grep -qx 'A = (2 1 0 0)' "$out" || fail "A = (2 1 0 0) missing"
	# the rows of C and R, in order: "P1 ... 0 0 1 0"
	matrix_rows() { sed -n "/^$1 =\$/,/^[A-Z]/p" "$out" | awk '$1 ~ /^P[0-9]$/ { print $1 ":" $4, $5, $6, $7 }' | tr '\n' ','; }
	expect_eq "$(matrix_rows C)" "P1:0 0 1 0,P2:2 0 0 1,P3:0 1 2 0," "C, row by row"
	expect_eq "$(matrix_rows R)" "P1:2 0 0 1,P2:1 0 1 0,P3:2 1 0 0," "R, row by row"
	expect_eq "$(sed -n '/^C =$/{n;p}' "$out" | tr -s ' ')" " R1 R2 R3 R4" "C's column labels"
	grep -qx '  P3 can finish: its request (2 1 0 0) <= A (2 1 0 0); then A = (2 2 2 0)' "$out" ||
		fail "step 1 of detection"
	grep -qx '  P2 can finish: its request (1 0 1 0) <= A (2 2 2 0); then A = (4 2 2 1)' "$out" ||
		fail "step 2 of detection"
	grep -qx '  P1 can finish: its request (2 0 0 1) <= A (4 2 2 1); then A = (4 2 3 1)' "$out" ||
		fail "step 3 of detection"
	grep -qx 'Verdict: no deadlock; the processes can finish in the order P3 P2 P1' "$out" ||
		fail "the verdict"
	expect_eq "$(grep '^process [123] has all' "$out" | cut -d' ' -f2 | tr '\n' ' ')" "3 2 1 " \
		"the processes' own order"
	expect_eq "$(tail -1 "$out")" "finished in the order: 3 2 1" "the script's last line"
	[ "$T_CUR_FAILED" = 0 ] || sed 's/^/#   | /' "$out"
	# it cleans up after itself
	expect_eq "$(find sem mq -mindepth 1 | wc -l)" 0 "objects the script left"
	run_ctl deadlock
	expect_eq "$RC" 0 "no deadlock after the script"
}

test_ipcctl_philosophers_script() {
	local out=$WORK/philosophers.out rc
	IPCCTL=$IPCCTL timeout -s KILL 30 "$REPO/scripts/philosophers.sh" "$MNT" >"$out" 2>"$WORK/ph.err"
	rc=$?
	expect_eq "$rc" 0 "scripts/philosophers.sh exit status (stderr: $(cat "$WORK/ph.err"))"
	grep -qx 'Verdict: DEADLOCK of 5 processes:' "$out" || fail "round 1: the deadlock verdict"
	expect_eq "$(grep -cE '^  P[1-5] pid [0-9]+ philosophers.sh holds /mutex/philosophers/fork[0-4]; waits for /mutex/philosophers/fork[0-4]$' "$out")" 5 \
		"round 1: five deadlocked processes listed"
	grep -qx 'E = (1 1 1 1 1)' "$out" || fail "round 1: E"
	grep -qE '^cycle: (pid [0-9]+ -> /mutex/philosophers/fork[0-4] -> ){5}pid [0-9]+$' "$out" ||
		fail "round 1: the cycle line"
	expect_eq "$(grep -c '^philosopher [0-4] eats with forks ' "$out")" 5 "round 2: five meals"
	grep -qx "all 5 philosophers ate" "$out" || fail "round 2: all ate"
	grep -q '^ipcctl deadlock: no deadlock in [1-9][0-9]* checks while they ate$' "$out" ||
		fail "round 3: ipcctl deadlock said no deadlock while they ate"
	expect_eq "$(tail -1 "$out")" \
		"all 5 philosophers ate 50 times each (250 meals), never two neighbours at once" \
		"the script's last line (round 3)"
	[ "$T_CUR_FAILED" = 0 ] || sed 's/^/#   | /' "$out"
	expect_eq "$(find mutex mq sem -mindepth 1 | wc -l)" 0 "objects the script left"
	run_ctl deadlock
	expect_eq "$RC" 0 "no deadlock after the script"
}

# ipcctl top in a real terminal: tmux gives it an 80x24 pseudo-terminal, capture-pane reads the
# screen, send-keys types q or Ctrl-C. TOP: the tmux session's name.
# A tmux server of the test's own (its socket, no configuration file): nothing of a user's tmux.
TOP=ipcctl-top-$$
tm() { tmux -L "$TOP" -f /dev/null "$@"; }
top_screen() { tm capture-pane -p -t "$TOP" 2>/dev/null; }
top_start() { # ARGS...: ipcctl top ARGS in a fresh 80x24 session; its exit status to $WORK/top.rc
	rm -f "$WORK/top.rc"
	tm new-session -d -s "$TOP" -x 80 -y 24 \
		"$IPCCTL -m $MNT top $*; echo \$? >$WORK/top.rc" || fail "tmux new-session"
}
top_gone() { ! tm has-session -t "$TOP" 2>/dev/null; }
top_cleanup() { tm kill-server 2>/dev/null || true; }
top_rates_shown() { top_screen | grep -qE '^sem +/sem/busy +0 +0 +[0-9]+\.[0-9] '; }
top_drawn() { top_screen | grep -q '^TYPE'; }
CLEANUP_HOOKS+=(top_cleanup)

test_ipcctl_top_live_view_in_80x24() {
	if ! command -v tmux >/dev/null; then
		say "SKIP: no tmux"
		return 0
	fi
	local i loop screen
	for i in $(seq 30); do touch "sem/idle$i"; done
	touch sem/busy
	# V's on sem/busy for as long as the test needs (at most 40 s, should it end early)
	(
		end=$((SECONDS + 40))
		while [ ! -e "$WORK/stopped" ] && [ "$SECONDS" -lt "$end" ]; do echo >sem/busy; done
	) &
	loop=$!
	top_start -d 0.2
	wait_until 15 top_rates_shown || fail "no rate for /sem/busy: $(top_screen)"
	screen=$(top_screen)
	expect_eq "$(echo "$screen" | sed -n 2p | tr -s ' ')" "TYPE PATH HOLD WAIT OPS/S STATE" "the columns"
	# the busiest first, and the screen fits 80x24: 31 objects, 21 shown, a line for the rest
	echo "$screen" | sed -n 3p | grep -qE '^sem +/sem/busy ' || fail "busiest not first: $screen"
	echo "$screen" | awk '$2 == "/sem/busy" { exit !($5 >= 10) }' ||
		fail "/sem/busy at fewer than 10 operations per second: $screen"
	[ "$(echo "$screen" | awk '$1 == "sem" && $2 ~ /^\/sem\/idle/ && $5 == "0.0"' | wc -l)" -ge 10 ] ||
		fail "idle semaphores at 0.0 ops/s: $screen"
	expect_eq "$(echo "$screen" | awk 'length > 80' | wc -l)" 0 "lines wider than 80"
	echo "$screen" | grep -qE '^\.\.\. 10 more \(the busiest are shown\); q quits' ||
		fail "the line for those left out: $screen"
	expect_eq "$(echo "$screen" | grep -c .)" 24 "lines on the screen"
	tm send-keys -t "$TOP" q
	wait_until 3 top_gone || fail "q did not end it"
	expect_eq "$(cat "$WORK/top.rc" 2>/dev/null)" 0 "exit status after q"
	top_start
	wait_until 10 top_drawn || fail "no second screen"
	tm send-keys -t "$TOP" C-c
	wait_until 3 top_gone || fail "Ctrl-C did not end it"
	expect_eq "$(cat "$WORK/top.rc" 2>/dev/null)" 0 "exit status after Ctrl-C"
	touch "$WORK/stopped"
	wait "$loop"
	# not a terminal: N screens one after another, the view as lines
	run_ctl top -d 0.1 -n 2
	expect_eq "$RC" 0 "top -n 2 into a pipe"
	expect_eq "$(echo "$OUT" | grep -c '^TYPE ')" 2 "two screens"
}

[ -x "$IPCCTL" ] || {
	echo "Bail out! no ipcctl next to the daemon: $IPCCTL"
	exit 1
}
# A fresh mount for each test: it starts empty, and a daemon crash or sanitizer report is
# reported ("daemon exited cleanly") right after the test that caused it, without taking the
# following tests down with it.
for t in \
	test_ipcctl_help_and_usage_errors \
	test_ipcctl_ls_table_and_filter \
	test_ipcctl_ls_json \
	test_ipcctl_stat_holders_and_waiters \
	test_ipcctl_create_each_type_with_options \
	test_ipcctl_create_errors \
	test_ipcctl_rm_several_paths \
	test_ipcctl_rm_gives_waiters_eidrm \
	test_ipcctl_names_with_spaces \
	test_ipcctl_wait_post_units \
	test_ipcctl_wait_timeout_takes_nothing \
	test_ipcctl_send_recv_boundaries \
	test_ipcctl_send_prio_order \
	test_ipcctl_recv_timeout_keeps_later_message \
	test_ipcctl_send_options_after_path \
	test_ipcctl_short_timeout_never_hangs \
	test_ipcctl_deadlock_none \
	test_ipcctl_deadlock_philosophers \
	test_ipcctl_deadlock_two_semaphores \
	test_ipcctl_graph_cycle_text_and_dot \
	test_ipcctl_finds_mount_from_cwd_and_m \
	test_ipcctl_non_ipcfs_directory \
	test_ipcctl_status_files \
	test_ipcctl_status_reads_in_parallel \
	test_ipcctl_tanenbaum_script \
	test_ipcctl_philosophers_script \
	test_ipcctl_top_live_view_in_80x24; do
	mount_ipcfs
	# top waits for screens in a terminal: more time for a sanitizer build
	run_test "$t" "$([ "$t" = test_ipcctl_top_live_view_in_80x24 ] && echo 90 || echo 30)"
	unmount_ipcfs
done
finish
