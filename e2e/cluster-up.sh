#!/usr/bin/env bash
# Starts etcd and kube-apiserver on 127.0.0.1 with RBAC, serving certificates, a
# service-account signing key and an admin identity; writes a kubeconfig to
# $RUN_DIR/kubeconfig and the ports to $RUN_DIR/env. Stop with cluster-down.sh.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -f "$RUN_DIR/apiserver.pid" ]] && kill -0 "$(cat "$RUN_DIR/apiserver.pid")" 2>/dev/null; then
  log "control plane already running (kubeconfig: $KUBECONFIG_PATH)"
  exit 0
fi

"$E2E_DIR/build-control-plane.sh" all >/dev/null
started=$(date +%s)
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/pki" "$RUN_DIR/etcd-data"
pki="$RUN_DIR/pki"

# --- certificates -----------------------------------------------------------------
openssl_quiet() { openssl "$@" 2>/dev/null; }
openssl_quiet req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=driftmgr-e2e-ca" \
  -keyout "$pki/ca.key" -out "$pki/ca.crt"
issue_cert() { # name subject [extensions]
  local name="$1" subject="$2" ext="${3:-}"
  openssl_quiet req -newkey rsa:2048 -nodes -subj "$subject" -keyout "$pki/$name.key" -out "$pki/$name.csr"
  if [[ -n "$ext" ]]; then
    printf '%s\n' "$ext" >"$pki/$name.ext"
    openssl_quiet x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
      -CAcreateserial -days 3650 -extfile "$pki/$name.ext" -out "$pki/$name.crt"
  else
    openssl_quiet x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
      -CAcreateserial -days 3650 -out "$pki/$name.crt"
  fi
}
issue_cert apiserver "/CN=kube-apiserver" \
  "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc,IP:10.0.0.1
extendedKeyUsage=serverAuth"
issue_cert admin "/O=system:masters/CN=driftmgr-e2e-admin" "extendedKeyUsage=clientAuth"
openssl_quiet genrsa -out "$pki/sa.key" 2048
openssl_quiet rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub"

# --- etcd ---------------------------------------------------------------------------
etcd_client_port="$(free_port)"
etcd_peer_port="$(free_port)"
"$BIN_DIR/etcd" \
  --name driftmgr-e2e \
  --data-dir "$RUN_DIR/etcd-data" \
  --listen-client-urls "http://127.0.0.1:$etcd_client_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_client_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "driftmgr-e2e=http://127.0.0.1:$etcd_peer_port" \
  --unsafe-no-fsync \
  >"$RUN_DIR/etcd.log" 2>&1 &
echo $! >"$RUN_DIR/etcd.pid"

# --- kube-apiserver -----------------------------------------------------------------
apiserver_port="$(free_port)"
"$BIN_DIR/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_client_port" \
  --bind-address 127.0.0.1 \
  --advertise-address 127.0.0.1 \
  --endpoint-reconciler-type none \
  --secure-port "$apiserver_port" \
  --cert-dir "$pki" \
  --tls-cert-file "$pki/apiserver.crt" \
  --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --authorization-mode Node,RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" \
  --api-audiences https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range 10.0.0.0/24 \
  --enable-priority-and-fairness=false \
  --watch-cache=true \
  --profiling=false \
  >"$RUN_DIR/apiserver.log" 2>&1 &
echo $! >"$RUN_DIR/apiserver.pid"

server="https://127.0.0.1:$apiserver_port"
cat >"$KUBECONFIG_PATH" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: driftmgr-e2e
  cluster:
    server: $server
    certificate-authority: $pki/ca.crt
users:
- name: admin
  user:
    client-certificate: $pki/admin.crt
    client-key: $pki/admin.key
contexts:
- name: driftmgr-e2e
  context: {cluster: driftmgr-e2e, user: admin, namespace: default}
current-context: driftmgr-e2e
KUBECONFIG
cat >"$RUN_DIR/env" <<ENV
KUBECONFIG=$KUBECONFIG_PATH
KUBE_APISERVER=$server
ETCD_CLIENT_PORT=$etcd_client_port
KUBECTL=$TOOLS_DIR/kubectl-layer-$KUBECTL_LAYER_VERSION/kubectl
HELM=$TOOLS_DIR/kubectl-layer-$KUBECTL_LAYER_VERSION/helm
KUBE_SCORE=$TOOLS_DIR/kube-score-$KUBE_SCORE_VERSION/kube-score
ENV

for _ in $(seq 1 120); do
  for pidfile in etcd apiserver; do
    if ! kill -0 "$(cat "$RUN_DIR/$pidfile.pid")" 2>/dev/null; then
      log "$pidfile exited during start-up; last lines of its log:"
      tail -20 "$RUN_DIR/$pidfile.log" >&2
      "$E2E_DIR/cluster-down.sh"
      exit 1
    fi
  done
  if curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "$server/readyz" >/dev/null 2>&1; then
    log "control plane ready at $server in $(($(date +%s) - started))s; export KUBECONFIG=$KUBECONFIG_PATH"
    exit 0
  fi
  sleep 0.5
done
log "kube-apiserver not ready after 60s; last lines of its log:"
tail -20 "$RUN_DIR/apiserver.log" >&2
"$E2E_DIR/cluster-down.sh"
exit 1
