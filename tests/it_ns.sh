#!/bin/bash
# it_ns.sh - the namespace through the mounted filesystem: the fixed root, nested directories,
# what may be created, rm and mv of objects (EIDRM, EXDEV...), names, readdir, and the
# -o max_objects / max_memory caps.
source "$(dirname "$0")/lib.sh"

# sc OP ARGS...: one system call, printing OK or the errno's name (EXDEV, ENOTEMPTY...). Shell
# tools hide the errno we want to check: mv falls back to copy+unlink on EXDEV, rm and rmdir
# check the file type themselves before calling the kernel.
SC=$WORK/sc
cat >"$WORK/sc.c" <<'EOF'
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "", *a = argc > 2 ? argv[2] : "";
	const char *b = argc > 3 ? argv[3] : "";
	mode_t mode = (mode_t)strtoul(b, NULL, 8);
	int rc = -1;

	errno = EINVAL;
	if (!strcmp(op, "rename"))
		rc = renameat2(AT_FDCWD, a, AT_FDCWD, b, 0);
	else if (!strcmp(op, "noreplace"))
		rc = renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE);
	else if (!strcmp(op, "exchange"))
		rc = renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
	else if (!strcmp(op, "unlink"))
		rc = unlink(a);
	else if (!strcmp(op, "rmdir"))
		rc = rmdir(a);
	else if (!strcmp(op, "mkdir"))
		rc = mkdir(a, mode);
	else if (!strcmp(op, "mknod"))
		rc = mknod(a, mode, 0);
	else if (!strcmp(op, "creat"))
		rc = open(a, O_CREAT | O_WRONLY, mode);
	else if (!strcmp(op, "link"))
		rc = link(a, b);
	else if (!strcmp(op, "symlink"))
		rc = symlink(a, b);
	else if (!strcmp(op, "list")) {
		/* list directory a with a small buffer: one READDIR per few entries */
		char buf[1024];
		long got;
		int fd = open(a, O_RDONLY | O_DIRECTORY);

		while (fd >= 0 && (got = getdents64(fd, buf, sizeof(buf))) > 0)
			for (long off = 0; off < got; off += ((struct dirent64 *)(buf + off))->d_reclen)
				printf("%s\n", ((struct dirent64 *)(buf + off))->d_name);
		rc = fd < 0 || got < 0 ? -1 : 0;
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(op, "rewind")) {
		/* read directory a to its end, unlink a/b, rewinddir, print what it lists now */
		DIR *d = opendir(a);
		struct dirent *e;
		char path[4096];

		if (d) {
			while (readdir(d))
				;
			snprintf(path, sizeof(path), "%s/%s", a, b);
			rc = unlink(path);
			rewinddir(d);
			while (rc == 0 && (e = readdir(d)))
				printf("%s\n", e->d_name);
			closedir(d);
		}
	}
	puts(rc < 0 ? strerrorname_np(errno) : "OK");
	return rc < 0;
}
EOF
if ! "${CC:-cc}" -o "$SC" "$WORK/sc.c"; then
	echo "Bail out! cannot compile the system call helper"
	exit 1
fi
sc() { "$SC" "$@"; }

size() { stat -c %s "$1"; }
nlink() { stat -c %h "$1"; }
exists() { [ -e "$1" ]; }
# gone PID: the process has exited
gone() { ! kill -0 "$1" 2>/dev/null; }
# reap PID: the exit status of background job PID, which must end within 2 s; if it does not,
# it is killed and the status is 124.
reap() {
	if ! wait_until 2 gone "$1"; then
		kill -KILL "$1"
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}
# name N: a name of N bytes
name() { printf "%${1}s" '' | tr ' ' n; }

# ---- the root ----

test_root_lists_sticky_type_dirs() {
	expect_eq "$(ls -a | tr '\n' ' ')" ". .. .ipcfs barrier event fifo mq mutex rwlock sem shm " \
		"entries of the root"
	for d in sem mutex fifo mq shm event barrier rwlock; do
		expect_eq "$(stat -c '%F %a %U %G' $d)" "directory 1777 root root" "$d/ like /tmp"
	done
	expect_eq "$(stat -c '%F %a %U %G' .ipcfs)" "directory 555 root root" "the inspection view"
	expect_eq "$(nlink .)" 11 "root st_nlink (2 + eight type dirs + .ipcfs)"
}

