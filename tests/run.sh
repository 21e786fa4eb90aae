#!/bin/bash
# run.sh BUILD_DIR TEST_BINARY... - run the cmocka unit tests, each bounded in time, and print
# one closing line "N passed, N failed" that counts the test cases of all of them.
set -u
build=$1
shift
passed=0
failed=0
per_test_timeout=${IPC_TEST_TIMEOUT:-300}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$@"; do
	echo "== $t"
	timeout -k 5 "$per_test_timeout" "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	passed=$((passed + ${p:-0}))
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		# crashed or timed out before cmocka could count: count the binary as one failure
		echo "!! $t exited with status $rc"
		f=1
	fi
	failed=$((failed + ${f:-0}))
done

echo "tests ($build): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
