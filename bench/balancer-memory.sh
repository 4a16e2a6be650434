#!/usr/bin/env bash
# What the balancer's id memory (--remember-ids) costs when full: its resident
# memory after 120,000 sentences with client ids, with the default 100,000 ids
# remembered and with none.
#   bench/balancer-memory.sh
source "$(dirname "$0")/lib.sh"
build_release

python3 -c 'print("".join(f"Sentence {i} of the memory run. " for i in range(120000)))' > "$WORK/120k.txt"
for remembered in 100000 0; do
    CLUSTER_DATA="$WORK/$remembered"
    cluster_up 1 -- --remember-ids "$remembered"
    before="$(rss_mib "${CLUSTER_PID[balancer]}")"
    "$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$WORK/120k.txt" --batch 1000 --run-id "mem$remembered" | head -1
    echo "== --remember-ids $remembered: balancer resident ${before} MiB at start, $(rss_mib "${CLUSTER_PID[balancer]}") MiB after 120,000 ids"
    cluster_stop
done
