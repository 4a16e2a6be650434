# Shared by the so_info test scripts (vm-test.sh, dkms-test.sh); sourced, not run.
#
# The caller sets HERE (this folder) and SRC (so_info/), and may set LOG_TAG
# (the word after "so_info" in log lines).  This file gives them: the cache
# folder and its lock, logging, Debian packages (through the repository's
# scripts/install-packages.sh) with one "apt-get update and retry" of a whole
# prepare step, and the ABI + headers of Debian's current kernel,
# so that every test builds against the same kernel and nothing downloads twice.
#
# Environment knob:
#   SO_INFO_CACHE     cache folder              (default: so_info/.cache)

CACHE=${SO_INFO_CACHE:-$SRC/.cache}
LOG_TAG=${LOG_TAG:-test}
INSTALL=$SRC/../scripts/install-packages.sh

T0=$(date +%s)
log() { printf '[so_info %s %3ss] %s\n' "$LOG_TAG" "$(($(date +%s) - T0))" "$*"; }
die() { printf '[so_info %s] FAIL: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

# need_root <why>
need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root ($1)"; }

# One run at a time per cache (two checkouts' runs may share a machine, not a
# cache): the tests share the headers and the kernel's cache folder.  Holds
# the lock on fd 9 until the script exits.
lock_cache() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock -w 900 9 || die "another so_info test holds $CACHE/.lock"
}

# ---------------------------------------------------------------- packages --
APT_UPDATED=0
apt_update() {
	[ "$APT_UPDATED" -eq 0 ] || return 0
	log "apt-get update"
	bash "$INSTALL" --update || die "apt-get update failed"
	APT_UPDATED=1
}
# The package lists decide which kernel is "current": the installer refreshes
# them when they are missing or older than a day (an old list names an ABI
# whose packages may be gone from the archive).
refresh_stale_lists() { bash "$INSTALL" --refresh || die "apt-get update failed"; }
ensure_pkgs() { bash "$INSTALL" "$@"; } # returns non-zero on failure

# with_apt_retry <what> <command...>: run the command (a prepare step that
# returns non-zero on failure); if it fails and this run has not refreshed the
# package lists yet, run apt-get update and try once more (a package named by
# a stale list may be gone from the mirror).
with_apt_retry() {
	local what=$1
	shift
	"$@" && return 0
	[ "$APT_UPDATED" -eq 0 ] || die "could not prepare $what"
	apt_update
	"$@" || die "could not prepare $what"
}

# ------------------------------------------------------------ kernel headers --
# ABI of Debian's current kernel, from the metapackage's dependency,
# e.g. "Depends: linux-headers-6.1.0-56-amd64" -> 6.1.0-56-amd64.
kernel_release() {
	apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-headers-\([0-9][^ ]*-amd64\)$/\1/p' | head -n1
}

# prepare_headers [more packages...]: derive the ABI and install its headers
# (plus the given packages).  Sets KREL (ABI), KDIR (kernel build tree) and
# KCACHE (this kernel's cache folder).  Returns non-zero on failure.
prepare_headers() {
	KREL=$(kernel_release || true)
	[ -n "$KREL" ] || { echo "cannot derive the kernel ABI from 'apt-cache depends linux-headers-amd64'" >&2; return 1; }
	KCACHE=$CACHE/$KREL
	KDIR=/usr/src/linux-headers-$KREL
	log "Debian kernel ABI: $KREL (from apt-cache depends linux-headers-amd64)"
	ensure_pkgs "$@" "linux-headers-$KREL" || return 1
	[ -f "$KDIR/Makefile" ] || { echo "$KDIR missing after installing linux-headers-$KREL" >&2; return 1; }
}
