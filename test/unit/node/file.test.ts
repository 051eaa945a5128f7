/**
 * NodeFileSource reads: direct and through the page-aligned staging buffer (bytes/aligned.ts),
 * into fresh arrays, views at every offset modulo 64, page-aligned buffers placed to match the
 * file offset or not, reads longer than the staging buffer; the bytes equal the file's.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { addressMod64, isShared, pageAlignedArena, pageAlignedBytes } from "../../../src/bytes/aligned.js";
import { TruncatedError } from "../../../src/errors.js";
import { NodeFileSource } from "../../../src/node/file.js";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test("page-aligned buffers: known address modulo 64; plain buffers: unknown", () => {
  const a = pageAlignedBytes(100_000)!;
  assert.equal(a.length, 100_000);
  assert.equal(addressMod64(a), 0);
  assert.equal(addressMod64(a.subarray(37)), 37);
  assert.equal(addressMod64(new Uint8Array(4096)), undefined);
  assert.equal(pageAlignedBytes(0), undefined);
  assert.equal(pageAlignedBytes(-1), undefined);
});

test("an arena of page-aligned buffers: each on a 4 KiB page of one memory, shared when asked; undefined once used up", () => {
  for (const shared of [false, true]) {
    const arena = pageAlignedArena(64 << 10, shared);
    const a = arena(5000)!;
    const b = arena(4096)!;
    assert.equal(a.length, 5000);
    assert.equal(a.buffer, b.buffer, "one memory");
    assert.equal(a.byteOffset, 0);
    assert.equal(b.byteOffset, 8192, "the next page after the first buffer's end");
    assert.equal(addressMod64(b), 0);
    assert.equal(isShared(a), shared);
    a.fill(1);
    assert.ok(
      b.every((x) => x === 0),
      "buffers do not overlap",
    );
    // 64 KiB: 12 KiB used, 13 more pages fit and no more
    for (let i = 0; i < 13; i++) assert.ok(arena(4096), `page ${i}`);
    assert.equal(arena(1), undefined, "used up: the caller makes a plain buffer");
    assert.equal(arena(0), undefined);
  }
  assert.equal(pageAlignedArena(0, false)(4096), undefined, "no memory");
  assert.equal(pageAlignedArena(2 ** 31, true)(4096), undefined, "beyond 1 GiB: none");
});

test("NodeFileSource: staged and direct reads give the file's bytes", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-file-"));
  try {
    const size = (3 << 20) + 12_345; // longer than the 1 MiB staging buffer
    const data = new Uint8Array(size);
    const r = rng(7);
    for (let i = 0; i < size; i++) data[i] = (r() * 256) | 0;
    const f = path.join(dir, "data");
    fs.writeFileSync(f, data);
    const src = new NodeFileSource(f);
    const aligned = pageAlignedBytes((3 << 20) + 200_000)!;
    const plain = new Uint8Array((3 << 20) + 200_000);
    const check = (offset: number, length: number, into?: Uint8Array) => {
      const got = src.readSync(offset, length, into);
      assert.equal(got.length, length);
      if (into) assert.equal(got.buffer, into.buffer);
      assert.ok(
        Buffer.from(got).equals(Buffer.from(data.subarray(offset, offset + length))),
        `${offset}+${length}`,
      );
    };
    const lengths = [1, 100, 2047, 2048, 4096, 65_536, (1 << 20) - 1, 1 << 20, (1 << 20) + 65, 3 << 20];
    for (const length of lengths) {
      for (let k = 0; k < 6; k++) {
        const offset = Math.floor(r() * (size - length));
        const shift = Math.floor(r() * 128);
        check(offset, length);
        check(offset, length, plain.subarray(shift, shift + length));
        check(offset, length, aligned.subarray(shift, shift + length + 10)); // longer: a view of it
        const match = 64 + (offset % 64); // the direct path: address ≡ offset (mod 64)
        check(offset, length, aligned.subarray(match, match + length));
      }
    }
    check(size - 5000, 5000, plain.subarray(3, 5003));
    assert.throws(() => src.readSync(size - 5000, 5001, plain), TruncatedError);
    src.close();
    // a file that shrinks under a staged read: a TruncatedError, not stale bytes
    const g = path.join(dir, "shrinks");
    fs.writeFileSync(g, data.subarray(0, 1 << 20));
    const s2 = new NodeFileSource(g);
    fs.truncateSync(g, 100_000);
    assert.throws(() => s2.readSync(50_000, 200_000, plain), TruncatedError);
    s2.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
