/**
 * LZO1X decompression (the format of lzo1x_1 / lzo1x_999 compressors: lzop, makedumpfile's
 * `-l` pages, the kernel's CONFIG_KERNEL_LZO). Written from the bitstream description in the
 * kernel's Documentation/staging/lzo.rst and the checks of lib/lzo/lzo1x_decompress_safe.c:
 * every literal run and match is bounds-checked against input, output and look-behind.
 * The lzo-rle variant (zram's bitstream version byte) is not accepted here.
 */
import { DecompressError } from "../errors.js";

/** 0x800: the distance bias of a 3-byte M1 match after a literal run of 4+. */
const M2_MAX_OFFSET = 0x800;

function fail(detail: string, context?: string): never {
  throw new DecompressError("lzo1x", detail, context);
}

/**
 * Decompress input[inStart, inEnd) into out starting at outStart, writing at most `outMax`
 * bytes. Returns the number of bytes written. The stream must end with the end-of-stream
 * marker and consume the input exactly.
 */
export function lzo1xDecompress(
  input: Uint8Array,
  inStart: number,
  inEnd: number,
  out: Uint8Array,
  outStart: number,
  outMax: number,
  context?: string,
): number {
  let ip = inStart;
  let op = outStart;
  const opEnd = Math.min(out.length, outStart + outMax);
  if (inEnd - inStart < 3) fail("input shorter than 3 bytes", context);
  let state = 0;
  let t = 0;
  let next = 0;
  let mPos = 0;
  const lit = (n: number): void => {
    if (ip + n > inEnd) fail("literal run past the end of input", context);
    if (op + n > opEnd) fail("output overrun", context);
    out.set(input.subarray(ip, ip + n), op);
    ip += n;
    op += n;
  };
  const zeroRun = (): number => {
    // a length byte of 0: each further 0 byte adds 255, the first non-zero ends it
    let extra = 0;
    while (ip < inEnd && input[ip] === 0) {
      ip++;
      extra += 255;
    }
    if (ip >= inEnd) fail("truncated length", context);
    return extra + input[ip++]!;
  };
  let first = true;
  for (;;) {
    if (first) {
      first = false;
      if (input[ip]! > 17) {
        t = input[ip++]! - 17;
        if (t < 4) {
          next = t;
          state = next;
          lit(next);
          continue;
        }
        lit(t);
        state = 4;
        continue;
      }
    }
    if (ip >= inEnd) fail("input ends without the end-of-stream marker", context);
    t = input[ip++]!;
    if (t < 16) {
      if (state === 0) {
        if (t === 0) t = 15 + zeroRun();
        lit(t + 3);
        state = 4;
        continue;
      }
      if (ip >= inEnd) fail("truncated match", context);
      next = t & 3;
      if (state !== 4) {
        mPos = op - 1 - (t >>> 2) - (input[ip++]! << 2);
        t = 2;
      } else {
        mPos = op - (1 + M2_MAX_OFFSET) - (t >>> 2) - (input[ip++]! << 2);
        t = 3;
      }
    } else if (t >= 64) {
      if (ip >= inEnd) fail("truncated match", context);
      next = t & 3;
      mPos = op - 1 - ((t >>> 2) & 7) - (input[ip++]! << 3);
      t = (t >>> 5) + 1;
    } else if (t >= 32) {
      t = (t & 31) + 2;
      if (t === 2) t = 31 + 2 + zeroRun();
      if (ip + 2 > inEnd) fail("truncated match", context);
      next = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
      mPos = op - 1 - (next >>> 2);
      next &= 3;
    } else {
      mPos = op - ((t & 8) << 11);
      t = (t & 7) + 2;
      if (t === 2) t = 7 + 2 + zeroRun();
      if (ip + 2 > inEnd) fail("truncated match", context);
      next = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
      mPos -= next >>> 2;
      next &= 3;
      if (mPos === op) {
        // end of stream: M4 with distance 0, length 3
        if (t !== 3) fail("bad end-of-stream marker", context);
        if (ip !== inEnd) fail(`${inEnd - ip} bytes after the end-of-stream marker`, context);
        return op - outStart;
      }
      mPos -= 0x4000;
    }
    if (mPos < outStart) fail("match before the start of output", context);
    if (op + t > opEnd) fail("output overrun", context);
    if (op - mPos >= t) {
      out.copyWithin(op, mPos, mPos + t);
      op += t;
    } else {
      const e = op + t;
      while (op < e) out[op++] = out[mPos++]!;
    }
    state = next;
    if (next > 0) lit(next);
  }
}
