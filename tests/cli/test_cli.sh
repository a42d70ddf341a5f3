#!/usr/bin/env bash
# The engram CLI as a user runs it: JSON on stdout, one line on stderr and exit 1 for bad
# input, exit 2 for other failures; export | import reproduces a store; erase leaves only a
# tombstone. Runs the real binary ($ENGRAM_BIN) on temporary SQLite files.
set -uo pipefail
BIN=${ENGRAM_BIN:-build/engram}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ENGRAM_DB=$tmp/a.db
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
pass=0 fail=0

check() { # name, condition-result
  if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi
}
# run EXPECTED_EXIT NAME -- args...: stdout to $tmp/out, stderr to $tmp/err
run() {
  local want=$1 name=$2; shift 3
  "$BIN" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $name: exit $got, want $want; stderr: $(cat "$tmp/err")" >&2
    fail=$((fail + 1)); return 1
  fi
  pass=$((pass + 1))
}
json() { python3 -c "import json,sys; d=json.load(open('$tmp/out')); print($1)"; }

run 0 help -- --help
grep -q "engram turn" "$tmp/out"; check "help lists turn" $?

run 0 "session create" -- session create --context assistant --scope user/alice --metadata '{"app":"cli"}'
sid=$(json 'd["id"]')
[[ $sid == ses_* ]]; check "session id prefix" $?

run 0 "first turn" -- turn --context assistant --session "$sid" --role user --content "I live in Berlin" --at 2024-01-05T10:00:00Z
[ "$(json 'd["turn"]["session_id"]')" = "$sid" ]; check "turn in session" $?

run 0 "update turn" -- turn --context assistant --session "$sid" --role user --content "I just moved from Berlin to London" --at 2024-06-01T09:00:00Z
run 0 "assistant turn" -- turn --context assistant --session "$sid" --role assistant --content "You live in Paris now?"
[ "$(json 'len(d["diff"])')" = 0 ]; check "assistant turns carry no user facts" $?

run 0 "session-less turn" -- turn --context assistant --scope org/acme --role user --content "The office wifi password rotates monthly"
run 0 "async turn" -- turn --context assistant --scope user/carol --role user --content "I live in Oslo" --async
[ "$(json 'd["queued"]')" = True ]; check "async turn is queued" $?
run 0 "drain jobs" -- jobs run
[ "$(json 'd["done"]')" = 1 ]; check "one job drained" $?
run 0 "profile after jobs" -- profile --context assistant --scope user/carol
json 'd["summary"]' | grep -q Oslo; check "queued extraction applied" $?
run 1 "jobs usage" -- jobs
run 0 "session get" -- session get --context assistant "$sid"
[ "$(json 'd["turn_count"]')" = 3 ]; check "turn count" $?

run 0 "context" -- context --context assistant --scope org/acme/user/alice --query "wifi password"
[ "$(json 'len(d["items"])')" -ge 1 ]; check "context finds the org-level turn" $?
run 0 "context none" -- context --context assistant --scope user/alice --query "zebra quantum"
[ "$(json 'd["formatted"]')" = "" ]; check "nothing relevant -> empty formatted" $?

run 0 "profile" -- profile --context assistant --scope user/alice
run 0 "attributes" -- attributes --context assistant --scope user/alice --include-expired

# Bad input: exit 1 and one line on stderr.
run 1 "no scope" -- turn --context assistant --role user --content hi
run 1 "bad scope" -- turn --context assistant --scope 'user/a/b' --role user --content hi
[ "$(wc -l <"$tmp/err")" = 1 ]; check "one stderr line" $?
run 1 "bad role" -- turn --context assistant --scope user/a --role robot --content hi
grep -q "role" "$tmp/err"; check "message names the field" $?
run 1 "bad time" -- turn --context assistant --scope user/a --role user --content hi --at yesterday
run 1 "unknown session" -- turn --context assistant --session ses_nope --role user --content hi
run 1 "bad top-k" -- context --context assistant --scope user/a --query x --top-k zero
run 1 "unknown option" -- profile --context assistant --scope user/a --bogus
run 1 "unknown command" -- frobnicate
run 1 "invalid utf-8" -- turn --context assistant --scope user/a --role user --content $'\xff\xfe'
run 1 "forget needs a selector" -- forget --context assistant --scope user/alice
# Other failures: exit 2.
mkdir -p "$tmp/dir.db"
run 2 "store is a directory" -- --db "$tmp/dir.db" profile --context assistant --scope user/a

# Export | import reproduces the store; erase leaves only the tombstone.
run 0 "export" -- export --context assistant --scope user/alice
cp "$tmp/out" "$tmp/export1.jsonl"
grep -q '"type":"turn"' "$tmp/export1.jsonl"; check "export has turns" $?
run 0 "import" -- --db "$tmp/b.db" import --context assistant "$tmp/export1.jsonl"
run 0 "re-export" -- --db "$tmp/b.db" export --context assistant --scope user/alice
cmp -s "$tmp/out" "$tmp/export1.jsonl"; check "import(export) == export" $?
run 1 "import twice conflicts" -- --db "$tmp/b.db" import --context assistant "$tmp/export1.jsonl"
printf 'garbage\n' >"$tmp/bad.jsonl"
run 1 "import junk" -- --db "$tmp/b.db" import --context assistant "$tmp/bad.jsonl"
run 1 "import missing file" -- --db "$tmp/b.db" import --context assistant "$tmp/none.jsonl"

run 0 "erase" -- erase --context assistant --scope user/alice
[ "$(json 'd["turns"]')" = 3 ]; check "erase counts turns" $?
run 0 "export after erase" -- export --context assistant --scope user/alice
! grep -q 'Berlin' "$tmp/out"; check "no content survives erase" $?
grep -q '"action":"erase"' "$tmp/out"; check "tombstone in audit" $?
run 0 "org turn survives" -- context --context assistant --scope org/acme --query "wifi password"
[ "$(json 'len(d["items"])')" -ge 1 ]; check "erase of user/alice keeps org/acme" $?

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
