#!/usr/bin/env bash
# Sentences per second of the loader for one file of 100,000 sentences, with the
# defaults (one sentence per request, 8 in flight) and with --batch 1000.
#   bench/loader.sh [sentences]
source "$(dirname "$0")/lib.sh"
COUNT="${1:-100000}"
build_release

python3 - "$WORK/input.txt" "$COUNT" <<'PY'
import random, sys
random.seed(7)
words = "the a quiet harbour lamp keeper wrote every night about ships weather tides and bread".split()
with open(sys.argv[1], "w") as out:
    for i in range(int(sys.argv[2])):
        out.write(" ".join(random.choice(words) for _ in range(random.randint(6, 14))).capitalize())
        out.write(".\n" if i % 5 == 4 else ". ")
PY
echo "input: $COUNT sentences, $(du -h "$WORK/input.txt" | cut -f1)"

for options in "" "--batch 1000"; do
    start node-a "$BIN/node" --name A --port 0 --database "$WORK/run${options// /}/a.sqlite"
    pa="$PORT"; pid_a="$LAST_PID"
    start node-b "$BIN/node" --name B --port 0 --database "$WORK/run${options// /}/b.sqlite"
    pb="$PORT"; pid_b="$LAST_PID"
    start balancer "$BIN/balancer" --port 0 --node "A=http://127.0.0.1:$pa" --node "B=http://127.0.0.1:$pb"
    plb="$PORT"; pid_lb="$LAST_PID"
    echo "== loader ${options:-(defaults)}"
    # shellcheck disable=SC2086
    "$BIN/loader" --balancer "http://127.0.0.1:$plb" --file "$WORK/input.txt" $options
    stop "$pid_lb"; stop "$pid_a"; stop "$pid_b"
done
