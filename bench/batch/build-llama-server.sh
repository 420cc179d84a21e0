#!/usr/bin/env bash
# Builds llama-server (and only it) from the llama.cpp source bundle that
# scripts/deps.sh put in build/llama.cpp, into build/llama-server, for the
# benchmarks' peer. About 6 minutes on 2 cores; never part of make test.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S build/llama.cpp -B build/llama-server -DCMAKE_BUILD_TYPE=Release -DLLAMA_USE_PREBUILT_UI=OFF \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF
cmake --build build/llama-server --target llama-server -j"$(nproc)"
echo "built build/llama-server/bin/llama-server"
