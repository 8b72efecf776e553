#!/usr/bin/env bash
# Installs what the dashboard's browser test drives: Debian's Chromium (a test tool
# cannot download its own browser here) and playwright-core from npm, pinned, into
# $CACHE_ROOT. Prints the node_modules directory that holds playwright-core.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PLAYWRIGHT_CORE_VERSION=1.65.1
if [[ ! -x /usr/bin/chromium ]]; then
  log "installing Debian's chromium"
  if [[ $(id -u) != 0 ]]; then
    log "chromium is missing and only root can install it: apt-get install chromium"
    exit 1
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi
npm_tool playwright-core "$PLAYWRIGHT_CORE_VERSION"
