#!/usr/bin/env bash
# bench/mem/run.sh: interactd's resident memory beyond the model weights and
# the KV cache (issue 4, benchmark 6), idle and while HM_STREAMS (8) streams
# generate. Reads /proc/PID/status (VmRSS, RssAnon, RssFile) and
# /proc/PID/smaps (the resident part of the GGUF file's mapping = the
# weights, which llama.cpp's CPU backend uses in place), and takes the KV
# cache and compute buffer sizes from llama.cpp's own log lines (--verbose:
# "llama_kv_cache: size = ...", "CPU compute buffer size = ...", "model
# buffer size = ..." for any repacked weights copied out of the mapping).
#   overhead = VmRSS - weights mapped resident - repacked weights - KV cache
#              - kept turns
# where kept turns are the KV states interactd's prefix cache holds in RAM
# outside the contexts (GET /metrics: interactd_kvcache_ram_bytes, the
# engine's own accounting; bounded by --cache-ram), KV cache too.
# The compute buffer (llama.cpp's scratch for one batch) is left in the
# overhead and also shown on its own. If llama-server is built (or
# LLAMA_SERVER names one), it is measured the same way with the same model,
# slots, context and threads, as the reference of what llama.cpp itself holds. While streaming, RSS is sampled every
# 50 ms and the maximum is reported; "after" is 2 s after the streams end
# (turns kept by the prefix cache, --cache-ram, are also in it).
# Settings: HM_SIZE (135m), HM_PARALLEL (8), HM_CTX (2048 per stream),
# HM_STREAMS (8), HM_TOKENS (128), HM_THREADS (1), HM_RUNS (3),
# HM_CACHE_RAM (auto), IA_BIN (build/interactd), HM_PEER (1). Needs node >= 18, jq, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${HM_SIZE:-135m}
NP=${HM_PARALLEL:-8}
CTX=${HM_CTX:-2048}
NS=${HM_STREAMS:-8}
TOK=${HM_TOKENS:-128}
T=${HM_THREADS:-1}
RUNS=${HM_RUNS:-3}
CR=${HM_CACHE_RAM:-auto}
MODEL=bench/out/$SIZE.gguf
PORT=${HM_PORT:-18192}
# The peer, if built (bench/batch/build-llama-server.sh): same model, slots, context, threads.
LS=${LLAMA_SERVER:-build/llama-server/bin/llama-server}
# The interactd binary (another build can be compared); HM_PEER=0 skips llama-server.
IA_BIN=${IA_BIN:-build/interactd}
for tool in node jq curl; do command -v "$tool" >/dev/null || { echo "bench/mem: needs $tool" >&2; exit 1; }; done
mkdir -p bench/out
make --no-print-directory all >bench/out/build-mem.log 2>&1 || { cat bench/out/build-mem.log; exit 1; }
[ -f "$MODEL" ] || build/mkdemo --out "$MODEL" --size "$SIZE"
TMPD=$(mktemp -d)
SRV=
cleanup() { [ -n "$SRV" ] && { kill "$SRV" 2>/dev/null || true; wait "$SRV" 2>/dev/null || true; }; rm -rf "$TMPD"; }
trap cleanup EXIT
URL=http://127.0.0.1:$PORT

kb() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$SRV/status"; }
weights_kb() { awk -v f="$(basename "$MODEL")" '/^[0-9a-f]+-[0-9a-f]+ /{ m = (index($0, f) > 0) } m && /^Rss:/ { s += $2 } END { print s + 0 }' "/proc/$SRV/smaps"; }
mib_kb() { awk '{ printf "%d\n", $1 * 1024 }'; }   # MiB (float) -> kB
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; } # kB -> MB (10^6)

