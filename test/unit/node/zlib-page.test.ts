import assert from "node:assert/strict";
import { test } from "node:test";
import * as zlib from "node:zlib";
import { DecompressError } from "../../../src/errors.js";
import { nodeZlibPage } from "../../../src/node/dump.js";
import { resetPageInflaterForTest } from "../../../src/node/page-codecs.js";
import { rawInflateHandle } from "../../../src/node/zlib-handle.js";

function page(seed: number, size = 4096): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = i & 0x40 ? x >>> 24 : i & 0xff;
  }
  return b;
}

test("nodeZlibPage: pages decode exactly, the reused state survives errors in between", () => {
  const dst = new Uint8Array(4096);
  for (let s = 1; s < 20; s++) {
    const p = page(s);
    assert.equal(nodeZlibPage(zlib.deflateSync(p), dst), 4096);
    assert.deepEqual(dst, p);
    const bad = new Uint8Array(zlib.deflateSync(page(s + 100)));
    bad[bad.length >> 1]! ^= 0x5a;
    assert.throws(() => nodeZlibPage(bad, dst, "pfn 0x1"), DecompressError);
  }
});

test("nodeZlibPage: too long, too short, cut and missing-trailer streams are errors", () => {
  const dst = new Uint8Array(4096);
  const long = zlib.deflateSync(page(3, 4097));
  assert.throws(() => nodeZlibPage(long, dst), /more than 4096/);
  const short = zlib.deflateSync(page(3, 4095));
  assert.throws(() => nodeZlibPage(short, dst), /4095 bytes/);
  const full = zlib.deflateSync(page(4));
  assert.throws(() => nodeZlibPage(full.subarray(0, full.length - 4), dst), DecompressError);
  assert.throws(() => nodeZlibPage(full.subarray(0, 20), dst), DecompressError);
  assert.throws(() => nodeZlibPage(new Uint8Array(0), dst), DecompressError);
  assert.equal(nodeZlibPage(full, dst), 4096);
  assert.deepEqual(dst, page(4));
  // another page size reallocates the scratch
  const big = page(5, 16384);
  const dst2 = new Uint8Array(16384);
  assert.equal(nodeZlibPage(zlib.deflateSync(big), dst2), 16384);
  assert.deepEqual(dst2, big);
});

/** A stand-in for the zlib binding whose handle inflates wrongly (every output byte 0x55). */
function oddBinding() {
  class Zlib {
    state: Uint32Array | undefined;
    onerror: unknown;
    init(_w: number, _l: number, _m: number, _s: number, state: Uint32Array) {
      this.state = state;
    }
    writeSync(
      _f: number,
      _src: Uint8Array,
      _so: number,
      _sl: number,
      dst: Uint8Array,
      off: number,
      len: number,
    ) {
      dst.fill(0x55, off, off + len - 1);
      this.state![0] = 1;
    }
    reset() {}
  }
  return { Zlib };
}

test("rawInflateHandle: Node's binding works; a missing, throwing or odd binding gives null", () => {
  const raw = rawInflateHandle(() => {});
  assert.ok(raw, "Node's zlib binding inflates the probe");
  assert.equal(
    rawInflateHandle(
      () => {},
      () => undefined,
    ),
    null,
  );
  assert.equal(
    rawInflateHandle(
      () => {},
      () => {
        throw new Error("no binding");
      },
    ),
    null,
  );
  assert.equal(
    rawInflateHandle(
      () => {},
      () => ({ Zlib: 42 }),
    ),
    null,
  );
  assert.equal(
    rawInflateHandle(
      () => {},
      () => ({
        Zlib: class {
          init() {
            throw new TypeError("other arguments");
          }
          writeSync() {}
          reset() {}
        },
      }),
    ),
    null,
  );
  assert.equal(
    rawInflateHandle(() => {}, oddBinding),
    null,
    "a handle that inflates wrongly is not used",
  );
});

test("nodeZlibPage: the same pages and errors through every fallback", () => {
  const modes: [string, Parameters<typeof resetPageInflaterForTest>[0]][] = [
    ["binding", undefined],
    ["binding missing (stream handle)", () => undefined],
    [
      "binding throws (stream handle)",
      () => {
        throw new Error("no binding");
      },
    ],
    ["odd binding (stream handle)", oddBinding],
    ["stream handle", null],
    ["inflateSync", "none"],
  ];
  try {
    for (const [name, mode] of modes) {
      resetPageInflaterForTest(mode);
      const dst = new Uint8Array(4096);
      for (let s = 1; s < 6; s++) {
        const p = page(s);
        assert.equal(nodeZlibPage(zlib.deflateSync(p), dst), 4096, name);
        assert.deepEqual(dst, p, name);
        const bad = new Uint8Array(zlib.deflateSync(page(s + 100)));
        bad[bad.length >> 1]! ^= 0x5a;
        assert.throws(() => nodeZlibPage(bad, dst, "pfn 0x1"), DecompressError, name);
      }
      assert.throws(() => nodeZlibPage(zlib.deflateSync(page(3, 4097)), dst), DecompressError, name);
      assert.throws(() => nodeZlibPage(zlib.deflateSync(page(3, 4095)), dst), /4095 bytes/, name);
      const full = zlib.deflateSync(page(4));
      assert.throws(() => nodeZlibPage(full.subarray(0, 20), dst), DecompressError, name);
      assert.equal(nodeZlibPage(full, dst), 4096, name);
      assert.deepEqual(dst, page(4), name);
    }
  } finally {
    resetPageInflaterForTest();
  }
});
