#!/bin/bash
# it_shm.sh - shared-memory segments through the mounted filesystem: a file in memory (sizes,
# holes, any offset, O_TRUNC/O_APPEND, st_blocks), mmap(MAP_SHARED) between processes with lib/
# mutexes and semaphores inside, lifetime (rm, unmount), the -o caps, and the coherence of the
# kernel's page cache with the daemon's copy. Driven with shell tools and, for memory stores and
# loads, tests/client_shm_map.c (one process's steps) and tests/client_shm_sync.c (several).
source "$(dirname "$0")/lib.sh"

MAP=$BUILD_DIR/tests/client_shm_map
SYNC=$BUILD_DIR/tests/client_shm_sync

size() { stat -c %s "$1"; }
blocks() { stat -c %b "$1"; }
zeros() { head -c "$1" /dev/zero; }
# The daemon's copy: an O_DIRECT read goes to the daemon (the kernel first writes back what is
# dirty in its cache, as it would on memory pressure), not to the page cache.
direct() { dd if="$1" iflag=direct bs=1M status=none; }
# Make the kernel drop its cached pages of FILE (those nobody maps): the next read asks the
# daemon.
drop_cache() { dd if="$1" iflag=nocache count=0 status=none; }
# An expected-content file in $WORK.
ref() { cat >"$WORK/$1"; }

# bg_map OUT PATH STEP...: run client_shm_map in the background (pid in BG), and return once it
# has printed "paused" as many times as there are pause steps up to the first one.
bg_map() {
	local out=$1
	shift
	: >"$out" # now: the job's own redirection may come after paused looks at OUT
	"$MAP" "$@" >"$out" 2>&1 &
	BG=$!
	paused "$out" 1 || fail "client_shm_map $* never paused: $(tr '\n' ' ' <"$out")"
}
# paused OUT N: wait until the client writing OUT has paused N times.
paused() { wait_until 5 eval "[ \"\$(grep -c '^paused' '$1')\" -ge $2 ]"; }
# resume PID: let a paused client go on.
resume() { kill -USR1 "$1"; }
# finish_bg PID: wait for a client (bounded by its own 20 s alarm); its exit status.
finish_bg() {
	wait "$1"
}
# the lines of OUT that start with WORD
lines() { grep "^$2" "$1"; }
# note TEXT: show a client's report as TAP comments, every line of it
note() { sed 's/^/# /' <<<"$1"; }

# ---- a file in memory ----

test_shm_created_empty() {
	touch shm/s
	expect_eq "$(stat -c '%s %b %F' shm/s)" "0 0 regular empty file" "a new segment (touch)"
	expect_eq "$(wc -c <shm/s)" 0 "bytes read from a new segment"
	expect_eq "$("$MAP" shm/n open:c stat | grep ^stat=)" "stat=0 0 1" "open(O_CREAT): size blocks nlink"
}

test_shm_truncate_sizes_and_holes_read_zeros() {
	touch shm/s
	truncate -s 10000 shm/s
	expect_eq "$(size shm/s):$(blocks shm/s)" 10000:0 "truncate -s 10000: size, and a hole costs nothing"
	cmp -s shm/s <(zeros 10000) || fail "a hole does not read as zeros"
	cmp -s <(direct shm/s) <(zeros 10000) || fail "a hole does not read as zeros in the daemon"
	printf X | dd of=shm/s bs=1 seek=5000 conv=notrunc status=none
	expect_eq "$(blocks shm/s)" 8 "st_blocks after writing one byte in the second page"
	{ zeros 5000; printf X; zeros 4999; } | ref holes
	cmp -s shm/s "$WORK/holes" || fail "the holes around a written byte do not read as zeros"
	expect_eq "$("$MAP" shm/s open ftruncate:20000 stat | grep ^stat=)" "stat=20000 8 1" \
		"ftruncate(20000)"
	{ zeros 5000; printf X; zeros 14999; } | ref holes2
	cmp -s shm/s "$WORK/holes2" || fail "growing with ftruncate does not read as zeros"
	# shrink into the written page (cutting the X off), grow again: zeros, not the old byte
	truncate -s 4999 shm/s
	expect_eq "$(size shm/s):$(blocks shm/s)" 4999:8 "shrunk into the second page"
	truncate -s 10000 shm/s
	cmp -s shm/s <(zeros 10000) || fail "shrink then grow does not read zeros"
	drop_cache shm/s
	cmp -s shm/s <(zeros 10000) || fail "shrink then grow: the daemon does not hold zeros"
	truncate -s 0 shm/s
	expect_eq "$(size shm/s):$(blocks shm/s)" 0:0 "truncate -s 0 frees the page"
}

