#!/usr/bin/env bash
# so_info DKMS test: put so_info/ where dkms expects a package's sources, then
# dkms add, build (for Debian's current kernel: the one whose headers
# vm-test.sh builds against), autoinstall (what Debian's kernel postinst hook
# runs on a kernel upgrade) and remove it, checking the module after each step.
#
# Nothing machine-wide is touched: dkms runs with a private source tree, DKMS
# tree, install tree, signing key and TMPDIR, all under
# so_info/.cache/<abi>/dkms/, and without depmod (which would write
# /lib/modules/<abi>/modules.dep).  The test checks at the end that
# /var/lib/dkms and /lib/modules/<abi> did not change.  The private folder is
# deleted when the test passes (its dkms output goes to
# so_info/.cache/<abi>/dkms-test.log) and kept, with dkms.log, when it fails.
#
# Needs root (apt-get; dkms refuses autoinstall otherwise).  Installs missing
# Debian packages itself (dkms, the kernel headers).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
LOG_TAG=dkms-test
# cache, lock, log/die, packages, Debian's current kernel ABI and headers
. "$HERE/lib.sh"

# The files a DKMS package of so_info consists of (README.md copies the same).
PKG_FILES=(dkms.conf Makefile Kbuild so_info.c)

need_root "apt-get install; dkms autoinstall checks for root"
lock_cache
refresh_stale_lists
with_apt_retry "dkms and the kernel headers" prepare_headers dkms gcc make kmod

# Name and version exactly as dkms reads them: dkms sources dkms.conf with bash.
read -r NAME VERSION < <(kernel_source_dir=$KDIR; . "$SRC/dkms.conf"; echo "$PACKAGE_NAME $PACKAGE_VERSION")
[ -n "$NAME" ] && [ -n "$VERSION" ] || die "dkms.conf: no PACKAGE_NAME or PACKAGE_VERSION"
ARCH=$(uname -m)

D=$KCACHE/dkms
SRCTREE=$D/src
DKMSTREE=$D/tree
ROOT=$D/root                       # depmod -b / modprobe -d base
INSTTREE=$ROOT/lib/modules
DLOG=$D/dkms.log
rm -rf "$D" "$KCACHE/dkms-test.log"   # a previous run's tree and log
mkdir -p "$SRCTREE/$NAME-$VERSION" "$DKMSTREE" "$INSTTREE/$KREL" "$D/tmp"

# dkms's signing key defaults to /var/lib/dkms/mok.{key,pub} whatever
# --dkmstree says, and it generates one there if missing; these variables are
# read from the environment (unless /etc/dkms/framework.conf sets them).
export mok_signing_key=$D/mok.key mok_certificate=$D/mok.pub TMPDIR=$D/tmp

# What the test must leave as it found it.
machine_state() {
	ls -lA --time-style=+%s /var/lib/dkms 2>/dev/null || true
	ls -lAR --time-style=+%s "/lib/modules/$KREL" 2>/dev/null || true
}
BEFORE=$(machine_state)

# dkms_run <step> <dkms args...>: dkms in the private trees; output to dkms.log,
# shown (with the build's make.log) when dkms fails.
dkms_run() {
	local step=$1
	shift
	echo "### dkms $*" >>"$DLOG"
	if ! dkms --dkmstree "$DKMSTREE" --sourcetree "$SRCTREE" --installtree "$INSTTREE" \
		--kernelsourcedir "$KDIR" --no-depmod "$@" >>"$DLOG" 2>&1; then
		tail -n 40 "$DLOG" >&2
		local mlog
		for mlog in "$DKMSTREE/$NAME/$VERSION/build/make.log" "$DKMSTREE/$NAME/$VERSION/$KREL/$ARCH/log/make.log"; do
			[ -f "$mlog" ] && { echo "----- $mlog" >&2; tail -n 40 "$mlog" >&2; }
		done
		die "dkms $step failed (private tree kept: $D)"
	fi
}
dkms_status() {
	dkms --dkmstree "$DKMSTREE" --sourcetree "$SRCTREE" --installtree "$INSTTREE" status "$NAME/$VERSION" 2>>"$DLOG"
}
pass() { echo "PASS dkms: $*"; }
# expect <what> <wanted> <got>
expect() { [ "$2" = "$3" ] || die "$1: want '$2', got '$3' (private tree kept: $D)"; }

