/**
 * The WebAssembly LZO1X decoder (wasm/lzo1x-decode.ts through src/codecs/lzo1x-wasm.ts) against
 * the TypeScript one (src/codecs/lzo1x.ts): on valid streams, corrupted streams and random
 * instruction sequences both return the same length and bytes, or both throw a DecompressError
 * with the same words and offsets. The module decodes in a fast loop (bounds checked once per
 * instruction, with margins) and hands the last instructions, and any it would reject, to the
 * careful loop: the streams here also end, or fail, just inside and outside those margins. (That the committed module is what wasm/ assembles to is
 * checked for all modules at once in test/unit/convert/lzo1x-wasm.test.ts.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { lzo1xDecompress } from "../../../src/codecs/lzo1x.js";
import { Lzo1xEncoder } from "../../../src/codecs/lzo1x-encode.js";
import { Lzo1xWasmDecoder, lzo1xPage } from "../../../src/codecs/lzo1x-wasm.js";
import { lzoRunDecoder, RUN_DECODE } from "../../../src/codecs/page-run.js";
import { builtinPageCodecs } from "../../../src/codecs/pages.js";
import { DecompressError } from "../../../src/errors.js";
import { lzSamples, mutate, rng, unit } from "../../fuzz.js";

const wasm = Lzo1xWasmDecoder.create();

type Outcome = { n: number; bytes: Uint8Array } | { error: string };

function run(f: () => number, dst: Uint8Array): Outcome {
  try {
    const n = f();
    return { n, bytes: dst.slice(0, n) };
  } catch (e) {
    assert.ok(e instanceof DecompressError, `untyped ${(e as Error)?.stack ?? e}`);
    return { error: e.message };
  }
}

/** Both decoders on `src` into `outLen` bytes; asserts they agree and returns the outcome. */
function both(src: Uint8Array, outLen: number, exact: boolean, what: string): Outcome {
  const a = new Uint8Array(outLen);
  const b = new Uint8Array(outLen).fill(0xee);
  const ts = run(() => lzo1xDecompress(src, a, "pfn 0x7", exact), a);
  const wa = run(() => wasm!.decompress(src, b, "pfn 0x7", exact), b);
  assert.deepEqual(wa, ts, what);
  return ts;
}

function pages(): Uint8Array[] {
  const next = unit(0x1a0d);
  const out: Uint8Array[] = [new Uint8Array(4096), new Uint8Array(4096).fill(0x5a)];
  for (const n of [1, 4, 17, 300, 4096, 4096, 4096, 16384, 65536]) out.push(...lzSamples(next, n));
  // short repeating patterns (distances 2–7, matches shorter and longer than 16 and 64)
  for (const d of [2, 3, 5, 7, 8, 9]) {
    const p = new Uint8Array(4096);
    for (let i = 0; i < p.length; i++) p[i] = i % d === 0 ? (i >> 9) & 0xff : i % d;
    out.push(p);
  }
  // far matches (M4: distances past 16 KiB)
  const far = new Uint8Array(65536);
  for (let i = 0; i < 8192; i++) far[i] = Math.floor(next() * 256);
  far.copyWithin(40000, 0, 8192);
  out.push(far);
  return out;
}

/**
 * A random instruction sequence of every LZO1X form (the encoder writes only some: no M1
 * matches, no long literal extensions at the start), mostly well-formed, ending with the end
 * marker unless cut: exercises the paths and checks that valid and corrupted streams reach.
 */
