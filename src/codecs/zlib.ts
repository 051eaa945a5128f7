/**
 * zlib page decompression (makedumpfile -c and QEMU kdump-zlib: one compress2() stream per
 * page). The core uses fflate's raw inflate (pure JS, browser-safe) and checks what fflate
 * does not when given an output buffer: the zlib header, a non-empty body and the Adler-32 of
 * the output (fflate returns the untouched buffer for an empty body and silently truncates an
 * overlong one). src/node/ injects node:zlib where it measures faster (see codecs/pages.ts).
 */
import { inflateSync } from "fflate";
import { DecompressError } from "../errors.js";

/** Adler-32 (RFC 1950) of `b`. */
export function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  const n = b.length;
  let i = 0;
  while (i < n) {
    // 5552: the most bytes before the sums can overflow 2^53… kept small for int arithmetic
    const end = Math.min(n, i + 3800);
    for (; i < end; i++) {
      a += b[i]!;
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** Decompress a zlib stream into `dst`; returns the bytes produced. */
export function zlibDecompress(src: Uint8Array, dst: Uint8Array, context?: string, exact = false): number {
  if (src.length < 7)
    throw new DecompressError("zlib", `stream of ${src.length} bytes is too short`, context);
  const cmf = src[0]!;
  const flg = src[1]!;
  if ((cmf & 0x0f) !== 8 || ((cmf << 8) | flg) % 31 !== 0 || flg & 0x20)
    throw new DecompressError("zlib", `bad zlib header ${cmf.toString(16)} ${flg.toString(16)}`, context);
  let out: Uint8Array;
  try {
    out = inflateSync(src.subarray(2, src.length - 4), { out: dst });
  } catch (e) {
    throw new DecompressError("zlib", (e as Error).message, context);
  }
  if (out.buffer !== dst.buffer || out.byteOffset !== dst.byteOffset) {
    if (out.length > dst.length)
      throw new DecompressError("zlib", `output exceeds ${dst.length} bytes`, context);
    dst.set(out);
  }
  const n = out.length;
  const t = src.length - 4;
  const want = ((src[t]! << 24) | (src[t + 1]! << 16) | (src[t + 2]! << 8) | src[t + 3]!) >>> 0;
  if (adler32(dst.subarray(0, n)) !== want)
    throw new DecompressError("zlib", "Adler-32 mismatch (corrupt or truncated stream)", context);
  if (exact && n !== dst.length)
    throw new DecompressError("zlib", `produced ${n} bytes, expected ${dst.length}`, context);
  return n;
}
