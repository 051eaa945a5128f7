/**
 * ReadWindow: sequential reads refill one large window; a small random read elsewhere (the
 * shared zero page of a kdump file) goes to a side buffer and leaves the window in place.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ReadWindow } from "../../../src/dump/window.js";

function counted(bytes: Uint8Array): { src: MemorySource; reads: () => number } {
  const src = new MemorySource(bytes);
  let n = 0;
  const orig = src.readSync.bind(src);
  src.readSync = (o: number, l: number, into?: Uint8Array) => {
    n++;
    return orig(o, l, into);
  };
  return { src, reads: () => n };
}

test("a random read between sequential ones keeps the window", () => {
  const bytes = new Uint8Array(1 << 16).map((_, i) => (i * 7) & 0xff);
  const { src, reads } = counted(bytes);
  const w = new ReadWindow(src, 8192, 512);
  const at = (o: number, n: number) => assert.deepEqual([...w.view(o, n)], [...bytes.subarray(o, o + n)]);
  at(4096, 512); // first read: minRead
  at(4608, 100); // continues it: the window (8 KiB) from here
  const afterFill = reads();
  for (let o = 4708; o + 100 <= 4608 + 8192; o += 400) {
    at(o, 100);
    at(0, 64); // the zero page, behind the stream: side buffer
  }
  assert.equal(reads(), afterFill + 1, "one side read, the window never refilled");
  at(4608 + 8192, 100); // past the window, continuing the stream: a refill, not a small read
  at(4608 + 8192 + 4000, 100);
  assert.equal(reads(), afterFill + 2);
});

test("a new sequential stream started by a random read is promoted to the window", () => {
  const bytes = new Uint8Array(1 << 18).map((_, i) => (i * 13) & 0xff);
  const { src, reads } = counted(bytes);
  const w = new ReadWindow(src, 8192, 512);
  w.view(0, 100);
  w.view(512, 100); // window at 512
  const r0 = reads();
  const far = 200000; // more than 64 KiB away: random
  w.view(far, 400); // side
  w.view(far + 400, 400); // continues the side read: refills the window from here
  const r1 = reads();
  for (let o = far + 800; o < far + 8000; o += 400)
    assert.deepEqual([...w.view(o, 400)], [...bytes.subarray(o, o + 400)]);
  assert.equal(reads(), r1);
  assert.equal(r1, r0 + 2);
});

test("reads past the end fail and reads larger than the window go to the source", () => {
  const bytes = new Uint8Array(20000).map((_, i) => i & 0xff);
  const w = new ReadWindow(new MemorySource(bytes), 4096, 512);
  assert.deepEqual([...w.view(1000, 10000)], [...bytes.subarray(1000, 11000)]);
  assert.throws(() => w.view(19990, 100));
  assert.deepEqual([...w.view(19900, 100)], [...bytes.subarray(19900, 20000)]);
});
