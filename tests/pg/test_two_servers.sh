#!/usr/bin/env bash
# test_two_servers.sh - two `engram serve` processes on one PostgreSQL database, concurrent
# ingest for the same users through both, then a consistency check over SQL (see
# two_servers.py). This is the proof that supersession stays correct across nodes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pg_env.sh"
db=engram_two_$$
tmp=$(mktemp -d /tmp/engram-two.XXXXXX)
cleanup() {
  drop_db "$db"
  rm -rf "$tmp"
  pg_cleanup
}
trap cleanup EXIT
uri=$(new_db "$db")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
python3 "$here/two_servers.py" "$uri" "$tmp"
