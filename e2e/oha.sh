#!/usr/bin/env bash
# Builds oha (the HTTP load generator `make bench` drives the API with) from
# crates.io, pinned, into $CACHE_ROOT/tools once. Prints the binary's path.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OHA_VERSION=1.16.0
root="$TOOLS_DIR/oha-$OHA_VERSION"
if [[ ! -x "$root/bin/oha" ]]; then
  log "building oha $OHA_VERSION from crates.io into $root (a few minutes, once)"
  cargo install --quiet --locked --version "$OHA_VERSION" --root "$root" oha >&2
fi
echo "$root/bin/oha"
