#!/bin/bash
# it_perm.sh - owners, modes and times of objects and namespaces, and what a second,
# unprivileged user may do: nothing without -o allow_other, exactly what the mode bits grant
# with it (the kernel enforces them: default_permissions).
source "$(dirname "$0")/lib.sh"

OTHER=ipcfs-test-user
umask 022
export TZ=UTC

size() { stat -c %s "$1"; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# The second user: made once (a system account without a home) when it is missing.
OTHER_WHY=
if ! id -u "$OTHER" >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		OTHER_WHY="not root: cannot add user $OTHER"
	elif ! useradd -M -r "$OTHER" >/dev/null 2>&1 && ! id -u "$OTHER" >/dev/null 2>&1; then
		OTHER_WHY="useradd $OTHER failed"
	fi
fi
if [ -z "$OTHER_WHY" ] && ! command -v setpriv >/dev/null; then
	OTHER_WHY="no setpriv"
fi
if [ -z "$OTHER_WHY" ]; then
	OTHER_UID=$(id -u "$OTHER")
	OTHER_GID=$(id -g "$OTHER")
	chmod 711 "$WORK" # the other user must reach the mount point below it
fi

# as_other COMMAND...: run COMMAND as the second user (same cwd, same umask).
as_other() { setpriv --reuid="$OTHER_UID" --regid="$OTHER_GID" --init-groups -- "$@"; }

# run_other_test FUNCTION: run_test, or a SKIP line when there is no second user.
run_other_test() { run_test_unless "$OTHER_WHY" "$1"; }

# ---- attributes, as root ----

test_attr_new_entries_belong_to_caller_minus_umask() {
	touch sem/u022
	: >mutex/u022
	mkdir sem/d022
	expect_eq "$(stat -c '%a %u %g' sem/u022)" "644 0 0" "touch under umask 022"
	expect_eq "$(stat -c '%a' mutex/u022)" "644" "> under umask 022"
	expect_eq "$(stat -c '%a %u %g' sem/d022)" "755 0 0" "mkdir under umask 022"
	(
		umask 077
		touch sem/u077
		mkdir sem/d077 sem/d077/nested
		: >sem/d077/nested/obj
	)
	expect_eq "$(stat -c '%a' sem/u077)" 600 "touch under umask 077"
	expect_eq "$(stat -c '%a' sem/d077)" 700 "mkdir under umask 077"
	expect_eq "$(stat -c '%a' sem/d077/nested)" 700 "nested mkdir under umask 077"
	expect_eq "$(stat -c '%a' sem/d077/nested/obj)" 600 "nested object under umask 077"
	(umask 027 && mkdir -m 1770 sem/dm && : >sem/dm/o)
	expect_eq "$(stat -c '%a' sem/dm)" 1770 "mkdir -m keeps the sticky bit"
	expect_eq "$(stat -c '%a' sem/dm/o)" 640 "an object under umask 027"
}

test_attr_chmod_chown_touch_d_show_in_stat() {
	local f
	touch sem/attr
	mkdir sem/attrdir
	for f in sem/attr sem/attrdir; do
		chmod 0640 "$f"
		expect_eq "$(stat -c %a "$f")" 640 "chmod of $f"
		chown 1234:5678 "$f"
		expect_eq "$(stat -c %u:%g "$f")" 1234:5678 "chown of $f"
		touch -d '2001-02-03 04:05:06' "$f"
		expect_eq "$(stat -c %y "$f")" "2001-02-03 04:05:06.000000000 +0000" "touch -d mtime"
		expect_eq "$(stat -c %x "$f")" "2001-02-03 04:05:06.000000000 +0000" "touch -d atime"
		expect_eq "$(ls -ld --time-style=+%F "$f" | awk '{print $3, $4, $6}')" \
			"1234 5678 2001-02-03" "ls -l of $f"
	done
	echo 3 >sem/attr
	expect_eq "$(stat -c '%a %u:%g' sem/attr)" "640 1234:5678" "a V keeps mode and owner"
}

test_attr_ls_shows_true_sizes() {
	echo 7 >sem/sized
	touch sem/zero mutex/msize
	expect_eq "$(ls -l sem/sized | awk '{print $5}')" 7 "ls -l size of a semaphore at 7"
	expect_eq "$(ls -l sem/zero | awk '{print $5}')" 0 "ls -l size of a new semaphore"
	timeout 2 cat sem/sized
	expect_eq "$(ls -l sem/sized | awk '{print $5}')" 6 "ls -l size after one P"
	exec 9<mutex/msize
	expect_eq "$(ls -l mutex/msize | awk '{print $5}')" 1 "a held mutex"
	exec 9<&-
	wait_until 2 test "$(size mutex/msize)" = 0 || fail "a released mutex: size $(size mutex/msize)"
}

test_attr_mtime_changes_on_every_v() {
	local before
	touch -d '2001-02-03 04:05:06' sem/mt
	echo >sem/mt
	expect_eq "$(stat -c %y sem/mt | cut -c1-4)" "$(date +%Y)" "mtime after a V"
	before=$(stat -c %.9Y sem/mt)
	sleep 0.01
	echo >sem/mt
	[ "$(stat -c %.9Y sem/mt | tr -d .)" -gt "$(tr -d . <<<"$before")" ] ||
		fail "a second V did not move mtime ($before)"
	expect_eq "$(stat -c %z sem/mt)" "$(stat -c %y sem/mt)" "ctime moves with the V"
}

test_attr_ctime_changes_on_chmod_not_mtime() {
	local mtime ctime
	touch sem/ct
	touch -d '2001-02-03 04:05:06' sem/ct
	mtime=$(stat -c %y sem/ct)
	ctime=$(stat -c %z sem/ct)
	sleep 0.01
	chmod 600 sem/ct
	expect_eq "$(stat -c %y sem/ct)" "$mtime" "mtime unchanged by chmod"
	[ "$(stat -c %z sem/ct)" != "$ctime" ] || fail "ctime unchanged by chmod ($ctime)"
	ctime=$(stat -c %z sem/ct)
	sleep 0.01
	chown 42 sem/ct
	[ "$(stat -c %z sem/ct)" != "$ctime" ] || fail "ctime unchanged by chown ($ctime)"
}

test_attr_dir_times_follow_its_entries() {
	mkdir sem/dt
	touch -d '2001-02-03 04:05:06' sem/dt
	touch sem/dt/new
	expect_eq "$(stat -c %y sem/dt | cut -c1-4)" "$(date +%Y)" "mtime after a create in it"
	touch -d '2001-02-03 04:05:06' sem/dt
	rm sem/dt/new
	expect_eq "$(stat -c %y sem/dt | cut -c1-4)" "$(date +%Y)" "mtime after an rm in it"
}

test_attr_setgid_dir_gives_its_group() {
	mkdir sem/team
	chgrp 4321 sem/team
	chmod 2775 sem/team
	touch sem/team/obj
	mkdir sem/team/sub
	expect_eq "$(stat -c %g sem/team/obj)" 4321 "an object in a set-group-ID namespace"
	expect_eq "$(stat -c '%g %a' sem/team/sub)" "4321 2755" "a subdirectory inherits the bit"
	touch sem/plain
	expect_eq "$(stat -c %g sem/plain)" 0 "elsewhere the caller's group"
}

# ---- a second user ----

test_other_user_shut_out_without_allow_other() {
	touch sem/open
	chmod 666 sem/open
	expect_err "Permission denied" "stat of the mount point" -- as_other stat "$MNT"
	expect_err "Permission denied" "ls sem/" -- as_other ls "$MNT/sem"
	expect_err "Permission denied" "even a 0666 object" -- as_other bash -c "echo > $MNT/sem/open"
	expect_eq "$(size sem/open)" 0 "count unchanged"
}

test_other_user_gets_exactly_what_mode_grants() {
	echo 2 >sem/private
	chmod 600 sem/private
	expect_err "Permission denied" "P on a 0600 root semaphore" -- as_other cat sem/private
	expect_err "Permission denied" "V on a 0600 root semaphore" -- as_other bash -c 'echo > sem/private'
	expect_err "Operation not permitted" "chmod of root's object" -- as_other chmod 666 sem/private
	expect_eq "$(size sem/private)" 2 "count unchanged"
	chmod 666 sem/private
	expect_rc 0 "P on a 0666 semaphore" -- as_other timeout 2 cat sem/private
	expect_rc 0 "V on a 0666 semaphore" -- as_other bash -c 'echo 3 > sem/private'
	expect_eq "$(size sem/private)" 4 "count after the other user's P and V(3)"
	chmod 604 sem/private
	expect_rc 0 "0604: others may P" -- as_other timeout 2 cat sem/private
	expect_err "Permission denied" "0604: others may not V" -- as_other bash -c 'echo > sem/private'
}

test_other_user_group_bits_apply() {
	echo 1 >sem/grp
	chgrp "$OTHER_GID" sem/grp
	chmod 0640 sem/grp
	expect_rc 0 "P through the group's read bit" -- as_other timeout 2 cat sem/grp
	expect_err "Permission denied" "no V without the group's write bit" -- \
		as_other bash -c 'echo > sem/grp'
	chmod 0406 sem/grp
	expect_err "Permission denied" "group bits win over other bits" -- as_other cat sem/grp
}

test_other_user_mutex_needs_permission() {
	touch mutex/rootlock
	chmod 600 mutex/rootlock
	expect_err "Permission denied" "lock a 0600 root mutex" -- as_other cat mutex/rootlock
	expect_eq "$(size mutex/rootlock)" 0 "still free"
	chmod 644 mutex/rootlock
	expect_rc 0 "lock a 0644 mutex" -- as_other timeout 2 cat mutex/rootlock
}

test_other_user_creates_where_dir_mode_allows() {
	mkdir -m 0755 sem/rootonly
	expect_err "Permission denied" "create in a 0755 root namespace" -- \
		as_other touch sem/rootonly/x
	expect_err "Permission denied" "mkdir in a 0755 root namespace" -- \
		as_other mkdir sem/rootonly/d
	expect_eq "$(ls -A sem/rootonly)" "" "nothing was created"
	expect_rc 0 "create in the 1777 type directory" -- as_other touch sem/byother
	expect_rc 0 "mkdir in the 1777 type directory" -- as_other mkdir mutex/otherdir
	expect_rc 0 "create in its own namespace" -- as_other touch mutex/otherdir/m
	expect_eq "$(stat -c %u:%g sem/byother)" "$OTHER_UID:$OTHER_GID" "owner of its object"
	expect_eq "$(stat -c '%u:%g %a' mutex/otherdir)" "$OTHER_UID:$OTHER_GID 755" \
		"owner and mode of its namespace"
	expect_eq "$(stat -c %u mutex/otherdir/m)" "$OTHER_UID" "owner of the object in it"
	chmod 1777 sem/rootonly
	expect_rc 0 "create once the namespace is 1777" -- as_other touch sem/rootonly/x
}

test_other_user_sticky_dir_protects_others_objects() {
	touch sem/roots
	chmod 666 sem/roots
	expect_err "Operation not permitted" "rm of root's object in sem/" -- as_other rm -f sem/roots
	expect_err "Operation not permitted" "mv of root's object" -- \
		as_other mv sem/roots sem/stolen
	expect_rc 0 "root's object is still there" -- test -e sem/roots
	as_other touch sem/mine
	as_other touch sem/victim
	expect_err "Operation not permitted" "replacing root's object by mv" -- \
		as_other mv -f sem/mine sem/roots
	expect_rc 0 "rm of its own object" -- as_other rm sem/victim
	expect_rc 0 "root removes anyone's" -- rm sem/mine
}

test_other_user_cannot_chown_or_take_others() {
	as_other touch sem/own
	expect_rc 0 "chmod of its own object" -- as_other chmod 600 sem/own
	expect_eq "$(stat -c %a sem/own)" 600 "mode after its chmod"
	expect_err "Operation not permitted" "chown of its own to root" -- as_other chown 0 sem/own
	touch sem/rootobj
	chmod 666 sem/rootobj
	expect_err "Operation not permitted" "touch -d of root's 0666 object" -- \
		as_other touch -d 2001-01-01 sem/rootobj
	expect_rc 0 "touch (now) of root's 0666 object" -- as_other touch sem/rootobj
	expect_eq "$(stat -c %u sem/rootobj)" 0 "root still owns it"
}

# A write naming other semaphores (semop) needs write permission on each, as opening them
# for writing would: the daemon checks those, the kernel only the file written.
test_other_user_multi_needs_write_on_every_semaphore() {
	mkdir sem/pm
	echo 1 > sem/pm/a
	echo 1 > sem/pm/b
	echo 1 > sem/pm/c
	chmod 666 sem/pm/a sem/pm/c
	expect_err "Permission denied" "P of a and of root's 0644 b" -- \
		as_other bash -c 'echo "-1 b:-1" > sem/pm/a'
	expect_rc 0 "P of a and of root's 0666 c" -- as_other bash -c 'echo "-1 c:-1" > sem/pm/a'
	expect_eq "$(size sem/pm/a):$(size sem/pm/b):$(size sem/pm/c)" "0:1:0" \
		"only the permitted multi took units"
}

mount_ipcfs
run_test test_attr_new_entries_belong_to_caller_minus_umask
run_test test_attr_chmod_chown_touch_d_show_in_stat
run_test test_attr_ls_shows_true_sizes
run_test test_attr_mtime_changes_on_every_v
run_test test_attr_ctime_changes_on_chmod_not_mtime
run_test test_attr_dir_times_follow_its_entries
run_test test_attr_setgid_dir_gives_its_group
run_other_test test_other_user_shut_out_without_allow_other
unmount_ipcfs

mount_ipcfs -o allow_other
run_other_test test_other_user_gets_exactly_what_mode_grants
run_other_test test_other_user_group_bits_apply
run_other_test test_other_user_mutex_needs_permission
run_other_test test_other_user_creates_where_dir_mode_allows
run_other_test test_other_user_sticky_dir_protects_others_objects
run_other_test test_other_user_cannot_chown_or_take_others
run_other_test test_other_user_multi_needs_write_on_every_semaphore
finish
