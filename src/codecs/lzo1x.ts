/**
 * LZO1X decompression (the format of liblzo2's lzo1x_1_compress, which makedumpfile -l uses per
 * page, and of lzop payloads). Written from the bitstream description in the Linux kernel's
 * Documentation/staging/lzo.rst. Every read and every back-reference is bounds-checked: the
 * input comes from a crashed machine.
 *
 * Instruction summary (state = literals copied by the previous instruction, 4 = a long run):
 *   0000LLLL state 0: literal run of 3+L (L=0: 18 + 255·zeros + byte) → state 4
 *            state 1–3: match len 2, dist (H<<2)+D+1 · state 4: len 3, dist (H<<2)+D+2049
 *   0001HLLL match len 2+L (L=0: 9 + 255·zeros + byte), dist 16384+(H<<14)+(LE16>>2); 16384 = end
 *   001LLLLL match len 2+L (L=0: 33 + 255·zeros + byte), dist (LE16>>2)+1
 *   01LDDDSS match len 3+L, dist (H<<3)+D+1 · 1LLDDDSS match len 5+L, dist (H<<3)+D+1
 * After a match, SS (the low 2 bits of the last byte or LE16) literals follow.
 */
import { DecompressError } from "../errors.js";

/**
 * What can be wrong with a stream: one code per check, shared with the WebAssembly decoder
 * (wasm/lzo1x-decode.ts returns the negative code), so that both throw the same error.
 */
export const LZO_EMPTY = 1;
export const LZO_FIRST_RUN = 2;
export const LZO_NO_END = 3;
export const LZO_LENGTH_INPUT = 4;
export const LZO_LITERALS_TOO_LONG = 5;
export const LZO_LITERALS_INPUT = 6;
export const LZO_LITERALS_OUTPUT = 7;
export const LZO_MATCH_INPUT = 8;
export const LZO_MATCH_TOO_LONG = 9;
export const LZO_SHORT = 10;
export const LZO_LOOK_BEHIND = 11;
export const LZO_MATCH_OUTPUT = 12;
export const LZO_TRAILING_INPUT = 13;
export const LZO_TRAILING_OUTPUT = 14;

const LZO_WHAT = [
  "",
  "empty input",
  "overrun in the first literal run",
  "input ended without the end marker",
  "input overrun in a length",
  "literal run longer than the output",
  "input overrun in a literal run",
  "output overrun in a literal run",
  "input overrun in a match",
  "match longer than the output",
  "",
  "",
  "output overrun in a match",
  "input overrun in trailing literals",
  "output overrun in trailing literals",
];

/**
 * The DecompressError of check `code` failing for the instruction at input offset `at` with
 * `op` bytes written (`dist`: the match distance, `outLen`: the expected page size).
 */
export function lzoError(
  code: number,
  at: number,
  op: number,
  dist: number,
  outLen: number,
  context?: string,
): DecompressError {
  let detail: string;
  if (code === LZO_EMPTY) detail = LZO_WHAT[code]!;
  else if (code === LZO_SHORT)
    detail = `produced ${op} bytes, expected ${outLen} (end marker at input offset ${at})`;
  else if (code === LZO_LOOK_BEHIND)
    detail = `look-behind overrun (distance ${dist} at output ${op}, input offset ${at})`;
  else detail = `${LZO_WHAT[code] ?? `error ${code}`} (input offset ${at}, output offset ${op})`;
  return new DecompressError("lzo1x", detail, context);
}

function fail(
  code: number,
  at: number,
  op: number,
  context: string | undefined,
  dist = 0,
  outLen = 0,
): never {
  throw lzoError(code, at, op, dist, outLen, context);
}

let viewA: DataView | undefined;
let viewB: DataView | undefined;

/** A DataView over the whole buffer under `a`, reusing the last two made. */
function dataViewOf(a: Uint8Array): DataView {
  const buf = a.buffer;
  if (viewA?.buffer === buf) return viewA;
  if (viewB?.buffer === buf) {
    const v = viewB;
    viewB = viewA;
    viewA = v;
    return v;
  }
  viewB = viewA;
  viewA = new DataView(buf);
  return viewA;
}

/**
 * Decompress `src` into `dst` and return the number of bytes written. Throws DecompressError
 * on any malformed input, an output overrun, or input that ends before the end marker.
 * `exact`: the output must fill `dst` exactly (page decompression). Bytes of `dst` past the
 * returned length may have been written to.
 */
