#!/usr/bin/env bash
# docker-compose.yml on a real container engine, the way a user meets it, through
# `make compose-up` / `make compose-down` (deploy/compose.sh):
#   1. build the image, `up -d`, wait for node-a, node-b, litestream-a,
#      litestream-b and the balancer to be healthy;
#   2. send samples/sample.txt through the `loader` service (profile `load`);
#      the replicas: each node reports Litestream replicating with no lag, the
#      balancer shows and exports that, and the backups volume holds each
#      node's replica (LTX files);
#   3. every balancer endpoint through the published port on 127.0.0.1;
#   4. the split between the nodes (counts within 1), RAM/CPU from procfs;
#   5. node-a stopped: the balancer routes around it, the dashboard shows it DOWN;
#      started again: it rejoins and takes sentences;
#      restore: node-a and litestream-a removed with node-a's data volume, then
#      started again: node-a restores its database from the replica (same
#      sentences, same ids), rejoins, and Litestream goes on replicating;
#   6. `down` and `up` again: every sentence still there (named volumes);
#      `down` with VOLUMES=1: the volumes are gone;
#   7. the three-node override: up, load, split within 1, down with its volumes;
#   8. so_info through the mount: a node whose /host/proc holds a so_info file
#      reports source so_info and the file's figures.
# It runs on podman set up by deploy/engine.sh (SENTENCE_ENGINE=podman), even
# where a Docker engine answers: that set-up is what it proves. Every
# container, volume and network it made is removed at the end, and the
# engine's processes stop with the last container; the images and the release
# build in .build-image/ stay (caches).
#
#   bash Tests/Compose/run.sh        (make compose-test)
#
# Over 250 lines on purpose: one sequence of checks against one running stack, each
# starting from the state the last one left; split, each part would rebuild it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PROJECT=sentence-store-test
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

CHECKS=compose-test
source Tests/checks.sh
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
export COMPOSE_PROJECT_NAME=$PROJECT BALANCER_PUBLISH=127.0.0.1:$PORT SENTENCE_ENGINE=podman
WORK=$(mktemp -d /tmp/sentence-compose-test.XXXXXX)

compose() { bash deploy/compose.sh compose "$@"; }
# podman's own CLI, in a subshell: this script's environment never points at
# the engine, as a user's shell would not.
engine() { (eval "$(bash deploy/engine.sh env)" && podman "$@"); }
nodes() { curl -fsS "$URL/nodes"; }
count_of() { nodes | json "next(n['database'] for n in data if n['name'] == '$1')"; }
# usage_of SERVICE: that node's own GET /usage, asked inside its container over
# bash's /dev/tcp (the nodes are not published; the image has no curl).
usage_of() {
    engine exec "${PROJECT}_$1_1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5000
        printf "GET /usage HTTP/1.0\r\nHost: node\r\nConnection: close\r\n\r\n" >&3
        sed "1,/^\r\$/d" <&3'
}
# replication_of SERVICE: "STATUS LAG" from the node's /usage.
replication_of() { usage_of "$1" | json "'%s %g' % (data['replication']['status'], data['replication']['lagSeconds'])"; }
# Litestream replicates the node's database and every write is on the replica.
caught_up() { [ "$(replication_of "$1")" = "replicating 0" ]; }

