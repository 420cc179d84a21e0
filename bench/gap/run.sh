#!/usr/bin/env bash
# bench/gap/run.sh: p99 gap between tokens of 4 running streams while a
# ~4,096-token prompt arrives (issue 4, benchmark 3), interactd against
# llama-server on the same model, threads and per-slot context, both servers
# up together and the runs alternating (interactd run, llama-server run, ...)
# so load drift on a shared machine hits both. The model is the demo
# generator's GB_SIZE model passed through bench/gap/mkvisible.py, so every
# sampled token is a visible text frame on both servers (see there).
# interactd prefills a long prompt in chunks (512 tokens by default) batched
# with the running sequences' next tokens; llama-server fills each step with
# up to n_batch (2048) prompt tokens.
# Settings: GB_THREADS (1), GB_RUNS (3), GB_WORDS (1990 words: ~4,100 tokens
# with either server's framing), GB_STREAMS (4), GB_CTX (per slot, 6144),
# GB_SIZE (135m), LLAMA_SERVER (build/llama-server/bin/llama-server; built
# by bench/batch/build-llama-server.sh). Needs node >= 18, jq, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${GB_THREADS:-1}
# interactd's layout flags; default: --threads T (one context of T threads
# when T fills the machine, else cores / T single contexts). E.g.
# GB_LAYOUT="--contexts 0 --threads 0" for the automatic layout.
LAYOUT=${GB_LAYOUT:-"--threads $T"}
RUNS=${GB_RUNS:-3}
WORDS=${GB_WORDS:-1990}
NS=${GB_STREAMS:-4}
CTX=${GB_CTX:-6144}
SIZE=${GB_SIZE:-135m}
LS=${LLAMA_SERVER:-build/llama-server/bin/llama-server}
NP=$((NS + 1))
for tool in node jq curl python3; do command -v "$tool" >/dev/null || { echo "bench/gap: needs $tool" >&2; exit 1; }; done
mkdir -p bench/out
make --no-print-directory all >bench/out/build-gap.log 2>&1 || { cat bench/out/build-gap.log; exit 1; }
[ -f "bench/out/$SIZE.gguf" ] || build/mkdemo --out "bench/out/$SIZE.gguf" --size "$SIZE"
MODEL=bench/out/$SIZE-vis.gguf
[ "$MODEL" -nt "bench/out/$SIZE.gguf" ] && [ "$MODEL" -nt bench/gap/mkvisible.py ] ||
    python3 bench/gap/mkvisible.py "bench/out/$SIZE.gguf" "$MODEL"
HAVE_LS=1
[ -x "$LS" ] || { HAVE_LS=0; echo "no $LS (bench/batch/build-llama-server.sh): interactd only" >&2; }

TMPD=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$TMPD"
}
trap cleanup EXIT
wait_http() { for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no server at $1" >&2; return 1; }

# shellcheck disable=SC2086 # LAYOUT is a list of flags
build/interactd serve --port 18193 --data "$TMPD/d" --model "m=$MODEL" $LAYOUT --parallel "$NP" \
    --ctx-size "$CTX" >"$TMPD/interactd.log" 2>&1 &
PIDS+=($!)
wait_http http://127.0.0.1:18193/healthz
echo "interactd layout: $(grep -o 'model m: [0-9]* contexts\? of [0-9]* threads\?' "$TMPD/interactd.log" | tail -1) ($LAYOUT)"
if [ "$HAVE_LS" = 1 ]; then
    "$LS" -m "$MODEL" -t "$T" -tb "$T" -np "$NP" -c $((NP * CTX)) --port 18194 --no-webui >"$TMPD/ls.log" 2>&1 &
    PIDS+=($!)
    wait_http http://127.0.0.1:18194/health
fi

echo "== token-gap benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "interactd: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
echo "model:     $MODEL; threads $T; $NP slots x $CTX ctx; $NS streams (temperature 1) + one $WORDS-word prompt; $RUNS runs"
for r in $(seq 1 "$RUNS"); do
    node bench/gap/gap.mjs interactd http://127.0.0.1:18193 m 1 "$WORDS" "$NS" >>"$TMPD/interactd.jsonl"
    if [ "$HAVE_LS" = 1 ]; then
        node bench/gap/gap.mjs llama http://127.0.0.1:18194 m 1 "$WORDS" "$NS" >>"$TMPD/llama.jsonl"
    fi
done
agg() { # FILE KEY -> median over runs
    jq -s --arg k "$2" 'map(.[$k]) | sort | .[(length - 1) / 2 | floor]' "$1"
}
echo
echo "| server | prompt tokens | steady gap p50 ms | gap during prompt p50 ms | p99 ms | max ms | prompt sent -> answered ms | per-run p99 ms |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for s in interactd llama; do
    f=$TMPD/$s.jsonl
    [ -s "$f" ] || continue
    echo "| $s | $(agg "$f" prompt_tokens) | $(agg "$f" before_p50_ms) | $(agg "$f" during_p50_ms) | $(agg "$f" during_p99_ms) | $(agg "$f" during_max_ms) | $(agg "$f" prompt_ms) | $(jq -s -r 'map(.during_p99_ms | tostring) | join(", ")' "$f") |"
done
if [ "$HAVE_LS" = 1 ]; then
    echo
    echo "interactd p99 / llama-server p99 = $(awk -v a="$(agg "$TMPD/interactd.jsonl" during_p99_ms)" -v b="$(agg "$TMPD/llama.jsonl" during_p99_ms)" 'BEGIN { printf "%.2f", a / b }') (goal <= 0.5)"
fi
echo "(raw: $(cat "$TMPD"/*.jsonl | jq -c '{kind, per_run}' | tr '\n' ' '))"
