/**
 * Differential test of the WebAssembly inflate (wasm/inflate.ts) against node:zlib, both ways:
 * on valid, mutated and truncated streams the two give the same bytes or both fail (the
 * WebAssembly with a DecompressError naming the input offset). Both entry points are checked:
 * one stream at a time (InflateWasm.decompress) and runs of pages decoded in place
 * (zlibRunDecoder, the read loop's).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as zlib from "node:zlib";
import { InflateWasm } from "../../../src/codecs/inflate-wasm.js";
import { RUN_DECODE, zlibRunDecoder } from "../../../src/codecs/page-run.js";
import { DecompressError } from "../../../src/errors.js";
import { lzSamples, mutate, rng, unit } from "../../fuzz.js";

const w = InflateWasm.create();
const PAGE = 4096;

/** Pages like a dump's: kernel-ish structures, text, zeros, short periods, random bytes. */
function pages(): Uint8Array[] {
  const next = unit(1951);
  const out: Uint8Array[] = [new Uint8Array(PAGE), new Uint8Array(PAGE).fill(0xff)];
  for (let i = 0; i < 24; i++) {
    const [structured, random] = lzSamples(next, PAGE);
    out.push(structured);
    if (i % 6 === 0) out.push(random);
  }
  for (let period = 2; period <= 9; period++) {
    const b = new Uint8Array(PAGE);
    for (let i = 0; i < PAGE; i++) b[i] = i % period === 0 ? Math.floor(next() * 256) : b[i - 1]! ^ 0x11;
    out.push(b);
  }
  // a page of little-endian pointers and small counters, as slab pages are
  const slab = new Uint8Array(PAGE);
  const dv = new DataView(slab.buffer);
  for (let i = 0; i < PAGE; i += 16) {
    dv.setBigUint64(i, 0xffff888000000000n + BigInt(Math.floor(next() * 4096) * 64), true);
    dv.setUint32(i + 8, Math.floor(next() * 40), true);
  }
  out.push(slab);
  return out;
}

function streams(): Uint8Array[] {
  const S = zlib.constants;
  const all: Uint8Array[] = [];
  for (const p of pages())
    for (const [level, strategy] of [
      [1, S.Z_DEFAULT_STRATEGY],
      [6, S.Z_DEFAULT_STRATEGY],
      [9, S.Z_FILTERED],
      [6, S.Z_FIXED],
      [1, S.Z_RLE],
      [0, S.Z_DEFAULT_STRATEGY],
    ] as const)
      all.push(new Uint8Array(zlib.deflateSync(p, { level, strategy })));
  return all;
}

/** node:zlib's output of at most `cap` bytes, or undefined when it fails or gives more. */
function reference(s: Uint8Array, cap: number): Uint8Array | undefined {
  try {
    const r = zlib.inflateSync(s, { maxOutputLength: cap + 1 });
    return r.length <= cap ? new Uint8Array(r) : undefined;
  } catch {
    return undefined;
  }
}

/** The WebAssembly's output of at most `cap` bytes, or undefined after a DecompressError. */
function ours(s: Uint8Array, out: Uint8Array): Uint8Array | undefined {
  try {
    return out.slice(0, w!.decompress(s, out, "diff"));
  } catch (e) {
    assert.ok(e instanceof DecompressError, String(e));
    assert.match(e.message, /zlib: .*(input offset \d+|bytes).* \(diff\)$/);
    return undefined;
  }
}

test("WebAssembly inflate = node:zlib, both ways, on valid, mutated and truncated streams", () => {
  assert.ok(w, "WebAssembly (SIMD) runs on Node");
  const base = streams();
  const next = rng(1950);
  const out = new Uint8Array(65536);
  let same = 0;
  let failed = 0;
  for (let i = 0; i < 8000; i++) {
    const b = base[i % base.length]!;
    // every fourth left whole (then some of those cut short)
    let s = i % 4 === 0 ? b : mutate(b, next);
    if (i % 5 === 2) s = s.subarray(0, next() % (s.length + 1));
    const want = reference(s, out.length);
    const got = ours(s, out);
    if (want === undefined) {
      assert.equal(got, undefined, `case ${i}: node:zlib fails, the WebAssembly gave ${got?.length} bytes`);
      failed++;
    } else {
      assert.ok(got, `case ${i}: the WebAssembly fails where node:zlib gives ${want.length} bytes`);
      assert.ok(Buffer.from(got).equals(want), `case ${i}: different bytes`);
      same++;
    }
  }
  assert.ok(same > 1000 && failed > 2000, `${same} same, ${failed} both failed`);
});

test("WebAssembly run decoder = node:zlib page by page, decoding in place", () => {
  const run = zlibRunDecoder();
  assert.ok(run);
  const base = streams();
  const next = rng(1952);
  const n = run.pagesFor(PAGE);
  let checked = 0;
  for (let round = 0; round < 60; round++) {
    // a run of valid and damaged streams end to end in the input
    const count = 1 + (next() % n);
    const want: (Uint8Array | undefined)[] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
      const b = base[next() % base.length]!;
      const s = next() % 64 === 0 ? mutate(b, next) : b;
      run.input.set(s, at);
      run.src[i] = at;
      run.len[i] = s.length;
      run.kind[i] = RUN_DECODE;
      at += s.length;
      const r = reference(s, PAGE + 1);
      want.push(r && r.length === PAGE ? r : undefined);
    }
    const got: number = run.decode(count, PAGE);
    const firstBad = want.indexOf(undefined);
    assert.equal(got, firstBad < 0 ? count : firstBad, `round ${round}`);
    for (let i = 0; i < got; i++) {
      assert.ok(
        Buffer.from(run.output.subarray(i * PAGE, (i + 1) * PAGE)).equals(want[i]!),
        `round ${round} page ${i}`,
      );
      checked++;
    }
  }
  assert.ok(checked > 1000, `${checked} pages`);
});
