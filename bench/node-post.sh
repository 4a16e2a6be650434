#!/usr/bin/env bash
# POST /sentence rate against one node at 64 connections, with group commit on and
# off (synchronous=FULL both times: every 201 is on disk).
#   bench/node-post.sh [seconds]
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN="${1:-10}"
need wrk
build_release --product node

for mode in group-commit no-group-commit; do
    CLUSTER_DATA="$WORK/$mode"
    cluster_node A --"$mode"
    url="${CLUSTER_URL[A]}/sentence"
    echo "== POST /sentence, 64 connections, ${SECONDS_PER_RUN}s, $mode"
    wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$(dirname "$0")/post-sentence.lua" "$url" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
    stored="$(curl -s "${CLUSTER_URL[A]}/usage" | sed -n 's/.*"database":\([0-9]*\).*/\1/p')"
    echo "documents stored: $stored"
    cluster_stop
    grep -o 'transactions=[0-9]*' "${CLUSTER_LOG[A]}" | tail -1 | sed 's/^/write /'
done