test_root_type_dirs_cannot_be_removed_or_renamed() {
	expect_eq "$(sc rmdir sem)" EPERM "rmdir sem"
	expect_eq "$(sc unlink mutex)" EISDIR "unlink mutex"
	expect_err "Operation not permitted" "rm -rf sem" -- rm -rf sem
	expect_eq "$(sc rename sem foo)" EPERM "rename sem to a new root name"
	expect_eq "$(sc rename mutex sem)" EPERM "rename mutex over sem"
	expect_eq "$(sc rename sem mutex/sem)" EPERM "rename sem into mutex"
	mkdir sem/rootmv
	expect_eq "$(sc rename sem/rootmv mutex)" EPERM "rename a namespace over mutex"
	expect_eq "$(ls | tr '\n' ' ')" "barrier event fifo mq mutex rwlock sem shm " "the root is unchanged"
}

test_root_refuses_new_entries() {
	expect_err "Operation not permitted" "touch at the root" -- touch x
	expect_err "Operation not permitted" "> at the root" -- bash -c ': > y'
	expect_err "Operation not permitted" "mkdir at the root" -- mkdir d
	expect_eq "$(sc mknod r 0100644)" EPERM "mknod S_IFREG at the root"
	expect_eq "$(sc creat c 0644)" EPERM "open(O_CREAT) at the root"
	touch sem/rootobj
	expect_eq "$(sc rename sem/rootobj obj)" EPERM "rename an object to the root"
	expect_eq "$(ls | tr '\n' ' ')" "barrier event fifo mq mutex rwlock sem shm " "the root is unchanged"
	expect_rc 0 "the object stayed in sem/" -- exists sem/rootobj
}

# ---- directories: nested namespaces ----

test_dir_nested_namespaces_hold_objects() {
	mkdir -p sem/n1/n2/n3/n4/n5 mutex/n1/n2
	echo 4 >sem/n1/n2/n3/n4/n5/deep
	touch mutex/n1/n2/m
	expect_eq "$(size sem/n1/n2/n3/n4/n5/deep)" 4 "count of a deeply nested semaphore"
	expect_rc 0 "P on the nested semaphore" -- timeout 2 cat sem/n1/n2/n3/n4/n5/deep
	expect_eq "$(size sem/n1/n2/n3/n4/n5/deep)" 3 "count after P"
	expect_eq "$(stat -c %F mutex/n1/n2/m)" "regular empty file" "nested mutex"
	expect_rc 0 "lock the nested mutex" -- timeout 2 cat mutex/n1/n2/m
	mkdir -m 0700 sem/n1/private
	expect_eq "$(stat -c '%F %a' sem/n1/private)" "directory 700" "a namespace's own mode"
}

test_dir_rmdir_only_when_empty() {
	mkdir -p sem/full/sub
	touch sem/full/obj
	expect_eq "$(sc rmdir sem/full)" ENOTEMPTY "rmdir with an object and a subdir"
	rm sem/full/obj
	expect_eq "$(sc rmdir sem/full)" ENOTEMPTY "rmdir with a subdir"
	rmdir sem/full/sub
	expect_eq "$(sc rmdir sem/full)" OK "rmdir once empty"
	expect_rc 1 "the directory is gone" -- exists sem/full
	mkdir sem/full
	expect_eq "$(ls -A sem/full)" "" "a directory made again under the same name is empty"
}

test_dir_rm_of_dir_and_rmdir_of_file() {
	mkdir sem/rmd
	touch sem/rmf
	expect_eq "$(sc unlink sem/rmd)" EISDIR "unlink a directory"
	expect_eq "$(sc rmdir sem/rmf)" ENOTDIR "rmdir a file"
	expect_err "Is a directory" "rm of a directory" -- rm sem/rmd
	expect_err "Not a directory" "rmdir of a file" -- rmdir sem/rmf
	expect_rc 0 "both still there" -- test -e sem/rmd -a -e sem/rmf
}