# The same operations on a segment and on a regular file in $WORK give the same bytes.
rw_ops() {
	local f=$1 r=$WORK/rand
	dd if="$r" of="$f" bs=7000 count=1 conv=notrunc status=none
	dd if="$r" of="$f" bs=1000 count=3 skip=5 seek=4 conv=notrunc status=none
	dd if="$r" of="$f" bs=1 count=10 skip=123 seek=4090 conv=notrunc status=none # a page edge
	dd if="$r" of="$f" bs=4096 count=1 seek=5 conv=notrunc status=none # past the end: a hole
	dd if="$r" of="$f" bs=1 count=3 skip=1 seek=8000 conv=notrunc status=none # in the hole
	"$MAP" "$f" open pwrite:12345:hello pwrite:0:start pwrite:24570:page-crossing >/dev/null
}

test_shm_read_and_write_at_any_offset() {
	head -c 30000 /dev/urandom >"$WORK/rand"
	touch shm/s "$WORK/file"
	rw_ops shm/s
	rw_ops "$WORK/file"
	expect_eq "$(size shm/s)" "$(size "$WORK/file")" "size after writes at offsets"
	cmp shm/s "$WORK/file" || fail "contents differ from a regular file's"
	cmp <(direct shm/s) "$WORK/file" || fail "the daemon's copy differs from a regular file's"
	local skip
	for skip in 0 3 4 11 24; do
		cmp -s <(dd if=shm/s bs=1000 skip=$skip count=2 status=none) \
			<(dd if="$WORK/file" bs=1000 skip=$skip count=2 status=none) ||
			fail "dd skip=$skip reads differ"
	done
	expect_eq "$("$MAP" shm/s open pread:4085:30 pread:24560:30 | grep ^pread=)" \
		"$("$MAP" "$WORK/file" open pread:4085:30 pread:24560:30 | grep ^pread=)" \
		"pread across page edges"
}

test_shm_o_trunc_and_o_append_as_for_regular_files() {
	echo a >shm/s
	echo b >>shm/s
	expect_eq "$(cat shm/s)" $'a\nb' "echo a > s; echo b >> s"
	echo c >shm/s
	expect_eq "$(cat shm/s):$(size shm/s)" c:2 "echo c > s truncates"
	# two descriptors in O_APPEND: every write goes to the end as it is then
	exec 7>>shm/s 8>>shm/s
	printf 1 >&7
	printf 2 >&8
	printf 3 >&7
	exec 7>&- 8>&-
	expect_eq "$(cat shm/s)" $'c\n123' "writes through two O_APPEND descriptors"
	expect_eq "$("$MAP" shm/s open:a pwrite:0:4 | tail -1):$(cat shm/s)" $'pwrite:0:4 ok:c\n1234' \
		"pwrite on an O_APPEND descriptor appends (as on Linux for every file)"
	# O_TRUNC gives back the memory of a bigger segment
	head -c 12288 /dev/urandom >shm/t
	expect_eq "$(size shm/t):$(blocks shm/t)" 12288:24 "three pages written"
	: >shm/t
	expect_eq "$(size shm/t):$(blocks shm/t)" 0:0 ": > t (O_TRUNC) frees them"
	expect_eq "$(wc -c <shm/t)" 0 "bytes left after O_TRUNC"
	head -c 5000 /dev/urandom >shm/t
	expect_eq "$("$MAP" shm/t open:t stat | grep ^stat=)" "stat=0 0 1" "open(O_TRUNC) from C"
}

