#!/usr/bin/env bash
# Run every unit test binary of a build under valgrind memcheck; fail on any error or leak.
set -euo pipefail
build=${1:-build}
fail=0
for t in "$build"/test_*; do
  [ -x "$t" ] || continue
  echo "valgrind: $t"
  if ! ENGRAM_SOURCE_DIR=$(pwd) valgrind -q --error-exitcode=99 --leak-check=full \
       --errors-for-leak-kinds=definite,indirect "$t" >/tmp/valgrind.$$.log 2>&1; then
    cat /tmp/valgrind.$$.log; fail=1
  fi
done
rm -f /tmp/valgrind.$$.log
exit $fail
