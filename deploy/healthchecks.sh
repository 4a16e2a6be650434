#!/usr/bin/env bash
# Runs the containers' healthchecks, which podman leaves to systemd timers:
# without systemd nothing runs them, a container stays "starting" for ever and
# `depends_on: condition: service_healthy` never returns. deploy/engine.sh
# starts this loop in the background and stops it by PID.
#
# Timing follows Docker's: a container still "starting" is checked every
# second (like Docker's start_interval), then every `interval` of its own
# healthcheck. `podman healthcheck run` itself counts the retries and honours
# the start period, and records the status that `inspect` and compose read.
set -uo pipefail

declare -A last_run=()

while true; do
    now=$(date +%s)
    declare -A seen=()
    while read -r id health interval; do
        [ -n "$id" ] || continue
        seen[$id]=1
        interval=${interval%%.*}
        [ "$health" = starting ] && interval=1
        if (( now - ${last_run[$id]:-0} >= ${interval:-30} )); then
            last_run[$id]=$now
            podman healthcheck run "$id" >/dev/null 2>&1
        fi
    done < <(podman ps --filter health=starting --filter health=healthy --filter health=unhealthy \
                 --format '{{.ID}}' 2>/dev/null \
             | xargs -r podman inspect \
                 --format '{{.ID}} {{.State.Health.Status}} {{.Config.Healthcheck.Interval.Seconds}}' 2>/dev/null)
    for id in "${!last_run[@]}"; do
        [ -n "${seen[$id]:-}" ] || unset "last_run[$id]"
    done
    unset seen
    sleep 1
done
