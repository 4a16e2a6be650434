# Shared by the benchmark scripts: the release build, clusters on 127.0.0.1
# through scripts/cluster.sh (CLUSTER_DATA picks each run's folder), and a
# temporary folder that goes, with every process a script started, on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BENCH_BIN:-$ROOT/.build/release}"   # BENCH_BIN: binaries built elsewhere (a before/after comparison)
WORK="$(mktemp -d /tmp/sentence-bench.XXXXXX)"
CLUSTER_BIN="$BIN" CLUSTER_DATA="$WORK"
source "$ROOT/scripts/cluster.sh"
BENCH_PIDS=()   # other processes started here (nginx), stopped on exit

cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    cluster_cleanup
    rm -rf "$WORK"
}
trap cleanup EXIT

# say: a progress line on standard error. record KEY VALUE: one figure, into the
# script's own $RESULTS file.
say() { echo "bench: $*" >&2; }
record() { echo "$1 $2" >> "$RESULTS"; }

# need PACKAGE...: Debian packages a benchmark needs (wrk, nginx).
need() { bash "$ROOT/scripts/install-packages.sh" "$@" >&2; }

build_release() {
    [ -n "${BENCH_BIN:-}" ] && return 0
    echo "building release binaries ..." >&2
    (cd "$ROOT" && swift build -c release >&2)
}

# rss_watch PID: samples PID's resident memory every 0.1 s in the background;
# rss_peak then stops that and prints the peak in MiB.
RSS_WATCHER=""
rss_watch() {
    local pid="$1"
    echo 0 > "$WORK/rss.peak"
    (
        peak=0
        while now="$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null)" && [ -n "$now" ]; do
            if [ "$now" -gt "$peak" ]; then peak="$now"; echo "$peak" > "$WORK/rss.peak"; fi
            sleep 0.1
        done
    ) &
    RSS_WATCHER=$!
}
rss_peak() {
    kill "$RSS_WATCHER" 2>/dev/null || true
    wait "$RSS_WATCHER" 2>/dev/null || true
    awk '{ printf "%.1f", $1 / 1024 }' "$WORK/rss.peak"
}
