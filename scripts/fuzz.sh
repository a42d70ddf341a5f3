#!/usr/bin/env bash
# Build every fuzz/fuzz_*.c target with libFuzzer + ASan + UBSan (clang) and run each one for
# N seconds (default 60) over a scratch copy of its corpus, so new units do not flood the
# repository. Crashes land in build-fuzz/crashes/<target>/; copy a fixed one into
# fuzz/corpus/<target>/ so ctest replays it forever (fuzz/replay.c).
#   scripts/fuzz.sh [seconds] [target...]      e.g. scripts/fuzz.sh 300 fuzz_extract
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
out=build-fuzz
mkdir -p "$out"
CC=${CC:-clang}
CFLAGS="-g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -Isrc"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

# Sources each target needs. The extractor is a pure function and links alone; other
# targets link the whole library.
sources_for() {
  case "$1" in
    fuzz_extract) echo "src/lib/extract_rules.c src/lib/extract_match.c src/lib/extract_date.c src/lib/vocab.c" ;;
    *) echo "src/lib/*.c src/util/*.c" ;;
  esac
}
libs_for() {
  case "$1" in
    fuzz_extract) echo "" ;;
    *) echo "$(pkg-config --libs sqlite3 jansson libsodium libcurl libpq) -lstemmer -lpthread -lm" ;;
  esac
}

status=0
for t in "${targets[@]}"; do
  echo "== $t: build"
  # shellcheck disable=SC2046
  $CC $CFLAGS -o "$out/$t" "fuzz/$t.c" $(sources_for "$t") $(libs_for "$t")
  mkdir -p "$out/corpus/$t" "$out/crashes/$t" "fuzz/corpus/$t"
  echo "== $t: fuzz for ${secs}s"
  if ! "$out/$t" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
       -artifact_prefix="$out/crashes/$t/" "$out/corpus/$t" "fuzz/corpus/$t"; then
    echo "== $t: CRASH, inputs in $out/crashes/$t/" >&2
    status=1
  fi
done
exit $status
