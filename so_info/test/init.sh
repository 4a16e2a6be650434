#!/bin/busybox sh
# /init of the so_info test initramfs (busybox only).
#
# Runs the same check suite against the real module (label "real") and
# against the negative control module, once printing garbage (label
# "control") and once a well-formed constant "5;5" (label
# "control-static"), printing one
# "PASS <label>: ..." or "FAIL <label>: ..." line per check and a
# "SUMMARY <label> pass=N fail=M" line per suite, dumps the kernel log
# between markers, prints SO_INFO_TEST_DONE and powers off.
# The host (vm-test.sh) decides: real must pass everything, the controls fail.

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

# Thresholds (percent).  Idle busybox VM is ~0-5%, two hogs on two CPUs ~100%.
IDLE_MAX=30
LOAD_MIN=70
STAT_TOL=25     # |so_info - /proc/stat| over the same window
RAM_TOL=5       # |so_info RAM - figure from /proc/meminfo|
READERS=8
READS_PER_READER=25

NCPU=$(grep -c '^processor' /proc/cpuinfo)

uptime_s() { cut -d' ' -f1 /proc/uptime; }

pass() { NPASS=$((NPASS + 1)); echo "PASS $LABEL: $*"; }
fail() { NFAIL=$((NFAIL + 1)); echo "FAIL $LABEL: $*"; }
result() { # result <ok 0|1> <message>
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

# stat_sample: "busy total" from the aggregate cpu line of /proc/stat
stat_sample() {
	awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6; exit }' /proc/stat
}
# stat_pct "<busy0 total0>" "<busy1 total1>": busy share in percent (integer)
stat_pct() {
	echo "$1 $2" | awk '{ t = $4 - $2; if (t <= 0) { print -1 } else { printf "%d\n", ($3 - $1) * 100 / t + 0.5 } }'
}
absdiff() { d=$(($1 - $2)); [ $d -lt 0 ] && d=$((-d)); echo $d; }

# ram_expected: (MemTotal - MemAvailable - Buffers) * 100 / MemTotal
ram_expected() {
	awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } /^Buffers:/ { b = $2 }
	     END { printf "%d\n", (t - a - b) * 100 / t }' /proc/meminfo
}

start_hogs() {
	HOGS=
	i=0
	while [ $i -lt "$NCPU" ]; do
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

# idle/load window: reads at +1 s and +2 s, /proc/stat over the 2 s around.
# Sets R1 R2 (CPU figures, or "?" if unreadable), SP (/proc/stat %), RAWS.
measure_window() {
	s0=$(stat_sample)
	sleep 1
	if read_so_info w1; then R1=$CPU; else R1="?"; fi
	RAWS="'$RAW'"
	sleep 1
	if read_so_info w2; then R2=$CPU; else R2="?"; fi
	RAWS="$RAWS '$RAW'"
	s1=$(stat_sample)
	SP=$(stat_pct "$s0" "$s1")
}

# judge_window <what> <-le|-ge> <bound>: both reads of the window within the
# bound, and the second close to /proc/stat over the same window (that check
# is named by the first word of <what>).
judge_window() {
	case $2 in -le) sym="<=" ;; *) sym=">=" ;; esac
	if [ "$R1" != "?" ] && [ "$R2" != "?" ] && [ "$R1" "$2" "$3" ] && [ "$R2" "$2" "$3" ]; then
		pass "$1 cpu=$R1,$R2 $sym $3 (reads $RAWS)"
	else
		fail "$1 cpu=$R1,$R2 not $sym $3 (reads $RAWS)"
	fi
	if [ "$R2" != "?" ] && [ "$SP" -ge 0 ] && [ "$(absdiff "$R2" "$SP")" -le $STAT_TOL ]; then
		pass "${1%% *} cpu=$R2 vs /proc/stat=$SP within $STAT_TOL"
	else
		fail "${1%% *} cpu=$R2 vs /proc/stat=$SP not within $STAT_TOL"
	fi
}

