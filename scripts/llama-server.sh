#!/usr/bin/env bash
# scripts/llama-server.sh in-tree LIBDIR | standalone DIR: builds llama.cpp's
# own llama-server from the same pinned source as scripts/llama.sh — the
# e2e's real upstream engine (tests/e2e/upstream-llama.test.mjs) and the
# upstream-hop bench's peer.
#   in-tree LIBDIR   the library build's own cmake tree (LIBDIR/cmake, made
#                    by scripts/llama.sh) configured again with the server on,
#                    and only the llama-server target built: ggml and llama
#                    are not compiled again, and the binary is under the
#                    library build's key (commit, CPU, GPU) with it. It stays
#                    in LIBDIR/cmake/bin, beside the build tree's libraries
#                    its RUNPATH ($ORIGIN-relative) names. The install
#                    (LIBDIR/prefix) is not touched.
#   standalone DIR   (LLAMA_PREFIX builds, which have no tree) a tree of its
#                    own, static, into DIR/llama-server: ggml and llama
#                    compiled again (~12 min on 2 cores).
# The Makefile calls it once; the binary is the stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:?usage: scripts/llama-server.sh in-tree LIBDIR | standalone DIR}
DIR=${2:?usage: scripts/llama-server.sh in-tree LIBDIR | standalone DIR}
SRC=$PWD/build/llama.cpp
server_args=(-DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF)
unset MAKEFLAGS MFLAGS MAKELEVEL
JOBS=${LLAMA_JOBS:-$(nproc)}
start=$(date +%s)
case "$MODE" in
  in-tree)
    TREE=$DIR/cmake
    [ -f "$TREE/CMakeCache.txt" ] || { echo "llama-server.sh: no library build in $TREE (make llama first)" >&2; exit 1; }
    made_in=$(sed -n 's/^CMAKE_CACHEFILE_DIR:INTERNAL=//p' "$TREE/CMakeCache.txt")
    if [ "$(realpath "$made_in" 2>/dev/null)" != "$(realpath "$TREE")" ]; then
      echo "llama-server.sh: $TREE was made in $made_in and moved since, which cmake cannot reuse;" \
           "remove $DIR to build the libraries and the server again" >&2
      exit 1
    fi
    LOG=$DIR/llama-server.log
    OUT=$TREE/bin/llama-server
    echo "llama-server.sh: building llama-server in the library's tree $TREE, $JOBS jobs; log: $LOG"
    # Only the cached options change: the libraries' flags stay as they are.
    # The tree's own source (its cache names it): -S would refuse a checkout
    # that moved.
    home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$TREE/CMakeCache.txt")
    build() { cmake -S "$home" -B "$TREE" "${server_args[@]}" && cmake --build "$TREE" -j "$JOBS" --target llama-server; }
    ;;
  standalone)
    TREE=$DIR/cmake
    LOG=$DIR/build.log
    OUT=$DIR/llama-server
    mkdir -p "$DIR"
    echo "llama-server.sh: building llama-server (its own tree) in $DIR, $JOBS jobs; log: $LOG"
    build() {
      cmake -S "$SRC" -B "$TREE" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_COMMON=ON \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF \
        -DGGML_OPENMP=OFF -DGGML_NATIVE=OFF -DGGML_CUDA=OFF "${server_args[@]}" &&
        cmake --build "$TREE" -j "$JOBS" --target llama-server && cp -f "$TREE/bin/llama-server" "$OUT"
    }
    ;;
  *) echo "llama-server.sh: unknown mode '$MODE'" >&2; exit 2 ;;
esac
if ! build >"$LOG" 2>&1; then
  tail -40 "$LOG" >&2
  echo "llama-server.sh: the build failed (whole log: $LOG)" >&2
  exit 1
fi
echo "llama-server.sh: built in $(( $(date +%s) - start )) s: $OUT"
