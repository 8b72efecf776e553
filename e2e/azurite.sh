#!/usr/bin/env bash
# Installs Azurite (Microsoft's Azure Storage emulator, from npm), pinned, into
# $CACHE_ROOT once. Prints the path of its blob service's command.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AZURITE_VERSION=3.37.0
dir="$CACHE_ROOT/node-azurite-$AZURITE_VERSION"
if [[ ! -x "$dir/node_modules/.bin/azurite-blob" ]]; then
  log "installing azurite@$AZURITE_VERSION into $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund -s "azurite@$AZURITE_VERSION" >&2)
fi
echo "$dir/node_modules/.bin/azurite-blob"