test_shm_st_blocks_is_the_memory_used() {
	truncate -s 1G shm/big
	expect_eq "$(size shm/big):$(blocks shm/big)" 1073741824:0 "a 1 GiB sparse segment"
	dd if=/dev/zero of=shm/big bs=4096 count=1 seek=1000 conv=notrunc status=none
	expect_eq "$(blocks shm/big)" 8 "one page written (zeros written are written)"
	printf x | dd of=shm/big bs=1 seek=$((1000 * 4096 + 10)) conv=notrunc status=none
	expect_eq "$(blocks shm/big)" 8 "a second write into the same page"
	printf x | dd of=shm/big bs=1M seek=500 conv=notrunc status=none
	expect_eq "$(blocks shm/big)" 16 "a byte at 500 MiB: one more page"
	printf xy | dd of=shm/big bs=1 seek=$((8191)) conv=notrunc status=none
	expect_eq "$(blocks shm/big)" 32 "two bytes across a page edge: two more pages"
	truncate -s 600M shm/big
	expect_eq "$(blocks shm/big)" 32 "shrinking past no page frees nothing"
	truncate -s 100M shm/big
	expect_eq "$(blocks shm/big)" 24 "shrinking below 500 MiB frees that page"
	truncate -s 1M shm/big
	expect_eq "$(size shm/big):$(blocks shm/big)" 1048576:16 "shrunk to 1 MiB"
	truncate -s 8000 shm/big
	expect_eq "$(size shm/big):$(blocks shm/big)" 8000:8 "shrunk into the second page"
	truncate -s 4096 shm/big
	expect_eq "$(size shm/big):$(blocks shm/big)" 4096:0 "shrunk to the first page, never written"
	truncate -s 1G shm/big
	expect_eq "$(blocks shm/big)" 0 "growing allocates nothing"
}

# ---- mmap between processes ----

test_shm_two_mappings_see_each_others_stores_at_once() {
	local out rc
	out=$("$SYNC" share shm/s 1000) # round trips by polling memory: slow when the CPUs are busy
	rc=$?
	note "$out"
	expect_eq "$rc" 0 "client_shm_sync share"
	# the same with text, through client_shm_map: A maps first, B stores, A sees, and back
	truncate -s 4096 shm/t
	bg_map "$WORK/a" shm/t open map:4096 pause wait:0:from-B store:100:from-A
	resume "$BG"
	expect_eq "$("$MAP" shm/t open map:4096 store:0:from-B wait:100:from-A | tail -1)" \
		"wait:100:from-A ok" "B sees A's store"
	finish_bg "$BG" || fail "A did not see B's store: $(tail -1 "$WORK/a")"
}

test_shm_lib_mutex_in_the_segment_counts_exactly() {
	local out
	out=$("$SYNC" count shm/c 2 100000 lock) || fail "2 processes: $out"
	expect_eq "${out%% (*}" "count 200000 of 200000" "2 processes under the mutex"
	out=$("$SYNC" count shm/c 4 100000 lock) || fail "4 processes: $out"
	expect_eq "${out%% (*}" "count 400000 of 400000" "4 processes under the mutex"
	note "$out"
	# without the mutex the same loop loses updates: the count above is the mutex's doing
	out=$("$SYNC" count shm/u 4 1000000 nolock)
	note "without it: $out"
}

test_shm_lib_mutex_and_sem_sleep_and_wake_across_processes() {
	local out rc
	out=$("$SYNC" block shm/b)
	rc=$?
	note "$out"
	expect_eq "$rc" 0 "client_shm_sync block"
}

test_shm_lib_sem_ping_pong() {
	local out rc
	out=$("$SYNC" sem shm/p 5000)
	rc=$?
	note "$out"
	expect_eq "$rc" 0 "client_shm_sync sem"
}

# ---- coherence of the page cache and the daemon ----

