#!/usr/bin/env bash
# http_bench.sh - the HTTP server benchmark of bench/RESULTS.md ("HTTP server").
#
#   bench/http_bench.sh [BUILD_DIR] [STORE]     (defaults: build, /tmp/engram-bench.db)
#
# 1. writes the store once if missing (gen_store: 100,000 scopes x 10 turns through the
#    library -> 1,000,000 turns, ~1,000,000 attributes);
# 2. starts engram serve on it on a free port (its access log goes to a file);
# 3. loads it with bench/load at 64 connections: context, profile, then ingest (which
#    adds turns to the same store's scopes, with inline rule extraction, durable);
# 4. loads a bare libmicrohttpd handler in the same run, the floor.
# Env: SECONDS_PER_RUN (default 10), CONNS (64), SERVE_ARGS (extra serve options).
set -euo pipefail
build=${1:-build}
store=${2:-/tmp/engram-bench.db}
secs=${SECONDS_PER_RUN:-10}
conns=${CONNS:-64}

echo "# $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if [ ! -f "$store" ]; then
  echo "# generating $store"
  /usr/bin/time -f '# gen_store: %e s, %M KiB max RSS' "$build/gen_store" --db "$store" --scopes 100000 --turns 10 --threads 2
fi

log=$(mktemp /tmp/engram-bench-serve.XXXXXX.log)
"$build/engram" --db "$store" serve --listen 127.0.0.1:0 ${SERVE_ARGS:-} 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
url=
for _ in $(seq 300); do
  url=$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)
  [ -n "$url" ] && curl -sf "$url/healthz" >/dev/null && break
  sleep 0.1
done
echo "# server: $url ${SERVE_ARGS:-(thread per connection)}, access log -> $log"

"$build/load" --mode hello --connections "$conns" --seconds "$secs" | head -1
"$build/load" --url "$url" --mode healthz --connections "$conns" --seconds "$secs" | head -1
"$build/load" --url "$url" --mode context --connections "$conns" --seconds "$secs" --scopes 100000 | head -1
"$build/load" --url "$url" --mode profile --connections "$conns" --seconds "$secs" --scopes 100000 | head -1
"$build/load" --url "$url" --mode ingest --connections "$conns" --seconds "$secs" --scopes 100000 | head -1
curl -s "$url/metrics" | grep -E '^engram_store_(turns|attributes|sessions) ' || true
