#!/usr/bin/env bash
# Sets up a Docker-compatible container engine on a Debian machine that has
# none: podman (as root) behind its Docker API socket, so docker-compose and the
# docker CLI drive it unchanged. Idempotent: a second run checks and returns.
#
#   bash deploy/engine.sh [setup]   install, configure, base images, API service,
#                                   healthcheck runner (what is missing only)
#   bash deploy/engine.sh start     only the API service and the healthcheck runner,
#                                   if podman is set up; exits 3 if it is not
#   bash deploy/engine.sh env       print the variables that point a shell at it:
#                                   eval "$(bash deploy/engine.sh env)"
#   bash deploy/engine.sh stop      stop the API service and the healthcheck runner
#
# Over 250 lines on purpose: one program with one lock and one state folder
# (.engine/), whose stages share their checks; split, each part would redo them.
#                                   (containers, images and volumes are kept)
#   bash deploy/engine.sh image-size IMAGE
#                                   an image's size in MB, for the logs
#
# Everything of the project's own lives in .engine/ (gitignored): the podman
# configuration (CONTAINERS_CONF points at it; the machine's files are not
# touched), the API socket, logs and PID files. Images and volumes live in
# podman's usual root storage (/var/lib/containers). SENTENCE_ENGINE_DIR moves
# .engine/ elsewhere (a socket path must stay under 108 bytes).
#
# Runs as root: podman here is rootful, and apt-get and debootstrap need it.
#
# Why each setting (see README, "Deployment"):
# - runtime runc: crun refuses the hybrid cgroup layout of these VMs;
# - default ulimits at the host's hard limits (and nproc at kernel.pid_max):
#   root here lacks CAP_SYS_RESOURCE, and podman's default (about a million
#   open files) makes every start fail;
# - cgroupfs, file events, k8s-file logs: there is no systemd or journald;
# - init_path: `init: true` in docker-compose.yml runs Debian's catatonit as PID 1;
# - no registry is reachable, so the base image debian:bookworm-slim is built
#   here with debootstrap from the apt mirror this machine already uses.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${SENTENCE_ENGINE_DIR:-$ROOT/.engine}
CONF=$STATE/containers.conf
SOCKET=$STATE/podman.sock
BASE_IMAGE=docker.io/library/debian:bookworm-slim
# Raised when build_base_image changes, so an older local base is made again.
BASE_RECIPE=2
PACKAGES=(podman runc netavark aardvark-dns catatonit iptables debootstrap docker-compose)

log() { printf 'engine: %s\n' "$*" >&2; }

# image_size IMAGE: its size as podman counts it, in MB (10^6 bytes).
image_size() {
    podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1e6}'
}

export_env() {
    export CONTAINERS_CONF=$CONF
    export DOCKER_HOST=unix://$SOCKET
}

# Written on every run (it is cheap). When it changes (the host's limits, this
# script), a running API service is stopped, so the one started next reads it.
write_configuration() {
    local nofile nproc pid_max
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    # "unlimited" is not a number podman accepts; 1048576 is its own default.
    [ "$nofile" = unlimited ] && nofile=1048576
    [ "$nproc" = unlimited ] && nproc=1048576
    # podman runs itself with nproc at most kernel.pid_max (seen here: 32768,
    # under a hard limit of 96364), and a container cannot ask for more.
    pid_max=$(cat /proc/sys/kernel/pid_max)
    [ "$nproc" -gt "$pid_max" ] && nproc=$pid_max
    mkdir -p "$STATE"
    cat >"$CONF.new" <<EOF
# Written by deploy/engine.sh; podman reads it through CONTAINERS_CONF.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
init_path = "$(command -v catatonit)"
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
# Network definitions in the project's folder, not /etc/containers/networks.
network_config_dir = "$STATE/networks"
EOF
    if cmp -s "$CONF.new" "$CONF"; then
        rm -f "$CONF.new"
        return 0
    fi
    mv "$CONF.new" "$CONF"
    stop_pid "$STATE/service.pid" "system service"
}

