#!/usr/bin/env bash
# Ban the C functions we never want (curl's checksrc): unbounded copies and unchecked parses.
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|gets)\s*\(' src include bench tests fuzz -r --include='*.c' --include='*.h'; then
  echo "check-src: banned function used (see above)" >&2; exit 1
fi
echo "check-src: ok"
