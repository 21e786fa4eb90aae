#!/bin/bash
# it_package.sh - the Debian package (make deb, scripts/deb.sh) on this machine: built and lintian
# clean, installed with dpkg, mounted through an fstab line and `mount -t fuse.ipcfs` (mount.fuse3
# runs /usr/bin/ipcfs), a V and a P through it, libipc used through pkg-config, the systemd unit
# started and stopped where systemd runs (else verified offline, with a SKIP line), then purged:
# nothing of it left installed or mounted.
# Skipped with the reason where it cannot run: not root, no dpkg-deb, a sanitizer build (the
# package is made from the plain one), an ipcfs installed already (not ours to replace), or a
# mount at /run/ipcfs (the unit the package starts would mount there).
source "$(dirname "$0")/lib.sh"
REPO=$(cd "$TESTS_DIR/.." && pwd)

PKG_WHY=
if [ "$(id -u)" -ne 0 ]; then
	PKG_WHY="not root"
elif ! command -v dpkg-deb >/dev/null; then
	PKG_WHY="no dpkg-deb"
elif [ -n "$SANITIZED" ]; then
	PKG_WHY="a sanitizer build: the package is built and checked from the plain build"
elif dpkg -s ipcfs >/dev/null 2>&1 || [ -e /usr/bin/ipcfs ]; then
	PKG_WHY="ipcfs is installed on this machine already"
elif grep -q ' /run/ipcfs ' /proc/mounts; then
	PKG_WHY="something is mounted at /run/ipcfs (make run?): the package's unit would mount there"
fi

# Whatever a failed test left: our mounts, the service, the package (marked by $WORK/installed).
pkg_cleanup() {
	local m
	for m in "$WORK/fstab-mnt" "$WORK/t-mnt"; do
		grep -q " $m fuse" /proc/mounts && umount -l "$m"
	done
	if [ -e "$WORK/installed" ]; then
		[ -d /run/systemd/system ] && systemctl stop ipcfs.service 2>/dev/null
		dpkg --purge ipcfs >/dev/null 2>&1
	fi
}
CLEANUP_HOOKS+=(pkg_cleanup)

# run_pkg_test FUNCTION: run_test, or a SKIP line when the package cannot be tested here.
run_pkg_test() { run_test_unless "$PKG_WHY" "$1" 120; }

test_package_builds_lintian_clean() {
	local deb
	deb=$(make -s -C "$REPO" deb 2>"$WORK/deb.err" | tail -1)
	[ -f "$deb" ] || fail "make deb made no package: $(cat "$WORK/deb.err")"
	echo "$deb" >"$WORK/deb.path"
	dpkg-deb -c "$deb" | awk '{ print $6 }' >"$WORK/files"
	for f in ./usr/bin/ipcfs ./usr/bin/ipcctl ./usr/include/ipc/sem.h \
		./usr/share/man/man1/ipcfs.1.gz ./usr/share/man/man1/ipcctl.1.gz \
		./lib/systemd/system/ipcfs.service ./etc/default/ipcfs ./usr/share/doc/ipcfs/copyright; do
		grep -qx "$f" "$WORK/files" || fail "the package lacks $f"
	done
	grep -qE '^\./usr/lib/[^/]+/libipc\.a$' "$WORK/files" || fail "the package lacks libipc.a"
	grep -qE '^\./usr/lib/[^/]+/pkgconfig/ipc\.pc$' "$WORK/files" || fail "the package lacks ipc.pc"
	expect_eq "$(dpkg-deb -f "$deb" Package Architecture | tr '\n' ' ')" \
		"Package: ipcfs Architecture: $(dpkg --print-architecture) " "control fields"
	dpkg-deb -f "$deb" Depends | grep -q 'libfuse3-3' || fail "Depends: $(dpkg-deb -f "$deb" Depends)"
	if command -v lintian >/dev/null; then
		if grep -E '^[EW]: ' "$WORK/deb.err"; then
			fail "lintian has errors or warnings (above)"
		fi
	else
		say "SKIP lintian: not installed"
	fi
}

