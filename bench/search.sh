#!/usr/bin/env bash
# The search index's figures (part of `make bench`, also runnable alone), on 127.0.0.1:
#   1. POST /sentence at 64 connections through the balancer (wrk, as bench/run.sh),
#      with the index and with --no-search-index, fresh databases, interleaved rounds;
#   2. search latency (p50/p90/p99/max) through the balancer on a million sentences
#      on two nodes: common words, rare words, prefixes, phrases; and common words
#      again with --search-window 0 (every match ranked), bounded in time;
#   3. the FTS5 index's size next to the rest of each node's database (dbstat);
#   4. a node indexing ~500,000 stored sentences at its first start with the index,
#      and its next start.
# Writes bench/SEARCH.md. Figures, not pass/fail: it stops only when sentences fail
# to store or a search fails. About 4 minutes here (2 cores), after
# `swift build -c release` (up to a minute here even when nothing changed).
#
#   bench/search.sh
#   SEARCH_SENTENCES=50000 SEARCH_QUERIES=100 BENCH_ROUNDS=1 bench/search.sh   # a smoke run
#   BENCH_BIN=/tmp/other-build bench/search.sh     # binaries built elsewhere, no build
#   SEARCH_KEEP=/tmp/search-run bench/search.sh    # keep every measurement (JSON) there
#
# The corpus, the queries and the analysis are bench/search.py's.
source "$(dirname "$0")/lib.sh"
ROUNDS="${BENCH_ROUNDS:-3}"
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
SENTENCES="${SEARCH_SENTENCES:-1000000}"
QUERIES="${SEARCH_QUERIES:-1000}"
WINDOW0_SECONDS="${SEARCH_WINDOW0_SECONDS:-60}"
OUT="${SEARCH_OUT:-$ROOT/bench/SEARCH.md}"
HELPER="$ROOT/bench/search.py"
RESULTS="$WORK/results.txt"
need wrk curl
build_release
: > "$RESULTS"
began=$EPOCHREALTIME

seconds_since() { python3 -c "print(round($EPOCHREALTIME - $1, 2))"; }
documents() { curl -sf "${CLUSTER_URL[$1]}/usage" | python3 -c 'import json,sys; print(json.load(sys.stdin)["database"])'; }
stored() { echo $(( $(documents A) + $(documents B) )); }
# load: the corpus through the balancer in batches of 1,000; prints sentences/s;
# stops the benchmark unless every sentence was stored.
load() {
    local summary="$WORK/loader.json"
    "$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$WORK/corpus.txt" --batch 1000 --json > "$summary" \
        || { cat "$summary" >&2; say "the loader failed"; exit 1; }
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["failed"] == 0, s; print(round(s["perSecond"]))' "$summary" \
        || { say "sentences failed to store"; exit 1; }
    local count
    count="$(stored)"
    [ "$count" -eq "$SENTENCES" ] || { say "the nodes hold $count sentences, not $SENTENCES"; exit 1; }
}
# progress_lines NAME: the catch-up's progress lines in the node's log (of its last start).
progress_lines() { grep -c 'indexing stored sentences for search' "${CLUSTER_LOG[$1]}" || true; }

say "writing $SENTENCES sentences, wrk's bodies and $QUERIES queries ..."
python3 "$HELPER" corpus "$WORK" "$SENTENCES" "$QUERIES"

# --- 1. Insert throughput, with the index and without -------------------------------
# wrk_insert WITH|WITHOUT: a fresh two-node cluster, wrk for SECONDS_PER_RUN, the
# rate recorded; stops unless every request was answered 2xx and stored.
wrk_insert() {
    local variant="$1" out requests count options=()
    [ "$variant" = without ] && options=(--no-search-index)
    CLUSTER_DATA="$WORK/insert-$variant"
    cluster_up 2 "${options[@]}"
    out="$(WRK_BODIES="$WORK/bodies.txt" wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" -s "$ROOT/bench/search-post.lua" "${CLUSTER_URL[balancer]}/sentence")"
    if grep -q 'Non-2xx' <<<"$out"; then echo "$out" >&2; say "the balancer answered with errors"; exit 1; fi
    requests="$(awk '/requests in/ { print $1 }' <<<"$out")"
    count="$(stored)"
    [ "$count" -ge "$requests" ] || { echo "$out" >&2; say "$requests requests answered, $count sentences stored"; exit 1; }
    record "insert_$variant" "$(awk '/Requests\/sec/ { print $2 }' <<<"$out")"
    cluster_stop
    rm -rf "$CLUSTER_DATA"
}
record wrk_seconds "$SECONDS_PER_RUN"
for round in $(seq "$ROUNDS"); do
    say "round $round of $ROUNDS: POST /sentence at 64 connections, with the index and without"
    # Which goes first alternates, so a drift over the run favours neither.
    if [ $((round % 2)) = 1 ]; then wrk_insert with; wrk_insert without; else wrk_insert without; wrk_insert with; fi
