import assert from "node:assert/strict";
import { test } from "node:test";
import { Cursor, hiLoToBigInt, latin1, Writer } from "../../src/bytes/cursor.js";
import { MemorySource, WindowCache, withData } from "../../src/bytes/source.js";
import { FormatError, TruncatedError } from "../../src/errors.js";

test("cursor reads both byte orders and 64-bit forms", () => {
  const w = new Writer(false);
  w.u16(0x1234).u32(0xdeadbeef).u64(0x1122334455667788n);
  const c = new Cursor(w.finish(), false);
  assert.equal(c.u16(), 0x1234);
  assert.equal(c.u32(), 0xdeadbeef);
  const [hi, lo] = c.hiLo();
  assert.equal(hiLoToBigInt(hi, lo), 0x1122334455667788n);
  assert.throws(() => c.u64n(6), FormatError);
  assert.throws(() => c.u8(), TruncatedError);
});

test("window cache loads on demand and withData retries", async () => {
  const bytes = new Uint8Array(10_000).map((_, i) => i & 0xff);
  const cache = new WindowCache(new MemorySource(bytes), 1024, 4);
  const got = await withData(cache, () => cache.readSync(1000, 3000));
  assert.deepEqual(got, bytes.subarray(1000, 4000));
});

test("latin1 maps every byte to the same code point (not windows-1252's 0x80-0x9f)", () => {
  const all = Uint8Array.from({ length: 20000 }, (_, i) => i & 0xff);
  const s = latin1(all);
  assert.equal(s.length, all.length);
  for (let i = 0; i < 256; i++) assert.equal(s.charCodeAt(i), i);
  assert.deepEqual(Buffer.from(s, "latin1"), Buffer.from(all));
});
