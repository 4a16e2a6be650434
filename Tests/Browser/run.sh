#!/usr/bin/env bash
# Browser test of the dashboard: two nodes and a balancer on 127.0.0.1 (started by
# scripts/cluster.sh), the page in headless Chromium (Debian's) driven by
# Playwright for Python (dashboard_test.py).
#
#   bash Tests/Browser/run.sh            # uses .build/debug, builds it if missing
#   BIN_DIR=.build/release bash Tests/Browser/run.sh
#
# Installs what is missing (apt: chromium; pip: playwright, which drives the system
# Chromium: no browser download). Screenshots and logs go to Tests/Browser/artifacts/;
# with UPDATE_SCREENSHOTS=1 a passing run also copies them to docs/screenshots/ (the README's).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PLAYWRIGHT_VERSION="1.65.2"
TEST_TIMEOUT="${BROWSER_TEST_TIMEOUT:-180}"   # seconds, for the test itself (not installs)
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PYTHON="${PYTHON:-python3}"
BIN_DIR="${BIN_DIR:-$ROOT/.build/debug}"
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ROOT/$BIN_DIR" ;; esac
ARTIFACTS="$HERE/artifacts"

fail() {
    echo "FAIL: $*"
    echo "browser test: FAIL"
    exit 1
}

# --- what the test needs -------------------------------------------------------
if [ ! -x "$CHROMIUM" ]; then
    bash "$ROOT/scripts/install-packages.sh" chromium || fail "could not install chromium"
    CHROMIUM="$(command -v chromium || echo /usr/bin/chromium)"
fi
# The driver only, from PyPI; the browser is Debian's.
PYTHON="$PYTHON" bash "$ROOT/scripts/install-packages.sh" --pip "playwright==$PLAYWRIGHT_VERSION" \
    || fail "could not install playwright"
CLUSTER_BIN="$BIN_DIR" CLUSTER_LOGS="$ARTIFACTS"
source "$ROOT/scripts/cluster.sh"
cluster_binaries node balancer || fail "no node and balancer in $BIN_DIR"

# --- run, bounded in time, and stop everything it started ------------------------
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
TEST_PID=""
cleanup() {
    # The cluster, by PID; then what the test started and a crash or timeout left:
    # its process group (the browser, the restarted node), then each PID it recorded.
    local pgid pid
    if [ -s "$ARTIFACTS/pgid" ]; then
        pgid="$(cat "$ARTIFACTS/pgid")"
        if [ -n "$pgid" ] && [ "$pgid" != "$$" ] && kill -0 -- "-$pgid" 2>/dev/null; then
            kill -TERM -- "-$pgid" 2>/dev/null || true
            sleep 1
            kill -KILL -- "-$pgid" 2>/dev/null || true
        fi
    fi
    if [ -f "$ARTIFACTS/pids" ]; then
        while read -r pid; do
            [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
        done < "$ARTIFACTS/pids"
    fi
    if [ -n "$TEST_PID" ]; then kill -KILL "$TEST_PID" 2>/dev/null || true; fi
    cluster_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Databases and the missing so_info file in the cluster's temporary folder.
# Node A is replicated by Litestream to a folder (its card shows the replica's lag); B is not.
CLUSTER_BACKUP="file://$CLUSTER_RUN/backups" cluster_node A --so-info "$CLUSTER_RUN/no-so-info" || fail "node A did not start"
cluster_node B --so-info "$CLUSTER_RUN/no-so-info" || fail "node B did not start"
cluster_balancer --poll-interval 0.5 --admin-token browser-test || fail "the balancer did not start"
nodes="A=${CLUSTER_URL[A]},B=${CLUSTER_URL[B]}"
pids="A=${CLUSTER_PID[A]},B=${CLUSTER_PID[B]}"

echo "browser test: chromium $("$CHROMIUM" --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1), playwright $PLAYWRIGHT_VERSION, binaries in $BIN_DIR"
started=$(date +%s)
status=0
BIN_DIR="$BIN_DIR" ARTIFACTS="$ARTIFACTS" CHROMIUM="$CHROMIUM" PYTHONDONTWRITEBYTECODE=1 \
    NODES="$nodes" NODE_PIDS="$pids" LITESTREAM_PID="${CLUSTER_PID[litestream-a]}" BALANCER_URL="${CLUSTER_URL[balancer]}" ADMIN_TOKEN=browser-test DATA="$CLUSTER_RUN" \
    timeout --signal=TERM --kill-after=15 "$TEST_TIMEOUT" \
    "$PYTHON" -u "$HERE/dashboard_test.py" </dev/null 2>&1 &
TEST_PID=$!
# Quiet: else bash reports node B, which the test kills on purpose, as "Killed".
wait "$TEST_PID" 2>/dev/null || status=$?
TEST_PID=""
echo "browser test took $(( $(date +%s) - started )) s"
if [ "$status" -eq 124 ]; then
    echo "FAIL: timed out after $TEST_TIMEOUT s"
fi

if [ "$status" -eq 0 ]; then
    echo "screenshots: $ARTIFACTS"
    # The README's screenshots are refreshed on request only, so a test run
    # leaves the work tree as it was.
    if [ "${UPDATE_SCREENSHOTS:-0}" = 1 ]; then
        mkdir -p "$ROOT/docs/screenshots"
        cp "$ARTIFACTS/dashboard-1280.png" "$ARTIFACTS/dashboard-375.png" "$ROOT/docs/screenshots/"
        echo "copied to docs/screenshots/"
    fi
    echo "browser test: PASS"
else
    echo "logs and screenshots: $ARTIFACTS"
    echo "browser test: FAIL"
    exit 1
fi
