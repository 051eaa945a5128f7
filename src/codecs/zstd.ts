/**
 * Zstandard frames via fzstd (pure JS, browser-safe; already a dependency for the fixture
 * cache). The kernel's CONFIG_KERNEL_ZSTD build writes `zstd -22 --ultra` plus 4 size bytes
 * (scripts/Makefile.lib cmd_zstd22): the caller passes the frame(s) without those.
 * Output arrives through the streaming decoder in bounded steps so a bomb stops at the limit.
 */
import { Decompress } from "fzstd";
import { DecompressError, LimitError } from "../errors.js";
import { type DecodeOptions, OutputBuffer } from "./output.js";

export function isZstd(b: Uint8Array): boolean {
  return b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
}

export function decodeZstd(input: Uint8Array, opts: DecodeOptions = {}): Uint8Array {
  if (!isZstd(input)) throw new DecompressError("zstd", "no zstd frame magic 28 b5 2f fd");
  const out = new OutputBuffer("zstd", opts);
  const d = new Decompress((chunk) => out.push(chunk));
  const STEP = 64 * 1024;
  try {
    for (let p = 0; p < input.length; p += STEP) {
      d.push(input.subarray(p, Math.min(input.length, p + STEP)), p + STEP >= input.length);
    }
  } catch (e) {
    if (e instanceof LimitError) throw e;
    throw new DecompressError("zstd", (e as Error).message || "corrupt frame");
  }
  return out.result();
}
