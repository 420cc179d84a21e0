#!/usr/bin/env bash
# bench/speech/run.sh: the embedded speech engine's real-time factor on
# this machine (bench/speech/speech_rtf.c: espeak-ng in process, resampled
# to 24 kHz by libsoxr, as a speech request runs it), for the default
# voice and for a male and a female one.
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
