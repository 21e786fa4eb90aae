#!/bin/bash
# it_inspect.sh - the inspection view /.ipcfs: the status line of every type of object, header
# totals and escaped names; reading the view changes nothing; status.json says what the text
# says; the view is read-only, for root too; snapshots stay well-formed and quick with 10,000
# parked callers and churn; semaphore holders; the user.paused attribute; a deadlock of two
# shell processes seen in /.ipcfs/deadlock. The structure of the text is checked by a python
# script written below ($PY), which also compares the text with the JSON.
source "$(dirname "$0")/lib.sh"

CB=$BUILD_DIR/tests/client_block
SCALE=$BUILD_DIR/tests/client_scale
PY=$WORK/inspect.py
MAX_OBJECTS=50000
MAX_MEMORY=536870912 # -o max_memory=512M

cat >"$PY" <<'PYTHON'
"""inspect.py - checks of the /.ipcfs/status text and status.json, for it_inspect.sh.

  inspect.py check STATUS [--since-window T0 T1] [--waiters PATH=N] [--conserved PATH=N]
      The text parses: a header, then every object line followed by exactly holders= hold
      lines and waiters= wait lines of that object; parked= is the number of wait lines;
      objects in path order. Prints "objects=N waits=M".
  inspect.py same STATUS STATUS_JSON
      status.json says what the text says (but the time of the snapshot).
  inspect.py json FILE
      FILE is valid JSON (UTF-8, as RFC 8259 wants).
"""
import json
import re
import sys

HEADER_KEYS = ["version", "time", "objects", "memory", "max_objects", "max_memory", "parked"]
HOLD_KEYS = ["path", "pid", "tid", "pgid", "comm", "units", "since"]
WAIT_KEYS = ["path", "pid", "tid", "pgid", "comm", "op", "units", "since"]
OBJ_FIXED = ["type", "path", "mode", "uid", "gid", "opens", "ops"]
TIME = re.compile(rb"^[0-9]+\.[0-9]{6}$")
NUM = re.compile(rb"^[0-9]+$")
INT = re.compile(rb"^-?[0-9]+$")


class Bad(Exception):
    pass


def unescape(b):
    return re.sub(rb"\\([0-3][0-7][0-7])", lambda m: bytes([int(m.group(1), 8)]), b)


def text(b):
    return unescape(b).decode("utf-8", "surrogateescape")


def tokens(line, lineno):
    out = []
    for t in line.split(b" "):
        if b"=" not in t[1:]:
            raise Bad("line %d: token %r is no key=value" % (lineno, t))
        k, v = t.split(b"=", 1)
        if not v or re.search(rb"[\x00-\x20\x7f]", v):
            raise Bad("line %d: bad value in %r" % (lineno, t))
        out.append((k.decode(), v))
    return out


def proc(kind, toks, lineno):
    keys = [k for k, _ in toks]
    want = HOLD_KEYS if kind == "hold" else WAIT_KEYS
    if keys != want:
        raise Bad("line %d: %s keys %s, expected %s" % (lineno, kind, keys, want))
    d = dict(toks)
    for k in ("pid", "tid", "pgid"):
        if not INT.match(d[k]):
            raise Bad("line %d: %s=%r" % (lineno, k, d[k]))
    if not NUM.match(d["units"]) or not TIME.match(d["since"]):
        raise Bad("line %d: units or since malformed" % lineno)
    p = {"pid": int(d["pid"]), "tid": int(d["tid"]), "pgid": int(d["pgid"]),
         "comm": text(d["comm"]), "units": int(d["units"]), "since": d["since"].decode()}
    if kind == "wait":
        p["op"] = d["op"].decode()
    return p


def parse(data):
    if not data.endswith(b"\n"):
        raise Bad("does not end with a newline")
    lines = data[:-1].split(b"\n")
    first = lines[0].split(b" ")
    if first[0] != b"ipcfs-status":
        raise Bad("no header: %r" % lines[0][:80])
    htoks = tokens(b" ".join(first[1:]), 1)
    if [k for k, _ in htoks] != HEADER_KEYS:
        raise Bad("header keys %s" % [k for k, _ in htoks])
    header = dict(htoks)
    if not TIME.match(header["time"]) or header["version"] != b"1":
        raise Bad("header: %r" % lines[0])
    objs, i, nwaits = [], 1, 0
    while i < len(lines):
        parts = lines[i].split(b" ", 1)
        if parts[0] != b"object" or len(parts) != 2:
            raise Bad("line %d: expected an object line: %r" % (i + 1, lines[i][:100]))
        toks = tokens(parts[1], i + 1)
        keys = [k for k, _ in toks]
        if keys[:7] != OBJ_FIXED or keys[-2:] != ["holders", "waiters"]:
            raise Bad("line %d: object keys %s" % (i + 1, keys))
        d = dict(toks)
        o = {"type": d["type"].decode(), "path": text(d["path"]), "rawpath": d["path"],
             "mode": d["mode"].decode(), "uid": int(d["uid"]), "gid": int(d["gid"]),
             "opens": int(d["opens"]), "ops": int(d["ops"]),
             "state": [(k, int(v)) for k, v in toks[7:-2]], "holders": [], "waiters": []}
        nh, nw = int(d["holders"]), int(d["waiters"])
        i += 1
        for kind, n, lst in (("hold", nh, o["holders"]), ("wait", nw, o["waiters"])):
            for _ in range(n):
                if i >= len(lines):
                    raise Bad("%s: %d %s lines announced, file ends" % (o["path"], n, kind))
                p = lines[i].split(b" ", 1)
                if p[0] != kind.encode() or len(p) != 2:
                    raise Bad("line %d: expected a %s line of %s: %r" %
                              (i + 1, kind, o["path"], lines[i][:100]))
                pt = tokens(p[1], i + 1)
                if pt[0] != ("path", d["path"]):
                    raise Bad("line %d: %s of another object" % (i + 1, kind))
                lst.append(proc(kind, pt, i + 1))
                i += 1
        nwaits += nw
        objs.append(o)
    if int(header["parked"]) != nwaits:
        raise Bad("parked=%s but %d wait lines" % (header["parked"].decode(), nwaits))
    paths = [o["path"].encode("utf-8", "surrogateescape") for o in objs]
    if paths != sorted(paths):
        raise Bad("objects not in path order")
    return header, objs, nwaits


