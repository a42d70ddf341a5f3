#!/usr/bin/env bash
# http_scale.sh - does latency stay flat as the store grows? (bench/RESULTS.md, "HTTP server")
#
#   bench/http_scale.sh [BUILD_DIR]        (default: build)
#
# Writes three stores with gen_store (1,000 / 10,000 / 100,000 scopes x 10 turns, i.e. 10k,
# 100k and 1M turns; existing files are reused) and, for each, serves it and runs context and
# profile at 1 connection (the cost of one request) and at 64 (throughput under queueing).
# Env: SECS (seconds per run, default 5), DIR (where stores go, default /tmp).
set -euo pipefail
build=${1:-build}
secs=${SECS:-5}
dir=${DIR:-/tmp}
for scopes in 1000 10000 100000; do
  store="$dir/engram-bench-$scopes.db"
  [ "$scopes" = 100000 ] && [ -f "$dir/engram-bench.db" ] && store="$dir/engram-bench.db"
  [ -f "$store" ] || "$build/gen_store" --db "$store" --scopes "$scopes" --turns 10 --threads 2 >/dev/null
  log=$(mktemp /tmp/engram-scale.XXXXXX.log)
  "$build/engram" --db "$store" serve --listen 127.0.0.1:0 --no-access-log 2>"$log" &
  pid=$!
  url=
  for _ in $(seq 300); do
    url=$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)
    [ -n "$url" ] && curl -sf "$url/healthz" >/dev/null && break
    sleep 0.1
  done
  for conns in 1 64; do
    for mode in context profile; do
      echo "turns=$((scopes * 10)) $("$build/load" --url "$url" --mode $mode --connections $conns \
        --seconds "$secs" --scopes "$scopes" | head -1)"
    done
  done
  kill -TERM $pid
  wait $pid || true
  rm -f "$log"
done
