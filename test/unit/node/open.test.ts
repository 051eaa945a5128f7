import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { gzipSync } from "fflate";
import { DecompressError } from "../../../src/errors.js";
import { openFile } from "../../../src/node/open.js";

function pseudoRandom(n: number, seed: number, runs = true): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    // half noise, half runs: matches that reach back across push boundaries
    b[i] = !runs || i & 0x100 ? x & 0xff : (i >> 9) & 0xff;
  }
  return b;
}

function withTmp(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-open-"));
  const cache = process.env.KDUMPKIT_CACHE;
  process.env.KDUMPKIT_CACHE = path.join(dir, "cache");
  try {
    fn(dir);
  } finally {
    if (cache === undefined) delete process.env.KDUMPKIT_CACHE;
    else process.env.KDUMPKIT_CACHE = cache;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Regression: .gz inputs were decompressed with gunzipSync over the whole file, holding input
// and output in memory (a 13 MB gzip bomb took 6 GB of RSS) and failing on any output past
// 2 GiB. Now streamed in 64 KiB pushes from a reused 4 MiB read buffer: the output must be
// byte-identical across push and read-buffer boundaries and across gzip members.
test("gzip wrapper streamed: gunzipSync whole-file bomb (node/open.ts)", () => {
  withTmp((dir) => {
    const a = pseudoRandom(5 << 20, 7, false); // compresses to more than one 4 MiB read
    const b = pseudoRandom(300_000, 9);
    const ga = gzipSync(a, { level: 1 });
    const gb = gzipSync(b);
    assert.ok(ga.length > 4 << 20, "the compressed input spans more than one read buffer");
    const file = path.join(dir, "two-members.bin.gz");
    const both = new Uint8Array(ga.length + gb.length);
    both.set(ga);
    both.set(gb, ga.length);
    fs.writeFileSync(file, both);
    const f = openFile(file);
    try {
      assert.equal(f.wrapper, "gzip");
      assert.equal(f.source.size, a.length + b.length);
      assert.deepEqual(f.source.readSync(0, a.length), a);
      assert.deepEqual(f.source.readSync(a.length, b.length), b);
    } finally {
      f.close();
    }
  });
});

test("gzip wrapper cut short: DecompressError, no cached copy left behind", () => {
  withTmp((dir) => {
    const g = gzipSync(pseudoRandom(1 << 20, 3));
    const file = path.join(dir, "cut.bin.gz");
    fs.writeFileSync(file, g.subarray(0, g.length >> 1));
    assert.throws(() => openFile(file), DecompressError);
    const cache = process.env.KDUMPKIT_CACHE!;
    assert.deepEqual(fs.existsSync(cache) ? fs.readdirSync(cache) : [], []);
  });
});
