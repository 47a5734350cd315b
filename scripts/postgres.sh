#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks (docs/scaling.md).
#
#   scripts/postgres.sh start    installs Debian's postgresql if it is missing (apt-get, as root), creates a
#                                cluster in a new temporary directory (initdb), starts it on a free port of
#                                127.0.0.1 (pg_ctl) and prints two lines: the directory and the URL
#                                postgres://lmn:PASSWORD@127.0.0.1:PORT/postgres
#   scripts/postgres.sh stop DIR stops that cluster and removes its directory
#   scripts/postgres.sh pause DIR / resume DIR   stop and start it again in place (tests of a server that goes away)
#
# initdb and the server refuse to run as root: as root they run as the `postgres` system user (runuser).
set -euo pipefail

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

as_owner() {
  if [[ "$(id -u)" == "0" ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_if_missing() {
  if find_bin >/dev/null; then return 0; fi
  if [[ "$(id -u)" != "0" ]]; then
    echo "postgres.sh: PostgreSQL is not installed and installing it needs root (apt-get install postgresql)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  find_bin >/dev/null || { echo "postgres.sh: postgresql was installed but initdb was not found" >&2; exit 1; }
}

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "postgres.sh: no free port found" >&2
  exit 1
}

start() {
  install_if_missing
  local bin dir port password
  bin="$(find_bin)"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/lmn-pg.XXXXXX")"
  chmod 755 "$dir"
  password="pw$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  printf '%s\n' "$password" > "$dir/pwfile"
  if [[ "$(id -u)" == "0" ]]; then chown -R postgres:postgres "$dir"; fi
  as_owner "$bin/initdb" -D "$dir/data" -U lmn --pwfile="$dir/pwfile" -A scram-sha-256 --auth-local=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
  rm -f "$dir/pwfile"
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
         -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null 2>&1; then
      echo "$port" > "$dir/port"
      echo "$dir"
      echo "postgres://lmn:$password@127.0.0.1:$port/postgres"
      return 0
    fi
  done
  cat "$dir/server.log" >&2 || true
  rm -rf "$dir"
  exit 1
}

stop() {
  local dir="$1" bin
  bin="$(find_bin)"
  if [[ -d "$dir/data" ]]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  case "$dir" in
    */lmn-pg.*) rm -rf "$dir" ;;
    *) echo "postgres.sh: refusing to remove $dir (not made by this script)" >&2; exit 1 ;;
  esac
}

pause() {
  local dir="$1"
  as_owner "$(find_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}

resume() {
  local dir="$1" port
  port="$(cat "$dir/port")"
  as_owner "$(find_bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:?usage: postgres.sh stop DIR}" ;;
  pause) pause "${2:?usage: postgres.sh pause DIR}" ;;
  resume) resume "${2:?usage: postgres.sh resume DIR}" ;;
  *) echo "usage: scripts/postgres.sh start | stop DIR | pause DIR | resume DIR" >&2; exit 2 ;;
esac
