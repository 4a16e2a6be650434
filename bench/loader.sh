#!/usr/bin/env bash
# The loader's figures (part of `make bench`, also runnable alone), on 127.0.0.1:
#   1. reading: `--dry-run` over 100 MB of Spanish text as UTF-8, as gzip and as
#      Windows-1252: MB of text a second and peak resident memory;
#   2. sending through a balancer and two nodes: 100,000 single sentences (the
#      defaults) and 500,000 with --batch 1000, plain and with --checkpoint;
#   3. resuming: a 500,000-sentence --batch 1000 --checkpoint run SIGKILLed halfway,
#      then run again: sentences skipped, time to the first send, the rest's rate;
#   4. --rate 2000 over 20,000 sentences: the achieved rate.
# With LOADER_BEFORE=DIR (a folder holding an older `loader`), 1 and 2 also run that
# loader, interleaved round by round, for a before/after table. Writes bench/LOADER.md.
# Figures, not pass/fail: it stops only when a run fails. About 10 minutes here.
#
#   bench/loader.sh
#   LOADER_BEFORE=/tmp/old/.build/release bench/loader.sh
#   BENCH_ROUNDS=1 LOADER_SINGLE=20000 LOADER_BATCHED=100000 bench/loader.sh   # a smoke run
source "$(dirname "$0")/lib.sh"
ROUNDS="${BENCH_ROUNDS:-3}"
SINGLE="${LOADER_SINGLE:-100000}"
BATCHED="${LOADER_BATCHED:-500000}"
BEFORE="${LOADER_BEFORE:-}"
OUT="${LOADER_OUT:-$ROOT/bench/LOADER.md}"
RESULTS="$WORK/results.txt"
need curl gzip
build_release
: > "$RESULTS"
began=$EPOCHREALTIME

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

say "writing the inputs ..."
python3 - "$WORK" "$SINGLE" "$BATCHED" <<'PY'
import random, sys
work, single, batched = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(17)
words = ("el la un niño comió piñata acción rápida café señor años después begoña volvió "
         "cádiz quién llegó tarde puerto faro guardián escribió cada noche sobre barcos").split()
def sentence(low, high):
    return " ".join(random.choice(words) for _ in range(random.randint(low, high))).capitalize() + "."
with open(f"{work}/100m.txt", "w", encoding="utf-8") as out:
    written = 0
    while written < 100_000_000:
        line = " ".join(sentence(6, 14) for _ in range(12)) + "\n"
        out.write(line)
        written += len(line.encode())
for name, count in (("single", single), ("batched", batched)):
    with open(f"{work}/{name}.txt", "w", encoding="utf-8") as out:
        out.writelines(sentence(6, 12) + "\n" for _ in range(count))
with open(f"{work}/100m.txt", encoding="utf-8") as source, open(f"{work}/100m.cp1252.txt", "w", encoding="cp1252") as out:
    out.write(source.read())
PY
gzip -6 -k "$WORK/100m.txt"
TEXT_MB=$(python3 -c "import os; print(os.path.getsize('$WORK/100m.txt') / 1e6)")

# dry LOADER FILE [OPTIONS...]: reads FILE, sends nothing; records MB of text/s and peak MiB.
dry() {
    local loader="$1" file="$2" label="$3" pid start
    shift 3
    start=$EPOCHREALTIME
    "$loader" --file "$file" --dry-run --seed 1 "$@" > /dev/null 2> "$WORK/dry.err" &
    pid=$!
    rss_watch "$pid"
    wait "$pid" || { cat "$WORK/dry.err" >&2; say "the dry run failed"; exit 1; }
    record "read_$label" "$(python3 -c "print(round($TEXT_MB / ($EPOCHREALTIME - $start), 1))")"
    record "rss_$label" "$(rss_peak)"
}

# send LOADER FILE LABEL [OPTIONS...]: through the balancer; records sentences/s.
send() {
    local loader="$1" file="$2" label="$3"
    shift 3
    "$loader" --balancer "${CLUSTER_URL[balancer]}" --file "$file" --json "$@" > "$WORK/send.json" 2> "$WORK/send.err" \
        || { cat "$WORK/send.err" >&2; say "the loader failed"; exit 1; }
    record "send_$label" "$(json_field "$WORK/send.json" perSecond | python3 -c 'import sys; print(round(float(sys.stdin.read())))')"
}

say "starting nodes A and B and the balancer ..."
cluster_node A
cluster_node B
cluster_balancer

for round in $(seq "$ROUNDS"); do
    say "round $round of $ROUNDS: reading 100 MB (--dry-run) ..."
    [ -n "$BEFORE" ] && dry "$BEFORE/loader" "$WORK/100m.txt" before_utf8
    dry "$BIN/loader" "$WORK/100m.txt" utf8
    dry "$BIN/loader" "$WORK/100m.txt.gz" gzip
    dry "$BIN/loader" "$WORK/100m.cp1252.txt" cp1252 --encoding windows-1252
    say "round $round of $ROUNDS: sending $SINGLE single sentences, then $BATCHED in batches of 1,000 ..."
    [ -n "$BEFORE" ] && send "$BEFORE/loader" "$WORK/single.txt" before_single
    send "$BIN/loader" "$WORK/single.txt" single
    [ -n "$BEFORE" ] && send "$BEFORE/loader" "$WORK/batched.txt" before_batch --batch 1000
    send "$BIN/loader" "$WORK/batched.txt" batch --batch 1000
    rm -f "$WORK/run.ckpt"
    send "$BIN/loader" "$WORK/batched.txt" batch_checkpoint --batch 1000 --checkpoint "$WORK/run.ckpt"
