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
import { addressMod64, pageAlignedBytes } from "../../../src/bytes/aligned.js";
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
