#!/usr/bin/env bash
# test_crash.sh - ctest entry for crash safety: runs crash_test.py against $ENGRAM_BIN (kill -9
# of a real `engram serve` while it ingests, restart on the same SQLite file, then checks that
# every acknowledged turn is there exactly once and searchable). Needs python3's stdlib only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ENGRAM_BIN:?ENGRAM_BIN must point at the built engram binary}"
exec python3 "$here/crash_test.py"