echo "== interactd memory benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "interactd: $IA_BIN, $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
echo "model:     $MODEL; --parallel $NP --ctx-size $CTX --threads $T --cache-ram $CR; $NS streams x $TOK tokens; $RUNS runs"
echo
echo "| server | run | state | VmRSS MB | weights mapped MB | repacked MB | KV cache MB | kept turns MB | other files (libs) MB | anon beyond KV MB | overhead MB | (compute buffer, allocated) MB |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
SERVERS=interactd
[ -x "$LS" ] && [ "${HM_PEER:-1}" != 0 ] && SERVERS="interactd llama-server"
for r in $(seq 1 "$RUNS"); do
  for S in $SERVERS; do
    rm -rf "$TMPD/data"
    if [ "$S" = interactd ]; then
        "$IA_BIN" serve --port "$PORT" --data "$TMPD/data" --model "m=$MODEL" --threads "$T" --parallel "$NP" \
            --ctx-size "$CTX" --cache-ram "$CR" --verbose >"$TMPD/server.log" 2>&1 &
        SRV=$!; H=$URL/healthz; KIND=interactd
    else
        "$LS" -m "$MODEL" -t "$T" -tb "$T" -np "$NP" -c $((NP * CTX)) --port "$PORT" --no-webui -lv 4 >"$TMPD/server.log" 2>&1 &
        SRV=$!; H=$URL/health; KIND=llama
    fi
    for _ in $(seq 1 600); do curl -sf -o /dev/null "$H" && break; sleep 0.1; done
    KV=$(sed -n 's/.*llama_kv_cache: size = *\([0-9.]*\) MiB.*/\1/p' "$TMPD/server.log" | awk '{ s += $1 } END { print s + 0 }' | mib_kb)
    CB=$(sed -n 's/.*compute buffer size = *\([0-9.]*\) MiB.*/\1/p' "$TMPD/server.log" | awk '{ s += $1 } END { print s + 0 }' | mib_kb)
    RP=$({ grep -a "model buffer size" "$TMPD/server.log" || true; } | { grep -v -e CPU_Mapped || true; } | sed -n 's/.*model buffer size = *\([0-9.]*\) MiB.*/\1/p' | awk '{ s += $1 } END { print s + 0 }' | mib_kb)
    kept_kb() { # interactd's prefix cache in RAM, kB (llama-server: 0, not exposed)
        [ "$KIND" = interactd ] || { echo 0; return; }
        curl -sf "$URL/metrics" | awk '/^interactd_kvcache_ram_bytes/ { s += $2 } END { printf "%d\n", s / 1024 }'
    }
    row() { # STATE RSS ANON FILE WEIGHTS KEPT
        echo "| $S | $r | $1 | $(mb "$2") | $(mb "$5") | $(mb "$RP") | $(mb "$KV") | $(mb "$6") | $(mb $(($4 - $5))) | $(mb $(($3 - KV - RP - $6))) | **$(mb $(($2 - $5 - RP - KV - $6)))** | $(mb "$CB") |"
    }
    # Idle: after one tiny request (so every lazily made structure exists).
    if [ "$S" = interactd ]; then
        curl -sf -o /dev/null "$URL/v1beta/interactions" -H 'content-type: application/json' \
            -d '{"model":"m","input":"hi","store":false,"generation_config":{"max_output_tokens":1}}'
    else
        curl -sf -o /dev/null "$URL/completion" -H 'content-type: application/json' -d '{"prompt":"hi","n_predict":1}'
    fi
    sleep 1
    row idle "$(kb VmRSS)" "$(kb RssAnon)" "$(kb RssFile)" "$(weights_kb)" "$(kept_kb)"
    node bench/batch/streams.mjs "$KIND" "$URL" m "$NS" "$TOK" 1 32 >"$TMPD/streams.json" &
    CL=$!
    maxr=0; maxa=0; maxw=0; maxf=0; maxk=0
    while kill -0 "$CL" 2>/dev/null; do
        v=$(kb VmRSS); if [ "$v" -gt "$maxr" ]; then maxr=$v; maxa=$(kb RssAnon); maxf=$(kb RssFile); maxw=$(weights_kb); maxk=$(kept_kb); fi
        sleep 0.05
    done
    wait "$CL"
    row "$NS streams (max)" "$maxr" "$maxa" "$maxf" "$maxw" "$maxk"
    sleep 2
    row "after" "$(kb VmRSS)" "$(kb RssAnon)" "$(kb RssFile)" "$(weights_kb)" "$(kept_kb)"
    echo "  (streams: $(jq -c '{agg_tok_s, tokens}' "$TMPD/streams.json"); threads: $(kb Threads))" >&2
    kill "$SRV"; wait "$SRV" 2>/dev/null || true; SRV=
  done
done
