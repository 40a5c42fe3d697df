#!/usr/bin/env bash
# The Engine.IO layer stands alone: files under sio-server/src/engine/ may name only
# `crate::engine::…`, `sio_core` and external crates, never the Socket.IO layer above them (the
# root's re-exports included). Prints each offending line and fails if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=sio-server/src/engine
status=0

# Every `crate::` path that does not go through `crate::engine`, in code and in doc links alike.
offending=$(grep -rnoE '\bcrate::[A-Za-z_]+' "$engine" | grep -vE ':crate::engine$' || true)
if [ -n "$offending" ]; then
  echo "error: the engine layer names paths outside crate::engine:" >&2
  echo "$offending" >&2
  status=1
fi

# `super::` must not climb out of engine/ either.
climbing=$( (grep -HnE '\bsuper::' "$engine/mod.rs" || true; grep -rnE '\bsuper::super::' "$engine" || true) )
if [ -n "$climbing" ]; then
  echo "error: the engine layer reaches above engine/ through `super::`:" >&2
  echo "$climbing" >&2
  status=1
fi

# At most 12 `.rs` files at the root of sio-server/src: the rest lives in its layer's folder.
root_files=$(find sio-server/src -maxdepth 1 -name '*.rs' | wc -l)
if [ "$root_files" -gt 12 ]; then
  echo "error: sio-server/src has $root_files .rs files at its root (at most 12)" >&2
  status=1
fi

exit $status
