#!/usr/bin/env bash
# bench/conn/run.sh: connection capacity of interactd (issue 9 §4).
#  1. GET /v1beta/interactions/{id} of a stored interaction with wrk at
#     CB_CONNS (64 and 1024) connections: requests/s, p50, p99 and wrk's
#     socket errors, CB_RUNS runs of CB_DURATION each (medians).
#  2. SSE streams held open at once (bench/conn/hold.mjs): for each N of
#     CB_STREAMS, N raw connections stream one queued background run while a
#     schema-forced blocker keeps the engine (--parallel 1) busy; then the
#     blocker is cancelled and every held stream must run to `event: done`.
#     Reports streams held, refused, completed, the time to open them, the
#     time to drain them, and the server's RSS and threads at the peak.
# Settings (environment): IA_BIN (build/interactd: run another build, e.g.
# the one before a change), CB_ARGS (extra serve flags; with none, the
# defaults but --max-connections-per-ip 0, as every client here is 127.0.0.1), CB_CONNS ("64 1024"),
# CB_STREAMS ("1000 2000 4000"), CB_RUNS (3), CB_DURATION (10s),
# CB_WRK_THREADS (2), CB_PORT (18192).
# Needs: wrk (Debian package wrk), node >= 18, jq, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${IA_BIN:-build/interactd}
CONNS=${CB_CONNS:-64 1024}
STREAMS=${CB_STREAMS:-1000 2000 4000}
RUNS=${CB_RUNS:-3}
DUR=${CB_DURATION:-10s}
WT=${CB_WRK_THREADS:-2}
PORT=${CB_PORT:-18192}
# Every client here has one address (127.0.0.1), so the per-address limit
# is off unless CB_ARGS sets it (a build without the flag is run as it is).
ARGS=${CB_ARGS:-}
if [[ $("$BIN" serve --help 2>/dev/null) == *--max-connections-per-ip* && $ARGS != *per-ip* ]]; then
    ARGS="--max-connections-per-ip 0 $ARGS"
fi
read -r -a EXTRA <<<"$ARGS"

for tool in wrk node jq curl; do
    command -v "$tool" >/dev/null || { echo "bench/conn: needs $tool (wrk: apt-get install wrk)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "no $BIN (make all)" >&2; exit 1; }
# The client side needs a descriptor per connection too.
ulimit -n "$(ulimit -Hn)"

TMPD=$(mktemp -d)
SRV=
stop() { [ -n "$SRV" ] && { kill "$SRV" 2>/dev/null || true; wait "$SRV" 2>/dev/null || true; }; SRV=; }
trap 'stop; rm -rf "$TMPD"' EXIT
URL=http://127.0.0.1:$PORT
start() { # DATA-DIR ARGS...
    local d=$1; shift
    "$BIN" serve --port "$PORT" --data "$TMPD/$d" --threads 1 "$@" ${EXTRA[@]+"${EXTRA[@]}"} >"$TMPD/server.log" 2>&1 &
    SRV=$!
    for _ in $(seq 1 300); do curl -sf -o /dev/null "$URL/healthz" && return; sleep 0.1; done
    echo "server did not start:" >&2; cat "$TMPD/server.log" >&2; exit 1
}

echo "== interactd connection benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); ulimit -n $(ulimit -n)"
echo "interactd: $BIN ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 2>/dev/null || echo ', src modified')) $ARGS"

start d1
grep -a -m1 'connections' "$TMPD/server.log" | sed 's/^/server: /' || true
ID=$(curl -sf "$URL/v1beta/interactions" -H 'content-type: application/json' \
    -d '{"model":"demo","input":"Once upon a time","generation_config":{"max_output_tokens":8}}' | jq -r .id)

# wrk --latency output -> "rps p50_ms p99_ms socket-errors"
wrk_once() { # CONNS
    local out
    out=$(wrk -t"$WT" -c"$1" -d"$DUR" --latency "$URL/v1beta/interactions/$ID" 2>&1)
    echo "$out" >>"$TMPD/wrk.log"
    awk '
        function ms(v) { if (v ~ /us$/) return v * 0.001; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
        /Socket errors/ { gsub(/,/, ""); serr = "c" $4 "/r" $6 "/w" $8 "/t" $10 }
        END { printf "%.0f %.3f %.3f %s\n", rps, p50, p99, (serr != "" ? serr : "-") }' <<<"$out"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo
echo "-- GET of a stored interaction"
echo "| connections | runs req/s | median req/s | median p50 ms | median p99 ms | socket errors (connect/read/write/timeout) |"
echo "|---:|---|---:|---:|---:|---|"
for c in $CONNS; do
    : >"$TMPD/r"
    for _ in $(seq 1 "$RUNS"); do wrk_once "$c" >>"$TMPD/r"; done
    echo "| $c | $(cut -d' ' -f1 "$TMPD/r" | tr '\n' ' ') | $(cut -d' ' -f1 "$TMPD/r" | median) | $(cut -d' ' -f2 "$TMPD/r" | median) | $(cut -d' ' -f3 "$TMPD/r" | median) | $(cut -d' ' -f4 "$TMPD/r" | tr '\n' ' ') |"
done
stop

echo
echo "-- SSE streams held at once (--parallel 1, one queued run streamed by every connection)"
echo "| streams | held | refused | completed | open ms | drain ms | server RSS MB | server threads |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
i=0
for n in $STREAMS; do
    i=$((i + 1))
    start "s$i" --parallel 1
    j=$(SRV_PID=$SRV node bench/conn/hold.mjs "$URL" "$n")
    echo "| $n | $(jq .held <<<"$j") | $(jq .refused <<<"$j") | $(jq .completed <<<"$j") | $(jq .open_ms <<<"$j") | $(jq .drain_ms <<<"$j") | $(jq '.rss_kb / 1024 | floor' <<<"$j") | $(jq .threads <<<"$j") |"
    stop
done
