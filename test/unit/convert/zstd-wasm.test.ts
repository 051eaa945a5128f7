/**
 * The WebAssembly zstd encoder (wasm/zstd-encode.ts): every frame it writes decodes (our fzstd
 * reader, and the `zstd` command where Debian's zstd package is installed) to its input, on
 * random, structured, incompressible, uniform and skewed inputs of 0..64 KiB, page after page
 * with the hash table kept between calls; frames are single-segment with the content size and
 * no checksum, as makedumpfile -z's; uniform input is an RLE block, incompressible input a raw
 * one; and on the fixture kdump's own pages it is at least as small as libzstd's level 1 was
 * measured to be there.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as zlib from "node:zlib";
import { decompress } from "fzstd";
import { zlibPages } from "../../../bench/zlib-pages.js";
import { ZstdWasmEncoder } from "../../../src/codecs/zstd-encode.js";
import { encoderSamples, lzSamples, unit } from "../../fuzz.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const FIXTURE = path.join(root, "../shared/fixtures/kdump/capture/dumpfile.zlib-d31");

function make(): ZstdWasmEncoder {
  const e = ZstdWasmEncoder.create();
  assert.ok(e, "WebAssembly runs on Node");
  return e;
}

/** Frame header fields (RFC 8878 3.1.1.1) of a frame made by this encoder. */
function header(f: Uint8Array): { contentSize: number; checksum: boolean; blockType: number; at: number } {
  const dv = new DataView(f.buffer, f.byteOffset, f.length);
  assert.equal(dv.getUint32(0, true), 0xfd2fb528, "magic");
  const fhd = f[4]!;
  assert.equal(fhd & 0x20, 0x20, "single segment");
  assert.equal(fhd & 0x03, 0, "no dictionary");
  const fcs = fhd >> 6;
  const contentSize = fcs === 0 ? f[5]! : fcs === 1 ? dv.getUint16(5, true) + 256 : dv.getUint32(5, true);
  const at = 5 + [1, 2, 4, 8][fcs]!;
  return { contentSize, checksum: (fhd & 0x04) !== 0, blockType: (f[at]! >> 1) & 3, at };
}

test("zstd (WebAssembly): every frame decodes to its input", () => {
  const e = make();
  for (const round of [0, 1])
    for (const p of encoderSamples(40 + round)) {
      const f = e.compress(p).slice();
      const h = header(f);
      assert.equal(h.contentSize, p.length);
      assert.equal(h.checksum, false);
      assert.equal(f[h.at]! & 1, 1, "one block, the last");
      assert.deepEqual(decompress(f), p, `round ${round}, ${p.length} bytes`);
    }
});

test("zstd (WebAssembly): RLE block for one byte repeated, raw block when nothing shrinks", () => {
  const e = make();
  const same = e.compress(new Uint8Array(4096).fill(0xa5)).slice();
  assert.equal(header(same).blockType, 1);
  assert.equal(same.length, 11);
  const [, random] = lzSamples(unit(7), 4096);
  const raw = e.compress(random!).slice();
  assert.equal(header(raw).blockType, 0);
  assert.equal(raw.length, 4096 + 10);
  assert.deepEqual(decompress(raw), random);
  // a structured page: a compressed block
  const [structured] = lzSamples(unit(8), 4096);
  assert.equal(header(e.compress(structured!).slice()).blockType, 2);
  assert.throws(() => e.compress(new Uint8Array(65537)), RangeError);
});

