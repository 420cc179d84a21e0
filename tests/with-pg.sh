#!/usr/bin/env bash
# tests/with-pg.sh CMD...: runs CMD with a throwaway PostgreSQL (tests/pg.sh)
# up for its duration, torn down after, whatever CMD's outcome. CMD sees
#   IA_TEST_PG, IA_TEST_PG_DIR  (the unit tests' store tests, pg_help.h)
#   E2E_PG_DIR, PG_CONNINFO     (the e2e suite: pg.test.mjs, E2E_STORE)
# When PostgreSQL is not installed, CMD runs without them (the tests then
# say they skip); any other failure to start it fails.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$("$here/pg.sh" start)
rc=$?
if [ $rc -eq 3 ]; then
  echo "with-pg: PostgreSQL is not installed; its tests skip" >&2
  exec "$@"
elif [ $rc -ne 0 ]; then
  echo "with-pg: tests/pg.sh start failed" >&2
  exit 1
fi
trap '"$here/pg.sh" stop "$dir"' EXIT
export PG_CONNINFO IA_TEST_PG IA_TEST_PG_DIR="$dir" E2E_PG_DIR="$dir"
PG_CONNINFO=$(cat "$dir/conninfo")
IA_TEST_PG=$PG_CONNINFO
"$@"
