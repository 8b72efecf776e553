#!/usr/bin/env bash
# Installs Azurite (Microsoft's Azure Storage emulator, from npm), pinned, into
# $CACHE_ROOT once. Prints the path of its blob service's command.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AZURITE_VERSION=3.37.0
echo "$(npm_tool azurite "$AZURITE_VERSION")/.bin/azurite-blob"
