#!/usr/bin/env bash
# The TypeScript SDK: install its one dev dependency (typescript) from the npm registry with the
# lockfile, build with tsc (strict), and run node --test against a real engram serve.
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

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "test_ts: node/npm not found (apt-get install nodejs npm; Node 20+)" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "test_ts: Node $major is too old; the SDK needs Node 20+" >&2
    exit 1
fi

# Concurrent ctest jobs (test_examples also builds the SDK) must not run npm ci or tsc at
# once, nor rebuild dist/ while another job imports it: exclusive to build, shared to use.
exec 9>"${TMPDIR:-/tmp}/engram-sdk-ts.lock"
flock 9
if [ ! -x "$ROOT/sdk/ts/node_modules/.bin/tsc" ] || [ "$ROOT/sdk/ts/package-lock.json" -nt "$ROOT/sdk/ts/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$ROOT/sdk/ts" --no-audit --no-fund --prefer-offline
fi
npm run --prefix "$ROOT/sdk/ts" --silent build
flock -s 9  # keep a shared lock while dist/ is in use: no rebuild under our feet
# The seeds' TypeScript call shapes (and the batch ones) type-check under strict mode.
"$ROOT/sdk/ts/node_modules/.bin/tsc" -p "$ROOT/sdk/ts/test/tsconfig.json"

cd "$ROOT/sdk/ts"
exec node --test test/*.test.mjs
