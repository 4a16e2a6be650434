#!/usr/bin/env bash
# What the balancer's id memory (--remember-ids) costs when full: its resident
# memory after 120,000 sentences with client ids, with the default 100,000 ids
# remembered and with none.
#   bench/balancer-memory.sh
source "$(dirname "$0")/lib.sh"
build_release

python3 -c 'print("".join(f"Sentence {i} of the memory run. " for i in range(120000)))' > "$WORK/120k.txt"
for remembered in 100000 0; do
    start "node-$remembered" "$BIN/node" --name A --port 0 --database "$WORK/$remembered/a.sqlite"
    port_a="$PORT"; pid_a="$LAST_PID"
    start "balancer-$remembered" "$BIN/balancer" --port 0 --remember-ids "$remembered" --node "A=http://127.0.0.1:$port_a"
    port_lb="$PORT"; pid_lb="$LAST_PID"
    before="$(rss_mib "$pid_lb")"
    "$BIN/loader" --balancer "http://127.0.0.1:$port_lb" --file "$WORK/120k.txt" --batch 1000 --run-id "mem$remembered" | head -1
    echo "== --remember-ids $remembered: balancer resident ${before} MiB at start, $(rss_mib "$pid_lb") MiB after 120,000 ids"
    stop "$pid_lb"; stop "$pid_a"
done
