#!/usr/bin/env bash
# test_restart.sh - the database restarts under a running `engram serve`: while it is down
# the server answers 503 {"error":{"code":"unavailable"}} (never hangs, never crashes), and
# once it is back the next requests succeed on a fresh connection without restarting
# engram. Uses a private cluster, since it stops the server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ENGRAM_BIN:?ENGRAM_BIN must point at the built engram binary}"
: "${ENGRAM_SOURCE_DIR:?ENGRAM_SOURCE_DIR must point at the source tree}"
unset ENGRAM_PG_DIR
. "$here/pg_env.sh"
tmp=$(mktemp -d /tmp/engram-restart.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
  pg_cleanup
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$tmp/server.log" | tail -20; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

"$ENGRAM_BIN" --db "$PG_BASE" serve --listen 127.0.0.1:0 --no-access-log 2>"$tmp/server.log" &
pid=$!
url=""
for _ in $(seq 1 200); do
  url=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    try: j = json.loads(l)
    except ValueError: continue
    if j.get("msg") == "listening": print(j["url"])' "$tmp/server.log")
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || fail "server did not start"

post() { # post CONTENT -> prints the HTTP status, body in $tmp/body
  curl -s -m 30 -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"scope\":\"user/alice\",\"role\":\"user\",\"content\":\"$1\"}" \
    "$url/api/v1/assistant/turns"
}

[ "$(post "I live in Paris.")" = 200 ] || fail "first turn: $(cat "$tmp/body")"
bash "$PG_SCRIPT" down "$PG_OWN_DIR"
code=$(post "I live in Rome.")
[ "$code" = 503 ] || fail "with the database down: HTTP $code $(cat "$tmp/body")"
grep -q '"unavailable"' "$tmp/body" || fail "503 without code unavailable: $(cat "$tmp/body")"
code=$(post "I live in Rome.")
[ "$code" = 503 ] || fail "still down, second try: HTTP $code"
bash "$PG_SCRIPT" up "$PG_OWN_DIR"
code=$(post "I live in Oslo.")
[ "$code" = 200 ] || fail "after the database came back: HTTP $code $(cat "$tmp/body")"
grep -q '"updated"' "$tmp/body" || fail "no supersession after reconnect: $(cat "$tmp/body")"
curl -s -m 30 -o "$tmp/body" -H 'Content-Type: application/json' \
  -d '{"scope":"user/alice"}' "$url/api/v1/assistant/profile"
grep -q 'Oslo' "$tmp/body" || fail "profile after reconnect: $(cat "$tmp/body")"
kill "$pid"
wait "$pid" || fail "server exited uncleanly"
pid=""
echo "ok: 503 unavailable while PostgreSQL is down, healed after it restarted"
