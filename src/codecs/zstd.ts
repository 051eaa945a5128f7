/**
 * zstd page decompression (makedumpfile -z: one ZSTD_compress() frame per page), via fzstd
 * (pure JS, already a dependency for .zst inputs).
 */
import { decompress } from "fzstd";
import { DecompressError } from "../errors.js";

export function zstdDecompress(src: Uint8Array, dst: Uint8Array, context?: string, exact = false): number {
  let out: Uint8Array;
  try {
    out = decompress(src, dst);
  } catch (e) {
    throw new DecompressError("zstd", (e as Error).message, context);
  }
  if (out.buffer !== dst.buffer || out.byteOffset !== dst.byteOffset) {
    if (out.length > dst.length)
      throw new DecompressError("zstd", `output exceeds ${dst.length} bytes`, context);
    dst.set(out);
  }
  if (exact && out.length !== dst.length)
    throw new DecompressError("zstd", `produced ${out.length} bytes, expected ${dst.length}`, context);
  return out.length;
}