FAKE_PROC=""
# Whatever a failure left: the so_info project, then the main one (its `down`
# covers node-c and stops the engine once no container is left).
cleanup() {
    local status=$?
    trap - EXIT
    set +e
    log "cleaning up"
    if [ -n "$FAKE_PROC" ]; then
        COMPOSE_PROJECT_NAME=$PROJECT-soinfo bash deploy/compose.sh compose \
            -f "$FAKE_PROC/override.yml" down --volumes >/dev/null 2>&1
    fi
    bash deploy/compose.sh down --volumes >/dev/null 2>&1
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT


node_up() { nodes | json "next(n['up'] for n in data if n['name'] == '$1')" | grep -qx "$2"; }

post() {
    curl -fsS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"author\":\"User1\",\"sentence\":\"$1\"}" "$URL/sentence"
}

# Every sentence the cluster holds, "node<TAB>id<TAB>sentence", sorted.
snapshot() {
    local name
    for name in $(nodes | json "' '.join(n['name'] for n in data)"); do
        curl -fsS "$URL/nodes/$name/sentence" \
            | python3 -c "import json, sys; [print('$name', d['id'], d['sentence'], sep='\t') for d in json.load(sys.stdin)]"
    done | sort
}

# split_within_one: the document counts of all nodes differ by at most 1.
split_within_one() {
    local counts
    counts=$(nodes | json "' '.join(str(n['database']) for n in data)")
    python3 -c "import sys; c = [int(x) for x in sys.argv[1:]]; sys.exit(max(c) - min(c) > 1)" $counts \
        || fail "split not within 1: $counts"
    log "split: $counts"
}

# The dashboard, rendered by headless Chromium: node A's card says DOWN or UP.
dashboard_state() {
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --virtual-time-budget=4000 --dump-dom "$URL/" 2>/dev/null \
        | python3 -c "
import re, sys
dom = sys.stdin.read()
card = re.search(r'<li[^>]*data-node=\"$1\"[^>]*>(.*?)</li>', dom, re.S)
state = re.search(r'class=\"pill[^\"]*\">([A-Z ]+)<', card.group(1)) if card else None
print(state.group(1) if state else 'no card')"
}

sample_sentences() {
    .build-image/release/loader --file samples/sample.txt --dry-run | wc -l
}

# --- 1. up ---------------------------------------------------------------------
if [ ! -x "$CHROMIUM" ]; then
    bash scripts/install-packages.sh chromium || fail "could not install chromium"
fi
make -s compose-up
ok "make compose-up: images built, node-a, node-b, litestream-a, litestream-b and balancer healthy on 127.0.0.1:$PORT"
IMAGE_SIZE=$(engine image inspect --format '{{.Size}}' sentence-store:latest)
log "image sentence-store:latest: $((IMAGE_SIZE / 1000000)) MB"
# Seen from the host: the main process of each container and its children.
# (Not `compose exec`: through podman 4.3's Docker API it leaves a conmon behind.)
for id in $(compose ps -q); do
    pid=$(engine inspect --format '{{.State.Pid}}' "$id")
    uids=$(ps -o uid= --pid "$pid" --ppid "$pid" | tr -d ' ' | sort -u | paste -sd' ')
    [ "$uids" = 10001 ] || fail "container $id runs as uid(s) '$uids', not 10001"
    case $(ps -o comm= --pid "$pid") in
        *init*) ;;
        *) fail "container $id: PID 1 is $(ps -o comm= --pid "$pid"), not an init (init: true)" ;;
    esac
done
ok "every program runs as uid 10001, under an init as PID 1"

# --- 2. the sample through the loader service ------------------------------------
expected=$(sample_sentences)
compose --profile load run --rm loader >"$WORK/loader.log" 2>&1 \
    || { cat "$WORK/loader.log"; fail "the loader service failed"; }
total=$(nodes | json "sum(n['database'] for n in data)")
[ "$total" = "$expected" ] || fail "the loader sent $expected sentences, the nodes hold $total"
log "loader: $(grep -E 'per (server|filter)' "$WORK/loader.log" | sed 's/^ *//' | paste -sd';')"
ok "loader service: $expected sentences stored"

# --- 2b. the replicas ----------------------------------------------------------
replicas_started=$SECONDS
first_a=$(replication_of node-a)
first_b=$(replication_of node-b)
for node in node-a node-b; do
    wait_for 15 "$node reports its replica caught up (replicating, lag 0)" caught_up "$node"
done
log "replication right after the load: node-a '$first_a', node-b '$first_b'; both 'replicating 0' after $((SECONDS - replicas_started)) s"
nodes | json "' '.join('%s:%s' % (n['name'], (n.get('replication') or {}).get('status')) for n in data)" \
    | grep -qx 'A:replicating B:replicating' || fail "the balancer's /nodes does not show both replicating: $(nodes)"
