#!/usr/bin/env bash
# `make demo`: control plane, CRDs, the operator, the sample resources, then
# `kubectl get` of what the operator made of them. `make demo-down` stops it all.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO_DIR="$REPO_ROOT/.run/demo"
DRIFTMGR="${CARGO_TARGET_DIR:-$HOME/.cache/driftmgr/target}/debug/driftmgr"

if [[ "${1:-up}" == "down" ]]; then
  if [[ -f "$DEMO_DIR/operator.pid" ]]; then
    kill -TERM "$(cat "$DEMO_DIR/operator.pid")" 2>/dev/null || true
    rm -f "$DEMO_DIR/operator.pid"
  fi
  "$E2E_DIR/cluster-down.sh"
  exit 0
fi

"$E2E_DIR/cluster-up.sh"
set -a; . "$RUN_DIR/env"; set +a
mkdir -p "$DEMO_DIR"

log "installing the CRDs"
"$DRIFTMGR" crds | "$KUBECTL" apply --server-side -f - >/dev/null
"$KUBECTL" wait --for=condition=Established crd --all --timeout=60s >/dev/null

if [[ -f "$DEMO_DIR/operator.pid" ]] && kill -0 "$(cat "$DEMO_DIR/operator.pid")" 2>/dev/null; then
  log "operator already running"
else
  port="$(free_port)"
  log "starting the operator (metrics on 127.0.0.1:$port, log in $DEMO_DIR/operator.log)"
  "$DRIFTMGR" operator --log-format text --metrics-addr "127.0.0.1:$port" --lease-namespace default \
    >"$DEMO_DIR/operator.log" 2>&1 &
  echo $! >"$DEMO_DIR/operator.pid"
  echo "$port" >"$DEMO_DIR/metrics.port"
fi

log "applying config/samples"
"$KUBECTL" apply -f "$REPO_ROOT/config/samples/" >/dev/null
"$KUBECTL" -n driftmgr-demo wait --for=jsonpath='{.status.phase}'=Pending driftscan/network --timeout=60s >/dev/null

echo
echo "\$ kubectl get provideraccounts,driftscans,remediationplans -n driftmgr-demo"
"$KUBECTL" get provideraccounts,driftscans,remediationplans -n driftmgr-demo
echo
echo "\$ kubectl get events -n driftmgr-demo"
"$KUBECTL" get events -n driftmgr-demo --sort-by=.lastTimestamp 2>/dev/null | tail -8
echo
echo "Try: export KUBECONFIG=$KUBECONFIG_PATH; kubectl explain driftscan.spec"
echo "     curl -s 127.0.0.1:$(cat "$DEMO_DIR/metrics.port")/metrics | grep driftmgr_"
echo "Stop: make demo-down"
