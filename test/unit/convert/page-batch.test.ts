/**
 * Batches of pages through the WebAssembly encoders in one call (wasm/page-batch.ts,
 * src/codecs/page-batch.ts) give exactly what the page-at-a-time path gives: the same sizes
 * (-1 all zeros when asked, 0 stored raw) and the same bytes, for the LZO1X and deflate encoders,
 * page sizes 4 KiB to 64 KiB, batches longer than the module's 1 MiB buffer (split inside), and
 * refuse an output buffer too small for the batch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DeflateWasmEncoder } from "../../../src/codecs/deflate-encode.js";
import { Lzo1xWasmEncoder } from "../../../src/codecs/lzo1x-encode.js";
import type { PageBatchCompress } from "../../../src/codecs/page-batch.js";
import { ZstdWasmEncoder } from "../../../src/codecs/zstd-encode.js";
import { compressBatch } from "../../../src/convert/batch.js";
import { lzSamples, unit } from "../../fuzz.js";

function pagesOf(pageSize: number, count: number, seed: number): Uint8Array {
  const next = unit(seed);
  const pages = new Uint8Array(pageSize * count);
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    const page = pages.subarray(i * pageSize, (i + 1) * pageSize);
    if (kind === 0) continue; // all zeros
    if (kind === 1) page.fill(0x5a);
    else if (kind === 2)
      for (let j = 0; j < pageSize; j++) page[j] = Math.floor(next() * 256); // incompressible
    else {
      const [structured] = lzSamples(next, pageSize);
      page.set(structured!.subarray(0, pageSize));
      if (kind === 4) page.fill(0, pageSize >> 1); // half zeros
    }
  }
  return pages;
}

const encoders: [string, () => ((p: Uint8Array) => Uint8Array) & { pages: PageBatchCompress }][] = [
  [
    "lzo1x",
    () => {
      const e = Lzo1xWasmEncoder.create()!;
      return Object.assign((p: Uint8Array) => e.compress(p), { pages: e.compressPages });
    },
  ],
  [
    "deflate",
    () => {
      const e = DeflateWasmEncoder.create(1)!;
      return Object.assign((p: Uint8Array) => e.compress(p), { pages: e.compressPages });
    },
  ],
  [
    "zstd",
    () => {
      const e = ZstdWasmEncoder.create()!;
      return Object.assign((p: Uint8Array) => e.compress(p), { pages: e.compressPages });
    },
  ],
];

for (const [name, make] of encoders)
  test(`${name}: a batch in one WebAssembly call equals the page-at-a-time path`, () => {
    const batched = make();
    const single = make();
    const onePage = (p: Uint8Array) => single(p);
    for (const [pageSize, count] of [
      [4096, 300],
      [16384, 70],
      [65536, 3],
      [4096, 0],
    ] as const)
      for (const zeroCheck of [true, false]) {
        const pages = pagesOf(pageSize, count, pageSize + count);
        const a = compressBatch(batched, pages, count, pageSize, zeroCheck, new Uint8Array(pages.length));
        const outB = new Uint8Array(pages.length);
        const b = compressBatch(onePage, pages, count, pageSize, zeroCheck, outB);
        assert.deepEqual([...a.sizes], [...b.sizes], `${pageSize} x ${count}, zero check ${zeroCheck}`);
        assert.equal(a.length, b.length);
        if (zeroCheck) assert.ok(count === 0 || a.sizes[0] === -1);
        else assert.ok(count === 0 || a.sizes[0]! > 0);
        assert.ok(count === 0 || a.sizes[2] === 0, "an incompressible page is stored raw");
      }
    assert.throws(() => batched.pages(new Uint8Array(8192), 2, 4096, true, new Uint8Array(4096)), RangeError);
  });

test("batch and page paths write the same bytes", () => {
  for (const [, make] of encoders) {
    const batched = make();
    const single = make();
    const pages = pagesOf(4096, 260, 7);
    const outA = new Uint8Array(pages.length);
    const outB = new Uint8Array(pages.length);
    const a = compressBatch(batched, pages, 260, 4096, true, outA);
    const b = compressBatch((p: Uint8Array) => single(p), pages, 260, 4096, true, outB);
    assert.deepEqual(outA.subarray(0, a.length), outB.subarray(0, b.length));
  }
});
