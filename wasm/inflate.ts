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
//   bits 0-5   bits this entry consumes at its level: the code length plus, for a length or
//              distance symbol, its extra bits (so one shift takes both); TB for a subtable link
//   bits 8-11  the code length at this level (where the extra bits start); the subtable's index
//              bits for a link
//   bit 13 LIT, bit 14 SUB (link to a subtable), bit 15 EXC: end of block (value 0) or no code /
//   reserved symbol (value 1)
//   bits 16-31 the literal byte, the base length/distance, or the subtable's first entry
// A length is then base + (the entry's low `bits 0-5` bits of the buffer >> the code length):
// one table load gives the symbol, its base and its extra bits.
// The main table is filled by doubling: after the codes of length L are stored at their L-bit
// index, the first 2^L entries are copied to the next 2^L, so each entry is written about once.
// Only the symbols with a code are listed (while the code lengths are read) and sorted.
//
// The Huffman data of a block is decoded by codes(): a fast loop while at least 8 input bytes
// and room for a longest match remain (one 8-byte refill per iteration, up to three literals or
// one length/distance pair per refill, no bounds checks per symbol), then a careful loop for the
// tail that checks each symbol.
//
// Strict as zlib is: header (method 8, window ≤ 32 KiB, check bits, no preset dictionary),
// over-subscribed and incomplete codes (a lone 1-bit code excepted, as RFC 1951 allows for
// distances and zlib for both), repeats past the end of the lengths, a missing end-of-block code,
// reserved symbols (286/287, distances 30/31), distances before the start of the output,
// output beyond the caller's capacity, input consumed past its end, and the Adler-32.
// inflate() returns the bytes produced, or a negative error (ERR_* below; errorAt() gives the
// input offset where decoding stopped).

import { adler32 } from "./adler32";
import { runPages } from "./page-run";

const MAX_INPUT: i32 = 131072;
const MAX_OUTPUT: i32 = 65536;

const LIT_TB: u32 = 10;
const DIST_TB: u32 = 8;
const PRE_TB: u32 = 7;
const LIT_MASK: usize = (1 << LIT_TB) - 1;
const DIST_MASK: usize = (1 << DIST_TB) - 1;
const PRE_MASK: usize = (1 << PRE_TB) - 1;

// upper bounds of a table with subtables: the main table plus ≤ one subtable of ≤ 2^(15-TB)
// entries per symbol longer than TB bits (never reached: a complete code needs far fewer)
const LIT_SIZE: i32 = (1 << LIT_TB) + 288 * (1 << (15 - LIT_TB));
const DIST_SIZE: i32 = (1 << DIST_TB) + 32 * (1 << (15 - DIST_TB));

// the input of inflate() (runs decode in place from page-run.ts's RUN_IN)
const IN: usize = memory.data(MAX_INPUT + 16, 16);
// the output, with slack for copies that run up to 15 bytes past a match's end
const OUT: usize = memory.data(MAX_OUTPUT + 64, 16);

const LIT: usize = memory.data(4 * LIT_SIZE, 16);
const DIST: usize = memory.data(4 * DIST_SIZE, 16);
const PRE: usize = memory.data(4 << PRE_TB, 16);
const FIXED_LIT: usize = memory.data(4 * LIT_SIZE, 16);
const FIXED_DIST: usize = memory.data(4 * DIST_SIZE, 16);

// entry templates per symbol (value << 16 | flags | extra bits), plus 0x101 × the code length
const LIT_TEMPL: usize = memory.data(4 * 288, 16);
const DIST_TEMPL: usize = memory.data(4 * 32, 16);
const PRE_TEMPL: usize = memory.data(4 * 19, 16);

