/**
 * The WebAssembly inflate (wasm/inflate.ts) against node:zlib: the same bytes for valid streams
 * of every level and strategy (stored, fixed and dynamic blocks, several blocks, up to 64 KiB),
 * and for corrupted streams either node:zlib's output or a DecompressError — never a wrong byte;
 * then every zlib page of the fixtures' kdump files. (That the committed module is what
 * wasm/inflate.ts assembles to is checked with the other modules in
 * test/unit/convert/lzo1x-wasm.test.ts.)
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as zlib from "node:zlib";
import { zlibPages } from "../../../bench/zlib-pages.js";
import { InflateWasm } from "../../../src/codecs/inflate-wasm.js";
import { DecompressError } from "../../../src/errors.js";
import { lzSamples, mutate, rng, unit } from "../../fuzz.js";

const w = InflateWasm.create();

function inputs(): Uint8Array[] {
  const next = unit(13);
  const out: Uint8Array[] = [new Uint8Array(0), new Uint8Array(4096), new Uint8Array(4096).fill(0x5a)];
  for (const n of [1, 2, 3, 17, 258, 259, 300, 4096, 20000, 65536]) out.push(...lzSamples(next, n));
  // a far match (distance up to 32 KiB) and short periods (distance 1..16)
  const far = new Uint8Array(65536);
  for (let i = 0; i < 8192; i++) far[i] = Math.floor(next() * 256);
  far.copyWithin(40000, 0, 8192);
  out.push(far);
  for (let period = 1; period <= 17; period++) {
    const b = new Uint8Array(4096);
    for (let i = 0; i < b.length; i++) b[i] = i % period === 0 ? Math.floor(next() * 256) : b[i - 1]! + 1;
    out.push(b);
  }
  return out;
}

function streams(): Uint8Array[] {
  const all: Uint8Array[] = [];
  const S = zlib.constants;
  for (const p of inputs())
    for (const level of [0, 1, 6, 9])
      for (const strategy of [S.Z_DEFAULT_STRATEGY, S.Z_FIXED, S.Z_HUFFMAN_ONLY, S.Z_RLE, S.Z_FILTERED]) {
        if (level === 0 && strategy !== S.Z_DEFAULT_STRATEGY) continue;
        all.push(new Uint8Array(zlib.deflateSync(p, { level, strategy }))); // mutate() slices: no Buffer
      }
  return all;
}

/** node:zlib's output, or undefined when it fails (or gives more than `cap` bytes). */
function reference(s: Uint8Array, cap: number): Uint8Array | undefined {
  try {
    const r = zlib.inflateSync(s, { maxOutputLength: Math.max(cap, 1) });
    return r.length <= cap ? r : undefined;
  } catch {
    return undefined;
  }
}

test("WebAssembly inflate: node:zlib's bytes on streams of every level and strategy", () => {
  assert.ok(w, "WebAssembly (SIMD) runs on Node");
  for (const s of streams()) {
    const want = zlib.inflateSync(s);
    const out = new Uint8Array(want.length);
    assert.equal(w.decompress(s, out, "t", true), want.length);
    assert.deepEqual(out, new Uint8Array(want));
    // too small an output: a typed error
    if (want.length > 0)
      assert.throws(() => w.decompress(s, new Uint8Array(want.length - 1), "t", true), DecompressError);
  }
});

test("WebAssembly inflate: several blocks with full flushes", async () => {
  assert.ok(w);
  const d = zlib.createDeflate({ level: 6 });
  const parts: Buffer[] = [];
  d.on("data", (c: Buffer) => parts.push(c));
  const done = new Promise((r) => d.on("end", r));
  for (const p of inputs().slice(3, 12)) {
    d.write(p);
    d.flush(zlib.constants.Z_FULL_FLUSH);
  }
  d.end();
  await done;
  const s = Buffer.concat(parts);
  const want = zlib.inflateSync(s);
  const out = new Uint8Array(want.length);
  w.decompress(s, out, "t", true);
  assert.deepEqual(out, new Uint8Array(want));
});

test("WebAssembly inflate fuzz: corrupted streams give node:zlib's bytes or a DecompressError", () => {
  assert.ok(w);
  const next = rng(29);
  const bases = streams().filter((s) => s.length < 8000);
  const cap = 65536;
  const out = new Uint8Array(cap);
  let same = 0;
  let errors = 0;
  for (let i = 0; i < 6000; i++) {
    const base = bases[i % bases.length]!;
    // every fifth left whole (the check that valid streams still pass under a full buffer)
    let s = i % 5 === 0 ? base : mutate(base, next);
    // some cut short, some with the Adler-32 left to check
    if (i % 7 === 3) s = s.subarray(0, next() % (s.length + 1));
    const want = reference(s, cap);
    let n: number;
    try {
      n = w.decompress(s, out, "fuzz");
    } catch (e) {
      assert.ok(e instanceof DecompressError, String(e));
      if (i % 5 === 0 && i % 7 !== 3) throw e;
      assert.match(e.message, /zlib: .* \(fuzz\)$/);
      errors++;
      continue;
    }
    assert.ok(want, `accepted a stream node:zlib rejects (case ${i})`);
    assert.deepEqual(out.subarray(0, n), new Uint8Array(want), `case ${i}`);
    same++;
  }
  assert.ok(errors > 1000 && same >= 1000, `${errors} errors, ${same} same`);
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const fixtures = process.env.KDUMPKIT_FIXTURES ?? path.resolve(root, "..", "shared", "fixtures");
const zlibDump = path.join(fixtures, "kdump", "capture", "dumpfile.zlib-d31");

test(
  "WebAssembly inflate: every zlib page of dumpfile.zlib-d31 as node:zlib decodes it",
  { skip: fs.existsSync(zlibDump) ? false : "fixtures absent" },
  () => {
    assert.ok(w);
    const { pages, pageSize } = zlibPages(zlibDump);
    assert.ok(pages.length > 1000);
    const out = new Uint8Array(pageSize);
    for (const p of pages) {
      w.decompress(p, out, "page", true);
      assert.ok(Buffer.from(out).equals(zlib.inflateSync(p)));
    }
  },
);