# ------------------------------------------------------------------- add --
install -m 0644 -t "$SRCTREE/$NAME-$VERSION" "${PKG_FILES[@]/#/$SRC/}"
dkms_run add add -m "$NAME" -v "$VERSION"
expect "dkms status after add" "$NAME/$VERSION: added" "$(dkms_status)"
pass "add: $NAME/$VERSION from ${PKG_FILES[*]}"

# ----------------------------------------------------------------- build --
BUILD_T0=$(date +%s)
dkms_run build build -m "$NAME" -v "$VERSION" -k "$KREL"
BUILD_SECS=$(($(date +%s) - BUILD_T0))
KO=$DKMSTREE/$NAME/$VERSION/$KREL/$ARCH/module/$NAME.ko
[ -f "$KO" ] || die "dkms build reported success but $KO does not exist"
expect "dkms status after build" "$NAME/$VERSION, $KREL, $ARCH: built" "$(dkms_status)"
expect "modinfo name" "$NAME" "$(modinfo -F name "$KO")"
expect "modinfo vermagic (first word)" "$KREL" "$(modinfo -F vermagic "$KO" | cut -d' ' -f1)"
expect "modinfo version (MODULE_VERSION vs dkms.conf PACKAGE_VERSION)" "$VERSION" "$(modinfo -F version "$KO")"
expect "modinfo license" "GPL" "$(modinfo -F license "$KO")"
pass "build for $KREL in ${BUILD_SECS}s: $(basename "$KO"), name $NAME, vermagic $KREL, version $VERSION"
# dkms signs with its MOK key when it can make one (openssl and the kernel's
# sign-file present); on a real host that is the key to enrol for Secure Boot.
if [ -f "$D/mok.key" ]; then
	expect "modinfo signer" "DKMS module signing key" "$(modinfo -F signer "$KO")"
	pass "signed with the (private) DKMS MOK key"
else
	log "note: dkms did not sign the module (no openssl or sign-file)"
fi

# ----------------------------------------------------------- autoinstall --
# AUTOINSTALL=yes is what makes the kernel hook pick the package up.
dkms_run autoinstall autoinstall -k "$KREL"
expect "dkms status after autoinstall" "$NAME/$VERSION, $KREL, $ARCH: installed" "$(dkms_status)"
INSTALLED=$INSTTREE/$KREL/updates/dkms/$NAME.ko
cmp -s "$KO" "$INSTALLED" || die "autoinstall did not put $NAME.ko into <install tree>/$KREL/updates/dkms/"
# Boot-time loading (modules-load.d) finds modules by name through
# modules.dep.  The empty lists stand in for the kernel's own (depmod warns
# without them); the real ones list no so_info either.
: >"$INSTTREE/$KREL/modules.order"
: >"$INSTTREE/$KREL/modules.builtin"
: >"$INSTTREE/$KREL/modules.builtin.modinfo"
depmod -b "$ROOT" "$KREL" 2>>"$DLOG" || die "depmod -b $ROOT failed"
expect "modprobe's resolution of '$NAME'" "insmod $INSTALLED" \
	"$(modprobe -d "$ROOT" -S "$KREL" --show-depends "$NAME" 2>>"$DLOG" | sed 's/ *$//')"
pass "autoinstall: installed to /lib/modules/$KREL/updates/dkms/$NAME.ko (private tree); 'modprobe $NAME' resolves to it"

# ---------------------------------------------------------------- remove --
dkms_run remove remove -m "$NAME" -v "$VERSION" --all
[ ! -e "$DKMSTREE/$NAME" ] || die "$DKMSTREE/$NAME still exists after dkms remove --all"
[ ! -e "$INSTALLED" ] || die "$INSTALLED still exists after dkms remove --all"
expect "dkms status after remove" "" "$(dkms_status)"
pass "remove --all: nothing left in the DKMS tree or the install tree"

AFTER=$(machine_state)
if [ "$BEFORE" != "$AFTER" ]; then
	diff <(echo "$BEFORE") <(echo "$AFTER") >&2 || true
	die "/var/lib/dkms or /lib/modules/$KREL changed during the test"
fi
pass "/var/lib/dkms and /lib/modules/$KREL unchanged"

DKMS_VERSION=$(dkms --version | sed 's/^dkms-//')
mv "$DLOG" "$KCACHE/dkms-test.log"	# the last passing run's dkms output, for reading
rm -rf "$D"
echo "so_info DKMS test: PASS (dkms $DKMS_VERSION, kernel $KREL, build ${BUILD_SECS}s, total $(($(date +%s) - T0))s)"
