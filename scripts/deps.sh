#!/usr/bin/env bash
# Installs what the build needs and is missing, by package name only:
#  - Debian packages (apt) for the C libraries and tools (clang and its
#    libFuzzer runtime for the fuzz targets that make check runs);
#  - pinned npm packages: @node-llama-cpp/linux-x64 (prebuilt llama.cpp shared
#    libraries) and node-llama-cpp (carries the matching llama.cpp source as a
#    git bundle, whose headers we compile against);
#  - the e2e suite's pinned SDK (tests/e2e/package-lock.json).
# Idempotent: each step is skipped when its stamp or package is present.
set -euo pipefail
cd "$(dirname "$0")/.."
NLC_VERSION=3.21.1
LLAMA_COMMIT=80fb11a
APT_PKGS="gcc g++ make git pkg-config curl jq libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev sqlite3 clang libclang-rt-14-dev"
# Node.js may come from NodeSource (whose nodejs conflicts with Debian's npm
# package, carrying its own npm): ask apt for them only when absent.
command -v node >/dev/null 2>&1 || APT_PKGS="$APT_PKGS nodejs"
command -v npm >/dev/null 2>&1 || APT_PKGS="$APT_PKGS npm"

missing=""
for p in $APT_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

NPM_DIR=deps/npm
if [ ! -f "$NPM_DIR/.stamp-$NLC_VERSION" ]; then
  echo "deps: installing @node-llama-cpp/linux-x64@$NLC_VERSION and node-llama-cpp@$NLC_VERSION (npm, --ignore-scripts)"
  mkdir -p "$NPM_DIR"
  [ -f "$NPM_DIR/package.json" ] || echo '{"private":true}' > "$NPM_DIR/package.json"
  npm install --prefix "$NPM_DIR" --ignore-scripts --no-audit --no-fund --loglevel=error -E \
    "@node-llama-cpp/linux-x64@$NLC_VERSION" "node-llama-cpp@$NLC_VERSION"
  touch "$NPM_DIR/.stamp-$NLC_VERSION"
fi

SRC=build/llama.cpp
if [ ! -f "$SRC/.stamp-$LLAMA_COMMIT" ]; then
  echo "deps: cloning llama.cpp $LLAMA_COMMIT from node-llama-cpp's git bundle (headers, templates, vocabularies)"
  rm -rf "$SRC"; mkdir -p build
  git clone -q "$NPM_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle" "$SRC"
  git -C "$SRC" -c advice.detachedHead=false checkout -q "$LLAMA_COMMIT"
  touch "$SRC/.stamp-$LLAMA_COMMIT"
fi

# The stamp records the lock file's hash, so a changed lock reinstalls.
if [ -f tests/e2e/package-lock.json ]; then
  lock_sum=$(sha256sum tests/e2e/package-lock.json | cut -c1-16)
  if [ "$(cat tests/e2e/node_modules/.stamp 2>/dev/null)" != "$lock_sum" ]; then
    echo "deps: installing the e2e suite's pinned SDKs (npm ci)"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && echo "$lock_sum" > node_modules/.stamp)
  fi
fi