done

# --- 2. Search latency on the corpus, through the balancer --------------------------
say "loading $SENTENCES sentences into two nodes with the index ..."
CLUSTER_DATA="$WORK/indexed"
cluster_up 2
rate="$(load)"
record load_with "$rate"
say "$QUERIES queries through the balancer (after 20 not counted) ..."
python3 "$HELPER" search "${CLUSTER_URL[balancer]}" "$WORK/warmup.tsv" "$WORK/warmup.json"
python3 "$HELPER" search "${CLUSTER_URL[balancer]}" "$WORK/queries.tsv" "$WORK/latency.json"
cluster_stop
say "common words with --search-window 0 (at most $WINDOW0_SECONDS s) ..."
cluster_node A --search-window 0
cluster_node B --search-window 0
cluster_balancer --search-timeout 600
record window0_seconds "$WINDOW0_SECONDS"
python3 "$HELPER" search "${CLUSTER_URL[balancer]}" "$WORK/common.tsv" "$WORK/latency-window0.json" "$WINDOW0_SECONDS"
cluster_stop

# --- 3. The index's size next to the data's --------------------------------------------
say "the index's pages and the rest (dbstat) ..."
python3 "$HELPER" sizes "$CLUSTER_DATA/a.sqlite" "$CLUSTER_DATA/b.sqlite" > "$WORK/sizes-indexed.json"
rm -rf "$CLUSTER_DATA"

# --- 4. A node indexing its stored sentences at first start ----------------------------
say "loading $SENTENCES sentences into two nodes with --no-search-index ..."
CLUSTER_DATA="$WORK/plain"
cluster_up 2 --no-search-index
rate="$(load)"
record load_without "$rate"
cluster_stop
python3 "$HELPER" sizes "$CLUSTER_DATA/a.sqlite" "$CLUSTER_DATA/b.sqlite" > "$WORK/sizes-plain.json"
rm -f "$CLUSTER_DATA"/b.sqlite*
record catchup_sentences "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["sentences"])' "$WORK/sizes-plain.json")"
# The start a node without the index takes on this database, for comparison.
started=$EPOCHREALTIME
cluster_node A --no-search-index
record catchup_plain "$(seconds_since "$started")"
cluster_stop
say "node A's first start with the index: indexing its stored sentences ..."
started=$EPOCHREALTIME
# cluster_node waits 30 s for the port by default; indexing may take longer.
CLUSTER_START_TIMEOUT=900 cluster_node A
record catchup_first "$(seconds_since "$started")"
record catchup_lines "$(progress_lines A)"
grep 'indexing stored sentences for search' "${CLUSTER_LOG[A]}" | tail -1 >&2
hits="$(curl -sf "${CLUSTER_URL[A]}/search?q=de&limit=5" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hits"]))')"
[ "$hits" -gt 0 ] || { say "node A finds nothing after indexing"; exit 1; }
cluster_stop
started=$EPOCHREALTIME
cluster_node A
record catchup_second "$(seconds_since "$started")"
record catchup_second_lines "$(progress_lines A)"
cluster_stop
python3 "$HELPER" sizes "$CLUSTER_DATA/a.sqlite" > "$WORK/sizes-catchup.json"
rm -rf "$CLUSTER_DATA"

record total_seconds "$(seconds_since "$began")"
python3 "$HELPER" report "$WORK" "$ROOT" > "$OUT"
if [ -n "${SEARCH_KEEP:-}" ]; then
    mkdir -p "$SEARCH_KEEP"
    cp "$WORK"/*.json "$WORK"/*.tsv "$RESULTS" "$SEARCH_KEEP"/
fi
cat "$OUT"
