#!/usr/bin/env bash
# Litestream's figures for the README's "Backups and restore" (part of `make bench`,
# also runnable alone): on one node holding 1,000,000 sentences, for a file replica
# and for moto's S3 server on 127.0.0.1,
#   - the loader's rate (--batch 1000) with Litestream replicating, and without;
#   - the window of loss: the node and its Litestream SIGKILLed together in the
#     middle of a load, the data folder deleted, the node restored; the sentences
#     it had acknowledged and lost, and how many seconds of its write rate that is;
#   - the restore time at start-up (as the node logs it) and until it listens.
# Writes bench/BACKUP.md. About 8 minutes here.
source "$(dirname "$0")/lib.sh"
need curl
build_release
OUT="$ROOT/bench/BACKUP.md"
CONFIG="$ROOT/deploy/litestream/litestream.yml"

python3 - "$WORK" <<'PY'
import random, sys
random.seed(11)
words = "the a quiet harbour lamp keeper wrote every night about ships weather tides and bread".split()
with open(f"{sys.argv[1]}/1m.txt", "w") as out:
    out.writelines(" ".join(random.choice(words) for _ in range(random.randint(6, 12))).capitalize() + ".\n" for _ in range(1_000_000))
PY

documents() { curl -sf "${CLUSTER_URL[A]}/usage" | python3 -c 'import json,sys; print(json.load(sys.stdin)["database"])'; }
caught_up() { curl -sf "${CLUSTER_URL[A]}/usage" | python3 -c 'import json,sys; r=json.load(sys.stdin).get("replication") or {}; sys.exit(not (r.get("status") == "replicating" and r.get("lagSeconds") == 0))'; }
load() { # the loader's sentences per second, or nothing when it was stopped
    "$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$WORK/1m.txt" --batch 1000 --json "$@" 2>/dev/null \
        | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["perSecond"]))' 2>/dev/null || true
}
start_moto() {
    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    moto_server -H 127.0.0.1 -p "$port" > "$WORK/moto.log" 2>&1 &
    BENCH_PIDS+=($!)
    for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
    curl -sf -X PUT -o /dev/null "http://127.0.0.1:$port/bench"
    MOTO="http://127.0.0.1:$port"
}
# restart_node: A again (and its Litestream) with its folder gone. Run in this
# shell, not in $(...), so the cluster's tables learn the new processes; sets
# LOGGED (the node's restore seconds), LISTEN (seconds until it listens) and
# RESTORED (its documents).
restart_node() {
    cluster_stop balancer A litestream-a
    rm -rf "$CLUSTER_DATA"
    local started=$EPOCHREALTIME
    cluster_node A
    local listening=$EPOCHREALTIME
    cluster_balancer
    LOGGED="$(sed -n 's/.*seconds=\([0-9.]*\).*restored the database.*/\1/p' "${CLUSTER_LOG[A]}" | tail -1)"
    LISTEN="$(python3 -c "print(round($listening - $started, 2))")"
    RESTORED="$(documents)"
}

: > "$WORK/rows"
say "1,000,000 sentences into one node without Litestream ..."
CLUSTER_DATA="$WORK/plain"
cluster_up 1
without="$(load)"
cluster_stop
rm -rf "$WORK/plain"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
start_moto
for replica in file s3; do
    case "$replica" in
        file) CLUSTER_BACKUP="file://$WORK/replica-file" ;;
        s3) CLUSTER_BACKUP="s3://bench/sentences?endpoint=$MOTO&region=us-east-1" ;;
    esac
    say "$replica replica: 1,000,000 sentences with Litestream, then a restore ..."
    CLUSTER_DATA="$WORK/node-$replica"
    cluster_up 1
    with="$(load)"
    for _ in $(seq 120); do caught_up && break; sleep 0.5; done
    stored="$(documents)"
    restart_node
    logged=$LOGGED listen=$LISTEN restored=$RESTORED
    say "$replica: restored $restored of $stored in $logged s (listening after $listen s)"

    say "$replica replica: the disk lost in the middle of a load ..."
    before="$(documents)"
    "$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$WORK/1m.txt" --batch 1000 --run-id "lost-$replica" > /dev/null 2>&1 &
    loader=$!
    sleep 15
    a="$(documents)"; sleep 1; b="$(documents)"
    kill -9 "${CLUSTER_PID[A]}" "${CLUSTER_PID[litestream-a]}"
    acknowledged="$(( b - before ))"
    rate="$(( b - a ))"
    kill "$loader" 2>/dev/null || true
    wait "$loader" 2>/dev/null || true
    restart_node
    kept=$RESTORED
    lost="$(( b - kept ))"
    window="$(python3 -c "print(round($lost / max($rate, 1), 2))")"
    say "$replica: $lost of the $acknowledged sentences acknowledged during the load lost, at $rate/s: $window s"
    echo "| $replica | $with | $restored | $logged | $listen | $acknowledged | $lost | $rate | $window |" >> "$WORK/rows"
    cluster_stop
done
unset CLUSTER_BACKUP

{
    echo "# Backups: Litestream $(litestream version) on $(nproc) cores, $(date -u +%Y-%m-%d), commit $(git -C "$ROOT" rev-parse --short HEAD)"
    echo
    echo "Loader without Litestream (--batch 1000, one node): **$without sentences/s**."
    echo
    echo "| replica | loader with Litestream (sentences/s) | restored | restore (node's log, s) | until listening (s) | acknowledged during the killed load | lost | write rate before the kill (/s) | window of loss (s) |"
    echo "|---|---|---|---|---|---|---|---|---|"
    cat "$WORK/rows"
} > "$OUT"
cat "$OUT"
