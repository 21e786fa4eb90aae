#!/bin/bash
# it_sem.sh - semaphores through the mounted filesystem, driven with shell tools.
source "$(dirname "$0")/lib.sh"

size() { stat -c %s "$1"; }

test_sem_created_with_count_zero() {
	touch sem/s
	expect_eq "$(size sem/s)" 0 "new semaphore count"
	expect_eq "$(stat -c %F sem/s)" "regular empty file" "file type"
}

test_sem_pool_of_three_then_blocks() {
	echo 3 > sem/pool
	expect_eq "$(size sem/pool)" 3 "count after V(3)"
	for i in 1 2 3; do
		expect_rc 0 "P number $i returns at once" -- timeout 2 cat sem/pool
	done
	expect_eq "$(size sem/pool)" 0 "count after three P"
	cat sem/pool &
	local waiter=$!
	sleep 0.2
	kill -0 "$waiter" 2>/dev/null || fail "the fourth P did not block"
	echo > sem/pool
	wait_until 2 eval '! kill -0 '"$waiter"' 2>/dev/null' || fail "V did not release the fourth P"
	wait "$waiter"
	expect_eq "$?" 0 "the fourth P's exit status"
	expect_eq "$(size sem/pool)" 0 "count after V and P"
}

test_sem_timeout_takes_nothing() {
	touch sem/empty
	expect_rc 124 "timeout 1 cat on an empty semaphore" -- timeout 1 cat sem/empty
	expect_eq "$(size sem/empty)" 0 "count after the interrupted P"
	echo > sem/empty
	expect_eq "$(size sem/empty)" 1 "a V after the interrupted P is not eaten by it"
}

test_sem_nonblocking_read_is_eagain() {
	touch sem/nb
	expect_err "Resource temporarily unavailable" "dd iflag=nonblock" -- \
		dd if=sem/nb iflag=nonblock count=1 status=none
	expect_eq "$(size sem/nb)" 0 "count unchanged"
}

test_sem_bad_text_is_einval_and_changes_nothing() {
	echo 2 > sem/t
	for bad in hello 1x "+0" "-0" "1 2" 2147483648 -2147483648 "--1"; do
		expect_err "Invalid argument" "write '$bad'" -- bash -c "echo '$bad' > sem/t"
	done
	expect_eq "$(size sem/t)" 2 "count after bad writes"
}

test_sem_overflow_is_eoverflow() {
	echo 2147483647 > sem/big
	expect_eq "$(size sem/big)" 2147483647 "count at the maximum"
	expect_err "Value too large" "V past INT32_MAX" -- bash -c 'echo > sem/big'
	expect_eq "$(size sem/big)" 2147483647 "count unchanged by the overflow"
}

mount_ipcfs
run_test test_sem_created_with_count_zero
run_test test_sem_pool_of_three_then_blocks
run_test test_sem_timeout_takes_nothing
run_test test_sem_nonblocking_read_is_eagain
run_test test_sem_bad_text_is_einval_and_changes_nothing
run_test test_sem_overflow_is_eoverflow
finish