# The host's Debian mirrors, read from apt's sources (one-line and deb822
# formats): "MAIN SECURITY", the URIs serving bookworm and bookworm-security.
host_mirrors() {
    python3 - <<'EOF'
import glob, re
files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) \
      + sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
found = {}
for path in files:
    try:
        text = open(path).read()
    except OSError:
        continue
    if path.endswith(".sources"):
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.split()
            if fields.get("enabled", ["yes"])[0] == "no" or "deb" not in fields.get("types", []):
                continue
            for suite in fields.get("suites", []):
                for uri in fields.get("uris", []):
                    found.setdefault(suite, uri)
    else:
        for line in text.splitlines():
            words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb":
                found.setdefault(words[2], words[1])
main = found.get("bookworm")
if not main:
    raise SystemExit("no apt source serves bookworm on this machine")
print(main, found.get("bookworm-security", ""))
EOF
}

# debian:bookworm-slim, made here unless the machine already has it (pulled
# from a registry: that one is used as it is). A base made by an older recipe
# of this script is made again.
build_base_image() {
    local made old=""
    if podman image exists "$BASE_IMAGE"; then
        made=$(podman image inspect --format '{{index .Labels "sentence-store.base-recipe"}}' "$BASE_IMAGE")
        case $made in
            "$BASE_RECIPE" | "<no value>" | "") return 0 ;;
        esac
        old=$(podman image inspect --format '{{.Id}}' "$BASE_IMAGE")
    fi
    DID_WORK=1
    local started=$SECONDS
    ( bootstrap_base_image )
    # The previous base of ours goes too, unless images built on it still need it.
    [ -z "$old" ] || podman rmi "$old" >/dev/null 2>&1 || true
    log "$BASE_IMAGE built in $((SECONDS - started)) s ($(image_size "$BASE_IMAGE"))"
}