test("zstd (WebAssembly): the zstd command decodes the frames", (t) => {
  if (spawnSync("zstd", ["--version"]).status !== 0) {
    t.skip("zstd not installed (Debian package zstd)");
    return;
  }
  const e = make();
  const inputs = encoderSamples(50);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-zstd-"));
  try {
    const frames = inputs.map((p) => e.compress(p).slice());
    fs.writeFileSync(path.join(dir, "all.zst"), Buffer.concat(frames));
    const r = spawnSync("zstd", ["-d", "-c", path.join(dir, "all.zst")], { maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(new Uint8Array(r.stdout), new Uint8Array(Buffer.concat(inputs)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("zstd (WebAssembly): the fixture kdump's pages, as small as libzstd level 1", (t) => {
  if (!fs.existsSync(FIXTURE)) {
    t.skip(`no fixture ${FIXTURE}`);
    return;
  }
  const { pages } = zlibPages(FIXTURE);
  const e = make();
  let total = 0;
  let raw = 0;
  for (const [i, c] of pages.entries()) {
    const p = new Uint8Array(zlib.inflateSync(c));
    if (p.every((b) => b === 0)) continue;
    const f = e.compress(p);
    // as the kdump writer keeps it: compressed only when smaller than the page
    total += Math.min(f.length, p.length);
    raw += p.length;
    if (i % 16 === 0) assert.deepEqual(decompress(f.slice()), p, `page ${i}`);
  }
  // the file's non-zero zlib pages; libzstd 1.5 level 1 (ZSTD_compressCCtx, as makedumpfile -z)
  // on them, through @bokuweb/zstd-wasm 0.0.27: 16,800,623 bytes (makedumpfile's zlib: 16,910,177)
  assert.equal(raw, 62_382_080);
  assert.ok(total <= 16_800_623, `${total} bytes`);
});

/**
 * What a frame of this encoder uses: block type, literals' form, sequence code modes. (RLE
 * literals never occur: every byte value's first occurrence is a literal, so one-valued literals
 * mean a one-valued input, an RLE block.)
 */
function features(f: Uint8Array, into: Set<string>): void {
  const { at, blockType } = header(f);
  into.add(`block-${["raw", "rle", "compressed"][blockType]}`);
  if (blockType !== 2) return;
  let p = at + 3;
  const b0 = f[p]!;
  const type = b0 & 3;
  const sf = (b0 >> 2) & 3;
  if (type < 2) {
    const hs = sf === 1 ? 2 : sf === 3 ? 3 : 1;
    let size = b0 >> 3;
    if (sf === 1) size = (b0 >> 4) | (f[p + 1]! << 4);
    else if (sf === 3) size = (b0 >> 4) | (f[p + 1]! << 4) | (f[p + 2]! << 12);
    into.add(type === 0 ? "literals-raw" : "literals-rle");
    p += hs + (type === 0 ? size : 1);
  } else {
    assert.equal(type, 2, "no treeless literals (one block a frame)");
    const hs = sf < 2 ? 3 : sf === 2 ? 4 : 5;
    let v = 0;
    for (let i = hs - 1; i >= 0; i--) v = v * 256 + f[p + i]!;
    const bits = hs === 3 ? 10 : hs === 4 ? 14 : 18;
    const comp = Math.floor(v / 2 ** (4 + bits)) % 2 ** bits;
    into.add(sf === 0 ? "literals-huffman-1-stream" : "literals-huffman-4-streams");
    into.add(f[p + hs]! < 128 ? "weights-fse" : "weights-direct");
    p += hs + comp;
  }
  let nbSeq = f[p]!;
  if (nbSeq === 0) {
    into.add("no-sequences");
    return;
  }
  if (nbSeq === 255) p += 3;
  else if (nbSeq >= 128) p += 2;
  else p += 1;
  const modes = f[p]!;
  const names = ["predefined", "rle", "fse", "repeat"];
  into.add(`ll-${names[modes >> 6]}`);
  into.add(`of-${names[(modes >> 4) & 3]}`);
  into.add(`ml-${names[(modes >> 2) & 3]}`);
  nbSeq = 0;
}

test("zstd (WebAssembly): the samples exercise every form the encoder writes", () => {
  const e = make();
  const seen = new Set<string>();
  for (const p of encoderSamples(60)) if (p.length > 0) features(e.compress(p).slice(), seen);
  // every sequence with the same three codes (RLE modes): 128 new random bytes (literal length
  // code 26), then 8 bytes copied from random bytes 126..210 back, five distances in turn so
  // that none is a repeat offset (offset code 7; match length code 5)
  const next = unit(61);
  const same = new Uint8Array(4096);
  for (let at = 0, k = 0; at < same.length; k++) {
    for (let i = 0; i < 128 && at < same.length; i++) same[at++] = Math.floor(next() * 256);
    const d = [126, 150, 170, 190, 210][k % 5]!;
    for (let i = 0; i < 8 && at < same.length; i++, at++) same[at] = same[at - d]!;
  }
  features(e.compress(same).slice(), seen);
  assert.deepEqual(decompress(e.compress(same).slice()), same);
  for (const f of [
    "block-raw",
    "block-rle",
    "block-compressed",
    "literals-raw",
    "literals-huffman-1-stream",
    "literals-huffman-4-streams",
    "weights-fse",
    "weights-direct",
    "no-sequences",
    "ll-predefined",
    "ll-rle",
    "ll-fse",
    "of-predefined",
    "of-rle",
    "of-fse",
    "ml-predefined",
    "ml-rle",
    "ml-fse",
  ])
    assert.ok(seen.has(f), `${f} (seen: ${[...seen].sort().join(", ")})`);
  assert.ok(!seen.has("ll-repeat") && !seen.has("of-repeat") && !seen.has("ml-repeat"));
});

test("zstd (WebAssembly): random mixtures of copies, runs and literals round-trip", () => {
  const e = make();
  const next = unit(62);
  for (let it = 0; it < 400; it++) {
    const sizes = [4096, 8192, 65536, 1 + Math.floor(next() * 65536), Math.floor(next() * 300)];
    const n = sizes[Math.floor(next() * sizes.length)]!;
    const p = new Uint8Array(n);
    const alpha = 1 + Math.floor(next() * 256);
    const pCopy = next();
    const pRun = next() * 0.3;
    const maxDist = 1 + Math.floor(next() * 65535);
    for (let i = 0; i < n; ) {
      const r = next();
      if (r < pCopy && i > 0) {
        const d = 1 + Math.floor(next() * Math.min(i, maxDist));
        const len = 3 + Math.floor(next() * (next() < 0.1 ? 2000 : 30));
        for (let k = 0; k < len && i < n; k++, i++) p[i] = p[i - d]!;
      } else if (r < pCopy + pRun) {
        const v = Math.floor(next() * alpha);
        const len = 1 + Math.floor(next() * 100);
        for (let k = 0; k < len && i < n; k++) p[i++] = v;
      } else p[i++] = Math.floor(next() * alpha);
    }
    const f = e.compress(p).slice();
    assert.ok(f.length <= n + 16, `${n} bytes in, ${f.length} out`);
    assert.deepEqual(decompress(f), p, `sample ${it}, ${n} bytes`);
  }
});
