/**
 * The WebAssembly deflate encoder (wasm/deflate-encode.ts): every stream it writes inflates
 * (node:zlib, and our portable fflate reader) to its input, at every setting, on random,
 * structured, incompressible, all-zero and repetitive inputs of 0..64 KiB, page after page
 * with the hash table kept between calls (stale entries must never match); streams carry a valid
 * zlib header and Adler-32; and it chooses stored or fixed codes where those are smaller.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as zlib from "node:zlib";
import { DeflateWasmEncoder, type DeflateWasmLevel } from "../../../src/codecs/deflate-encode.js";
import { zlibDecompress } from "../../../src/codecs/zlib.js";
import { lzSamples, unit } from "../../fuzz.js";

function samples(seed: number): Uint8Array[] {
  const next = unit(seed);
  const out: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array(1),
    new Uint8Array(4096),
    new Uint8Array(4096).fill(0x5a),
    new Uint8Array(65536),
  ];
  for (const n of [1, 2, 3, 4, 5, 17, 258, 259, 300, 4095, 4096, 20000, 40000, 65535, 65536]) {
    // LZ-structured and incompressible
    out.push(...lzSamples(next, n));
    // skewed: a few symbols very common, many rare (deep Huffman trees, length limits)
    const s = new Uint8Array(n);
    for (let i = 0; i < n; i++) s[i] = Math.min(255, Math.floor(-Math.log2(next() + 1e-12) * 9));
    out.push(s);
    // repetitive: a short period, runs of long matches
    const q = new Uint8Array(n);
    const period = 1 + Math.floor(next() * 7);
    for (let i = 0; i < n; i++) q[i] = (i % period) * 37;
    out.push(q);
  }
  // kernel-page-like: 8-byte words, pointers sharing their high bytes, zero padding
  for (let k = 0; k < 20; k++) {
    const p = new Uint8Array(4096);
    const dv = new DataView(p.buffer);
    for (let i = 0; i < 4096; i += 8) {
      const kind = next();
      if (kind < 0.4) continue;
      if (kind < 0.8) {
        dv.setUint32(i, Math.floor(next() * 0x100000) * 8, true);
        dv.setUint32(i + 4, 0xffff8880 + Math.floor(next() * 4), true);
      } else dv.setUint32(i, Math.floor(next() * 2 ** 32), true);
    }
    out.push(p);
  }
  // fibonacci counts: Huffman depths beyond 15 before the limit
  const fib = [1, 1];
  while (fib.length < 24) fib.push(fib[fib.length - 1]! + fib[fib.length - 2]!);
  const f = new Uint8Array(65536);
  let at = 0;
  for (let sym = 0; sym < fib.length && at < f.length; sym++)
    for (let c = 0; c < fib[sym]! && at < f.length; c++) f[at++] = sym * 11;
  for (let i = f.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [f[i], f[j]] = [f[j]!, f[i]!];
  }
  out.push(f);
  return out;
}

for (const level of [1, 2, 3] as DeflateWasmLevel[])
  test(`deflate (WebAssembly) level ${level}: every stream inflates to its input`, () => {
    const e = DeflateWasmEncoder.create(level);
    assert.ok(e, "WebAssembly runs on Node");
    for (const round of [0, 1])
      for (const p of samples(20 + round)) {
        const c = e.compress(p);
        assert.equal(c[0], 0x78);
        assert.equal(((c[0]! << 8) | c[1]!) % 31, 0, "FCHECK");
        assert.deepEqual(new Uint8Array(zlib.inflateSync(c)), p, `round ${round}, ${p.length} bytes`);
        if (p.length > 0 && p.length <= 4096) {
          const back = new Uint8Array(p.length);
          zlibDecompress(c, back, "page", true);
          assert.deepEqual(back, p);
        }
        // never much larger than stored (5 bytes a 64 KiB block, 6 of zlib wrapper)
        assert.ok(c.length <= p.length + 5 * Math.max(1, Math.ceil(p.length / 65535)) + 6, `${c.length}`);
      }
  });

test("deflate (WebAssembly): compresses, and refuses inputs beyond 64 KiB", () => {
  const e = DeflateWasmEncoder.create(1)!;
  const text = new TextEncoder().encode("the quick brown fox jumps over the lazy dog. ".repeat(90));
  const c = e.compress(text);
  assert.ok(c.length < text.length / 10, `${c.length}`);
  // a tiny input: the fixed codes beat a dynamic header
  assert.ok(e.compress(new Uint8Array([1, 2, 3])).length <= 2 + 1 + 3 + 1 + 4 + 1);
  assert.throws(() => e.compress(new Uint8Array(e.maxInput + 1)), RangeError);
});
