#!/usr/bin/env bash
# tests/pg.sh: a throwaway PostgreSQL for the tests (Debian's postgresql
# package, PostgreSQL 15).
#
#   tests/pg.sh start [DIR]   initdb + pg_ctl start in DIR (default: a new
#                             mktemp folder), its own port, its unix socket in
#                             DIR; prints the folder. Its conninfo, for
#                             --store and IA_TEST_PG, is in DIR/conninfo
#                             ("host=DIR port=N user=U dbname=postgres").
#   tests/pg.sh restart DIR   pg_ctl restart (the reconnect tests)
#   tests/pg.sh pause DIR     pg_ctl stop, keeping DIR (the database is down)
#   tests/pg.sh resume DIR    pg_ctl start again after a pause
#   tests/pg.sh stop DIR      pg_ctl stop and rm -rf DIR
#
# PostgreSQL refuses to run as root: when uid is 0 the cluster is made and
# run as the unprivileged user `interactd-pg` (created here, no login shell,
# no home) through setpriv, and DIR is handed to it. Exit status 3 with a
# message when initdb is absent (the callers then skip, saying so).
set -euo pipefail
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
cmd=${1:-}
dir=${2:-}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=interactd-pg --regid=interactd-pg --init-groups -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
      echo "tests/pg.sh: PostgreSQL's initdb not found (install the postgresql package: scripts/deps.sh)" >&2
      exit 3
    fi
    [ -n "$dir" ] || dir=$(mktemp -d /tmp/interactd-pg.XXXXXX)
    mkdir -p "$dir"
    user=$(id -un)
    if [ "$(id -u)" -eq 0 ]; then
      id interactd-pg >/dev/null 2>&1 ||
        useradd --system --no-create-home --shell /usr/sbin/nologin interactd-pg
      chown interactd-pg:interactd-pg "$dir"
      user=interactd-pg
    fi
    chmod 700 "$dir"
    as_pg "$BIN/initdb" -D "$dir/data" -U "$user" -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    # a free port: the kernel's pick for a socket bound to port 0
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
max_connections = 200
CONF
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    echo "host=$dir port=$port user=$user dbname=postgres" >"$dir/conninfo"
    chmod 755 "$dir"
    echo "$dir"
    ;;
  restart)
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast restart >/dev/null
    ;;
  pause)
    as_pg "$BIN/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null
    ;;
  resume)
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    ;;
  stop)
    [ -n "$dir" ] && [ -d "$dir/data" ] || exit 0
    as_pg "$BIN/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: tests/pg.sh start [DIR] | restart DIR | pause DIR | resume DIR | stop DIR" >&2
    exit 2
    ;;
esac
