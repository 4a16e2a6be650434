#!/usr/bin/env bash
# POST /sentence at 64 connections through the balancer (two nodes behind it) next
# to the same load straight to one node; then the 10,000-at-64 split.
#   bench/balancer-post.sh [seconds]
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN="${1:-10}"
need wrk
build_release

cluster_up 2

echo "== POST /sentence straight to node A, 64 connections, ${SECONDS_PER_RUN}s"
wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$(dirname "$0")/post-sentence.lua" "${CLUSTER_URL[A]}/sentence" | grep -E "Requests/sec|Latency|Non-2xx"
echo "== POST /sentence through the balancer (A and B), 64 connections, ${SECONDS_PER_RUN}s"
wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$(dirname "$0")/post-sentence.lua" "${CLUSTER_URL[balancer]}/sentence" | grep -E "Requests/sec|Latency|Non-2xx"
cluster_stop

for mode in "1" "0"; do
    echo "== 10,000 sentences at 64 concurrent connections, two empty nodes, --poll-interval $mode"
    CLUSTER_DATA="$WORK/split-$mode"
    cluster_up 2 -- --poll-interval "$mode"
    python3 -c 'print("".join(f"Sentence {i} of the split run. " for i in range(10000)))' > "$WORK/10k.txt"
    "$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$WORK/10k.txt" --concurrency 64 | head -1
    a=$(curl -s "${CLUSTER_URL[A]}/usage" | sed -n 's/.*"database":\([0-9]*\).*/\1/p')
    b=$(curl -s "${CLUSTER_URL[B]}/usage" | sed -n 's/.*"database":\([0-9]*\).*/\1/p')
    echo "final counts: A=$a B=$b (difference $((a > b ? a - b : b - a)))"
    cluster_stop
done
