#!/usr/bin/env bash
# bench/batch/run.sh: concurrency and prefix-reuse benchmarks.
#  1. Aggregate generated tokens/s and median time to first token at 1, 2, 4
#     and 8 concurrent streams, interactd against llama-server (built from
#     the same llama.cpp source bundle, bench/batch/build-llama-server.sh),
#     same model, threads and per-stream context; both servers are up
#     together and the measurements alternate, so load drift hits both.
#  2. Time to first token of the turn continuing a chain of ~512, 2048 and
#     8192 tokens: with previous_interaction_id, with a stateless resend of
#     the history, after a server restart (state from disk), and cold
#     (--prefix-cache off).
# Settings (environment): BB_THREADS (2: llama-server's threads, and all of
# interactd's), BB_LAYOUT (interactd's layout flags; default "--contexts 0
# --threads 0", the automatic layout, which splits the same cores into
# contexts; e.g. "--threads 2" for one 2-thread context), BB_TOKENS (64), BB_RUNS (3),
# BB_WORDS (prompt words, 32), BB_STREAMS ("1 2 4 8"), BB_CTX (per stream,
# 2048), BB_HIST ("512 2048 8192"), BB_SIZE (135m), BB_SKIP (streams|chain).
set -euo pipefail
cd "$(dirname "$0")/../.."

T=${BB_THREADS:-2}
LAYOUT=${BB_LAYOUT:-"--contexts 0 --threads 0"}
TOK=${BB_TOKENS:-64}
RUNS=${BB_RUNS:-3}
WORDS=${BB_WORDS:-32}
STREAMS=${BB_STREAMS:-"1 2 4 8"}
CTX=${BB_CTX:-2048}
HIST=${BB_HIST:-"512 2048 8192"}
SIZE=${BB_SIZE:-135m}
SKIP=${BB_SKIP:-}
MODEL=bench/out/$SIZE.gguf
LS=build/llama-server/bin/llama-server
NP=8

mkdir -p bench/out
make --no-print-directory all >bench/out/build-batch.log 2>&1 || { cat bench/out/build-batch.log; exit 1; }
[ -f "$MODEL" ] || build/mkdemo --out "$MODEL" --size "$SIZE"
TMPD=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$TMPD"
}
trap cleanup EXIT

wait_http() { # URL
    for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
    echo "server at $1 did not come up" >&2; return 1
}
start_interactd() { # PORT DATA extra-args...
    local port=$1 data=$2; shift 2
    # shellcheck disable=SC2086 # LAYOUT is a list of flags
    build/interactd serve --port "$port" --data "$data" --model "m=$MODEL" $LAYOUT "$@" \
        >>"$TMPD/interactd.log" 2>&1 &
    SRV=$!
    PIDS+=("$SRV")
    wait_http "http://127.0.0.1:$port/healthz"
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

echo "== interactd batching benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs"
echo "interactd: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
echo "model:     $MODEL ($SIZE random weights); threads $T; greedy"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$SKIP" != streams ]; then
    [ -x "$LS" ] || { echo "no $LS: run bench/batch/build-llama-server.sh" >&2; exit 1; }
    echo
    echo "-- streams: $TOK tokens each, $WORDS-word unique prompts, $RUNS runs (medians); both servers $NP slots x $CTX ctx"
    start_interactd 18181 "$TMPD/d1" --parallel $NP --ctx-size "$CTX"
    IA=$SRV
    echo "interactd layout: $(grep -o 'model m: [0-9]* contexts\? of [0-9]* threads\?' "$TMPD/interactd.log" | tail -1) ($LAYOUT); llama-server: -t $T -tb $T -np $NP"
    "$LS" -m "$MODEL" -t "$T" -tb "$T" -np $NP -c $((NP * CTX)) --port 18182 --no-webui >"$TMPD/ls.log" 2>&1 &
    LSP=$!
    PIDS+=("$LSP")
    wait_http http://127.0.0.1:18182/health
    echo "| streams | interactd tok/s | llama-server tok/s | ratio | interactd TTFT ms | llama-server TTFT ms |"
    echo "|---|---|---|---|---|---|"
    for n in $STREAMS; do
        a=$(node bench/batch/streams.mjs interactd http://127.0.0.1:18181 m "$n" "$TOK" "$RUNS" "$WORDS")
        b=$(node bench/batch/streams.mjs llama http://127.0.0.1:18182 m "$n" "$TOK" "$RUNS" "$WORDS")
        echo "$a" >>"$TMPD/streams.jsonl"; echo "$b" >>"$TMPD/streams.jsonl"
        at=$(jq .agg_tok_s <<<"$a"); bt=$(jq .agg_tok_s <<<"$b")
        echo "| $n | $at | $bt | $(awk -v a="$at" -v b="$bt" 'BEGIN{printf "%.2f", a/b}') | $(jq .ttft_ms <<<"$a") | $(jq .ttft_ms <<<"$b") |"
    done
    echo "(raw: $(tr '\n' ' ' <"$TMPD/streams.jsonl"))"
    stop "$IA"; stop "$LSP"
fi

if [ "$SKIP" != chain ]; then
    echo
    echo "-- chained turns: TTFT of turn 2 (8 new words), $RUNS chains each (medians); ctx 10240, parallel 2"
    echo "| history tokens | previous_interaction_id | stateless resend | after restart (disk) | cold (cache off) | cached tokens |"
    echo "|---|---|---|---|---|---|"
    for h in $HIST; do
        start_interactd 18183 "$TMPD/c-$h" --parallel 2 --ctx-size 10240
        p=$(node bench/batch/chain.mjs http://127.0.0.1:18183 m "$h" "$RUNS" prev)
        r=$(node bench/batch/chain.mjs http://127.0.0.1:18183 m "$h" "$RUNS" resend)
        node bench/batch/chain.mjs http://127.0.0.1:18183 m "$h" "$RUNS" first "$TMPD/ids-$h.json"
        stop "$SRV"
        start_interactd 18183 "$TMPD/c-$h" --parallel 2 --ctx-size 10240
        d=$(node bench/batch/chain.mjs http://127.0.0.1:18183 m "$h" "$RUNS" second "$TMPD/ids-$h.json")
        stop "$SRV"
        start_interactd 18183 "$TMPD/cold-$h" --parallel 2 --ctx-size 10240 --prefix-cache off
        c=$(node bench/batch/chain.mjs http://127.0.0.1:18183 m "$h" "$RUNS" prev)
        stop "$SRV"
        echo "| $(jq .history_tokens <<<"$p") | $(jq .ttft_ms <<<"$p") | $(jq .ttft_ms <<<"$r") | $(jq .ttft_ms <<<"$d") | $(jq .ttft_ms <<<"$c") | $(jq .cached <<<"$p") / $(jq .cached <<<"$r") / $(jq .cached <<<"$d") / $(jq .cached <<<"$c") |"
    done
fi
