#!/usr/bin/env bash
# Installs what the build needs and is missing, by package name only:
#  - Debian packages (apt) for the C libraries and tools (cmake for llama.cpp;
#    clang and its libFuzzer runtime for the fuzz targets that make check runs;
#    bubblewrap and python3 for the code_execution tool's sandbox;
#    espeak-ng and libsoxr for speech output, sox for its tests; systemd for
#    systemd-analyze, which checks docs/interactd.service; xxd to embed the
#    web console; chromium and tmux for the console's and the terminal
#    chat's tests);
#  - the pinned llama.cpp source: node-llama-cpp's npm tarball carries it as a
#    git bundle (llama/gitRelease.bundle); `npm pack` fetches that one tarball
#    (no dependencies, no install scripts), its sha512 is checked against the
#    pin below, and the commit LLAMA_COMMIT is checked out of the bundle into
#    build/llama.cpp. scripts/llama.sh builds it (make does, cached);
#  - the e2e suite's pinned SDK (tests/e2e/package-lock.json).
# Idempotent: each step is skipped when its stamp or package is present.
set -euo pipefail
cd "$(dirname "$0")/.."
NLC_VERSION=3.21.1
NLC_SHA512=E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg==
LLAMA_COMMIT=80fb11a
APT_PKGS="gcc g++ make cmake git pkg-config curl jq libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev sqlite3 clang libclang-rt-14-dev libcurl4-openssl-dev ffmpeg groff libpoppler-glib-dev libcairo2-dev bubblewrap python3 libxml2-dev libespeak-ng-dev libsoxr-dev sox systemd xxd chromium tmux postgresql libpq-dev nginx-light"
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

SRC=build/llama.cpp
if [ ! -f "$SRC/.stamp-$LLAMA_COMMIT" ]; then
  TGZ=deps/node-llama-cpp-$NLC_VERSION.tgz
  mkdir -p deps build
  if [ ! -f "$TGZ" ]; then
    echo "deps: fetching node-llama-cpp@$NLC_VERSION (npm pack: the tarball alone, for its llama.cpp git bundle)"
    tmp=$(mktemp -d deps/.pack.XXXXXX)
    (cd "$tmp" && npm pack --silent --loglevel=error "node-llama-cpp@$NLC_VERSION" >/dev/null)
    mv "$tmp"/node-llama-cpp-"$NLC_VERSION".tgz "$TGZ.part"
    rmdir "$tmp"
    sum=$(openssl dgst -sha512 -binary "$TGZ.part" | base64 -w0)
    if [ "$sum" != "$NLC_SHA512" ]; then
      echo "deps: node-llama-cpp-$NLC_VERSION.tgz: sha512 $sum, expected $NLC_SHA512" >&2
      rm -f "$TGZ.part"; exit 1
    fi
    mv "$TGZ.part" "$TGZ"
  fi
  echo "deps: cloning llama.cpp $LLAMA_COMMIT from node-llama-cpp's git bundle"
  tmp=$(mktemp -d deps/.bundle.XXXXXX)
  tar -xzf "$TGZ" -C "$tmp" package/llama/gitRelease.bundle
  rm -rf "$SRC"
  git -c advice.detachedHead=false clone -q "$tmp/package/llama/gitRelease.bundle" "$SRC"
  rm -rf "$tmp"
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