// the symbols that have a code, (length << 16 | symbol) in symbol order: of a block's literal/
// length and distance codes (one list, the distances' symbols counted on from HLIT), of the
// code-length code, and of the fixed codes
const LIST: usize = memory.data(4 * 320, 16);
const PRE_LIST: usize = memory.data(4 * 19, 16);
// count of codes per length (16 u32)
const COUNT: usize = memory.data(4 * 16, 16);
// the code-length code's lengths, in symbol order
const PRE_LENS: usize = memory.data(32, 16);
// table building: offsets per length, symbols sorted by (length, symbol)
const OFFS: usize = memory.data(4 * 17, 16);
const SORTED: usize = memory.data(2 * 320, 16);
// REV[x]: x's low 10 bits reversed (a code's table index is its bits reversed)
const REV: usize = memory.data(2 * 1024, 16);

// RFC 1951 3.2.7: the order in which the code-length code's lengths are sent
const PRE_ORDER: usize = memory.data<u8>([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

const F_LIT: u32 = 0x2000;
const F_SUB: u32 = 0x4000;
const F_EXC: u32 = 0x8000;
const F_BAD: u32 = F_EXC | (1 << 16);

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

// the stream being inflated, between inflateAt() and the functions it calls: the bit buffer
// (gBits holds gLeft valid bits), the next input byte, the input's start and end, the next
// output byte and the output's start and end
let gBits: u64 = 0;
let gLeft: u32 = 0;
let gIp: usize = 0;
let gIn: usize = 0;
let gEnd: usize = 0;
let gOp: usize = 0;
let gOut: usize = 0;
let gOutEnd: usize = 0;
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
  for (let x: u32 = 0; x < 1024; x++) {
    let r: u32 = 0;
    for (let b: u32 = 0; b < 10; b++) r |= ((x >> b) & 1) << (9 - b);
    store<u16>(REV + (<usize>x << 1), <u16>r);
  }
  for (let s: u32 = 0; s < 256; s++) store<u32>(LIT_TEMPL + (s << 2), (s << 16) | F_LIT);
  store<u32>(LIT_TEMPL + (256 << 2), F_EXC);
  // lengths (RFC 1951 3.2.5): 257..264 are 3..10 with no extra bits, then four codes per extra
  // bit count 1..5, 285 is 258 with none; 286 and 287 are reserved
  let base: u32 = 3;
  for (let s: u32 = 257; s < 285; s++) {
    const extra: u32 = s < 265 ? 0 : (s - 261) >> 2;
    store<u32>(LIT_TEMPL + (s << 2), (base << 16) | extra);
    base += 1 << extra;
  }
  store<u32>(LIT_TEMPL + (285 << 2), 258 << 16);
  store<u32>(LIT_TEMPL + (286 << 2), F_BAD);
  store<u32>(LIT_TEMPL + (287 << 2), F_BAD);
  // distances: 0..3 are 1..4, then two codes per extra bit count 1..13; 30 and 31 are reserved
  base = 1;
  for (let s: u32 = 0; s < 30; s++) {
    const extra: u32 = s < 4 ? 0 : (s - 2) >> 1;
    store<u32>(DIST_TEMPL + (s << 2), (base << 16) | extra);
    base += 1 << extra;
  }
  store<u32>(DIST_TEMPL + (30 << 2), F_BAD);
  store<u32>(DIST_TEMPL + (31 << 2), F_BAD);
  for (let s: u32 = 0; s < 19; s++) store<u32>(PRE_TEMPL + (s << 2), s << 16);
}

/**
 * The decode table at `table` for the `nnz` codes listed at `list` ((length << 16 | symbol +
 * `base`), in symbol order) of a canonical Huffman code (RFC 1951 3.2.2), main table of 2^tb
 * entries. Returns false for an over-subscribed code, or an incomplete one unless `lone` allows
 * a single 1-bit code; no codes at all give a table of BAD.
 */
function build(
  table: usize,
  size: i32,
  list: usize,
  nnz: i32,
  base: u32,
  tb: u32,
  templ: usize,
  lone: bool,
): bool {
  const count = COUNT;
  memory.fill(count, 0, 64);
  for (let j: i32 = 0; j < nnz; j++) {
    const p = count + (<usize>(load<u32>(list + (<usize>j << 2)) >> 16) << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
  let max: u32 = 15;
  while (max > 0 && load<u32>(count + (<usize>max << 2)) == 0) max--;
  if (max == 0) {
    for (let i: u32 = 0; i < <u32>(1 << tb); i++) store<u32>(table + (<usize>i << 2), F_BAD | 0x101);
    return lone;
  }
  let left: i32 = 1;
  let off: u32 = 0;
  for (let len: u32 = 1; len <= 15; len++) {
    const c = load<u32>(count + (<usize>len << 2));
    left = (left << 1) - <i32>c;
    if (left < 0) return false;
    store<u32>(OFFS + (<usize>len << 2), off);
    off += c;
  }
  if (left > 0 && !(lone && max == 1)) return false;
  for (let j: i32 = 0; j < nnz; j++) {
    const v = load<u32>(list + (<usize>j << 2));
    const p = OFFS + (<usize>(v >> 16) << 2);
    const o = load<u32>(p);
    store<u16>(SORTED + (<usize>o << 1), <u16>((v & 0xffff) - base));
    store<u32>(p, o + 1);
  }
  // main table by doubling; `canon` is the next canonical code of the length, its table index
  // the code's `len` bits reversed (REV, tb ≤ 10)
  store<u32>(table, F_BAD | 0x101);
  let canon: u32 = 0;
  let i: usize = 0;
  for (let len: u32 = 1; len <= tb; len++) {
    const half: usize = <usize>1 << (len - 1);
    if (half <= 8) for (let k: usize = 0; k < half; k++) store<u32>(table + ((half + k) << 2), load<u32>(table + (k << 2)));
    else memory.copy(table + (half << 2), table, half << 2);
    const c = load<u32>(count + (<usize>len << 2));
    const add = len * 0x101;
    const sh = 10 - len;
    const end = canon + c;
    for (; canon < end; canon++) {
      const sym = <usize>load<u16>(SORTED + (i << 1));
      i++;
      const at = <usize>load<u16>(REV + (<usize>canon << 1)) >> sh;
      store<u32>(table + (at << 2), load<u32>(templ + (sym << 2)) + add);
    }
    canon <<= 1;
  }
  if (max <= tb) return true;
  // the next code of length tb + 1, bit-reversed, for the subtables' reversed counting
  canon >>= 1; // back to length tb: the next code of that length
  let code: u32 = canon < <u32>(1 << tb) ? <u32>load<u16>(REV + (<usize>canon << 1)) >> (10 - tb) : 0;
  // longer codes: a subtable per tb-bit prefix, as wide as the codes that share the prefix need
  // (the code is complete here, so the codes fill each subtable)
  const mask: u32 = (1 << tb) - 1;
  let next: u32 = 1 << tb;
  let prefix: u32 = 0xffffffff;
  let sub: u32 = 0;
  let subBits: u32 = 0;
  for (let len: u32 = tb + 1; len <= max; len++) {
    const add = (len - tb) * 0x101;
    while (load<u32>(count + (<usize>len << 2)) > 0) {
      const sym = <usize>load<u16>(SORTED + (i << 1));
      i++;
      if ((code & mask) != prefix) {
        prefix = code & mask;
        subBits = len - tb;
        let room: i32 = 1 << subBits;
        while (subBits + tb < max) {
          room -= <i32>load<u32>(count + (<usize>(subBits + tb) << 2));
          if (room <= 0) break;
          subBits++;
          room <<= 1;
        }
        sub = next;
        next += 1 << subBits;
        if (<i32>next > size) return false;
        store<u32>(table + (<usize>prefix << 2), (sub << 16) | F_SUB | (subBits << 8) | tb);
      }
      const e = load<u32>(templ + (sym << 2)) + add;
      const step: u32 = 1 << (len - tb);
      for (let k: u32 = code >> tb; k < <u32>(1 << subBits); k += step) store<u32>(table + (<usize>(sub + k) << 2), e);
      const p = count + (<usize>len << 2);
      store<u32>(p, load<u32>(p) - 1);
      let inc: u32 = 1 << (len - 1);
      while (code & inc) inc >>= 1;
      code = inc ? (code & (inc - 1)) + inc : 0;
    }
  }
  return true;
}

/** List symbols first..first+n-1 with code length `len` at list[at..]; returns the next index. */
function listCodes(list: usize, at: i32, first: u32, n: u32, len: u32): i32 {
  for (let s: u32 = first; s < first + n; s++) {
    store<u32>(list + (<usize>at << 2), (len << 16) | s);
    at++;
  }
  return at;
}

function buildFixed(): void {
  // RFC 1951 3.2.6
  let n = listCodes(LIST, 0, 0, 144, 8);
  n = listCodes(LIST, n, 144, 112, 9);
  n = listCodes(LIST, n, 256, 24, 7);
  n = listCodes(LIST, n, 280, 8, 8);
  build(FIXED_LIT, LIT_SIZE, LIST, n, 0, LIT_TB, LIT_TEMPL, false);
  n = listCodes(LIST, 0, 0, 32, 5);
  build(FIXED_DIST, DIST_SIZE, LIST, n, 0, DIST_TB, DIST_TEMPL, false);
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

/** Refill gBits to at least 56 bits; false when that runs more than 16 bytes past the input. */
function refill(): bool {
  const ip = gIp;
  if (ip + 8 <= gEnd) {
    const left = gLeft;
    gBits |= load<u64>(ip) << left;
    gIp = ip + ((63 - left) >> 3);
    gLeft = left | 56;
    return true;
  }
  return slowRefill();
}

/** Take n (≤ 32) bits from gBits (which holds them). */
// @ts-ignore: decorator
@inline
function take(n: u32): u32 {
  const v = <u32>gBits & ((1 << n) - 1);
  gBits >>= n;
  gLeft -= n;
  return v;
}

// @ts-ignore: decorator
@inline
function fail(code: i32, ip: usize, left: u32): i32 {
  const at = <i32>(ip - gIn) - <i32>(left >> 3);
  const n = <i32>(gEnd - gIn);
  errPos = at < 0 ? 0 : at > n ? n : at;
  return code;
}

/**
 * The rest of a dynamic block's header (RFC 1951 3.2.7: HLIT, HDIST, HCLEN, the code-length
 * code, the code lengths) and its two tables at LIT and DIST; 0, or an ERR_* code.
 */
function dynamic(): i32 {
  if (!refill()) return fail(ERR_TRUNCATED, gEnd, 0);
  const nlit: u32 = 257 + take(5);
  const ndist: u32 = 1 + take(5);
  const npre: u32 = 4 + take(4);
  if (nlit > 286 || ndist > 30) return fail(ERR_TOO_MANY, gIp, gLeft);
  memory.fill(PRE_LENS, 0, 19);
  for (let k: u32 = 0; k < npre; k++) {
    if (gLeft < 3 && !refill()) return fail(ERR_TRUNCATED, gEnd, 0);
    store<u8>(PRE_LENS + <usize>load<u8>(PRE_ORDER + <usize>k), <u8>take(3));
  }
  let npl: i32 = 0;
  for (let s: u32 = 0; s < 19; s++) {
    const len = <u32>load<u8>(PRE_LENS + <usize>s);
    if (len != 0) {
      store<u32>(PRE_LIST + (<usize>npl << 2), (len << 16) | s);
      npl++;
    }
  }
  if (!build(PRE, 1 << PRE_TB, PRE_LIST, npl, 0, PRE_TB, PRE_TEMPL, false)) return fail(ERR_PRE_SET, gIp, gLeft);

  // the lengths: the symbols with a code go to LIST, end to end
  let bits = gBits;
  let left = gLeft;
  let ip = gIp;
  const inLast = gEnd - 8;
  const total = nlit + ndist;
  let put = LIST;
  let prev: u32 = 0;
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
        if (!slowRefill()) return fail(ERR_TRUNCATED, gEnd, 0);
        bits = gBits;
        left = gLeft;
        ip = gIp;
      }
    }
    const e = load<u32>(PRE + ((<usize>bits & PRE_MASK) << 2));
    bits >>= <u64>e;
    left -= e & 63;
    const sym = e >> 16;
    if (sym < 16) {
      // stored whatever the length; kept (the list moves on) only when it is not 0: no branch
      // on the length (LIST has room for one entry past the last)
      store<u32>(put, (sym << 16) | k);
      put += (<usize>(sym != 0)) << 2;
      prev = sym;
      k++;
      continue;
    }
    let rep: u32;
    if (sym == 16) {
      if (k == 0) return fail(ERR_REPEAT, ip, left);
      rep = 3 + (<u32>bits & 3);
      bits >>= 2;
      left -= 2;
    } else {
      if (sym == 17) {
        rep = 3 + (<u32>bits & 7);
        bits >>= 3;
        left -= 3;
      } else {
        rep = 11 + (<u32>bits & 127);
        bits >>= 7;
        left -= 7;
      }
      prev = 0;
    }
    if (rep > total - k) return fail(ERR_REPEAT, ip, left);
    if (prev != 0) {
      const end = k + rep;
      const v = prev << 16;
      do {
        store<u32>(put, v | k);
        put += 4;
        k++;
      } while (k < end);
    } else k += rep;
  }
  gBits = bits;
  gLeft = left;
  gIp = ip;
  // the list splits where the distance code's symbols start; the end-of-block code is among the
  // last literal/length symbols listed
  const n = <i32>((put - LIST) >> 2);
  let nl = n;
  while (nl > 0 && (load<u32>(LIST + (<usize>(nl - 1) << 2)) & 0xffff) >= nlit) nl--;
  let j = nl - 1;
  while (j >= 0 && (load<u32>(LIST + (<usize>j << 2)) & 0xffff) > 256) j--;
  if (j < 0 || (load<u32>(LIST + (<usize>j << 2)) & 0xffff) != 256) return fail(ERR_NO_EOB, ip, left);
  if (!build(LIT, LIT_SIZE, LIST, nl, 0, LIT_TB, LIT_TEMPL, true)) return fail(ERR_LIT_SET, ip, left);
  if (!build(DIST, DIST_SIZE, LIST + (<usize>nl << 2), n - nl, nlit, DIST_TB, DIST_TEMPL, true))
    return fail(ERR_DIST_SET, ip, left);
  return 0;
}

/** Copy a match of `len` bytes from `distance` back (1 ≤ distance ≤ op - start): may write up to 15 bytes past. */
// @ts-ignore: decorator
@inline
function copyMatch(op: usize, distance: usize, len: usize): void {
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
    // distance 2..7: each 8-byte store has its first `distance` bytes right (they come from
    // bytes before op); the next store starts there
    do {
      store<u64>(op, load<u64>(from));
      op += distance;
      from += distance;
    } while (op < end);
  }
}

