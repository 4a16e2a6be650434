#!/usr/bin/env bash
# Container healthcheck without curl: one HTTP/1.0 GET over bash's /dev/tcp.
# Installed in the image as /usr/local/bin/healthcheck.
#
#   healthcheck [PORT] [PATH] [HOST]
#
# PORT defaults to $NODE_PORT or 5000, PATH to /health, HOST to 127.0.0.1.
# Exits 0 when the status line says 200, 1 otherwise (refused, timeout, other status).
set -u
port=${1:-${NODE_PORT:-5000}}
path=${2:-/health}
host=${3:-127.0.0.1}

if ! { exec 3<>"/dev/tcp/${host}/${port}"; } 2>/dev/null; then
    echo "unhealthy: cannot connect to ${host}:${port}" >&2
    exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$host" >&3
status=
if ! IFS= read -r -t 5 status <&3; then
    echo "unhealthy: no answer from ${host}:${port}${path}" >&2
    exit 1
fi
exec 3<&- 3>&-
case $status in
    "HTTP/1."?" 200"*) exit 0 ;;
esac
echo "unhealthy: ${host}:${port}${path} answered: ${status%$'\r'}" >&2
exit 1
