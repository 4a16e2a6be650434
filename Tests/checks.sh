# The shape of the container suites' scripts (Tests/Compose/run.sh,
# Tests/Kubernetes/run.sh): numbered checks with the seconds since the start,
# a failure that ends the run, and waits with a limit. Sourced, not run; the
# caller sets CHECKS to the suite's name first.
STARTED=$SECONDS
passed=0

log() { printf '%s: %s\n' "$CHECKS" "$*"; }
fail() {
    printf '%s: FAIL: %s\n' "$CHECKS" "$*"
    exit 1
}
ok() {
    passed=$((passed + 1))
    printf '%s: ok %2d  %s (%d s)\n' "$CHECKS" "$passed" "$*" $((SECONDS - STARTED))
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# json EXPRESSION: EXPRESSION over the JSON on standard input (as `data`), printed.
json() { python3 -c "import json, sys; data = json.load(sys.stdin); print($1)"; }

# wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds.
wait_for() {
    local limit=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "$what: not within $limit s"
        sleep 0.5
    done
}
