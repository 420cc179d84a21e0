#!/usr/bin/env bash
# scripts/llama-server.sh DIR: builds llama.cpp's own llama-server (the
# e2e's real upstream engine, tests/e2e/upstream-llama.test.mjs, and the
# upstream-hop bench) from the same pinned source as scripts/llama.sh, into
# DIR/llama-server. Its own cmake tree, apart from the library build: that
# one's target list (no tools) stays as it is, and its folder is shared. The
# Makefile calls it once per llama.cpp commit (DIR is named after it) and
# keeps a stamp. Static (BUILD_SHARED_LIBS=OFF): one self-contained file,
# CPU only (the tests' upstream runs the random-weight demo model).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:?usage: scripts/llama-server.sh DIR}
SRC=$PWD/build/llama.cpp
args=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=OFF
  -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_OPENSSL=OFF -DGGML_OPENMP=OFF -DGGML_NATIVE=ON -DGGML_CUDA=OFF
)
unset MAKEFLAGS MFLAGS MAKELEVEL
JOBS=${LLAMA_JOBS:-$(nproc)}
mkdir -p "$DIR"
echo "llama-server.sh: building llama-server $(git -C "$SRC" rev-parse --short HEAD) in $DIR, $JOBS jobs; log: $DIR/build.log"
start=$(date +%s)
if ! { cmake -S "$SRC" -B "$DIR/cmake" "${args[@]}" &&
       cmake --build "$DIR/cmake" -j "$JOBS" --target llama-server; } >"$DIR/build.log" 2>&1; then
  tail -40 "$DIR/build.log" >&2
  echo "llama-server.sh: the build failed (whole log: $DIR/build.log)" >&2
  exit 1
fi
cp -f "$DIR/cmake/bin/llama-server" "$DIR/llama-server"
echo "llama-server.sh: built in $(( $(date +%s) - start )) s: $DIR/llama-server"
