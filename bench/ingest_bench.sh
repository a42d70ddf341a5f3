#!/usr/bin/env bash
# ingest_bench.sh BUILD_DIR - durable ingest with inline rule extraction, in-process and over
# HTTP, each on a fresh store (bench/RESULTS.md, "Ingest"). Needs gen_store, engram and load
# built in BUILD_DIR; ENGRAM_DATA as for the server (word vectors on: `make data`).
#
#   in-process: gen_store --via turns (one turn per call, 64 threads) and --via batch (one
#               scope's 10 turns per call, 8 threads), 30,000 turns each
#   HTTP:       load --mode ingest, 1 turn per request at 64 connections, and --batch 50 at
#               16 connections, SECONDS_PER_RUN seconds each: synthetic turns (every one a
#               user's fact, the worst case), then LoCoMo's conversations replayed (user and
#               assistant turns, some with facts) when LOCOMO names locomo10.json (default:
#               ../shared/datasets/locomo/locomo10.json, skipped when absent)
set -euo pipefail
b=${1:?usage: ingest_bench.sh BUILD_DIR}
secs=${SECONDS_PER_RUN:-8}
tmp=$(mktemp -d /tmp/engram-ingest.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

echo "# $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for via in turns batch; do
  threads=64; [ "$via" = batch ] && threads=8
  start=$(date +%s.%N)
  "$b/gen_store" --db "$tmp/$via.db" --scopes 3000 --turns 10 --threads $threads --via $via >/dev/null 2>"$tmp/gen.err" ||
    { cat "$tmp/gen.err" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v v=$via -v t=$threads -v s="$start" -v e="$end" \
    'BEGIN { printf "in-process --via %-5s %2d threads: 30000 turns in %.2f s = %.0f turns/s\n", v, t, e - s, 30000 / (e - s) }'
done

"$b/engram" --db "$tmp/http.db" serve --listen 127.0.0.1:0 --no-access-log 2>"$tmp/serve.log" &
for _ in $(seq 100); do
  url=$(grep -o '"url":"[^"]*"' "$tmp/serve.log" 2>/dev/null | head -1 | cut -d'"' -f4) && [ -n "$url" ] && break
  sleep 0.05
done
[ -n "${url:-}" ] || { cat "$tmp/serve.log" >&2; exit 1; }
"$b/load" --url "$url" --mode ingest --connections 64 --seconds "$secs" --scopes 100000 | head -1
"$b/load" --url "$url" --mode ingest --batch 50 --connections 16 --seconds "$secs" --scopes 100000 | head -1
locomo=${LOCOMO:-../shared/datasets/locomo/locomo10.json}
if [ -f "$locomo" ]; then
  "$b/load" --url "$url" --mode ingest --conversations "$locomo" --connections 64 --seconds "$secs" --scopes 100000 | head -1
  "$b/load" --url "$url" --mode ingest --conversations "$locomo" --batch 50 --connections 16 --seconds "$secs" --scopes 100000 | head -1
fi
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
