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
#   NODES                 2 or 3 (same as --nodes)
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

# Sets ENGINE (docker or podman) and COMPOSE (the compose command).
choose_engine() {
    local ours
    ours=$(bash deploy/engine.sh env | sed -n 's/.*DOCKER_HOST=//p')
    # A DOCKER_HOST pointing at the local podman (from `engine.sh env`) is not a Docker engine.
    if [ "${DOCKER_HOST:-}" != "$ours" ] && docker info >/dev/null 2>&1; then
        ENGINE=docker
        if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
    else
        bash deploy/engine.sh setup
        eval "$(bash deploy/engine.sh env)"
        ENGINE=podman
        COMPOSE=(docker-compose)
    fi
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
        compose build
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
    rm -rf deploy/prebuilt
    bash deploy/stage.sh "$bin" deploy/prebuilt
    started=$SECONDS
    # Unchanged binaries hit podman's layer cache; only the image tag moves.
    podman build --pull=never --target prebuilt --tag "$SENTENCE_STORE_IMAGE" \
        --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
        --file Dockerfile . >.build-image/podman-build.log 2>&1 \
        || { tail -30 .build-image/podman-build.log >&2; return 1; }
    # Images this one replaced, unless a container still uses them.
    podman image prune --force --filter label=org.opencontainers.image.title=sentence-store >/dev/null 2>&1 || true
    log "image $SENTENCE_STORE_IMAGE (target prebuilt): $((SECONDS - started)) s, $(podman image inspect --format '{{.Size}}' "$SENTENCE_STORE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
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
    log "up in $((SECONDS - started)) s; the dashboard: http://${BALANCER_PUBLISH%:*}:${BALANCER_PUBLISH##*:}/"
}

down() {
    local volumes=()
    [ "${1:-}" = --volumes ] && volumes=(--volumes)
    compose --profile load down --remove-orphans "${volumes[@]}"
    if [ "$ENGINE" = podman ] && [ -z "$(podman ps -q)" ]; then
        bash deploy/engine.sh stop
    fi
}

command=${1:-}
[ $# -gt 0 ] && shift
if [ "${1:-}" = --nodes ]; then NODES=${2:?--nodes needs 2 or 3}; shift 2; fi
case $command in
    up) choose_engine; up ;;
    down) choose_engine; down "$@" ;;
    compose) choose_engine; compose "$@" ;;
    *)
        sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
