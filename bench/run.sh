#!/usr/bin/env bash
# bench/run.sh: the server's single-stream decode speed against a bare
# llama.cpp decode loop (bench/bare_decode.c) on the same model, context size
# and thread count, plus this machine's memory read bandwidth (bench/membw.c)
# as a ceiling. Both sides are greedy and generate the same number of tokens
# after the same prompt text; both figures are the decode rate after the first
# token (bare_decode: gen_tps; server: the paired-request difference measured
# by bench/stream_client.mjs). See bench/README.md for what each number means.
#
# Settings (environment):
#   BENCH_THREADS  thread counts to run        default "1 2"
#   BENCH_TOKENS   tokens to generate (N)      default 256
#   BENCH_RUNS     runs per measurement        default 5 (medians are reported)
#   BENCH_CTX      context size, both sides    default 4096
#   BENCH_PROMPT   prompt text                 default "Once upon a time"
#   BENCH_SIZE     mkdemo model size           default 135m (demo|135m|500m)
#   BENCH_GGML_POOL=1  also time bare_decode with ggml's default (spinning)
#                  threadpool, for comparison with the engine's own pool
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${BENCH_THREADS:-"1 2"}
N=${BENCH_TOKENS:-256}
RUNS=${BENCH_RUNS:-5}
CTX=${BENCH_CTX:-4096}
PROMPT=${BENCH_PROMPT:-"Once upon a time"}
SIZE=${BENCH_SIZE:-135m}
GGML_POOL=${BENCH_GGML_POOL:-0}
MODEL=bench/out/$SIZE.gguf
NAME=m$SIZE

# --- build what is needed (quietly; the log is shown if it fails) ---------
mkdir -p bench/out
if ! make --no-print-directory all build/bare_decode >bench/out/build.log 2>&1; then
    cat bench/out/build.log >&2
    echo "bench: build failed" >&2
    exit 1
fi
[ -f "$MODEL" ] || build/mkdemo --out "$MODEL" --size "$SIZE"
if [ ! -x bench/out/membw ] || [ bench/membw.c -nt bench/out/membw ]; then
    cc -O3 -march=native -Wall -Wextra -Werror -pthread bench/membw.c -o bench/out/membw
fi

median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]; else print "nan"}'; }
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p"; } # value of key=value on a RESULT line

SRV_PID=""
TMPD=$(mktemp -d)
cleanup() {
    if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; fi
    rm -rf "$TMPD"
}
trap cleanup EXIT

# --- what this run is ----------------------------------------------------
LLAMA_KEY=$(make -s --no-print-directory llama-key)
echo "== interactd decode benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:     $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB memory"
echo "kernel:      $(uname -r)"
echo "interactd:   $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
echo "llama.cpp:   $LLAMA_KEY (build/llama-build/KEY: commit-CPU; LLAMA_CPU=native|variants, LLAMA_PREFIX)"
echo "model:       $MODEL ($SIZE random weights, $(stat -c %s "$MODEL") bytes on disk)"
echo "settings:    threads [$THREADS], N=$N tokens, ctx $CTX, greedy, $RUNS runs each (medians), prompt \"$PROMPT\""
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# --- memory bandwidth ------------------------------------------------------
declare -A BW
for t in $THREADS; do
    line=$(bench/out/membw --threads "$t" --passes 7 | grep '^RESULT')
    BW[$t]=$(echo "$line" | field best_gbs)
    echo "membw   threads=$t: best $(echo "$line" | field best_gbs) GB/s, median $(echo "$line" | field median_gbs) GB/s"
done
echo

