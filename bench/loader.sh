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
    CLUSTER_DATA="$WORK/run${options// /}"
    cluster_up 2
    echo "== loader ${options:-(defaults)}"
    # shellcheck disable=SC2086
    "$BIN/loader" --balancer "${CLUSTER_URL[balancer]}" --file "$WORK/input.txt" $options
    cluster_stop
done
