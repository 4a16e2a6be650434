#!/usr/bin/env bash
# so_info VM test: build the module against Debian's current kernel headers,
# boot Debian's matching kernel in qemu with a busybox initramfs whose /init
# (test/init.sh) checks /proc/so_info, and judge the console log.  Besides
# the real module, /init runs negative controls: test/control/so_info_garbage.c
# (garbage, out-of-range and constant output) and mutants of so_info.c (the
# real module with one bug each, test/control/*.patch); each must fail the
# checks it is there for, so the checks are shown able to fail.
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

# Kernel image and brd.ko (the RAM disk driver, for the page-cache RAM check):
# downloaded with apt-get download and unpacked, never installed.
fetch_kernel() { # returns non-zero on failure
	[ -s "$VMLINUZ" ] && [ -s "$BRD_KO" ] && return 0
	log "downloading $IMG_PKG (apt-get download, unpacked, not installed)"
	mkdir -p "$KCACHE"
	rm -f "$KCACHE"/*.deb
	# apt's _apt user must be able to write here, or apt warns and runs unsandboxed
	chmod 0777 "$KCACHE" 2>/dev/null || true
	(cd "$KCACHE" && apt-get -o DPkg::Lock::Timeout=600 download "$IMG_PKG") >"$CACHE/apt-download.log" 2>&1 ||
		{ cat "$CACHE/apt-download.log" >&2; return 1; }
	chmod 0755 "$KCACHE"
	local deb brd=./lib/modules/$KREL/kernel/drivers/block/brd.ko
	deb=$(ls "$KCACHE"/"$IMG_PKG"_*.deb | head -n1)
	# extract only the kernel itself and brd.ko: the rest of the modules tree is not needed
	rm -rf "$KCACHE/x"; mkdir -p "$KCACHE/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$KCACHE/x" "./boot/vmlinuz-$KREL" "$brd" || return 1
	mv "$KCACHE/x/$brd" "$BRD_KO"
	mv "$KCACHE/x/boot/vmlinuz-$KREL" "$VMLINUZ.tmp" && mv "$VMLINUZ.tmp" "$VMLINUZ"
	rm -rf "$KCACHE/x" "$deb"
}

prepare() { # derive the ABI, install build/test packages and headers, fetch the kernel
	prepare_headers gcc make libc6-dev kmod cpio patch busybox-static qemu-system-x86 || return 1
	IMG_PKG=linux-image-$KREL
	VMLINUZ=$KCACHE/vmlinuz-$KREL
	BRD_KO=$KCACHE/brd.ko
	if ! apt-cache depends linux-image-amd64 2>/dev/null | grep -q "Depends: $IMG_PKG\$"; then
		log "note: linux-image-amd64 does not depend on $IMG_PKG; using $IMG_PKG anyway"
	fi
	fetch_kernel
}
with_apt_retry "the kernel headers/image" prepare
[ -s "$VMLINUZ" ] || die "no kernel image at $VMLINUZ"
modinfo -F vermagic "$BRD_KO" | grep -q "^$KREL " || die "$BRD_KO is not built for $KREL"

# ------------------------------------------------------------------ build --
BUILD=$KCACHE/build
# All modules in one kbuild run (-j2): the real one, the garbage module, and
# the mutants of so_info.c (each the real module with one bug,
# test/control/<name>.patch).  SO_INFO_CFLAGS reaches so_info.o only.
B=$BUILD/modules
rm -rf "$BUILD"; mkdir -p "$B"
cp "$SRC/so_info.c" "$HERE/control/so_info_garbage.c" "$B/"
CONTROLS=(so_info_garbage)
for p in "$HERE"/control/*.patch; do
	m=so_info_$(basename "$p" .patch)
	patch -s -F0 --no-backup-if-mismatch -o "$B/$m.c" "$SRC/so_info.c" <"$p" ||
		die "test/control/$(basename "$p") no longer applies to so_info.c"
	CONTROLS+=("$m")
done
{
	echo "obj-m := so_info.o ${CONTROLS[*]/%/.o}"
	echo 'CFLAGS_so_info.o := $(SO_INFO_CFLAGS)'
} >"$B/Kbuild"
if ! make -C "$KDIR" M="$B" W=1 -j2 SO_INFO_CFLAGS="${SO_INFO_CFLAGS:-}" modules >"$B/build.log" 2>&1; then
	cat "$B/build.log" >&2
	die "build against $KREL failed"
fi
# Compiler diagnostics and modpost warnings only: kbuild's own "warning: the
# compiler differs from the one used to build the kernel" is not about our code.
WARN_RE='\.c:[0-9]+:[0-9]+: warning:|WARNING: modpost'
if grep -qE "$WARN_RE" "$B/build.log"; then
	grep -E -B2 -A4 "$WARN_RE" "$B/build.log" >&2
	die "build with W=1 produced warnings"
fi
for m in so_info "${CONTROLS[@]}"; do
	[ -f "$B/$m.ko" ] || die "$B/$m.ko not produced"
done
log "built so_info.ko and ${CONTROLS[*]/%/.ko} against $KREL with W=1, no warnings"
modinfo -F license "$B/so_info.ko" | grep -qx GPL || die "so_info.ko licence is not GPL"
modinfo -F vermagic "$B/so_info.ko" | grep -q "^$KREL " ||
	die "so_info.ko vermagic does not match $KREL"
# sendfile/splice reader for the initramfs (busybox cat falls back to read(2))
gcc -static -O2 -Wall -Wextra -Werror -o "$BUILD/so_info_splice" "$HERE/splice.c" ||
	die "build of test/splice.c failed"

# ----------------------------------------------------------------- suites --
# What /init runs, one suite a line: label, module file, check groups, module
# parameters.  The host judges each suite against the checks its groups
# consist of (GROUP_CHECKS), so a check that is skipped or runs twice fails.
# The hotplug suites come last: the drop they need grows with uptime.
SUITES="real so_info.ko basic,splice,ram,idle,one,loaded,readers,unload,cycles
control so_info_garbage.ko basic,splice,readers,unload mode=0
control-range so_info_garbage.ko basic,unload mode=1
control-static so_info_garbage.ko basic,loaded,unload mode=2
mutant-ram-frozen so_info_ram_frozen.ko basic,ram,unload period_ms=100
mutant-ram-memfree so_info_ram_memfree.ko basic,ram,unload period_ms=100
real-hotplug so_info.ko basic,hotplug,unload period_ms=100
mutant-cpu-back100 so_info_cpu_back100.ko basic,hotplug,unload period_ms=100"
declare -A GROUP_CHECKS=(
	[basic]="insmod exists mode first-read write"
	[splice]="splice"
	[ram]="ram-idle ram-fill ram-fill-meminfo ram-cache-setup ram-cache"
	[idle]="idle idle-stat"
	[one]="one-cpu one-cpu-stat"
	[loaded]="loaded loaded-stat"
	[hotplug]="hotplug-setup hotplug"
	[readers]="readers"
	[unload]="rmmod-open read-after-rmmod gone unlisted log"
	[cycles]="period-clamp cycles cycle-readers"
)
# Each control must fail these checks (the reason it exists).  A mutant is
# the real module but for one bug, so it must also pass every other check.
declare -A MUST_FAIL=(
	[control]="first-read splice readers"
	[control-range]="first-read"
	[control-static]="loaded"
	[mutant-ram-frozen]="ram-fill ram-fill-meminfo ram-cache"
	[mutant-ram-memfree]="ram-cache"
	[mutant-cpu-back100]="hotplug"
)

# -------------------------------------------------------------- initramfs --
ROOT=$KCACHE/initramfs
INITRD=$KCACHE/initramfs.cpio.gz
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,mnt}
cp /bin/busybox "$ROOT/bin/busybox"
cp "$HERE/init.sh" "$ROOT/init"
cp "$BUILD/so_info_splice" "$ROOT/bin/"
chmod 0755 "$ROOT/init" "$ROOT/bin/busybox"
cp "$B"/*.ko "$BRD_KO" "$ROOT/"
printf '%s\n' "$SUITES" >"$ROOT/suites"
# the kernel opens /dev/console before running /init (init also mounts devtmpfs)
mknod -m 0600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) |
	gzip -1 >"$INITRD"
log "initramfs: $(du -h "$INITRD" | cut -f1) (busybox, so_info_splice, brd.ko, so_info.ko, ${CONTROLS[*]/%/.ko})"

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
grep -E '^(SO_INFO_TEST_|=== suite|PASS |FAIL |NOTE |SUMMARY )' "$C" || true
echo "----- console: so_info kernel log lines -----"
grep -E 'so_info' "$C" | grep -vE '^(SO_INFO_TEST_|=== suite|PASS |FAIL |NOTE |SUMMARY )' || true
echo "--------------------------------"

RESULT=0
# check <message> <command...>: PASS if the command succeeds
check() {
	local msg=$1
	shift
	if "$@"; then echo "PASS host: $msg"; else echo "FAIL host: $msg"; RESULT=1; fi
}
not() { ! "$@"; }
words() { echo $*; } # one line, single spaces
# planned <groups>: the ids of the checks those groups consist of, sorted
planned() { local g; for g in ${1//,/ }; do printf '%s\n' ${GROUP_CHECKS[$g]}; done | sort; }
# reported <PASS|FAIL> <label>: the ids of that suite's PASS or FAIL lines, sorted
reported() { sed -n "s/^$1 $2: \([a-z0-9-]*\): .*/\1/p" "$C" | sort; }

# judge_suite <label> <groups>: the suite ran to its end and reported each of
# its planned checks exactly once (no more, no fewer: the pass count is exact);
# then the real module passes all of them, a control fails its MUST_FAIL
# checks, and a mutant fails exactly those and passes all the others.
judge_suite() {
	local label=$1 plan pass fail all must n
	plan=$(planned "$2")
	n=$(echo "$plan" | wc -l)
	pass=$(reported PASS "$label")
	fail=$(reported FAIL "$label")
	all=$(printf '%s\n%s\n' "$pass" "$fail" | sed '/^$/d' | sort)
	if ! grep -qE "^SUMMARY $label pass=" "$C"; then
		check "$label: suite ran to its end" false
		return
	fi
	check "$label: each of the $n planned checks reported once ($(words $all | wc -w) reported)" [ "$all" = "$plan" ]
	must=$(printf '%s\n' ${MUST_FAIL[$label]:-} | sed '/^$/d' | sort)
	case $label in
	real*)
		check "$label: $(words $pass | wc -w) of $n checks PASS (FAIL: $(words ${fail:-none}))" [ "$pass" = "$plan" ] ;;
	mutant-*)
		check "$label caught: FAIL exactly $(words $must) (got FAIL: $(words $fail)), the other $((n - $(words $must | wc -w))) PASS" \
			[ "$fail" = "$must" ] ;;
	*)
		check "$label caught: FAIL includes $(words $must) (got FAIL: $(words $fail))" \
			[ -z "$(comm -23 <(echo "$must") <(echo "$fail"))" ] ;;
	esac
}

check "qemu finished before the ${TIMEOUT}s timeout (${BOOT_SECS}s)" [ "$TIMED_OUT" -eq 0 ]
check "/init ran to the end (SO_INFO_TEST_DONE)" grep -q '^SO_INFO_TEST_DONE' "$C"
while read -r label ko groups params; do
	judge_suite "$label" "$groups"
done <<<"$SUITES"
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
