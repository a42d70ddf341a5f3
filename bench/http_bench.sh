#!/usr/bin/env bash
# http_bench.sh - the HTTP server benchmark of bench/RESULTS.md ("HTTP server").
#
#   bench/http_bench.sh [BUILD_DIR] [STORE]     (defaults: build, /tmp/engram-bench.db)
#
# 1. writes the store once if missing (gen_store: 100,000 scopes x 10 turns through the
#    library -> 1,000,000 turns, ~1,000,000 attributes). Ingest adds turns to it: run on a
#    copy (cp /tmp/engram-bench.db /tmp/mine.db) to keep the original as generated;
# 2. starts engram serve on it on a free port (its access log goes to a file);
# 3. a bare libmicrohttpd handler (the floor) and /healthz, closed loop, then open loop at
#    FLOOR_RATE/s: the p99 an almost free request gets on this machine at that moment;
# 4. context and profile: closed loop (the saturated rate), then open loop (bench/load
#    --rate) at 25%, 50% and 75% of that rate, where latency is service time plus honest
#    queueing rather than 64 requests always waiting on 2 cores;
# 5. ingest, durable, closed loop: one turn per request, then BATCH turns per request.
# Each line is prefixed with the 1-minute load average, since other work shares the machine
# (it counts this benchmark's own threads too: 64 server threads make it read 3-5 on their own).
# Env: SECONDS_PER_RUN (default 10), CONNS (64), BATCH (50), FLOOR_RATE (1000),
# SERVE_ARGS (extra serve options).
set -euo pipefail
build=${1:-build}
store=${2:-/tmp/engram-bench.db}
secs=${SECONDS_PER_RUN:-10}
conns=${CONNS:-64}
batch=${BATCH:-50}
floor_rate=${FLOOR_RATE:-1000}

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

loadavg() { cut -d' ' -f1 /proc/loadavg; }
# run ARGS...: one human line, prefixed by the load average; the JSON line goes to $last.
last=
run() {
  local out
  out=$("$build/load" --connections "$conns" --seconds "$secs" "$@" || true)
  echo "load=$(loadavg) $(echo "$out" | head -1)"
  last=$(echo "$out" | tail -1)
}
rate_of() { echo "$last" | grep -o '"rate":[0-9.]*' | cut -d: -f2 | cut -d. -f1; }

run --mode hello
run --url "$url" --mode healthz
run --mode hello --rate "$floor_rate"
run --url "$url" --mode healthz --rate "$floor_rate"
for mode in context profile; do
  run --url "$url" --mode "$mode" --scopes 100000
  sat=$(rate_of)
  for pct in 25 50 75; do
    r=$((sat * pct / 100))
    [ "$r" -gt 0 ] && run --url "$url" --mode "$mode" --scopes 100000 --rate "$r"
  done
done
run --url "$url" --mode ingest --scopes 100000
run --url "$url" --mode ingest --scopes 100000 --batch "$batch"
curl -s "$url/metrics" | grep -E '^engram_store_(turns|attributes|sessions) ' || true
