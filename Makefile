# driftmgr developer and CI entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Build outputs and Go caches live under $HOME/.cache so repeated runs (and CI on
# the same machine) reuse them.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/driftmgr/target
export CARGO_TERM_COLOR ?= never
DRIFTMGR := $(CARGO_TARGET_DIR)/debug/driftmgr
RUN_DIR := $(CURDIR)/.run/cluster
CLUSTER_ENV := $(RUN_DIR)/env

.PHONY: help build crds docs fmt lint unit test integration bench cluster-up cluster-down demo demo-down clean

help: ## Show this help.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## Build the driftmgr binary (debug).
	cargo build --locked --bins

crds: build ## Regenerate crds/driftmgr.yaml from the Rust types.
	$(DRIFTMGR) crds > crds/driftmgr.yaml
	cp crds/driftmgr.yaml charts/driftmgr/crds/driftmgr.yaml
	sed "s|'{{ include \"driftmgr.approvalRecorder\" . }}'|''|" charts/driftmgr/files/approval-policy.yaml > crds/approval-policy.yaml

docs: ## Regenerate docs/coverage.md from the type declarations.
	DRIFTMGR_WRITE_DOCS=1 cargo test --locked --lib docs_coverage_is_generated_from_the_declarations

fmt: ## Format the code.
	cargo fmt

lint: ## rustfmt check and clippy with warnings as errors.
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings

unit: ## Unit tests only (no cluster needed).
	cargo test --locked --lib --bins

cluster-up: ## Build (once) and start etcd + kube-apiserver on 127.0.0.1.
	e2e/cluster-up.sh

cluster-down: ## Stop the local control plane.
	e2e/cluster-down.sh

integration: ## Integration tests against a running control plane (make cluster-up first).
	export MOTO_SERVER="$$(e2e/python-tools.sh)/bin/moto_server" PLAYWRIGHT_DIR="$$(e2e/browser-tools.sh)" AZURITE_BLOB="$$(e2e/azurite.sh)"; \
	set -a; . $(CLUSTER_ENV); set +a; cargo test --locked --no-fail-fast --test '*' -- --test-threads=4 --show-output

test: ## Everything: lint, unit tests, then integration tests on a fresh control plane.
	$(MAKE) lint
	cargo build --locked --all-targets
	$(MAKE) unit
	e2e/cluster-up.sh
	trap 'e2e/cluster-down.sh' EXIT; $(MAKE) integration

bench: ## Engine time and memory (10k/100k/1M, instances and IAM roles); API calls per service for 1k instances, roles and buckets; 1,000 DriftScans on a control plane; API load (oha).
	MOTO_SERVER="$$(e2e/python-tools.sh)/bin/moto_server" cargo bench --locked --bench engine
	was_running=0; [[ -f $(RUN_DIR)/apiserver.pid ]] && kill -0 "$$(cat $(RUN_DIR)/apiserver.pid)" 2>/dev/null && was_running=1; \
	e2e/cluster-up.sh; \
	if [[ $$was_running == 0 ]]; then trap 'e2e/cluster-down.sh' EXIT; fi; \
	export MOTO_SERVER="$$(e2e/python-tools.sh)/bin/moto_server"; \
	set -a; . $(CLUSTER_ENV); set +a; cargo bench --locked --bench fleet; \
	OHA="$$(e2e/oha.sh)" cargo bench --locked --bench api

demo: build ## Control plane, CRDs, the operator, sample resources, then `kubectl get driftscans`.
	e2e/demo.sh

demo-down: ## Stop the demo operator and the control plane.
	e2e/demo.sh down

clean: ## Remove per-checkout runtime state (the build cache stays).
	rm -rf .run