function randomStream(r: () => number): Uint8Array {
  const b: number[] = [];
  let op = 0;
  let state = 0;
  const lits = (n: number) => {
    for (let i = 0; i < n; i++) b.push(r() & 0xff);
    op += n;
  };
  const dist = (max: number) => 1 + (r() % Math.max(1, Math.min(op + (r() % 4 === 0 ? 40 : 0), max)));
  if (r() % 2 === 0) {
    const n = 1 + (r() % 60);
    b.push(17 + n);
    lits(n);
    state = n < 4 ? n : 4;
  }
  const count = 1 + (r() % 40);
  for (let k = 0; k < count; k++) {
    const form = r() % 6;
    if (state === 0 || form === 0) {
      if (state !== 0) {
        // a literal run needs state 0: a 001 match with no trailing literals first
        const d = dist(16384) - 1;
        b.push(32 | 1, (d << 2) & 0xff, d >> 6);
        op += 3;
      }
      const n = r() % 3 === 0 ? 19 + (r() % 600) : 4 + (r() % 15);
      if (n <= 18) b.push(n - 3);
      else {
        b.push(0);
        let x = n - 18;
        while (x > 255) {
          b.push(0);
          x -= 255;
        }
        b.push(x);
      }
      lits(n);
      state = 4;
      continue;
    }
    const s = r() % 4;
    if (form === 1) {
      // M1: 2 bytes (state 1–3) or 3 bytes at 2049+ (state 4)
      const d = state === 4 ? 2049 + (r() % 1024) : dist(1024);
      const v = d - (state === 4 ? 2049 : 1);
      b.push(((v & 3) << 2) | s, v >> 2);
      op += state === 4 ? 3 : 2;
    } else if (form === 2) {
      const len = 3 + (r() % 6);
      const v = dist(2048) - 1;
      b.push(
        len <= 4 ? 64 | ((len - 3) << 5) | ((v & 7) << 2) | s : ((len - 1) << 5) | ((v & 7) << 2) | s,
        v >> 3,
      );
      op += len;
    } else if (form === 3 || form === 4) {
      const far = form === 4;
      const len = r() % 3 === 0 ? 40 + (r() % 3000) : 3 + (r() % 30);
      const d = far ? 16385 + (r() % 32767) : dist(16384);
      const v = far ? d - 16384 : d - 1;
      const mask = far ? 7 : 31;
      const top = far ? 16 | ((v >> 11) & 8) : 32;
      if (len - 2 <= mask) b.push(top | (len - 2));
      else {
        b.push(top);
        let x = len - 2 - mask;
        while (x > 255) {
          b.push(0);
          x -= 255;
        }
        b.push(x);
      }
      b.push(((v << 2) & 0xfc) | s, (v >> 6) & 0xff);
      op += len;
    } else {
      // a long match at a short distance (zero pages, repeated words)
      const len = 34 + (r() % 4000);
      const v = r() % 8;
      b.push(32);
      let x = len - 33;
      while (x > 255) {
        b.push(0);
        x -= 255;
      }
      b.push(x, (v << 2) | s, 0);
      op += len;
    }
    state = s;
    lits(s);
  }
  if (r() % 8 !== 0) b.push(0x11, 0, 0);
  return Uint8Array.from(b);
}

test("LZO1X: WebAssembly runs on Node and the page codec uses it", () => {
  assert.ok(wasm, "WebAssembly decoder");
  assert.equal(builtinPageCodecs.lzo, lzo1xPage);
});

test("LZO1X: the WebAssembly decoder equals the TypeScript one on valid streams", () => {
  const enc = new Lzo1xEncoder();
  for (const p of pages()) {
    const z = enc.compress(p).slice();
    const r = both(z, p.length, true, `${p.length}-byte page`);
    assert.ok("n" in r && r.n === p.length);
    assert.deepEqual(r.bytes, p);
    // into a larger buffer (not exact) and one too small
    both(z, p.length + 100, false, "larger buffer");
    both(z, p.length + 100, true, "larger buffer, exact");
    if (p.length > 1) both(z, p.length - 1, false, "one byte short");
  }
  // the page decoder: same bytes, and the TypeScript decoder past the module's 64 KiB
  const big = lzSamples(unit(5), 70000)[0];
  const out = new Uint8Array(big.length);
  assert.equal(lzo1xPage(enc.compress(big), out), big.length);
  assert.deepEqual(out, big);
});

test("fuzz: the WebAssembly and TypeScript LZO1X decoders agree on corrupted streams", () => {
  const enc = new Lzo1xEncoder();
  const next = rng(0x70de);
  const errors = new Set<string>();
  let ok = 0;
  for (const p of pages()) {
    const z = enc.compress(p).slice();
    for (let i = 0; i < 300; i++) {
      const m = mutate(z, next, z.length);
      const r = both(m, p.length, i % 2 === 0, `mutation ${i} of a ${p.length}-byte page`);
      if ("error" in r) errors.add(r.error.replace(/\d+/g, "N"));
      else ok++;
    }
  }
  const r = rng(0x5eed);
  for (let i = 0; i < 6000; i++) {
    const s = randomStream(r);
    const len = [4096, 100, 65536][i % 3]!;
    const out = both(s, len, i % 4 === 0, `random stream ${i}`);
    if ("error" in out) errors.add(out.error.replace(/\d+/g, "N"));
    else ok++;
  }
  assert.ok(ok > 100, `${ok} streams decoded`);
  // every check of the decoder was reached (the message words of lzoError)
  const seen = [...errors].join("\n");
  for (const what of [
    "empty input",
    "first literal run",
    "without the end marker",
    "input overrun in a length",
    "literal run longer",
    "input overrun in a literal run",
    "output overrun in a literal run",
    "input overrun in a match",
    "produced N bytes",
    "look-behind overrun",
    "output overrun in a match",
    "input overrun in trailing",
    "output overrun in trailing",
  ])
    assert.ok(seen.includes(what), `no case reached "${what}":\n${seen}`);
});

/** Valid streams of every form: the encoder's pages and random instruction sequences. */
function validStreams(): Uint8Array[] {
  const enc = new Lzo1xEncoder();
  const out = pages()
    .filter((p) => p.length <= 16384)
    .map((p) => enc.compress(p).slice());
  const r = rng(0xb0a7);
  for (let i = 0; out.length < 400 && i < 5000; i++) {
    const s = randomStream(r);
    const o = new Uint8Array(65536);
    try {
      lzo1xDecompress(s, o);
      out.push(new Uint8Array(s));
    } catch {
      // only the valid ones: their ends are moved below
    }
  }
  return out;
}

