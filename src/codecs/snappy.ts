/**
 * Snappy raw-format decompression (makedumpfile -p: one snappy_compress() block per page).
 * Written from google/snappy's format_description.txt: a varint uncompressed length, then
 * elements tagged by their low 2 bits — 00 literal, 01 copy (1-byte offset), 10 copy (2-byte
 * offset), 11 copy (4-byte offset). Bounds-checked throughout.
 */
import { DecompressError } from "../errors.js";

function fail(detail: string, context?: string): never {
  throw new DecompressError("snappy", detail, context);
}

/** The uncompressed length stored at the start of a snappy block. */
export function snappyUncompressedLength(
  src: Uint8Array,
  context?: string,
): { length: number; headerBytes: number } {
  let v = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= src.length) fail("input overrun in the length varint", context);
    const b = src[i]!;
    v += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { length: v, headerBytes: i + 1 };
    shift += 7;
  }
  return fail("length varint too long", context);
}

/** Decompress into `dst`; the stored length must equal `dst.length` when `exact`. */
export function snappyDecompress(src: Uint8Array, dst: Uint8Array, context?: string, exact = false): number {
  const { length, headerBytes } = snappyUncompressedLength(src, context);
  if (length > dst.length) fail(`uncompressed length ${length} exceeds ${dst.length}`, context);
  if (exact && length !== dst.length) fail(`uncompressed length ${length}, expected ${dst.length}`, context);
  let ip = headerBytes;
  let op = 0;
  const n = src.length;
  while (ip < n) {
    const tag = src[ip++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (ip + extra > n) fail("input overrun in a literal length", context);
        len = 0;
        for (let i = 0; i < extra; i++) len += src[ip + i]! * 2 ** (8 * i);
        ip += extra;
      }
      len += 1;
      if (ip + len > n) fail("input overrun in a literal", context);
      if (op + len > length) fail("output overrun in a literal", context);
      dst.set(src.subarray(ip, ip + len), op);
      ip += len;
      op += len;
      continue;
    }
    let len: number;
    let off: number;
    if (kind === 1) {
      if (ip >= n) fail("input overrun in a copy", context);
      len = 4 + ((tag >> 2) & 7);
      off = ((tag >> 5) << 8) | src[ip++]!;
    } else if (kind === 2) {
      if (ip + 2 > n) fail("input overrun in a copy", context);
      len = 1 + (tag >> 2);
      off = src[ip]! | (src[ip + 1]! << 8);
      ip += 2;
    } else {
      if (ip + 4 > n) fail("input overrun in a copy", context);
      len = 1 + (tag >> 2);
      off = (src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16)) + src[ip + 3]! * 0x100_0000;
      ip += 4;
    }
    if (off === 0 || off > op) fail(`bad copy offset ${off} at output ${op}`, context);
    if (op + len > length) fail("output overrun in a copy", context);
    let m = op - off;
    for (let i = 0; i < len; i++) dst[op++] = dst[m++]!;
  }
  if (op !== length) fail(`produced ${op} bytes, header says ${length}`, context);
  return op;
}
