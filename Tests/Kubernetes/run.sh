#!/usr/bin/env bash
# deploy/kubernetes on a real container engine, as far as podman 4.3 goes
# (no cluster runs here; deploy/check.sh validates the manifests themselves):
#   1. the image as `make compose-up` builds it (deploy/compose.sh build);
#   2. `kubectl kustomize deploy/kubernetes`, turned into Pods podman can play
#      (podman_pods.py): sentence-node-0/1 with their claims, from the
#      StatefulSet's pod template; sentence-balancer-0/1 from the Deployment's,
#      each published on 127.0.0.1;
#   3. the node pods on a network of their own, with the headless Service's
#      name as a network alias: it resolves to both pods, as in a cluster;
#      each node ready (/health, the readiness probe) and alive (its liveness
#      probe, run as podman's healthcheck), as uid 10001 with a read-only root,
#      no capabilities and the host's /proc read-only at /host/proc; the
#      Litestream container beside it alive (its liveness probe asks the
#      control socket), with the same settings, the replica URL
#      file:///backups/POD in both containers, and the node reporting
#      "replicating" in /usage, read from that socket;
#   4. the balancer pods, with the Deployment's BALANCER_NODE_DNS
#      (sentence-node:5000) unchanged: both list sentence-node-0 and
#      sentence-node-1 (by the names the nodes report: their pod names), joined
#      by DNS;
#   5. sentences posted through both balancers, stored on both nodes; each
#      node's replica caught up (lag 0, shown by both balancers too) and its
#      LTX files on the pod's backups claim;
#   6. membership at run time: sentence-node-2 (the pod `kubectl scale
#      --replicas=3` would add, same template, same alias) joins both balancers
#      through DNS and takes new sentences; removed, it leaves both;
#   7. torn down: every pod, claim volume, emptyDir volume, ConfigMap volume
#      and the network, on any exit.
# Not run: the StatefulSet, the Deployment and the Services as objects, the
# probes' effect on readiness, the disruption budgets (they need a cluster).
#
#   bash Tests/Kubernetes/run.sh             (make kube-test)
#   SKIP_BUILD=1 bash Tests/Kubernetes/run.sh   the image sentence-store:latest as it is
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
NETWORK=sentence-kube-test
IMAGE=sentence-store:latest

CHECKS=kube-test
source Tests/checks.sh

WORK=$(mktemp -d /tmp/sentence-kube-test.XXXXXX)
bash deploy/engine.sh setup
eval "$(bash deploy/engine.sh env)"

# The volumes kube play makes for this test's pods: claims (data-, backups-),
# emptyDirs (renamed POD-VOLUME by podman_pods.py), the ConfigMaps' volumes.
OUR_VOLUMES='^((data|backups)-sentence-node-[0-9]+|sentence-(node|balancer)-[0-9]+-(tmp|litestream-socket)|sentence-litestream-config-[a-z0-9]+)$'

# Everything this run made (or a failed earlier run left): the pods, then the
# volumes their containers had (claims, emptyDirs, anonymous ones), then the
# network. Only names of this test's own; never a prune.
teardown() {
    local pods pod volumes=""
    pods=$(podman pod ls --format '{{.Name}}' | grep -E '^sentence-(node|balancer)-[0-9]+$' || true)
    for pod in $pods; do
        [ "$(podman pod inspect --format '{{.InfraConfig.Networks}}' "$pod" 2>/dev/null)" = "[$NETWORK]" ] || continue
        volumes+=" $(podman ps -a --pod --filter "pod=$pod" --format '{{.ID}}' \
            | xargs -r podman inspect --format '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}')"
        timeout 60 podman pod rm --force --time 10 "$pod" >/dev/null || true
    done
    volumes+=" $(podman volume ls --format '{{.Name}}' | grep -E "$OUR_VOLUMES" || true)"
    for volume in $volumes; do
        if podman volume exists "$volume"; then timeout 30 podman volume rm --force "$volume" >/dev/null || true; fi
    done
    if podman network exists "$NETWORK"; then timeout 30 podman network rm --force "$NETWORK" >/dev/null || true; fi
    return 0
}

