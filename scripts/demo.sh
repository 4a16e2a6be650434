#!/usr/bin/env bash
# `make demo`: the whole system on 127.0.0.1 — node A (5001), node B (5002) and the
# balancer (4999) — with their data under ./data/. Sends the sample text through
# the loader, prints what happened, and keeps running until Ctrl-C, which stops
# every process this script started (by PID) and keeps the data for next time.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=127.0.0.1
NODE_A_PORT="${NODE_A_PORT:-5001}"
NODE_B_PORT="${NODE_B_PORT:-5002}"
BALANCER_PORT="${BALANCER_PORT:-4999}"
SAMPLE="${SAMPLE:-samples/sample.txt}"
mkdir -p data/logs
PIDS=()

stop_all() {
    trap - EXIT INT TERM
    if [ ${#PIDS[@]} -gt 0 ]; then
        echo
        echo "stopping (PIDs ${PIDS[*]}) ..."
        kill "${PIDS[@]}" 2>/dev/null || true
        wait "${PIDS[@]}" 2>/dev/null || true
        echo "stopped; data kept in ./data/"
    fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

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

echo "building release binaries (the first build takes a few minutes) ..."
if ! swift build -c release >data/logs/build.log 2>&1; then
    tail -40 data/logs/build.log >&2
    echo "the build failed; the whole log is data/logs/build.log" >&2
    exit 1
fi
BIN="$(swift build -c release --show-bin-path)"

start() {
    # start NAME LOG COMMAND...
    local name="$1" log="$2"
    shift 2
    "$@" >"$log" 2>&1 &
    PIDS+=("$!")
    echo "started $name (PID $!), log $log"
}

wait_healthy() {
    # wait_healthy NAME PORT PID
    for _ in $(seq 1 100); do
        if curl -sf "http://$HOST:$2/health" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$3" 2>/dev/null; then
            echo "$1 exited during start-up; its log:" >&2
            cat "data/logs/$1.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "$1 did not answer /health on port $2 within 10 s" >&2
    exit 1
}

start node-a data/logs/node-a.log "$BIN/node" --name A --host "$HOST" --port "$NODE_A_PORT" --database data/a.sqlite
wait_healthy node-a "$NODE_A_PORT" "${PIDS[-1]}"
start node-b data/logs/node-b.log "$BIN/node" --name B --host "$HOST" --port "$NODE_B_PORT" --database data/b.sqlite
wait_healthy node-b "$NODE_B_PORT" "${PIDS[-1]}"
start balancer data/logs/balancer.log "$BIN/balancer" --host "$HOST" --port "$BALANCER_PORT" \
    --node "A=http://$HOST:$NODE_A_PORT" --node "B=http://$HOST:$NODE_B_PORT"
wait_healthy balancer "$BALANCER_PORT" "${PIDS[-1]}"

echo
echo "sending $SAMPLE through the loader ..."
"$BIN/loader" --balancer "http://$HOST:$BALANCER_PORT" --file "$SAMPLE" || echo "(the loader reported failures; see above)"

echo
echo "documents per node:"
for entry in "A:$NODE_A_PORT" "B:$NODE_B_PORT"; do
    echo "  ${entry%%:*}: $(curl -s "http://$HOST:${entry##*:}/usage")"
done
echo
echo "dashboard:  http://$HOST:$BALANCER_PORT/"
echo "send more:  $BIN/loader --balancer http://$HOST:$BALANCER_PORT --file YOUR.txt"
echo "press Ctrl-C to stop"
# Ctrl-C reaches the servers too (same process group); they drain and exit 0.
status=0
wait -n "${PIDS[@]}" || status=$?
if [ "$status" -ne 0 ]; then
    echo "a process of the cluster stopped with status $status; see data/logs/" >&2
    exit 1
fi
