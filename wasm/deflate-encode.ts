// AssemblyScript source of the WebAssembly zlib/deflate encoder for dump pages (assembled into
// src/codecs/wasm-modules.ts by scripts/build-wasm.mjs; the TypeScript side is
// src/codecs/deflate-encode.ts). Written from RFC 1950 (zlib wrapper: CMF/FLG, Adler-32) and
// RFC 1951 (deflate) for one job: a page of 4 KiB (up to 64 KiB) in, one complete zlib stream
// out, as makedumpfile -c's compress2() writes one per page.
//
// - One block per input (of up to 64 KiB): dynamic Huffman codes built from this input's own
//   symbol counts (lengths limited to 15 bits, 7 for the code-length code), the code lengths
//   run-length coded with symbols 16/17/18; or the fixed codes, or a stored block, whichever
//   is smallest in bits (computed exactly before writing).
// - Matches of 3..258 bytes within the input (distances ≤ 32 KiB) from a hash table of 3-byte
//   prefixes with chains (PREV). Table entries are absolute positions `base + ip`; `base` grows
//   by each input's length, so an entry below `base` is from an earlier call and nothing is
//   cleared between pages (zlib's deflateReset clears a 64 KiB table per stream, more work than
//   the matching of a 4 KiB page).
// - Two strategies: greedy (insert every position, take the longest of `chain` candidates) and
//   lazy (also try the next position and emit a literal when it matches longer).
//
// Memory is static: the caller copies the input to inputPtr() and reads the result at
// outputPtr().

import { adler32 } from "./adler32";
import { BLCOUNT, huffmanLengths, matchLen } from "./encode-common";
import { BATCH_BYTES, batchBytes, batchInputPtr, batchSizesPtr, compressPages } from "./page-batch";

export { batchBytes, batchInputPtr, batchSizesPtr };

const MAX_INPUT: i32 = 65536;
const HASH_BITS: u32 = 14;
const WINDOW: i32 = 32768;
const MIN_MATCH: i32 = 3;
const MAX_MATCH: i32 = 258;
const MAX_INSERT: i32 = 8;

const HEAD: usize = memory.data(4 << HASH_BITS, 16);
const PREV: usize = memory.data(4 * MAX_INPUT, 16);
// the input, with 8 spare bytes so that 8-byte loads near its end stay inside memory
const IN: usize = memory.data(MAX_INPUT + 16, 16);
// one entry per literal (the byte) or match ((distance << 9) | (256 + length - 3))
const ITEMS: usize = memory.data(4 * MAX_INPUT, 16);
// stored blocks are the worst case: 5 bytes per 65535, zlib header 2, Adler-32 4, bit slack
const OUT_SIZE: i32 = MAX_INPUT + 5 * 2 + 2 + 4 + 16;
const OUT: usize = memory.data(OUT_SIZE, 16);

// symbol counts of the lit/len (286), distance (30) and code-length (19) alphabets
const LFREQ: usize = memory.data(4 * 288, 16);
const DFREQ: usize = memory.data(4 * 32, 16);
const CFREQ: usize = memory.data(4 * 20, 16);
// code per symbol: reversed code bits | (length << 16)
const LCODE: usize = memory.data(4 * 288, 16);
const DCODE: usize = memory.data(4 * 32, 16);
const CCODE: usize = memory.data(4 * 20, 16);
// code lengths: the lit/len lengths then the distance lengths, one sequence (as coded)
const LENS: usize = memory.data(288 + 32, 16);
const CLENS: usize = memory.data(20, 16);
// the run-length coded lengths: symbol | (extra value << 8)
const RLE: usize = memory.data(4 * (288 + 32), 16);
// the next canonical code of each length
const NEXTCODE: usize = memory.data(4 * 17, 16);