# In a subshell: debootstrap (minbase) from the host's mirror, the host's apt
# network settings, then slimmed the way the official image is (no docs, man
# pages, locales or apt caches). The root folder goes on any exit.
bootstrap_base_image() {
    local mirrors main security rootfs
    mirrors=$(host_mirrors)
    read -r main security <<<"$mirrors"
    rootfs=$(mktemp -d /var/tmp/sentence-base.XXXXXX)
    # Expanded now: the local is gone by the time the subshell exits.
    trap "rm -rf --one-file-system '$rootfs'" EXIT
    trap 'exit 130' INT TERM
    log "bootstrapping $BASE_IMAGE from the host's apt mirror (about a minute)"
    debootstrap --variant=minbase bookworm "$rootfs" "$main" >"$STATE/debootstrap.log" 2>&1 \
        || { tail -20 "$STATE/debootstrap.log" >&2; exit 1; }
    {
        printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$main"
        printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        if [ -n "$security" ]; then
            printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$security"
            printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        fi
    } >"$rootfs/etc/apt/sources.list.d/debian.sources"
    rm -f "$rootfs/etc/apt/sources.list"
    # Network settings only (a snapshot mirror needs Check-Valid-Until false,
    # a proxy needs Acquire::http::Proxy): files whose every setting is Acquire::.
    local file
    for file in /etc/apt/apt.conf.d/*; do
        [ -f "$file" ] || continue
        if ! grep -v -E '^\s*(//|#|$)' "$file" | grep -q -v -E '^\s*Acquire::'; then
            cp "$file" "$rootfs/etc/apt/apt.conf.d/"
        fi
    done
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
    # As in the official image: apt keeps no .deb files or caches in a layer,
    # fetches no translations, and keeps its lists compressed.
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    printf 'Acquire::GzipIndexes "true";\n' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
    printf 'APT::AutoRemove::SuggestsImportant "false";\n' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
    find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
    rm -rf "$rootfs"/usr/share/{man,info,locale,lintian}/* "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/* \
        "$rootfs"/tmp/* "$rootfs"/var/tmp/*
    tar --numeric-owner -C "$rootfs" -c . | podman import \
        --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL org.opencontainers.image.description=\"Debian 12 minbase, bootstrapped locally by deploy/engine.sh\"" \
        --change "LABEL sentence-store.base-recipe=$BASE_RECIPE" \
        - "$BASE_IMAGE" >>"$STATE/debootstrap.log" 2>&1
}

# running PIDFILE PATTERN: the PID in PIDFILE is alive and its command line
# matches PATTERN (so a reused PID is never mistaken for ours).
running() {
    local pid
    [ -f "$1" ] || return 1
    pid=$(cat "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

start_service() {
    if running "$STATE/service.pid" "system service"; then return 0; fi
    DID_WORK=1
    rm -f "$SOCKET"
    # --time=0: no idle exit; `engine.sh stop` ends it.
    # 9>&-: the set-up lock must not live on in the service.
    setsid podman system service --time=0 "unix://$SOCKET" >>"$STATE/service.log" 2>&1 </dev/null 9>&- &
    echo $! >"$STATE/service.pid"
    local _
    for _ in $(seq 100); do
        [ -S "$SOCKET" ] && curl -fsS --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    log "the podman API service did not answer on $SOCKET; see $STATE/service.log"
    return 1
}

start_healthchecks() {
    if running "$STATE/healthchecks.pid" "healthchecks.sh"; then return 0; fi
    DID_WORK=1
    setsid bash "$ROOT/deploy/healthchecks.sh" >>"$STATE/healthchecks.log" 2>&1 </dev/null 9>&- &
    echo $! >"$STATE/healthchecks.pid"
}

# stop_pid PIDFILE PATTERN: TERM, then KILL after 5 s, to the process group
# (setsid made the process its leader, so a running `podman healthcheck run`
# goes too), and only while the PID is still ours.
stop_pid() {
    local pid _
    running "$1" "$2" || { rm -f "$1"; return 0; }
    pid=$(cat "$1")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        running "$1" "$2" || break
        sleep 0.1
    done
    if running "$1" "$2"; then
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

need_root() {
    if [ "$(id -u)" != 0 ]; then
        log "run as root: podman here is rootful, and apt-get and debootstrap need root"
        exit 1
    fi
}

# One set-up at a time: two would start two services on one socket.
lock() {
    mkdir -p "$STATE"
    exec 9>"$STATE/lock"
    flock 9
}

DID_WORK=0
setup() {
    local started=$SECONDS
    need_root
    if [ ${#SOCKET} -gt 100 ]; then
        log "socket path too long for a unix socket (${#SOCKET} bytes): $SOCKET; set SENTENCE_ENGINE_DIR to a shorter folder"
        exit 1
    fi
    lock
    bash "$ROOT/scripts/install-packages.sh" "${PACKAGES[@]}"
    export_env
    write_configuration
    build_base_image
    start_service
    start_healthchecks
    if [ "$DID_WORK" = 1 ]; then
        log "ready in $((SECONDS - started)) s: DOCKER_HOST=$DOCKER_HOST CONTAINERS_CONF=$CONTAINERS_CONF"
    fi
}

# The service and the runner of an engine set up before (after `stop`).
start() {
    need_root
    command -v podman >/dev/null 2>&1 && [ -f "$CONF" ] || exit 3
    lock
    export_env
    start_service
    start_healthchecks
}

case ${1:-setup} in
    setup) setup ;;
    start) start ;;
    env)
        export_env
        printf 'export CONTAINERS_CONF=%q DOCKER_HOST=%q\n' "$CONTAINERS_CONF" "$DOCKER_HOST"
        ;;
    image-size)
        export_env
        image_size "${2:?image-size needs an image}"
        ;;
    stop)
        need_root
        stop_pid "$STATE/healthchecks.pid" "healthchecks.sh"
        stop_pid "$STATE/service.pid" "system service"
        rm -f "$SOCKET"
        ;;
    *)
        echo "usage: bash deploy/engine.sh [setup|start|env|stop|image-size IMAGE]" >&2
        exit 2
        ;;
esac
