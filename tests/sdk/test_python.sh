#!/usr/bin/env bash
# The Python SDK's pytest suite against a real engram serve (the fixtures start it), plus an
# offline `pip install` of sdk/python into a temporary directory.
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
export PYTHONDONTWRITEBYTECODE=1

# Debian's python3-pytest installs for /usr/bin/python3; another python3 may come first in PATH.
PY=
for cand in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import pytest' 2>/dev/null; then
        PY=$cand
        break
    fi
done
if [ -z "$PY" ]; then
    echo "test_python: pytest not found (apt-get install python3-pytest)" >&2
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/engram-sdk-py.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# pip install must work offline: the package builds with its own stdlib-only backend.
if "$PY" -m pip --version >/dev/null 2>&1; then
    cp -r "$ROOT/sdk/python" "$TMP/src"
    rm -rf "$TMP/src/tests"
    "$PY" -m pip install -q --no-index --disable-pip-version-check --target "$TMP/site" "$TMP/src" 2>&1 \
        | grep -v 'Running pip as the' || true
    (cd "$TMP" && PYTHONPATH="$TMP/site" "$PY" -c 'import engram, sys; assert engram.__file__.startswith(sys.argv[1]), engram.__file__' "$TMP/site")
    echo "test_python: pip install sdk/python (offline) ok"
fi

cd "$ROOT/sdk/python"
exec "$PY" -m pytest -q -p no:cacheprovider -o "cache_dir=$TMP/.pytest_cache" tests "$@"
