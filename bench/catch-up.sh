#!/usr/bin/env bash
# How long a node added empty takes to catch up: nodes A and B get
# CATCHUP_SENTENCES each through the balancer, node C is added through the admin
# API, and the loader sends as many again. Prints when C first held as many as
# the others, the loader's rate, and the final counts. The rule says C takes
# every sentence until then, so the time is about N / rate.
#
#   bench/catch-up.sh                       # release build (built if missing)
#   BENCH_BIN=.build/debug bench/catch-up.sh
#   CATCHUP_SENTENCES=100000 bench/catch-up.sh
source "$(dirname "$0")/lib.sh"
PER_NODE="${CATCHUP_SENTENCES:-10000}"
[ -x "$BIN/loader" ] || build_release
TOKEN=catch-up

cluster_up 2 --so-info "$WORK/no-so-info" -- --admin-token "$TOKEN"
balancer="${CLUSTER_URL[balancer]}"
# Sentences of one line each, so the loader sends exactly this many.
for ((i = 0; i < 2 * PER_NODE; i++)); do echo "Sentence $i of the catch-up run."; done > "$WORK/input.txt"
"$BIN/loader" --balancer "$balancer" --file "$WORK/input.txt" --json > /dev/null
count() { curl -sf "${CLUSTER_URL[$1]}/usage" | python3 -c 'import json, sys; print(json.load(sys.stdin)["database"])'; }
echo "catch-up: A=$(count A) B=$(count B) before; adding C empty" >&2

cluster_node C --so-info "$WORK/no-so-info"
curl -sf -X POST "$balancer/nodes" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"name\": \"C\", \"url\": \"${CLUSTER_URL[C]}\"}" > /dev/null
start=$(date +%s.%N)
"$BIN/loader" --balancer "$balancer" --file "$WORK/input.txt" --run-id second --json > "$WORK/summary.json" &
loader=$!
caught=""
while kill -0 "$loader" 2>/dev/null; do
    if [ -z "$caught" ]; then
        a=$(count A) b=$(count B) c=$(count C)
        if [ "$c" -ge "$a" ] && [ "$c" -ge "$b" ]; then
            caught=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
            echo "catch-up: C caught up after $caught s (A=$a B=$b C=$c)" >&2
        fi
    fi
    sleep 0.05
done
wait "$loader"
python3 - "$WORK/summary.json" "$PER_NODE" "${caught:-never}" "$(count A)" "$(count B)" "$(count C)" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
per_node, caught, a, b, c = sys.argv[2], sys.argv[3], *sys.argv[4:]
rate = summary["sent"] / summary["seconds"]
print(f"catch-up: A and B at {per_node} each; the loader sent {summary['sent']} at {rate:,.0f}/s; "
      f"C caught up after {caught} s (N/rate = {int(per_node) / rate:.1f} s); final A={a} B={b} C={c}")
PY
