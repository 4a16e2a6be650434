#!/bin/busybox sh
# /init of the so_info test initramfs (busybox only).
#
# Runs the suites listed in /suites (written by vm-test.sh), one a line:
#   <label> <module.ko> <groups> [module parameters]
# e.g. "real so_info.ko basic,splice,ram,... " and the negative controls.
# A suite loads the module, runs the checks of its groups (below) and
# unloads it, printing one "PASS <label>: <check>: ..." or
# "FAIL <label>: <check>: ..." line per check and a
# "SUMMARY <label> pass=N fail=M" line.  At the end it dumps the kernel log
# between markers, prints SO_INFO_TEST_DONE and powers off.
# The host (vm-test.sh) decides: every planned check reported exactly once,
# the real module passes all of them, each control fails the ones it must.
#
# Groups and their checks (the host's GROUP_CHECKS lists the same ids):
#   basic    insmod exists mode first-read write
#   splice   splice                   sendfile(2) and splice(2) of the file
#   ram      ram-idle ram-fill ram-fill-meminfo ram-cache-setup ram-cache
#   idle     idle idle-stat           no load
#   one      one-cpu one-cpu-stat     one busy loop: about 50 % of 2 CPUs
#   loaded   loaded loaded-stat       one busy loop per CPU
#   hotplug  hotplug-setup hotplug    cpu1 offline and back: no 100 % spike
#                                     (needs period_ms=100, see check_hotplug)
#   readers  readers                  concurrent readers, every read valid
#   unload   rmmod-open read-after-rmmod gone unlisted log
#   cycles   period-clamp cycles cycle-readers

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /mnt
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

# Thresholds (percent unless said).  An idle busybox VM is ~2-8 % CPU and
# ~6 % RAM; one busy loop on 2 CPUs ~50 %, two ~100 %.
IDLE_MAX=30
ONE_MIN=35      # one busy loop on one of two CPUs: about 50 %
ONE_MAX=65
LOAD_MIN=70
STAT_TOL=25     # |so_info CPU - /proc/stat| over the same window
RAM_TOL=2       # |so_info RAM - the same formula from /proc/meminfo|
FILL_MB=128     # MiB written to a tmpfs during the RAM check (of ~457 MiB)
FILL_TOL=3      # |RAM rise - FILL_MB's share of MemTotal|
CACHE_MB=96     # MiB of /dev/ram0 (brd) read into the page cache
CACHE_MIN=10    # MemAvailable - MemFree the page cache must open up
HOTPLUG_CYCLES=3        # cpu1 offline and back
HOTPLUG_DROP_MIN=30     # ticks (USER_HZ=100) cpu1's idle must drop at an offline or online
HOTPLUG_MAX=90  # CPU figure around the hotplug (<= 51 seen; a backwards sample clamped gives 100)
READERS=8
READS_PER_READER=100
CYCLES=20       # insmod/rmmod cycles with readers running

NCPU=$(grep -c '^processor' /proc/cpuinfo)

uptime_s() { cut -d' ' -f1 /proc/uptime; }
# nap <seconds>: sleep without a fork (read's timeout on a fifo nobody writes)
mkfifo /tmp/nap
nap() { read -t "$1" _ <>/tmp/nap; }

# pass|fail <check id> <message...>
pass() { NPASS=$((NPASS + 1)); id=$1; shift; echo "PASS $LABEL: $id: $*"; }
fail() { NFAIL=$((NFAIL + 1)); id=$1; shift; echo "FAIL $LABEL: $id: $*"; }
result() { # result <0: pass> <check id> <message...>
	if [ "$1" = 0 ]; then shift; pass "$@"; else shift; fail "$@"; fi
}