test_dir_nlink_counts_subdirs() {
	mkdir -p sem/nl/a sem/nl/b mutex/nl
	touch sem/nl/obj
	expect_eq "$(nlink sem/nl)" 4 "2 + two subdirs (objects do not count)"
	expect_eq "$(nlink sem/nl/a)" 2 "an empty directory"
	rmdir sem/nl/b
	expect_eq "$(nlink sem/nl)" 3 "after rmdir"
	mv sem/nl/a sem/nl2
	expect_eq "$(nlink sem/nl)" 2 "the source after moving a subdir out"
	expect_eq "$(nlink sem)" $((2 + $(find sem -mindepth 1 -maxdepth 1 -type d | wc -l))) \
		"the type directory counts its subdirs"
	expect_eq "$(nlink .)" 11 "the root"
}

test_dir_ls_shows_dot_entries_and_inodes() {
	mkdir -p sem/la/sub
	touch sem/la/obj
	expect_eq "$(ls -a sem/la | tr '\n' ' ')" ". .. obj sub " "ls -a of a nested directory"
	expect_eq "$(ls -la sem/la | grep -c '^d')" 3 "ls -la: . .. and sub are directories"
	expect_eq "$(ls -la sem/la | grep -c '^-')" 1 "ls -la: obj is a regular file"
	# readdir's inode numbers are the ones stat reports
	expect_eq "$(ls -ai sem/la | awk '$2 == ".." {print $1}')" "$(stat -c %i sem)" "ino of .."
	expect_eq "$(ls -ai sem/la | awk '$2 == "obj" {print $1}')" "$(stat -c %i sem/la/obj)" \
		"ino of obj"
}

test_dir_find_lists_everything() {
	mkdir -p sem/fd/x/y mutex/fd
	touch sem/fd/x/y/s1 sem/fd/s2 mutex/fd/m1
	# find trusts st_nlink - 2 as the number of subdirectories (leaf optimisation)
	expect_eq "$(find "$MNT" -path '*/fd*' | sed "s|^$MNT/||" | sort | tr '\n' ' ')" \
		"mutex/fd mutex/fd/m1 sem/fd sem/fd/s2 sem/fd/x sem/fd/x/y sem/fd/x/y/s1 " \
		"find from the mount point"
	expect_eq "$(find "$MNT" -type d -path '*/fd*' | wc -l)" 4 "find -type d"
	expect_eq "$(find "$MNT" -maxdepth 1 | wc -l)" 10 \
		"the root, the eight type directories and .ipcfs"
}

test_dir_rewinddir_sees_changes() {
	mkdir sem/rw
	touch sem/rw/keep sem/rw/drop
	# what programs that delete while scanning and then rescan rely on
	expect_eq "$(sc rewind sem/rw drop | sort | tr '\n' ' ')" ". .. OK keep " \
		"listing after unlink and rewinddir"
}

test_dir_readdir_consistent_while_changing() {
	local pad churner i list
	pad=$(name 180) # long names: a listing takes several getdents calls
	mkdir sem/churn
	# the entries removed meanwhile come first, so that every removal moves the position
	# of every stable entry
	for i in $(seq 400); do : >"sem/churn/early-$i-$pad"; done
	for i in $(seq 300); do : >"sem/churn/stable-$i-$pad"; done
	(
		for i in $(seq 400); do
			rm "sem/churn/early-$i-$pad"
			: >"sem/churn/late-$i-$pad"
		done
		while [ ! -e "$WORK/churn.stop" ]; do
			mkdir sem/churn/tmpdir && rmdir sem/churn/tmpdir
			mv "sem/churn/late-1-$pad" sem/churn/moved && mv sem/churn/moved "sem/churn/late-1-$pad"
		done
	) 2>/dev/null &
	churner=$!
	list=$WORK/churn.list
	for i in $(seq 30); do
		sc list sem/churn >"$list"
		expect_eq "$(tail -1 "$list")" OK "round $i: listing"
		expect_eq "$(grep -c '^stable-' "$list")" 300 "round $i: every stable entry listed"
		expect_eq "$(sort "$list" | uniq -d)" "" "round $i: no entry listed twice"
		ls -la sem/churn >/dev/null 2>&1
		find sem/churn >/dev/null 2>&1
	done
	# let the churner finish its round: killing it could leave a last mv running
	touch "$WORK/churn.stop"
	wait "$churner" 2>/dev/null
	rm -rf sem/churn
	expect_rc 1 "the churned directory is removed" -- exists sem/churn
	expect_rc 0 "the daemon still answers" -- mounted
}