test_shm_write_seen_by_a_mapping_and_store_seen_by_read() {
	truncate -s 8192 shm/s
	bg_map "$WORK/a" shm/s open map:8192 pause wait:10:via-write store:5000:via-store pause
	resume "$BG" # A polls its mapping while another process write()s
	printf via-write | dd of=shm/s bs=1 seek=10 conv=notrunc status=none
	paused "$WORK/a" 2 || fail "A's mapping did not show the write(): $(tail -1 "$WORK/a")"
	expect_eq "$(dd if=shm/s bs=1 skip=5000 count=9 status=none)" via-store \
		"read() sees a store made through a mapping, no msync"
	expect_eq "$("$MAP" shm/s open map:8192 load:5000:9 | grep ^load=)" "load=via-store" \
		"another mapping sees it"
	expect_eq "$(direct shm/s | dd bs=1 skip=5000 count=9 status=none)" via-store \
		"the daemon gets it on writeback"
	resume "$BG"
	finish_bg "$BG" || fail "A failed: $(tail -1 "$WORK/a")"
	drop_cache shm/s
	expect_eq "$(dd if=shm/s bs=1 skip=10 count=9 status=none)" via-write \
		"the write() from the daemon"
	expect_eq "$(dd if=shm/s bs=1 skip=5000 count=9 status=none)" via-store \
		"the store from the daemon"
}

# keep_cache: the kernel's pages of a segment are the segment everyone maps. An open that
# dropped them would write back and unmap every mapper's pages, costing each a page fault and a
# read from the daemon, at every open of the segment by anyone.
test_shm_opens_keep_the_mapped_pages() {
	truncate -s 8192 shm/s
	# (the first "faults" runs the printing code once: the count of the next two is the loads')
	bg_map "$WORK/a" shm/s open map:8192 store:0:x store:4096:y load:0:1 load:4096:1 pause \
		faults faults load:0:1 load:4096:1 faults
	cat shm/s >/dev/null
	"$MAP" shm/s open:r pread:0:1 >/dev/null
	"$MAP" shm/s open map:8192 load:4096:1 >/dev/null
	resume "$BG"
	finish_bg "$BG" || fail "the mapper: $(tail -1 "$WORK/a")"
	# ThreadSanitizer's runtime faults in shadow pages of its own: no count to compare there
	ldd "$IPCFS" | grep -q libtsan && return 0
	expect_eq "$(lines "$WORK/a" faults= | tail -2 | uniq | wc -l)" 1 \
		"page faults of loads after other processes' opens ($(lines "$WORK/a" faults= | tr '\n' ' '))"
}

test_shm_truncate_while_mapped() {
	truncate -s 8192 shm/s
	# written back to the daemon (msync, pwrite) and only in the cache (a plain store)
	bg_map "$WORK/a" shm/s open map:8192 store:4000:synced msync pwrite:4090:written \
		store:6000:cached pause load:4000:6 load:4090:7 load:6000:6 load:0:1
	truncate -s 100 shm/s
	expect_eq "$(size shm/s)" 100 "shrunk while mapped"
	truncate -s 8192 shm/s
	cmp -s shm/s <(zeros 8192) || fail "shrink then grow while mapped: read() sees old bytes"
	cmp -s <(direct shm/s) <(zeros 8192) || fail "shrink then grow while mapped: the daemon has old bytes"
	resume "$BG"
	finish_bg "$BG" || fail "the mapping: $(tail -1 "$WORK/a")"
	expect_eq "$(lines "$WORK/a" load= | tr '\n' ' ')" "load=...... load=....... load=...... load=. " \
		"the mapping reads zeros past the cut after growing"
}

