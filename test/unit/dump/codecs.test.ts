import assert from "node:assert/strict";
import { test } from "node:test";
import { zlibSync } from "fflate";
import { lzo1xDecompress } from "../../../src/codecs/lzo1x.js";
import { portablePageCodecs } from "../../../src/codecs/pages.js";
import { snappyDecompress } from "../../../src/codecs/snappy.js";
import { DecompressError } from "../../../src/errors.js";
import { lzoUniform, snappyUniform, zstdUniform } from "./machine.js";

const page = new Uint8Array(4096).fill(0x5a);

test("lzo1x: literal run + distance-1 match + end marker", () => {
  const out = new Uint8Array(4096);
  assert.equal(lzo1xDecompress(lzoUniform(page)!, out, "t", true), 4096);
  assert.deepEqual(out, page);
});

test("lzo1x: every short instruction form (hand-assembled stream)", () => {
  // 0x15 = first literal run of 4 ("abcd"); then 01LDDDSS 0x40|(0<<2)|1 + H=0: copy 3 from
  // distance 1 with 1 trailing literal "e"; 1LLDDDSS 0x80|(1<<5)|(1<<2) + H=0: copy 6 from
  // distance 2; 001 form, len 5, distance 4: 0x23, LE16 = (3<<2) → 0x0c 0x00; end 0x11 0 0
  const src = Uint8Array.from([
    0x15, 0x61, 0x62, 0x63, 0x64, 0x41, 0x00, 0x65, 0xa4, 0x00, 0x23, 0x0c, 0x00, 0x11, 0, 0,
  ]);
  const out = new Uint8Array(64);
  const n = lzo1xDecompress(src, out);
  assert.equal(new TextDecoder().decode(out.subarray(0, n)), "abcdddde" + "dedede" + "deded");
});

test("lzo1x: corrupt streams are DecompressErrors naming the context", () => {
  const good = lzoUniform(page)!;
  const out = new Uint8Array(4096);
  for (const bad of [
    good.subarray(0, good.length - 3),
    Uint8Array.from([0x20, 0, 0, 0x11, 0, 0]),
    new Uint8Array(0),
  ]) {
    assert.throws(
      () => lzo1xDecompress(bad, out, "pfn 0x42", true),
      (e: unknown) => e instanceof DecompressError && e.message.includes("pfn 0x42"),
    );
  }
  // output overrun: a page that decodes longer than the buffer
  assert.throws(() => lzo1xDecompress(good, new Uint8Array(100), "p"), DecompressError);
});

test("snappy and zstd page streams decode; bad ones throw DecompressError", () => {
  const out = new Uint8Array(4096);
  assert.equal(snappyDecompress(snappyUniform(page)!, out, "t", true), 4096);
  assert.deepEqual(out, page);
  out.fill(0);
  portablePageCodecs.zstd(zstdUniform(page)!, out, "t");
  assert.deepEqual(out, page);
  out.fill(0);
  portablePageCodecs.zlib(zlibSync(page), out, "t");
  assert.deepEqual(out, page);
  assert.throws(
    () => snappyDecompress(Uint8Array.from([0x80, 0x20, 0x01, 0x05, 0x00]), out, "t"),
    DecompressError,
  );
  assert.throws(() => portablePageCodecs.zstd(Uint8Array.from([1, 2, 3, 4, 5]), out, "t"), DecompressError);
  assert.throws(
    () => portablePageCodecs.zlib(Uint8Array.from([0x78, 0x9c, 0xff, 0xff]), out, "t"),
    DecompressError,
  );
  // a zlib page that inflates short is an error for a page codec
  assert.throws(() => portablePageCodecs.zlib(zlibSync(page.subarray(0, 100)), out, "t"), DecompressError);
});
