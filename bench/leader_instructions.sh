#!/usr/bin/env bash
# leader_instructions.sh BUILD_DIR - instructions per ingested turn in the ingest leader's
# serial section (turn_one and the commit), counted by callgrind, so that changes to the write
# path compare exactly whatever the host's speed (bench/RESULTS.md, "Ingest").
#
# 5,000 turns: gen_store --scopes 100 --turns 50 --threads 16 --via batch (a scope's 50
# turns per call, 16 threads, so the group commit forms batches of several requests).
# Needs valgrind and gen_store built in BUILD_DIR (a Release build); ENGRAM_DATA as usual.
set -euo pipefail
b=${1:?usage: leader_instructions.sh BUILD_DIR}
tmp=$(mktemp -d /tmp/engram-leader.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
  --toggle-collect=turn_one --toggle-collect=sq_commit --toggle-collect=sq_commit_async \
  "$b/gen_store" --db "$tmp/g.db" --scopes 100 --turns 50 --threads 16 --via batch \
  >/dev/null 2>"$tmp/log"
ir=$(grep -o 'refs: *[0-9,]*' "$tmp/log" | tr -dc 0-9)
echo "$((ir / 5000)) instructions per turn in the leader ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
