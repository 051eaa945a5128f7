/**
 * A small seeded mutation fuzzer for the test suite: every case must end in a result or a
 * KdumpkitError (typed), never another exception, a hang or a huge allocation.
 */
import assert from "node:assert/strict";
import { KdumpkitError } from "../src/errors.js";

/** xorshift32: deterministic, so a failing case can be replayed by its seed and index. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A generator of uniform numbers in [0, 1) from `rng(seed)`. */
export function unit(seed: number): () => number {
  const r = rng(seed);
  return () => r() / 2 ** 32;
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** One mutated (and maybe truncated) copy of `base`; mutations focus on the first `hot` bytes. */
export function mutate(base: Uint8Array, next: () => number, hot = Math.min(base.length, 4096)): Uint8Array {
  let out = base.slice();
  const n = 1 + (next() % 8);
  for (let i = 0; i < n; i++) {
    const kind = next() % 4;
    const at = next() % Math.max(1, hot);
    if (kind === 0) out[at] = next() & 0xff;
    else if (kind === 1) out[at] = (out[at] ?? 0) ^ (1 << (next() % 8));
    else if (kind === 2) {
      const v = INTERESTING[next() % INTERESTING.length]!;
      const a = at & ~3;
      if (a + 4 <= out.length) new DataView(out.buffer).setUint32(a, v, (next() & 1) === 0);
    } else if (a8(at) + 8 <= out.length) {
      const dv = new DataView(out.buffer);
      dv.setUint32(a8(at), next(), true);
      dv.setUint32(a8(at) + 4, next() % 4 === 0 ? 0xffffffff : next() % 0x10000, true);
    }
  }
  if (next() % 4 === 0) out = out.slice(0, next() % (out.length + 1));
  return out;
}
const a8 = (n: number) => n & ~7;

/**
 * Run `cases` mutations of `base` through `fn`. Typed errors are fine; anything else fails the
 * test with the seed and case index to replay it.
 */
export function fuzz(
  name: string,
  base: Uint8Array,
  cases: number,
  seed: number,
  fn: (bytes: Uint8Array) => void,
  /** Mutate within the first `hot` bytes (default 4096); compressed streams want all of them. */
  hot?: number,
): { ok: number; typed: number } {
  const next = rng(seed);
  let ok = 0;
  let typed = 0;
  for (let i = 0; i < cases; i++) {
    const input = mutate(base, next, hot);
    try {
      fn(input);
      ok++;
    } catch (e) {
      if (e instanceof KdumpkitError) {
        typed++;
        continue;
      }
      assert.fail(
        `${name}: case ${i} (seed ${seed}) threw an untyped ${(e as Error)?.name}: ${(e as Error)?.stack ?? e}`,
      );
    }
  }
  return { ok, typed };
}

/**
 * Codec inputs of `n` bytes from `next` (a `unit` stream): LZ-structured (copies from up to
 * 40000 back, beyond a 32 KiB window too, over a 6-letter alphabet) and incompressible.
 */
export function lzSamples(next: () => number, n: number): [structured: Uint8Array, random: Uint8Array] {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    p[i] =
      next() < 0.6 && i > 0 ? p[Math.max(0, i - 1 - Math.floor(next() * 40000))]! : Math.floor(next() * 6);
  const r = new Uint8Array(n);
  for (let i = 0; i < n; i++) r[i] = Math.floor(next() * 256);
  return [p, r];
}

/**
 * Inputs for the page encoders' round-trip tests (deflate, zstd): empty, zero, uniform; for
 * lengths 1..64 KiB, LZ-structured, incompressible, skewed (deep Huffman trees) and periodic;
 * kernel-page-like words; Fibonacci counts (code lengths past every limit before limiting).
 */
export function encoderSamples(seed: number): Uint8Array[] {
  const next = unit(seed);
  const out: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array(1),
    new Uint8Array(4096),
    new Uint8Array(4096).fill(0x5a),
    new Uint8Array(65536),
  ];
  for (const n of [1, 2, 3, 4, 5, 17, 258, 259, 300, 4095, 4096, 20000, 40000, 65535, 65536]) {
    // LZ-structured and incompressible
    out.push(...lzSamples(next, n));
    // skewed: a few symbols very common, many rare (deep Huffman trees, length limits)
    const s = new Uint8Array(n);
    for (let i = 0; i < n; i++) s[i] = Math.min(255, Math.floor(-Math.log2(next() + 1e-12) * 9));
    out.push(s);
    // repetitive: a short period, runs of long matches
    const q = new Uint8Array(n);
    const period = 1 + Math.floor(next() * 7);
    for (let i = 0; i < n; i++) q[i] = (i % period) * 37;
    out.push(q);
  }
  // kernel-page-like: 8-byte words, pointers sharing their high bytes, zero padding
  for (let k = 0; k < 20; k++) {
    const p = new Uint8Array(4096);
    const dv = new DataView(p.buffer);
    for (let i = 0; i < 4096; i += 8) {
      const kind = next();
      if (kind < 0.4) continue;
      if (kind < 0.8) {
        dv.setUint32(i, Math.floor(next() * 0x100000) * 8, true);
        dv.setUint32(i + 4, 0xffff8880 + Math.floor(next() * 4), true);
      } else dv.setUint32(i, Math.floor(next() * 2 ** 32), true);
    }
    out.push(p);
  }
  // fibonacci counts: Huffman depths beyond 15 before the limit
  const fib = [1, 1];
  while (fib.length < 24) fib.push(fib[fib.length - 1]! + fib[fib.length - 2]!);
  const f = new Uint8Array(65536);
  let at = 0;
  for (let sym = 0; sym < fib.length && at < f.length; sym++)
    for (let c = 0; c < fib[sym]! && at < f.length; c++) f[at++] = sym * 11;
  for (let i = f.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [f[i], f[j]] = [f[j]!, f[i]!];
  }
  out.push(f);
  return out;
}