cleanup() {
    local status=$?
    trap - EXIT
    set +e
    if [ $status -ne 0 ]; then
        for pod in sentence-node-0 sentence-node-1 sentence-node-2 sentence-balancer-0 sentence-balancer-1; do
            podman pod exists "$pod" || continue
            # The containers are POD-NAME: sentence-node-0-node, sentence-node-0-litestream, sentence-balancer-0-balancer.
            for container in $(podman ps -a --pod --filter "pod=$pod" --format '{{.Names}}' | grep -v -- '-infra$'); do
                log "last lines of $container:"
                podman logs --tail 10 "$container" 2>&1 | sed 's/^/    /'
            done
        done 2>/dev/null
    fi
    log "tearing down"
    teardown
    # As `make compose-down` does: the engine's service stops once no container runs.
    [ -n "$(podman ps -q)" ] || bash deploy/engine.sh stop
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT


# --- 1. the image -------------------------------------------------------------
if [ "${SKIP_BUILD:-}" = 1 ]; then
    podman image exists "$IMAGE" || fail "SKIP_BUILD=1, but there is no image $IMAGE"
    log "SKIP_BUILD=1: image $IMAGE as it is, built $(podman image inspect --format '{{.Created}}' "$IMAGE")"
else
    SENTENCE_ENGINE=podman SENTENCE_STORE_IMAGE=$IMAGE bash deploy/compose.sh build
fi
ok "image $IMAGE"

# --- 2. the manifests as pods ------------------------------------------------------
teardown
PORTS=("$(free_port)" "$(free_port)")
kubectl kustomize deploy/kubernetes >"$WORK/rendered.yaml"
python3 Tests/Kubernetes/podman_pods.py "$WORK" "${PORTS[@]}" <"$WORK/rendered.yaml"
SERVICE=$(cat "$WORK/service")
SCALED=$(cat "$WORK/scaled")
NODES=(sentence-node-0 sentence-node-1)
BALANCERS=(sentence-balancer-0 sentence-balancer-1)
[ "$SCALED" = sentence-node-2 ] || fail "the pod one more node replica adds is $SCALED, not sentence-node-2"
NODE_DNS=$(python3 -c 'import sys, yaml
dep = next(o for o in yaml.safe_load_all(sys.stdin) if o and o["kind"] == "Deployment")
print(next(e["value"] for c in dep["spec"]["template"]["spec"]["containers"] for e in c.get("env") or [] if e["name"] == "BALANCER_NODE_DNS"))' <"$WORK/rendered.yaml")
ok "rendered and derived: ${NODES[*]} (with claims), ${BALANCERS[*]} on 127.0.0.1:${PORTS[0]} and :${PORTS[1]}, $SCALED for later; BALANCER_NODE_DNS=$NODE_DNS"

# --- 3. the nodes -------------------------------------------------------------------
podman network create "$NETWORK" >/dev/null
timeout 120 podman kube play --network "$NETWORK:alias=$SERVICE" "$WORK/nodes.yaml" >"$WORK/play-nodes.log" 2>&1 \
    || { cat "$WORK/play-nodes.log"; fail "podman kube play nodes.yaml"; }
for node in "${NODES[@]}"; do
    # The readiness probe's request (GET /health on 5000), from inside the pod.
    wait_for 60 "$node ready (/health)" podman exec "$node-node" healthcheck 5000 /health
    # The liveness probe, as podman runs it (its healthcheck).
    timeout 30 podman healthcheck run "$node-node" >/dev/null || fail "$node: liveness probe (healthcheck) failed"
done
ok "${NODES[*]}: ready (/health 200) and alive (liveness probe, podman healthcheck)"

for node in "${NODES[@]}"; do
    for container in "$node-node" "$node-litestream"; do
        pid=$(podman inspect --format '{{.State.Pid}}' "$container")
        [ "$(ps -o uid= --pid "$pid" | tr -d ' ')" = 10001 ] || fail "$container runs as uid $(ps -o uid= --pid "$pid"), not 10001"
        [ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container")" = true ] || fail "$container: root not read-only"
        grep -q '^CapEff:\s*0\+$' "/proc/$pid/status" || fail "$container: has capabilities: $(grep CapEff "/proc/$pid/status")"
        grep -q '^NoNewPrivs:\s*1$' "/proc/$pid/status" || fail "$container: privilege escalation not off"
    done
    container=$node-node
    podman exec "$container" sh -c 'touch /host/proc/x' 2>/dev/null && fail "$node: /host/proc is writable"
    podman exec "$container" sh -c 'test -r /host/proc/meminfo && touch /data/probe /tmp/probe && rm /data/probe /tmp/probe' \
        || fail "$node: /host/proc unreadable, or /data or /tmp not writable"
    [ "$(podman exec "$container" printenv NODE_NAME)" = "$node" ] || fail "$node: NODE_NAME is not the pod name"
done
ok "nodes and their Litestream containers: uid 10001, read-only root, no capabilities, no new privileges; /host/proc read-only, /data and /tmp writable, NODE_NAME = pod name"

# usage_of POD: the node's own GET /usage, from inside its pod (bash's /dev/tcp;
# the image has no curl).
usage_of() {
    podman exec "$1-node" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5000
        printf "GET /usage HTTP/1.0\r\nHost: node\r\nConnection: close\r\n\r\n" >&3
        sed "1,/^\r\$/d" <&3'
}
replication_of() { usage_of "$1" | json "'%s %g' % (data['replication']['status'], data['replication']['lagSeconds'])"; }
replicating() { [ "$(replication_of "$1" | cut -d' ' -f1)" = replicating ]; }
caught_up() { [ "$(replication_of "$1")" = "replicating 0" ]; }
for node in "${NODES[@]}"; do
    # The sidecar's liveness probe: `litestream info` on the control socket.
    timeout 30 podman healthcheck run "$node-litestream" >/dev/null || fail "$node-litestream: liveness probe (litestream info) failed"
    for container in "$node-node" "$node-litestream"; do
        url=$(podman exec "$container" printenv LITESTREAM_REPLICA_URL)
        [ "$url" = "file:///backups/$node" ] || fail "$container: LITESTREAM_REPLICA_URL is '$url', not file:///backups/$node"
    done
    wait_for 30 "$node reports its Litestream replicating (/usage)" replicating "$node"
done
ok "Litestream beside each node: alive (litestream info on the socket), replica file:///backups/POD in both containers; /usage: $(for node in "${NODES[@]}"; do printf '%s %s\n' "$node" "$(replication_of "$node")"; done | paste -sd',')"

# The Service's name resolves to every node pod (aardvark-dns, the alias).
expected=$(for node in "${NODES[@]}"; do podman inspect --format "{{(index .NetworkSettings.Networks \"$NETWORK\").IPAddress}}" "$node-node"; done | sort | paste -sd' ')
resolved=$(podman exec "${NODES[0]}-node" getent ahostsv4 "$SERVICE" | awk '{print $1}' | sort -u | paste -sd' ')
[ "$resolved" = "$expected" ] || fail "$SERVICE resolves to '$resolved', not the node pods' '$expected'"
ok "$SERVICE resolves to both node pods: $resolved"

# --- 4. the balancers --------------------------------------------------------------
timeout 120 podman kube play --network "$NETWORK" "$WORK/balancers.yaml" >"$WORK/play-balancers.log" 2>&1 \
    || { cat "$WORK/play-balancers.log"; fail "podman kube play balancers.yaml"; }
for balancer in "${BALANCERS[@]}"; do
    [ "$(podman exec "$balancer-balancer" printenv BALANCER_NODE_DNS)" = "$NODE_DNS" ] \
        || fail "$balancer: BALANCER_NODE_DNS is not the rendered $NODE_DNS"
    podman exec "$balancer-balancer" printenv BALANCER_NODES BALANCER_NODES_FILE >/dev/null \
        && fail "$balancer: has BALANCER_NODES or BALANCER_NODES_FILE"
done
# members PORT: each member of that balancer as NAME:up|down:JOINED-BY, sorted.
members() {
    curl -fsS -m 3 "http://127.0.0.1:$1/nodes" \
        | json "' '.join(sorted(f\"{n['name']}:{'up' if n['up'] else 'down'}:{n['joinedBy']}\" for n in data))"
}
members_are() { [ "$(members "$1")" = "$2" ]; }
as_members() { printf '%s:up:dns\n' "$@" | paste -sd' '; }
# expect_members SECONDS PORT WHEN NODE...: that balancer lists just those nodes,
# up and joined by DNS, within SECONDS.
expect_members() {
    local limit=$1 port=$2 when=$3 deadline
    shift 3
    deadline=$((SECONDS + limit))
    until members_are "$port" "$(as_members "$@")" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] \
            || fail "127.0.0.1:$port does not list '$(as_members "$@")' within $limit s $when; it lists '$(members "$port" 2>&1)'"
        sleep 0.5
    done
}
for port in "${PORTS[@]}"; do
    wait_for 60 "balancer on 127.0.0.1:$port /health" curl -fsS -m 3 "http://127.0.0.1:$port/health"
    expect_members 30 "$port" "of its /health" "${NODES[@]}"
done
ok "${BALANCERS[*]}: BALANCER_NODE_DNS=$NODE_DNS as rendered; /health 200 on 127.0.0.1; GET /nodes on each: $(members "${PORTS[0]}")"

# --- 5. sentences through both balancers, on both nodes ---------------------------------
SENT=20
for i in $(seq 1 $SENT); do
    port=${PORTS[$((i % 2))]}
    status=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"author\":\"User1\",\"sentence\":\"Sent through the pods, number $i\"}" "http://127.0.0.1:$port/sentence")
    [ "$status" = 201 ] || fail "POST /sentence number $i through 127.0.0.1:$port answered $status"