def check(argv):
    data = open(argv[0], "rb").read()
    header, objs, nwaits = parse(data)
    byp = {o["path"]: o for o in objs}
    args = argv[1:]
    while args:
        opt = args.pop(0)
        if opt == "--since-window":
            t0, t1 = float(args.pop(0)), float(args.pop(0))
            times = [float(header["time"])] + [float(p["since"]) for o in objs
                                               for p in o["holders"] + o["waiters"]]
            for t in times:
                if not t0 <= t <= t1:
                    raise Bad("time %.6f outside [%.6f, %.6f]" % (t, t0, t1))
        elif opt == "--waiters":
            path, n = args.pop(0).rsplit("=", 1)
            o = byp.get(path)
            got = len(o["waiters"]) if o else None
            if got != int(n):
                raise Bad("%s: %s waiters, expected %s" % (path, got, n))
            if any(w["op"] != "P" or w["units"] != 1 for w in o["waiters"]):
                raise Bad("%s: a waiter other than P(1)" % path)
        elif opt == "--conserved":
            # value + units held = N: the count and the holders come from one instant
            path, n = args.pop(0).rsplit("=", 1)
            o = byp[path]
            total = dict(o["state"])["value"] + sum(h["units"] for h in o["holders"])
            if total != int(n):
                raise Bad("%s: value + held = %d, expected %s (%s)" % (path, total, n, o))
        else:
            raise Bad("unknown option %s" % opt)
    print("objects=%d waits=%d" % (len(objs), nwaits))


def same(argv):
    header, objs, _ = parse(open(argv[0], "rb").read())
    raw = open(argv[1], "rb").read()
    j = json.loads(raw, parse_float=str)
    if j["version"] != 1 or j["incomplete"] is not False:
        raise Bad("json version or incomplete: %r %r" % (j["version"], j["incomplete"]))
    totals = {k: int(header[k]) for k in HEADER_KEYS[2:]}
    if j["totals"] != totals:
        raise Bad("totals: json %r, text %r" % (j["totals"], totals))
    if not TIME.match(j["time"].encode()):
        raise Bad("json time %r" % j["time"])
    if len(j["objects"]) != len(objs):
        raise Bad("%d objects in json, %d in text" % (len(j["objects"]), len(objs)))
    for t, o in zip(objs, j["objects"]):
        want = {k: t[k] for k in ("type", "path", "mode", "uid", "gid", "opens", "ops",
                                  "holders", "waiters")}
        got = {k: o[k] for k in want}
        if got != want or list(o["state"].items()) != t["state"] or len(o) != 10:
            raise Bad("object differs:\n json %r\n text %r" % (o, t))
    print("same %d objects" % len(objs))


def main():
    try:
        if sys.argv[1] == "check":
            check(sys.argv[2:])
        elif sys.argv[1] == "same":
            same(sys.argv[2:])
        elif sys.argv[1] == "json":
            json.loads(open(sys.argv[2], "rb").read())
            print("valid")
    except (Bad, ValueError, KeyError) as e:
        print("%s: %s" % (type(e).__name__, e))
        sys.exit(1)


main()
PYTHON

# ---- helpers ----

comm_is() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; } # PID COMM
pgid_of() { ps -o pgid= -p "$1" | tr -d ' '; }
# reap PID...: end background processes of a test and wait for them (no "Terminated" noise)
reap() {
	kill "$@" 2>/dev/null
	{ wait "$@"; } 2>/dev/null
	return 0
}
# view FILE [COMMAND...]: FILE of the view on the stdin of COMMAND (cat by default), kept open
# 20 ms longer: a close right after a read that returned bytes can make a sanitizer build of
# the daemon abort (see test_inspect_partial_reads_then_close, which does just that), and only
# that test should fail for it.
view() {
	local f=$1
	shift
	{
		"${@:-cat}"
		sleep 0.02
	} <".ipcfs/$f"
}
# records PATH: the lines of the object at PATH (escaped as in the view) in a fresh status,
# each without its since=T. The path goes through the environment: awk -v would unescape it.
records() {
	P="path=$1" view status awk '($1 == "object" && $3 == ENVIRON["P"]) ||
		(($1 == "hold" || $1 == "wait") && $2 == ENVIRON["P"])' |
		sed -E 's/ since=[0-9]+\.[0-9]{6}$//; s/ ops=[0-9]+ / /'
}
header_field() { view status sed -n 1p | tr ' ' '\n' | sed -n "s/^$1=//p"; } # KEY
# the status without the header's time: what must not change
status_but_time() { view status sed -E '1s/ time=[0-9.]+//'; }
# every entry below the type directories (objects and directories: what objects= counts)
entries() { find sem mutex fifo mq shm -mindepth 1 -printf x | wc -c; }
check_status() { # FILE [OPTIONS...]: python3 $PY check; fails the test with its message
	local out
	out=$(python3 "$PY" check "$@") || fail "status does not parse: $out"
}

