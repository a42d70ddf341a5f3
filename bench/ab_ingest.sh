#!/usr/bin/env bash
# ab_ingest.sh BUILD_A BUILD_B ROUNDS [load options] - two builds' HTTP ingest, run by run.
#
# The host's speed drifts by up to 40% from hour to hour, so two builds are compared by
# alternating 6-second runs (A, B, A, B, ...), each on a fresh store, and comparing means.
# Load options default to "--batch 50 --connections 16" (synthetic turns); e.g. add
# "--conversations ../shared/datasets/locomo/locomo10.json" for LoCoMo's conversations, or
# "--connections 64" for one turn per request. STORE=FILE runs each on a fresh copy of that
# store (e.g. the 1,000,000-turn /tmp/engram-bench.db of http_bench.sh) instead of an empty
# one. Needs engram in both build dirs and load in BUILD_B. Prints one line per run
# (turns/s, or requests/s without --batch) and the means.
set -euo pipefail
a=${1:?usage: ab_ingest.sh BUILD_A BUILD_B ROUNDS [load options]}
b=${2:?}
rounds=${3:?}
shift 3
[ $# -gt 0 ] || set -- --batch 50 --connections 16
tmp=$(mktemp -d /tmp/engram-ab.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

for r in $(seq "$rounds"); do
  for build in "$a" "$b"; do
    rm -f "$tmp"/h.db*
    [ -z "${STORE:-}" ] || cp "$STORE" "$tmp/h.db"
    "$build/engram" --db "$tmp/h.db" serve --listen 127.0.0.1:0 --no-access-log 2>"$tmp/s.log" &
    pid=$!
    url=
    for _ in $(seq 100); do
      url=$(grep -o '"url":"[^"]*"' "$tmp/s.log" 2>/dev/null | head -1 | cut -d'"' -f4) && [ -n "$url" ] && break
      sleep 0.05
    done
    line=$("$b/load" --url "$url" --mode ingest "$@" --seconds 6 --scopes 100000 | head -1)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$r $build $(echo "$line" | grep -o 'turns=[0-9]*\|rate=[0-9]*' | tail -1) $(echo "$line" | grep -o 'p99=[0-9.]*ms')"
  done
done | awk '{ print; split($3, v, "="); sum[$2] += v[2]; n[$2]++ }
            END { for (k in sum) printf "mean %s %.0f\n", k, sum[k] / n[k] }'