# ---- what can be created ----

test_create_regular_file_ways_make_objects() {
	touch sem/by-touch
	: >sem/by-redirect
	expect_eq "$(sc creat sem/by-open 0644)" OK "open(O_CREAT)"
	expect_eq "$(sc mknod sem/by-mknod 0100644)" OK "mknod S_IFREG"
	expect_eq "$(sc mknod mutex/by-mknod 0100644)" OK "mknod S_IFREG of a mutex"
	for f in sem/by-touch sem/by-redirect sem/by-open sem/by-mknod mutex/by-mknod; do
		expect_eq "$(stat -c '%F %s' $f)" "regular empty file 0" "$f is a new object"
	done
	echo 2 >sem/by-mknod
	expect_eq "$(size sem/by-mknod)" 2 "a mknod'ed semaphore counts"
	expect_rc 0 "lock the mknod'ed mutex" -- timeout 2 cat mutex/by-mknod
}

test_create_special_files_and_links_refused() {
	touch sem/target
	expect_err "Operation not permitted" "mkfifo" -- mkfifo sem/fifo
	expect_err "Operation not permitted" "mknod p" -- mknod sem/p p
	expect_err "Operation not permitted" "mknod c" -- mknod sem/c c 1 3
	expect_err "Operation not permitted" "mknod b" -- mknod sem/b b 7 0
	expect_eq "$(sc mknod sem/sock 0140644)" EPERM "mknod S_IFSOCK"
	expect_err "Operation not permitted" "ln" -- ln sem/target sem/hard
	expect_err "Operation not permitted" "ln -s at the root" -- ln -s sem soft
	expect_err "Operation not permitted" "ln -s in the view" -- ln -s x .ipcfs/soft
	expect_eq "$(cd sem && ls -d fifo p c b sock hard 2>/dev/null)" "" "nothing was created"
	expect_eq "$(ls -d soft .ipcfs/soft 2>/dev/null)" "" "no link at the root or in the view"
	expect_eq "$(stat -c %h sem/target)" 1 "the link target keeps one link"
}

# A symbolic link is another name of its target for every call, resolved by the kernel as on
# tmpfs: P and V through it act on the target; ls, readlink, find and stat see a link.
test_symlink_is_another_name_of_its_target() {
	mkdir sem/lk
	echo 2 > sem/lk/pool
	mkdir sem/lk/app
	ln -s ../pool sem/lk/app/jobs
	expect_eq "$(stat -c '%A %s %N' sem/lk/app/jobs)" "lrwxrwxrwx 7 'sem/lk/app/jobs' -> '../pool'" \
		"lstat of the link"
	expect_eq "$(readlink sem/lk/app/jobs)" "../pool" "readlink"
	expect_eq "$(find sem/lk -type l)" "sem/lk/app/jobs" "find -type l (d_type)"
	expect_eq "$(stat -L -c '%F %s' sem/lk/app/jobs)" "regular file 2" "stat -L: the semaphore"
	expect_rc 0 "P through the link" -- timeout 2 cat sem/lk/app/jobs
	echo 5 > sem/lk/app/jobs
	expect_eq "$(size sem/lk/pool)" 6 "the target's count after P and V(5) through the link"
	ln -s app/jobs sem/lk/chain
	expect_rc 0 "P through a link to a link" -- timeout 2 cat sem/lk/chain
	expect_eq "$(size sem/lk/pool)" 5 "the count after it"
	touch mutex/lkm
	ln -s lkm mutex/lkl
	(exec 8>mutex/lkl && sleep 0.3) &
	wait_until 2 size_is 1 mutex/lkm || fail "a mutex opened through a link is not held"
	wait
	ln -s nowhere sem/lk/dangling
	expect_err "No such file" "a dangling link" -- cat sem/lk/dangling
	ln -s loop sem/lk/loop
	expect_err "Too many levels" "a link to itself" -- cat sem/lk/loop
	mv sem/lk/app/jobs sem/lk/app/renamed
	expect_eq "$(readlink sem/lk/app/renamed)" "../pool" "a renamed link keeps its target"
	expect_eq "$(grep -c '/lk/' .ipcfs/status)" 1 "only the semaphore in the inspection"
	rm sem/lk/app/renamed sem/lk/chain
	expect_eq "$(size sem/lk/pool)" 5 "rm of links leaves the target"
	rm -r sem/lk
	expect_eq "$(ls sem/lk 2>&1)" "ls: cannot access 'sem/lk': No such file or directory" \
		"rm -r of a tree with links"
}

