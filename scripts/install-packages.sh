#!/usr/bin/env bash
# The one place the project's scripts install what they need: Debian packages
# through apt-get, and the few Python tools that come from PyPI.
#
#   scripts/install-packages.sh PACKAGE...          Debian packages not installed yet
#   scripts/install-packages.sh --pip NAME==VERSION...
#                                                   PyPI packages not installed at that
#                                                   version, into $PYTHON (default python3)
#   scripts/install-packages.sh --refresh           apt-get update if the package lists
#                                                   are missing or older than a day
#   scripts/install-packages.sh --update            apt-get update now
#
# apt-get runs as root, or through sudo, with --no-install-recommends and
# DPkg::Lock::Timeout=600: another apt on the machine is waited for, not
# failed on. The lists are refreshed before an install only when they are
# missing or stale, and once more when the install fails (a stale list names
# versions the mirror has dropped). Quiet but for a line naming what it
# installs; when something fails, the tool's last lines and a sentence saying
# what failed, and exit status 1. Nothing missing: it returns at once.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -o DPkg::Lock::Timeout=600)
OUTPUT="$(mktemp /tmp/install-packages.XXXXXX)"
trap 'rm -f "$OUTPUT"' EXIT

say() { printf 'install-packages: %s\n' "$*" >&2; }
give_up() {
    tail -30 "$OUTPUT" >&2
    say "FAILED: $*"
    exit 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        # Without a terminal to ask on, sudo must fail rather than wait for a password.
        if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
    else
        echo "need root (or sudo) for: $*" >"$OUTPUT"
        return 1
    fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

lists_fresh() {
    find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null | grep -q .
}

update() {
    local try
    for try in 1 2 3; do
        as_root "${APT[@]}" update >"$OUTPUT" 2>&1 && return 0
        # Another apt may hold the lists' lock, which the timeout above does not cover.
        [ "$try" -eq 3 ] || sleep 10
    done
    give_up "apt-get update"
}

# missing PREDICATE ITEM...: sets MISSING to the items the predicate fails
# for; returns 1 when there are none.
missing() {
    local predicate=$1 item
    shift
    MISSING=()
    for item in "$@"; do
        "$predicate" "$item" || MISSING+=("$item")
    done
    [ ${#MISSING[@]} -gt 0 ]
}

apt_install() {
    missing installed "$@" || return 0
    local wanted=("${MISSING[@]}")
    say "installing ${wanted[*]} (apt)"
    lists_fresh || update
    local install=("${APT[@]}" install -y --no-install-recommends "${wanted[@]}")
    as_root "${install[@]}" >"$OUTPUT" 2>&1 && return 0
    update
    as_root "${install[@]}" >"$OUTPUT" 2>&1 || give_up "apt-get install ${wanted[*]}"
}

# NAME==VERSION already there, as Python's own package metadata says.
pip_installed() {
    "$PYTHON" - "$1" <<'EOF' 2>/dev/null
import importlib.metadata, sys
name, _, version = sys.argv[1].partition("==")
# "moto[server]": the extras are installed with the package, which is what has a version.
sys.exit(importlib.metadata.version(name.split("[")[0]) != version)
EOF
}

pip_install() {
    missing pip_installed "$@" || return 0
    local wanted=("${MISSING[@]}")
    "$PYTHON" -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    say "installing ${wanted[*]} (pip, $PYTHON)"
    local pip=("$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore)
    # Debian's own Python is "externally managed" (PEP 668): there, a user install.
    "${pip[@]}" "${wanted[@]}" >"$OUTPUT" 2>&1 \
        || "${pip[@]}" --break-system-packages "${wanted[@]}" >"$OUTPUT" 2>&1 \
        || "$PYTHON" -m pip install --quiet --user --break-system-packages "${wanted[@]}" >"$OUTPUT" 2>&1 \
        || give_up "pip install ${wanted[*]}"
    # pyenv's shims learn of new scripts (hadolint) only when asked.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash >/dev/null 2>&1 || true; fi
}

case "${1:-}" in
    "" | -h | --help) sed -n "2,19p" "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    --refresh) lists_fresh || update ;;
    --update) update ;;
    --pip) shift; pip_install "$@" ;;
    *) apt_install "$@" ;;
esac