test("LZO1X: the fast loop's ends: inputs cut and outputs shortened near the end agree", () => {
  const errors = new Set<string>();
  let ok = 0;
  for (const s of validStreams()) {
    const full = new Uint8Array(65536 + 64);
    const n = lzo1xDecompress(s, full);
    // the output buffer 0–70 bytes short of the stream's output (and a little longer)
    for (let k = -3; k <= 70; k++) {
      if (n - k < 0) continue;
      for (const exact of [true, false]) {
        const r = both(s, n - k, exact, `output ${n} - ${k}, exact ${exact}`);
        if ("error" in r) errors.add(r.error.replace(/\d+/g, "N"));
        else ok++;
      }
    }
    // the input cut 1–40 bytes before its end (inside the instructions the fast loop would run)
    for (let k = 1; k <= Math.min(40, s.length); k++) {
      const r = both(new Uint8Array(s.subarray(0, s.length - k)), n, k % 2 === 0, `input ${s.length} - ${k}`);
      if ("error" in r) errors.add(r.error.replace(/\d+/g, "N"));
      else ok++;
    }
  }
  assert.ok(ok > 400, `${ok} decoded`);
  const seen = [...errors].join("\n");
  for (const what of [
    "without the end marker",
    "input overrun in a literal run",
    "output overrun in a literal run",
    "input overrun in a match",
    "produced N bytes",
    "output overrun in a match",
    "input overrun in trailing",
    "output overrun in trailing",
  ])
    assert.ok(seen.includes(what), `no case reached "${what}":\n${seen}`);
});

test("LZO1X: errors inside the fast loop's region (mid-stream) are the careful loop's", () => {
  // one instruction of a long valid stream replaced by a bad one, far from both ends: the fast
  // loop must stop before it and the careful loop fail with the same offsets
  const enc = new Lzo1xEncoder();
  const p = lzSamples(unit(0xfa57), 4096)[0];
  const z = enc.compress(p).slice();
  const next = rng(0xc0de);
  const errors = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const at = 20 + (next() % Math.max(1, z.length - 60));
    const m = z.slice();
    // look-behind (M3 at 16 KiB), a length extension running on, a zero length, a cut stream
    const bad = [
      [0x20 | 1, 0xfc, 0xff],
      [0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0x10, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0x11, 0, 0],
      [0xff, 0xff],
    ][next() % 6]!;
    m.set(bad.slice(0, m.length - at), at);
    const r = both(m, 4096, i % 2 === 0, `bad instruction at ${at}`);
    if ("error" in r) errors.add(r.error.replace(/\d+/g, "N"));
  }
  assert.ok(errors.size >= 3, [...errors].join("\n"));
});

test("LZO1X: decodeRun (pages decoded in place from the run's bytes) fails where a page alone fails", () => {
  const run = lzoRunDecoder();
  assert.ok(run, "run decoder");
  const enc = new Lzo1xEncoder();
  const next = unit(0x7a11);
  const r = rng(0x4e11);
  const ps = 4096;
  const plain: Uint8Array[] = [];
  for (let i = 0; i < 24; i++) plain.push(lzSamples(next, ps)[i % 2]!);
  plain.push(new Uint8Array(ps), new Uint8Array(ps).fill(7));
  for (let round = 0; round < 200; round++) {
    const count = 1 + (r() % plain.length);
    const zs: Uint8Array[] = plain.slice(0, count).map((p) => enc.compress(p).slice());
    // one page in three rounds broken: cut, mutated, or its output short
    if (round % 3 !== 0) {
      const k = r() % count;
      const z = zs[k]!;
      zs[k] =
        round % 3 === 1
          ? z.slice(0, z.length - 1 - (r() % Math.min(30, z.length - 1)))
          : mutate(z, r, z.length);
    }
    // the pages' bytes end to end, the last at the very end of the run's input (reads past it
    // land outside the run's input)
    let at = r() % 2 === 0 ? 0 : run.input.length - zs.reduce((a, z) => a + z.length, 0);
    for (let i = 0; i < count; i++) {
      run.input.set(zs[i]!, at);
      run.src[i] = at;
      run.len[i] = zs[i]!.length;
      run.kind[i] = RUN_DECODE;
      at += zs[i]!.length;
    }
    run.output.fill(0xcc);
    const got: number = run.decode(count, ps);
    let want = count;
    for (let i = 0; i < count; i++) {
      const o = new Uint8Array(ps);
      try {
        lzo1xDecompress(zs[i]!, o, undefined, true);
      } catch (e) {
        assert.ok(e instanceof DecompressError);
        want = i;
        break;
      }
      assert.deepEqual(run.output.subarray(i * ps, (i + 1) * ps), o, `round ${round} page ${i}`);
    }
    assert.equal(got, want, `round ${round}`);
  }
});