# A semaphore named in a write of several terms may be a symbolic link: the daemon follows it
# as the kernel would, and refuses one that leads to no semaphore.
test_symlink_followed_by_a_multi_write() {
	mkdir sem/lm sem/lm/d
	echo 1 > sem/lm/a
	echo 1 > sem/lm/d/b
	ln -s d/b sem/lm/b
	echo "-1 b:-1" > sem/lm/a
	expect_eq "$(size sem/lm/a):$(size sem/lm/d/b)" "0:0" "a multi through a link"
	touch mutex/lmx
	ln -s ../../mutex/lmx sem/lm/mx
	ln -s d sem/lm/dir
	ln -s self sem/lm/self
	ln -s nothere sem/lm/gone
	expect_err "Invalid argument" "a link to a mutex" -- bash -c 'echo "1 mx:1" > sem/lm/a'
	expect_err "Is a directory" "a link to a directory" -- bash -c 'echo "1 dir:1" > sem/lm/a'
	expect_err "Too many levels" "a loop" -- bash -c 'echo "1 self:1" > sem/lm/a'
	expect_err "No such file" "a dangling link" -- bash -c 'echo "1 gone:1" > sem/lm/a'
	ln -s "$MNT/sem/lm/d/b" sem/lm/abs
	echo "1 abs:1" > sem/lm/a
	expect_eq "$(size sem/lm/a):$(size sem/lm/d/b)" "1:1" "an absolute link into the mount"
	# links that multiply (each names the one before 30 times): ELOOP at once, because the
	# daemon counts every link it follows (40 in all, as the kernel), not only their nesting
	ln -s . sem/lm/L0
	for k in 1 2 3 4 5 6; do
		ln -s "$(for _ in $(seq 30); do printf 'L%d/' $((k - 1)); done)L$((k - 1))" "sem/lm/L$k"
	done
	expect_err "Too many levels" "a chain of links that multiplies" -- \
		timeout 5 bash -c 'echo "1 L6:1" > sem/lm/a'
	expect_rc 0 "ls of the directory after it" -- timeout 2 ls sem/lm
	rm -r sem/lm mutex/lmx
}

test_create_existing_name_is_eexist() {
	mkdir sem/ex
	touch sem/exo
	expect_eq "$(sc mkdir sem/ex 0755)" EEXIST "mkdir over a directory"
	expect_eq "$(sc mkdir sem/exo 0755)" EEXIST "mkdir over an object"
	expect_eq "$(sc mknod sem/exo 0100644)" EEXIST "mknod over an object"
}

# ---- rm: the object dies ----

test_rm_wakes_parked_waiter_with_eidrm() {
	local err=$WORK/rmwait.err waiter
	touch sem/doomed
	cat sem/doomed 2>"$err" &
	waiter=$!
	sleep 0.2
	gone "$waiter" && fail "P on an empty semaphore did not block"
	rm sem/doomed
	reap "$waiter"
	expect_eq "$?" 1 "the parked P's exit status (124: still blocked after rm)"
	expect_eq "$(cat "$err")" "cat: sem/doomed: Identifier removed" "the parked P's error"
	expect_rc 1 "the name is gone" -- exists sem/doomed
}

