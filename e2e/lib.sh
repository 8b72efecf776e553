# Shared settings for the e2e scripts. Sourced, not run.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$E2E_DIR/.." && pwd)"
# shellcheck source=versions.env
. "$E2E_DIR/versions.env"

# Everything built or downloaded is cached here and reused by later runs (and CI on
# the same machine); nothing in it is specific to one checkout.
CACHE_ROOT="${DRIFTMGR_CACHE:-$HOME/.cache/driftmgr}"
export GOMODCACHE="${GOMODCACHE_OVERRIDE:-$CACHE_ROOT/gomod}"
export GOCACHE="${GOCACHE_OVERRIDE:-$HOME/.cache/go-build}"
export GOFLAGS="-buildvcs=false"
BIN_DIR="$CACHE_ROOT/bin/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION"
TOOLS_DIR="$CACHE_ROOT/tools"

# Per-checkout runtime state (certs, data dir, pids, logs, kubeconfig).
RUN_DIR="${DRIFTMGR_RUN_DIR:-$REPO_ROOT/.run/cluster}"
KUBECONFIG_PATH="$RUN_DIR/kubeconfig"

log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Installs npm package PACKAGE at VERSION into its own folder under $CACHE_ROOT once;
# prints the folder's node_modules.
npm_tool() {
  local package="$1" version="$2"
  local dir="$CACHE_ROOT/node-$package-$version"
  if [[ ! -f "$dir/node_modules/$package/package.json" ]]; then
    log "installing $package@$version into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund -s "$package@$version" >&2)
  fi
  echo "$dir/node_modules"
}

# Picks a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
