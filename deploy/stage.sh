#!/usr/bin/env bash
# Collects what the runtime image needs from a release build's bin folder:
#   bash deploy/stage.sh BIN_DIR OUT_DIR
# - node, balancer, loader, debug info stripped (symbols kept, so crash
#   backtraces still name functions);
# - the static backtracer, which a statically linked binary cannot find by itself;
# - resource bundles, if any (none today: the dashboard is embedded in the binary);
# - the curl-free healthcheck script, as `healthcheck`.
# The Dockerfile's build stage runs it, and so does deploy/compose.sh for the
# image made from host-built binaries: one list of what an image carries.
set -euo pipefail
bin=$1
out=$2
here=$(dirname "${BASH_SOURCE[0]}")

mkdir -p "$out"
for product in node balancer loader; do
    strip --strip-debug -o "$out/$product" "$bin/$product"
done
toolchain="$(dirname "$(readlink -f "$(command -v swift)")")/.."
cp "$toolchain/libexec/swift/linux/swift-backtrace-static" "$out/"
find -L "$bin/" -maxdepth 1 -regex '.*\.resources$' -exec cp -Ra {} "$out/" \;
install -m 0755 "$here/healthcheck.sh" "$out/healthcheck"
chmod 0755 "$out/node" "$out/balancer" "$out/loader" "$out/swift-backtrace-static"
