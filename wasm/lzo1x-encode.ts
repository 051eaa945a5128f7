// AssemblyScript source of the WebAssembly LZO1X encoder (src/codecs/lzo1x-wasm.ts holds the
// assembled module; scripts/build-wasm.mjs rebuilds it). The algorithm is exactly the one of
// src/codecs/lzo1x-encode.ts (greedy, 4-byte hash of 2^15 entries, lzo1x_1's skip through
// data that does not match), so both write the same bytes; this one runs ~4× faster (measured
// on the corpus' 6.1 vmcore pages).
//
// The table's size, measured on the 15,808 pages of the corpus vmcore's `-E -d 31` output (this
// module alone, best of 7): 2^13 entries 6.8–7.0 µs a page and 25,005,103 bytes; 2^14 6.4–6.5 µs,
// 24,979,249; 2^15 5.9–6.1 µs, 24,967,526; 2^16 no faster. Fewer collisions, so fewer candidates
// that fail the 4-byte compare and more matches found: faster and smaller (liblzo2's
// lzo1x_1_compress on the same pages: 25,221,610 bytes). The table is 128 KiB.
//
// Memory: a hash table of absolute positions (base + ip: a table entry below `base` is from an
// earlier call, so nothing is cleared between pages), the input and the output buffers, all
// static. The caller copies up to MAX_INPUT bytes to inputPtr() and reads the result at
// outputPtr().

import { BATCH_BYTES, batchBytes, batchInputPtr, batchSizesPtr, compressPages } from "./page-batch";

export { batchBytes, batchInputPtr, batchSizesPtr };

const HASH_BITS: u32 = 15;
const MAX_DIST: i32 = 49151;
const MAX_INPUT: i32 = 65536;

const TABLE: usize = memory.data(4 << HASH_BITS, 16);
const IN: usize = memory.data(MAX_INPUT, 16);
// the worst case of Lzo1xEncoder.bound(MAX_INPUT), and 8 bytes for a short literal copy's overrun
const OUT: usize = memory.data(MAX_INPUT + MAX_INPUT / 16 + 64 + 3 + 8, 16);

let base: i32 = 1;

export function inputPtr(): usize {
  return IN;
}
export function outputPtr(): usize {
  return OUT;
}
export function maxInput(): i32 {
  return MAX_INPUT;
}

// @ts-ignore: decorator
@inline
function extra(op: usize, t: i32): usize {
  while (t > 255) {
    store<u8>(op++, 0);
    t -= 255;
  }
  store<u8>(op++, <u8>t);
  return op;
}

// @ts-ignore: decorator
@inline
function literals(op: usize, from: i32, to: i32): usize {
  const len = to - from;
  if (len == 0) return op;
  if (op == OUT && len <= 238) store<u8>(op++, <u8>(17 + len));
  else if (len <= 3) store<u8>(op - 2, load<u8>(op - 2) | <u8>len);
  else if (len <= 18) store<u8>(op++, <u8>(len - 3));
  else {
    store<u8>(op++, 0);
    op = extra(op, len - 18);
  }
  if (len <= 32) {
    // short runs 8 bytes at a time (memory.copy is a call out of WebAssembly in V8, ~100
    // instructions); the up to 7 bytes written past the run are overwritten by what follows,
    // and OUT has room for them
    const src = IN + <usize>from;
    for (let i: usize = 0; i < <usize>len; i += 8) store<u64>(op + i, load<u64>(src + i));
  } else memory.copy(op, IN + <usize>from, <usize>len);
  return op + <usize>len;
}

/** Compress the `n` bytes at inputPtr() to outputPtr(); returns the output's length. */
export function compress(n: i32): i32 {
  if (n < 0 || n > MAX_INPUT) return -1;
  // positions are base + ip; start afresh before they could overflow
  if (base > 0x7fffffff - 2 * MAX_INPUT) {
    memory.fill(TABLE, 0, 4 << HASH_BITS);
    base = 1;
  }
  const b = base;
  base += n + 1;
  let op: usize = OUT;
  let lit: i32 = 0;
  let ip: i32 = 0;
  const limit = n - 4;
  while (ip < limit) {
    const v = load<u32>(IN + <usize>ip);
    const slot = TABLE + ((<usize>((v * 0x9e3779b1) >>> (32 - HASH_BITS))) << 2);
    const cand = load<i32>(slot) - b;
    store<i32>(slot, b + ip);
    const dist = ip - cand;
    if (cand < 0 || dist > MAX_DIST || load<u32>(IN + <usize>cand) != v) {
      ip += 1 + ((ip - lit) >> 5);
      continue;
    }
    // the match's length: 8 bytes at a time, the first differing byte from the XOR's trailing
    // zeros (the same length as a byte-by-byte compare, so the same output)
    let m: i32 = 4;
    while (ip + m + 8 <= n) {
      const x = load<u64>(IN + <usize>(cand + m)) ^ load<u64>(IN + <usize>(ip + m));
      if (x != 0) {
        m += <i32>(ctz<u64>(x) >> 3);
        break;
      }
      m += 8;
    }
    if (ip + m + 8 > n)
      while (ip + m < n && load<u8>(IN + <usize>(cand + m)) == load<u8>(IN + <usize>(ip + m))) m++;
    op = literals(op, lit, ip);
    if (m <= 8 && dist <= 2048) {
      const d = dist - 1;
      store<u8>(op, <u8>(((m - 1) << 5) | ((d & 7) << 2)));
      store<u8>(op + 1, <u8>(d >> 3));
      op += 2;
    } else if (dist <= 16384) {
      const d = dist - 1;
      if (m <= 33) store<u8>(op++, <u8>(32 | (m - 2)));
      else {
        store<u8>(op++, 32);
        op = extra(op, m - 33);
      }
      store<u8>(op, <u8>(d << 2));
      store<u8>(op + 1, <u8>(d >> 6));
      op += 2;
    } else {
      const d = dist - 16384;
      const hb = (d >> 11) & 8;
      if (m <= 9) store<u8>(op++, <u8>(16 | hb | (m - 2)));
      else {
        store<u8>(op++, <u8>(16 | hb));
        op = extra(op, m - 9);
      }
      store<u8>(op, <u8>(d << 2));
      store<u8>(op + 1, <u8>(d >> 6));
      op += 2;
    }
    ip += m;
    lit = ip;
  }
  op = literals(op, lit, n);
  store<u8>(op, 0x11);
  store<u8>(op + 1, 0);
  store<u8>(op + 2, 0);
  return <i32>(op + 3 - OUT);
}

// compressed pages of a batch (wasm/page-batch.ts), end to end
const BOUT: usize = memory.data(BATCH_BYTES, 16);

export function batchOutputPtr(): usize {
  return BOUT;
}

/** `count` pages of `pageSize` at batchInputPtr() (see wasm/page-batch.ts). */
export function compressBatch(count: i32, pageSize: i32, zeroCheck: bool): i32 {
  return compressPages(count, pageSize, zeroCheck, IN, MAX_INPUT, OUT, BOUT, (n: i32): i32 => compress(n));
}
