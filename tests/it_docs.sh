#!/bin/bash
# it_docs.sh - the examples of the documentation run against a live mount. Every ```console
# block of docs/guide.md is a test: its "$ " lines run in order in one bash (in the mount
# directory), and what they print must be the lines shown after them. Blocks run in the order
# of the document, on one mount, as a reader following it would.
source "$(dirname "$0")/lib.sh"

DOCS=$(cd "$(dirname "$0")/../docs" && pwd)
export PATH=$BUILD_DIR:$PATH # ipcctl, as an installed one would be

# extract DOC: one NNN.sh (the commands), NNN.out (the output shown) and NNN.name per block
extract() {
	mkdir -p "$WORK/doc"
	python3 - "$1" "$WORK/doc" <<'PY'
import os, re, sys
doc, out = sys.argv[1], sys.argv[2]
base = os.path.basename(doc).replace(".", "_").replace("-", "_")
lines = open(doc).read().split("\n")
k, i = 0, 0
while i < len(lines):
    if lines[i].strip() != "```console":
        i += 1
        continue
    start = i + 1
    i += 1
    cmds, want = [], []
    while i < len(lines) and lines[i].strip() != "```":
        if lines[i].startswith("$ "):
            cmds.append(lines[i][2:])
        else:
            want.append(lines[i])
        i += 1
    k += 1
    name = "%03d" % k
    open(os.path.join(out, name + ".sh"), "w").write("\n".join(cmds) + "\n")
    open(os.path.join(out, name + ".out"), "w").write("\n".join(want))
    open(os.path.join(out, name + ".name"), "w").write("%s_line_%d" % (base, start))
PY
}

doc_block() {
	local f=$WORK/doc/$BLOCK out
	out=$(timeout 30 bash "$f.sh" 2>"$f.err")
	expect_eq "$out" "$(cat "$f.out")" "output of the block at $(cat "$f.name")"
	[ -s "$f.err" ] && say "stderr: $(head -c 1000 "$f.err")"
	return 0
}

extract "$DOCS/guide.md"
mount_ipcfs
for f in "$WORK"/doc/*.sh; do
	BLOCK=$(basename "$f" .sh)
	name=test_docs_$(cat "$WORK/doc/$BLOCK.name")
	eval "$name() { doc_block; }"
	run_test "$name" 40
done
finish