# ---- the status text ----

# Each type's object line, holders and waiters, with their exact fields; names escaped as in
# /proc/mounts; the header's totals.
test_inspect_status_lines_of_every_type() {
	umask 022
	local u g h w1 w2 mh mw fr fw qs qr m1 m2 t0 hdr n
	u=$(id -u)
	g=$(id -g)
	t0=$EPOCHREALTIME
	cp /bin/sleep "$WORK/my prog" # a command name with a space
	# semaphore: a holder of 2 units (then running as "my prog"), a P(1) and a P(3) parked
	echo 2 > sem/s1
	bash -c 'echo -2 > sem/s1; exec "$1" 60' _ "$WORK/my prog" &
	h=$!
	wait_until 5 comm_is "$h" "my prog" || fail "the holder never took its units"
	"$CB" sem/s1 open read >/dev/null &
	w1=$!
	wait_blocked "$w1" sem/s1
	"$CB" -w sem/s1 open write:-3 >/dev/null &
	w2=$!
	wait_blocked "$w2" sem/s1
	# mutex: held by a process running "my prog", one open waiting
	touch mutex/m1
	bash -c 'exec 9<mutex/m1; exec "$1" 60' _ "$WORK/my prog" &
	mh=$!
	wait_until 5 comm_is "$mh" "my prog" || fail "the mutex holder never started"
	"$CB" mutex/m1 open >/dev/null &
	mw=$!
	wait_blocked "$mw" mutex/m1
	# FIFOs: a reader parked on an empty one; a writer of 4 bytes parked on one with 2 free
	touch fifo/r fifo/w fifo/d
	"$CB" fifo/r open read >/dev/null &
	fr=$!
	wait_blocked "$fr" fifo/r
	setfattr -n user.capacity -v 8 fifo/w
	printf abcdef > fifo/w
	"$CB" -w fifo/w open write:0123 >/dev/null &
	fw=$!
	wait_blocked "$fw" fifo/w
	# message queues: a full one with four messages and a parked send; an empty one with a
	# parked receive
	touch mq/full mq/empty
	setfattr -n user.max_msgs -v 4 mq/full
	setfattr -n user.msgsize -v 100 mq/full
	echo a > mq/full
	echo bb > mq/full@7
	echo c > mq/full@7
	echo dddd > mq/full@31
	"$CB" -w mq/full open write:eeeee >/dev/null &
	qs=$!
	wait_blocked "$qs" mq/full
	"$CB" mq/empty open read >/dev/null &
	qr=$!
	wait_blocked "$qr" mq/empty
	# a FIFO with bytes and a writer that keeps it open (after the children: not inherited)
	exec 7>fifo/d
	printf xyz >&7
	# shared memory: 10000 bytes, then one page written, then another
	truncate -s 10000 shm/z
	expect_eq "$(records /shm/z)" "object type=shm path=/shm/z mode=0644 uid=$u gid=$g opens=0 \
size=10000 memory=0 holders=0 waiters=0" "shm/z, all holes"
	printf x | dd of=shm/z conv=notrunc status=none
	m1=$(header_field memory)
	printf y | dd of=shm/z bs=1 seek=8192 conv=notrunc status=none
	m2=$(header_field memory)
	expect_eq "$((m2 - m1))" 4096 "header memory= after a page of shm/z was written"
	# names that need escaping
	mkdir "sem/dir x"
	touch "sem/a b" "sem/dir x/t"$'\t'"n"$'\n'"b\\s"

	expect_eq "$(records /sem/s1)" "object type=sem path=/sem/s1 mode=0644 uid=$u gid=$g opens=2 \
value=0 available=0 holders=1 waiters=2
hold path=/sem/s1 pid=$h tid=$h pgid=$(pgid_of "$h") comm=my\\040prog units=2
wait path=/sem/s1 pid=$w1 tid=$w1 pgid=$(pgid_of "$w1") comm=client_block op=P units=1
wait path=/sem/s1 pid=$w2 tid=$w2 pgid=$(pgid_of "$w2") comm=client_block op=P units=3" "sem/s1"
	expect_eq "$(records /mutex/m1)" "object type=mutex path=/mutex/m1 mode=0644 uid=$u gid=$g \
opens=2 locked=1 available=0 holders=1 waiters=1
hold path=/mutex/m1 pid=$mh tid=$mh pgid=$(pgid_of "$mh") comm=my\\040prog units=1
wait path=/mutex/m1 pid=$mw tid=$mw pgid=$(pgid_of "$mw") comm=client_block op=lock units=1" \
		"mutex/m1"
	expect_eq "$(records /fifo/r)" "object type=fifo path=/fifo/r mode=0644 uid=$u gid=$g opens=1 \
bytes=0 capacity=65536 writers=0 holders=0 waiters=1
wait path=/fifo/r pid=$fr tid=$fr pgid=$(pgid_of "$fr") comm=client_block op=read units=4096" \
		"fifo/r: a parked reader"
	expect_eq "$(records /fifo/w)" "object type=fifo path=/fifo/w mode=0644 uid=$u gid=$g opens=1 \
bytes=6 capacity=8 writers=1 holders=0 waiters=1
wait path=/fifo/w pid=$fw tid=$fw pgid=$(pgid_of "$fw") comm=client_block op=write units=4" \
		"fifo/w: a parked writer"
	expect_eq "$(records /fifo/d)" "object type=fifo path=/fifo/d mode=0644 uid=$u gid=$g opens=1 \
bytes=3 capacity=65536 writers=1 holders=0 waiters=0" "fifo/d: bytes and an open writer"
	expect_eq "$(records /mq/full)" "object type=mq path=/mq/full mode=0644 uid=$u gid=$g opens=1 \
messages=4 bytes=12 msgsize=100 max_msgs=4 prio.31=1 prio.7=2 prio.0=1 holders=0 waiters=1
wait path=/mq/full pid=$qs tid=$qs pgid=$(pgid_of "$qs") comm=client_block op=send units=5" \
		"mq/full: messages per priority and a parked send"
	expect_eq "$(records /mq/empty)" "object type=mq path=/mq/empty mode=0644 uid=$u gid=$g \
opens=1 messages=0 bytes=0 msgsize=8192 max_msgs=1024 holders=0 waiters=1
wait path=/mq/empty pid=$qr tid=$qr pgid=$(pgid_of "$qr") comm=client_block op=recv units=4096" \
		"mq/empty: a parked receive"
	expect_eq "$(records /shm/z)" "object type=shm path=/shm/z mode=0644 uid=$u gid=$g opens=0 \
size=10000 memory=8192 holders=0 waiters=0" "shm/z, two pages written"
	expect_eq "$(records '/sem/a\040b')" "object type=sem path=/sem/a\\040b mode=0644 uid=$u \
gid=$g opens=0 value=0 available=0 holders=0 waiters=0" "a name with a space"
	expect_eq "$(records '/sem/dir\040x/t\011n\012b\134s' | wc -l)" 1 \
		"a name with a tab, a newline and a backslash, in a directory with a space"

	view status >"$WORK/status"
	hdr=$(head -1 "$WORK/status")
	[[ $hdr =~ ^ipcfs-status\ version=1\ time=[0-9]+\.[0-9]{6}\ objects=([0-9]+)\ memory=([0-9]+)\ max_objects=$MAX_OBJECTS\ max_memory=$MAX_MEMORY\ parked=([0-9]+)$ ]] ||
		fail "header: $hdr"
	expect_eq "${BASH_REMATCH[1]}" "$(entries)" "objects= (objects and directories)"
	[ "${BASH_REMATCH[2]:-0}" -ge "$m2" ] || fail "memory=${BASH_REMATCH[2]} below $m2"
	expect_eq "${BASH_REMATCH[3]}" 7 "parked= (2 P, a lock, a FIFO read and write, a send, a receive)"
	n=$(grep -c '^wait ' "$WORK/status")
	expect_eq "$n" 7 "wait lines"
	check_status "$WORK/status" --since-window "$t0" "$EPOCHREALTIME"
	exec 7>&-
	reap "$h" "$w1" "$w2" "$mh" "$mw" "$fr" "$fw" "$qs" "$qr"
}

