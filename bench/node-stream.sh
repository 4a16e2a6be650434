#!/usr/bin/env bash
# Memory of a node while it streams GET /sentence (no limit) at a million rows:
# resident memory is sampled during the download and compared with before.
#   bench/node-stream.sh [rows]
source "$(dirname "$0")/lib.sh"
ROWS="${1:-1000000}"
build_release --product node

cluster_node A --max-body 8388608
node_pid="${CLUSTER_PID[A]}"
base="${CLUSTER_URL[A]}"

python3 - "$WORK/batch.json" <<'PY'
import json, sys
items = [{"author": f"User{i % 5 + 1}", "sentence": f"Sentence number {i} of the streaming benchmark, long enough to look real."} for i in range(10000)]
open(sys.argv[1], "w").write(json.dumps(items))
PY
echo "loading $ROWS rows in batches of 10000 ..."
start_load=$(date +%s.%N)
for _ in $(seq 1 $((ROWS / 10000))); do
    curl -sf -o /dev/null -H 'Expect:' -H 'content-type: application/json' --data-binary @"$WORK/batch.json" "$base/sentences"
done
load_seconds=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start_load }")
echo "loaded: $(curl -s "$base/usage") in ${load_seconds}s"

before="$(rss_mib "$node_pid")"
peak="$before"
curl -s -o "$WORK/all.json" -w '%{size_download} %{time_total}\n' "$base/sentence" > "$WORK/curl.out" &
curl_pid=$!
while kill -0 "$curl_pid" 2>/dev/null; do
    now="$(rss_mib "$node_pid")"
    peak="$(echo "$now $peak" | awk '{ print ($1 > $2) ? $1 : $2 }')"
    sleep 0.1
done
read -r bytes seconds < "$WORK/curl.out"
count="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/all.json")"
echo "GET /sentence: $count documents, $((bytes / 1048576)) MiB in ${seconds}s"
echo "node resident memory: ${before} MiB before, ${peak} MiB peak while streaming"
