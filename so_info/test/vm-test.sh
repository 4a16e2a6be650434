#!/usr/bin/env bash
# so_info VM test: build the module against Debian's current kernel headers,
# boot Debian's matching kernel in qemu with a busybox initramfs whose /init
# (test/init.sh) checks /proc/so_info, and judge the console log.
#
# Needs root (apt-get, mknod).  Installs missing Debian packages itself.
# Everything downloaded or built lives in so_info/.cache/ (git-ignored).
#
# Environment knobs (all optional):
#   SO_INFO_CACHE     cache folder              (default: so_info/.cache)
#   SO_INFO_TIMEOUT   qemu timeout in seconds   (default: 240)
#   SO_INFO_ACCEL     tcg | kvm                 (default: kvm only if kvm_intel
#                                                or kvm_amd is loaded)
#   SO_INFO_CFLAGS    extra C flags for the real module (e.g. to break it on
#                     purpose and watch the test fail)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
LOG_TAG=test
# cache, lock, log/die, packages, Debian's current kernel ABI and headers
. "$HERE/lib.sh"
TIMEOUT=${SO_INFO_TIMEOUT:-240}

need_root "apt-get install, mknod for the initramfs"
lock_cache

# ---------------------------------------------------------------- packages --
refresh_stale_lists

# Kernel image: downloaded with apt-get download and unpacked, never installed.
fetch_vmlinuz() { # returns non-zero on failure
	[ -s "$VMLINUZ" ] && return 0
	log "downloading $IMG_PKG (apt-get download, unpacked, not installed)"
	mkdir -p "$KCACHE"
	rm -f "$KCACHE"/*.deb
	# apt's _apt user must be able to write here, or apt warns and runs unsandboxed
	chmod 0777 "$KCACHE" 2>/dev/null || true
	(cd "$KCACHE" && apt-get -o DPkg::Lock::Timeout=600 download "$IMG_PKG") >"$CACHE/apt-download.log" 2>&1 ||
		{ cat "$CACHE/apt-download.log" >&2; return 1; }
	chmod 0755 "$KCACHE"
	local deb
	deb=$(ls "$KCACHE"/"$IMG_PKG"_*.deb | head -n1)
	# extract only the kernel itself: the modules tree is not needed
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$KCACHE" "./boot/vmlinuz-$KREL" || return 1
	mv "$KCACHE/boot/vmlinuz-$KREL" "$VMLINUZ.tmp" && mv "$VMLINUZ.tmp" "$VMLINUZ"
	rmdir "$KCACHE/boot" 2>/dev/null || true
	rm -f "$deb"
}

prepare() { # derive the ABI, install build/test packages and headers, fetch the kernel
	prepare_headers gcc make libc6-dev kmod cpio busybox-static qemu-system-x86 || return 1
	IMG_PKG=linux-image-$KREL
	VMLINUZ=$KCACHE/vmlinuz-$KREL
	if ! apt-cache depends linux-image-amd64 2>/dev/null | grep -q "Depends: $IMG_PKG\$"; then
		log "note: linux-image-amd64 does not depend on $IMG_PKG; using $IMG_PKG anyway"
	fi
	fetch_vmlinuz
}
with_apt_retry "the kernel headers/image" prepare
[ -s "$VMLINUZ" ] || die "no kernel image at $VMLINUZ"

# ------------------------------------------------------------------ build --
BUILD=$KCACHE/build
build_module() { # build_module <name> <dir with .c and Kbuild> [make args]
	local name=$1 from=$2 out=$BUILD/$1
	shift 2
	rm -rf "$out"; mkdir -p "$out"
	cp "$from/$name.c" "$from/Kbuild" "$out/"
	if ! make -C "$KDIR" M="$out" W=1 "$@" modules >"$out/build.log" 2>&1; then
		cat "$out/build.log" >&2
		die "build of $name.ko against $KREL failed"
	fi
	if grep -qi 'warning:' "$out/build.log"; then
		grep -i -B2 -A4 'warning:' "$out/build.log" >&2
		die "build of $name.ko with W=1 produced warnings"
	fi
	[ -f "$out/$name.ko" ] || die "$out/$name.ko not produced"
	log "built $name.ko against $KREL with W=1, no warnings"
}
build_module so_info "$SRC" ${SO_INFO_CFLAGS:+"KCFLAGS=$SO_INFO_CFLAGS"}
build_module so_info_garbage "$HERE/control"
modinfo -F license "$BUILD/so_info/so_info.ko" | grep -qx GPL || die "so_info.ko licence is not GPL"
modinfo -F vermagic "$BUILD/so_info/so_info.ko" | grep -q "^$KREL " ||
	die "so_info.ko vermagic does not match $KREL"

# -------------------------------------------------------------- initramfs --
ROOT=$KCACHE/initramfs
INITRD=$KCACHE/initramfs.cpio.gz
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp}
cp /bin/busybox "$ROOT/bin/busybox"
cp "$HERE/init.sh" "$ROOT/init"
chmod 0755 "$ROOT/init" "$ROOT/bin/busybox"
cp "$BUILD/so_info/so_info.ko" "$BUILD/so_info_garbage/so_info_garbage.ko" "$ROOT/"
# the kernel opens /dev/console before running /init (init also mounts devtmpfs)
mknod -m 0600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) |
	gzip -1 >"$INITRD"
log "initramfs: $(du -h "$INITRD" | cut -f1) (busybox, so_info.ko, so_info_garbage.ko)"

# ------------------------------------------------------------------- boot --
ACCEL=${SO_INFO_ACCEL:-}
if [ -z "$ACCEL" ]; then
	if { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && [ -w /dev/kvm ]; then
		ACCEL=kvm
	else
		ACCEL=tcg
	fi
fi
case $ACCEL in
	kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
	tcg) ACCEL_ARGS=(-accel tcg,thread=multi) ;;
	*) die "SO_INFO_ACCEL must be tcg or kvm" ;;
esac

CONSOLE=$KCACHE/console.log
rm -f "$CONSOLE"
QEMU_PID=
cleanup() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill "$QEMU_PID" 2>/dev/null || true
		sleep 1
		kill -9 "$QEMU_PID" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "booting $KREL in qemu ($ACCEL, 2 CPUs, timeout ${TIMEOUT}s)"
qemu-system-x86_64 "${ACCEL_ARGS[@]}" -smp 2 -m 512 \
	-kernel "$VMLINUZ" -initrd "$INITRD" \
	-append "console=ttyS0 loglevel=5 panic=-1 oops=panic" \
	-display none -monitor none -serial "file:$CONSOLE" \
	-no-reboot -nodefaults -nic none </dev/null >"$KCACHE/qemu.log" 2>&1 &
QEMU_PID=$!
BOOT_T0=$(date +%s)
TIMED_OUT=0
while kill -0 "$QEMU_PID" 2>/dev/null; do
	if [ $(($(date +%s) - BOOT_T0)) -ge "$TIMEOUT" ]; then
		TIMED_OUT=1
		cleanup
		break
	fi
	sleep 1
done
QEMU_RC=0
wait "$QEMU_PID" 2>/dev/null || QEMU_RC=$?
QEMU_PID=
BOOT_SECS=$(($(date +%s) - BOOT_T0))
if [ "$TIMED_OUT" -eq 1 ]; then
	log "qemu killed after the ${TIMEOUT}s timeout; console log: $CONSOLE"
else
	log "qemu exited (rc=$QEMU_RC) after ${BOOT_SECS}s; console log: $CONSOLE"
fi

# ---------------------------------------------------------------- verdict --
[ -f "$CONSOLE" ] || { cat "$KCACHE/qemu.log" >&2; die "no console log (qemu failed to start?)"; }
tr -d '\r' <"$CONSOLE" >"$CONSOLE.txt"
C=$CONSOLE.txt

echo "----- console: check lines -----"
grep -E '^(SO_INFO_TEST_|=== suite|PASS |FAIL |SUMMARY )' "$C" || true
echo "----- console: so_info kernel log lines -----"
grep -E 'so_info' "$C" | grep -vE '^(SO_INFO_TEST_|=== suite|PASS |FAIL |SUMMARY )' || true
echo "--------------------------------"

# suite_ok <label>: the suite ran to its end with at least 10 PASS and no FAIL
suite_ok() {
	local label=$1 npass nfail
	grep -qE "^SUMMARY $label pass=[0-9]+ fail=[0-9]+" "$C" || return 1
	npass=$(grep -c "^PASS $label: " "$C" || true)
	nfail=$(grep -c "^FAIL $label: " "$C" || true)
	[ "$npass" -ge 10 ] && [ "$nfail" -eq 0 ]
}

RESULT=0
# check <message> <command...>: PASS if the command succeeds
check() {
	local msg=$1
	shift
	if "$@"; then echo "PASS host: $msg"; else echo "FAIL host: $msg"; RESULT=1; fi
}
not() { ! "$@"; }
# control_caught <label>: that control suite ran to its end and failed
control_caught() { grep -qE "^SUMMARY $1 " "$C" && ! suite_ok "$1"; }
count() { grep -c "$1" "$C" || true; }

check "qemu finished before the ${TIMEOUT}s timeout (${BOOT_SECS}s)" [ "$TIMED_OUT" -eq 0 ]
check "/init ran to the end (SO_INFO_TEST_DONE)" grep -q '^SO_INFO_TEST_DONE' "$C"
check "real module: every check PASS ($(count '^PASS real: ') PASS, $(count '^FAIL real: ') FAIL)" suite_ok real
# negative control: the same checks must fail for a module printing garbage
check "negative control suite ran" grep -qE '^SUMMARY control ' "$C"
check "negative control detected: $(count '^FAIL control: ') FAIL (must be > 0)" control_caught control
# a well-formed but constant "5;5" must be caught by the loaded-CPU check
check "static control suite ran" grep -qE '^SUMMARY control-static ' "$C"
check "static control detected by the loaded check" grep -qE '^FAIL control-static: loaded' "$C"
# kernel trouble anywhere in the console (incl. the dmesg dump); the notice
# "module verification failed ... tainting kernel" is expected (unsigned module)
BAD_RE='(^|[^A-Za-z])(BUG:|WARNING:|Oops|Kernel panic|general protection fault|Call Trace:|UBSAN:|KASAN:|refcount_t:|list_(add|del) corruption|INFO: task .* blocked|watchdog: BUG|RCU stall|rcu_sched self-detected)'
grep -nE "$BAD_RE" "$C" | head -20 || true
check "no oops/BUG/WARNING in the console log" not grep -qE "$BAD_RE" "$C"

if [ "$RESULT" -ne 0 ]; then
	echo "----- console log (last 80 lines) -----"
	tail -n 80 "$C"
	echo "so_info VM test: FAIL (total $(($(date +%s) - T0))s, full console log in $C)"
	exit 1
fi
echo "so_info VM test: PASS (kernel $KREL, $ACCEL, boot+checks ${BOOT_SECS}s, total $(($(date +%s) - T0))s)"
