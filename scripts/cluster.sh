# Starts storage nodes and a balancer on 127.0.0.1 and stops them again: the one
# way the scripts start a cluster (scripts/demo.sh, bench/, Tests/Browser/run.sh,
# deploy/check.sh). Sourced, not run:
#
#   source scripts/cluster.sh
#   CLUSTER_BIN=.build/release    # node and balancer (default: the debug build)
#   CLUSTER_DATA=data             # databases, a.sqlite for node A (default: a temporary folder)
#   CLUSTER_LOGS=data/logs        # node-a.log, balancer.log (default: CLUSTER_DATA)
#   cluster_up 2 --max-body 8388608 -- --poll-interval 0  # nodes A, B and a balancer
#   cluster_node --port 5001 A    # one node, on a fixed port
#   cluster_balancer              # in front of every node started and not stopped
#   cluster_balancer --name other --poll-interval 0   # a second one, named "other"
#   cluster_stop B                # SIGTERM and wait; with no name, everything
#   CLUSTER_BACKUP=file:///abs/backups   # every node replicated by Litestream to
#                                 # BASE/a, BASE/b, ... (deploy/litestream/litestream.yml;
#                                 # a missing database is restored at start)
#
# Ports: 0 (the system chooses) unless --port says otherwise. Every server gets
# --port-file, and a start returns once that file names the port (the server
# listens), or fails with the end of the server's log when it exits first or
# takes CLUSTER_START_TIMEOUT seconds (default 30; more for a node that indexes
# a large database for search before it listens). CLUSTER_URL, CLUSTER_PORT,
# CLUSTER_PID and CLUSTER_LOG map each name (the balancer's is "balancer") to
# what they say. cluster_cleanup stops exactly the processes started here, by
# PID, and removes the temporary folder; it runs on exit, unless the caller
# sets an EXIT trap of its own, which must then call it.

CLUSTER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_BIN="${CLUSTER_BIN:-$CLUSTER_ROOT/.build/debug}"
CLUSTER_RUN="$(mktemp -d /tmp/sentence-cluster.XXXXXX)"   # port files, default data
CLUSTER_NODES=()   # names of the running nodes, in start order
CLUSTER_BALANCERS=()   # names of the running balancers
CLUSTER_SIDECARS=()   # Litestream processes (litestream-a, ...), stopped after their nodes
declare -A CLUSTER_URL=() CLUSTER_PORT=() CLUSTER_PID=() CLUSTER_LOG=()

# cluster_binaries PRODUCT...: fails unless CLUSTER_BIN holds them; a missing
# one is built first when CLUSTER_BIN is this checkout's debug or release build.
cluster_binaries() {
    local product configuration=""
    case "$CLUSTER_BIN" in
        "$CLUSTER_ROOT/.build/debug") configuration=debug ;;
        "$CLUSTER_ROOT/.build/release") configuration=release ;;
    esac
    for product in "$@"; do
        [ -x "$CLUSTER_BIN/$product" ] && continue
        [ -n "$configuration" ] || { echo "cluster: no $product in $CLUSTER_BIN" >&2; return 1; }
        echo "cluster: building $product ($configuration) ..." >&2
        (cd "$CLUSTER_ROOT" && swift build -c "$configuration" --product "$product" >&2) || return 1
    done
}

# cluster_start NAME PORT LOG COMMAND...: the common part of a node's and the balancer's start.
cluster_start() {
    local name="$1" port="$2" log="$3" port_file="$CLUSTER_RUN/$1.port" pid _
    shift 3
    mkdir -p "$(dirname "$log")"
    rm -f "$port_file"
    "$@" --host 127.0.0.1 --port "$port" --port-file "$port_file" >"$log" 2>&1 &
    pid=$!
    CLUSTER_PID[$name]=$pid
    CLUSTER_LOG[$name]=$log
    for _ in $(seq $((${CLUSTER_START_TIMEOUT:-30} * 20))); do
        if [ -s "$port_file" ]; then
            CLUSTER_PORT[$name]="$(<"$port_file")"
            CLUSTER_URL[$name]="http://127.0.0.1:${CLUSTER_PORT[$name]}"
            echo "cluster: $name on ${CLUSTER_URL[$name]}, PID $pid, log $log" >&2
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    tail -20 "$log" >&2
    echo "cluster: $name did not start listening (log $log)" >&2
    cluster_stop "$name"
    return 1
}

# cluster_replica_url NAME: CLUSTER_BACKUP with the node's folder added to the path
# (before a query string: s3://bucket/demo?endpoint=... gives s3://bucket/demo/a?endpoint=...).
cluster_replica_url() {
    local base="${CLUSTER_BACKUP%%\?*}" query=""
    [[ "$CLUSTER_BACKUP" == *\?* ]] && query="?${CLUSTER_BACKUP#*\?}"
    echo "${base%/}/${1,,}$query"
}