done

say "resuming: $BATCHED sentences, SIGKILLed halfway ..."
rm -f "$WORK/resume.ckpt"
"$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$WORK/batched.txt" --batch 1000 --checkpoint "$WORK/resume.ckpt" \
    > /dev/null 2>&1 &
pid=$!
until [ -f "$WORK/resume.ckpt" ] && [ "$(json_field "$WORK/resume.ckpt" acknowledged)" -ge $((BATCHED / 2)) ]; do
    kill -0 "$pid" 2>/dev/null || { say "the loader ended before halfway"; exit 1; }
    sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
record resume_acknowledged "$(json_field "$WORK/resume.ckpt" acknowledged)"
"$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$WORK/batched.txt" --batch 1000 --checkpoint "$WORK/resume.ckpt" --json \
    > "$WORK/resume.json"
record resume_skipped "$(json_field "$WORK/resume.json" skipped)"
record resume_first_send "$(json_field "$WORK/resume.json" secondsToFirstSend | python3 -c 'import sys; print(round(float(sys.stdin.read()), 2))')"
record resume_rate "$(json_field "$WORK/resume.json" perSecond | python3 -c 'import sys; print(round(float(sys.stdin.read())))')"
record resume_finished "$(json_field "$WORK/resume.json" finished)"

say "--rate 2000 over 20,000 sentences ..."
head -n 20000 "$WORK/single.txt" > "$WORK/paced.txt"
"$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$WORK/paced.txt" --rate 2000 --json > "$WORK/paced.json"
record rate_achieved "$(json_field "$WORK/paced.json" perSecond | python3 -c 'import sys; print(round(float(sys.stdin.read()), 1))')"

python3 - "$RESULTS" "$OUT" "$ROUNDS" "$SINGLE" "$BATCHED" "$(git -C "$ROOT" rev-parse --short HEAD)" "$BEFORE" \
    "$(python3 -c "print(round(($EPOCHREALTIME - $began) / 60, 1))")" <<'PY'
import statistics, sys, datetime, os
results, out, rounds, single, batched, commit, before, minutes = sys.argv[1:9]
values = {}
for line in open(results):
    key, value = line.split()
    values.setdefault(key, []).append(value)
def median(key):
    items = [float(v) for v in values.get(key, [])]
    return statistics.median(items) if items else None
def cell(key, unit=""):
    m = median(key)
    return "–" if m is None else (f"{m:,.0f}" if m >= 100 else f"{m:,.1f}") + unit
def ratio(a, b):
    x, y = median(a), median(b)
    return "–" if x is None or y is None or y == 0 else f"{x / y:.2f}"
cores = os.cpu_count()
lines = [
    "# Loader benchmark (`bench/loader.sh`)", "",
    f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; commit {commit}; {cores} cores; {minutes} min",
    f"- Medians of {rounds} rounds; the nodes, the balancer and the loader share the cores on 127.0.0.1.",
    f"- Before: {'the loader in ' + before if before else 'not measured (no LOADER_BEFORE)'}", "",
    "| measurement | before | after | after ÷ before |", "|---|---|---|---|",
    f"| read 100 MB UTF-8 (`--dry-run`), MB/s | {cell('read_before_utf8')} | {cell('read_utf8')} | {ratio('read_utf8', 'read_before_utf8')} |",
    f"| peak resident, MiB | {cell('rss_before_utf8')} | {cell('rss_utf8')} | |",
    f"| {int(single):,} single sentences (defaults), sentences/s | {cell('send_before_single')} | {cell('send_single')} | {ratio('send_single', 'send_before_single')} |",
    f"| {int(batched):,} with `--batch 1000`, sentences/s | {cell('send_before_batch')} | {cell('send_batch')} | {ratio('send_batch', 'send_before_batch')} |",
    "", "| new input and options | figure |", "|---|---|",
    f"| read the same text gzipped (`gzip -6`), MB of text/s | {cell('read_gzip')} |",
    f"| … peak resident, MiB | {cell('rss_gzip')} |",
    f"| read it as Windows-1252 (`--encoding windows-1252`), MB/s | {cell('read_cp1252')} |",
    f"| … peak resident, MiB | {cell('rss_cp1252')} |",
    f"| `--batch 1000 --checkpoint`, sentences/s (÷ without: {ratio('send_batch_checkpoint', 'send_batch')}) | {cell('send_batch_checkpoint')} |",
    f"| resume after SIGKILL at {cell('resume_acknowledged')} acknowledged: skipped | {cell('resume_skipped')} |",
    f"| … seconds to the first send (reading and checking the skipped prefix) | {median('resume_first_send')} |",
    f"| … the rest's rate, sentences/s; finished | {cell('resume_rate')}; {values.get('resume_finished', ['–'])[0]} |",
    f"| `--rate 2000` over 20,000 sentences: achieved, sentences/s | {cell('rate_achieved')} |",
    "", "Every figure, in measurement order:", "",
] + [f"- `{key}`: {', '.join(items)}" for key, items in values.items()]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