done
# The counts in /nodes are those of each balancer's last poll (every second).
counts_of() { curl -fsS -m 3 "http://127.0.0.1:$1/nodes" | json "' '.join(str(n['database']) for n in sorted(data, key=lambda n: n['name']))"; }
all_counted() { [ "$(counts_of "$1" | python3 -c 'import sys; print(sum(map(int, sys.stdin.read().split())))')" = $SENT ]; }
for port in "${PORTS[@]}"; do
    wait_for 15 "127.0.0.1:$port counts $SENT sentences on the nodes" all_counted "$port"
    counts=$(counts_of "$port")
    read -r first second <<<"$counts"
    [ "$first" -gt 0 ] && [ "$second" -gt 0 ] || fail "127.0.0.1:$port: nodes hold '$counts', not some on each"
    for node in "${NODES[@]}"; do
        curl -fsS "http://127.0.0.1:$port/nodes/$node/sentence?limit=100" | json "len(data)" | grep -qx '[1-9][0-9]*' \
            || fail "127.0.0.1:$port: no sentence listed on $node"
    done
done
log "split: $counts (${NODES[*]})"
ok "$SENT sentences through both balancers: all stored, on both nodes ($counts), listed by each balancer"

replicas=""
for node in "${NODES[@]}"; do
    wait_for 15 "$node's replica caught up (replicating, lag 0)" caught_up "$node"
    # On the claim itself, as the host sees the volume.
    claim=$(podman volume inspect --format '{{.Mountpoint}}' "backups-$node") || fail "$node: no claim backups-$node"
    files=$(find "$claim/$node" -name '*.ltx' 2>/dev/null | wc -l)
    [ "$files" -gt 0 ] || fail "$node: no LTX file under $node/ on its claim backups-$node"
    replicas+="$node $files, "
