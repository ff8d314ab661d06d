#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages if needed and starts a private, throwaway cluster on
# 127.0.0.1:${JOININ_PG_PORT:-55432} (trust auth, data under ${JOININ_PG_DIR:-/tmp/joinin-pg}).
# Prints the URL to use as JOININ_TEST_POSTGRES_URL on its last line.
set -euo pipefail
port="${JOININ_PG_PORT:-55432}"
dir="${JOININ_PG_DIR:-/tmp/joinin-pg}"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian's packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

run_as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -f "$dir/postmaster.pid" ] && run_as_postgres "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  echo "PostgreSQL already running in $dir" >&2
else
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  run_as_postgres "$bin/initdb" -D "$dir" --auth=trust --username=postgres --encoding=UTF8 >/dev/null
  run_as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=on" start >&2
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
