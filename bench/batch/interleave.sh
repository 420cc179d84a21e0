#!/usr/bin/env bash
# bench/batch/interleave.sh: aggregate tok/s at 1, 2, 4 and 8 streams of
# three servers up together — interactd with the automatic (load-following)
# layout, interactd as one context of all threads, llama-server built from
# the same llama.cpp source — one run of each in turn, IL_ROUNDS rounds per
# stream count, so a drift of this VM's speed hits all three alike. Prints
# medians of tok/s and of the per-round ratio to llama-server.
# Settings (environment): IL_ROUNDS (9), IL_STREAMS ("1 2 4 8"), IL_THREADS
# (2), IL_SIZE (135m), IL_TOKENS (64), IL_WORDS (32).
set -euo pipefail
cd "$(dirname "$0")/../.."
R=${IL_ROUNDS:-9}
T=${IL_THREADS:-2}
SIZE=${IL_SIZE:-135m}
TOK=${IL_TOKENS:-64}
WORDS=${IL_WORDS:-32}
MODEL=bench/out/$SIZE.gguf
LS=build/llama-server/bin/llama-server
[ -x "$LS" ] || { echo "no $LS: run bench/batch/build-llama-server.sh" >&2; exit 1; }
make --no-print-directory all >/dev/null
mkdir -p bench/out
[ -f "$MODEL" ] || build/mkdemo --out "$MODEL" --size "$SIZE"
TMPD=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$TMPD"
}
trap cleanup EXIT
build/interactd serve --port 18191 --data "$TMPD/a" --model "m=$MODEL" --parallel 8 --ctx-size 2048 \
    >"$TMPD/a.log" 2>&1 & PIDS+=($!)
build/interactd serve --port 18192 --data "$TMPD/b" --model "m=$MODEL" --parallel 8 --ctx-size 2048 \
    --contexts 1 --threads "$T" >"$TMPD/b.log" 2>&1 & PIDS+=($!)
"$LS" -m "$MODEL" -t "$T" -tb "$T" -np 8 -c 16384 --port 18193 --no-webui >"$TMPD/ls.log" 2>&1 & PIDS+=($!)
for u in 18191/healthz 18192/healthz 18193/health; do
    for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$u" && break; sleep 0.1; done
done
echo "== interleaved streams, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git rev-parse --short HEAD), $R rounds"
echo "layouts: $(grep -ho 'model m: [0-9]* contexts\? of [0-9]* threads\?' "$TMPD/a.log" "$TMPD/b.log" | tr '\n' ';')"
for n in ${IL_STREAMS:-1 2 4 8}; do
    for _ in $(seq 1 "$R"); do
        a=$(node bench/batch/streams.mjs interactd http://127.0.0.1:18191 m "$n" "$TOK" 1 "$WORDS")
        b=$(node bench/batch/streams.mjs interactd http://127.0.0.1:18192 m "$n" "$TOK" 1 "$WORDS")
        l=$(node bench/batch/streams.mjs llama http://127.0.0.1:18193 m "$n" "$TOK" 1 "$WORDS")
        echo "$n $(jq -c '[.agg_tok_s,.ttft_ms]' <<<"$a") $(jq -c '[.agg_tok_s,.ttft_ms]' <<<"$b") $(jq -c '[.agg_tok_s,.ttft_ms]' <<<"$l")"
    done
done >"$TMPD/rounds.txt"
python3 - "$TMPD/rounds.txt" <<'PY'
import json, statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    p = line.split()
    rows.setdefault(int(p[0]), []).append([json.loads(x) for x in p[1:]])
print("| streams | follow tok/s | one context tok/s | llama-server tok/s | follow / llama-server | one context / llama-server | TTFT ms follow / one / llama-server |")
print("|---:|---:|---:|---:|---:|---:|---|")
for n, rs in sorted(rows.items()):
    tok = lambda i: round(st.median(r[i][0] for r in rs), 1)
    rat = lambda i: round(st.median(r[i][0] / r[2][0] for r in rs), 2)
    ttft = lambda i: round(st.median(r[i][1] for r in rs))
    print(f"| {n} | {tok(0)} | {tok(1)} | {tok(2)} | {rat(0)} | {rat(1)} | {ttft(0)} / {ttft(1)} / {ttft(2)} |")
PY
