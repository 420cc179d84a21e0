#!/usr/bin/env bash
# bench/chat/run.sh: time to first token of turn 10 of a chat whose nine
# earlier answers are ~200 tokens each (bench/chat/chat10.mjs): interactd
# with previous_interaction_id, with a stateless resend of the history,
# after a server restart (kept tokens and KV from disk), cold (--prefix-cache
# off, stateless resend), and llama-server (built from the same llama.cpp
# source) serving the same chats itself on /v1/chat/completions (its own
# sampled answers, the history resent each turn, its prompt cache and RAM
# prompt cache on). Same model (mkdemo's 135m, ChatML, its vocabulary made
# words that read back as the tokens sampled: bench/gap/mkvisible.py
# --words), threads and context on both; one stream at a time.
# Settings (environment): CB_THREADS (2), CB_RUNS (3), CB_SIZE (135m),
# CB_CTX (4096).
set -euo pipefail
cd "$(dirname "$0")/../.."

T=${CB_THREADS:-2}
RUNS=${CB_RUNS:-3}
SIZE=${CB_SIZE:-135m}
CTX=${CB_CTX:-4096}
# Every vocabulary entry a word (bench/gap/mkvisible.py --words: same
# weights, so the same speed): the random weights' answers are then text
# all through, as a real model's are, and read back as the tokens sampled,
# so both servers hold histories of the same length.
MODEL=bench/out/$SIZE-words.gguf
LS=${CB_LLAMA_SERVER:-$(make --no-print-directory -s llama-server-path)}

mkdir -p bench/out
make --no-print-directory all >bench/out/build-chat.log 2>&1 || { cat bench/out/build-chat.log; exit 1; }
[ -f "bench/out/$SIZE.gguf" ] || build/mkdemo --out "bench/out/$SIZE.gguf" --size "$SIZE"
[ "$MODEL" -nt "bench/out/$SIZE.gguf" ] && [ "$MODEL" -nt bench/gap/mkvisible.py ] ||
    python3 bench/gap/mkvisible.py --words "bench/out/$SIZE.gguf" "$MODEL"
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
start_interactd() { # DATA extra-args...
    local data=$1; shift
    build/interactd serve --port 18191 --data "$data" --model "m=$MODEL" --threads "$T" --contexts 1 \
        --parallel 2 --ctx-size "$CTX" "$@" >>"$TMPD/interactd.log" 2>&1 &
    SRV=$!
    PIDS+=("$SRV")
    wait_http "http://127.0.0.1:18191/healthz"
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }
U=http://127.0.0.1:18191

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); commit $(git rev-parse --short HEAD)"
echo "model: $MODEL; threads $T; ctx $CTX; $RUNS chats per column (medians)"
# Three sets of chats, so that each column times a turn 10 nobody computed
# before: A with previous_interaction_id, B resent statelessly, C after a
# restart; cold and llama-server take A's histories.
start_interactd "$TMPD/warm"
for set in A B C; do node bench/chat/chat10.mjs $U m build "$RUNS" "$TMPD/chats-$set.json"; done
p=$(node bench/chat/chat10.mjs $U m prev "$RUNS" "$TMPD/chats-A.json")
r=$(node bench/chat/chat10.mjs $U m resend "$RUNS" "$TMPD/chats-B.json")
stop "$SRV"
start_interactd "$TMPD/warm"
d=$(node bench/chat/chat10.mjs $U m prev "$RUNS" "$TMPD/chats-C.json")
stop "$SRV"
start_interactd "$TMPD/warm" --prefix-cache off  # the same kept tokens, no KV reuse
c=$(node bench/chat/chat10.mjs $U m resend "$RUNS" "$TMPD/chats-A.json")
stop "$SRV"
l='{"ttft_ms":null,"cached":null,"history_tokens":null}'
if [ -x "$LS" ]; then
    "$LS" -m "$MODEL" --port 18192 -t "$T" -tb "$T" -c $((CTX * 2)) -np 2 --no-jinja --no-webui >"$TMPD/ls.log" 2>&1 &
    LSP=$!
    PIDS+=("$LSP")
    wait_http http://127.0.0.1:18192/health
    # Three sets as on interactd, turn 10 of the first timed.
    for set in L M N; do node bench/chat/chat10.mjs http://127.0.0.1:18192 m llama-build "$RUNS" "$TMPD/chats-$set.json"; done
    l=$(node bench/chat/chat10.mjs http://127.0.0.1:18192 m llama "$RUNS" "$TMPD/chats-L.json") ||
        l='{"ttft_ms":"failed","cached":null,"history_tokens":null,"all":null}'
    stop "$LSP"
else
    echo "(no $LS: make llama-server builds it)"
fi
echo
echo "| | previous_interaction_id | stateless resend | after restart (disk) | cold (cache off) | llama-server (prompt cache) |"
echo "|---|---|---|---|---|---|"
echo "| turn-10 TTFT ms | $(jq .ttft_ms <<<"$p") | $(jq .ttft_ms <<<"$r") | $(jq .ttft_ms <<<"$d") | $(jq .ttft_ms <<<"$c") | $(jq .ttft_ms <<<"$l") |"
echo "| history tokens | $(jq .history_tokens <<<"$p") | $(jq .history_tokens <<<"$r") | $(jq .history_tokens <<<"$d") | $(jq .history_tokens <<<"$c") | $(jq .history_tokens <<<"$l") |"
echo "| cached tokens | $(jq .cached <<<"$p") | $(jq .cached <<<"$r") | $(jq .cached <<<"$d") | $(jq .cached <<<"$c") | $(jq .cached <<<"$l") |"
echo "| all runs ms | $(jq -c .all <<<"$p") | $(jq -c .all <<<"$r") | $(jq -c .all <<<"$d") | $(jq -c .all <<<"$c") | $(jq -c .all <<<"$l") |"
