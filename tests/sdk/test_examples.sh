#!/usr/bin/env bash
# Every example program (Python and TypeScript, one per seed flow) against a fresh server,
# with its output checked: see examples/run.sh.
set -eu
ROOT=${ENGRAM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export ENGRAM_BIN=${ENGRAM_BIN:-$ROOT/build/engram}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
if [ ! -x "$ENGRAM_BIN" ]; then
    echo "$(basename "$0"): engram binary not found at $ENGRAM_BIN (make build, or set ENGRAM_BIN)" >&2
    exit 1
fi
# Tests run from other directories: make a relative ENGRAM_BIN (build-t/engram) absolute.
ENGRAM_BIN=$(cd "$(dirname "$ENGRAM_BIN")" && pwd)/$(basename "$ENGRAM_BIN")

if command -v node >/dev/null 2>&1; then
    # Build the TS SDK the examples import (shares test_ts.sh's lock: no concurrent npm ci).
    exec 9>"${TMPDIR:-/tmp}/engram-sdk-ts.lock"
    flock 9
    if [ ! -x "$ROOT/sdk/ts/node_modules/.bin/tsc" ]; then
        npm ci --prefix "$ROOT/sdk/ts" --no-audit --no-fund --prefer-offline
    fi
    npm run --prefix "$ROOT/sdk/ts" --silent build
    flock -s 9  # keep a shared lock while dist/ is in use: no rebuild under our feet
fi
exec bash "$ROOT/examples/run.sh" all