metrics=$(curl -fsS "$URL/metrics") || fail "GET /metrics"
grep -q '^balancer_node_replication_lag_seconds{server="A"} ' <<<"$metrics" \
    || fail "/metrics has no balancer_node_replication_lag_seconds for A"
BACKUPS=$(engine volume inspect --format '{{.Mountpoint}}' "${PROJECT}_backups")
replica_files=""
for name in A B; do
    files=$(find "$BACKUPS/$name" -name '*.ltx' 2>/dev/null | wc -l)
    [ "$files" -gt 0 ] || fail "the backups volume holds no LTX file for node $name: $(ls -R "$BACKUPS" 2>&1 | head -5)"
    replica_files+="$name $files, "
done
ok "replicas: both nodes replicating with lag 0 (/usage, /nodes, /metrics); LTX files on the backups volume: ${replica_files%, }"

# --- 3. every endpoint through the published port ---------------------------------
curl -fsS "$URL/health" | json "data['status']" | grep -qx ok || fail "/health"
# Whole bodies first, then grep: `curl | grep -q` fails under pipefail once grep
# stops reading a body larger than the pipe buffer (curl: (23) Failed writing body).
dashboard=$(curl -fsS "$URL/") || fail "GET /"
grep -q '<html' <<<"$dashboard" || fail "/ (dashboard) is not HTML"
for asset in $(grep -o -E '(src|href)="/[^"]+"' <<<"$dashboard" | sed -E 's/^(src|href)="//; s/"$//' | sort -u); do
    curl -fsS -o /dev/null "$URL$asset" || fail "dashboard asset $asset"
done
metrics=$(curl -fsS "$URL/metrics") || fail "GET /metrics"
grep -q '^balancer_' <<<"$metrics" || fail "/metrics has no balancer_ series"
[ "$(post 'Sent through the published port')" = 201 ] || fail "POST /sentence"
curl -fsS -H 'Content-Type: application/json' \
    -d '[{"author":"User2","sentence":"First of a batch"},{"author":"User3","sentence":"Second of a batch"}]' \
    "$URL/sentences" | json "len(data)" | grep -qx 2 || fail "POST /sentences"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"author":' "$URL/sentence")
[ "$status" = 400 ] || fail "malformed JSON answered $status, not 400"
for name in A B; do
    curl -fsS "$URL/nodes/$name/sentence?limit=5" | json "len(data)" | grep -qx 5 || fail "/nodes/$name/sentence"
done
status=$(curl -sS -o /dev/null -w '%{http_code}' "$URL/nodes/Z/sentence")
[ "$status" = 404 ] || fail "/nodes/Z/sentence answered $status, not 404"
ok "endpoints: /, its assets, /health, /metrics, /nodes, /nodes/NAME/sentence, POST /sentence and /sentences, 400 and 404"

# --- 4. the split, and where RAM/CPU come from --------------------------------------
split_within_one
# The host's /proc through the mount: so_info where the module is loaded.
source=procfs
[ -e /proc/so_info ] && source=so_info
nodes | json "' '.join(n['source'] for n in data)" | grep -qx "$source $source" \
    || fail "nodes do not report source $source: $(nodes)"
ok "split within 1; both nodes read the host's /proc (source $source)"

# --- 5. a node stopped and started --------------------------------------------------
stop_started=$SECONDS
compose stop node-a >/dev/null 2>&1
stop_seconds=$((SECONDS - stop_started))
# A graceful stop: SIGTERM reached the node (through the init) and it exited
# 0; the kill after the stop timeout would be 137.
status=$(engine inspect --format '{{.State.ExitCode}}' "${PROJECT}_node-a_1")
[ "$status" = 0 ] || fail "node-a exited $status on stop, not 0 (SIGTERM not handled?)"
log "compose stop node-a: exit 0 after a graceful shutdown, $stop_seconds s"
wait_for 15 "the balancer sees node-a down" node_up A False
before_b=$(count_of B)
for i in 1 2 3 4 5 6; do
    [ "$(post "Stored while node A is stopped, number $i")" = 201 ] || fail "POST with node-a stopped"