done
for port in "${PORTS[@]}"; do
    curl -fsS -m 3 "http://127.0.0.1:$port/nodes" \
        | json "' '.join(sorted('%s:%s' % (n['name'], (n.get('replication') or {}).get('status')) for n in data))" \
        | grep -qx "$(printf '%s:replicating\n' "${NODES[@]}" | paste -sd' ')" \
        || fail "127.0.0.1:$port /nodes does not show both nodes replicating"
done
ok "replicas: each node caught up (lag 0) and shown replicating by both balancers; LTX files on the backups claims: ${replicas%, }"

# --- 6. membership at run time: a third node joins through DNS, and leaves ------------------
started=$SECONDS
timeout 120 podman kube play --network "$NETWORK:alias=$SERVICE" "$WORK/scaled.yaml" >"$WORK/play-scaled.log" 2>&1 \
    || { cat "$WORK/play-scaled.log"; fail "podman kube play scaled.yaml ($SCALED)"; }
wait_for 60 "$SCALED ready (/health)" podman exec "$SCALED-node" healthcheck 5000 /health
ready=$SECONDS
log "$SCALED ready $((ready - started)) s after kube play"
for port in "${PORTS[@]}"; do
    expect_members 30 "$port" "of $SCALED being ready" "${NODES[@]}" "$SCALED"
    log "127.0.0.1:$port lists $SCALED $((SECONDS - ready)) s after it was ready"
