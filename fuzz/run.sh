#!/usr/bin/env bash
# Runs every fuzz target in turn with the address sanitizer, for a number of executions each
# (10 million unless given), from seed corpora built from the test vectors. Needs the nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
#
#   fuzz/run.sh [runs per target] [target ...]
set -euo pipefail
cd "$(dirname "$0")"

runs=${1:-10000000}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

python3 seeds.py
export ASAN_OPTIONS=quarantine_size_mb=32:detect_leaks=1
for target in "${targets[@]}"; do
  echo "== $target: $runs runs"
  cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -runs="$runs" -max_len=65536 -rss_limit_mb=1024 -malloc_limit_mb=64 -print_final_stats=1 \
    2>&1 | tee "run-$target.log" | grep -E '^(#[0-9]+\s+DONE|stat::number_of_executed_units|==|SUMMARY|artifact_prefix|Test unit written)' || true
  if grep -qE 'SUMMARY|Test unit written|panicked' "run-$target.log"; then
    echo "== $target: a finding; see fuzz/run-$target.log and fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