done
[ "$(count_of B)" = $((before_b + 6)) ] || fail "node B did not take the 6 sentences sent while A was down"
state=$(dashboard_state A)
[ "$state" = DOWN ] || fail "the dashboard shows node A as '$state', not DOWN"
ok "node-a stopped gracefully (exit 0): 6 of 6 sentences routed to B; the dashboard shows A DOWN"

compose start node-a >/dev/null 2>&1
wait_for 30 "node-a rejoins" node_up A True
before_a=$(count_of A)
for i in 1 2 3 4 5 6; do
    [ "$(post "Stored after node A came back, number $i")" = 201 ] || fail "POST after node-a restarted"
done
[ "$(count_of A)" -gt "$before_a" ] || fail "node A took no sentence after it rejoined"
state=$(dashboard_state A)
[ "$state" = UP ] || fail "the dashboard shows node A as '$state', not UP"
split_within_one
ok "node-a started again: it rejoined, took sentences, and the dashboard shows it UP"

# --- 5b. restore: node-a's data volume gone ------------------------------------------
# Every write on the replica first (lag 0), so the whole of node A must come back.
restore_started=$SECONDS
wait_for 15 "node-a's replica caught up before the stop" caught_up node-a
curl -fsS "$URL/nodes/A/sentence" | json "'\n'.join(sorted('%s %s' % (d['id'], d['sentence']) for d in data))" >"$WORK/a-before.txt"
before_a=$(count_of A)
[ "$(wc -l <"$WORK/a-before.txt")" = "$before_a" ] || fail "node A lists $(wc -l <"$WORK/a-before.txt") sentences, counts $before_a"
compose stop node-a litestream-a >/dev/null 2>&1
compose rm -f node-a litestream-a >/dev/null 2>&1
engine volume rm "${PROJECT}_node-a-data" >/dev/null
! engine volume exists "${PROJECT}_node-a-data" || fail "node-a's data volume is still there"
down_at=$SECONDS
compose up -d --no-build node-a >/dev/null 2>&1
wait_for 60 "node-a rejoins after the restore" node_up A True
rejoined=$((SECONDS - down_at))
# podman's own log of the container (docker-compose 1.29's `logs` through podman's
# API was seen to return nothing but its header right after a start).
restored_log() { engine logs "${PROJECT}_node-a_1" 2>&1 | grep -c 'restored the database from the replica' >/dev/null; }
restored_log || fail "node-a's log does not say it restored from the replica: $(engine logs --tail 10 "${PROJECT}_node-a_1" 2>&1)"
curl -fsS "$URL/nodes/A/sentence" | json "'\n'.join(sorted('%s %s' % (d['id'], d['sentence']) for d in data))" >"$WORK/a-after.txt"
diff -q "$WORK/a-before.txt" "$WORK/a-after.txt" >/dev/null \
    || fail "node A after the restore differs: $(diff "$WORK/a-before.txt" "$WORK/a-after.txt" | head -5)"
[ "$(count_of A)" = "$before_a" ] || fail "node A counts $(count_of A) after the restore, not $before_a"
# Litestream goes on from the restored database: new writes reach the replica.
for i in 1 2 3 4; do
    [ "$(post "Stored after node A was restored, number $i")" = 201 ] || fail "POST after the restore"
done
[ "$(count_of A)" -gt "$before_a" ] || fail "node A took no sentence after the restore"
wait_for 15 "node-a's new writes reach the replica" caught_up node-a
ok "restore: node-a's data volume removed; node-a restored $before_a sentences (same ids) from its replica and rejoined in $rejoined s; new writes replicated (step $((SECONDS - restore_started)) s)"

