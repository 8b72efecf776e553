#!/usr/bin/env bash
# Stops the control plane started by cluster-up.sh, by PID: apiserver first, then etcd.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_pid() { # pidfile
  local pidfile="$1" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop_pid "$RUN_DIR/apiserver.pid"
stop_pid "$RUN_DIR/etcd.pid"
log "control plane stopped"
