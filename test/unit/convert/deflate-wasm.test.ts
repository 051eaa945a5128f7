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
import { encoderSamples as samples } from "../../fuzz.js";

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