# --- 6. down and up: the volumes keep every sentence ----------------------------------
snapshot >"$WORK/before.tsv"
before_total=$(wc -l <"$WORK/before.tsv")
make -s compose-down
[ -z "$(compose ps -q)" ] || fail "containers left after make compose-down"
volumes=$(engine volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | sort | paste -sd' ')
[ "$volumes" = "${PROJECT}_backups ${PROJECT}_node-a-data ${PROJECT}_node-b-data" ] || fail "volumes after down: '$volumes'"
make -s compose-up
snapshot >"$WORK/after.tsv"
diff -q "$WORK/before.tsv" "$WORK/after.tsv" >/dev/null \
    || fail "sentences differ after down and up: $(diff "$WORK/before.tsv" "$WORK/after.tsv" | head -5)"
ok "down, then up: all $before_total sentences still there, same ids on the same nodes"
make -s compose-down VOLUMES=1
[ -z "$(engine volume ls -q --filter "label=com.docker.compose.project=$PROJECT")" ] || fail "volumes left after VOLUMES=1"
ok "make compose-down VOLUMES=1: containers, network and volumes removed"

# --- 7. three nodes -----------------------------------------------------------------
make -s compose-up NODES=3
NODES=3 compose --profile load run --rm loader >"$WORK/loader.log" 2>&1 \
    || { cat "$WORK/loader.log"; fail "the loader service failed (three nodes)"; }
nodes | json "' '.join(n['name'] for n in data if n['up'])" | grep -qx 'A B C' || fail "three nodes not all up: $(nodes)"
[ "$(nodes | json "sum(n['database'] for n in data)")" = "$expected" ] || fail "three nodes do not hold $expected sentences"
split_within_one
make -s compose-down NODES=3 VOLUMES=1
ok "three-node override: $expected sentences split within 1 across A, B, C; removed"

# --- 8. so_info through the /host/proc mount -------------------------------------------
FAKE_PROC=$WORK/fake
mkdir -p "$FAKE_PROC/proc"
printf '37;12\n' >"$FAKE_PROC/proc/so_info"
cp /proc/meminfo /proc/stat "$FAKE_PROC/proc/"
chmod -R a+rX "$FAKE_PROC"
SOINFO_PORT=$(free_port)
cat >"$FAKE_PROC/override.yml" <<EOF
services:
  node-a:
    volumes:
      - $FAKE_PROC/proc:/host/proc:ro
    ports:
      - "127.0.0.1:$SOINFO_PORT:5000"
EOF
COMPOSE_PROJECT_NAME=$PROJECT-soinfo bash deploy/compose.sh compose -f "$FAKE_PROC/override.yml" up -d --no-build node-a >/dev/null 2>&1
wait_for 30 "the so_info node answers" curl -fsS "http://127.0.0.1:$SOINFO_PORT/usage"
usage=$(curl -fsS "http://127.0.0.1:$SOINFO_PORT/usage")
[ "$(printf '%s' "$usage" | json "(data['source'], data['ram'], data['cpu'])")" = "('so_info', 37, 12)" ] \
    || fail "the node did not read /host/proc/so_info: $usage"
COMPOSE_PROJECT_NAME=$PROJECT-soinfo bash deploy/compose.sh compose -f "$FAKE_PROC/override.yml" down --volumes >/dev/null 2>&1
ok "so_info: a node whose /host/proc holds so_info (37;12) reports source so_info, RAM 37, CPU 12"

# --- 9. nothing left running ------------------------------------------------------
make -s compose-down
leftovers=$(pgrep -af "conmon.*$PROJECT" || true)
[ -z "$leftovers" ] || fail "container monitors left after make compose-down: $leftovers"
# The engine stops with the last container; another project's would keep it up.
if [ -z "$(engine ps -q 2>/dev/null)" ]; then
    leftovers=$(pgrep -af "podman system service .*$ROOT/|$ROOT/deploy/healthchecks.sh" || true)
    [ -z "$leftovers" ] || fail "engine processes left after make compose-down: $leftovers"
fi
ok "make compose-down: no container monitor left; with no container running, no API service or healthcheck loop either"

log "all $passed checks passed in $((SECONDS - STARTED)) s"
