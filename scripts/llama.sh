#!/usr/bin/env bash
# scripts/llama.sh DIR CPU GPU [CUDA_ARCHS]: builds llama.cpp (ggml, llama, llama-common,
# mtmd) from the pinned source that scripts/deps.sh checked out in
# build/llama.cpp, with cmake, and installs it into DIR/prefix (include/,
# lib/). The Makefile calls it once per cache key (commit, CPU, GPU: the
# folder DIR is named after them) and keeps a stamp, so a second `make` does
# nothing; rerun by hand it is incremental (cmake's own dependency checks).
#
#   CPU  native    one CPU backend for this machine's instruction set
#                  (GGML_NATIVE: -march=native), linked into libggml
#        variants  every x86-64 CPU variant as a loadable module
#                  (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS, as the npm
#                  prebuilt): the best one for the machine it runs on is
#                  picked at start-up, so the build runs on any x86-64
#   GPU  none | cuda   (cuda: GGML_CUDA, needs nvcc; CUDA_ARCHS, e.g. "90",
#                  picks the architectures; without it the GPU seen at
#                  build time, or where none is, ggml's portable list).
#                  Untested beyond cmake's configure step (no GPU here).
# LLAMA_CONFIGURE_ONLY=1 stops after cmake's configure step.
#
# Shared libraries, each with RUNPATH $ORIGIN (finds its siblings wherever
# the folder is moved); no path of the build tree compiled in
# (-ffile-prefix-map, no GGML_BACKEND_DIR): the server finds the backend
# modules beside libggml at run time (src/engine/llama.c). OpenMP off: the
# engine runs ggml's own threadpool, whose idle threads sleep.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:?usage: scripts/llama.sh DIR native|variants none|cuda}
CPU=${2:-native}
GPU=${3:-none}
CUDA_ARCHS=${4:-}
SRC=$PWD/build/llama.cpp
ROOT=$PWD

args=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=ON
  -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_MTMD=ON
  -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
  -DLLAMA_OPENSSL=OFF
  -DGGML_OPENMP=OFF
  -DCMAKE_INSTALL_PREFIX="$ROOT/$DIR/prefix" -DCMAKE_INSTALL_LIBDIR=lib
  -DCMAKE_INSTALL_RPATH='$ORIGIN' -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON
  "-DCMAKE_C_FLAGS=-ffile-prefix-map=$SRC=llama.cpp -ffile-prefix-map=$ROOT/$DIR=llama-build"
  "-DCMAKE_CXX_FLAGS=-ffile-prefix-map=$SRC=llama.cpp -ffile-prefix-map=$ROOT/$DIR=llama-build"
)
case "$CPU" in
  native)   args+=(-DGGML_NATIVE=ON -DGGML_BACKEND_DL=OFF) ;;
  variants) args+=(-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON) ;;
  *) echo "llama.sh: CPU must be native or variants, not '$CPU'" >&2; exit 2 ;;
esac
case "$GPU" in
  none|"") args+=(-DGGML_CUDA=OFF) ;;
  cuda)
    NVCC=$(command -v nvcc || true)
    [ -n "$NVCC" ] || for d in /usr/local/cuda/bin /usr/lib/cuda/bin; do [ -x "$d/nvcc" ] && NVCC=$d/nvcc && break; done
    if [ -z "$NVCC" ]; then
      echo "llama.sh: GPU=cuda needs nvcc (the CUDA toolkit) on PATH or in /usr/local/cuda/bin" >&2
      exit 1
    fi
    args+=(-DGGML_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC")
    if [ -z "$CUDA_ARCHS" ] && ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
      CUDA_ARCHS="75-virtual;80-virtual;86-real;89-real;90-virtual"   # ggml's own list, CUDA >= 11.8
    fi
    [ -z "$CUDA_ARCHS" ] || args+=(-DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCHS")
    ;;
  *) echo "llama.sh: GPU must be none or cuda, not '$GPU'" >&2; exit 2 ;;
esac

# Called from make: the inner build runs its own parallel jobs.
unset MAKEFLAGS MFLAGS MAKELEVEL
JOBS=${LLAMA_JOBS:-$(nproc)}
mkdir -p "$DIR"
echo "llama.sh: building llama.cpp $(git -C "$SRC" rev-parse --short HEAD) ($CPU CPU, GPU $GPU) in $DIR," \
     "$JOBS jobs; log: $DIR/build.log"
start=$(date +%s)
if [ "${LLAMA_CONFIGURE_ONLY:-0}" = 1 ]; then
  cmake -S "$SRC" -B "$DIR/cmake" "${args[@]}" >"$DIR/build.log" 2>&1 || { tail -40 "$DIR/build.log" >&2; exit 1; }
  echo "llama.sh: configured (LLAMA_CONFIGURE_ONLY=1): $DIR/cmake"
  exit 0
fi
if ! { cmake -S "$SRC" -B "$DIR/cmake" "${args[@]}" &&
       cmake --build "$DIR/cmake" -j "$JOBS" &&
       cmake --install "$DIR/cmake"; } >"$DIR/build.log" 2>&1; then
  tail -40 "$DIR/build.log" >&2
  echo "llama.sh: the llama.cpp build failed (whole log: $DIR/build.log)" >&2
  exit 1
fi
# The loadable backends (GGML_BACKEND_DL) install to bin/; they go beside
# libggml, where the server looks for them.
shopt -s nullglob
for f in "$DIR"/prefix/bin/libggml-*.so; do mv -f "$f" "$DIR/prefix/lib/"; done
echo "llama.sh: built in $(( $(date +%s) - start )) s: $(cd "$DIR/prefix/lib" && ls lib*.so | tr '\n' ' ')"
