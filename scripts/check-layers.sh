#!/usr/bin/env bash
# The Engine.IO layer stands alone: files under sio-server/src/engine/ may name only
# `crate::engine::…`, `sio_core` and external crates, never the Socket.IO layer above them (the
# root's re-exports included). Prints each offending line and fails if there is one.
#
# The rules it enforces, stricter than the compiler's view of "inside engine/":
# - every `crate::` is followed by `engine` (`crate::{engine::a, b}` fails: write
#   `crate::engine::{a, b}`);
# - `super::` never appears in engine/mod.rs, and `super::super` nowhere under engine/ (write
#   `crate::engine::…` instead), so no relative path can climb out of engine/.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=sio-server/src/engine
status=0

# Every `crate::` path that does not go on with `engine`, in code and in doc links alike.
offending=$(grep -rnoE '\bcrate::(\{|[A-Za-z_]+)' "$engine" | grep -vE ':crate::engine$' || true)
if [ -n "$offending" ]; then
  echo 'error: the engine layer names paths outside crate::engine:' >&2
  echo "$offending" >&2
  status=1
fi

climbing=$( (grep -HnE '\bsuper::' "$engine/mod.rs" || true; grep -rnE '\bsuper::super\b' "$engine" || true) )
if [ -n "$climbing" ]; then
  echo 'error: relative paths that may climb out of engine/ (use crate::engine::…):' >&2
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