# Bare and server runs alternate (bare, server pair, bare, server pair, ...)
# with the server up and idle during the bare runs (its pool sleeps), so a
# load change on this shared machine hits both sides alike.
declare -A BARE BARE_TOK SRV SRV_TOK SRV_IN SRV_FIRST GGML MBYTES PTOK
for t in $THREADS; do
    rm -rf "$TMPD/data"
    build/interactd serve --port 0 --data "$TMPD/data" --model "$NAME=$MODEL" --threads "$t" --contexts 1 \
        --ctx-size "$CTX" >"$TMPD/server.log" 2>&1 &
    SRV_PID=$!
    URL=""
    for _ in $(seq 600); do
        URL=$(sed -n 's/.*interactd listening on \(http:[^ ]*\).*/\1/p' "$TMPD/server.log")
        [ -n "$URL" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$URL" ]; then
        cat "$TMPD/server.log" >&2
        echo "bench: the server did not start" >&2
        exit 1
    fi
    : >"$TMPD/bare"
    : >"$TMPD/ggml"
    : >"$TMPD/srv"
    for _ in $(seq "$RUNS"); do
        build/bare_decode --model "$MODEL" --prompt "$PROMPT" -n "$N" --threads "$t" --ctx "$CTX" |
            grep '^RESULT' >>"$TMPD/bare"
        if [ "$GGML_POOL" = 1 ]; then
            build/bare_decode --model "$MODEL" --prompt "$PROMPT" -n "$N" --threads "$t" --ctx "$CTX" --poll -1 |
                grep '^RESULT' >>"$TMPD/ggml"
        fi
        # one warm-up pair and one measured pair per call
        node bench/stream_client.mjs "$URL" "$NAME" "$N" 1 "$PROMPT" >>"$TMPD/srv"
    done
    kill "$SRV_PID"
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=""

    BARE[$t]=$(field gen_tps <"$TMPD/bare" | median)
    BARE_TOK[$t]=$(field gen_tokens <"$TMPD/bare" | sort -g | head -1)
    PTOK[$t]=$(field prompt_tokens <"$TMPD/bare" | head -1)
    MBYTES[$t]=$(field model_bytes <"$TMPD/bare" | head -1)
    echo "bare    threads=$t: gen_tps $(field gen_tps <"$TMPD/bare" | tr '\n' ' ')-> median ${BARE[$t]} (gen_tokens min ${BARE_TOK[$t]}, prompt ${PTOK[$t]} tokens)"
    if [ "$GGML_POOL" = 1 ]; then
        GGML[$t]=$(field gen_tps <"$TMPD/ggml" | median)
        echo "bare, ggml's pool, threads=$t: gen_tps $(field gen_tps <"$TMPD/ggml" | tr '\n' ' ')-> median ${GGML[$t]}"
    fi
    SRV[$t]=$(jq -r .tok_s <"$TMPD/srv" | median)
    SRV_TOK[$t]=$(jq -r .min_tokens <"$TMPD/srv" | sort -g | head -1)
    SRV_IN[$t]=$(jq -r .input_tokens <"$TMPD/srv" | head -1)
    SRV_FIRST[$t]=$(jq -r .first_token_ms <"$TMPD/srv" | median)
    echo "server  threads=$t: tok/s $(jq -r .tok_s <"$TMPD/srv" | tr '\n' ' ')-> median ${SRV[$t]} (output tokens min ${SRV_TOK[$t]}, prompt ${SRV_IN[$t]} tokens after the chat template, 1-token request ${SRV_FIRST[$t]} ms, visible deltas $(jq -r .deltas <"$TMPD/srv" | head -1))"
    if [ "${BARE_TOK[$t]}" != "$N" ] || [ "${SRV_TOK[$t]}" != "$N" ]; then
        echo "WARNING: not all runs generated $N tokens (bare min ${BARE_TOK[$t]}, server min ${SRV_TOK[$t]}):" \
            "an end-of-generation token came early; try another BENCH_PROMPT" >&2
    fi
    echo "load now:    $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
done

# --- the table -------------------------------------------------------------
printf '| threads | bare llama.cpp tok/s | interactd tok/s | server/bare | tokens bare/server | mem BW GB/s | ceiling tok/s | bare/ceiling | server/ceiling |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for t in $THREADS; do
    awk -v t="$t" -v b="${BARE[$t]}" -v s="${SRV[$t]}" -v bt="${BARE_TOK[$t]}" -v st="${SRV_TOK[$t]}" \
        -v bw="${BW[$t]}" -v mb="${MBYTES[$t]}" 'BEGIN {
        ceil = bw * 1e9 / mb
        printf "| %d | %.1f | %.1f | %.2f | %d/%d | %.1f | %.0f | %.0f%% | %.0f%% |\n", t, b, s, s / b, bt, st, bw, ceil, 100 * b / ceil, 100 * s / ceil
    }'
done
echo
echo "model weights: ${MBYTES[${THREADS%% *}]} bytes (llama_model_size); ceiling = best read bandwidth / weight bytes"
if [ "$GGML_POOL" = 1 ]; then
    for t in $THREADS; do echo "bare with ggml's default threadpool, threads=$t: ${GGML[$t]} tok/s"; done
fi