// length - 3 → lit/len symbol - 257; per symbol - 257: extra bits and base length - 3
const LEN_SYM: usize = memory.data(256, 16);
const LEN_EBITS: usize = memory.data(32, 16);
const LEN_BASE: usize = memory.data(4 * 32, 16);
// fixed lit/len and distance codes
const FIXED_L: usize = memory.data(4 * 288, 16);
const FIXED_D: usize = memory.data(4 * 32, 16);

// the order code-length code lengths are sent in (RFC 1951 3.2.7)
// bit-reversed bytes
const REV8: usize = memory.data(256, 16);

const CL_ORDER: usize = memory.data<u8>([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

let base: i32 = 1;
let ready = false;
let op: usize = 0;
let bitBuf: u64 = 0;
let bitCount: u32 = 0;
let extraBits: i32 = 0;

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
function reverseFast(code: u32, len: u32): u32 {
  // code < 2^15: both bytes reversed and swapped, then shifted down to `len` bits
  const r = (<u32>load<u8>(REV8 + <usize>(code & 255)) << 8) | <u32>load<u8>(REV8 + <usize>(code >> 8));
  return r >> (16 - len);
}

function reverse(code: u32, len: u32): u32 {
  let r: u32 = 0;
  for (let i: u32 = 0; i < len; i++) {
    r = (r << 1) | (code & 1);
    code >>= 1;
  }
  return r;
}

function init(): void {
  for (let i: u32 = 0; i < 256; i++) store<u8>(REV8 + <usize>i, <u8>reverse(i, 8));
  // length symbols 257..284: 4 of each extra-bit count after the first 8; 285 is 258 exactly
  let b: i32 = 0;
  for (let s: i32 = 0; s < 28; s++) {
    const e: i32 = s < 8 ? 0 : (s - 4) >> 2;
    store<u8>(LEN_EBITS + <usize>s, <u8>e);
    store<i32>(LEN_BASE + (<usize>s << 2), b);
    for (let k: i32 = 0; k < 1 << e && b + k < 255; k++) store<u8>(LEN_SYM + <usize>(b + k), <u8>s);
    b += 1 << e;
  }
  store<u8>(LEN_EBITS + 28, 0);
  store<i32>(LEN_BASE + (28 << 2), 255);
  store<u8>(LEN_SYM + 255, 28);
  // fixed codes (RFC 1951 3.2.6)
  for (let s: u32 = 0; s < 288; s++) {
    let len: u32 = 8;
    let code: u32 = 0;
    if (s < 144) code = 0x30 + s;
    else if (s < 256) {
      len = 9;
      code = 0x190 + s - 144;
    } else if (s < 280) {
      len = 7;
      code = s - 256;
    } else code = 0xc0 + s - 280;
    store<u32>(FIXED_L + (<usize>s << 2), reverse(code, len) | (len << 16));
  }
  for (let s: u32 = 0; s < 32; s++) store<u32>(FIXED_D + (<usize>s << 2), reverse(s, 5) | (5 << 16));
  ready = true;
}

// @ts-ignore: decorator
@inline
function distSym(d: u32): u32 {
  // d = distance - 1: codes 0..3 are 1..4; then two codes per power of two
  if (d < 4) return d;
  const nb: u32 = 31 - clz<u32>(d);
  return (nb << 1) | ((d >> (nb - 1)) & 1);
}

// @ts-ignore: decorator
@inline
function put(v: u32, n: u32): void {
  bitBuf |= (<u64>v) << bitCount;
  bitCount += n;
  if (bitCount >= 32) {
    store<u32>(op, <u32>bitBuf);
    op += 4;
    bitBuf >>= 32;
    bitCount -= 32;
  }
}

// @ts-ignore: decorator
@inline
function putCode(e: u32): void {
  put(e & 0xffff, e >> 16);
}

function flushBits(): void {
  while (bitCount > 0) {
    store<u8>(op++, <u8>bitBuf);
    bitBuf >>= 8;
    bitCount = bitCount > 8 ? bitCount - 8 : 0;
  }
  bitBuf = 0;
  bitCount = 0;
}

// @ts-ignore: decorator
@inline
function hash3(p: i32): usize {
  const v: u32 = load<u32>(IN + <usize>p) & 0xffffff;
  return HEAD + ((<usize>((v * 0x9e3779b1) >> (32 - HASH_BITS))) << 2);
}

// @ts-ignore: decorator
@inline
function insert(p: i32, b: i32): void {
  const slot = hash3(p);
  store<i32>(PREV + (<usize>p << 2), load<i32>(slot));
  store<i32>(slot, b + p);
}

let foundDist: i32 = 0;

/** Insert p and return the longest match at p among `chain` candidates (< 3: none). */
// @ts-ignore: decorator
@inline
function find(p: i32, n: i32, b: i32, chain: i32, nice: i32): i32 {
  const slot = hash3(p);
  let cand = load<i32>(slot) - b;
  store<i32>(PREV + (<usize>p << 2), cand + b);
  store<i32>(slot, b + p);
  let best: i32 = MIN_MATCH - 1;
  const max: i32 = min(MAX_MATCH, n - p);
  const at = IN + <usize>p;
  while (cand >= 0 && p - cand <= WINDOW) {
    const c = IN + <usize>cand;
    if (load<u8>(c + <usize>best) == load<u8>(at + <usize>best)) {
      const l = matchLen(c, at, max);
      if (l > best) {
        best = l;
        foundDist = p - cand;
        if (l >= nice) break;
      }
    }
    if (--chain == 0) break;
    cand = load<i32>(PREV + (<usize>cand << 2)) - b;
  }
  return best;
}

// @ts-ignore: decorator
@inline
function literal(it: usize, p: i32): usize {
  const c = load<u8>(IN + <usize>p);
  store<u32>(it, c);
  const f = LFREQ + (<usize>c << 2);
  store<u32>(f, load<u32>(f) + 1);
  return it + 4;
}

// @ts-ignore: decorator
@inline
function match(it: usize, len: i32, dist: i32): usize {
  store<u32>(it, (<u32>dist << 9) | <u32>(253 + len));
  const s = <usize>load<u8>(LEN_SYM + <usize>(len - 3));
  const f = LFREQ + ((257 + s) << 2);
  store<u32>(f, load<u32>(f) + 1);
  const d = distSym(<u32>(dist - 1));
  const g = DFREQ + (<usize>d << 2);
  store<u32>(g, load<u32>(g) + 1);
  extraBits += <i32>load<u8>(LEN_EBITS + s) + <i32>(d < 4 ? 0 : (d >> 1) - 1);
  return it + 4;
}

/**
 * Huffman code lengths for the `n` symbols counted at `freq` (u32 each), no longer than
 * `limit`, into `lens` (u8 each) (wasm/encode-common.ts); codes (reversed, | length << 16) into
 * `codes`. At least two symbols get a code (a count of 1 is given where fewer are used), so
 * that every code is complete, as zlib's inflate demands.
 */
function huffman(freq: usize, n: i32, limit: i32, lens: usize, codes: usize): void {
  let k: i32 = 0;
  let first: i32 = -1;
  for (let s: i32 = 0; s < n && k < 2; s++)
    if (load<u32>(freq + (<usize>s << 2)) != 0) {
      if (k == 0) first = s;
      k++;
    }
  while (k < 2) {
    // give symbol 0 or 1 a count of 1 (it is not used otherwise)
    const s: i32 = k == 1 && first == 0 ? 1 : 0;
    store<u32>(freq + (<usize>s << 2), 1);
    if (k == 0) first = s;
    k++;
  }
  huffmanLengths(freq, n, limit, lens);
  // canonical codes (RFC 1951 3.2.2), bit-reversed for the LSB-first writer
  let code: u32 = 0;
  for (let len: i32 = 1; len <= limit; len++) {
    code = (code + load<u32>(BLCOUNT + (<usize>(len - 1) << 2))) << 1;
    store<u32>(NEXTCODE + (<usize>len << 2), code);
  }
  // BLCOUNT[0] was never counted: the loop above used it as 0 for len 1
  for (let s: i32 = 0; s < n; s++) {
    const len = <i32>load<u8>(lens + <usize>s);
    if (len == 0) {
      store<u32>(codes + (<usize>s << 2), 0);
      continue;
    }
    const nc = NEXTCODE + (<usize>len << 2);
    const c = load<u32>(nc);
    store<u32>(nc, c + 1);
    store<u32>(codes + (<usize>s << 2), reverseFast(c, <u32>len) | (<u32>len << 16));
  }
}

/**
 * The bits of `items` coded with `lcode`/`dcode`. The bit buffer is kept in locals (the
 * globals cost a load and a store per field) and emptied to below 32 bits once per literal and
 * twice per match: a length code with its extra bits is at most 20 bits, a distance code with
 * its extra bits at most 28, so neither overflows the 64-bit buffer.
 */
function writeItems(items: usize, end: usize, lcode: usize, dcode: usize): void {
  let bb = bitBuf;
  let bc = bitCount;
  let o = op;
  for (let it = items; it < end; it += 4) {
    const v = load<u32>(it);
    const low = v & 511;
    if (low < 256) {
      const e = load<u32>(lcode + (<usize>low << 2));
      bb |= (<u64>(e & 0xffff)) << bc;
      bc += e >> 16;
    } else {
      const l = low - 256;
      const s = <usize>load<u8>(LEN_SYM + <usize>l);
      const e = load<u32>(lcode + ((257 + s) << 2));
      bb |= (<u64>(e & 0xffff)) << bc;
      bc += e >> 16;
      const le = <u32>load<u8>(LEN_EBITS + s);
      bb |= (<u64>(l - <u32>load<i32>(LEN_BASE + (s << 2)))) << bc;
      bc += le;
      if (bc >= 32) {
        store<u32>(o, <u32>bb);
        o += 4;
        bb >>= 32;
        bc -= 32;
      }
      const d = (v >> 9) - 1;
      const ds = distSym(d);
      const f = load<u32>(dcode + (<usize>ds << 2));
      bb |= (<u64>(f & 0xffff)) << bc;
      bc += f >> 16;
      if (ds >= 4) {
        const de = (ds >> 1) - 1;
        bb |= (<u64>(d & ((1 << de) - 1))) << bc;
        bc += de;
      }
    }
    if (bc >= 32) {
      store<u32>(o, <u32>bb);
      o += 4;
      bb >>= 32;
      bc -= 32;
    }
  }
  bitBuf = bb;
  bitCount = bc;
  op = o;
}

/**
 * Compress the `n` bytes at inputPtr() into one zlib stream at outputPtr(); returns its length.
 * `level` 1: greedy, 4 candidates; 2: lazy, 8 candidates; 3: lazy, 32 candidates.
 */
export function compress(n: i32, level: i32): i32 {
  if (n < 0 || n > MAX_INPUT) return -1;
  if (!ready) init();
  if (base > 0x7fffffff - 2 * MAX_INPUT) {
    memory.fill(HEAD, 0, 4 << HASH_BITS);
    base = 1;
  }
  const b = base;
  base += n + 1;
  memory.fill(LFREQ, 0, 4 * 288);
  memory.fill(DFREQ, 0, 4 * 32);
  store<u64>(IN + <usize>n, 0);
  extraBits = 0;

  // 1. matches
  let it: usize = ITEMS;
  let p: i32 = 0;
  const last = n - MIN_MATCH; // the last position a match can start at
  if (level <= 1) {
    const chain = 4;
    const nice = 16;
    while (p <= last) {
      const len = find(p, n, b, chain, nice);
      if (len < MIN_MATCH) {
        it = literal(it, p);
        p++;
        continue;
      }
      it = match(it, len, foundDist);
      // as zlib's deflate_fast, the positions inside a match are hashed only when it is short
      // (MAX_INSERT 8, measured on the 15,250 pages the corpus' 6.1 vmcore keeps at -d 31: 13%
      // fewer instructions and 0.3% smaller than hashing all; 4: 0.6% larger, 16: 0.8% larger)
      if (len <= MAX_INSERT) {
        const end = min(p + len, last + 1);
        for (let q = p + 1; q < end; q++) insert(q, b);
      }
      p += len;
    }
  } else {
    const chain = level == 2 ? 8 : 32;
    const nice = level == 2 ? 32 : 128;
    const lazyMax = level == 2 ? 16 : 64;
    if (p <= last) {
      let len = find(p, n, b, chain, nice);
      let dist = foundDist;
      while (true) {
        if (len < MIN_MATCH) {
          it = literal(it, p);
          p++;
          if (p > last) break;
          len = find(p, n, b, chain, nice);
          dist = foundDist;
          continue;
        }
        let from = p + 1;
        if (len < lazyMax && p + 1 <= last) {
          const len2 = find(p + 1, n, b, chain, nice);
          if (len2 > len) {
            it = literal(it, p);
            p++;
            len = len2;
            dist = foundDist;
            continue;
          }
          from = p + 2;
        }
        it = match(it, len, dist);
        const end = min(p + len, last + 1);
        for (let q = from; q < end; q++) insert(q, b);
        p += len;
        if (p > last) break;
        len = find(p, n, b, chain, nice);
        dist = foundDist;
      }
    }
  }
  while (p < n) {
    it = literal(it, p);
    p++;
  }
  store<u32>(LFREQ + (256 << 2), 1); // end of block

  // 2. codes and their costs in bits
  huffman(LFREQ, 286, 15, LENS, LCODE);
  huffman(DFREQ, 30, 15, LENS + 286, DCODE);
  let hlit: i32 = 286;
  while (hlit > 257 && load<u8>(LENS + <usize>(hlit - 1)) == 0) hlit--;
  let hdist: i32 = 30;
  while (hdist > 1 && load<u8>(LENS + 286 + <usize>(hdist - 1)) == 0) hdist--;
  // the lengths sent: lit/len then distance, one sequence
  if (hlit < 286) memory.copy(LENS + <usize>hlit, LENS + 286, <usize>hdist);
  const total = hlit + hdist;
  memory.fill(CFREQ, 0, 4 * 20);
  let rle: usize = RLE;
  let rleExtra: i32 = 0;
  for (let i: i32 = 0; i < total; ) {
    const len = <u32>load<u8>(LENS + <usize>i);
    let run: i32 = 1;
    while (i + run < total && <u32>load<u8>(LENS + <usize>(i + run)) == len) run++;
    i += run;
    if (len == 0) {
      while (run >= 11) {
        const r = min(run, 138);
        store<u32>(rle, 18 | (<u32>(r - 11) << 8));
        rle += 4;
        rleExtra += 7;
        run -= r;
      }
      if (run >= 3) {
        store<u32>(rle, 17 | (<u32>(run - 3) << 8));
        rle += 4;
        rleExtra += 3;
        run = 0;
      }
    } else {
      store<u32>(rle, len);
      rle += 4;
      run--;
      while (run >= 3) {
        const r = min(run, 6);
        store<u32>(rle, 16 | (<u32>(r - 3) << 8));
        rle += 4;
        rleExtra += 2;
        run -= r;
      }
    }
    while (run > 0) {
      store<u32>(rle, len);
      rle += 4;
      run--;
    }
  }
  for (let r = RLE; r < rle; r += 4) {
    const f = CFREQ + (<usize>(load<u32>(r) & 31) << 2);
    store<u32>(f, load<u32>(f) + 1);
  }
  huffman(CFREQ, 19, 7, CLENS, CCODE);
  let hclen: i32 = 19;
  while (hclen > 4 && load<u8>(CLENS + <usize>load<u8>(CL_ORDER + <usize>(hclen - 1))) == 0) hclen--;

  let dyn: i64 = 3 + 5 + 5 + 4 + 3 * <i64>hclen + <i64>rleExtra + <i64>extraBits;
  let fix: i64 = 3 + <i64>extraBits;
  for (let s: usize = 0; s < 19; s++)
    dyn += <i64>load<u32>(CFREQ + (s << 2)) * <i64>load<u8>(CLENS + s);
  for (let s: usize = 0; s < 286; s++) {
    const f = <i64>load<u32>(LFREQ + (s << 2));
    if (f == 0) continue;
    dyn += f * <i64>(load<u32>(LCODE + (s << 2)) >> 16);
    fix += f * <i64>(load<u32>(FIXED_L + (s << 2)) >> 16);
  }
  for (let s: usize = 0; s < 30; s++) {
    const f = <i64>load<u32>(DFREQ + (s << 2));
    dyn += f * <i64>(load<u32>(DCODE + (s << 2)) >> 16);
    fix += f * 5;
  }
  // stored: per block of up to 65535 bytes a 3-bit header padded to the byte, LEN and NLEN
  const blocks: i64 = n == 0 ? 1 : (<i64>n + 65534) / 65535;
  const stored: i64 = blocks * 40 + 8 * <i64>n;

  // 3. the stream
  op = OUT;
  bitBuf = 0;
  bitCount = 0;
  store<u8>(op, 0x78); // CM 8 (deflate), CINFO 7 (32 KiB window)
  store<u8>(op + 1, level <= 1 ? 0x01 : 0x5e); // FLEVEL 0 or 1; FCHECK makes it divisible by 31
  op += 2;
  if (stored <= dyn && stored <= fix) {
    let from: i32 = 0;
    do {
      const len = min(n - from, 65535);
      const final: u32 = from + len >= n ? 1 : 0;
      put(final, 3);
      flushBits();
      store<u16>(op, <u16>len);
      store<u16>(op + 2, <u16>~len);
      op += 4;
      memory.copy(op, IN + <usize>from, <usize>len);
      op += <usize>len;
      from += len;
    } while (from < n);
  } else if (fix < dyn) {
    put(1 | (1 << 1), 3);
    writeItems(ITEMS, it, FIXED_L, FIXED_D);
    putCode(load<u32>(FIXED_L + (256 << 2)));
    flushBits();
  } else {
    put(1 | (2 << 1), 3);
    put(<u32>(hlit - 257), 5);
    put(<u32>(hdist - 1), 5);
    put(<u32>(hclen - 4), 4);
    for (let i: i32 = 0; i < hclen; i++) put(<u32>load<u8>(CLENS + <usize>load<u8>(CL_ORDER + <usize>i)), 3);
    for (let r = RLE; r < rle; r += 4) {
      const v = load<u32>(r);
      const s = v & 31;
      putCode(load<u32>(CCODE + (<usize>s << 2)));
      if (s == 16) put(v >> 8, 2);
      else if (s == 17) put(v >> 8, 3);
      else if (s == 18) put(v >> 8, 7);
    }
    writeItems(ITEMS, it, LCODE, DCODE);
    putCode(load<u32>(LCODE + (256 << 2)));
    flushBits();
  }
  const adler = adler32(IN, n);
  store<u8>(op, <u8>(adler >> 24));
  store<u8>(op + 1, <u8>(adler >> 16));
  store<u8>(op + 2, <u8>(adler >> 8));
  store<u8>(op + 3, <u8>adler);
  op += 4;
  return <i32>(op - OUT);
}

let batchLevel: i32 = 1;

// compressed pages of a batch (wasm/page-batch.ts), end to end
const BOUT: usize = memory.data(BATCH_BYTES, 16);

export function batchOutputPtr(): usize {
  return BOUT;
}

/** `count` pages of `pageSize` at batchInputPtr() (see wasm/page-batch.ts). */
export function compressBatch(count: i32, pageSize: i32, zeroCheck: bool, level: i32): i32 {
  batchLevel = level;
  return compressPages(count, pageSize, zeroCheck, IN, MAX_INPUT, OUT, BOUT, (n: i32): i32 => compress(n, batchLevel));
}
