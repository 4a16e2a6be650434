#!/usr/bin/env bash
# POST /sentence at 64 connections through the balancer (two nodes behind it) next
# to the same load straight to one node; then the 10,000-at-64 split.
#   bench/balancer-post.sh [seconds]
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN="${1:-10}"
need wrk wrk
build_release

start node-a "$BIN/node" --name A --port 0 --database "$WORK/a.sqlite"
port_a="$PORT"
start node-b "$BIN/node" --name B --port 0 --database "$WORK/b.sqlite"
port_b="$PORT"
start balancer "$BIN/balancer" --port 0 --node "A=http://127.0.0.1:$port_a" --node "B=http://127.0.0.1:$port_b"
port_lb="$PORT"

echo "== POST /sentence straight to node A, 64 connections, ${SECONDS_PER_RUN}s"
wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$(dirname "$0")/post-sentence.lua" "http://127.0.0.1:$port_a/sentence" | grep -E "Requests/sec|Latency|Non-2xx"
echo "== POST /sentence through the balancer (A and B), 64 connections, ${SECONDS_PER_RUN}s"
wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$(dirname "$0")/post-sentence.lua" "http://127.0.0.1:$port_lb/sentence" | grep -E "Requests/sec|Latency|Non-2xx"

for mode in "1" "0"; do
    echo "== 10,000 sentences at 64 concurrent connections, two empty nodes, --poll-interval $mode"
    start "a-$mode" "$BIN/node" --name A --port 0 --database "$WORK/split-$mode/a.sqlite"
    pa="$PORT"; pid_a="$LAST_PID"
    start "b-$mode" "$BIN/node" --name B --port 0 --database "$WORK/split-$mode/b.sqlite"
    pb="$PORT"; pid_b="$LAST_PID"
    start "lb-$mode" "$BIN/balancer" --port 0 --poll-interval "$mode" --node "A=http://127.0.0.1:$pa" --node "B=http://127.0.0.1:$pb"
    plb="$PORT"; pid_lb="$LAST_PID"
    python3 -c 'print("".join(f"Sentence {i} of the split run. " for i in range(10000)))' > "$WORK/10k.txt"
    "$BIN/loader" --balancer "http://127.0.0.1:$plb" --file "$WORK/10k.txt" --concurrency 64 | head -1
    a=$(curl -s "http://127.0.0.1:$pa/usage" | sed -n 's/.*"database":\([0-9]*\).*/\1/p')
    b=$(curl -s "http://127.0.0.1:$pb/usage" | sed -n 's/.*"database":\([0-9]*\).*/\1/p')
    echo "final counts: A=$a B=$b (difference $((a > b ? a - b : b - a)))"
    stop "$pid_lb"; stop "$pid_a"; stop "$pid_b"
done
