#!/bin/bash
# deb.sh BUILD VERSION - build the Debian package BUILD/ipcfs_VERSION-1_ARCH.deb from the objects
# in BUILD (make deb runs it): ipcfs and ipcctl in /usr/bin, libipc.a with its headers and
# ipc.pc, the man pages, the systemd unit ipcfs.service (mounts /run/ipcfs at boot) and its
# options in /etc/default/ipcfs (a conffile). Built with dpkg-deb from a staged tree (no
# debian/ directory in the source: the package's files live in scripts/package/); the
# dependencies come from dpkg-shlibdeps. Prints the package's path; runs lintian when it is
# installed and shows what it says.
set -euo pipefail
build=$1 # relative to the sources, as make's BUILD
version=$2-1 # the Debian revision: a package of upstream version $2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
pkg=$here/package
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/ipcfs
out=$top/$build/ipcfs_${version}_${arch}.deb

make -s -C "$top" install BUILD="$build" DESTDIR="$stage" PREFIX=/usr LIBDIR="/usr/lib/$multiarch" >&2
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/ipcfs" \
	"$stage/usr/bin/ipcctl"
strip --strip-debug "$stage/usr/lib/$multiarch/libipc.a"
gzip -9n "$stage"/usr/share/man/man1/*.1
install -D -m 644 "$pkg/ipcfs.service" "$stage/lib/systemd/system/ipcfs.service"
install -D -m 644 "$pkg/default" "$stage/etc/default/ipcfs"
install -D -m 644 "$pkg/copyright" "$stage/usr/share/doc/ipcfs/copyright"
printf 'ipcfs (%s) unstable; urgency=medium\n\n  * Built from the ipcfs sources.\n\n -- ipcfs developers <ipcfs@example.org>  %s\n' \
	"$version" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}")" |
	gzip -9n >"$stage/usr/share/doc/ipcfs/changelog.Debian.gz"
# a package built here, not uploaded to Debian: no ITP bug to close
install -d "$stage/usr/share/lintian/overrides"
echo "ipcfs: initial-upload-closes-no-bugs" >"$stage/usr/share/lintian/overrides/ipcfs"
chmod -R u=rwX,go=rX "$stage"

# dpkg-shlibdeps reads debian/control of the directory it runs in
mkdir -p "$work/debian"
printf 'Source: ipcfs\n\nPackage: ipcfs\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e"ipcfs/usr/bin/ipcfs" -e"ipcfs/usr/bin/ipcctl" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
install -d -m 755 "$stage/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SHLIBS@/$shlibs/" \
	-e "s/@SIZE@/$(du -sk --exclude=DEBIAN "$stage" | cut -f1)/" "$pkg/control.in" \
	>"$stage/DEBIAN/control"
echo /etc/default/ipcfs >"$stage/DEBIAN/conffiles"
install -m 755 "$pkg/postinst" "$pkg/prerm" "$pkg/postrm" "$stage/DEBIAN/"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >&2
if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 "$out" >&2 || true
fi
echo "$out"
