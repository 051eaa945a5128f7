/**
 * The WebAssembly LZO1X encoder (wasm/lzo1x-encode.ts, assembled into src/codecs/wasm-modules.ts)
 * writes exactly the bytes of the TypeScript one, which round-trip through our decoder; and the
 * committed module is the one its source assembles to.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { lzo1xDecompress } from "../../../src/codecs/lzo1x.js";
import { Lzo1xEncoder, Lzo1xWasmEncoder } from "../../../src/codecs/lzo1x-encode.js";
import { lzSamples, unit } from "../../fuzz.js";

function samples(): Uint8Array[] {
  const next = unit(11);
  const out: Uint8Array[] = [new Uint8Array(0), new Uint8Array(4096), new Uint8Array(4096).fill(0x5a)];
  for (const n of [1, 3, 4, 5, 17, 19, 238, 239, 300, 4096, 20000, 65536, 70000]) {
    // LZ-structured and incompressible
    out.push(...lzSamples(next, n));
  }
  // far matches (M4: distances past 16 KiB) and long runs
  const far = new Uint8Array(65536);
  for (let i = 0; i < 8192; i++) far[i] = Math.floor(next() * 256);
  far.copyWithin(40000, 0, 8192);
  out.push(far);
  return out;
}

test("LZO1X: the WebAssembly encoder writes the TypeScript encoder's bytes, which round-trip", () => {
  const w = Lzo1xWasmEncoder.create();
  assert.ok(w, "WebAssembly runs on Node");
  const ts = new Lzo1xEncoder();
  // twice over: the hash table is kept between calls, stale entries must not match
  for (const round of [0, 1])
    for (const p of samples()) {
      const a = ts.compress(p).slice();
      const b = w.compress(p);
      assert.deepEqual(b, a, `round ${round}, ${p.length} bytes`);
      const back = new Uint8Array(p.length);
      if (p.length) lzo1xDecompress(b, back, "lzo", true);
      assert.deepEqual(back, p);
    }
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const hasAsc = fs.existsSync(path.join(root, "node_modules/assemblyscript/package.json"));

test(
  "src/codecs/wasm-modules.ts is what scripts/build-wasm.mjs assembles from wasm/",
  { skip: hasAsc ? false : "assemblyscript not installed (npm ci)" },
  async () => {
    const script = path.join(root, "scripts/build-wasm.mjs");
    const { generate } = (await import(script)) as { generate(): Promise<string> };
    assert.equal(await generate(), fs.readFileSync(path.join(root, "src/codecs/wasm-modules.ts"), "utf8"));
  },
);
