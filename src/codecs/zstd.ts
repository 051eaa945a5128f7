/**
 * Zstandard via fzstd (pure JS, browser-safe; already a dependency for .zst inputs).
 * Pages: makedumpfile -z writes one ZSTD_compress() frame per page (zstdDecompress).
 * Payloads: the kernel's CONFIG_KERNEL_ZSTD build writes `zstd -22 --ultra` plus 4 size bytes
 * (scripts/Makefile.lib cmd_zstd22); decodeZstd takes the frame(s) without those and gathers
 * output through the streaming decoder in bounded steps so a bomb stops at the limit.
 */
import { Decompress, decompress } from "fzstd";
import { DecompressError, KdumpkitError } from "../errors.js";
import { Xxh64 } from "./crc.js";
import { type DecodeOptions, OutputBuffer } from "./output.js";

/**
 * One page. Measured on 3,000 real pages of kdump/capture/dumpfile.zlib-d31 recompressed with
 * zstd -1 (avg 627 bytes): ~27 µs/page of CPU when fzstd allocates its output, ~160 µs when
 * given an output buffer — fzstd 0.1.1 tests `w == 1` on that buffer, which stringifies all
 * its bytes. So no buffer is passed and the page is copied.
 */
export function zstdDecompress(src: Uint8Array, dst: Uint8Array, context?: string, exact = false): number {
  let out: Uint8Array;
  try {
    out = decompress(src);
  } catch (e) {
    throw new DecompressError("zstd", (e as Error).message, context);
  }
  if (out.length > dst.length)
    throw new DecompressError("zstd", `output exceeds ${dst.length} bytes`, context);
  dst.set(out);
  if (exact && out.length !== dst.length)
    throw new DecompressError("zstd", `produced ${out.length} bytes, expected ${dst.length}`, context);
  return out.length;
}

export function isZstd(b: Uint8Array): boolean {
  return b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
}

export function decodeZstd(input: Uint8Array, opts: DecodeOptions = {}): Uint8Array {
  if (!isZstd(input)) throw new DecompressError("zstd", "no zstd frame magic 28 b5 2f fd");
  // the content checksum is taken as the pieces go by (streaming or not)
  const hash = new Xxh64();
  const out = new OutputBuffer("zstd", opts);
  const d = new Decompress((chunk) => {
    out.push(chunk);
    hash.update(chunk);
  });
  const STEP = 64 * 1024;
  try {
    for (let p = 0; p < input.length; p += STEP) {
      d.push(input.subarray(p, Math.min(input.length, p + STEP)), p + STEP >= input.length);
      if ((p & 0xfffff) === 0) opts.onProgress?.(p, input.length);
    }
  } catch (e) {
    if (e instanceof KdumpkitError) throw e; // ours, or the sink's (an output error)
    throw new DecompressError("zstd", (e as Error).message || "corrupt frame");
  }
  const data = out.result();
  verifyChecksum(input, hash);
  return data;
}

/**
 * fzstd ignores the frame's content checksum; check it here for the common single-frame case
 * (the kernel's payload): Frame_Header_Descriptor bit 2, last 4 bytes = XXH64 low 32 bits.
 */
function verifyChecksum(input: Uint8Array, hash: Xxh64): void {
  const fhd = input[4]!;
  if (!(fhd & 4) || input.length < 12) return;
  const want =
    (input[input.length - 4]! |
      (input[input.length - 3]! << 8) |
      (input[input.length - 2]! << 16) |
      (input[input.length - 1]! << 24)) >>>
    0;
  const got = Number(hash.digest() & 0xffffffffn);
  if (got !== want)
    throw new DecompressError(
      "zstd",
      `content checksum 0x${got.toString(16)} differs from 0x${want.toString(16)} (corrupt data, or several frames)`,
    );
}
