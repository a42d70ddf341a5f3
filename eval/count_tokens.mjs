// count_tokens.mjs - compare engram's token estimate with a real BPE tokenizer (cl100k_base)
// on the contexts `engram eval locomo --contexts FILE` wrote. Needs the npm package
// gpt-tokenizer, resolved next to the script (ESM ignores NODE_PATH):
//   npm install --prefix /tmp/tok gpt-tokenizer && cp eval/count_tokens.mjs /tmp/tok/
//   node /tmp/tok/count_tokens.mjs /tmp/ctx.jsonl
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import fs from 'fs';
const lines = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n');
let real = 0, est = 0, n = 0, over = 0;
function estimate(t) { // retrieve.c eg_retr_estimate_tokens
  let c = 0, i = 0; const b = Buffer.from(t, 'utf8');
  while (i < b.length) { let k = 0; const x = b[i];
    const isL = v => ((v|32) >= 97 && (v|32) <= 122), isD = v => v >= 48 && v <= 57;
    if (isL(x)) { while (i+k < b.length && isL(b[i+k])) k++; c += 1 + Math.floor((k-1)/7); }
    else if (isD(x)) { while (i+k < b.length && isD(b[i+k])) k++; c += Math.floor((k+2)/3); }
    else if (x >= 0x80) { while (i+k < b.length && b[i+k] >= 0x80) k++; c += Math.floor((k+1)/2); }
    else { k = 1; c += (x === 32 || x === 10 || x === 9 || x === 13) ? 0 : 1; }
    i += k; }
  return c + Math.floor((c + 9) / 10);
}
for (const l of lines) { const f = JSON.parse(l).formatted; if (!f) continue;
  const r = encode(f).length, e = estimate(f); real += r; est += e; n++; if (r > e) over++; }
console.log(`contexts ${n}: mean cl100k ${ (real/n).toFixed(1)}, mean estimate ${(est/n).toFixed(1)}, ratio ${(real/est).toFixed(3)}, contexts where cl100k > estimate: ${over}`);