test_rm_of_locked_mutex_fails_its_waiter_with_eidrm() {
	local err=$WORK/rmmutex.err waiter
	touch mutex/doomed
	exec 9<mutex/doomed
	bash -c 'cat mutex/doomed' 9<&- 2>"$err" &
	waiter=$!
	sleep 0.2
	gone "$waiter" && fail "the second locker did not wait"
	rm mutex/doomed
	reap "$waiter"
	expect_eq "$?" 1 "the waiting locker's exit status (124: still blocked after rm)"
	expect_eq "$(cat "$err")" "cat: mutex/doomed: Identifier removed" "its error"
	exec 9<&-
}

test_rm_fails_later_operations_on_open_handles() {
	echo 2 >sem/held
	exec 8<>sem/held
	rm sem/held
	expect_err "Identifier removed" "read(P) through a handle opened before rm" -- read -r -u 8
	expect_err "Identifier removed" "cat <&8" -- cat <&8
	expect_err "Identifier removed" "write(V) through the old handle" -- bash -c 'echo >&8'
	expect_eq "$(stat -L -c %h /dev/fd/8)" 0 "fstat of a removed object: no links"
	touch sem/held
	expect_eq "$(size sem/held)" 0 "a new object under the old name starts afresh"
	expect_rc 0 "the new object works" -- bash -c 'echo > sem/held'
	expect_err "Identifier removed" "the old handle stays dead" -- read -r -u 8
	exec 8<&-
}

# ---- mv ----

test_mv_keeps_object_and_its_waiters() {
	local ino waiter
	mkdir -p sem/mvdir
	echo 3 >sem/mvsrc
	ino=$(stat -c %i sem/mvsrc)
	mv sem/mvsrc sem/mvdir/moved
	expect_rc 1 "the old name is gone" -- exists sem/mvsrc
	expect_eq "$(size sem/mvdir/moved)" 3 "the count survives mv"
	expect_eq "$(stat -c %i sem/mvdir/moved)" "$ino" "same inode"
	timeout 2 cat sem/mvdir/moved sem/mvdir/moved sem/mvdir/moved
	expect_eq "$(size sem/mvdir/moved)" 0 "three P on the new name"
	# a P parked under the old name is served by a V under the new one
	cat sem/mvdir/moved &
	waiter=$!
	sleep 0.2
	mv sem/mvdir/moved sem/mvback
	echo >sem/mvback
	reap "$waiter"
	expect_eq "$?" 0 "the parked P's exit status (124: a V after mv did not serve it)"
}

test_mv_keeps_mutex_locked() {
	touch mutex/mvm
	exec 9<mutex/mvm
	mv mutex/mvm mutex/mvm2
	expect_rc 124 "the moved mutex is still held" -- timeout 0.5 bash -c 'cat mutex/mvm2' 9<&-
	exec 9<&-
	expect_rc 0 "unlocked: it can be taken" -- timeout 2 bash -c 'cat mutex/mvm2'
}

test_mv_over_target_destroys_it() {
	local err=$WORK/mvover.err waiter
	touch sem/victim
	echo 5 >sem/winner
	cat sem/victim 2>"$err" &
	waiter=$!
	sleep 0.2
	expect_eq "$(sc rename sem/winner sem/victim)" OK "rename over an object"
	reap "$waiter"
	expect_eq "$?" 1 "the victim's waiter exit status (124: still blocked)"
	expect_eq "$(cat "$err")" "cat: sem/victim: Identifier removed" "the victim's waiter error"
	expect_eq "$(size sem/victim)" 5 "the name now holds the moved object"
	expect_rc 1 "the source name is gone" -- exists sem/winner
}

test_mv_across_types_is_exdev() {
	echo 2 >sem/xdev
	mkdir sem/xdevdir
	expect_eq "$(sc rename sem/xdev mutex/xdev)" EXDEV "an object to another type"
	expect_eq "$(sc rename sem/xdevdir mutex/xdevdir)" EXDEV "a namespace to another type"
	expect_eq "$(size sem/xdev)" 2 "the object is untouched"
	expect_rc 1 "nothing appeared in mutex/" -- exists mutex/xdev
}

test_mv_dir_into_itself_is_einval() {
	mkdir -p sem/self/in/deeper
	expect_eq "$(sc rename sem/self sem/self/in/deeper/self)" EINVAL "into its own subdir"
	expect_err "subdirectory of itself" "mv -T" -- mv -T sem/self sem/self/in/x
	expect_rc 0 "the tree is unchanged" -- exists sem/self/in/deeper
}