done
joined=$((SECONDS - ready))
# Asked again for up to 30 s: podman's DNS server briefly answers nothing (getent
# exit 2) while it takes in a new pod, even after the balancers have seen it.
resolved=0
for _ in $(seq 1 30); do
    resolved=$(podman exec "${NODES[0]}-node" getent ahostsv4 "$SERVICE" | awk '{print $1}' | sort -u | wc -l) || resolved=0
    [ "$resolved" = 3 ] && break
    sleep 1
done
[ "$resolved" = 3 ] || fail "$SERVICE resolves to $resolved addresses with $SCALED, not 3"
# The placement evens the counts: the node with none takes the next sentences.
for i in $(seq 1 6); do
    port=${PORTS[$((i % 2))]}
    status=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"author\":\"User1\",\"sentence\":\"Sent after the third node joined, number $i\"}" "http://127.0.0.1:$port/sentence")
    [ "$status" = 201 ] || fail "POST /sentence number $i (with $SCALED) through 127.0.0.1:$port answered $status"
done
for port in "${PORTS[@]}"; do
    listed=$(curl -fsS "http://127.0.0.1:$port/nodes/$SCALED/sentence?limit=100" | json "len(data)")
    [ "$listed" -gt 0 ] || fail "127.0.0.1:$port: no new sentence on $SCALED"
done
ok "$SCALED (same template, alias $SERVICE): joined both balancers by DNS ${joined} s after ready; $listed of 6 new sentences stored on it"
# (podman 4.3 without systemd says it cannot remove the healthcheck's timer: harmless.)
timeout 60 podman pod rm --force --time 10 "$SCALED" >/dev/null 2>"$WORK/rm-scaled.log" \
    || { cat "$WORK/rm-scaled.log"; fail "podman pod rm $SCALED"; }
removed=$SECONDS
for port in "${PORTS[@]}"; do
    expect_members 30 "$port" "of $SCALED's removal" "${NODES[@]}"
done
podman volume exists "data-$SCALED" || fail "$SCALED's claim data-$SCALED went with the pod"
ok "$SCALED removed (podman pod rm): left both balancers' /nodes within $((SECONDS - removed)) s of the rm's return; its claim stays, as on a scale-down"

# --- 7. torn down -------------------------------------------------------------------------
trap - EXIT
teardown
left=$(podman pod ls --format '{{.Name}}' | grep -E '^sentence-(node|balancer)-[0-9]+$' || true)
left+=$(podman volume ls --format '{{.Name}}' | grep -E "$OUR_VOLUMES" || true)
podman network exists "$NETWORK" && left+=" network $NETWORK"
[ -z "$left" ] || fail "left after teardown: $left"
[ -n "$(podman ps -q)" ] || bash deploy/engine.sh stop
rm -rf "$WORK"
ok "torn down: no pod, volume or network of this test left"

log "all $passed checks passed in $((SECONDS - STARTED)) s"
