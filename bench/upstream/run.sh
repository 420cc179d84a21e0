#!/usr/bin/env bash
# bench/upstream/run.sh: the overhead of the upstream hop (issue 14). One
# llama-server (make llama-server: the same llama.cpp source as the engine)
# serving a mkdemo model, and one interactd with --upstream up=URL,api=chat
# in front of it; bench/upstream/hop.mjs sends the same streamed, greedy
# request of UB_TOKENS tokens straight to llama-server and through interactd,
# interleaved, UB_RUNS times each, and prints p50/p99 latency, tokens/s and
# the ratios (through interactd / direct).
# Random weights write random bytes, which llama-server's output parser
# refuses: a server-wide grammar (lowercase words, longer than any run)
# keeps the text valid on both paths alike; max_tokens ends every run.
# Settings: UB_SIZE (135m: build/mkdemo --size; demo = build/demo.gguf),
# UB_TOKENS (64), UB_RUNS (100), UB_THREADS (1, both servers); UB_BIN and
# UB_LLAMA_SERVER (other binaries: no make).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${UB_SIZE:-135m}
N=${UB_TOKENS:-64}
RUNS=${UB_RUNS:-100}
T=${UB_THREADS:-1}
mkdir -p bench/out
BIN=${UB_BIN:-build/interactd}
LS=${UB_LLAMA_SERVER:-$(make --no-print-directory -s llama-server-path)}
if [ -z "${UB_BIN:-}${UB_LLAMA_SERVER:-}" ]; then
    make --no-print-directory all llama-server >bench/out/build-upstream.log 2>&1 ||
        { tail -30 bench/out/build-upstream.log; exit 1; }
fi
if [ "$SIZE" = demo ]; then MODEL=build/demo.gguf; else MODEL=bench/out/$SIZE.gguf; fi
[ -f "$MODEL" ] || build/mkdemo --out "$MODEL" --size "$SIZE"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
TMPD=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMPD"; }
trap cleanup EXIT
LP=$(free_port); IP=$(free_port)
"$LS" -m "$MODEL" --host 127.0.0.1 --port "$LP" -np 1 -c 2048 -t "$T" --no-ui \
    --grammar 'root ::= [a-z ]{1000,}' >"$TMPD/llama-server.log" 2>&1 &
PIDS+=($!)
"$BIN" serve --port "$IP" --data "$TMPD/data" --threads "$T" \
    --upstream "up=http://127.0.0.1:$LP,api=chat" >"$TMPD/interactd.log" 2>&1 &
PIDS+=($!)
for u in "http://127.0.0.1:$LP/health" "http://127.0.0.1:$IP/healthz"; do
    for _ in $(seq 1 600); do curl -sf -o /dev/null "$u" && break; sleep 0.1; done
done
echo "== upstream hop benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "interactd: $(git rev-parse --short HEAD); llama-server: $("$LS" --version 2>&1 | grep -o 'commit [0-9a-f]*')"
echo "model:     $MODEL; -t $T both; $N tokens greedy, streamed; $RUNS runs a path, interleaved"
node bench/upstream/hop.mjs "http://127.0.0.1:$LP" "http://127.0.0.1:$IP" up "$N" "$RUNS"
