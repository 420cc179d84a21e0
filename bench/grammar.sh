#!/usr/bin/env bash
# bench/grammar.sh: the cost of structured output's grammar in decode speed
# (bench/grammar_cost.c): the same model, prompt and seeds with and without
# the grammar of the guide's moderation schema, on the demo model (599-token
# vocabulary: the grammar's per-token work is all there is) and on the
# 135M-parameter mkdemo model (32000-token vocabulary, real matrix work).
# Settings: GRAMMAR_RUNS (default 5), GRAMMAR_TOKENS (default 128).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${GRAMMAR_RUNS:-5}
N=${GRAMMAR_TOKENS:-128}
mkdir -p bench/out
make --no-print-directory all build/grammar_cost >bench/out/grammar-build.log 2>&1 || { cat bench/out/grammar-build.log >&2; exit 1; }
[ -f bench/out/135m.gguf ] || build/mkdemo --out bench/out/135m.gguf --size 135m >/dev/null
echo "cores: $(nproc); $(date -u +%Y-%m-%dT%H:%MZ)"
for m in build/demo.gguf bench/out/135m.gguf; do
    echo "== $m ($RUNS runs per mode, at most $N tokens each)"
    build/grammar_cost "$m" "$RUNS" "$N" 2>/dev/null
done
