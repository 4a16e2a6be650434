# Shared by the benchmark scripts: the release build, clusters on 127.0.0.1
# through scripts/cluster.sh (CLUSTER_DATA picks each run's folder), and a
# temporary folder that goes, with every process a script started, on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.build/release"
WORK="$(mktemp -d /tmp/sentence-bench.XXXXXX)"
CLUSTER_BIN="$BIN" CLUSTER_DATA="$WORK"
source "$ROOT/scripts/cluster.sh"

cleanup() {
    cluster_cleanup
    rm -rf "$WORK"
}
trap cleanup EXIT

# need PACKAGE...: Debian packages a benchmark needs (wrk).
need() { bash "$ROOT/scripts/install-packages.sh" "$@"; }

build_release() {
    echo "building release binaries ..." >&2
    (cd "$ROOT" && swift build -c release "$@" >&2)
}

rss_mib() {
    awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}
