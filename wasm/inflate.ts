// AssemblyScript source of the WebAssembly zlib inflate for dump pages (assembled into
// src/codecs/wasm-modules.ts by scripts/build-wasm.mjs; the TypeScript side is
// src/codecs/inflate-wasm.ts). Written from RFC 1950 (zlib wrapper: CMF/FLG, Adler-32) and
// RFC 1951 (deflate) for one job: one complete zlib stream in (a makedumpfile -c / QEMU
// kdump-zlib page, compress2() output), at most 64 KiB out. The whole input and the whole output
// are in memory, so there is no streaming state machine: one loop per block over a 64-bit bit
// buffer, refilled 8 bytes at a time while at least 8 input bytes remain (byte by byte, then
// with zero bytes, near the end; consuming a zero byte that is not there is "truncated").
//
// Huffman decoding is by table: a code's low TB bits (deflate sends codes most significant bit
// first, so the table index is the bit-reversed code) index a main table of 2^TB entries; codes
// longer than TB bits go through a subtable per TB-bit prefix. Entry (u32):
//   bits 0-5   bits this entry consumes at its level (the code length, or TB for a subtable link)
//   bits 8-11  extra bits of a length/distance symbol, or the subtable's index bits
//   bit 12 LIT, bit 13 EOB, bit 14 SUB (link to a subtable), bit 15 BAD (no code / reserved symbol)
//   bits 16-31 the literal byte, the base length/distance, or the subtable's first entry
// The main table is filled by doubling: after the codes of length L are stored at their L-bit
// index, the first 2^L entries are copied to the next 2^L, so each entry is written about once.
//
// Strict as zlib is: header (method 8, window ≤ 32 KiB, check bits, no preset dictionary),
// over-subscribed and incomplete codes (a lone 1-bit code excepted, as RFC 1951 allows for
// distances and zlib for both), repeats past the end of the lengths, a missing end-of-block code,
// reserved symbols (286/287, distances 30/31), distances before the start of the output,
// output beyond the caller's capacity, input consumed past its end, and the Adler-32.
// inflate() returns the bytes produced, or a negative error (ERR_* below; errorAt() gives the
// input offset where decoding stopped).

import { adler32 } from "./adler32";

const MAX_INPUT: i32 = 131072;
const MAX_OUTPUT: i32 = 65536;

const LIT_TB: u32 = 10;
const DIST_TB: u32 = 8;
const PRE_TB: u32 = 7;

// upper bounds of a table with subtables: the main table plus ≤ one subtable of ≤ 2^(15-TB)
// entries per symbol longer than TB bits (never reached: a complete code needs far fewer)
const LIT_SIZE: i32 = (1 << LIT_TB) + 288 * (1 << (15 - LIT_TB));
const DIST_SIZE: i32 = (1 << DIST_TB) + 32 * (1 << (15 - DIST_TB));

// the input, with 16 zero bytes after it: 8-byte loads near its end read zeros, not stale data
const IN: usize = memory.data(MAX_INPUT + 16, 16);
// the output, with slack for 16-byte copies that run up to 15 bytes past a match's end
const OUT: usize = memory.data(MAX_OUTPUT + 64, 16);

const LIT: usize = memory.data(4 * LIT_SIZE, 16);
const DIST: usize = memory.data(4 * DIST_SIZE, 16);
const PRE: usize = memory.data(4 << PRE_TB, 16);
const FIXED_LIT: usize = memory.data(4 * LIT_SIZE, 16);
const FIXED_DIST: usize = memory.data(4 * DIST_SIZE, 16);

// entry templates per symbol (value << 16 | extra << 8 | flags), or'ed with the code length
const LIT_TEMPL: usize = memory.data(4 * 288, 16);
const DIST_TEMPL: usize = memory.data(4 * 32, 16);
const PRE_TEMPL: usize = memory.data(4 * 19, 16);

// code lengths of one block (lit/len then distance, as coded), the code-length code's lengths
const LENS: usize = memory.data(288 + 32 + 16, 16);
const PRE_LENS: usize = memory.data(32, 16);
// table building: count of codes per length, symbols sorted by (length, symbol), offsets
const COUNT: usize = memory.data(4 * 16, 16);
const OFFS: usize = memory.data(4 * 17, 16);
const SORTED: usize = memory.data(2 * 320, 16);