run_suite() { # run_suite <label> <module.ko> [module params...]
	LABEL=$1; KO=$2; shift 2
	NPASS=0; NFAIL=0
	t_start=$(uptime_s)
	loads_before=$(dmesg | grep -c 'so_info: loaded')
	unloads_before=$(dmesg | grep -c 'so_info: unloaded')
	case $LABEL in
		control*) note=" - negative control, FAIL lines expected" ;;
		*) note= ;;
	esac
	echo "=== suite $LABEL: $KO${*:+ $*} (cpus=$NCPU)$note ==="

	# 1. load
	insmod "/$KO" "$@"; result $? "insmod $KO"
	MOD=$(basename "$KO" .ko)

	# 2. the entry exists, read-only 0444, a regular proc file
	[ -e /proc/so_info ]; result $? "/proc/so_info exists"
	mode=$(stat -c %a /proc/so_info 2>/dev/null)
	[ "$mode" = 444 ]; result $? "mode is 0444 (got ${mode:-none})"

	# 3. first read right after loading: strict format, values 0..100
	if read_so_info first; then
		pass "first read '$RAW' format RAM;CPU ok (RAM=$RAM CPU=$CPU)"
	else
		fail "first read '$RAW' is not ^[0-9]{1,3};[0-9]{1,3}\\n\$ with values 0..100"
	fi

	# 4. writes are rejected, even for root
	if werr=$( (echo 1 >/proc/so_info) 2>&1 ); then
		fail "write to /proc/so_info succeeded"
	else
		pass "write to /proc/so_info rejected (${werr##*: })"
	fi

	# 5. RAM matches /proc/meminfo
	if read_so_info ram; then
		exp=$(ram_expected); d=$(absdiff "$RAM" "$exp")
		[ "$d" -le $RAM_TOL ]; result $? "ram=$RAM meminfo=$exp (tolerance $RAM_TOL)"
	else
		fail "ram: unreadable '$RAW'"
	fi

	# 6. idle: low, and close to /proc/stat over the same window
	sleep 2
	measure_window
	judge_window idle -le $IDLE_MAX

	# 7. loaded: one busy loop per CPU
	start_hogs
	sleep 2
	measure_window
	stop_hogs
	judge_window "loaded ($NCPU hogs)" -ge $LOAD_MIN

	# 8. concurrent readers
	i=0; pids=
	while [ $i -lt $READERS ]; do
		(
			n=0; bad=0
			while [ $n -lt $READS_PER_READER ]; do
				read_so_info "r$i.$n" || bad=$((bad + 1))
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
	[ "$bad" -eq 0 ]; result $? "$READERS concurrent readers x $READS_PER_READER reads: $bad invalid"

	# 9. unload; the entry is gone; one log line each for load and unload
	rmmod "$MOD"; result $? "rmmod $MOD"
	[ ! -e /proc/so_info ]; result $? "/proc/so_info gone after rmmod"
	grep -q "^$MOD " /proc/modules; [ $? -ne 0 ]; result $? "$MOD not in /proc/modules"
	loads=$(($(dmesg | grep -c 'so_info: loaded') - loads_before))
	unloads=$(($(dmesg | grep -c 'so_info: unloaded') - unloads_before))
	[ "$loads" -eq 1 ] && [ "$unloads" -eq 1 ]
	result $? "kernel log: $loads load line, $unloads unload line (want 1 and 1)"

	t_end=$(uptime_s)
	echo "SUMMARY $LABEL pass=$NPASS fail=$NFAIL seconds=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')"
}

echo "SO_INFO_TEST_START kernel=$(uname -r) cpus=$NCPU"
run_suite real so_info.ko
run_suite control so_info_garbage.ko mode=0
run_suite control-static so_info_garbage.ko mode=2
echo "=== dmesg ==="
dmesg
echo "=== end dmesg ==="
echo "SO_INFO_TEST_DONE uptime=$(uptime_s)"
sync
poweroff -f
sleep 5
echo o >/proc/sysrq-trigger