test_shm_contents_last_after_the_writers_unmap_and_close() {
	"$MAP" shm/s open:c ftruncate:8192 map:8192 store:0:persist store:5000:tail unmap close \
		>"$WORK/w" || fail "writer: $(tail -1 "$WORK/w")"
	expect_eq "$("$MAP" shm/s open map:8192 load:0:7 load:5000:4 | grep ^load= | tr '\n' ' ')" \
		"load=persist load=tail " "a later mapping"
	expect_eq "$(head -c 7 shm/s)" persist "a later read()"
	expect_eq "$(blocks shm/s)" 16 "the daemon holds both stored pages"
	drop_cache shm/s
	expect_eq "$(head -c 7 shm/s):$(dd if=shm/s bs=1 skip=5000 count=4 status=none)" \
		persist:tail "read from the daemon once the kernel dropped its cache"
	# a writer killed while it maps the segment: its stores stay too
	bg_map "$WORK/k" shm/s open map:8192 store:100:killed pause
	kill -KILL "$BG"
	wait "$BG" 2>/dev/null
	drop_cache shm/s
	expect_eq "$(dd if=shm/s bs=1 skip=100 count=6 status=none)" killed \
		"the stores of a writer killed while mapping"
}

test_shm_rm_leaves_mappings_and_descriptors_valid() {
	local a b
	truncate -s 8192 shm/s
	printf second | dd of=shm/s bs=1 seek=5000 conv=notrunc status=none
	# A's descriptor is O_DIRECT: its pread asks the daemon (after the kernel wrote back what
	# is dirty), so the removed segment's contents must live on there, not only in the cache
	bg_map "$WORK/a" shm/s open:d map:4096 store:0:before pause wait:100:after-rm pread:100:8 \
		pread:5000:6 stat
	a=$BG
	bg_map "$WORK/b" shm/s open map:4096 pause store:100:after-rm load:0:6
	b=$BG
	drop_cache shm/s # the second page, mapped by nobody: only the daemon has it now
	rm shm/s
	[ -e shm/s ] && fail "shm/s still there after rm"
	touch shm/s
	expect_eq "$(size shm/s)" 0 "a segment made again under the name is a new, empty one"
	echo new >shm/s
	resume "$a"
	resume "$b"
	finish_bg "$b" || fail "B after rm: $(tail -1 "$WORK/b")"
	finish_bg "$a" || fail "A after rm: $(tail -1 "$WORK/a")"
	expect_eq "$(lines "$WORK/b" load=)" "load=before" "B's mapping after rm"
	expect_eq "$(lines "$WORK/a" pread= | tr '\n' '|')" "pread=8 after-rm|pread=6 second|" \
		"A's descriptor after rm"
	expect_eq "$(lines "$WORK/a" stat= | cut -d" " -f1,3)" "stat=8192 0" "fstat after rm: size, nlink"
	expect_eq "$(cat shm/s)" new "the new segment is not the removed one"
}

test_shm_concurrent_writers_at_different_offsets() {
	local out i pids=()
	out=$("$SYNC" writers shm/w 4 2000) || fail "$out"
	note "$out"
	# four 1 MiB dd at once, one per MiB
	head -c 4M /dev/urandom >"$WORK/r4"
	touch shm/d
	for i in 0 1 2 3; do
		dd if="$WORK/r4" of=shm/d bs=1M skip=$i seek=$i count=1 conv=notrunc status=none &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail "a dd writer failed"
	done
	cmp shm/d "$WORK/r4" || fail "four concurrent 1 MiB writers"
	cmp <(direct shm/d) "$WORK/r4" || fail "four concurrent 1 MiB writers: the daemon's copy"
}

test_shm_big_writes() {
	head -c 8M /dev/urandom >"$WORK/big"
	dd if="$WORK/big" of=shm/m bs=1M count=1 status=none || fail "dd bs=1M"
	expect_eq "$(size shm/m):$(blocks shm/m)" 1048576:2048 "after one 1 MiB write"
	cmp shm/m <(head -c 1M "$WORK/big") || fail "1 MiB read back"
	dd if="$WORK/big" of=shm/m bs=1M status=none || fail "dd 8 x 1 MiB"
	expect_eq "$(size shm/m):$(blocks shm/m)" 8388608:16384 "after 8 MiB"
	cmp shm/m "$WORK/big" || fail "8 MiB read back"
	drop_cache shm/m
	cmp shm/m "$WORK/big" || fail "8 MiB read back from the daemon"
	cp "$WORK/big" shm/c && cmp shm/c "$WORK/big" || fail "cp of 8 MiB"
}