# ---- no side effects ----

# sizes: the state of the objects of the next test, as the files themselves show it
sizes() { stat -c '%n %s' sem/ne sem/nv fifo/ne fifo/nv mq/ne mq/nv; }

test_inspect_reading_has_no_side_effects() {
	local a b fr qr f before
	touch sem/ne sem/nv fifo/ne fifo/nv mq/ne mq/nv
	echo 3 > sem/nv
	printf 'abc\n' > fifo/nv
	printf 'def\n' > fifo/nv
	echo 1 > mq/nv
	echo 2 > mq/nv@5
	echo 3 > mq/nv
	"$CB" sem/ne open read >/dev/null &
	a=$!
	wait_blocked "$a" sem/ne
	"$CB" sem/ne open read >/dev/null &
	b=$!
	wait_blocked "$b" sem/ne
	cat fifo/ne >"$WORK/fifo.out" &
	fr=$!
	wait_blocked "$fr" fifo/ne
	cat mq/ne >"$WORK/mq.out" &
	qr=$!
	wait_blocked "$qr" mq/ne
	before=$(status_but_time)
	sizes >"$WORK/sizes.before"
	grep -q '^wait path=/sem/ne ' <<<"$before" || fail "no waiter of sem/ne in the status"

	# every file of the view, whole and in pieces, at offsets, polled, several times
	for _ in 1 2 3; do
		for f in status status.json deadlock graph.dot; do
			view "$f" timeout 5 cat >/dev/null || fail "cat .ipcfs/$f"
			view "$f" timeout 5 grep -c . >/dev/null || fail "grep .ipcfs/$f"
			view "$f" timeout 5 dd bs=7 skip=3 status=none >/dev/null || fail "dd .ipcfs/$f"
		done
	done
	timeout 10 python3 -c '
import os, select, sys, time
for f in sys.argv[1:]:
    fd = os.open(f, os.O_RDONLY | os.O_NONBLOCK)
    p = select.poll(); p.register(fd, select.POLLIN)
    assert p.poll(1000), f + " not readable"
    whole = b""
    while True:
        b = os.read(fd, 100)
        if not b:
            break
        whole += b
    assert os.pread(fd, 20, 5) == whole[5:25], f + ": pread at 5 differs"
    assert os.pread(fd, 20, len(whole)) == b"", f + ": pread at the end"
    time.sleep(0.02)
    os.close(fd)
' .ipcfs/status .ipcfs/status.json .ipcfs/deadlock .ipcfs/graph.dot || fail "python reads"
	ls -la .ipcfs >/dev/null

	for pid in "$a" "$b" "$fr" "$qr"; do
		blocked "$pid" || fail "pid $pid was woken by reading the view"
	done
	expect_eq "$(status_but_time)" "$before" "the status after reading the view"
	expect_eq "$(sizes)" "$(cat "$WORK/sizes.before")" "sizes after reading the view"
	# and now each parked call is served as it would have been, in order
	echo > sem/ne
	wait_exit "$a" 2000
	expect_eq "$RC" 0 "the first P, after one V"
	sleep 0.05
	blocked "$b" || fail "the second P went first or too"
	echo > sem/ne
	wait_exit "$b" 2000
	expect_eq "$(size sem/ne):$(size sem/nv)" "0:3" "counts of sem/ne and sem/nv"
	echo x > fifo/ne
	wait_exit "$fr" 2000
	expect_eq "$(cat "$WORK/fifo.out")" x "what the parked FIFO reader got"
	echo y > mq/ne
	wait_exit "$qr" 2000
	expect_eq "$(cat "$WORK/mq.out")" y "what the parked receiver got"
	expect_eq "$(timeout 2 cat fifo/nv)" "abc
def" "the FIFO's bytes"
	expect_eq "$(timeout 2 cat mq/nv) $(timeout 2 cat mq/nv) $(timeout 2 cat mq/nv)" "2 1 3" \
		"the queue's messages, in priority order"
	expect_eq "$(size mq/nv)" 0 "messages left"
}

