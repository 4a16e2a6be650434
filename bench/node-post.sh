#!/usr/bin/env bash
# POST /sentence rate against one node at 64 connections, with group commit on and
# off (synchronous=FULL both times: every 201 is on disk).
#   bench/node-post.sh [seconds]
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN="${1:-10}"
need wrk wrk
build_release --product node

for mode in group-commit no-group-commit; do
    start "node-$mode" "$BIN/node" --port 0 --database "$WORK/$mode/node.sqlite" --"$mode"
    node_pid="$LAST_PID"
    url="http://127.0.0.1:$PORT/sentence"
    echo "== POST /sentence, 64 connections, ${SECONDS_PER_RUN}s, $mode"
    wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$(dirname "$0")/post-sentence.lua" "$url" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
    stored="$(curl -s "http://127.0.0.1:$PORT/usage" | sed -n 's/.*"database":\([0-9]*\).*/\1/p')"
    echo "documents stored: $stored"
    stop "$node_pid"
    grep -o 'transactions=[0-9]*' "$WORK/node-$mode.log" | tail -1 | sed 's/^/write /'
done
