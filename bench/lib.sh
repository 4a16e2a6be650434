# Shared by the benchmark scripts: release build, starting servers on free loopback
# ports, and stopping every process a script started (by PID) when it exits.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.build/release"
WORK="$(mktemp -d /tmp/sentence-bench.XXXXXX)"
PIDS=()

cleanup() {
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

need() {
    # need COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null 2>&1 && return
    echo "installing $2 ..." >&2
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$2" >/dev/null
}

build_release() {
    echo "building release binaries ..." >&2
    (cd "$ROOT" && swift build -c release "$@" >&2)
}

# start NAME COMMAND... : runs COMMAND (which must listen on port 0) and sets
# PORT to the port it reports; its output goes to $WORK/NAME.log.
start() {
    local name="$1"; shift
    "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=("$!")
    LAST_PID="$!"
    for _ in $(seq 1 200); do
        PORT="$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/$name.log" | head -1)"
        [ -n "$PORT" ] && return 0
        kill -0 "$LAST_PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; echo "$name exited" >&2; return 1; }
        sleep 0.05
    done
    echo "$name did not start" >&2
    return 1
}

stop() {
    # stop PID: SIGTERM and wait (the servers drain and close cleanly)
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Peak resident memory of a process in MiB (VmHWM).
peak_rss_mib() {
    awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

rss_mib() {
    awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}