# ---- JSON ----

test_inspect_status_json_matches_the_text() {
	local h w q out
	cp /bin/sleep "$WORK/q\"u \\te"
	mkdir mutex/j
	touch 'mutex/j/a "quoted" \name' "mutex/j/tab"$'\t'"nl"$'\n'"é" sem/j
	bash -c 'exec 9<"$1"; exec "$2" 60' _ 'mutex/j/a "quoted" \name' "$WORK/q\"u \\te" &
	h=$!
	wait_until 5 comm_is "$h" 'q"u \te' || fail "the holder never started"
	"$CB" 'mutex/j/a "quoted" \name' open >/dev/null &
	w=$!
	wait_blocked "$w" 'mutex/j/a "quoted" \name'
	echo 5 > sem/j
	bash -c 'echo -2 > sem/j; exec sleep 60' &
	q=$!
	wait_until 5 comm_is "$q" sleep || fail "the semaphore holder never started"
	view status >"$WORK/status"
	view status.json >"$WORK/status.json"
	out=$(python3 "$PY" same "$WORK/status" "$WORK/status.json") ||
		fail "status.json and status differ: $out"
	reap "$h" "$w" "$q"
}

# comm= is the command name as the kernel keeps it (/proc/PID/comm), escaped once like paths:
# backslashes and newlines included.
test_inspect_command_names_with_backslash_and_newline() {
	local h w
	cp /bin/sleep "$WORK/b\\s"$'\n'"x"
	touch mutex/cn
	bash -c 'exec 9<mutex/cn; exec "$1" 60' _ "$WORK/b\\s"$'\n'"x" &
	h=$!
	wait_until 5 comm_is "$h" "b\\s"$'\n'"x" || fail "the holder never started"
	"$CB" mutex/cn open >/dev/null &
	w=$!
	wait_blocked "$w" mutex/cn
	expect_eq "$(records /mutex/cn | grep '^hold ' | cut -d' ' -f6)" 'comm=b\134s\012x' \
		"the holder's comm= in the status"
	view status.json >"$WORK/status.json"
	expect_eq "$(python3 -c 'import json, sys
for o in json.load(open(sys.argv[1], "rb"))["objects"]:
    if o["path"] == "/mutex/cn":
        print(repr(o["holders"][0]["comm"]))' "$WORK/status.json")" "'b\\\\s\\nx'" \
		"the holder's comm in status.json"
	reap "$h" "$w"
	rm mutex/cn
}

# Names are bytes; JSON is UTF-8 text: whatever the names, status.json must stay JSON.
test_inspect_status_json_valid_with_non_utf8_names() {
	local out
	touch "sem/$(printf 'bad\xffname')"
	view status.json >"$WORK/status.json"
	out=$(python3 "$PY" json "$WORK/status.json") ||
		fail "status.json is not valid JSON with a name that is not UTF-8: $out"
	rm "sem/$(printf 'bad\xffname')"
}

# ---- read-only ----