/** The Huffman-coded data of a dynamic block (tables LIT and DIST): see codes(). */
function codesDynamic(): i32 {
  return codes(LIT, DIST);
}

/** The Huffman-coded data of a fixed block (tables FIXED_LIT and FIXED_DIST): see codes(). */
function codesFixed(): i32 {
  return codes(FIXED_LIT, FIXED_DIST);
}

/**
 * The Huffman-coded data of a block with the tables at lit/dist, up to and including its
 * end-of-block code: 0, or an ERR_* code. State in and out through the globals. Inlined into
 * codesDynamic() and codesFixed(), so that the tables' addresses are constants (one register
 * less each in the loop).
 */
// @ts-ignore: decorator
@inline
function codes(lit: usize, dist: usize): i32 {
  let bits = gBits;
  // in the fast loop only the low 6 bits of `left` count (shifts take them mod 64; a table
  // entry is subtracted whole, its low 6 bits being the bits it consumes)
  let left = gLeft;
  let ip = gIp;
  let op = gOp;
  const outStart = gOut;
  const outEnd = gOutEnd;
  const inLast = gEnd - 8;
  // room for the longest match (and the three literals of an iteration) from op
  const outFast: usize = outEnd - outStart >= 258 ? outEnd - 258 : 0;
  while (ip <= inLast && op <= outFast) {
    // one compare per iteration: an iteration takes ≤ 7 input bytes and gives ≥ 1 output byte, so
    // while op ≤ lim the iterations since here have taken ≤ 8 × (op - op here) input bytes
    let lim = outFast;
    const r = (inLast - ip) >> 3;
    if (op + r < lim) lim = op + r;
    while (op <= lim) {
      // ≥ 56 bits: a length, its extra bits, a distance and its extra bits take ≤ 15+5+15+13 = 48
      bits |= load<u64>(ip) << <u64>left;
      ip += ((63 - left) & 63) >> 3;
      left |= 56;
      let e = load<u32>(lit + ((<usize>bits & LIT_MASK) << 2));
      if (e & F_LIT) {
        // up to three literals (≥ 56 - 2 × 15 = 26 bits left for the third lookup)
        bits >>= <u64>e;
        left -= e;
        store<u8>(op, <u8>(e >> 16));
        e = load<u32>(lit + ((<usize>bits & LIT_MASK) << 2));
        if (!(e & F_LIT)) {
          op += 1;
          continue;
        }
        bits >>= <u64>e;
        left -= e;
        store<u8>(op + 1, <u8>(e >> 16));
        e = load<u32>(lit + ((<usize>bits & LIT_MASK) << 2));
        if (!(e & F_LIT)) {
          op += 2;
          continue;
        }
        bits >>= <u64>e;
        left -= e;
        store<u8>(op + 2, <u8>(e >> 16));
        op += 3;
        continue;
      }
      if (e & (F_SUB | F_EXC)) {
        if (e & F_SUB) {
          bits >>= LIT_TB;
          left -= LIT_TB;
          e = load<u32>(lit + ((<usize>(e >> 16) + (<usize>bits & ((<usize>1 << ((e >> 8) & 15)) - 1))) << 2));
          if (e & F_LIT) {
            bits >>= <u64>e;
            left -= e;
            store<u8>(op, <u8>(e >> 16));
            op++;
            continue;
          }
        }
        if (e & F_EXC) {
          bits >>= <u64>e;
          left = (left - e) & 63;
          if (e >> 16) return fail(ERR_LIT_CODE, ip, left);
          gBits = bits;
          gLeft = left;
          gIp = ip;
          gOp = op;
          return 0;
        }
      }
      // a length: base + extra bits, then a distance likewise
      let saved = bits;
      bits >>= <u64>e;
      left -= e;
      const len = <usize>((e >> 16) + ((<u32>saved & ((1 << e) - 1)) >> (e >> 8)));
      let d = load<u32>(dist + ((<usize>bits & DIST_MASK) << 2));
      if (d & (F_SUB | F_EXC)) {
        if (d & F_SUB) {
          bits >>= DIST_TB;
          left -= DIST_TB;
          d = load<u32>(dist + ((<usize>(d >> 16) + (<usize>bits & ((<usize>1 << ((d >> 8) & 15)) - 1))) << 2));
        }
        if (d & F_EXC) return fail(ERR_DIST_CODE, ip, left & 63);
      }
      saved = bits;
      bits >>= <u64>d;
      left -= d;
      const distance = <usize>((d >> 16) + ((<u32>saved & ((1 << d) - 1)) >> (d >> 8)));
      if (distance > op - outStart) return fail(ERR_FAR, ip, left & 63);
      copyMatch(op, distance, len);
      op += len;
    }
  }

  // the tail: one symbol at a time, each checked
  left &= 63;
  while (true) {
    if (ip <= inLast) {
      bits |= load<u64>(ip) << left;
      ip += (63 - left) >> 3;
      left |= 56;
    } else {
      gBits = bits;
      gLeft = left;
      gIp = ip;
      if (!slowRefill()) return fail(ERR_TRUNCATED, gEnd, 0);
      bits = gBits;
      left = gLeft;
      ip = gIp;
    }
    let e = load<u32>(lit + ((<usize>bits & LIT_MASK) << 2));
    if (e & F_SUB) {
      bits >>= LIT_TB;
      left -= LIT_TB;
      e = load<u32>(lit + ((<usize>(e >> 16) + (<usize>bits & ((<usize>1 << ((e >> 8) & 15)) - 1))) << 2));
    }
    const saved = bits;
    bits >>= <u64>e;
    left -= e & 63;
    if (e & F_LIT) {
      if (op >= outEnd) return fail(ERR_OUTPUT, ip, left);
      store<u8>(op, <u8>(e >> 16));
      op++;
      continue;
    }
    if (e & F_EXC) {
      if (e >> 16) return fail(ERR_LIT_CODE, ip, left);
      break;
    }
    const len = <usize>((e >> 16) + ((<u32>saved & ((1 << e) - 1)) >> (e >> 8)));
    let d = load<u32>(dist + ((<usize>bits & DIST_MASK) << 2));
    if (d & F_SUB) {
      bits >>= DIST_TB;
      left -= DIST_TB;
      d = load<u32>(dist + ((<usize>(d >> 16) + (<usize>bits & ((<usize>1 << ((d >> 8) & 15)) - 1))) << 2));
    }
    if (d & F_EXC) return fail(ERR_DIST_CODE, ip, left);
    const dsaved = bits;
    bits >>= <u64>d;
    left -= d & 63;
    const distance = <usize>((d >> 16) + ((<u32>dsaved & ((1 << d) - 1)) >> (d >> 8)));
    if (distance > op - outStart) return fail(ERR_FAR, ip, left);
    if (len > outEnd - op) return fail(ERR_OUTPUT, ip, left);
    copyMatch(op, distance, len);
    op += len;
  }
  gBits = bits;
  gLeft = left;
  gIp = ip;
  gOp = op;
  return 0;
}