test_shm_read_past_the_end_is_short() {
	printf 0123456789 >shm/s
	expect_eq "$(dd if=shm/s bs=100 count=1 status=none)" 0123456789 "a read of 100 bytes of 10"
	expect_eq "$(dd if=shm/s bs=1 skip=20 count=5 status=none | wc -c)" 0 "a read past the end"
	expect_eq "$("$MAP" shm/s open pread:5:100 pread:10:10 pread:5000:10 | grep ^pread= |
		tr '\n' '|')" "pread=5 56789|pread=0 |pread=0 |" "pread at, across and past the end"
	# O_DIRECT: the kernel asks the daemon for whole pages and takes what it answers
	expect_eq "$("$MAP" shm/s open:d pread:5:100 pread:10:10 pread:4095:2 | grep ^pread= |
		tr '\n' '|')" "pread=5 56789|pread=0 |pread=0 |" "O_DIRECT pread at, across and past the end"
	expect_eq "$("$MAP" shm/s open map:8192 load:0:10 load:4096:1 | tail -1)" \
		"load:4096:1 EFAULT" "a load from a mapped page past the end faults (SIGBUS)"
}

test_shm_contents_last_until_unmount() {
	echo kept >shm/keep
	expect_eq "$(cat shm/keep)" kept "written before the remount"
	# a process still maps it at the unmount: the daemon must still stop (lib.sh checks), and
	# the process must not hang (test_shm_gone_after_remount lets it go on)
	bg_map "$WORK/holder" shm/keep open map:4096 load:0:4 pause load:0:4
	echo "$BG" >"$WORK/holder.pid"
}

# (after a remount)
test_shm_gone_after_remount() {
	local holder
	expect_eq "$(ls -A shm)" "" "shm/ after a remount"
	[ -e shm/keep ] && fail "shm/keep survived the unmount"
	holder=$(cat "$WORK/holder.pid") || return
	resume "$holder"
	wait_until 5 eval "! kill -0 $holder 2>/dev/null" ||
		fail "a process mapping a segment of the old mount hangs: $(tail -1 "$WORK/holder")"
}

# ---- the caps ----

# mounted with -o shm_max_size=1M
test_shm_per_segment_cap_is_enospc() {
	truncate -s 1M shm/s || fail "truncate to the cap"
	expect_err "No space left" "truncate past the cap" -- truncate -s 1048577 shm/s
	expect_eq "$(size shm/s)" 1048576 "size after the refused truncate"
	printf hi >shm/t
	expect_eq "$("$MAP" shm/t open ftruncate:2097152 | tail -1)" "ftruncate:2097152 ENOSPC" \
		"ftruncate past the cap"
	expect_eq "$(size shm/t):$(cat shm/t)" 2:hi "a refused ftruncate changes nothing"
	printf ab | dd of=shm/t bs=1 seek=$((1048576 - 2)) conv=notrunc status=none ||
		fail "a write ending at the cap"
	expect_err "No space left" "a write at the cap" -- \
		dd if=/dev/urandom of=shm/t bs=2 count=1 seek=1048576 oflag=seek_bytes \
		conv=notrunc status=none
	expect_eq "$(size shm/t):$(tail -c 2 shm/t)" 1048576:ab "a refused write changes nothing"
	# one straddling the cap: the kernel may send the part before it on its own (it ends a
	# request at a partly written page it has not read), which then lands, as a regular file
	# takes what fits under RLIMIT_FSIZE; nothing goes past the cap
	expect_err "No space left" "a write across the cap" -- \
		dd if=/dev/urandom of=shm/t bs=2 count=1 seek=$((1048576 - 1)) oflag=seek_bytes \
		conv=notrunc status=none
	expect_eq "$(size shm/t):$(tail -c 2 shm/t | head -c 1)" 1048576:a \
		"a write across the cap: size, and the byte before"
	head -c 2M /dev/urandom >"$WORK/r2"
	expect_err "No space left" "dd 2 MiB" -- dd if="$WORK/r2" of=shm/u bs=1M status=none
	cmp shm/u <(head -c 1M "$WORK/r2") || fail "the first MiB, written before the cap"
}

