#!/usr/bin/env bash
# Install the Debian packages engram needs for a purpose: build, test or run. Quiet and fast
# when everything is present; uses sudo when not root. The one list of our system deps.
set -euo pipefail
want=${1:-build}
build="build-essential cmake pkg-config libsqlite3-dev libjansson-dev libmicrohttpd-dev
  libsodium-dev libcurl4-openssl-dev libstemmer-dev libpq-dev wordnet-base curl"
test="$build libcmocka-dev valgrind clang postgresql-15 python3 python3-pytest nodejs npm"
case "$want" in
  build|run) pkgs=$build ;;
  test) pkgs=$test ;;
  *) echo "usage: $0 build|test|run" >&2; exit 1 ;;
esac
missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
# node and python may come from elsewhere (pyenv, nodesource): accept a working binary.
filtered=()
for p in "${missing[@]}"; do
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
    python3) command -v python3 >/dev/null && continue ;;
    python3-pytest) python3 -c 'import pytest' 2>/dev/null && continue ;;
  esac
  filtered+=("$p")
done
[ ${#filtered[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "deps: installing ${filtered[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${filtered[@]}" >/dev/null