test_inspect_view_is_read_only_even_for_root() {
	local out
	[ "$(id -u)" = 0 ] || say "not root: the checks hold for any user, root is the interesting one"
	expect_eq "$(LC_ALL=C ls -a | tr '\n' ' ')" ". .. .ipcfs barrier event fifo mq mutex rwlock sem shm " \
		"ls -a of the root"
	expect_eq "$(ls | grep -c ipcfs)" 0 "ls without -a hides the view"
	expect_eq "$(LC_ALL=C ls .ipcfs | tr '\n' ' ')" "deadlock graph.dot status status.json " \
		"ls .ipcfs"
	expect_eq "$(stat -c '%A' .ipcfs .ipcfs/status | tr '\n' ' ')" "dr-xr-xr-x -r--r--r-- " "modes"
	touch sem/ro
	out=$(python3 - <<'PY'
import errno, os
def tr(what, f):
    try:
        f()
        r = "ok"
    except OSError as e:
        r = errno.errorcode[e.errno]
    print(what, r)
for f in ("status", "status.json", "deadlock", "graph.dot"):
    p = ".ipcfs/" + f
    tr("wronly " + f, lambda: os.open(p, os.O_WRONLY))
    tr("rdwr " + f, lambda: os.open(p, os.O_RDWR))
    tr("append " + f, lambda: os.open(p, os.O_WRONLY | os.O_APPEND))
tr("create", lambda: os.open(".ipcfs/new", os.O_WRONLY | os.O_CREAT, 0o644))
tr("mkdir", lambda: os.mkdir(".ipcfs/d"))
tr("mknod", lambda: os.mknod(".ipcfs/n"))
tr("symlink", lambda: os.symlink("status", ".ipcfs/l"))
tr("link", lambda: os.link(".ipcfs/status", ".ipcfs/l"))
tr("unlink", lambda: os.unlink(".ipcfs/status"))
tr("rename", lambda: os.rename(".ipcfs/status", ".ipcfs/s2"))
tr("rename-over", lambda: os.rename(".ipcfs/status", ".ipcfs/deadlock"))
tr("rename-out", lambda: os.rename(".ipcfs/status", "sem/s2"))
tr("rename-in", lambda: os.rename("sem/ro", ".ipcfs/ro"))
tr("rename-view", lambda: os.rename(".ipcfs", "view"))
tr("rmdir", lambda: os.rmdir(".ipcfs"))
PY
)
	expect_eq "$out" "wronly status EACCES
rdwr status EACCES
append status EACCES
wronly status.json EACCES
rdwr status.json EACCES
append status.json EACCES
wronly deadlock EACCES
rdwr deadlock EACCES
append deadlock EACCES
wronly graph.dot EACCES
rdwr graph.dot EACCES
append graph.dot EACCES
create EPERM
mkdir EPERM
mknod EPERM
symlink EPERM
link EPERM
unlink EPERM
rename EPERM
rename-over EPERM
rename-out EPERM
rename-in EPERM
rename-view EPERM
rmdir EPERM" "what the view refuses"
	expect_eq "$(LC_ALL=C ls .ipcfs | tr '\n' ' ')" "deadlock graph.dot status status.json " \
		"ls .ipcfs afterwards"
	[ -f sem/ro ] || fail "sem/ro is gone"
	expect_eq "$(view status sed -n '1s/ .*//p')" ipcfs-status "the view still reads"
	rm sem/ro
}

# ---- under load ----

test_inspect_status_consistent_under_load() {
	local pids=() loops=() i t0 dt max=0 out per all
	per=$(scaled 2500) # 10,000 callers (2,000 under a sanitizer: lib.sh)
	all=$((4 * per))
	touch sem/big
	echo 2 > sem/pv
	for i in 1 2 3 4; do
		"$SCALE" sem/big "$per" >"$WORK/scale.$i" 2>&1 &
		pids[i]=$!
	done
	# 10,000 threads take over a minute to start under ThreadSanitizer (client_scale.c): the
	# load below starts once they all wait, so as not to slow that down further
	for i in 1 2 3 4; do
		wait_until 160 grep -q 'blocked\|stuck' "$WORK/scale.$i" ||
			fail "the callers of process $i never blocked"
	done
	# P/V on another semaphore, and objects made and removed, while the snapshots are taken
	for i in 1 2 3; do
		bash -c 'while :; do read -r < sem/pv; echo > sem/pv; done' 2>/dev/null &
		loops+=($!)
	done
	bash -c 'while :; do touch sem/churn mutex/churn; rm -f sem/churn mutex/churn; done' \
		2>/dev/null &
	loops+=($!)
	timeout 10 stat sem/big >/dev/null || fail "a stat queued behind the waiters never answered"
	for i in 1 2 3 4 5; do
		t0=$(now_ms)
		view status timeout 20 cat >"$WORK/status.$i" || fail "read $i of the status"
		dt=$(($(now_ms) - t0))
		[ "$dt" -gt "$max" ] && max=$dt
		check_status "$WORK/status.$i" --waiters /sem/big=$all --conserved /sem/pv=2
	done
	out=$(view deadlock timeout 20 cat | grep '^Verdict' | cut -d';' -f1) ||
		fail "read of .ipcfs/deadlock"
	expect_eq "$out" "Verdict: no deadlock" "deadlock verdict with $all waiters"
	say "status with $all parked callers: $(wc -l <"$WORK/status.1") lines, reads took at most $max ms"
	[ "$max" -lt 10000 ] || fail "a read of the status took $max ms"
	reap "${loops[@]}"
	echo "$all" > sem/big
	for i in 1 2 3 4; do
		wait_exit "${pids[i]}" 30000
		expect_eq "$RC:$(tr '\n' ' ' <"$WORK/scale.$i")" "0:blocked $per returned $per 0 " \
			"the callers of process $i"
	done
	expect_eq "$(records /sem/big)" "object type=sem path=/sem/big mode=0644 uid=$(id -u) \
gid=$(id -g) opens=0 value=0 available=0 holders=0 waiters=0" "sem/big once all were served"
}

