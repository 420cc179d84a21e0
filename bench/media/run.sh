#!/usr/bin/env bash
# bench/media/run.sh: time and tokens per image, per second of audio, per
# second of video, per PDF page, and turn 2 of a chain with an image warm
# (previous_interaction_id, the image's KV reused) against cold (a server
# with --prefix-cache off); images side by side with llama-server built
# from the same llama.cpp source (bench/batch/build-llama-server.sh) when it
# is there. Models: the build's gemma3.gguf with the real vision projector
# ../shared/models/mmproj-tinygemma3.gguf, and with the build's random
# audio projector; and the build's Qwen2-VL pair (M-RoPE positions), its
# images side by side with llama-server too. Media made with ffmpeg, a
# fresh one per run.
# Both servers run MB_PARALLEL sequences (4 = interactd's default) of 4,096
# tokens each.
# Settings (environment): MB_THREADS (2), MB_RUNS (5), MB_PARALLEL (4).
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${MB_THREADS:-2}
RUNS=${MB_RUNS:-5}
NP=${MB_PARALLEL:-4}
VISION=../shared/models/mmproj-tinygemma3.gguf
LS=build/llama-server/bin/llama-server
[ -f "$VISION" ] || { echo "no $VISION" >&2; exit 1; }
make --no-print-directory all >/dev/null
TMPD=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$TMPD"
}
trap cleanup EXIT
M=$TMPD/media
mkdir -p "$M"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
for i in $(seq 0 "$RUNS"); do
    # a different picture each run: elementary cellular automata of another rule
    ff -f lavfi -i "cellauto=size=64x64:rule=$((30 + i)):rate=1" -frames:v 1 "$M/img-$i.png"
    for s in 1 5 10; do ff -f lavfi -i "sine=frequency=$((300 + 40 * i)):duration=$s" -ar 16000 -ac 1 "$M/tone-${s}s-$i.wav"; done
    for s in 2 4; do ff -f lavfi -i "cellauto=size=64x64:rule=$((60 + i)):rate=4" -t "$s" -pix_fmt yuv420p "$M/clip-${s}s-$i.mp4"; done
    # for the Qwen2-VL pair: 256x256 px = 16x16 tokens (256, at 16 M-RoPE positions)
    ff -f lavfi -i "cellauto=size=256x256:rule=$((90 + i)):rate=1" -frames:v 1 "$M/qimg-$i.png"
done
python3 - "$M" <<'PY' || true
# A plain PDF of 1 and 4 pages of text, written by hand (no tool needed).
import sys
def pdf(path, pages):
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for p in range(pages):
        text = f"BT /F1 12 Tf 72 720 Td (Page {p + 1}: the quick brown fox jumps over the lazy dog.) Tj ET".encode()
        objs.append(f"<< /Length {len(text)} >>\nstream\n{text.decode()}\nendstream")
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {len(objs)} 0 R /Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(len(objs))
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {pages} >>"
    out, offs = b"%PDF-1.4\n", []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += f"{i + 1} 0 obj\n{o}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offs)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    open(path, "wb").write(out)
for n in (1, 4):
    pdf(f"{sys.argv[1]}/doc-{n}p.pdf", n)
PY
build/interactd serve --port 18291 --data "$TMPD/a" --threads "$T" --contexts 1 --parallel "$NP" --ctx-size 4096 \
    --model vision=build/gemma3.gguf --mmproj "vision=$VISION" \
    --model audio=build/gemma3.gguf --mmproj audio=build/mmproj-audio.gguf \
    --model qwen=build/qwen2vl.gguf >"$TMPD/a.log" 2>&1 & PIDS+=($!)
# the cold model: the same, with nothing reused (its own server)
build/interactd serve --port 18293 --data "$TMPD/c" --threads "$T" --contexts 1 --parallel "$NP" --ctx-size 4096 --prefix-cache off \
    --model cold=build/gemma3.gguf --mmproj "cold=$VISION" >"$TMPD/c.log" 2>&1 & PIDS+=($!)
LSURL=-
if [ -x "$LS" ]; then
    "$LS" -m build/gemma3.gguf --mmproj "$VISION" -t "$T" -tb "$T" -np "$NP" -c $((4096 * NP)) --port 18292 --no-webui \
        >"$TMPD/ls.log" 2>&1 & PIDS+=($!)
    LSURL=http://127.0.0.1:18292
    # the Qwen2-VL pair (its projector beside it, as interactd finds it)
    "$LS" -m build/qwen2vl.gguf --mmproj build/mmproj-qwen2vl.gguf -t "$T" -tb "$T" -np "$NP" -c $((4096 * NP)) \
        --port 18294 --no-webui --jinja >"$TMPD/lsq.log" 2>&1 & PIDS+=($!)
    LSQURL=http://127.0.0.1:18294
fi
LSQURL=${LSQURL:--}
for u in 18291/healthz 18293/healthz 18292/health 18294/health; do
    case $u in 1829[24]/*) [ "$LSURL" = - ] && continue ;; esac
    for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$u" && break; sleep 0.1; done
done
echo "== media, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git rev-parse --short HEAD), $RUNS runs, $T threads, $NP sequences"
node bench/media/media.mjs http://127.0.0.1:18291 http://127.0.0.1:18293 "$LSURL" "$M" "$RUNS" "$LSQURL"
