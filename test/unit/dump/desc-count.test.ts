/** The WebAssembly descriptor count (src/dump/desc-count.ts) against the rules written out here. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DESC_COUNT_CHUNK, descCounter } from "../../../src/dump/desc-count.js";

test("descriptor count: not-dumped, zero and present as the memory map classifies them; bad ones refused", () => {
  const c = descCounter();
  assert.ok(c, "WebAssembly runs here");
  let seed = 7;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const fileSize = 5_000_000;
  const zero = 8192;
  for (let round = 0; round < 50; round++) {
    const n = 1 + rnd(round === 0 ? DESC_COUNT_CHUNK : 300);
    const dv = new DataView(c.buf.buffer, c.buf.byteOffset, n * 24);
    let nd = 0;
    let z = 0;
    let bad = false;
    for (let i = 0; i < n; i++) {
      const kind = rnd(round % 10 === 9 ? 7 : 5);
      let off = [0, zero, 1 + rnd(fileSize - 70_000), zero, fileSize - 10][kind] ?? 2 ** 53 + 2 * rnd(1000);
      let size = [rnd(3) * 100, 4096, 1 + rnd(65_536), 4096, 20][kind] ?? 10;
      const flags = kind === 3 ? 1 + rnd(4) : kind === 1 && rnd(4) === 0 ? 4 : 0;
      if (kind === 6) off = fileSize - 5; // past the end with its size
      if (kind === 6) size = 6;
      dv.setBigUint64(i * 24, BigInt(off), true);
      dv.setUint32(i * 24 + 8, size, true);
      dv.setUint32(i * 24 + 12, flags, true);
      dv.setBigUint64(i * 24 + 16, BigInt(rnd(1 << 30)), true);
      if (off >= 2 ** 53) bad = true;
      else if (off === 0 || size === 0) nd++;
      else if (off + size > fileSize) bad = true;
      else if (flags === 0 && off === zero && size === 4096) z++;
    }
    const got: [number, number] | undefined = c.count(n, fileSize, zero, 4096);
    if (bad) assert.equal(got, undefined, `round ${round}`);
    else assert.deepEqual(got, [nd, z], `round ${round}`);
    // no zero page in the file (offset −1): nothing counts as zero
    if (!bad) assert.deepEqual(c.count(n, fileSize, -1, 4096), [nd, 0], `round ${round}, no zero page`);
  }
});
