#!/usr/bin/env bash
# test_http.sh - ctest entry for the HTTP API: runs http_test.py against $ENGRAM_BIN (a real
# `engram serve` on a free loopback port and a temporary SQLite file). See http_test.py for
# what is covered. Needs only python3's standard library. Under the sanitized build a leak or
# UB report makes the server exit nonzero, which the SIGTERM/SIGINT checks catch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ENGRAM_BIN:?ENGRAM_BIN must point at the built engram binary}"
exec python3 "$here/http_test.py"
