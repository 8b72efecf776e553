#!/usr/bin/env bash
# `make demo`: control plane, CRDs, the operator, the sample resources, then
# `kubectl get` of what the operator made of them. `make demo-down` stops it all.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO_DIR="$REPO_ROOT/.run/demo"
DRIFTMGR="${CARGO_TARGET_DIR:-$HOME/.cache/driftmgr/target}/debug/driftmgr"

if [[ "${1:-up}" == "down" ]]; then
  for name in operator api moto; do
    if [[ -f "$DEMO_DIR/$name.pid" ]]; then
      kill -TERM "$(cat "$DEMO_DIR/$name.pid")" 2>/dev/null || true
      rm -f "$DEMO_DIR/$name.pid"
    fi
  done
  "$E2E_DIR/cluster-down.sh"
  exit 0
fi

"$E2E_DIR/cluster-up.sh"
set -a; . "$RUN_DIR/env"; set +a
mkdir -p "$DEMO_DIR"

venv="$("$E2E_DIR/python-tools.sh")"
if [[ -f "$DEMO_DIR/moto.pid" ]] && kill -0 "$(cat "$DEMO_DIR/moto.pid")" 2>/dev/null; then
  moto_port="$(cat "$DEMO_DIR/moto.port")"
else
  moto_port="$(free_port)"
  log "starting moto (the AWS emulator) on 127.0.0.1:$moto_port and seeding it"
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$DEMO_DIR/moto.log" 2>&1 &
  echo $! >"$DEMO_DIR/moto.pid"
  echo "$moto_port" >"$DEMO_DIR/moto.port"
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$moto_port/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
  "$venv/bin/python" "$E2E_DIR/seed_demo.py" "http://127.0.0.1:$moto_port" >&2
fi

log "installing the CRDs"
"$DRIFTMGR" crds | "$KUBECTL" apply --server-side -f - >/dev/null
"$KUBECTL" wait --for=condition=Established crd --all --timeout=60s >/dev/null
"$KUBECTL" apply --server-side -f "$REPO_ROOT/crds/approval-policy.yaml" >/dev/null

if [[ -f "$DEMO_DIR/operator.pid" ]] && kill -0 "$(cat "$DEMO_DIR/operator.pid")" 2>/dev/null; then
  log "operator already running"
else
  port="$(free_port)"
  log "starting the operator (metrics on 127.0.0.1:$port, log in $DEMO_DIR/operator.log)"
  AWS_EC2_METADATA_DISABLED=true "$DRIFTMGR" operator --log-format text --metrics-addr "127.0.0.1:$port" --lease-namespace default \
    >"$DEMO_DIR/operator.log" 2>&1 &
  echo $! >"$DEMO_DIR/operator.pid"
  echo "$port" >"$DEMO_DIR/metrics.port"
fi

if [[ -f "$DEMO_DIR/api.pid" ]] && kill -0 "$(cat "$DEMO_DIR/api.pid")" 2>/dev/null; then
  log "API already running"
else
  api_port="$(free_port)"
  log "starting the API and dashboard (http://127.0.0.1:$api_port/, log in $DEMO_DIR/api.log)"
  "$KUBECTL" create namespace driftmgr-system --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
  "$DRIFTMGR" api --log-format text --listen "127.0.0.1:$api_port" --insecure-cookies \
    --auth-namespace driftmgr-system --audit-namespace driftmgr-system >"$DEMO_DIR/api.log" 2>&1 &
  echo $! >"$DEMO_DIR/api.pid"
  echo "$api_port" >"$DEMO_DIR/api.port"
fi

log "applying config/samples (the account's endpoint pointed at moto)"
for sample in "$REPO_ROOT"/config/samples/*.yaml; do
  # The sample plan shows the shape of a hand-written plan; the demo generates its plan
  # from the scan instead (below), so its targets are the ones the scan found.
  [[ "$sample" == *remediationplan* ]] && continue
  sed "s|http://127.0.0.1:5000|http://127.0.0.1:$moto_port|" "$sample"
  echo "---"
done | "$KUBECTL" apply -f - >/dev/null
"$KUBECTL" -n driftmgr-demo wait --for=condition=Drifted driftscan/network --timeout=120s >/dev/null
"$KUBECTL" -n driftmgr-demo annotate driftscan network driftmgr.io/generate-plan=demo --overwrite >/dev/null
for _ in $(seq 1 60); do
  [[ -n "$("$KUBECTL" -n driftmgr-demo get remediationplans -o name 2>/dev/null)" ]] && break
  sleep 1
done
plan="$("$KUBECTL" -n driftmgr-demo get driftscan network -o jsonpath='{.status.generatedPlan.name}')"
for _ in $(seq 1 60); do
  [[ -n "$("$KUBECTL" -n driftmgr-demo get remediationplan "$plan" -o jsonpath='{.status.results}' 2>/dev/null)" ]] && break
  sleep 1
done

echo
echo "\$ kubectl get provideraccounts,driftscans,remediationplans -n driftmgr-demo"
"$KUBECTL" get provideraccounts,driftscans,remediationplans -n driftmgr-demo
echo
echo "\$ kubectl annotate driftscan network driftmgr.io/generate-plan=demo   # then, what the plan would do:"
"$KUBECTL" -n driftmgr-demo get remediationplan "$plan" \
  -o jsonpath='{range .status.results[*]}{.id}{"\t"}{.risk}{"\t"}{.message}{"\t"}{.changes[*].path}{"\n"}{end}'
echo "(needs two approvals; see docs/remediation.md)"
echo
echo "\$ kubectl describe driftscan network -n driftmgr-demo   (status part)"
"$KUBECTL" describe driftscan network -n driftmgr-demo | sed -n '/^Status:/,/^Events:/p'
echo
echo "\$ driftmgr scan --state s3://tf-states/demo/ --endpoint http://127.0.0.1:$moto_port --region us-east-1"
AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true \
  "$DRIFTMGR" scan --state s3://tf-states/demo/ --endpoint "http://127.0.0.1:$moto_port" --region us-east-1 || true
echo
echo "\$ kubectl get events -n driftmgr-demo"
"$KUBECTL" get events -n driftmgr-demo --sort-by=.lastTimestamp 2>/dev/null | tail -8
echo
for _ in $(seq 1 30); do
  "$KUBECTL" -n driftmgr-system get secret driftmgr-api-initial-admin >/dev/null 2>&1 && break
  sleep 1
done
admin_password="$("$KUBECTL" -n driftmgr-system get secret driftmgr-api-initial-admin -o jsonpath='{.data.password}' | base64 -d)"
echo "Dashboard: http://127.0.0.1:$(cat "$DEMO_DIR/api.port")/  (user admin, password $admin_password,"
echo "           from: kubectl -n driftmgr-system get secret driftmgr-api-initial-admin -o jsonpath='{.data.password}' | base64 -d)"
echo "Try: export KUBECONFIG=$KUBECONFIG_PATH; kubectl explain driftscan.spec"
echo "     curl -s 127.0.0.1:$(cat "$DEMO_DIR/metrics.port")/metrics | grep driftmgr_"
echo "Stop: make demo-down"
