#!/bin/bash
# run.sh BUILD_DIR TEST... - run the unit tests (cmocka binaries) and the integration tests
# (tests/it_*.sh, which mount BUILD_DIR/ipcfs), each bounded in time, and print one closing
# line "N passed, N failed" counting the test cases of all of them.
set -u
build=$1
shift
passed=0
failed=0
per_test_timeout=${IPC_TEST_TIMEOUT:-600}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$@"; do
	echo "== $t"
	t0=$SECONDS
	case $t in
	*.sh) IPCFS=$build/ipcfs timeout -k 5 "$per_test_timeout" bash "$t" >"$log" 2>&1 ;;
	*) timeout -k 5 "$per_test_timeout" "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	cat "$log"
	case $t in
	*.sh)
		p=$(grep -c '^ok ' "$log")
		f=$(grep -c '^not ok ' "$log")
		;;
	*)
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		;;
	esac
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# crashed, bailed out or timed out before counting a failure: count one
		echo "!! $t exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	echo "== $t: $((SECONDS - t0)) s"
done

echo "tests ($build): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
