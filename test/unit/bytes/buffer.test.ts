/** The one growable byte buffer (issue 9) and the writers built on it. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ByteBuffer } from "../../../src/bytes/buffer.js";
import { Writer } from "../../../src/bytes/cursor.js";
import { OutputBuffer } from "../../../src/codecs/output.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { LimitError } from "../../../src/errors.js";

test("ByteBuffer grows by doubling and keeps its content", () => {
  const b = new ByteBuffer({ initial: 16 });
  for (let i = 0; i < 1000; i++) b.push(Uint8Array.of(i & 0xff));
  b.ascii("end");
  assert.equal(b.pos, 1003);
  assert.equal(b.buf.length, 1024);
  const r = b.result();
  for (let i = 0; i < 1000; i++) assert.equal(r[i], i & 0xff);
  assert.equal(new TextDecoder().decode(r.subarray(1000)), "end");
  const c = b.copy();
  b.buf[0] = 0xaa;
  assert.equal(c[0], 0);
});

test("ByteBuffer stops at its ceiling with a LimitError naming what grew", () => {
  const b = new ByteBuffer({ initial: 16, max: 100, what: "test output size" });
  b.push(new Uint8Array(100));
  assert.equal(b.buf.length, 100);
  assert.throws(
    () => b.push(new Uint8Array(1)),
    (e: unknown) => e instanceof LimitError && e.what === "test output size" && e.value === 101,
  );
  const o = new OutputBuffer("gzip", { maxOutput: 64, sizeHint: 1 << 30 });
  assert.equal(o.buf.length, 64);
  assert.throws(() => o.ensure(65), /gzip output size/);
});

test("Writer: seeking back and growing keeps what lies past the position", () => {
  const w = new Writer(false, 16);
  w.zeros(12).u32(0x11223344);
  w.seek(0).u32(0xaabbccdd);
  w.seek(4).bytes(new Uint8Array(100).fill(7)); // grows while pos < high-water mark
  w.seek(104);
  const out = w.finish();
  assert.equal(out.length, 104);
  assert.deepEqual([...out.subarray(0, 4)], [0xaa, 0xbb, 0xcc, 0xdd]);
  assert.equal(out[103], 7);
});

test("MemorySink: writes anywhere, holes read as zeros", () => {
  const s = new MemorySink();
  s.write(200000, Uint8Array.of(1, 2));
  s.write(0, Uint8Array.of(9));
  assert.equal(s.size, 200002);
  const b = s.bytes();
  assert.deepEqual([b[0], b[1], b[200000], b[200001]], [9, 0, 1, 2]);
});
