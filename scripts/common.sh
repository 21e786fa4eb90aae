# common.sh - sourced by the demo scripts: find the mount and ipcctl, give the script a
# directory of its own in each type tree it names, and remove them at exit.
#
#   source "$(dirname "$0")/common.sh"; demo_dirs NAME TYPE...
#
# The mount point is the script's first argument, else $IPCFS_MOUNT, else /run/ipcfs.
# After demo_dirs, $SEM, $MUTEX, $FIFO, $MQ, $SHM, $EVENT, $BARRIER and $RWLOCK name NAME's
# directories (those asked for),
# freshly made, and the current directory is the mount.
set -eu -o pipefail

mnt=${1:-${IPCFS_MOUNT:-/run/ipcfs}}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ipcctl=${IPCCTL:-$(command -v ipcctl || echo "$here/../build/ipcctl")}
if [ ! -e "$mnt/.ipcfs/status" ]; then
	echo "$(basename "$0"): $mnt is not an ipcfs mount (make run, or give the mount point)" >&2
	exit 1
fi
cd "$mnt"
demo_made=()

demo_cleanup() {
	# a job still waiting in one of these gets EIDRM and ends; then collect them all
	rm -rf "${demo_made[@]}" 2>/dev/null || true
	kill $(jobs -p) 2>/dev/null || true
	wait 2>/dev/null || true
}
trap demo_cleanup EXIT

demo_dirs() {
	local name=$1 t d
	shift
	for t in "$@"; do
		d=$t/$name
		rm -rf "$d"
		mkdir "$d"
		demo_made+=("$d")
		case $t in
		sem) SEM=$d ;;
		mutex) MUTEX=$d ;;
		fifo) FIFO=$d ;;
		mq) MQ=$d ;;
		shm) SHM=$d ;;
		event) EVENT=$d ;;
		barrier) BARRIER=$d ;;
		rwlock) RWLOCK=$d ;;
		esac
	done
}
