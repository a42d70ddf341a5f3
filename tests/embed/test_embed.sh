#!/usr/bin/env bash
# test_embed.sh - ctest entry for the optional embeddings provider: runs embed_test.py (a fake
# OpenAI-compatible /v1/embeddings server and a real `engram serve` using it). python3 stdlib.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ENGRAM_BIN:?ENGRAM_BIN must point at the built engram binary}"
exec python3 "$here/embed_test.py"
