#!/usr/bin/env bash
# Run every example against a fresh engram server and check its output.
#
#   examples/run.sh [python|ts|all]      (default all; ts is skipped when node is missing)
#
# Each example gets its own server on a temporary database and a free loopback port, so the
# "nothing stored yet" steps start from empty memory. The binary is $ENGRAM_BIN (default
# build/engram). The TypeScript SDK is built first when sdk/ts/dist is missing (npm ci + tsc),
# and linked as examples/ts/node_modules/engram so `import { Engram } from "engram"` resolves.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${ENGRAM_BIN:-$ROOT/build/engram}
WHICH=${1:-all}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export PYTHONDONTWRITEBYTECODE=1
PY=${PYTHON:-python3}

if [ ! -x "$BIN" ]; then
    echo "examples: engram binary not found at $BIN (run make build, or set ENGRAM_BIN)" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/engram-examples.XXXXXX")
SERVER_PID=
cleanup() {
    stop_server
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_server() { # $1: name
    local port
    port=$(free_port)
    "$BIN" --db "$TMP/$1.db" serve --listen "127.0.0.1:$port" >"$TMP/$1.serve.log" 2>&1 &
    SERVER_PID=$!
    export ENGRAM_URL="http://127.0.0.1:$port"
    "$PY" - "$ENGRAM_URL" "$SERVER_PID" <<'PYEOF' || { cat "$TMP/$1.serve.log" >&2; return 1; }
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("engram serve exited early")
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit("engram serve did not become healthy")
PYEOF
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
    fi
}

FAILS=0
PASSES=0
OUT=

expect() { # regex description
    if grep -Eq -- "$1" "$OUT"; then
        PASSES=$((PASSES + 1))
    else
        echo "  FAIL: $2 (expected a line matching /$1/)"
        FAILS=$((FAILS + 1))
    fi
}

reject() { # regex description
    if grep -Eq -- "$1" "$OUT"; then
        echo "  FAIL: $2 (unexpected line matching /$1/: $(grep -E -- "$1" "$OUT" | head -1))"
        FAILS=$((FAILS + 1))
    else
        PASSES=$((PASSES + 1))
    fi
}

check_chatbot() {
    expect '^\[shape 1\] memory (added|updated): location = London' "shape 1: the chat diff records London"
    expect '^\[shape 1\] assistant: .*London' "shape 1: agent_fn saw the profile with London"
    expect '^\[shape 2\] new session reply: .*London' "shape 2: a new session knows the earlier facts"
    expect '^profile summary: .*London' "profile summary mentions London"
    expect '^profile summary: .*Acme' "profile summary mentions the employer"
    reject '^profile summary: .*Berlin' "the superseded city is not in the profile"
    # Seed 000: "I just moved to the platform team." updates the role (with a chain), it is
    # not a move to a place.
    expect '^profile identity: (role|team) = .*[Pp]latform' "'moved to the platform team' updates the role/team"
    reject '^profile identity: location = .*[Pp]latform' "'the platform team' is not a location"
}

check_minimal_integration() {
    expect '^prompt unchanged: True' "no memory: the prompt is left unchanged (if ctx.formatted guard)"
    if [ "$(grep -m1 '^prompt unchanged:' "$OUT")" != "prompt unchanged: True" ]; then
        echo "  FAIL: the first call (empty memory) changed the prompt"
        FAILS=$((FAILS + 1))
    fi
    expect '^prompt unchanged: False' "relevant memory is injected"
    expect '^reply: .*PostgreSQL' "the LLM received the stored fact"
    expect '^about this user: .*Lisbon' "profile injection at session start"
    expect '^user sees org memory: True' "scope floor: the user sees org-wide memory"
    expect "^bob sees alice's city: False" "scope floor: another user does not see hers"
}

check_personal_assistant() {
    expect 'memory updated: identity/location = London \(was Berlin\)' "the move updates location with a chain"
    expect '^profile summary: .*London' "profile summary mentions London"
    reject '^profile summary: .*Berlin' "the old city is no longer in the active profile"
    expect '^profile summary: .*Acme' "profile summary has the employer before forget"
    expect '^chat response: .*' "agent_fn chat answered"
    expect '^forgot employer: [1-9]' "forget by attribute key expired the employer"
    expect '^forgot context: [1-9]' "forget by category expired the context facts"
    expect '^category context: $' "no context facts remain"
    reject '^profile after forget: .*Acme' "the employer is gone from the profile"
    expect '^profile after forget: .*London' "other facts are kept"
}

run_example() { # lang name command...
    local lang=$1 name=$2
    shift 2
    OUT="$TMP/$lang.$name.out"
    echo "== $lang/$name"
    if ! start_server "$lang.$name"; then
        echo "  FAIL: could not start engram serve"
        FAILS=$((FAILS + 1))
        return
    fi
    if ! "$@" >"$OUT" 2>&1; then
        echo "  FAIL: $lang/$name exited with an error:"
        sed 's/^/    /' "$OUT" | tail -20
        FAILS=$((FAILS + 1))
        stop_server
        return
    fi
    stop_server
    local before=$FAILS
    "check_$name"
    if [ "$FAILS" -ne "$before" ] || [ -n "${VERBOSE:-}" ]; then
        sed 's/^/    | /' "$OUT" | cut -c1-220
    fi
}

EXAMPLES="chatbot minimal_integration personal_assistant"

if [ "$WHICH" = all ] || [ "$WHICH" = python ]; then
    for ex in $EXAMPLES; do
        run_example python "$ex" env PYTHONPATH="$ROOT/sdk/python" "$PY" "$ROOT/examples/python/$ex.py"
    done
fi

if [ "$WHICH" = all ] || [ "$WHICH" = ts ]; then
    if ! command -v node >/dev/null 2>&1; then
        echo "== ts: SKIP (node not found)"
    else
        if [ ! -f "$ROOT/sdk/ts/dist/index.js" ]; then
            echo "== building sdk/ts"
            (cd "$ROOT/sdk/ts" && npm ci --no-audit --no-fund >/dev/null && npm run --silent build) || {
                echo "  FAIL: could not build sdk/ts"
                exit 1
            }
        fi
        mkdir -p "$ROOT/examples/ts/node_modules"
        ln -sfn ../../../sdk/ts "$ROOT/examples/ts/node_modules/engram"
        for ex in $EXAMPLES; do
            run_example ts "$ex" node "$ROOT/examples/ts/$ex.mjs"
        done
    fi
fi

echo "examples: $PASSES checks passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