# mounted with -o max_memory=4M
test_shm_total_cap_is_enospc() {
	local i
	head -c 1M /dev/urandom >"$WORK/m1"
	for i in 1 2 3; do
		dd if="$WORK/m1" of=shm/a bs=1M seek=$((i - 1)) status=none || fail "MiB $i of shm/a"
	done
	# 3 MiB of pages plus the nodes: the next MiB does not fit
	expect_err "No space left" "a 1 MiB write beyond -o max_memory" -- \
		dd if="$WORK/m1" of=shm/b bs=1M status=none
	expect_eq "$(size shm/b):$(blocks shm/b)" 0:0 "the refused write changed nothing"
	truncate -s 1M shm/c
	printf x | dd of=shm/c bs=1 seek=100 conv=notrunc status=none
	expect_err "No space left" "a write over a partly allocated range, short of pages" -- \
		dd if="$WORK/m1" of=shm/c bs=1M count=1 conv=notrunc status=none
	expect_eq "$(size shm/c):$(blocks shm/c)" 1048576:8 "the refused write left shm/c alone"
	cmp -s shm/c <({ zeros 100; printf x; zeros $((1048576 - 101)); }) ||
		fail "shm/c's contents after the refused write"
	# what costs no new page still works at the cap: overwriting, growing with holes
	dd if=/dev/zero of=shm/a bs=1M count=1 conv=notrunc status=none || fail "overwrite at the cap"
	truncate -s 100M shm/c || fail "truncate up at the cap"
	# shrinking and rm give the memory back
	truncate -s 2M shm/a
	dd if="$WORK/m1" of=shm/b bs=1M status=none || fail "a 1 MiB write after shrinking"
	expect_err "No space left" "full again" -- dd if="$WORK/m1" of=shm/b bs=1M seek=1 status=none
	rm shm/a
	dd if="$WORK/m1" of=shm/b bs=1M seek=1 status=none || fail "a 1 MiB write after rm"
	cmp shm/b <(cat "$WORK/m1" "$WORK/m1") || fail "shm/b's contents"
}

# mounted with -o max_memory=4M: memory of a removed segment comes back with its last mapping
test_shm_removed_segment_memory_freed_at_last_unmap() {
	head -c 2M /dev/urandom >shm/a
	bg_map "$WORK/a" shm/a open map:4096 pause load:0:1
	rm shm/a
	expect_err "No space left" "2 MiB more while the removed segment is mapped" -- \
		dd if=/dev/zero of=shm/b bs=1M count=2 status=none
	resume "$BG"
	finish_bg "$BG" || fail "the mapping of the removed segment: $(tail -1 "$WORK/a")"
	rm -f shm/b
	# the kernel forgets the removed inode asynchronously after the last close
	wait_until 5 dd if=/dev/zero of=shm/b bs=1M count=2 status=none 2>/dev/null ||
		fail "the removed segment's memory never came back"
}

# mounted with -o max_memory=4M: stores through a mapping reach the daemon only on writeback,
# where a page past the cap is refused: msync(2) reports it
test_shm_mmap_stores_past_max_memory_fail_msync() {
	head -c 3M /dev/urandom >shm/a
	truncate -s 2M shm/b
	expect_eq "$("$MAP" shm/b open map:2097152 fill:0:2097152:Z msync | tail -1)" "msync ENOSPC" \
		"msync of 2 MiB stored into holes with 1 MiB left"
	expect_eq "$(direct shm/b | tr -d '\0' | wc -c)" 0 "the refused stores did not land"
	rm shm/a
	expect_eq "$("$MAP" shm/b open map:2097152 fill:0:2097152:Y msync | tail -1)" "msync ok" \
		"msync once the memory is there"
	cmp -s <(direct shm/b) <(head -c 2M /dev/zero | tr '\0' Y) || fail "the stores after rm"
	expect_eq "$(blocks shm/b)" 4096 "st_blocks once written back"
}

