# pg_env.sh - sourced by tests/pg/test_*.sh: a PostgreSQL server and a fresh database.
#
# Uses the cluster of the ctest fixture (ENGRAM_PG_DIR, see CMakeLists.txt) when there is
# one, else starts a private cluster with scripts/pg-test.sh and stops it on exit. Sets:
#   PG_BASE  URI of the server's "engram" database (for admin statements)
#   PSQL     a psql command
# and defines new_db NAME, which creates database NAME and prints its URI.
: "${ENGRAM_BIN:?ENGRAM_BIN must point at the built engram binary}"
: "${ENGRAM_SOURCE_DIR:?ENGRAM_SOURCE_DIR must point at the source tree}"
PG_SCRIPT=$ENGRAM_SOURCE_DIR/scripts/pg-test.sh
if [ -n "${ENGRAM_PG_DIR:-}" ] && [ -f "$ENGRAM_PG_DIR/uri" ]; then
  PG_BASE=$(cat "$ENGRAM_PG_DIR/uri")
else
  PG_OWN_DIR=$(mktemp -d /tmp/engram-pgtest.XXXXXX)
  PG_BASE=$(bash "$PG_SCRIPT" start "$PG_OWN_DIR")
fi
PSQL=psql
command -v psql >/dev/null || PSQL=/usr/lib/postgresql/15/bin/psql
export PG_BASE PSQL

pg_cleanup() {
  if [ -n "${PG_OWN_DIR:-}" ]; then bash "$PG_SCRIPT" stop "$PG_OWN_DIR"; fi
}

# new_db NAME: a fresh database (dropped first if a failed run left it); prints its URI.
new_db() {
  PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 "$PG_BASE" \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1 TEMPLATE template0" \
    >/dev/null
  echo "${PG_BASE%/*}/$1"
}

drop_db() {
  "$PSQL" -X -q "$PG_BASE" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true
}