# read_so_info: reads /proc/so_info once into RAW; if it is exactly one line
# matching ^[0-9]{1,3};[0-9]{1,3}\n$ with both values in 0..100, sets RAM and
# CPU and returns 0; otherwise returns 1 (RAW holds what was read).
read_so_info() {
	RAM=; CPU=
	f=/tmp/so_info.$$.$1
	cat /proc/so_info >"$f" 2>/dev/null || { RAW="<read error>"; return 1; }
	RAW=$(cat "$f")
	bytes=$(wc -c <"$f")
	lines=$(wc -l <"$f")
	rm -f "$f"
	# exactly one newline, and it is the last byte
	[ "$lines" -eq 1 ] && [ "$bytes" -eq $((${#RAW} + 1)) ] || return 1
	echo "$RAW" | grep -qxE '[0-9]{1,3};[0-9]{1,3}' || return 1
	r=${RAW%;*}; c=${RAW#*;}
	awk -v r="$r" -v c="$c" 'BEGIN { exit !(r + 0 <= 100 && c + 0 <= 100) }' || return 1
	RAM=$(awk -v v="$r" 'BEGIN { print v + 0 }')
	CPU=$(awk -v v="$c" 'BEGIN { print v + 0 }')
	return 0
}

# valid_line <line without its newline>: RAM;CPU, 1-3 digits each, 0..100.
# Shell only (no fork), for the loops that read as fast as they can.
valid_line() {
	case $1 in *\;*) ;; *) return 1 ;; esac
	for v in "${1%%;*}" "${1#*;}"; do
		case $v in '' | *[!0-9]* | ????*) return 1 ;; esac
		[ "$v" -le 100 ] || return 1
	done
	return 0
}

# read_fast: read_so_info with builtins only (no fork: for the loops, and for
# the CPU windows, which forks would load): exactly one line, valid, then end
# of file; sets RAW, and RAM and CPU if valid.
read_fast() {
	RAM=; CPU=; l1=; l2=
	if ! { IFS= read -r l1 && ! IFS= read -r l2 && [ -z "$l2" ]; } 2>/dev/null </proc/so_info; then
		RAW="${l1:-<read error>}${l2:+<then '$l2'>}"
		return 1
	fi
	RAW=$l1
	valid_line "$l1" || return 1
	RAM=${l1%%;*}; RAM=${RAM#"${RAM%%[!0]*}"}; RAM=${RAM:-0}
	CPU=${l1#*;}; CPU=${CPU#"${CPU%%[!0]*}"}; CPU=${CPU:-0}
	return 0
}

# stat_sample: "busy total" from the aggregate cpu line of /proc/stat
stat_sample() {
	awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6; exit }' /proc/stat
}
# stat_pct "<busy0 total0>" "<busy1 total1>": busy share in percent (integer)
stat_pct() {
	echo "$1 $2" | awk '{ t = $4 - $2; if (t <= 0) { print -1 } else { printf "%d\n", ($3 - $1) * 100 / t + 0.5 } }'
}
# idle_ticks [cpuN]: idle + iowait of the aggregate (or that CPU's) line
idle_ticks() {
	awk -v k="${1:-cpu}" '$1 == k { print $5 + $6; exit }' /proc/stat
}
absdiff() { d=$(($1 - $2)); [ $d -lt 0 ] && d=$((-d)); echo $d; }

meminfo_kb() { awk -v k="$1:" '$1 == k { print $2; exit }' /proc/meminfo; }
# ram_expected: (MemTotal - MemAvailable - Buffers) * 100 / MemTotal, clamped
# at 0 like the module
ram_expected() {
	awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } /^Buffers:/ { b = $2 }
	     END { u = t - a - b; if (u < 0) u = 0; printf "%d\n", u * 100 / t }' /proc/meminfo
}
# wait_sample: long enough for the module to sample again (PERIOD_MS + 0.5 s)
wait_sample() { usleep $(((PERIOD_MS + 500) * 1000)); }

start_hogs() { # start_hogs <n>: n busy loops
	HOGS=
	i=0
	while [ $i -lt "$1" ]; do
		(while :; do :; done) &
		HOGS="$HOGS $!"
		i=$((i + 1))
	done
}
stop_hogs() {
	[ -n "$HOGS" ] && kill $HOGS 2>/dev/null
	for p in $HOGS; do wait "$p" 2>/dev/null; done
	HOGS=
}

# ------------------------------------------------------------------ basic --
check_basic() {
	insmod "/$KO" "$@"; result $? insmod "insmod $KO${*:+ $*}"

	# the entry exists, read-only 0444, a regular proc file
	[ -e /proc/so_info ]; result $? exists "/proc/so_info exists"
	mode=$(stat -c %a /proc/so_info 2>/dev/null)
	[ "$mode" = 444 ]; result $? mode "mode is 0444 (got ${mode:-none})"

	# first read right after loading: strict format, values 0..100
	if read_so_info first; then
		pass first-read "'$RAW' format RAM;CPU ok (RAM=$RAM CPU=$CPU)"
	else
		fail first-read "'$RAW' is not ^[0-9]{1,3};[0-9]{1,3}\\n\$ with values 0..100"
	fi

	# writes are rejected, even for root
	if werr=$( (echo 1 >/proc/so_info) 2>&1 ); then
		fail write "write to /proc/so_info succeeded"
	else
		pass write "write to /proc/so_info rejected (${werr##*: })"
	fi
}

# ----------------------------------------------------------------- splice --
# sendfile(2) and splice(2) need .proc_read_iter; busybox cat would fall
# back to read(2), so a helper that does not is used.
check_splice() {
	if out=$(so_info_splice /proc/so_info 2>&1); then
		l1=$(echo "$out" | sed -n 1p); l2=$(echo "$out" | sed -n 2p)
		[ "$(echo "$out" | wc -l)" -eq 2 ] && valid_line "$l1" && valid_line "$l2"
		result $? splice "sendfile read '$l1', splice read '$l2'"
	else
		fail splice "$out"
	fi
}

# -------------------------------------------------------------------- ram --
# RAM% = (MemTotal - MemAvailable - Buffers) * 100 / MemTotal, which
# /proc/meminfo gives too.  Idle, the VM has ~6 % used, Buffers ~0 and
# MemFree ~ MemAvailable: a constant or a MemFree formula would match, so
# memory is then used in two ways the formulas tell apart.
check_ram() {
	total=$(meminfo_kb MemTotal)
	# 1. idle: the module against /proc/meminfo
	R0=
	if read_so_info ram0; then
		R0=$RAM; exp=$(ram_expected); d=$(absdiff "$RAM" "$exp")
		[ "$d" -le $RAM_TOL ]; result $? ram-idle "ram=$RAM meminfo=$exp (tolerance $RAM_TOL)"
	else
		fail ram-idle "unreadable '$RAW'"
	fi

	# 2. FILL_MB MiB in a tmpfs (shmem: neither free nor available): RAM% must
	#    rise by that share of MemTotal, and still match /proc/meminfo
	mount -t tmpfs -o size=$((FILL_MB + 16))m fill /mnt
	dd if=/dev/zero of=/mnt/fill bs=1M count=$FILL_MB 2>/dev/null
	wait_sample
	want=$((FILL_MB * 1024 * 100 / total))
	if read_so_info ram1 && [ -n "$R0" ]; then
		rise=$((RAM - R0)); exp=$(ram_expected)
		[ "$(absdiff "$rise" "$want")" -le $FILL_TOL ]
		result $? ram-fill "$FILL_MB MiB in tmpfs: ram $R0 -> $RAM, rise $rise, want $want of MemTotal $total kB (tolerance $FILL_TOL)"
		[ "$(absdiff "$RAM" "$exp")" -le $RAM_TOL ]
		result $? ram-fill-meminfo "with the tmpfs full: ram=$RAM meminfo=$exp (tolerance $RAM_TOL)"
	else
		fail ram-fill "unreadable '$RAW' (or no idle figure)"
		fail ram-fill-meminfo "unreadable '$RAW'"
	fi

	# 3. CACHE_MB MiB of a RAM disk read into the page cache (brd allocates
	#    nothing on reads of unwritten sectors): clean block-device cache, so
	#    MemFree falls, MemAvailable does not, Buffers grows.  Only
	#    MemAvailable (and Buffers) give the /proc/meminfo figure.  The
	#    device stays open (fd 6): its cache is dropped on the last close.
	f0=$(meminfo_kb MemFree); a0=$(meminfo_kb MemAvailable)
	insmod /brd.ko rd_nr=1 rd_size=$(((CACHE_MB + 8) * 1024)) && [ -b /dev/ram0 ] &&
		exec 6</dev/ram0 && dd if=/dev/ram0 of=/dev/null bs=1M count=$CACHE_MB 2>/dev/null
	f1=$(meminfo_kb MemFree); a1=$(meminfo_kb MemAvailable); b1=$(meminfo_kb Buffers)
	gap=$(((a1 - f1) * 100 / total))
	[ "$gap" -ge $CACHE_MIN ]
	result $? ram-cache-setup "$CACHE_MB MiB of /dev/ram0 cached: MemFree $f0 -> $f1 kB, MemAvailable $a0 -> $a1 kB, Buffers $b1 kB: MemAvailable - MemFree = $gap points (need >= $CACHE_MIN)"
	wait_sample
	if read_so_info ram2; then
		exp=$(ram_expected)
		[ "$(absdiff "$RAM" "$exp")" -le $RAM_TOL ]
		result $? ram-cache "with the page cache: ram=$RAM meminfo=$exp (tolerance $RAM_TOL; MemFree in place of MemAvailable would give $(((total - f1 - b1) * 100 / total)))"
	else
		fail ram-cache "unreadable '$RAW'"
	fi

	exec 6<&-
	rmmod brd
	rm -f /mnt/fill
	umount /mnt
	echo 3 >/proc/sys/vm/drop_caches
}

# -------------------------------------------------------------------- cpu --
# measure_window: reads at +1 s and +2 s, /proc/stat over the 2 s around.
# Sets R1 R2 (CPU figures, or "?" if unreadable), SP (/proc/stat %), RAWS.
measure_window() {
	s0=$(stat_sample)
	sleep 1
	if read_fast; then R1=$CPU; else R1="?"; fi
	RAWS="'$RAW'"
	sleep 1
	if read_fast; then R2=$CPU; else R2="?"; fi
	RAWS="$RAWS '$RAW'"
	s1=$(stat_sample)
	SP=$(stat_pct "$s0" "$s1")
}

# judge_window <id> <what> <min> <max>: both reads of the window in
# [min, max] (check <id>), and the second close to /proc/stat over the same
# window (check <id>-stat).
judge_window() {
	if [ "$R1" != "?" ] && [ "$R2" != "?" ] && [ "$R1" -ge "$3" ] && [ "$R1" -le "$4" ] &&
		[ "$R2" -ge "$3" ] && [ "$R2" -le "$4" ]; then
		pass "$1" "$2: cpu=$R1,$R2 in $3..$4 (reads $RAWS)"
	else
		fail "$1" "$2: cpu=$R1,$R2 not in $3..$4 (reads $RAWS)"
	fi
	if [ "$R2" != "?" ] && [ "$SP" -ge 0 ] && [ "$(absdiff "$R2" "$SP")" -le $STAT_TOL ]; then
		pass "$1-stat" "cpu=$R2 vs /proc/stat=$SP within $STAT_TOL"
	else
		fail "$1-stat" "cpu=$R2 vs /proc/stat=$SP not within $STAT_TOL"
	fi
}

check_idle() {
	sleep 1
	measure_window
	judge_window idle "idle" 0 $IDLE_MAX
}

check_one() {
	start_hogs 1
	usleep 1200000
	measure_window
	stop_hogs
	judge_window one-cpu "1 busy loop, $NCPU CPUs" $ONE_MIN $ONE_MAX
}

check_loaded() {
	start_hogs "$NCPU"
	usleep 1200000
	measure_window
	stop_hogs
	judge_window loaded "$NCPU busy loops" $LOAD_MIN 100
}

# ---------------------------------------------------------------- hotplug --
# Taking cpu1 offline and back makes the summed idle time go backwards: while
# offline, /proc/stat (and so_info) count cpu1's cpustat idle, and its NO_HZ
# idle time again once it is back.  The two differ, so one of the switches
# goes backwards: usually the online (cpustat runs ahead), but on a busy host
# the offline (CI saw NO_HZ ahead by ~110 ticks at all three cycles), so both
# are measured.  The gap grows with every short idle period cpu1 has (about a
# tick's rounding each): ~0.1 s a minute in an idle VM, ~0.1 s every 1.5 s
# while a loop on cpu1 naps 12 ms at a time (the "pump" below); ~1.5-2.3 s
# by the time the hotplug suites run.  It stays
# below the idle time two CPUs accrue in a 1 s sample, so suites with this
# group load the module with period_ms=100: in 100 ms both CPUs accrue at
# most 20 ticks, so a drop of HOTPLUG_DROP_MIN (30) ticks or more makes the
# sample that straddles that switch go backwards (hotplug-setup checks that
# one switch did).  The module must keep its figure for that sample, not
# publish 100 % (hotplug: every read from before the first hotplug to after
# the last).  Nothing forks from the poller's start to its last read (fork
# and exec under TCG show in 100 ms figures): builtins, and nap to sleep.

# stat_idle: idle + iowait ticks of /proc/stat's cpu, cpu0 and cpu1 lines into
# IDLE_ALL, IDLE0, IDLE1 (empty while cpu1 is offline), builtins only
stat_idle() {
	IDLE_ALL=; IDLE0=; IDLE1=
	while read -r name _ _ _ i w _; do
		case $name in
			cpu) IDLE_ALL=$((i + w)) ;;
			cpu0) IDLE0=$((i + w)) ;;
			cpu1) IDLE1=$((i + w)) ;;
			*) break ;;
		esac
	done </proc/stat
}