/**
 * Inflate the zlib stream of `n` bytes at `src` into `dst`, producing at most `cap` bytes (the
 * output may be written up to 64 bytes past dst + cap); returns the count produced, or an
 * ERR_* code (negative).
 */
function inflateAt(src: usize, n: i32, dst: usize, cap: i32): i32 {
  const inEnd: usize = src + <usize>n;
  gIn = src;
  gEnd = inEnd;
  errPos = 0;
  if (n < 2) return ERR_TRUNCATED;
  const cmf = <u32>load<u8>(src);
  const flg = <u32>load<u8>(src + 1);
  if ((cmf & 15) != 8 || ((cmf << 8) | flg) % 31 != 0) return ERR_HEADER;
  if (cmf >> 4 > 7) return ERR_WINDOW;
  if (flg & 0x20) return ERR_DICT;

  gBits = 0;
  gLeft = 0;
  gIp = src + 2;
  gOp = dst;
  gOut = dst;
  gOutEnd = dst + <usize>cap;
  let last: u32 = 0;
  do {
    if (!refill()) return fail(ERR_TRUNCATED, inEnd, 0);
    last = take(1);
    const type = take(2);
    if (type == 0) {
      // stored (RFC 1951 3.2.4): to a byte boundary, LEN, NLEN, LEN bytes
      take(gLeft & 7);
      const len = take(16);
      const nlen = take(16);
      if (len != (~nlen & 0xffff)) return fail(ERR_STORED_LEN, gIp, gLeft);
      const at = gIp - (gLeft >> 3);
      if (at > inEnd || <usize>len > inEnd - at) return fail(ERR_TRUNCATED, inEnd, 0);
      if (<usize>len > gOutEnd - gOp) return fail(ERR_OUTPUT, at, 0);
      memory.copy(gOp, at, len);
      gOp += len;
      gIp = at + len;
      gBits = 0;
      gLeft = 0;
      continue;
    }
    if (type == 3) return fail(ERR_BLOCK_TYPE, gIp, gLeft);
    let r: i32;
    if (type == 2) {
      r = dynamic();
      if (r < 0) return r;
      r = codesDynamic();
    } else r = codesFixed();
    if (r < 0) return r;
  } while (!last);

  // to a byte boundary, then the Adler-32 of the output, most significant byte first
  const left = gLeft & ~7;
  const at = gIp - (left >> 3);
  if (at > inEnd || inEnd - at < 4) return fail(ERR_TRUNCATED, inEnd, 0);
  const want = bswap<u32>(load<u32>(at));
  const produced = <i32>(gOp - dst);
  if (adler32(dst, produced) != want) {
    errPos = <i32>(at - src);
    return ERR_CHECK;
  }
  return produced;
}