// RFC 1951 3.2.7: the order in which the code-length code's lengths are sent
const PRE_ORDER: usize = memory.data<u8>([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

const F_LIT: u32 = 0x1000;
const F_EOB: u32 = 0x2000;
const F_SUB: u32 = 0x4000;
const F_BAD: u32 = 0x8000;

export const ERR_HEADER: i32 = -1;
export const ERR_WINDOW: i32 = -2;
export const ERR_DICT: i32 = -3;
export const ERR_BLOCK_TYPE: i32 = -4;
export const ERR_STORED_LEN: i32 = -5;
export const ERR_TOO_MANY: i32 = -6;
export const ERR_PRE_SET: i32 = -7;
export const ERR_REPEAT: i32 = -8;
export const ERR_NO_EOB: i32 = -9;
export const ERR_LIT_SET: i32 = -10;
export const ERR_DIST_SET: i32 = -11;
export const ERR_LIT_CODE: i32 = -12;
export const ERR_DIST_CODE: i32 = -13;
export const ERR_FAR: i32 = -14;
export const ERR_OUTPUT: i32 = -15;
export const ERR_TRUNCATED: i32 = -16;
export const ERR_CHECK: i32 = -17;
export const ERR_TOO_LONG: i32 = -18;

// bit reader state while outside inflate()'s locals (slow refill, errors)
let gBits: u64 = 0;
let gLeft: u32 = 0;
let gIp: usize = 0;
let gEnd: usize = 0;
let errPos: i32 = 0;

export function inputPtr(): usize {
  return IN;
}
export function outputPtr(): usize {
  return OUT;
}
export function maxInput(): i32 {
  return MAX_INPUT;
}
export function maxOutput(): i32 {
  return MAX_OUTPUT;
}
/** The input offset (bytes) at which the last failed inflate() stopped. */
export function errorAt(): i32 {
  return errPos;
}

function initTemplates(): void {
  for (let s: u32 = 0; s < 256; s++) store<u32>(LIT_TEMPL + (s << 2), (s << 16) | F_LIT);
  store<u32>(LIT_TEMPL + (256 << 2), F_EOB);
  // lengths (RFC 1951 3.2.5): 257..264 are 3..10 with no extra bits, then four codes per extra
  // bit count 1..5, 285 is 258 with none; 286 and 287 are reserved
  let base: u32 = 3;
  for (let s: u32 = 257; s < 285; s++) {
    const extra: u32 = s < 265 ? 0 : (s - 261) >> 2;
    store<u32>(LIT_TEMPL + (s << 2), (base << 16) | (extra << 8));
    base += 1 << extra;
  }
  store<u32>(LIT_TEMPL + (285 << 2), 258 << 16);
  store<u32>(LIT_TEMPL + (286 << 2), F_BAD);
  store<u32>(LIT_TEMPL + (287 << 2), F_BAD);
  // distances: 0..3 are 1..4, then two codes per extra bit count 1..13; 30 and 31 are reserved
  base = 1;
  for (let s: u32 = 0; s < 30; s++) {
    const extra: u32 = s < 4 ? 0 : (s - 2) >> 1;
    store<u32>(DIST_TEMPL + (s << 2), (base << 16) | (extra << 8));
    base += 1 << extra;
  }
  store<u32>(DIST_TEMPL + (30 << 2), F_BAD);
  store<u32>(DIST_TEMPL + (31 << 2), F_BAD);
  for (let s: u32 = 0; s < 19; s++) store<u32>(PRE_TEMPL + (s << 2), s << 16);
}

/**
 * The decode table at `table` for the `n` code lengths at `lens` (canonical Huffman code,
 * RFC 1951 3.2.2), main table of 2^tb entries. Returns false for an over-subscribed code, or an
 * incomplete one unless `lone` allows a single 1-bit code; no codes at all give a table of BAD.
 */
function build(table: usize, size: i32, lens: usize, n: i32, tb: u32, templ: usize, lone: bool): bool {
  memory.fill(COUNT, 0, 4 * 16);
  for (let s = 0; s < n; s++) {
    const p = COUNT + (<usize>load<u8>(lens + <usize>s) << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
  let max: u32 = 15;
  while (max > 0 && load<u32>(COUNT + (<usize>max << 2)) == 0) max--;
  if (max == 0) {
    for (let i: u32 = 0; i < <u32>(1 << tb); i++) store<u32>(table + (<usize>i << 2), F_BAD | 1);
    return lone;
  }
  let left: i32 = 1;
  store<u32>(OFFS + 4, 0);
  for (let len: u32 = 1; len <= 15; len++) {
    const c = load<u32>(COUNT + (<usize>len << 2));
    left = (left << 1) - <i32>c;
    if (left < 0) return false;
    store<u32>(OFFS + (<usize>(len + 1) << 2), load<u32>(OFFS + (<usize>len << 2)) + c);
  }
  if (left > 0 && !(lone && max == 1)) return false;
  for (let s = 0; s < n; s++) {
    const len = load<u8>(lens + <usize>s);
    if (len != 0) {
      const p = OFFS + (<usize>len << 2);
      const o = load<u32>(p);
      store<u16>(SORTED + (<usize>o << 1), <u16>s);
      store<u32>(p, o + 1);
    }
  }
  // main table by doubling; `code` is the next code, bit-reversed, counted in reverse
  store<u32>(table, F_BAD | 1);
  let code: u32 = 0;
  let i: usize = 0;
  for (let len: u32 = 1; len <= tb; len++) {
    const half: usize = <usize>1 << (len - 1);
    if (half <= 8) for (let k: usize = 0; k < half; k++) store<u32>(table + ((half + k) << 2), load<u32>(table + (k << 2)));
    else memory.copy(table + (half << 2), table, half << 2);
    let c = load<u32>(COUNT + (<usize>len << 2));
    while (c > 0) {
      const sym = <usize>load<u16>(SORTED + (i << 1));
      i++;
      store<u32>(table + (<usize>code << 2), load<u32>(templ + (sym << 2)) | len);
      let inc: u32 = 1 << (len - 1);
      while (code & inc) inc >>= 1;
      code = inc ? (code & (inc - 1)) + inc : 0;
      c--;
    }
  }
  if (max <= tb) return true;
  // longer codes: a subtable per tb-bit prefix, as wide as the codes that share the prefix need
  const mask: u32 = (1 << tb) - 1;
  let next: u32 = 1 << tb;
  let prefix: u32 = 0xffffffff;
  let sub: u32 = 0;
  let subBits: u32 = 0;
  for (let len: u32 = tb + 1; len <= max; len++) {
    while (load<u32>(COUNT + (<usize>len << 2)) > 0) {
      const sym = <usize>load<u16>(SORTED + (i << 1));
      i++;
      if ((code & mask) != prefix) {
        prefix = code & mask;
        subBits = len - tb;
        let room: i32 = 1 << subBits;
        while (subBits + tb < max) {
          room -= <i32>load<u32>(COUNT + (<usize>(subBits + tb) << 2));
          if (room <= 0) break;
          subBits++;
          room <<= 1;
        }
        sub = next;
        next += 1 << subBits;
        if (<i32>next > size) return false;
        for (let k: u32 = 0; k < <u32>(1 << subBits); k++) store<u32>(table + (<usize>(sub + k) << 2), F_BAD | 1);
        store<u32>(table + (<usize>prefix << 2), (sub << 16) | F_SUB | (subBits << 8) | tb);
      }
      const e = load<u32>(templ + (sym << 2)) | (len - tb);
      const step: u32 = 1 << (len - tb);
      for (let k: u32 = code >> tb; k < <u32>(1 << subBits); k += step) store<u32>(table + (<usize>(sub + k) << 2), e);
      const p = COUNT + (<usize>len << 2);
      store<u32>(p, load<u32>(p) - 1);
      let inc: u32 = 1 << (len - 1);
      while (code & inc) inc >>= 1;
      code = inc ? (code & (inc - 1)) + inc : 0;
    }
  }
  return true;
}

function buildFixed(): void {
  // RFC 1951 3.2.6
  for (let s = 0; s < 144; s++) store<u8>(LENS + <usize>s, 8);
  for (let s = 144; s < 256; s++) store<u8>(LENS + <usize>s, 9);
  for (let s = 256; s < 280; s++) store<u8>(LENS + <usize>s, 7);
  for (let s = 280; s < 288; s++) store<u8>(LENS + <usize>s, 8);
  build(FIXED_LIT, LIT_SIZE, LENS, 288, LIT_TB, LIT_TEMPL, false);
  for (let s = 0; s < 32; s++) store<u8>(LENS + <usize>s, 5);
  build(FIXED_DIST, DIST_SIZE, LENS, 32, DIST_TB, DIST_TEMPL, false);
}

initTemplates();
buildFixed();

/**
 * Refill the bit buffer (gBits/gLeft/gIp) to at least 56 bits byte by byte, with zero bytes
 * past the input's end; false once more than 16 of those were taken (then the stream surely
 * used bits it does not have: at most 8 bytes sit unconsumed in the buffer).
 */
function slowRefill(): bool {
  let bits = gBits;
  let left = gLeft;
  let ip = gIp;
  while (left < 56) {
    if (ip < gEnd) bits |= <u64>load<u8>(ip) << left;
    else if (ip - gEnd >= 16) return false;
    ip++;
    left += 8;
  }
  gBits = bits;
  gLeft = left;
  gIp = ip;
  return true;
}

// @ts-ignore: decorator
@inline
function fail(code: i32, ip: usize, left: u32): i32 {
  const at = <i32>(ip - IN) - <i32>(left >> 3);
  errPos = at < 0 ? 0 : at > <i32>(gEnd - IN) ? <i32>(gEnd - IN) : at;
  return code;
}

/**
 * Inflate the zlib stream of `n` bytes at inputPtr() into outputPtr(), producing at most `cap`
 * bytes; returns the count produced, or an ERR_* code (negative).
 */
export function inflate(n: i32, cap: i32): i32 {
  if (n > MAX_INPUT || cap > MAX_OUTPUT || n < 0 || cap < 0) return ERR_TOO_LONG;
  const inEnd: usize = IN + <usize>n;
  gEnd = inEnd;
  memory.fill(inEnd, 0, 16);
  errPos = 0;
  if (n < 2) return ERR_TRUNCATED;
  const cmf = <u32>load<u8>(IN);
  const flg = <u32>load<u8>(IN + 1);
  if ((cmf & 15) != 8 || ((cmf << 8) | flg) % 31 != 0) return ERR_HEADER;
  if (cmf >> 4 > 7) return ERR_WINDOW;
  if (flg & 0x20) return ERR_DICT;

  // a fast refill reads 8 bytes at ip: it needs ip <= inLast (IN is far above address 8)
  const inLast: usize = inEnd - 8;
  const outEnd: usize = OUT + <usize>cap;
  let ip: usize = IN + 2;
  let bits: u64 = 0;
  let left: u32 = 0;
  let op: usize = OUT;
  let last: u32 = 0;

  // The refill below is written out at each of its four places (block header, code-length code,
  // code lengths, Huffman data): an AssemblyScript function cannot update its caller's locals,
  // and keeping the bit buffer in globals costs a load and a store per use in the hot loop.
  do {
    if (ip <= inLast) {
      bits |= load<u64>(ip) << left;
      ip += (63 - left) >> 3;
      left |= 56;
    } else {
      gBits = bits;
      gLeft = left;
      gIp = ip;
      if (!slowRefill()) return fail(ERR_TRUNCATED, inEnd, 0);
      bits = gBits;
      left = gLeft;
      ip = gIp;
    }
    last = <u32>bits & 1;
    const type = (<u32>bits >> 1) & 3;
    bits >>= 3;
    left -= 3;
    let lit: usize = FIXED_LIT;
    let dist: usize = FIXED_DIST;

    if (type == 0) {
      // stored (RFC 1951 3.2.4): to a byte boundary, LEN, NLEN, LEN bytes
      const drop = left & 7;
      bits >>= drop;
      left -= drop;
      const len = <u32>bits & 0xffff;
      const nlen = (<u32>bits >> 16) & 0xffff;
      bits >>= 32;
      left -= 32;
      if (len != (~nlen & 0xffff)) return fail(ERR_STORED_LEN, ip, left);
      const at = ip - (left >> 3);
      if (at > inEnd || <usize>len > inEnd - at) return fail(ERR_TRUNCATED, inEnd, 0);
      if (<usize>len > outEnd - op) return fail(ERR_OUTPUT, at, 0);
      memory.copy(op, at, len);
      op += len;
      ip = at + len;
      bits = 0;
      left = 0;
      continue;
    }
    if (type == 3) return fail(ERR_BLOCK_TYPE, ip, left);
    if (type == 2) {
      // dynamic (RFC 1951 3.2.7): HLIT, HDIST, HCLEN, the code-length code, then the lengths
      const nlit: u32 = 257 + (<u32>bits & 31);
      const ndist: u32 = 1 + ((<u32>bits >> 5) & 31);
      const npre: u32 = 4 + ((<u32>bits >> 10) & 15);
      bits >>= 14;
      left -= 14;
      if (nlit > 286 || ndist > 30) return fail(ERR_TOO_MANY, ip, left);
      memory.fill(PRE_LENS, 0, 19);
      for (let k: u32 = 0; k < npre; k++) {
        if (left < 3) {
          if (ip <= inLast) {
            bits |= load<u64>(ip) << left;
            ip += (63 - left) >> 3;
            left |= 56;
          } else {
            gBits = bits;
            gLeft = left;
            gIp = ip;
            if (!slowRefill()) return fail(ERR_TRUNCATED, inEnd, 0);
            bits = gBits;
            left = gLeft;
            ip = gIp;
          }
        }
        store<u8>(PRE_LENS + <usize>load<u8>(PRE_ORDER + <usize>k), <u8>(<u32>bits & 7));
        bits >>= 3;
        left -= 3;
      }
      if (!build(PRE, 1 << PRE_TB, PRE_LENS, 19, PRE_TB, PRE_TEMPL, false)) return fail(ERR_PRE_SET, ip, left);
      const total = nlit + ndist;
      let k: u32 = 0;
      while (k < total) {
        if (left < 14) {
          if (ip <= inLast) {
            bits |= load<u64>(ip) << left;
            ip += (63 - left) >> 3;
            left |= 56;
          } else {
            gBits = bits;
            gLeft = left;
            gIp = ip;
            if (!slowRefill()) return fail(ERR_TRUNCATED, inEnd, 0);
            bits = gBits;
            left = gLeft;
            ip = gIp;
          }
        }
        const e = load<u32>(PRE + ((<usize>bits & ((1 << PRE_TB) - 1)) << 2));
        bits >>= <u64>e;
        left -= e & 63;
        const sym = e >> 16;
        if (sym < 16) {
          store<u8>(LENS + <usize>k, <u8>sym);
          k++;
          continue;
        }
        let rep: u32;
        let v: u8 = 0;
        if (sym == 16) {
          if (k == 0) return fail(ERR_REPEAT, ip, left);
          v = load<u8>(LENS + <usize>(k - 1));
          rep = 3 + (<u32>bits & 3);
          bits >>= 2;
          left -= 2;
        } else if (sym == 17) {
          rep = 3 + (<u32>bits & 7);
          bits >>= 3;
          left -= 3;
        } else {
          rep = 11 + (<u32>bits & 127);
          bits >>= 7;
          left -= 7;
        }
        if (rep > total - k) return fail(ERR_REPEAT, ip, left);
        memory.fill(LENS + <usize>k, v, rep);
        k += rep;
      }
      if (load<u8>(LENS + 256) == 0) return fail(ERR_NO_EOB, ip, left);
      if (!build(LIT, LIT_SIZE, LENS, nlit, LIT_TB, LIT_TEMPL, true)) return fail(ERR_LIT_SET, ip, left);
      if (!build(DIST, DIST_SIZE, LENS + <usize>nlit, ndist, DIST_TB, DIST_TEMPL, true))
        return fail(ERR_DIST_SET, ip, left);
      lit = LIT;
      dist = DIST;
    }

    // Huffman-coded data: one refill per symbol (≥ 56 bits: a length, its extra bits, a
    // distance and its extra bits take at most 15 + 5 + 15 + 13 = 48)
    while (true) {
      if (ip <= inLast) {
        bits |= load<u64>(ip) << left;
        ip += (63 - left) >> 3;
        left |= 56;
      } else {
        gBits = bits;
        gLeft = left;
        gIp = ip;
        if (!slowRefill()) return fail(ERR_TRUNCATED, inEnd, 0);
        bits = gBits;
        left = gLeft;
        ip = gIp;
      }
      let e = load<u32>(lit + ((<usize>bits & ((1 << LIT_TB) - 1)) << 2));
      if (e & F_SUB) {
        bits >>= LIT_TB;
        left -= LIT_TB;
        e = load<u32>(lit + ((<usize>(e >> 16) + (<usize>bits & ((<usize>1 << ((e >> 8) & 15)) - 1))) << 2));
      }
      bits >>= <u64>e;
      left -= e & 63;
      if (e & F_LIT) {
        if (op >= outEnd) return fail(ERR_OUTPUT, ip, left);
        store<u8>(op, <u8>(e >> 16));
        op++;
        // a second literal without a refill (≥ 41 bits left)
        e = load<u32>(lit + ((<usize>bits & ((1 << LIT_TB) - 1)) << 2));
        if ((e & (F_LIT | F_SUB)) == F_LIT) {
          bits >>= <u64>e;
          left -= e & 63;
          if (op >= outEnd) return fail(ERR_OUTPUT, ip, left);
          store<u8>(op, <u8>(e >> 16));
          op++;
        }
        continue;
      }
      if (e & (F_EOB | F_BAD)) {
        if (e & F_EOB) break;
        return fail(ERR_LIT_CODE, ip, left);
      }
      const extra = (e >> 8) & 15;
      const len = <usize>(e >> 16) + (<usize>bits & ((<usize>1 << extra) - 1));
      bits >>= <u64>extra;
      left -= extra;
      let d = load<u32>(dist + ((<usize>bits & ((1 << DIST_TB) - 1)) << 2));
      if (d & F_SUB) {
        bits >>= DIST_TB;
        left -= DIST_TB;
        d = load<u32>(dist + ((<usize>(d >> 16) + (<usize>bits & ((<usize>1 << ((d >> 8) & 15)) - 1))) << 2));
      }
      if (d & F_BAD) return fail(ERR_DIST_CODE, ip, left);
      bits >>= <u64>d;
      left -= d & 63;
      const dextra = (d >> 8) & 15;
      const distance = <usize>(d >> 16) + (<usize>bits & ((<usize>1 << dextra) - 1));
      bits >>= <u64>dextra;
      left -= dextra;
      if (distance > op - OUT) return fail(ERR_FAR, ip, left);
      if (len > outEnd - op) return fail(ERR_OUTPUT, ip, left);
      let from = op - distance;
      const end = op + len;
      if (distance >= 16) {
        // 16 bytes at a time: each load reads bytes already final (distance ≥ 16)
        do {
          v128.store(op, v128.load(from));
          op += 16;
          from += 16;
        } while (op < end);
      } else if (distance >= 8) {
        do {
          store<u64>(op, load<u64>(from));
          op += 8;
          from += 8;
        } while (op < end);
      } else if (distance == 1) {
        const v = <u64>load<u8>(from) * 0x0101010101010101;
        do {
          store<u64>(op, v);
          op += 8;
        } while (op < end);
      } else {
        do {
          store<u8>(op, load<u8>(from));
          op++;
          from++;
        } while (op < end);
      }
      op = end;
    }
  } while (!last);

  // to a byte boundary, then the Adler-32 of the output, most significant byte first
  left -= left & 7;
  const at = ip - (left >> 3);
  if (at > inEnd || inEnd - at < 4) return fail(ERR_TRUNCATED, inEnd, 0);
  const want = bswap<u32>(load<u32>(at));
  const produced = <i32>(op - OUT);
  if (adler32(OUT, produced) != want) {
    errPos = <i32>(at - IN);
    return ERR_CHECK;
  }
  return produced;
}
