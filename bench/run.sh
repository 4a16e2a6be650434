#!/usr/bin/env bash
# `make bench`: the README's performance targets, measured in one run on 127.0.0.1
# and printed as one table, also written to bench/RESULTS.md with the date, the
# machine and the commit. Figures, not pass/fail: machines differ and are noisy, so
# every comparison is a ratio of runs interleaved in the same invocation (the
# median of BENCH_ROUNDS rounds, default 3).
#
#   bench/run.sh
#   BENCH_ROUNDS=5 BENCH_SECONDS=20 bench/run.sh
#   BENCH_BIN=/tmp/old-build bench/run.sh      # binaries built elsewhere, no build
#   BENCH_COLD_BUILD=0 bench/run.sh            # skip the ~10 min cold release build
#
# Installs wrk and nginx when missing. Every process it starts is stopped by PID on
# exit (scripts/cluster.sh for ours, BENCH_PIDS for nginx). About 25 minutes here
# with the cold build (2 cores).
source "$(dirname "$0")/lib.sh"
ROUNDS="${BENCH_ROUNDS:-3}"
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
LUA="$ROOT/bench/post-sentence.lua"
RESULTS="$WORK/results.txt"
need wrk nginx
build_release
: > "$RESULTS"


# wrk_run URL CONNECTIONS [WRK-OPTIONS...]: POST /sentence for SECONDS_PER_RUN;
# stops the benchmark if any reply was not 2xx.
wrk_run() {
    local url="$1" connections="$2" out
    shift 2
    out="$(wrk -t2 -c"$connections" -d"${SECONDS_PER_RUN}s" "$@" -s "$LUA" "$url/sentence")"
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "$out" >&2
        echo "bench: $url answered with errors" >&2
        exit 1
    fi
    echo "$out"
}
rate_of() { awk '/Requests\/sec/ { print $2 }'; }
# The 99th percentile of `wrk --latency`, in milliseconds.
p99_of() {
    awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        print (u == "us" ? v / 1000 : (u == "s" ? v * 1000 : v)) }'
}
documents() { curl -sf "$1/usage" | sed -n 's/.*"database":\([0-9]*\).*/\1/p'; }
gap() {
    local a b
    a="$(documents "${CLUSTER_URL[A]}")" b="$(documents "${CLUSTER_URL[B]}")"
    echo $((a > b ? a - b : b - a))
}
# loader_run FILE [OPTIONS...]: the loader through the balancer; records nothing,
# prints its JSON summary; stops the benchmark if a sentence failed.
loader_run() {
    local file="$1" pid summary="$WORK/loader.json"
    shift
    "$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$file" --json "$@" > "$summary" &
    pid=$!
    rss_watch "$pid"
    wait "$pid" || { cat "$summary" >&2; say "the loader failed"; exit 1; }
    LOADER_RSS="$(rss_peak)"
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["failed"] == 0, s; print(s["perSecond"])' "$summary"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

say "writing the inputs ..."
python3 - "$WORK" <<'PY'
import random, sys
work = sys.argv[1]
random.seed(7)
words = "the a quiet harbour lamp keeper wrote every night about ships weather tides and bread".split()
def sentence(low, high):
    return " ".join(random.choice(words) for _ in range(random.randint(low, high))).capitalize() + "."
with open(f"{work}/200k.txt", "w") as out:
    out.writelines(sentence(6, 12) + "\n" for _ in range(200_000))
with open(f"{work}/1m.txt", "w") as out:
    out.writelines(sentence(6, 12) + "\n" for _ in range(1_000_000))
# About 1 GB for the loader's memory: long lines, the same handful of sentences.
block = "".join(sentence(30, 50) + " " for _ in range(2000)) + "\n"
with open(f"{work}/1g.txt", "w") as out:
    for _ in range(1_000_000_000 // len(block) + 1):
        out.write(block)
PY

# --- 1. POST /sentence at 64 connections: direct, nginx, ours, the original's way --
say "starting nodes A and B, the balancer, the original's balancer, nginx, and nodes C (direct) and O (sync off) ..."
CLUSTER_DATA="$WORK/http"
cluster_node A
cluster_node B
cluster_balancer
cluster_balancer --name original --poll-interval 0
cluster_node C
cluster_node O --synchronous off
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    upstream nodes {
        least_conn;
        server 127.0.0.1:${CLUSTER_PORT[A]};
        server 127.0.0.1:${CLUSTER_PORT[B]};
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://nodes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
BENCH_PIDS+=($!)
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
for _ in $(seq 100); do curl -s -o /dev/null "$NGINX_URL/health" && break; sleep 0.1; done

say "filling the balancer's id memory (200,000 sentences with ids) ..."
loader_run "$WORK/200k.txt" --batch 1000 > /dev/null
for round in $(seq "$ROUNDS"); do
    say "round $round of $ROUNDS: direct, sync off, nginx, original, ours, the loader, latency at 16"
    record direct "$(wrk_run "${CLUSTER_URL[C]}" 64 | rate_of)"
    record sync_off "$(wrk_run "${CLUSTER_URL[O]}" 64 | rate_of)"
    record nginx "$(wrk_run "$NGINX_URL" 64 | rate_of)"
    record original "$(wrk_run "${CLUSTER_URL[original]}" 64 | rate_of)"
    sleep 2
    rss_watch "${CLUSTER_PID[balancer]}"
    record balancer "$(wrk_run "${CLUSTER_URL[balancer]}" 64 | rate_of)"
    record balancer_rss "$(rss_peak)"
    sleep 2
    record balancer_gap "$(gap)"
    record loader_default "$(loader_run "$WORK/200k.txt")"
    record loader_rss "$LOADER_RSS"
    sleep 2
    record loader_gap "$(gap)"
    record p99_direct "$(wrk_run "${CLUSTER_URL[C]}" 16 --latency | p99_of)"
    record p99_balancer "$(wrk_run "${CLUSTER_URL[balancer]}" 16 --latency | p99_of)"
done
cluster_stop
kill "${BENCH_PIDS[0]}" && wait "${BENCH_PIDS[0]}" || true
BENCH_PIDS=()

# --- 5. A million sentences in batches of 1,000, next to SQLite alone ---------------
for round in $(seq "$ROUNDS"); do
    say "round $round of $ROUNDS: loader --batch 1000, 1,000,000 sentences; SQLite alone"
    CLUSTER_DATA="$WORK/batch$round"
    cluster_up 2
    record batch "$(loader_run "$WORK/1m.txt" --batch 1000)"
    record loader_rss "$LOADER_RSS"
    sleep 2
    record batch_gap "$(gap)"
    cluster_stop
    # The node's own schema and insert, in 1,000-row transactions, on the same disk.
    record sqlite "$(python3 - "$CLUSTER_DATA/a.sqlite" "$WORK/sqlite$round.sqlite" "$WORK/1m.txt" <<'PY'
import os, random, sqlite3, sys, time
schema = [row[0] for row in sqlite3.connect(sys.argv[1]).execute(
    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
db = sqlite3.connect(sys.argv[2], isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = FULL")
for statement in schema:
    db.execute(statement)
# The loader's documents: ids are its run id and the sentence's position, the
# sentence has no final period, the author is one of five.
run = os.urandom(6).hex()
sentences = open(sys.argv[3]).read().splitlines()
rows = [(f"{run}-{position}", f"User{random.randint(1, 5)}", text.rstrip("."), "2026-01-01 00:00:00.000000", "bench")
        for position, text in enumerate(sentences)]
# The node's statement without RETURNING, which executemany refuses: Python's
# per-row overhead would otherwise be counted as SQLite's.
insert = """INSERT INTO sentences (id, author, doc, attempt)
    VALUES (?1, ?2, json_object('id', ?1, 'author', ?2, 'sentence', ?3, 'date', ?4), ?5)
    ON CONFLICT (id) DO NOTHING"""
start = time.monotonic()
for first in range(0, len(rows), 1000):
    db.execute("BEGIN IMMEDIATE")
    db.executemany(insert, rows[first:first + 1000])
    db.execute("COMMIT")
print(round(len(rows) / (time.monotonic() - start)))
PY
)"
    rm -rf "$CLUSTER_DATA" "$WORK/sqlite$round.sqlite"*
done

# --- 7. Memory: a node streaming a million documents, the loader on 1 GB -------------
say "node memory while streaming 1,000,000 documents ..."
CLUSTER_DATA="$WORK/stream"
cluster_up 1
loader_run "$WORK/1m.txt" --batch 1000 > /dev/null
stored="$(documents "${CLUSTER_URL[A]}")"
rss_watch "${CLUSTER_PID[A]}"
seconds="$(curl -sf -o /dev/null -w '%{time_total}' "${CLUSTER_URL[A]}/sentence")"
record node_stream_rss "$(rss_peak)"
record node_stream_rate "$(awk -v n="$stored" -v s="$seconds" 'BEGIN { printf "%d", n / s }')"
cluster_stop
rm -rf "$CLUSTER_DATA"

say "loader memory on a 1 GB file (--dry-run: read, split, encode; nothing sent) ..."
"$BIN/loader" --file "$WORK/1g.txt" --dry-run > /dev/null &
pid=$!
rss_watch "$pid"
wait "$pid"
record loader_1g_rss "$(rss_peak)"
rm -f "$WORK/1g.txt"

# --- 9. The release build from a fresh clone ------------------------------------------
if [ "${BENCH_COLD_BUILD:-1}" = 1 ]; then
    say "cold release build of a fresh clone (about 10 minutes) ..."
    git clone -q "$ROOT" "$WORK/clone"
    start=$(date +%s)
    (cd "$WORK/clone" && swift build -c release > "$WORK/clone-build.log" 2>&1) || { tail -20 "$WORK/clone-build.log" >&2; exit 1; }
    record cold_build_minutes "$(awk -v s=$(($(date +%s) - start)) 'BEGIN { printf "%.1f", s / 60 }')"
    rm -rf "$WORK/clone"
fi

python3 "$ROOT/bench/report.py" "$RESULTS" "$ROUNDS" "$SECONDS_PER_RUN" "$ROOT" | tee "$ROOT/bench/RESULTS.md"
