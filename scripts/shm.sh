#!/bin/bash
# shm.sh - two processes share memory through a segment mapped with mmap(MAP_SHARED): what one
# stores, the other sees at once, with no read() or write() in between.
#
# usage: scripts/shm.sh [MOUNTPOINT]
# The writer (python3) maps shm/shm-demo/seg, stores a counter 1..1000 and a message; the
# reader (python3) maps the same segment and waits until it sees the last value. Exit status 0
# when the reader saw it.
#
# The segment is a file in memory: `truncate -s 4096` sizes it, `ls -l` shows its size,
# `rm` removes it (existing mappings stay valid, as with /dev/shm).
source "$(dirname "$0")/common.sh"
demo_dirs shm-demo shm
seg=$SHM/seg
truncate -s 4096 "$seg"

python3 - "$seg" <<'PY' &
import mmap, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED)
deadline = time.time() + 20
while struct.unpack_from("<I", m, 0)[0] != 1000:      # the writer's last value
    if time.time() > deadline:
        sys.exit("reader: gave up waiting")
    time.sleep(0.001)
print("reader sees counter 1000 and:", m[8:40].rstrip(b"\0").decode())
PY
reader=$!

python3 - "$seg" <<'PY'
import mmap, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED)
m[8:40] = b"hello through shared memory".ljust(32, b"\0")
for i in range(1, 1001):
    struct.pack_into("<I", m, 0, i)                   # a plain store into the mapping
print("writer stored counter 1..1000 and a message")
PY
wait "$reader"
ls -l "$seg"