test_mv_dir_over_dirs_and_files() {
	mkdir -p sem/ov/src/inner sem/ov/full/x sem/ov/empty
	touch sem/ov/file
	expect_eq "$(sc rename sem/ov/src sem/ov/full)" ENOTEMPTY "over a non-empty dir"
	expect_eq "$(sc rename sem/ov/src sem/ov/file)" ENOTDIR "a dir over a file"
	expect_eq "$(sc rename sem/ov/file sem/ov/empty)" EISDIR "a file over a dir"
	expect_eq "$(sc rename sem/ov/src sem/ov/empty)" OK "over an empty dir"
	expect_rc 0 "its content moved along" -- exists sem/ov/empty/inner
	expect_rc 1 "the source is gone" -- exists sem/ov/src
	expect_eq "$(nlink sem/ov)" 4 "nlink of the parent: empty replaced, full stays"
}

test_mv_noreplace_and_exchange() {
	echo 1 >sem/nr-a
	echo 2 >sem/nr-b
	expect_eq "$(sc noreplace sem/nr-a sem/nr-b)" EEXIST "RENAME_NOREPLACE onto an object"
	expect_eq "$(sc noreplace sem/nr-a sem/nr-c)" OK "RENAME_NOREPLACE to a free name"
	expect_eq "$(sc exchange sem/nr-c sem/nr-b)" EINVAL "RENAME_EXCHANGE is not supported"
	expect_eq "$(size sem/nr-c):$(size sem/nr-b)" "1:2" "counts after all that"
}

test_mv_updates_both_directories_times() {
	mkdir -p sem/tfrom sem/tto
	touch sem/tfrom/obj
	touch -d '2001-02-03 04:05:06' sem/tfrom sem/tto
	mv sem/tfrom/obj sem/tto/obj
	expect_eq "$(stat -c %y sem/tfrom | cut -c1-4)" "$(date +%Y)" "mtime of the source directory"
	expect_eq "$(stat -c %y sem/tto | cut -c1-4)" "$(date +%Y)" "mtime of the target directory"
	expect_eq "$(stat -c %z sem/tto)" "$(stat -c %y sem/tto)" "ctime of the target directory"
}

# ---- names ----

test_name_max_is_255_bytes() {
	local n255 n256
	n255=$(name 255)
	n256=$(name 256)
	expect_rc 0 "touch a 255-byte name" -- touch "sem/$n255"
	expect_eq "$(ls sem | grep -c "^$n255\$")" 1 "ls shows the 255-byte name"
	expect_rc 0 "mkdir a 255-byte name" -- mkdir "mutex/$n255"
	expect_err "File name too long" "touch 256 bytes" -- touch "sem/$n256"
	expect_err "File name too long" "mkdir 256 bytes" -- mkdir "sem/$n256"
	expect_err "File name too long" "stat 256 bytes" -- stat "sem/$n256"
	expect_eq "$(sc rename "sem/$n255" "sem/$n256")" ENAMETOOLONG "rename to 256 bytes"
	expect_rc 0 "the object kept its name" -- exists "sem/$n255"
	expect_rc 0 "names with spaces and newlines" -- touch "sem/a b" "sem/c
d"
	expect_eq "$(find sem -maxdepth 1 -name 'c?d' -printf x)" x "the newline name is listed"
}

# ---- caps (each on its own mount) ----

test_limit_max_objects_is_enospc() {
	mkdir sem/cap
	touch sem/cap/1 sem/cap/2 mutex/3
	expect_err "No space left on device" "the 5th object" -- touch sem/cap/4
	expect_err "No space left on device" "a directory counts too" -- mkdir sem/capdir
	expect_eq "$(sc mknod sem/cap/5 0100644)" ENOSPC "mknod"
	expect_rc 1 "nothing was created" -- test -e sem/cap/4 -o -e sem/capdir -o -e sem/cap/5
	expect_eq "$(find sem mutex -mindepth 1 | wc -l)" 4 "the four entries"
	expect_rc 0 "mv needs no room" -- mv sem/cap/1 sem/moved
	rm sem/moved
	expect_rc 0 "rm frees room" -- touch sem/cap/4
	expect_err "No space left on device" "full again" -- touch sem/cap/6
}

