#!/usr/bin/env bash
# pg-test.sh - a throwaway PostgreSQL 15 cluster for tests and benchmarks.
#
#   scripts/pg-test.sh start DIR    initdb + start in DIR on a free loopback port, create the
#                                   database "engram"; prints its URI (also in DIR/uri)
#   scripts/pg-test.sh stop DIR     stop the cluster and remove DIR
#   scripts/pg-test.sh exec DIR CMD...   run CMD with ENGRAM_TEST_PG=<uri of DIR's cluster>
#   scripts/pg-test.sh down DIR     stop the server, keep its data (to test reconnection)
#   scripts/pg-test.sh up DIR       start it again on the same port
#
# As root the server runs as the `postgres` user (initdb refuses root); otherwise as the
# current user. fsync is off: the data is thrown away, and tests should not wait on disks
# (PG_TEST_DURABLE=1 keeps PostgreSQL's durable defaults; PG_TEST_OPTS adds -c options).
# The cluster listens on 127.0.0.1 only, with trust authentication, and keeps its unix
# socket inside DIR so it never touches /var/run/postgresql or a system cluster.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
  echo "usage: $0 start|stop|exec DIR [CMD...]" >&2
  exit 2
}

pgbin() {
  local b
  for b in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$b/initdb" ] && { echo "$b"; return 0; }
  done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

ensure_pg() {
  pgbin >/dev/null && return 0
  # make test installs what it needs (scripts/deps.sh lists postgresql-15 for tests).
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "pg-test: installing postgresql-15" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    postgresql-15 >/dev/null
  pgbin >/dev/null
}

# Run as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# DIR holds only the cluster's address (DIR/uri) and where it lives (DIR/pgdir): the
# cluster itself goes in a fresh /tmp directory that the postgres user owns, since DIR's
# parents (a build tree under a 0700 home) may be closed to it.
start() {
  ensure_pg
  local bin port i pgdir durability
  bin=$(pgbin)
  mkdir -p "$dir"
  if [ -f "$dir/uri" ] && [ -f "$dir/pgdir" ] &&
     as_owner "$bin/pg_ctl" -D "$(cat "$dir/pgdir")/data" status >/dev/null 2>&1; then
    cat "$dir/uri"
    return 0
  fi
  stop_cluster
  pgdir=$(mktemp -d /tmp/engram-pg.XXXXXX)
  chmod 755 "$pgdir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$pgdir"
  echo "$pgdir" >"$dir/pgdir"
  as_owner "$bin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log" >&2; return 1; }
  # Tests throw the data away: no fsync. PG_TEST_DURABLE=1 (benchmarks) keeps the
  # defaults, so a commit is on disk when acknowledged, as with SQLite's synchronous=FULL.
  durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_TEST_DURABLE:-0}" = 1 ] && durability=""
  # A free port can be taken between the probe and the bind: try a few.
  for i in 1 2 3 4 5; do
    port=$(free_port)
    # One line: pg_ctl hands -o to a shell, where a newline would end the command.
    echo "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$pgdir" \
      "-c max_connections=200 -c shared_buffers=128MB $durability ${PG_TEST_OPTS:-}" \
      >"$pgdir/opts"
    if as_owner "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
         -o "$(cat "$pgdir/opts")" start >/dev/null 2>&1; then
      break
    fi
    port=""
  done
  [ -n "$port" ] || { cat "$pgdir/server.log" >&2; return 1; }
  as_owner "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE engram" >/dev/null
  echo "postgresql://postgres@127.0.0.1:$port/engram" >"$dir/uri"
  cat "$dir/uri"
}

stop_cluster() {
  local bin pgdir
  [ -f "$dir/pgdir" ] || return 0
  pgdir=$(cat "$dir/pgdir")
  bin=$(pgbin) || return 0
  if [ -d "$pgdir/data" ]; then
    as_owner "$bin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  case "$pgdir" in /tmp/engram-pg.*) rm -rf "$pgdir" ;; esac
  rm -f "$dir/pgdir" "$dir/uri"
}

stop() {
  stop_cluster
  rmdir "$dir" 2>/dev/null || true
}

# down/up: the same cluster, same port, as a database restart looks to its clients.
down() {
  local pgdir
  pgdir=$(cat "$dir/pgdir")
  as_owner "$(pgbin)/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null
}

up() {
  local pgdir
  pgdir=$(cat "$dir/pgdir")
  as_owner "$(pgbin)/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
    -o "$(cat "$pgdir/opts")" start >/dev/null 2>&1
}

case "$cmd" in
  start) start ;;
  down) down ;;
  up) up ;;
  stop) stop ;;
  exec)
    shift 2
    [ -f "$dir/uri" ] || { echo "pg-test: no cluster in $dir (run start first)" >&2; exit 1; }
    ENGRAM_TEST_PG=$(cat "$dir/uri") exec "$@"
    ;;
  *)
    echo "usage: $0 start|stop|exec DIR [CMD...]" >&2
    exit 2
    ;;
esac
