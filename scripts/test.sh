#!/usr/bin/env bash
# Runs every test of the project. Idempotent: installs what the tests need (npm packages, a Python
# venv) into ignored folders of the repository, then runs the whole suite. A missing system
# package is named, never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# System commands the test suite needs, as "command:debian-package".
required=(cargo:cargo)
[ -f tests/clients/js/package-lock.json ] && required+=(node:nodejs npm:npm)
[ -f tests/clients/py/requirements.txt ] && required+=(python3:python3)
[ -f tests/browser_chat.rs ] && required+=(chromium:chromium)
[ -f tests/redis_cluster.rs ] && required+=(redis-server:redis-server)

missing=()
for entry in "${required[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "error: the tests need these system packages: ${missing[*]}" >&2
  echo "       install them with: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

# npm clients, reinstalled only when the lockfile changed.
if [ -f tests/clients/js/package-lock.json ]; then
  stamp=tests/clients/js/node_modules/.installed-lock
  if ! cmp -s tests/clients/js/package-lock.json "$stamp" 2>/dev/null; then
    (cd tests/clients/js && npm ci --no-audit --no-fund)
    cp tests/clients/js/package-lock.json "$stamp"
  fi
fi

# Python clients in a venv each (python-socketio 5, and 4.6 for Socket.IO v2), rebuilt only
# when their requirements changed.
for clients in tests/clients/py tests/clients/py2; do
  [ -f "$clients/requirements.txt" ] || continue
  venv=$clients/.venv
  stamp=$venv/.installed-requirements
  if ! cmp -s "$clients/requirements.txt" "$stamp" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$clients/requirements.txt"
    cp "$clients/requirements.txt" "$stamp"
  fi
done

# The end-to-end tests start servers from the examples' binaries, which only `cargo build`
# produces (`cargo test` builds examples as test harnesses). Every feature is on, so the Redis
# layer and its cluster tests are built and run too.
cargo build --examples --all-features
cargo test --workspace --all-targets --all-features
cargo test --workspace --doc --all-features
