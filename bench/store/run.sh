#!/usr/bin/env bash
# bench/store/run.sh: create and GET throughput and p99 through one instance
# on SQLite, one on PostgreSQL, and two instances on one PostgreSQL (issue
# 14). A throwaway PostgreSQL is started as the tests do (tests/pg.sh: a temp
# folder, its own port, torn down after); all four servers run side by side
# for the whole run, and the three setups take turns, round after round, so
# each sees the same machine load; bench/store/load.mjs drives them (closed
# loop, SB_CONC requests in flight, SB_SECS seconds a phase). Creates: the
# built-in demo model, store true, background false, max_output_tokens 1.
# GETs: ids the creates made (for two instances, each id through both).
# Prints one JSON line a phase, then the medians and ratios to SQLite.
# Settings: SB_ROUNDS (3), SB_SECS (10), SB_CONC (8), SB_THREADS (1),
# SB_BIN (build/interactd after `make all`; another binary: no make).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${SB_ROUNDS:-3}
SECS=${SB_SECS:-10}
CONC=${SB_CONC:-8}
T=${SB_THREADS:-1}
mkdir -p bench/out
BIN=${SB_BIN:-}
if [ -z "$BIN" ]; then
    BIN=build/interactd
    make --no-print-directory all >bench/out/build-store.log 2>&1 || { tail -30 bench/out/build-store.log; exit 1; }
fi
PGDIR=$(tests/pg.sh start)
TMPD=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    tests/pg.sh stop "$PGDIR" || true
    rm -rf "$TMPD"
}
trap cleanup EXIT
CONN=$(cat "$PGDIR/conninfo")
psql -X -q -d "$CONN" -c 'CREATE DATABASE bench1' -c 'CREATE DATABASE bench2'
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
serve() { # NAME STORE -> its URL
    local port; port=$(free_port)
    "$BIN" serve --port "$port" --data "$TMPD/$1" --threads "$T" ${2:+--store "$2"} >"$TMPD/$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" || { cat "$TMPD/$1.log" >&2; exit 1; }
    URL="http://127.0.0.1:$port"
}
serve sqlite ""; U_SQLITE=$URL
serve pg1 "$CONN dbname=bench1"; U_PG1=$URL
serve pg2a "$CONN dbname=bench2"; U_PG2=$URL
serve pg2b "$CONN dbname=bench2"; U_PG2="$U_PG2,$URL"

echo "== store benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "interactd: $(git rev-parse --short HEAD); PostgreSQL $(psql -X -t -A -d "$CONN" -c 'SHOW server_version')"
echo "settings:  $ROUNDS rounds, $SECS s a phase, $CONC in flight, --threads $T"
OUT=$TMPD/results.jsonl
for r in $(seq 1 "$ROUNDS"); do
    for setup in sqlite pg1 pg2; do
        case $setup in sqlite) U=$U_SQLITE ;; pg1) U=$U_PG1 ;; pg2) U=$U_PG2 ;; esac
        for mode in create get; do
            line=$(node bench/store/load.mjs "$mode" "$U" "$CONC" "$SECS" "$TMPD/ids-$setup")
            echo "{\"round\":$r,\"setup\":\"$setup\",${line#\{}" | tee -a "$OUT"
        done
    done
done
echo "== medians over $ROUNDS rounds (ratio: to one instance on SQLite)"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const m = {};
for (const r of rows) for (const k of ["rps", "p99_ms", "p50_ms", "errors"]) ((m[r.setup + "/" + r.mode] ??= {})[k] ??= []).push(r[k]);
console.log("| setup | op | req/s | p50 ms | p99 ms | req/s ratio | p99 ratio | errors |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const mode of ["create", "get"]) for (const s of ["sqlite", "pg1", "pg2"]) {
  const x = m[s + "/" + mode], b = m["sqlite/" + mode];
  console.log(`| ${s} | ${mode} | ${med(x.rps)} | ${med(x.p50_ms)} | ${med(x.p99_ms)} | ${(med(x.rps) / med(b.rps)).toFixed(2)} | ${(med(x.p99_ms) / med(b.p99_ms)).toFixed(2)} | ${x.errors.reduce((a, c) => a + c, 0)} |`);
}' "$OUT"
