#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: `start`, `url`, `stop`. Installs Debian's postgresql if needed.
# The cluster lives in a temporary directory, listens on 127.0.0.1 only, and trusts local connections.
set -euo pipefail
PORT=${IPB_PG_PORT:-55432}
DIR=${IPB_PG_DIR:-/tmp/ipb-ci-postgres}

as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

pg_bin() {
  local version
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] && echo "/usr/lib/postgresql/$version/bin"
}

case "${1:-}" in
  start)
    if [ -z "$(pg_bin)" ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq postgresql >/dev/null
    fi
    BIN=$(pg_bin)
    as_postgres "$BIN/pg_ctl -D $DIR stop -m fast" >/dev/null 2>&1 || true
    rm -rf "$DIR"; mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_postgres "$BIN/initdb -D $DIR -A trust -U ipb >/dev/null"
    as_postgres "$BIN/pg_ctl -D $DIR -l $DIR/server.log -w -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null"
    as_postgres "$BIN/createdb -h 127.0.0.1 -p $PORT -U ipb ipb_test"
    echo "postgres running on 127.0.0.1:$PORT"
    ;;
  url) echo "postgresql+psycopg://ipb@127.0.0.1:$PORT/ipb_test" ;;
  stop)
    BIN=$(pg_bin)
    as_postgres "$BIN/pg_ctl -D $DIR stop -m fast" >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  *) echo "usage: $0 start|url|stop" >&2; exit 2 ;;
esac