check_hotplug() {
	online=/sys/devices/system/cpu/cpu1/online
	if [ "$NCPU" -lt 2 ] || [ ! -w $online ]; then
		fail hotplug-setup "no cpu1 to take offline"
		fail hotplug "not run"
		return
	fi
	rm -f /tmp/hp.stop /tmp/pump.stop
	# the pump: 1 s of 12 ms naps on cpu1 (also lets the earlier checks'
	# forks drop out of the figures)
	taskset -c 1 sh -c 'while [ ! -e /tmp/pump.stop ]; do read -t 0.012 _ <>/tmp/nap; done' &
	pump=$!
	sleep 1
	touch /tmp/pump.stop
	wait $pump
	(
		while [ ! -e /tmp/hp.stop ]; do
			IFS= read -r l 2>/dev/null </proc/so_info || l="?"
			echo "$l"
			nap 0.02
		done >/tmp/hp.reads
	) &
	poller=$!
	nap 0.5
	k=0; rcs=0; drops=; dmax=
	while [ $k -lt $HOTPLUG_CYCLES ]; do
		k=$((k + 1))
		stat_idle; before=${IDLE1:-0}         # cpu1 online: NO_HZ's
		echo 0 >$online || rcs=$((rcs + 1))
		nap 0.3
		stat_idle; off=$((IDLE_ALL - IDLE0))  # cpu1 while offline: cpustat's
		echo 1 >$online || rcs=$((rcs + 1))
		stat_idle; on=${IDLE1:-0}             # cpu1 back: NO_HZ's
		for d in $((before - off)) $((off - on)); do
			if [ -z "$dmax" ] || [ $d -gt "$dmax" ]; then dmax=$d; fi
		done
		drops="$drops $((before - off))/$((off - on))"
		nap 0.4
	done
	echo stop >/tmp/hp.stop
	wait $poller
	[ $rcs -eq 0 ] && [ "$dmax" -ge $HOTPLUG_DROP_MIN ]
	result $? hotplug-setup "$HOTPLUG_CYCLES x cpu1 offline and back ($rcs failed writes): cpu1's idle dropped by$drops ticks at the offlines/onlines (need one >= $HOTPLUG_DROP_MIN)"
	n=0; bad=0; max=0; seq=; last=
	while IFS= read -r l; do
		n=$((n + 1))
		if valid_line "$l"; then
			c=${l#*;}
			[ "$c" -gt $max ] && max=$c
			[ "$c" = "$last" ] || seq="$seq $c"
			last=$c
		else
			bad=$((bad + 1))
		fi
	done </tmp/hp.reads
	[ $n -ge 50 ] && [ $bad -eq 0 ] && [ $max -le $HOTPLUG_MAX ]
	result $? hotplug "$n reads (every 20 ms) over the hotplugs, $bad invalid, CPU max $max (must be <= $HOTPLUG_MAX), figures:$seq"
}

# ---------------------------------------------------------------- readers --
check_readers() {
	i=0; pids=
	while [ $i -lt $READERS ]; do
		(
			n=0; bad=0
			while [ $n -lt $READS_PER_READER ]; do
				read_fast || bad=$((bad + 1))
				n=$((n + 1))
			done
			echo "$bad" >/tmp/reader.$i
		) &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait "$p"; done
	bad=0; i=0
	while [ $i -lt $READERS ]; do
		b=$(cat /tmp/reader.$i 2>/dev/null || echo $READS_PER_READER)
		bad=$((bad + b)); rm -f /tmp/reader.$i
		i=$((i + 1))
	done
	[ "$bad" -eq 0 ]; result $? readers "$READERS concurrent readers x $READS_PER_READER reads: $bad invalid"
}

# ----------------------------------------------------------------- unload --
# rmmod while /proc/so_info is held open: it must succeed, and the next read
# of the open file must fail cleanly (EIO), with no oops (the host checks the
# console).  Then the entry is gone, and the load and unload were logged once.
check_unload() {
	held=0; before=
	if [ -e /proc/so_info ]; then
		exec 3</proc/so_info
		held=1
		read -r before <&3
	fi
	rmmod "$MOD"; result $? rmmod-open "rmmod $MOD with /proc/so_info open (read before: '$before')"
	if [ $held = 1 ]; then
		if dd bs=64 count=1 <&3 >/tmp/after.out 2>/tmp/after.err; then
			fail read-after-rmmod "a read of the open file after rmmod succeeded ($(wc -c </tmp/after.out) bytes)"
		else
			grep -q 'Input/output error' /tmp/after.err
			result $? read-after-rmmod "a read of the open file after rmmod fails: $(cat /tmp/after.err)"
		fi
		exec 3<&-
	else
		fail read-after-rmmod "no /proc/so_info to hold open"
	fi
	[ ! -e /proc/so_info ]; result $? gone "/proc/so_info gone after rmmod"
	grep -q "^$MOD " /proc/modules; [ $? -ne 0 ]; result $? unlisted "$MOD not in /proc/modules"
	loads=$(($(dmesg | grep -c "$MOD: loaded") - loads_before))
	unloads=$(($(dmesg | grep -c "$MOD: unloaded") - unloads_before))
	[ "$loads" -eq 1 ] && [ "$unloads" -eq 1 ]
	result $? log "kernel log: $loads load line, $unloads unload line (want 1 and 1)"
}

# ----------------------------------------------------------------- cycles --
# cycle_reader <n>: reads /proc/so_info in a loop (builtins only, no fork)
# until /tmp/cyc.stop exists; writes "valid invalid failed" to /tmp/cyc.<n>.
# A failed read (no file, or removed mid-read) is expected while cycling; a
# read that returns a line must return a valid one.
cycle_reader() {
	v=0; b=0; e=0
	while [ ! -e /tmp/cyc.stop ]; do
		if IFS= read -r l 2>/dev/null </proc/so_info; then
			if valid_line "$l"; then v=$((v + 1)); else b=$((b + 1)); fi
		else
			e=$((e + 1))
		fi
	done
	echo "$v $b $e" >/tmp/cyc.$1
}

check_cycles() {
	# an out-of-range period_ms is clamped, with a warning
	w0=$(dmesg | grep -c "$MOD: period_ms=5 is out of range")
	insmod "/$KO" period_ms=5; rc=$?
	p=$(cat /sys/module/"$MOD"/parameters/period_ms 2>/dev/null)
	w=$(($(dmesg | grep -c "$MOD: period_ms=5 is out of range") - w0))
	rmmod "$MOD" 2>/dev/null
	[ $rc -eq 0 ] && [ "$p" = 100 ] && [ $w -eq 1 ]
	result $? period-clamp "insmod period_ms=5 (rc $rc): parameter reads ${p:-?}, $w warning line (want 100 and 1)"

	# CYCLES x insmod, open, rmmod with the file open, close; 2 readers loop
	rm -f /tmp/cyc.stop /tmp/cyc.1 /tmp/cyc.2
	cycle_reader 1 &
	r1=$!
	cycle_reader 2 &
	r2=$!
	t0=$(uptime_s)
	ok=0; i=0
	while [ $i -lt $CYCLES ]; do
		i=$((i + 1))
		insmod "/$KO" || continue
		[ -e /proc/so_info ] && exec 4</proc/so_info
		nap 0.02
		rmmod "$MOD" && ok=$((ok + 1))
		exec 4<&-
	done
	t1=$(uptime_s)
	touch /tmp/cyc.stop
	wait $r1 $r2
	[ $ok -eq $CYCLES ]
	result $? cycles "$ok of $CYCLES insmod/rmmod cycles (rmmod with the file open) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
	read -r v1 b1 e1 </tmp/cyc.1 || { v1=0; b1=1; e1=0; }
	read -r v2 b2 e2 </tmp/cyc.2 || { v2=0; b2=1; e2=0; }
	[ $((b1 + b2)) -eq 0 ] && [ $((v1 + v2)) -gt 0 ]
	result $? cycle-readers "2 readers during the cycles: $((v1 + v2)) valid reads, $((b1 + b2)) invalid, $((e1 + e2)) failed (module absent or removed mid-read)"
}

# ------------------------------------------------------------------ suite --
has() { case ",$GROUPS," in *",$1,"*) return 0 ;; esac; return 1; }