# ---- semaphore holders ----

# tell the holder below to go on, and wait for its answer
step() {
	echo go > mq/hgo
	expect_eq "$(timeout 5 cat mq/hack)" "$1" "the holder's step"
}
hold_line() { records /sem/h | grep '^hold ' | cut -d' ' -f3,5-; } # pid=... units=..., no tid/path

test_inspect_semaphore_holders() {
	local h pg
	touch sem/h mq/hgo mq/hack
	echo 5 > sem/h
	# a shell whose own reads and writes (builtins) are the P's and V's
	bash -c 'echo -2 > sem/h; echo took2 > mq/hack; read -r _ < mq/hgo
		echo 1 > sem/h; echo gave1 > mq/hack; read -r _ < mq/hgo
		read -r < sem/h; echo took1 > mq/hack; read -r _ < mq/hgo
		echo 3 > sem/h; echo gave3 > mq/hack; read -r _ < mq/hgo' &
	h=$!
	pg=$(pgid_of "$h")
	expect_eq "$(timeout 5 cat mq/hack)" took2 "the holder's first step"
	expect_eq "$(hold_line)" "pid=$h pgid=$pg comm=bash units=2" "after P(2)"
	expect_eq "$(size sem/h)" 3 "count after P(2)"
	echo > sem/h # a V by another process
	expect_eq "$(hold_line)" "pid=$h pgid=$pg comm=bash units=2" "after a V by another process"
	expect_eq "$(size sem/h)" 4 "count after that V"
	cat sem/h # a P by a process that exits at once
	expect_eq "$(hold_line)" "pid=$h pgid=$pg comm=bash units=2" "after a P by a process gone"
	step gave1
	expect_eq "$(hold_line)" "pid=$h pgid=$pg comm=bash units=1" "after V(1) by the holder"
	step took1
	expect_eq "$(hold_line)" "pid=$h pgid=$pg comm=bash units=2" "after one more P(1)"
	step gave3 # more than it holds: the rest adds to the count
	expect_eq "$(hold_line)" "" "after V(3) by the holder of 2"
	expect_eq "$(size sem/h)" 6 "count after V(3)"
	echo -2 > sem/h # this shell takes 2 ...
	expect_eq "$(records /sem/h | grep -c '^hold ')" 1 "holders after this shell's P(2)"
	echo go > mq/hgo
	wait_exit "$h" 2000
	expect_eq "$(records /sem/h | head -1 | grep -o 'holders=[0-9]*')" holders=1 \
		"the holder exited: only this shell is left"
	# ... and a holder that exits without giving back disappears from the next status
	bash -c 'echo -3 > sem/h' &
	h=$!
	wait_exit "$h" 2000
	expect_eq "$(records /sem/h | grep '^hold ' | grep -c "pid=$h ")" 0 "an exited holder"
	expect_eq "$(records /sem/h | head -1 | grep -o 'value=[0-9]*')" value=1 "count"
	echo 2 > sem/h
	rm sem/h mq/hgo mq/hack
}

# ---- user.paused ----

test_inspect_semaphore_paused() {
	local a b c d out
	touch sem/pz
	setfattr -n user.paused -v 1 sem/pz
	expect_eq "$(getfattr -n user.paused --only-values sem/pz)" 1 "getfattr while paused"
	echo 3 > sem/pz
	expect_eq "$(size sem/pz)" 3 "a V adds while paused"
	"$CB" sem/pz open read >"$WORK/a" &
	a=$!
	wait_blocked "$a" sem/pz
	"$CB" -H USR1 sem/pz open read >"$WORK/b" &
	b=$!
	wait_blocked "$b" sem/pz
	"$CB" -w sem/pz open write:-2 >"$WORK/c" &
	c=$!
	wait_blocked "$c" sem/pz
	"$CB" sem/pz open read >"$WORK/d" &
	d=$!
	wait_blocked "$d" sem/pz
	expect_eq "$(records /sem/pz | sed -E 's/ (pid|tid|pgid)=[0-9]+//g')" "object type=sem \
path=/sem/pz mode=0644 uid=$(id -u) gid=$(id -g) opens=4 value=3 paused=1 available=3 holders=0 \
waiters=4
wait path=/sem/pz comm=client_block op=P units=1
wait path=/sem/pz comm=client_block op=P units=1
wait path=/sem/pz comm=client_block op=P units=2
wait path=/sem/pz comm=client_block op=P units=1" "the status while paused: P's that fit wait"
	expect_rc 124 "a P with 3 units there, paused" -- timeout 0.3 cat sem/pz
	expect_eq "$("$CB" -n sem/pz open read)" "open ok
read EAGAIN" "a non-blocking P while paused"
	kill -USR1 "$b"
	wait_exit "$b" 1000
	expect_eq "$RC:$(tail -1 "$WORK/b")" "4:read EINTR" "a waiter interrupted while paused"
	expect_eq "$(size sem/pz)" 3 "count after the interrupted and timed-out P's"
	expect_eq "$(records /sem/pz | head -1 | grep -o 'waiters=[0-9]*')" waiters=3 "waiters left"
	expect_err "Invalid argument" "user.paused=2" -- setfattr -n user.paused -v 2 sem/pz
	# resume: a P(1), then the P(2); the P(1) behind waits for lack of units
	setfattr -n user.paused -v 0 sem/pz
	expect_eq "$(getfattr -n user.paused --only-values sem/pz)" 0 "getfattr once resumed"
	wait_exit "$a" 2000
	expect_eq "$RC" 0 "the first waiter, once resumed"
	wait_exit "$c" 2000
	expect_eq "$RC" 0 "the P(2), once resumed"
	sleep 0.05
	blocked "$d" || fail "the last P(1) was served with no unit left"
	expect_eq "$(size sem/pz)" 0 "count once resumed"
	expect_eq "$(records /sem/pz | head -1 | grep -c paused)" 0 "no paused= once resumed"
	echo > sem/pz
	wait_exit "$d" 2000
	expect_eq "$RC:$(size sem/pz)" "0:0" "the last waiter with the next V"
}