export function lzo1xDecompress(src: Uint8Array, dst: Uint8Array, context?: string, exact = false): number {
  const inLen = src.length;
  const outLen = dst.length;
  let ip = 0;
  let op = 0;
  // literals copied by the previous instruction (0–3), 4 after a literal run of 4+
  let state = 0;
  // where the current instruction starts (named in errors)
  let at = 0;
  let t = 0;
  let len = 0;
  let dist = 0;
  let b = 0;
  // DataViews over the whole buffers, kept between calls (pages come as views into the same
  // read window and go to the same page buffer): two DataViews per page were a tenth of the
  // decode. Every access below is within [0, inLen) / [0, outLen) by the checks before it.
  const dv = dataViewOf(dst);
  const sv = dataViewOf(src);
  const d0 = dst.byteOffset;
  const s0 = src.byteOffset;

  if (inLen === 0) fail(LZO_EMPTY, 0, 0, context);
  if (src[0]! > 17) {
    // an initial literal run of (byte − 17)
    len = src[ip++]! - 17;
    if (ip + len > inLen || len > outLen) fail(LZO_FIRST_RUN, 0, 0, context);
    for (let i = 0; i < len; i++) dst[op++] = src[ip++]!;
    state = len < 4 ? len : 4;
  }
  for (;;) {
    at = ip;
    if (ip >= inLen) fail(LZO_NO_END, at, op, context);
    t = src[ip++]!;
    if (t < 16) {
      if (state === 0) {
        // literal run of 3 + L (L = 0: 18 + 255·zeros + byte)
        len = t;
        if (len === 0) {
          len = 15;
          for (;;) {
            if (ip >= inLen) fail(LZO_LENGTH_INPUT, at, op, context);
            b = src[ip++]!;
            if (b !== 0) break;
            len += 255;
            if (len > outLen) fail(LZO_LITERALS_TOO_LONG, at, op, context);
          }
          len += b;
        }
        len += 3;
        if (ip + len > inLen) fail(LZO_LITERALS_INPUT, at, op, context);
        if (op + len > outLen) fail(LZO_LITERALS_OUTPUT, at, op, context);
        if (len > 64) {
          dst.set(src.subarray(ip, ip + len), op);
          ip += len;
          op += len;
        } else {
          const end = op + len;
          while (op + 4 <= end) {
            dv.setUint32(d0 + op, sv.getUint32(s0 + ip, true), true);
            op += 4;
            ip += 4;
          }
          while (op < end) dst[op++] = src[ip++]!;
        }
        state = 4;
        continue;
      }
      if (ip >= inLen) fail(LZO_MATCH_INPUT, at, op, context);
      b = src[ip++]!;
      if (state === 4) {
        dist = (b << 2) + (t >> 2) + 2049;
        len = 3;
      } else {
        dist = (b << 2) + (t >> 2) + 1;
        len = 2;
      }
    } else if (t >= 64) {
      if (ip >= inLen) fail(LZO_MATCH_INPUT, at, op, context);
      dist = (src[ip++]! << 3) + ((t >> 2) & 7) + 1;
      len = (t >> 5) + 1;
    } else {
      const mask = t >= 32 ? 31 : 7;
      len = t & mask;
      if (len === 0) {
        len = mask;
        for (;;) {
          if (ip >= inLen) fail(LZO_LENGTH_INPUT, at, op, context);
          b = src[ip++]!;
          if (b !== 0) break;
          len += 255;
          if (len > outLen) fail(LZO_MATCH_TOO_LONG, at, op, context);
        }
        len += b;
      }
      len += 2;
      if (ip + 2 > inLen) fail(LZO_MATCH_INPUT, at, op, context);
      const le = src[ip]! | (src[ip + 1]! << 8);
      ip += 2;
      if (t >= 32) dist = (le >> 2) + 1;
      else {
        dist = ((t & 8) << 11) + (le >> 2);
        if (dist === 0) {
          // end of stream: 0x11 0x00 0x00
          if (exact && op !== outLen) fail(LZO_SHORT, at, op, context, 0, outLen);
          return op;
        }
        dist += 16384;
      }
      t = le;
    }
    // copy the match
    let m = op - dist;
    if (m < 0) fail(LZO_LOOK_BEHIND, at, op, context, dist);
    if (op + len > outLen) fail(LZO_MATCH_OUTPUT, at, op, context);
    if (len > 64) {
      if (dist === 1) {
        // a run of one byte: memset
        dst.fill(dst[m]!, op, op + len);
        op += len;
      } else if (dist >= len) {
        dst.copyWithin(op, m, m + len);
        op += len;
      } else {
        // a repeating pattern of `dist` bytes (zero-filled pages come as one 4 KiB match at a
        // short distance): copy in chunks that double, log2(len/dist) native copies
        const end = op + len;
        while (op < end) {
          const n = Math.min(op - m, end - op);
          dst.copyWithin(op, m, m + n);
          op += n;
        }
      }
    } else if (dist >= 4 && op + len + 3 <= outLen) {
      // whole words, overshooting `end` by up to 3 bytes: each word read lies in output
      // already written (dist ≥ 4), and the overshoot is rewritten by what follows (the output
      // is produced in order). Measured on dumpfile.lzo-d31's 14,925 pages: 5.2 → 4.5 µs/page.
      const end = op + len;
      do {
        dv.setUint32(d0 + op, dv.getUint32(d0 + m, true), true);
        op += 4;
        m += 4;
      } while (op < end);
      op = end;
    } else if (dist >= 4) {
      // near the end of the output: words, then the tail byte by byte, never past `end`
      const end = op + len;
      while (op + 4 <= end) {
        dv.setUint32(d0 + op, dv.getUint32(d0 + m, true), true);
        op += 4;
        m += 4;
      }
      while (op < end) dst[op++] = dst[m++]!;
    } else for (let i = 0; i < len; i++) dst[op++] = dst[m++]!;
    // then 0–3 literals (the low 2 bits of the last instruction byte or LE16)
    state = t & 3;
    if (state) {
      if (ip + state > inLen) fail(LZO_TRAILING_INPUT, at, op, context);
      if (op + state > outLen) fail(LZO_TRAILING_OUTPUT, at, op, context);
      for (let i = 0; i < state; i++) dst[op++] = src[ip++]!;
    }
  }
}
