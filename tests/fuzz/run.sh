#!/usr/bin/env bash
# run.sh TARGET SECONDS [extra libFuzzer flags...]
# Runs build/fuzz/TARGET for SECONDS from a scratch copy of its seed corpus
# (tests/fuzz/corpus/TARGET is never written to; new inputs stay in
# build/fuzz/work/TARGET), with the target's dictionary when it has one.
# A crash, leak, timeout or failed check leaves its input in
# build/fuzz/artifacts/TARGET/ and fails the run. The log goes to
# build/fuzz/logs/TARGET.log (and stdout: the final stats).
# FUZZ_SMOKE=1 (make fuzz-smoke): a fresh scratch directory per run, removed
# afterwards, and the log in build/fuzz/logs/TARGET.smoke.log, so a smoke run
# starts from the seeds and does not meet a long run of the same target.
set -euo pipefail
t=$1; secs=$2; shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/fuzz/$t
work=$root/build/fuzz/work/$t
art=$root/build/fuzz/artifacts/$t
logs=$root/build/fuzz/logs
log=$logs/$t.log
if [ "${FUZZ_SMOKE:-0}" = 1 ]; then
    mkdir -p "$root/build/fuzz/work"
    work=$(mktemp -d "$root/build/fuzz/work/$t.smoke.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    log=$logs/$t.smoke.log
fi
mkdir -p "$work" "$art" "$logs"
cp -n "$root"/tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
dict=()
[ -f "$root/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$root/tests/fuzz/dict/$t.dict")
echo "fuzz $t: ${secs}s (log $log)"
rc=0
"$bin" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$art/" "$@" "$work" >"$log" 2>&1 || rc=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" | sed "s/^/  $t: /" || true
if [ $rc -ne 0 ]; then
    echo "fuzz $t FAILED (rc $rc): see $log and $art/" >&2
    tail -n 40 "$log" >&2
fi
exit $rc
