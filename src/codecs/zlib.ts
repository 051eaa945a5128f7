/**
 * zlib page decompression (makedumpfile -c and QEMU kdump-zlib: one compress2() stream per
 * page). The core uses fflate (pure JS, browser-safe); src/node/ injects a node:zlib decoder
 * when it measures faster (see codecs/pages.ts).
 */
import { unzlibSync } from "fflate";
import { DecompressError } from "../errors.js";

/** Decompress a zlib stream into `dst`; returns the bytes produced. */
export function zlibDecompress(src: Uint8Array, dst: Uint8Array, context?: string, exact = false): number {
  let out: Uint8Array;
  try {
    out = unzlibSync(src, { out: dst });
  } catch (e) {
    throw new DecompressError("zlib", (e as Error).message, context);
  }
  if (out.buffer !== dst.buffer || out.byteOffset !== dst.byteOffset) {
    // fflate returns a fresh array when the output did not fit exactly in `out`
    if (out.length > dst.length)
      throw new DecompressError("zlib", `output exceeds ${dst.length} bytes`, context);
    dst.set(out);
  }
  if (exact && out.length !== dst.length)
    throw new DecompressError("zlib", `produced ${out.length} bytes, expected ${dst.length}`, context);
  return out.length;
}
