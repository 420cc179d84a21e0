#!/usr/bin/env bash
# bench/speech/run.sh: the embedded speech engine's real-time factor on
# this machine (bench/speech/speech_rtf.c: espeak-ng in process, resampled
# to 24 kHz by libsoxr, as a speech request runs it), for the default
# voice and for a male and a female one; then llama.cpp's speech
# generation (bench/speech/tts_rtf.c) with the build's tiny PocketTTS pair.
# Settings (environment): SPEECH_RUNS (7).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${SPEECH_RUNS:-7}
make --no-print-directory build/speech_rtf >/dev/null
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "commit: $(git rev-parse --short HEAD); espeak-ng $(dpkg-query -W -f='${Version}' libespeak-ng1 2>/dev/null || echo '?'), libsoxr $(dpkg-query -W -f='${Version}' libsoxr0 2>/dev/null || echo '?')"
echo
echo "| voice | audio | RTF | × real time | first chunk | two at once (s per s of audio) |"
echo "|---|---|---|---|---|---|"
for v in Kore Puck Zephyr; do
    build/speech_rtf "$RUNS" "$v" | tail -n 1 | sed "s/^|/| $v |/"
done

# llama.cpp's own speech generation (--speech-model; bench/speech/tts_rtf.c)
# with the build's random-weight PocketTTS pair: the path's own cost.
make --no-print-directory build/tts_rtf build/pockettts.gguf build/mmproj-pockettts.gguf >/dev/null
echo
echo "| engine | audio | RTF | × real time | first chunk |"
echo "|---|---|---|---|---|"
build/tts_rtf "$RUNS" 1 | tail -n 1 | sed "s/^|/| llama.cpp, random-weight PocketTTS (1 thread) |/"
