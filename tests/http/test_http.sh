#!/usr/bin/env bash
# test_http.sh - ctest entry for the HTTP API: runs http_test.py against $ENGRAM_BIN.
# See http_test.py for what is covered. Needs only python3's standard library.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ENGRAM_BIN:?ENGRAM_BIN must point at the built engram binary}"
# ASan's leak report at exit would turn a clean SIGTERM into a failure for leaks that
# belong to a sub-process we do not own; keep it on, but make it fail loudly if it trips.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
exec python3 "$here/http_test.py"
