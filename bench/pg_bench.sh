#!/usr/bin/env bash
# pg_bench.sh - the PostgreSQL numbers of bench/RESULTS.md ("PostgreSQL").
#
#   bench/pg_bench.sh [BUILD_DIR] [SQLITE_STORE]     (defaults: build, /tmp/engram-bench.db)
#
# 1. starts (or reuses) a throwaway PostgreSQL 15 cluster with scripts/pg-test.sh in
#    $PG_BENCH_DIR (default /tmp/engram-pgbench), unless PG_URI names a database to use;
# 2. loads it once with the same store as the SQLite runs of http_bench.sh: the SQLite
#    bench store (written by gen_store if missing: 100,000 scopes x 10 turns) copied table
#    by table with COPY, so both backends are measured on the same rows;
# 3. loads one `engram serve` with bench/load at $CONNS connections: context, profile,
#    ingest; then two servers on the same database, $CONNS/2 connections each, at once.
# 4. with SQLITE_BASELINE=1, the same one-server loads on a private copy of the SQLite store
#    (ingest writes to it; the shared bench store is never touched), for a same-run
#    comparison on a machine whose load varies.
# Env: SECONDS_PER_RUN (default 10), CONNS (64), SERVE_ARGS (extra serve options).
# The cluster is left running (reuse on the next run); stop it with
#   scripts/pg-test.sh stop /tmp/engram-pgbench
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
store=${2:-/tmp/engram-bench.db}
secs=${SECONDS_PER_RUN:-10}
conns=${CONNS:-64}
state=${PG_BENCH_DIR:-/tmp/engram-pgbench}
for b in engram load gen_store; do
  [ -x "$build/$b" ] || { echo "pg_bench: $build/$b is missing (cmake --build $build)" >&2; exit 1; }
done
PSQL=psql
command -v psql >/dev/null || PSQL=/usr/lib/postgresql/15/bin/psql

echo "# $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
# Durable settings (fsync on), as the SQLite store runs with synchronous=FULL.
uri=${PG_URI:-$(PG_TEST_DURABLE=1 bash "$src/scripts/pg-test.sh" start "$state")}
echo "# PostgreSQL: $("$PSQL" -X -At "$uri" -c 'SHOW server_version') at $uri"
q() { "$PSQL" -X -At -v ON_ERROR_STOP=1 "$uri" "$@"; }

"$build/engram" --db "$uri" keys list >/dev/null # creates / migrates the schema
if [ "$(q -c 'SELECT count(*) > 0 FROM (SELECT 1 FROM turns LIMIT 1) t')" != t ]; then
  if [ ! -f "$store" ]; then
    echo "# generating $store"
    "$build/gen_store" --db "$store" --scopes 100000 --turns 10 --threads 2
  fi
  echo "# copying $store into PostgreSQL"
  t0=$(date +%s)
  # copy TABLE "pg columns" "sqlite select": CSV with \N for NULL, so '' stays ''.
  copy() {
    sqlite3 -readonly -csv -nullvalue '\N' "$store" "$3" |
      q -c "\\copy $1($2) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
  }
  copy sessions "id, context, scope, created_at, metadata" \
    "SELECT id, context, scope, created_at, metadata FROM sessions"
  copy entities "id, context, scope, type, name, created_at" \
    "SELECT id, context, scope, type, name, created_at FROM entities"
  copy turns "rid, id, context, scope, session_id, role, content, created_at, recorded_at, metadata" \
    "SELECT rid, id, context, scope, session_id, role, content, created_at, recorded_at, metadata FROM turns"
  copy attributes "rid, id, context, scope, entity_id, category, key, value, confidence, importance, source_turn, valid_from, valid_until, recorded_at, supersedes" \
    "SELECT rid, id, context, scope, entity_id, category, key, value, confidence, importance, source_turn, valid_from, valid_until, recorded_at, supersedes FROM attributes"
  copy audit "rid, id, context, scope, at, actor, action, target, detail, request_id" \
    "SELECT rid, id, context, scope, at, actor, action, target, detail, request_id FROM audit"
  copy idempotency "context, key, scope, request_hash, response, created_at" \
    "SELECT context, key, scope, request_hash, response, created_at FROM idempotency"
  for t in turns attributes audit; do
    q -c "SELECT setval(pg_get_serial_sequence('$t', 'rid'), (SELECT coalesce(max(rid), 0) + 1 FROM $t), false)" >/dev/null
  done
  q -c "VACUUM ANALYZE" >/dev/null
  echo "# copied in $(($(date +%s) - t0)) s: $(q -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