# KNOWN TO FAIL (kernel): when the daemon refuses the writeback of pages stored through a
# mapping, the kernel keeps them in its cache, clean: read() shows bytes the daemon does not
# hold until the kernel drops them. Fixing it needs the daemon to invalidate the range
# (fuse_lowlevel_notify_inval_inode) from outside the request; run with
# IPC_TEST_KNOWN_FAILURES=1. Mounted with -o max_memory=4M.
test_shm_refused_writeback_leaves_no_stale_cache() {
	head -c 3M /dev/urandom >shm/a
	truncate -s 2M shm/b
	"$MAP" shm/b open map:2097152 fill:0:2097152:Z msync >/dev/null
	expect_eq "$(head -c 4 shm/b | tr '\0' .)" "...." "read() after the refused writeback"
}

# mounted with -o max_memory=4M: the page table of a big sparse segment is memory too
test_shm_total_cap_counts_the_page_table() {
	local i ok=0
	for i in $(seq 16); do
		printf x | dd of=shm/t$i bs=1 seek=$((1024 * 1024 * 1024 - 1)) conv=notrunc \
			status=none 2>/dev/null && ok=$((ok + 1))
	done
	# each needs one page and a table of 262144 page pointers (2 MiB): one fits in 4 MiB
	[ "$ok" -le 2 ] || fail "$ok segments with a page at 1 GiB fit in -o max_memory=4M"
	[ "$ok" -ge 1 ] || fail "no segment with a page at 1 GiB fits in -o max_memory=4M"
	truncate -s 0 shm/t1
	printf x | dd of=shm/u bs=1 seek=$((1024 * 1024 * 1024 - 1)) status=none 2>/dev/null ||
		fail "truncate -s 0 does not give the table back"
	rm -f shm/*
	printf x | dd of=shm/t bs=1 seek=$((1024 * 1024 * 1024 - 1)) status=none ||
		fail "rm does not give the tables back"
}

# run NAME TIMEOUT: run_test in an empty shm/, whatever the tests before left there
run() {
	rm -rf "$MNT"/shm/*
	run_test "$@"
}

mount_ipcfs
run test_shm_created_empty 60
run test_shm_truncate_sizes_and_holes_read_zeros 60
run test_shm_read_and_write_at_any_offset 60
run test_shm_o_trunc_and_o_append_as_for_regular_files 60
run test_shm_st_blocks_is_the_memory_used 60
run test_shm_two_mappings_see_each_others_stores_at_once 60
run test_shm_lib_mutex_in_the_segment_counts_exactly 60
run test_shm_lib_mutex_and_sem_sleep_and_wake_across_processes 60
run test_shm_lib_sem_ping_pong 60
run test_shm_write_seen_by_a_mapping_and_store_seen_by_read 60
run test_shm_opens_keep_the_mapped_pages 60
run test_shm_truncate_while_mapped 60
run test_shm_contents_last_after_the_writers_unmap_and_close 60
run test_shm_rm_leaves_mappings_and_descriptors_valid 60
run test_shm_concurrent_writers_at_different_offsets 60
run test_shm_big_writes 60
run test_shm_read_past_the_end_is_short 60
run test_shm_contents_last_until_unmount 60
unmount_ipcfs
mount_ipcfs
run_test test_shm_gone_after_remount 60
unmount_ipcfs
mount_ipcfs -o shm_max_size=1M
run test_shm_per_segment_cap_is_enospc 60
unmount_ipcfs
mount_ipcfs -o max_memory=4M
run test_shm_total_cap_is_enospc 60
run test_shm_removed_segment_memory_freed_at_last_unmap 60
run test_shm_total_cap_counts_the_page_table 60
run test_shm_mmap_stores_past_max_memory_fail_msync 60
if [ "${IPC_TEST_KNOWN_FAILURES:-0}" = 1 ]; then
	run test_shm_refused_writeback_leaves_no_stale_cache 60
else
	say "skipped test_shm_refused_writeback_leaves_no_stale_cache (known kernel limitation;" \
		"IPC_TEST_KNOWN_FAILURES=1 runs it)"
fi
finish