# cluster_node [--port PORT] NAME [NODE-OPTIONS...]; with CLUSTER_BACKUP, its
# Litestream too, started once the node (which restores first) listens.
cluster_node() {
    local port=0
    if [ "$1" = --port ]; then port="$2"; shift 2; fi
    local name="$1" data="${CLUSTER_DATA:-$CLUSTER_RUN}" litestream=() launcher=()
    shift
    mkdir -p "$data"
    # Absolute: Litestream names the database by the path in its configuration.
    local database
    database="$(cd "$data" && pwd)/${name,,}.sqlite"
    if [ -n "${CLUSTER_BACKUP:-}" ]; then
        # The same variables for the node (its restore) and for Litestream; the
        # AWS SDK in Litestream 0.5 fails on AWS_CA_BUNDLE ("custom RootCAs").
        local socket="$CLUSTER_RUN/litestream-${name,,}.sock"
        launcher=(env -u AWS_CA_BUNDLE NODE_DATABASE="$database" LITESTREAM_SOCKET="$socket"
            LITESTREAM_REPLICA_URL="$(cluster_replica_url "$name")")
        litestream=(--litestream-config "$CLUSTER_ROOT/deploy/litestream/litestream.yml"
            --litestream-socket "$socket" --wal-autocheckpoint 0)
    fi
    cluster_start "$name" "$port" "${CLUSTER_LOGS:-$data}/node-${name,,}.log" \
        "${launcher[@]}" "$CLUSTER_BIN/node" --name "$name" --database "$database" "${litestream[@]}" "$@" || return 1
    CLUSTER_NODES+=("$name")
    [ -n "${CLUSTER_BACKUP:-}" ] || return 0
    local sidecar="litestream-${name,,}" log="${CLUSTER_LOGS:-$data}/litestream-${name,,}.log"
    "${launcher[@]}" litestream replicate -config "$CLUSTER_ROOT/deploy/litestream/litestream.yml" >"$log" 2>&1 &
    CLUSTER_PID[$sidecar]=$!
    CLUSTER_LOG[$sidecar]=$log
    CLUSTER_SIDECARS+=("$sidecar")
    echo "cluster: $sidecar replicating $database to $(cluster_replica_url "$name"), PID ${CLUSTER_PID[$sidecar]}, log $log" >&2
}

# cluster_balancer [--port PORT] [--name NAME] [BALANCER-OPTIONS...]: in front of
# CLUSTER_NODES, in that order; NAME defaults to "balancer".
cluster_balancer() {
    local port=0 name=balancer node nodes=()
    while :; do
        case "${1:-}" in
            --port) port="$2"; shift 2 ;;
            --name) name="$2"; shift 2 ;;
            *) break ;;
        esac
    done
    for node in "${CLUSTER_NODES[@]}"; do nodes+=(--node "$node=${CLUSTER_URL[$node]}"); done
    cluster_start "$name" "$port" "${CLUSTER_LOGS:-${CLUSTER_DATA:-$CLUSTER_RUN}}/$name.log" \
        "$CLUSTER_BIN/balancer" "${nodes[@]}" "$@" || return 1
    CLUSTER_BALANCERS+=("$name")
}

# cluster_up COUNT [NODE-OPTIONS...] [-- BALANCER-OPTIONS...]: nodes A, B, ... and the balancer.
cluster_up() {
    local count="$1" names=(A B C D E F G H) node_options=() index
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do node_options+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    for ((index = 0; index < count; index++)); do
        cluster_node "${names[$index]}" "${node_options[@]}" || return 1
    done
    cluster_balancer "$@"
}

# cluster_stop [NAME...]: SIGTERM (the servers drain and close cleanly) and wait;
# no names: every process still running, the balancers first.
cluster_stop() {
    local name names=("$@") kept=() balancers=()
    # Litestream last: it uploads what its node wrote before stopping.
    if [ $# -eq 0 ]; then names=("${CLUSTER_BALANCERS[@]}" "${CLUSTER_NODES[@]}" "${CLUSTER_SIDECARS[@]}"); fi
    for name in "${names[@]}"; do
        [ -n "${CLUSTER_PID[$name]:-}" ] || continue
        kill "${CLUSTER_PID[$name]}" 2>/dev/null || true
        wait "${CLUSTER_PID[$name]}" 2>/dev/null || true
        unset "CLUSTER_PID[$name]" "CLUSTER_PORT[$name]" "CLUSTER_URL[$name]"
    done
    for name in "${CLUSTER_NODES[@]}"; do
        [ -n "${CLUSTER_PID[$name]:-}" ] && kept+=("$name")
    done
    CLUSTER_NODES=("${kept[@]}")
    for name in "${CLUSTER_BALANCERS[@]}"; do
        [ -n "${CLUSTER_PID[$name]:-}" ] && balancers+=("$name")
    done
    CLUSTER_BALANCERS=("${balancers[@]}")
    kept=()
    for name in "${CLUSTER_SIDECARS[@]}"; do
        [ -n "${CLUSTER_PID[$name]:-}" ] && kept+=("$name")
    done
    CLUSTER_SIDECARS=("${kept[@]}")
}

cluster_cleanup() {
    cluster_stop
    rm -rf "$CLUSTER_RUN"
}

trap cluster_cleanup EXIT
trap 'exit 130' INT TERM
