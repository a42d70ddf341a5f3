#!/usr/bin/env bash
# run.sh - `make run`: start engram serve on ./engram.db at 127.0.0.1:8420 in the
# foreground, after saying where it is and how to talk to it. Ctrl-C drains and stops.
#   usage: scripts/run.sh path/to/engram [extra serve options]
set -euo pipefail
bin=${1:-build/engram}
shift || true
db=${ENGRAM_DB:-./engram.db}
listen=${ENGRAM_LISTEN:-127.0.0.1:8420}
url="http://${listen}"
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin is not built; run 'make build' first" >&2
  exit 1
fi
cat <<MSG
engram serve: $url  (store: $db; Ctrl-C to stop)

  curl -s $url/healthz
  curl -s -X POST $url/api/v1/assistant/turns -H 'Content-Type: application/json' \\
       -d '{"scope":{"user":"alice"},"role":"user","content":"I live in London and prefer TypeScript."}'
  curl -s -X POST $url/api/v1/assistant/profile -H 'Content-Type: application/json' \\
       -d '{"scope":{"user":"alice"}}'

MSG
exec "$bin" --db "$db" serve --listen "$listen" "$@"