run_suite() { # run_suite <label> <module.ko> <groups> [module params...]
	LABEL=$1; KO=$2; GROUPS=$3; shift 3
	MOD=$(basename "$KO" .ko)
	PERIOD_MS=1000
	for p in "$@"; do
		case $p in period_ms=*) PERIOD_MS=${p#period_ms=} ;; esac
	done
	NPASS=0; NFAIL=0
	t_start=$(uptime_s)
	loads_before=$(dmesg | grep -c "$MOD: loaded")
	unloads_before=$(dmesg | grep -c "$MOD: unloaded")
	case $LABEL in
		real*) note= ;;
		*) note=" - negative control, FAIL lines expected" ;;
	esac
	echo "=== suite $LABEL: $KO${*:+ $*} [$GROUPS] (cpus=$NCPU)$note ==="
	TIMES=
	for g in basic splice ram idle one loaded hotplug readers unload cycles; do
		has $g || continue
		t0=$(uptime_s)
		case $g in
			basic) check_basic "$@" ;;
			*) check_$g ;;
		esac
		TIMES="$TIMES $g=$(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }')"
	done
	has unload || rmmod "$MOD" 2>/dev/null
	echo "NOTE $LABEL: seconds per group:$TIMES"
	t_end=$(uptime_s)
	echo "SUMMARY $LABEL pass=$NPASS fail=$NFAIL seconds=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')"
}

echo "SO_INFO_TEST_START kernel=$(uname -r) cpus=$NCPU"
while read -r label ko groups params <&5; do
	# shellcheck disable=SC2086 # params: zero or more words
	run_suite "$label" "$ko" "$groups" $params
done 5</suites
echo "=== dmesg ==="
dmesg
echo "=== end dmesg ==="
echo "SO_INFO_TEST_DONE uptime=$(uptime_s)"
sync
poweroff -f
sleep 5
echo o >/proc/sysrq-trigger