test_limit_max_memory_is_enospc() {
	local i made=0
	for i in $(seq 200); do
		touch "sem/m$i" 2>"$WORK/mem.err" || break
		made=$i
	done
	expect_eq "$(cat "$WORK/mem.err")" "touch: cannot touch 'sem/m$i': No space left on device" \
		"creating past -o max_memory"
	[ "$made" -gt 0 ] && [ "$made" -lt 200 ] || fail "$made objects fit in 8K"
	expect_rc 1 "the refused object does not exist" -- exists "sem/m$i"
	expect_err "No space left on device" "a long name costs memory too" -- touch "sem/$(name 255)"
	rm sem/m1
	expect_rc 0 "rm frees memory" -- touch "sem/m$i"
}

# The daemon stops (next) while a process still sits in a removed namespace: it must exit
# cleanly, freeing what the kernel still held (the sanitizer builds report leaks as failures).
test_stop_with_removed_dir_in_use() {
	mkdir -p sem/cwd/sub
	(cd sem/cwd/sub && exec sleep 5) &
	echo $! >"$WORK/holder.pid"
	wait_until 2 test -d "/proc/$(cat "$WORK/holder.pid")/cwd/." || fail "no process in sem/cwd/sub"
	rmdir sem/cwd/sub sem/cwd
	expect_rc 1 "the namespace is gone" -- exists sem/cwd
}

test_options_bad_values_refused() {
	local opt dir=$WORK/badmnt rc
	mkdir -p "$dir"
	for opt in max_objects=abc max_objects=-1 max_objects=5x max_memory=1Q max_memory= \
		max_memory=99999999999999999999G; do
		timeout 5 "$IPCFS" -f -o "$opt" "$dir" 2>"$WORK/opt.err"
		rc=$?
		grep -q " $dir fuse" /proc/mounts && fusermount3 -u -z "$dir"
		[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "-o $opt: exit status $rc"
		grep -q -- "$opt" "$WORK/opt.err" || fail "-o $opt: message '$(cat "$WORK/opt.err")'"
	done
}

mount_ipcfs
run_test test_root_lists_sticky_type_dirs
run_test test_root_type_dirs_cannot_be_removed_or_renamed
run_test test_root_refuses_new_entries
run_test test_dir_nested_namespaces_hold_objects
run_test test_dir_rmdir_only_when_empty
run_test test_dir_rm_of_dir_and_rmdir_of_file
run_test test_dir_nlink_counts_subdirs
run_test test_dir_ls_shows_dot_entries_and_inodes
run_test test_dir_find_lists_everything
run_test test_dir_rewinddir_sees_changes
run_test test_dir_readdir_consistent_while_changing
run_test test_create_regular_file_ways_make_objects
run_test test_create_special_files_and_links_refused
run_test test_create_existing_name_is_eexist
run_test test_rm_wakes_parked_waiter_with_eidrm
run_test test_rm_of_locked_mutex_fails_its_waiter_with_eidrm
run_test test_rm_fails_later_operations_on_open_handles
run_test test_mv_keeps_object_and_its_waiters
run_test test_mv_keeps_mutex_locked
run_test test_mv_over_target_destroys_it
run_test test_mv_across_types_is_exdev
run_test test_mv_dir_into_itself_is_einval
run_test test_mv_dir_over_dirs_and_files
run_test test_mv_noreplace_and_exchange
run_test test_mv_updates_both_directories_times
run_test test_symlink_is_another_name_of_its_target
run_test test_symlink_followed_by_a_multi_write
run_test test_name_max_is_255_bytes
run_test test_options_bad_values_refused
run_test test_stop_with_removed_dir_in_use
unmount_ipcfs
kill "$(cat "$WORK/holder.pid")" 2>/dev/null

mount_ipcfs -o max_objects=4
run_test test_limit_max_objects_is_enospc
unmount_ipcfs

mount_ipcfs -o max_memory=8K
run_test test_limit_max_memory_is_enospc
finish
