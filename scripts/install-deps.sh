#!/bin/sh
# Install what ipcfs needs to build, test and run on Debian 12 (or a derivative).
# Called by `make` when pkg-config cannot find a dependency; safe to run again.
#   install-deps.sh          what `make`, `make test` and `make run` need
#   install-deps.sh --fuzz   also clang and its fuzzer runtime, for `make fuzz`
#   install-deps.sh --bench  also what `make bench` compares with and plots: GNU parallel (sem),
#                            redis-server, redis-tools (redis-cli) and gnuplot
set -eu

# attr: setfattr/getfattr, the documented way to set per-object limits; python3: the tests;
# libcurl and json-c: the etcd store's client; etcd-server and etcd-client: the clusters the
# tests start on loopback (no service is needed: tests run their own members); lintian: the
# check of the Debian package that `make deb` builds (tests/it_package.sh); tmux: the terminal
# that tests `ipcctl top` (tests/it_ipcctl.sh)
PKGS="build-essential pkg-config libfuse3-dev fuse3 libcmocka-dev attr python3 \
libcurl4-openssl-dev libjson-c-dev etcd-server etcd-client lintian tmux"
case "${1:-}" in
--fuzz) PKGS="$PKGS clang libclang-rt-dev" ;;
--bench) PKGS="$PKGS parallel redis-server redis-tools gnuplot-nox" ;;
esac

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "install-deps: need root or sudo to install: $PKGS" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: no apt-get; install these by hand: $PKGS" >&2
	exit 1
fi

echo "install-deps: installing $PKGS" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $PKGS
