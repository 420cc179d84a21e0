#!/usr/bin/env bash
# bench/http/run.sh: HTTP and store overhead of interactd (issue 4, benchmark 5).
#  1. GET /v1beta/interactions/{id} of a stored interaction with wrk: requests/s
#     and p50/p99 latency at HB_CONNS (64) connections, HB_RUNS runs of
#     HB_DURATION each (medians). For comparison, in the same way: GET /healthz
#     (HTTP layer only, no store, tiny JSON) and GET of an unknown id (404:
#     HTTP + id decoding + a store lookup that finds nothing).
#  2. Latency of a create (non-streaming POST, max_output_tokens 1) against
#     the demo model, store on and off, sequential on one keep-alive
#     connection (bench/http/create.mjs), against the engine's own time for
#     the same work: build/bare_decode's prefill of the same number of tokens
#     plus one sample+decode step, on the same model and threads. This part
#     runs on a second server with --prefix-cache off, so that every create
#     prefills its whole prompt as bare_decode does (with the cache on, the
#     repeated prompt would be served from the cache: all but 1 token).
# Settings (environment): HB_THREADS (1: --threads of the server, the
# engine's compute threads), HB_CONNS (64), HB_WRK_THREADS (2), HB_DURATION
# (10s), HB_RUNS (5), HB_CREATES (300), HB_MODEL (build/demo.gguf).
# Needs: wrk (Debian package wrk), node >= 18, jq, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."

T=${HB_THREADS:-1}
CONNS=${HB_CONNS:-64}
WT=${HB_WRK_THREADS:-2}
DUR=${HB_DURATION:-10s}
RUNS=${HB_RUNS:-5}
NC=${HB_CREATES:-300}
MODEL=${HB_MODEL:-build/demo.gguf}
PORT=${HB_PORT:-18191}

for tool in wrk node jq curl; do
    command -v "$tool" >/dev/null || { echo "bench/http: needs $tool (wrk: apt-get install wrk)" >&2; exit 1; }
done
mkdir -p bench/out
make --no-print-directory all build/bare_decode >bench/out/build-http.log 2>&1 || { cat bench/out/build-http.log; exit 1; }
[ -f "$MODEL" ] || { echo "no $MODEL" >&2; exit 1; }

TMPD=$(mktemp -d)
SRV=
cleanup() { [ -n "$SRV" ] && { kill "$SRV" 2>/dev/null || true; wait "$SRV" 2>/dev/null || true; }; rm -rf "$TMPD"; }
trap cleanup EXIT
URL=http://127.0.0.1:$PORT
build/interactd serve --port "$PORT" --data "$TMPD/data" --model "m=$MODEL" --threads "$T" >"$TMPD/server.log" 2>&1 &
SRV=$!
for _ in $(seq 1 300); do curl -sf -o /dev/null "$URL/healthz" && break; sleep 0.1; done

echo "== interactd HTTP/store benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "interactd: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
echo "model:     $MODEL; server --threads $T; wrk -t$WT -c$CONNS -d$DUR, $RUNS runs (medians)"

# A stored interaction to read: the demo model's one-token answer (a few hundred bytes of JSON).
ID=$(curl -sf "$URL/v1beta/interactions" -H 'content-type: application/json' \
    -d '{"model":"m","input":"Once upon a time","generation_config":{"max_output_tokens":8}}' | jq -r .id)
BYTES=$(curl -sf "$URL/v1beta/interactions/$ID" | wc -c)
echo "stored interaction: $ID ($BYTES bytes of JSON)"

# wrk --latency output -> "rps p50_ms p99_ms errors"
wrk_once() { # PATH
    local out
    out=$(wrk -t"$WT" -c"$CONNS" -d"$DUR" --latency "$URL$1")
    echo "$out" >>"$TMPD/wrk.log"
    awk '
        function ms(v) { if (v ~ /us$/) return v * 0.001; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
        /Non-2xx or 3xx responses/ { non2xx = $NF } /Socket errors/ { serr = $0 }
        END { printf "%.0f %.3f %.3f %s\n", rps, p50, p99, (serr != "" ? "sockerr" : "ok") }' <<<"$out"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo
echo "-- GET at $CONNS connections"
echo "| path | runs rps | median req/s | median p50 ms | median p99 ms |"
echo "|---|---|---:|---:|---:|"
for what in interaction healthz unknown; do
    case $what in
        interaction) P="/v1beta/interactions/$ID" ;;
        healthz) P=/healthz ;;
        unknown) P="/v1beta/interactions/v1_${ID:3:20}Xunknown" ;;
    esac
    : >"$TMPD/r"
    for _ in $(seq 1 "$RUNS"); do wrk_once "$P" >>"$TMPD/r"; done
    echo "| $what | $(cut -d' ' -f1 "$TMPD/r" | tr '\n' ' ') | $(cut -d' ' -f1 "$TMPD/r" | median) | $(cut -d' ' -f2 "$TMPD/r" | median) | $(cut -d' ' -f3 "$TMPD/r" | median) |"
    grep -q sockerr "$TMPD/r" && echo "  (socket errors in some runs: see wrk output)"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1beta/interactions/v1_${ID:3:20}Xunknown")" != 200 ] ||
    echo "warning: the 'unknown' id was found" >&2
echo "server threads after the GET runs: $(grep Threads /proc/$SRV/status | awk '{print $2}'); RSS $(grep VmRSS /proc/$SRV/status | awk '{print $2, $3}')"

kill "$SRV"; wait "$SRV" 2>/dev/null || true
build/interactd serve --port "$PORT" --data "$TMPD/data2" --model "m=$MODEL" --threads "$T" --prefix-cache off \
    >"$TMPD/server.log" 2>&1 &
SRV=$!
for _ in $(seq 1 300); do curl -sf -o /dev/null "$URL/healthz" && break; sleep 0.1; done
echo
echo "-- create (POST, max_output_tokens 1, non-streaming, --prefix-cache off), $NC sequential on one connection"
echo "| store | client p50 ms | p90 ms | p99 ms | server-logged p50 ms | GET /healthz p50 ms | input tokens | cached |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for st in true false; do
    : >"$TMPD/server.log"
    j=$(node bench/http/create.mjs "$URL" m "$NC" "$st")
    slog=$(grep -a 'POST /v1beta/interactions 200' "$TMPD/server.log" | sed -n 's/.* 200 \([0-9.]*\)ms.*/\1/p' | median)
    echo "| $st | $(jq .p50_ms <<<"$j") | $(jq .p90_ms <<<"$j") | $(jq .p99_ms <<<"$j") | $slog | $(jq .healthz_p50_ms <<<"$j") | $(jq .input_tokens <<<"$j") | $(jq .cached_tokens <<<"$j") |"
    NIN=$(jq .input_tokens <<<"$j")
done
# Engine time: the bare loop's prefill rate at about the same prompt length,
# scaled to the server's prompt tokens, plus one sample+decode step.
: >"$TMPD/e"
for _ in $(seq 1 7); do
    build/bare_decode --model "$MODEL" --threads "$T" -n 1 \
        --prompt "Once upon a time there was a little cat who sat on a warm mat" | tail -1 >>"$TMPD/e"
done
eng=$(awk -v n="$NIN" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.3f\n", n / v["prompt_tps"] * 1000 + 1000 / v["gen_tps"] }' "$TMPD/e" | median)
echo "engine (bare_decode: prefill of $NIN tokens at its measured rate + 1 sample/decode step), median of 7: $eng ms"
