/**
 * gzip (RFC 1952) over fflate's DEFLATE decoder (pure JS, browser-safe). The kernel's
 * CONFIG_KERNEL_GZIP payload is one gzip member (`gzip -n -9`) whose ISIZE trailer doubles
 * as the size the x86 build tools read; Xen's xen.gz is the same. The header is parsed here so
 * that a bad one gives a typed error with its offset, and output is gathered through the
 * streaming inflater in bounded steps so a bomb stops at the limit.
 */

import { Inflate } from "fflate";
import { latin1 } from "../bytes/cursor.js";
import { DecompressError, KdumpkitError, LimitError } from "../errors.js";
import { crc32 } from "./crc.js";
import { type DecodeOptions, OutputBuffer } from "./output.js";

export function isGzip(b: Uint8Array): boolean {
  return b[0] === 0x1f && b[1] === 0x8b && b[2] === 8;
}

export interface GzipInfo {
  /** FNAME from the header, if present. */
  name?: string;
  mtime: number;
  /** ISIZE from the trailer (uncompressed size mod 2^32). */
  isize: number;
}

/** Offset of the DEFLATE data after the member header at input[0]. */
export function gzipHeaderLength(input: Uint8Array): { length: number; name?: string; mtime: number } {
  if (input.length < 18)
    throw new DecompressError("gzip", `stream of ${input.length} bytes is shorter than a gzip member`);
  if (!isGzip(input)) throw new DecompressError("gzip", "no gzip magic 1f 8b 08");
  const flg = input[3]!;
  if (flg & 0xe0) throw new DecompressError("gzip", `reserved header flags 0x${flg.toString(16)}`);
  const mtime = (input[4]! | (input[5]! << 8) | (input[6]! << 16) | (input[7]! << 24)) >>> 0;
  let p = 10;
  if (flg & 4) {
    const xlen = input[p]! | (input[p + 1]! << 8);
    p += 2 + xlen;
  }
  let name: string | undefined;
  const zstr = (): string => {
    const s = p;
    while (p < input.length && input[p] !== 0) p++;
    if (p >= input.length) throw new DecompressError("gzip", "unterminated header string");
    const text = latin1(input.subarray(s, p));
    p++;
    return text;
  };
  if (flg & 8) name = zstr();
  if (flg & 16) zstr();
  if (flg & 2) p += 2;
  if (p + 8 > input.length) throw new DecompressError("gzip", "header runs past the end of the stream");
  return name !== undefined ? { length: p, name, mtime } : { length: p, mtime };
}

/**
 * Decode the gzip member filling input[0, input.length): the 8-byte trailer (CRC32, ISIZE)
 * is taken from the end and both are checked.
 */
export function decodeGzip(
  input: Uint8Array,
  opts: DecodeOptions = {},
): { data: Uint8Array; info: GzipInfo } {
  const hdr = gzipHeaderLength(input);
  const tEnd = input.length;
  const wantCrc =
    (input[tEnd - 8]! | (input[tEnd - 7]! << 8) | (input[tEnd - 6]! << 16) | (input[tEnd - 5]! << 24)) >>> 0;
  const isize =
    (input[tEnd - 4]! | (input[tEnd - 3]! << 8) | (input[tEnd - 2]! << 16) | (input[tEnd - 1]! << 24)) >>> 0;
  const max = opts.maxOutput;
  // ISIZE is exact below 4 GiB: use it as the size hint when the caller has none, bounded by
  // DEFLATE's maximum ratio (1032:1) so a forged ISIZE cannot force a large allocation.
  // streaming: the CRC and the size are taken as the pieces go by
  let crc = 0;
  let size = 0;
  const sink = opts.sink;
  const out = new OutputBuffer("gzip", {
    ...opts,
    sizeHint: opts.sizeHint ?? (isize > 0 ? Math.min(isize, input.length * 1032) : undefined),
    ...(sink
      ? {
          sink: (c: Uint8Array) => {
            crc = crc32(c, crc);
            size += c.length;
            sink(c);
          },
        }
      : {}),
  });
  const inf = new Inflate((chunk) => out.push(chunk));
  const deflate = input.subarray(hdr.length, tEnd - 8);
  // DEFLATE expands at most ~1032:1, so 16 KiB steps bound the output of one push to ~16 MiB
  // past the limit before LimitError stops it.
  const STEP = 16 * 1024;
  try {
    for (let p = 0; p < deflate.length; p += STEP) {
      const last = p + STEP >= deflate.length;
      inf.push(deflate.subarray(p, Math.min(deflate.length, p + STEP)), last);
      if ((p & 0xfffff) === 0) opts.onProgress?.(p, deflate.length);
    }
  } catch (e) {
    if (e instanceof KdumpkitError) throw e; // ours, or the sink's (an output error)
    throw new DecompressError("gzip", (e as Error).message || "corrupt DEFLATE data");
  }
  const data = out.result();
  if (!sink) {
    size = data.length;
    crc = crc32(data);
  }
  if (max !== undefined && size > max) throw new LimitError("gzip output size", size, max);
  if (size >>> 0 !== isize)
    throw new DecompressError(
      "gzip",
      `ISIZE ${isize} differs from the ${size} bytes decoded (truncated or corrupt)`,
    );
  if (crc !== wantCrc)
    throw new DecompressError(
      "gzip",
      `CRC32 0x${crc.toString(16)} differs from the trailer's 0x${wantCrc.toString(16)}`,
    );
  const info: GzipInfo = { mtime: hdr.mtime, isize };
  if (hdr.name !== undefined) info.name = hdr.name;
  return { data, info };
}