test_package_installs_and_mounts_through_fstab() {
	local deb f=$WORK/fstab-mnt t=$WORK/t-mnt
	deb=$(cat "$WORK/deb.path") || return 1
	touch "$WORK/installed"
	expect_rc 0 "dpkg -i" -- dpkg -i "$deb"
	expect_eq "$(command -v ipcfs)" /usr/bin/ipcfs "ipcfs on the PATH"
	expect_eq "$(ipcfs --version | head -1)" "ipcfs $(sed -n 's/^VERSION := //p' "$REPO/Makefile")" \
		"the installed daemon's version"
	[ -s /usr/share/man/man1/ipcctl.1.gz ] || fail "no ipcctl(1)"
	# an fstab line: the form mount.fuse3 takes (source, mount point, type fuse.ipcfs, options)
	mkdir -p "$f" "$t"
	echo "ipcfs $f fuse.ipcfs max_objects=3,allow_other,nofail 0 0" >"$WORK/fstab"
	expect_rc 0 "mount -T FSTAB DIR" -- timeout 10 mount -T "$WORK/fstab" "$f"
	expect_eq "$(findmnt -no FSTYPE,SOURCE "$f" | tr -s ' ')" "fuse.ipcfs ipcfs" "what is mounted"
	echo 2 >"$f/sem/s"
	expect_rc 0 "a P through the fstab mount" -- timeout 2 cat "$f/sem/s"
	expect_eq "$(stat -c %s "$f/sem/s")" 1 "the count after V(2) and P"
	mkdir "$f/sem/d1" "$f/sem/d2"
	expect_err "No space left" "max_objects=3 from the fstab line" -- mkdir "$f/sem/d3"
	expect_rc 0 "umount" -- timeout 10 umount "$f"
	# mount -t, as an administrator types it
	expect_rc 0 "mount -t fuse.ipcfs" -- timeout 10 mount -t fuse.ipcfs ipcfs "$t" -o max_objects=10
	expect_eq "$(ls "$t")" "$(printf '%s\n' barrier event fifo mq mutex rwlock sem shm)" \
		"the tree of a mount -t"
	expect_rc 0 "umount" -- timeout 10 umount "$t"
	expect_eq "$(grep -cE " ($f|$t) " /proc/self/mountinfo)" 0 "our mounts after both umounts"
	# libipc through its pkg-config file
	cat >"$WORK/use.c" <<'C'
#include <ipc/sem.h>
#include <stdio.h>
int main(void)
{
	struct ipc_sem s;
	if (ipc_sem_init(&s, 0, 0) || ipc_sem_post(&s, 2) || ipc_sem_wait_n(&s, 2))
		return 1;
	puts("libipc ok");
	return 0;
}
C
	expect_rc 0 "cc with pkg-config ipc" -- \
		cc -o "$WORK/use" "$WORK/use.c" $(pkg-config --cflags --libs ipc) -pthread
	expect_eq "$("$WORK/use")" "libipc ok" "a program on the installed libipc"
}

test_package_systemd_unit_mounts_run_ipcfs() {
	if [ ! -d /run/systemd/system ]; then
		say "SKIP start/stop: systemd is not running here (PID 1 is $(ps -p 1 -o comm=)); the unit is verified offline"
		if command -v systemd-analyze >/dev/null; then
			expect_rc 0 "systemd-analyze verify" -- \
				systemd-analyze verify /lib/systemd/system/ipcfs.service
		else
			say "SKIP systemd-analyze verify: no systemd-analyze"
		fi
		expect_eq "$(readlink /etc/systemd/system/multi-user.target.wants/ipcfs.service)" \
			/lib/systemd/system/ipcfs.service "enabled by the package (starts at boot)"
		return
	fi
	expect_rc 0 "systemctl start" -- timeout 20 systemctl start ipcfs.service
	mountpoint -q /run/ipcfs || fail "/run/ipcfs not mounted by the unit"
	echo 1 >/run/ipcfs/sem/unit
	expect_rc 0 "a P through the unit's mount" -- timeout 2 cat /run/ipcfs/sem/unit
	touch /run/ipcfs/sem/blocked
	cat /run/ipcfs/sem/blocked 2>"$WORK/blocked.err" &
	local c=$!
	sleep 0.3
	expect_rc 0 "systemctl stop" -- timeout 20 systemctl stop ipcfs.service
	wait_exit "$c" 5000
	grep -q "Input/output error" "$WORK/blocked.err" || fail "the blocked P said: $(cat "$WORK/blocked.err")"
	mountpoint -q /run/ipcfs && fail "/run/ipcfs still mounted after stop"
}

test_package_purge_leaves_nothing() {
	expect_rc 0 "dpkg --purge" -- dpkg --purge ipcfs
	rm -f "$WORK/installed"
	for f in /usr/bin/ipcfs /usr/bin/ipcctl /etc/default/ipcfs /lib/systemd/system/ipcfs.service \
		/usr/include/ipc/sem.h; do
		[ -e "$f" ] && fail "$f is left after the purge"
	done
	expect_eq "$(dpkg -s ipcfs 2>&1 | grep -c '^Status: install ok')" 0 "not installed"
	expect_eq "$(ls /etc/systemd/system/multi-user.target.wants/ipcfs.service 2>&1 | grep -c '^/')" 0 \
		"no enablement link left"
}

MNT=$WORK # the tests work on mounts of their own
run_pkg_test test_package_builds_lintian_clean
run_pkg_test test_package_installs_and_mounts_through_fstab
run_pkg_test test_package_systemd_unit_mounts_run_ipcfs
run_pkg_test test_package_purge_leaves_nothing
finish