# ---- deadlock ----

verdict() { view deadlock grep '^Verdict'; }
verdict_is() { verdict | grep -q "^$1"; } # PREFIX

test_inspect_deadlock_of_two_shell_processes() {
	local p1 p2 first second
	mkdir mutex/dl mq/dl
	touch mutex/dl/a mutex/dl/b mq/dl/go
	bash -c 'exec 8<mutex/dl/a; read -r _ < mq/dl/go; exec 9<mutex/dl/b' &
	p1=$!
	bash -c 'exec 8<mutex/dl/b; read -r _ < mq/dl/go; exec 9<mutex/dl/a' &
	p2=$!
	if ! wait_until 5 size_is 1 mutex/dl/a || ! wait_until 5 size_is 1 mutex/dl/b; then
		fail "the two did not take their first mutex"
	fi
	expect_eq "$(verdict)" "Verdict: no deadlock; the processes can \
finish in the order P1 P2" "each holding one mutex, waiting for none"
	echo go > mq/dl/go
	echo go > mq/dl/go
	wait_until 5 verdict_is 'Verdict: DEADLOCK' || fail "no deadlock seen"
	view deadlock >"$WORK/deadlock"
	if [ "$p1" -lt "$p2" ]; then
		first="P1 pid $p1 bash holds /mutex/dl/a; waits for /mutex/dl/b"
		second="P2 pid $p2 bash holds /mutex/dl/b; waits for /mutex/dl/a"
	else
		first="P1 pid $p2 bash holds /mutex/dl/b; waits for /mutex/dl/a"
		second="P2 pid $p1 bash holds /mutex/dl/a; waits for /mutex/dl/b"
	fi
	expect_eq "$(sed -n '/^Verdict/,$p' "$WORK/deadlock")" "Verdict: DEADLOCK of 2 processes:
  $first
  $second" "the verdict"
	grep -qx 'E = (1 1)' "$WORK/deadlock" || fail "E: $(grep '^E' "$WORK/deadlock")"
	grep -qx 'A = (0 0)' "$WORK/deadlock" || fail "A: $(grep '^A' "$WORK/deadlock")"
	expect_eq "$(view graph.dot grep -c 'color=red, penwidth=2')" 4 "edges of the cycle in graph.dot"
	reap "$p1" "$p2"
	wait_until 5 verdict_is 'Verdict: no deadlock' || fail "still: $(verdict)"
	expect_eq "$(view graph.dot grep -c 'color=red')" 0 "graph.dot once they are gone"
	rm -r mutex/dl mq/dl
}

# ---- reading part of a file ----

# A reader may close a view file right after a read that returned bytes (head -c, grep -q, a
# program that reads a header): the daemon must stay up, and the file readable.
test_inspect_partial_reads_then_close() {
	local i
	for i in $(seq 20); do
		head -c 10 .ipcfs/status >/dev/null || fail "head -c 10 .ipcfs/status, time $i"
		grep -q '^ipcfs-status ' .ipcfs/status || fail "grep -q .ipcfs/status, time $i"
		head -c 100 .ipcfs/status.json >/dev/null || fail "head .ipcfs/status.json, time $i"
		head -n 1 .ipcfs/deadlock >/dev/null || fail "head .ipcfs/deadlock, time $i"
		[ "$T_CUR_FAILED" = 0 ] || break
	done
	mounted || fail "the daemon is gone"
	expect_eq "$(view status sed -n '1s/ .*//p' 2>&1)" ipcfs-status "the status afterwards"
}

mount_ipcfs -o max_objects=$MAX_OBJECTS -o max_memory=512M
run_test test_inspect_status_lines_of_every_type 30
run_test test_inspect_reading_has_no_side_effects 30
run_test test_inspect_status_json_matches_the_text 30
run_test test_inspect_status_json_valid_with_non_utf8_names 30
run_test test_inspect_command_names_with_backslash_and_newline 30
run_test test_inspect_view_is_read_only_even_for_root 30
run_test test_inspect_status_consistent_under_load 300
run_test test_inspect_semaphore_holders 30
run_test test_inspect_semaphore_paused 30
run_test test_inspect_deadlock_of_two_shell_processes 30
run_test test_inspect_partial_reads_then_close 30
finish