fi
echo "# store: $(q -c "SELECT (SELECT count(*) FROM turns) || ' turns, ' || (SELECT count(*) FROM attributes) || ' attributes, ' || (SELECT count(DISTINCT scope) FROM entities) || ' scopes'")"

pids=()
logs=()
stop_servers() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_servers EXIT

# serve [STORE]: start one server (default: the PostgreSQL store); sets $url. (Not a $(...) function: the server would inherit
# the substitution's pipe and keep it open.)
serve() {
  local log
  log=$(mktemp /tmp/engram-pgbench-serve.XXXXXX.log)
  # shellcheck disable=SC2086
  "$build/engram" --db "${1:-$uri}" serve --listen 127.0.0.1:0 ${SERVE_ARGS:-} >/dev/null 2>"$log" &
  pids+=($!)
  logs+=("$log")
  url=""
  for _ in $(seq 300); do
    url=$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)
    [ -n "$url" ] && curl -sf "$url/healthz" >/dev/null && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "server did not start:" >&2; cat "$log" >&2; exit 1; }
}

# run MODE CONNS URL...: one bench/load per URL at once, CONNS connections each; prints
# each load's line, then the sum of the rates.
run() {
  local mode=$1 c=$2 out=() lp=() i=0 u j
  shift 2
  for u in "$@"; do
    out+=("$(mktemp)")
    "$build/load" --url "$u" --mode "$mode" --connections "$c" --seconds "$secs" \
      --scopes 100000 >"${out[$i]}" &
    lp+=($!)
    i=$((i + 1))
  done
  for j in "${lp[@]}"; do wait "$j" || true; done
  for f in "${out[@]}"; do head -1 "$f" | sed 's/^/  /'; done
  if [ $# -gt 1 ]; then
    python3 - "${out[@]}" <<'EOF'
import json, sys
runs = [json.loads(open(f).read().splitlines()[1]) for f in sys.argv[1:]]
print("  total    rate=%.0f/s over %d servers, errors=%d, worst p99=%.3fms" % (
    sum(r["rate"] for r in runs), len(runs), sum(r["errors"] for r in runs),
    max(r["p99_ms"] for r in runs)))
EOF
  fi
  rm -f "${out[@]}"
}

serve
a=$url
echo "## one server ($a), $conns connections"
for mode in context profile ingest; do run "$mode" "$conns" "$a"; done
serve
b=$url
echo "## two servers ($a, $b), $((conns / 2)) connections each"
for mode in context profile ingest; do run "$mode" $((conns / 2)) "$a" "$b"; done
stop_servers
if [ "${SQLITE_BASELINE:-0}" = 1 ]; then
  copy=/tmp/engram-pgbench-sqlite.db
  rm -f "$copy" "$copy-wal" "$copy-shm"
  sqlite3 -readonly "$store" ".backup '$copy'"
  serve "$copy"
  echo "## SQLite baseline, one server on a copy of $store ($url), $conns connections"
  for mode in context profile ingest; do run "$mode" "$conns" "$url"; done
  stop_servers
  rm -f "$copy" "$copy-wal" "$copy-shm"
fi
echo "# store after: $(q -c "SELECT (SELECT max(rid) FROM turns) || ' turns (max rid)'")"
