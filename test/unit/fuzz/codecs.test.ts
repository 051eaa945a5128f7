/**
 * Seeded fuzzing of every payload codec (gzip, xz+BCJ, lzma, bzip2, lzop, lz4 legacy, zstd) on
 * streams made by the reference tools, mutated anywhere and truncated, and of the page codecs
 * (zlib, lzo1x, snappy, zstd) into a fixed page: a result or a typed error, never a hang or an
 * allocation past the stated ceiling.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { zlibSync } from "fflate";
import { MemorySource } from "../../../src/bytes/source.js";
import { lzo1xDecompress } from "../../../src/codecs/lzo1x.js";
import { decodePayload, type PayloadCodecName } from "../../../src/codecs/payload.js";
import { portablePageCodecs } from "../../../src/codecs/portable.js";
import { snappyDecompress } from "../../../src/codecs/snappy.js";
import { zlibDecompress } from "../../../src/codecs/zlib.js";
import { zstdDecompress } from "../../../src/codecs/zstd.js";
import { parseSetupHeader, payloadRange } from "../../../src/kimage/bzimage.js";
import { fixturePath, hasFixtures } from "../../fixtures.js";
import { fuzz } from "../../fuzz.js";
import { lzoUniform, snappyUniform, zstdUniform } from "../dump/machine.js";
import * as S from "../kimage/compressed-samples.js";
import { makeSample } from "../kimage/sample.js";

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
const SAMPLES: Array<[PayloadCodecName, Uint8Array]> = [
  ["xz", b64(S.xzBcj)],
  ["xz", b64(S.xzCrc64)],
  ["lzma", b64(S.lzma)],
  ["bzip2", b64(S.bzip2)],
  ["lzo", b64(S.lzop)],
  ["lz4", b64(S.lz4Legacy)],
  ["zstd", b64(S.zstd)],
  ["gzip", b64(S.gzip)],
];

function withTrailer(b: Uint8Array, n: number): Uint8Array {
  const o = new Uint8Array(b.length + 4);
  o.set(b);
  new DataView(o.buffer).setUint32(b.length, n, true);
  return o;
}

test("fuzz: payload codecs on mutated and truncated streams", () => {
  const t0 = Date.now();
  let seed = 0xc0dec;
  for (const [name, stream] of SAMPLES) {
    // probed (a mutated magic may pick another codec), forced, and with the kernel's size trailer
    const r1 = fuzz(
      `${name} probed`,
      stream,
      150,
      seed++,
      (m) => decodePayload(m, { maxOutput: 1 << 20 }),
      stream.length,
    );
    const r2 = fuzz(
      `${name} forced`,
      stream,
      150,
      seed++,
      (m) => decodePayload(m, { codec: name, maxOutput: 1 << 20 }),
      stream.length,
    );
    const t = withTrailer(stream, makeSample().length);
    const r3 = fuzz(
      `${name} trailer`,
      t,
      100,
      seed++,
      (m) => decodePayload(m, { codec: name, kernelTrailer: true }),
      t.length,
    );
    assert.equal(r1.ok + r1.typed + r2.ok + r2.typed + r3.ok + r3.typed, 400);
  }
  assert.ok(Date.now() - t0 < 30_000, `payload fuzzing took ${Date.now() - t0} ms`);
});

test("fuzz: a cut of the real bzImage payload", { skip: !hasFixtures() }, () => {
  const fd = fs.openSync(fixturePath("kernel/vmlinuz-6.1.0-56-amd64"), "r");
  try {
    const head = Buffer.alloc(0x10000);
    fs.readSync(fd, head, 0, head.length, 0);
    const size = fs.fstatSync(fd).size;
    const setup = parseSetupHeader(
      new MemorySource(new Uint8Array(head.buffer, head.byteOffset, head.length)),
    );
    const { offset } = payloadRange(setup, size);
    const cut = Buffer.alloc(16384);
    fs.readSync(fd, cut, 0, cut.length, offset);
    const base = new Uint8Array(cut.buffer, cut.byteOffset, cut.length);
    const r = fuzz(
      "vmlinuz payload cut",
      base,
      120,
      0xc0f0,
      (m) => decodePayload(m, { maxOutput: 4 << 20 }),
      base.length,
    );
    assert.equal(r.ok + r.typed, 120);
  } finally {
    fs.closeSync(fd);
  }
});

test("fuzz: page codecs into a fixed page", () => {
  const page = new Uint8Array(4096);
  const text = makeSample(4096);
  const uniform = new Uint8Array(4096).fill(0x5a);
  const dst = new Uint8Array(4096);
  const cases: Array<[string, Uint8Array, (s: Uint8Array) => number]> = [
    ["zlib", zlibSync(text), (s) => zlibDecompress(s, dst, "pfn 0x1", true)],
    ["zlib portable", zlibSync(text), (s) => portablePageCodecs.zlib(s, dst, "pfn 0x1")],
    ["lzo", lzoUniform(uniform)!, (s) => lzo1xDecompress(s, dst, "pfn 0x1", true)],
    ["snappy", snappyUniform(uniform)!, (s) => snappyDecompress(s, dst, "pfn 0x1", true)],
    ["zstd", zstdUniform(uniform)!, (s) => zstdDecompress(s, dst, "pfn 0x1", true)],
    ["zstd portable", zstdUniform(uniform)!, (s) => portablePageCodecs.zstd(s, dst, "pfn 0x1")],
    ["lzo small dst", lzoUniform(uniform)!, (s) => lzo1xDecompress(s, page.subarray(0, 100), "pfn 0x1")],
  ];
  let seed = 0x9a6e;
  for (const [name, stream, fn] of cases) {
    const r = fuzz(name, stream, 500, seed++, (m) => fn(m), stream.length);
    assert.equal(r.ok + r.typed, 500);
  }
});