/**
 * Inflate the zlib stream of `n` bytes at inputPtr() into outputPtr(), producing at most `cap`
 * bytes; returns the count produced, or an ERR_* code (negative).
 */
export function inflate(n: i32, cap: i32): i32 {
  if (n > MAX_INPUT || cap > MAX_OUTPUT || n < 0 || cap < 0) return ERR_TOO_LONG;
  return inflateAt(IN, n, OUT, cap);
}

// ---- runs of pages (issue 13: the read loop): see wasm/page-run.ts ---------------------------

export {
  runInPtr,
  runKindPtr,
  runLenPtr,
  runMaxPages,
  runInSize,
  runOutPtr,
  runOutSize,
  runSrcPtr,
} from "./page-run";

// Streams this short are nearly always a zero page compressed alone (makedumpfile -d 0 compresses
// each zero page by itself): the last one and its page are kept, and a run of equal streams is
// copied, not inflated again.
const TINY: i32 = 96;
const TINY_IN: usize = memory.data(TINY, 16);
const TINY_OUT: usize = memory.data(MAX_OUTPUT, 16);
let tinyLen: i32 = -1;
let tinyPage: i32 = 0;

/** The `len` (≤ TINY) bytes at src equal the kept tiny stream's. */
function sameTiny(src: usize, len: i32): bool {
  if (len != tinyLen) return false;
  let k: i32 = 0;
  for (; k + 8 <= len; k += 8) if (load<u64>(src + <usize>k) != load<u64>(TINY_IN + <usize>k)) return false;
  for (; k < len; k++) if (load<u8>(src + <usize>k) != load<u8>(TINY_IN + <usize>k)) return false;
  return true;
}

/**
 * A page of a run, inflated in place: from the run's input straight to its place in the run's
 * output (one spare byte: a stream that goes on fails; what is written past the page's end is
 * the next page's place, written again when that page is decoded, or the run output's slack).
 */
function inflatePage(src: usize, len: i32, dst: usize, pageSize: i32): bool {
  if (len <= TINY) {
    if (pageSize == tinyPage && sameTiny(src, len)) {
      memory.copy(dst, TINY_OUT, <usize>pageSize);
      return true;
    }
    if (inflateAt(src, len, dst, pageSize + 1) != pageSize) return false;
    memory.copy(TINY_IN, src, <usize>len);
    memory.copy(TINY_OUT, dst, <usize>pageSize);
    tinyLen = len;
    tinyPage = pageSize;
    return true;
  }
  return inflateAt(src, len, dst, pageSize + 1) == pageSize;
}

/** wasm/page-run.ts runPages() over the inflate: each stream must give exactly the page. */
export function decodeRun(count: i32, pageSize: i32): i32 {
  return runPages(count, pageSize, MAX_OUTPUT - 1, MAX_INPUT, inflatePage);
}
