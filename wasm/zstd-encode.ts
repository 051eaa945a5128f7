// AssemblyScript source of the WebAssembly zstd encoder for dump pages (assembled into
// src/codecs/wasm-modules.ts by scripts/build-wasm.mjs; the TypeScript side is
// src/codecs/zstd-encode.ts). Written from RFC 8878 (Zstandard) for one job: a page of 4 KiB
// (up to 64 KiB) in, one complete frame out, as makedumpfile -z writes one per page with
// ZSTD_compressCCtx at level 1.
//
// - The frame: single segment (the window is the content), its content size, no checksum
//   (makedumpfile's frames carry none either), one block: compressed, or raw when that is not
//   smaller, or RLE when every byte is the same.
// - Matches: greedy, from a hash table of 4-byte prefixes and the last two offsets, skipping
//   faster through data that does not match (as zstd's "fast" strategy of level 1). Entries are
//   absolute positions `base + ip`; `base` grows by each input's length, so an entry below
//   `base` is from an earlier call and nothing is cleared between pages.
// - Literals: Huffman-coded (lengths limited to 11 bits; the weights FSE-coded or written
//   4 bits each, whichever is smaller), one stream below 256 literals and four above; raw when
//   that does not gain.
// - Sequences: each of the literal-length, offset and match-length codes takes the cheapest
//   of the predefined distribution, an RLE symbol or a distribution of its own (FSE), by an
//   estimate of their bits.
//
// Memory is static: the caller copies the input to inputPtr() and reads the frame at
// outputPtr().

import { huffmanLengths, matchLen } from "./encode-common";
import { BATCH_BYTES, batchBytes, batchInputPtr, batchSizesPtr, compressPages } from "./page-batch";

export { batchBytes, batchInputPtr, batchSizesPtr };

const MAX_INPUT: i32 = 65536;
const HASH_BITS: u32 = 13;
const MIN_MATCH: i32 = 4;
// after 2^STEP_SHIFT positions without a match, look at every second one, and so on
const STEP_SHIFT: i32 = 7;

const HASH: usize = memory.data(4 << HASH_BITS, 16);
// the input, with spare bytes so that 8-byte loads near its end stay inside memory
const IN: usize = memory.data(MAX_INPUT + 16, 16);
// the frame, and the block as it is built: sequences cost at most ~11 bits a byte they cover
// (a 4-byte match with a 16-bit offset), so twice the input bounds any block before the raw one
// replaces it; the last 256 bytes are scratch for measuring a distribution's description
const OUT_SIZE: i32 = 2 * MAX_INPUT + 1024;
const OUT: usize = memory.data(OUT_SIZE, 16);

// sequences (at most one per 4 bytes of input) and their literals
const MAX_SEQ: i32 = MAX_INPUT / MIN_MATCH + 1;
const SEQ_LL: usize = memory.data(4 * MAX_SEQ, 16);
const SEQ_ML: usize = memory.data(4 * MAX_SEQ, 16);
const SEQ_OV: usize = memory.data(4 * MAX_SEQ, 16);
const LL_CODES: usize = memory.data(MAX_SEQ, 16);
const ML_CODES: usize = memory.data(MAX_SEQ, 16);
const OF_CODES: usize = memory.data(MAX_SEQ, 16);
const LITS: usize = memory.data(MAX_INPUT + 16, 16);

// symbol counts: literals (256), literal-length codes (36), match-length codes (53), offset
// codes (32), Huffman weights (13)
const LIT_FREQ: usize = memory.data(4 * 256, 16);
const LL_FREQ: usize = memory.data(4 * 64, 16);
const ML_FREQ: usize = memory.data(4 * 64, 16);
const OF_FREQ: usize = memory.data(4 * 64, 16);
const W_FREQ: usize = memory.data(4 * 16, 16);

// literal length → code below 64; match length - 3 → code below 128
const LL_CODE: usize = memory.data(64, 16);
const ML_CODE: usize = memory.data(128, 16);
// per code: extra bits and baseline (RFC 8878 3.1.1.3.2.1)
const LL_BITS: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
]);
const ML_BITS: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3,
  4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
]);
const LL_BASE: usize = memory.data(4 * 36, 16);
const ML_BASE: usize = memory.data(4 * 53, 16);

// the predefined distributions (RFC 8878 3.1.1.3.2.2); -1 is "less than 1"
const LL_DEFAULT: usize = memory.data<i16>([
  4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1,
]);
const ML_DEFAULT: usize = memory.data<i16>([
  1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
]);
const OF_DEFAULT: usize = memory.data<i16>([
  1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1,
]);

// FSE encoding tables: per symbol (up to 64) deltaNbBits and deltaFindState, then the state
// table (up to 512 states)
const CT_DELTA_BITS: usize = 0;
const CT_DELTA_FIND: usize = 256;
// per symbol, the index of its first state (u16)
const CT_FIRST: usize = 512;
const CT_STATES: usize = 640;
const CT_SIZE: usize = 640 + 2 * 512;
const CT_LL_DEFAULT: usize = memory.data(<i32>CT_SIZE, 16);
const CT_ML_DEFAULT: usize = memory.data(<i32>CT_SIZE, 16);
const CT_OF_DEFAULT: usize = memory.data(<i32>CT_SIZE, 16);
const CT_LL: usize = memory.data(<i32>CT_SIZE, 16);
const CT_ML: usize = memory.data(<i32>CT_SIZE, 16);
const CT_OF: usize = memory.data(<i32>CT_SIZE, 16);
const CT_W: usize = memory.data(<i32>CT_SIZE, 16);
// normalized counts (i16 per symbol) of the distributions of this block
const NORM_LL: usize = memory.data(2 * 64, 16);
const NORM_ML: usize = memory.data(2 * 64, 16);
const NORM_OF: usize = memory.data(2 * 64, 16);
const NORM_W: usize = memory.data(2 * 64, 16);
// FSE table building: the symbol of each state, and the next position per symbol
const SPREAD: usize = memory.data(512, 16);
const CUMUL: usize = memory.data(4 * 65, 16);
// round(256 * log2(i)) for i < 1024: bit costs in 1/256 bits
const LOG2: usize = memory.data(2 * 1024, 16);

// Huffman: code lengths (wasm/encode-common.ts) and codes per byte, weights, symbols per weight
const HUF_LEN: usize = memory.data(256, 16);
const HUF_CODE: usize = memory.data(2 * 256, 16);
const WEIGHTS: usize = memory.data(256, 16);
const RANK: usize = memory.data(4 * 16, 16);
// the Huffman tree description, staged (at most 1 + 128 bytes)
const TREE: usize = memory.data(256, 16);

const MAX_HUF_BITS: i32 = 11;
const LL_MAX_LOG: i32 = 9;
const ML_MAX_LOG: i32 = 9;
const OF_MAX_LOG: i32 = 8;
const W_MAX_LOG: i32 = 6;

let base: i32 = 1;
let ready = false;

// the bit writer (forward: RFC 8878's streams are read backwards from their last byte)
let op: usize = 0;
let bitBuf: u64 = 0;
let bitCount: u32 = 0;

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
function highbit(v: u32): i32 {
  return 31 - <i32>clz<u32>(v);
}

function init(): void {
  let b: i32 = 0;
  for (let c: i32 = 0; c < 36; c++) {
    store<i32>(LL_BASE + (<usize>c << 2), b);
    const nb = <i32>load<u8>(LL_BITS + <usize>c);
    for (let v: i32 = b; v < b + (1 << nb) && v < 64; v++) store<u8>(LL_CODE + <usize>v, <u8>c);
    b += 1 << nb;
  }
  b = 3;
  for (let c: i32 = 0; c < 53; c++) {
    store<i32>(ML_BASE + (<usize>c << 2), b);
    const nb = <i32>load<u8>(ML_BITS + <usize>c);
    for (let v: i32 = b - 3; v < b - 3 + (1 << nb) && v < 128; v++) store<u8>(ML_CODE + <usize>v, <u8>c);
    b += 1 << nb;
  }
  store<u16>(LOG2, 0);
  for (let i: i32 = 1; i < 1024; i++) store<u16>(LOG2 + (<usize>i << 1), <u16>Math.round(256 * Math.log2(<f64>i)));
  buildCTable(CT_LL_DEFAULT, LL_DEFAULT, 35, 6);
  buildCTable(CT_ML_DEFAULT, ML_DEFAULT, 52, 6);
  buildCTable(CT_OF_DEFAULT, OF_DEFAULT, 28, 5);
  ready = true;
}

// @ts-ignore: decorator
@inline
function llCode(ll: u32): u32 {
  return ll < 64 ? <u32>load<u8>(LL_CODE + <usize>ll) : <u32>highbit(ll) + 19;
}

// @ts-ignore: decorator
@inline
function mlCode(mlBase: u32): u32 {
  return mlBase < 128 ? <u32>load<u8>(ML_CODE + <usize>mlBase) : <u32>highbit(mlBase) + 36;
}

// ---------------------------------------------------------------------------------------------
// bits

function bitsStart(at: usize): void {
  op = at;
  bitBuf = 0;
  bitCount = 0;
}

// @ts-ignore: decorator
@inline
function addBits(v: u32, n: u32): void {
  bitBuf |= (<u64>v & ((<u64>1 << n) - 1)) << bitCount;
  bitCount += n;
  if (bitCount >= 32) {
    store<u32>(op, <u32>bitBuf);
    op += 4;
    bitBuf >>= 32;
    bitCount -= 32;
  }
}

/** The end mark (a 1 bit) and the last bytes; returns the end of the stream. */
function bitsClose(): usize {
  addBits(1, 1);
  while (bitCount > 0) {
    store<u8>(op++, <u8>bitBuf);
    bitBuf >>= 8;
    bitCount = bitCount > 8 ? bitCount - 8 : 0;
  }
  bitBuf = 0;
  bitCount = 0;
  return op;
}

// ---------------------------------------------------------------------------------------------
// FSE (RFC 8878 4.1)

/**
 * The encoding table at `ct` for the distribution `norm` (i16 a symbol, -1 "less than 1") of
 * symbols 0..maxSym over 2^tableLog states: the states spread as the decoder spreads them.
 */
function buildCTable(ct: usize, norm: usize, maxSym: i32, tableLog: i32): void {
  const size: i32 = 1 << tableLog;
  const mask: i32 = size - 1;
  let high: i32 = size - 1;
  // cumulative counts: where each symbol's states start in the state table
  let cum: i32 = 0;
  for (let s: i32 = 0; s <= maxSym; s++) {
    store<i32>(CUMUL + (<usize>s << 2), cum);
    const c = <i32>load<i16>(norm + (<usize>s << 1));
    if (c == -1) {
      store<u8>(SPREAD + <usize>high, <u8>s);
      high--;
      cum += 1;
    } else cum += c;
  }
  const step: i32 = (size >> 1) + (size >> 3) + 3;
  let pos: i32 = 0;
  for (let s: i32 = 0; s <= maxSym; s++) {
    const c = <i32>load<i16>(norm + (<usize>s << 1));
    for (let i: i32 = 0; i < c; i++) {
      store<u8>(SPREAD + <usize>pos, <u8>s);
      pos = (pos + step) & mask;
      while (pos > high) pos = (pos + step) & mask;
    }
  }
  // states in increasing order within each symbol, stored as size + position
  for (let u: i32 = 0; u < size; u++) {
    const s = <usize>load<u8>(SPREAD + <usize>u);
    const at = CUMUL + (s << 2);
    const k = load<i32>(at);
    store<u16>(ct + CT_STATES + (<usize>k << 1), <u16>(size + u));
    store<i32>(at, k + 1);
  }
  cum = 0;
  for (let s: i32 = 0; s <= maxSym; s++) {
    let c = <i32>load<i16>(norm + (<usize>s << 1));
    if (c == 0) {
      store<i32>(ct + CT_DELTA_BITS + (<usize>s << 2), 0);
      store<i32>(ct + CT_DELTA_FIND + (<usize>s << 2), 0);
      continue;
    }
    if (c == -1) c = 1;
    const maxBitsOut: i32 = tableLog - (c == 1 ? 0 : highbit(<u32>(c - 1)));
    const minStatePlus: i32 = c << maxBitsOut;
    store<i32>(ct + CT_DELTA_BITS + (<usize>s << 2), (maxBitsOut << 16) - minStatePlus);
    store<i32>(ct + CT_DELTA_FIND + (<usize>s << 2), cum - c);
    store<u16>(ct + CT_FIRST + (<usize>s << 1), <u16>cum);
    cum += c;
  }
}

/** The state that decodes `s` with the most bits to read next (its first). */
// @ts-ignore: decorator
@inline
function initState(ct: usize, s: u32): u32 {
  // its first state: the decoder's next state there is the symbol's count, so it reads at
  // least one bit whenever the symbol is not the only one
  const first = <usize>load<u16>(ct + CT_FIRST + (<usize>s << 1));
  return <u32>load<u16>(ct + CT_STATES + (first << 1));
}

/** Encode `s` from `state`: writes the bits the decoder reads to come back; the new state. */
// @ts-ignore: decorator
@inline
function encodeSymbol(ct: usize, state: u32, s: u32): u32 {
  const nb: u32 = (state + <u32>load<i32>(ct + CT_DELTA_BITS + (<usize>s << 2))) >> 16;
  addBits(state, nb);
  const i = <i32>(state >> nb) + load<i32>(ct + CT_DELTA_FIND + (<usize>s << 2));
  return <u32>load<u16>(ct + CT_STATES + (<usize>i << 1));
}

/**
 * The accuracy log for `total` symbols of 0..maxSym, at most maxLog (as FSE's usual choice:
 * no more states than a quarter of the symbols need, enough for every symbol present).
 */
function tableLogFor(total: u32, maxSym: i32, maxLog: i32): i32 {
  let log: i32 = highbit(total - 1) - 2;
  if (log > maxLog) log = maxLog;
  const minBits: i32 = min(highbit(total) + 1, highbit(<u32>max(maxSym, 1)) + 2);
  if (log < minBits) log = minBits;
  if (log < 5) log = 5;
  if (log > maxLog) log = maxLog;
  return log;
}

/**
 * `count` (u32 a symbol, 0..maxSym, summing to `total`) scaled to 2^tableLog into `norm`, every
 * symbol present at least 1: rounded, then the difference taken from or given to the largest.
 */
function normalize(count: usize, maxSym: i32, total: u32, tableLog: i32, norm: usize): void {
  const size: i32 = 1 << tableLog;
  let sum: i32 = 0;
  let largest: i32 = 0;
  let largestCount: u32 = 0;
  const scale: u64 = ((<u64>size) << 32) / <u64>total;
  for (let s: i32 = 0; s <= maxSym; s++) {
    const c = load<u32>(count + (<usize>s << 2));
    let n: i32 = 0;
    if (c != 0) {
      n = <i32>((<u64>c * scale + (<u64>1 << 31)) >> 32);
      if (n < 1) n = 1;
      if (c > largestCount) {
        largestCount = c;
        largest = s;
      }
    }
    store<i16>(norm + (<usize>s << 1), <i16>n);
    sum += n;
  }
  const at = norm + (<usize>largest << 1);
  if (sum < size || <i32>load<i16>(at) - (sum - size) >= 1) {
    store<i16>(at, <i16>(<i32>load<i16>(at) - (sum - size)));
    return;
  }
  // too many symbols raised to 1: take from the largest counts one at a time
  while (sum > size) {
    let best: i32 = -1;
    let bestN: i32 = 1;
    for (let s: i32 = 0; s <= maxSym; s++) {
      const n = <i32>load<i16>(norm + (<usize>s << 1));
      if (n > bestN) {
        bestN = n;
        best = s;
      }
    }
    store<i16>(norm + (<usize>best << 1), <i16>(bestN - 1));
    sum--;
  }
}

/** Bits (1/256) to code `count` with the distribution `norm` of 2^tableLog states. */
function fseCost(count: usize, maxSym: i32, norm: usize, tableLog: i32): u64 {
  let cost: u64 = 0;
  const full: u32 = <u32>tableLog << 8;
  for (let s: i32 = 0; s <= maxSym; s++) {
    const c = load<u32>(count + (<usize>s << 2));
    if (c == 0) continue;
    let n = <i32>load<i16>(norm + (<usize>s << 1));
    if (n == 0) return <u64>-1; // the distribution cannot code it
    if (n < 0) n = 1;
    cost += <u64>c * <u64>(full - <u32>load<u16>(LOG2 + (<usize>n << 1)));
  }
  return cost;
}

/** The distribution `norm` as RFC 8878 4.1.1 describes it, at `out`; returns its end. */
function writeNCount(out: usize, norm: usize, maxSym: i32, tableLog: i32): usize {
  let o = out;
  let bits: u64 = <u64>(tableLog - 5);
  let nbits: u32 = 4;
  let remaining: i32 = (1 << tableLog) + 1;
  let threshold: i32 = 1 << tableLog;
  let width: i32 = tableLog + 1;
  let s: i32 = 0;
  let previous0 = false;
  while (remaining > 1 && s <= maxSym) {
    if (previous0) {
      let start = s;
      while (s <= maxSym && load<i16>(norm + (<usize>s << 1)) == 0) s++;
      while (s >= start + 24) {
        start += 24;
        bits |= (<u64>0xffff) << nbits;
        nbits += 16;
        store<u16>(o, <u16>bits);
        o += 2;
        bits >>= 16;
        nbits -= 16;
      }
      while (s >= start + 3) {
        start += 3;
        bits |= (<u64>3) << nbits;
        nbits += 2;
      }
      bits |= (<u64>(s - start)) << nbits;
      nbits += 2;
      if (nbits > 16) {
        store<u16>(o, <u16>bits);
        o += 2;
        bits >>= 16;
        nbits -= 16;
      }
    }
    let count = <i32>load<i16>(norm + (<usize>s << 1));
    s++;
    const maxV: i32 = 2 * threshold - 1 - remaining;
    remaining -= count < 0 ? -count : count;
    count++;
    if (count >= threshold) count += maxV;
    bits |= (<u64>count) << nbits;
    nbits += <u32>width;
    if (count < maxV) nbits--;
    previous0 = count == 1;
    while (remaining < threshold) {
      width--;
      threshold >>= 1;
    }
    if (nbits > 16) {
      store<u16>(o, <u16>bits);
      o += 2;
      bits >>= 16;
      nbits -= 16;
    }
  }
  while (nbits > 0) {
    store<u8>(o++, <u8>bits);
    bits >>= 8;
    nbits = nbits > 8 ? nbits - 8 : 0;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Huffman (RFC 8878 4.2)

/**
 * Weights (maxBits + 1 - length) into WEIGHTS and the codes the decoder's table gives them into
 * HUF_CODE: states in order of weight, then of symbol; a symbol's code is its first state's
 * top bits.
 */
function huffmanCodes(maxBits: i32): void {
  memory.fill(RANK, 0, 4 * 16);
  for (let s: i32 = 0; s < 256; s++) {
    const len = <i32>load<u8>(HUF_LEN + <usize>s);
    const w = len == 0 ? 0 : maxBits + 1 - len;
    store<u8>(WEIGHTS + <usize>s, <u8>w);
    if (w != 0) {
      const at = RANK + (<usize>w << 2);
      store<u32>(at, load<u32>(at) + 1);
    }
  }
  // rank start of each weight, in table entries
  let start: u32 = 0;
  for (let w: i32 = 1; w <= maxBits; w++) {
    const at = RANK + (<usize>w << 2);
    const n = load<u32>(at);
    store<u32>(at, start);
    start += n << (w - 1);
  }
  for (let s: i32 = 0; s < 256; s++) {
    const w = <i32>load<u8>(WEIGHTS + <usize>s);
    if (w == 0) continue;
    const at = RANK + (<usize>w << 2);
    const u = load<u32>(at);
    store<u32>(at, u + (1 << (w - 1)));
    store<u16>(HUF_CODE + (<usize>s << 1), <u16>(u >> (w - 1)));
  }
}

/**
 * The tree description (RFC 8878 4.2.1) of the weights of symbols 0..maxSym-1 (maxSym's is
 * implied) at TREE: FSE-coded when that is smaller, else 4 bits a weight (maxSym ≤ 128).
 * Returns its size, or 0 when neither can describe it.
 */
function writeTree(maxSym: i32, maxBits: i32): i32 {
  const direct: i32 = maxSym <= 128 ? 1 + ((maxSym + 1) >> 1) : 0x7fffffff;
  let fse: i32 = 0x7fffffff;
  if (maxSym >= 2) {
    memory.fill(W_FREQ, 0, 4 * 16);
    let distinct: i32 = 0;
    for (let s: i32 = 0; s < maxSym; s++) {
      const at = W_FREQ + (<usize>load<u8>(WEIGHTS + <usize>s) << 2);
      const c = load<u32>(at);
      if (c == 0) distinct++;
      store<u32>(at, c + 1);
    }
    if (distinct >= 2) {
      const log = tableLogFor(<u32>maxSym, maxBits, W_MAX_LOG);
      normalize(W_FREQ, maxBits, <u32>maxSym, log, NORM_W);
      buildCTable(CT_W, NORM_W, maxBits, log);
      let o = writeNCount(TREE + 1, NORM_W, maxBits, log);
      // two interleaved states: weights of even index on the first, odd on the second; the
      // last two are where the states start, and the first two are the states written last
      bitsStart(o);
      const n = maxSym;
      let s1 = initState(CT_W, <u32>load<u8>(WEIGHTS + <usize>((n - 1) & ~1)));
      let s2 = initState(CT_W, <u32>load<u8>(WEIGHTS + <usize>(((n - 2) & ~1) + 1)));
      // the last even and odd indexes are the states' starting symbols
      const lastEven = (n - 1) & ~1;
      const lastOdd = ((n - 2) & ~1) + 1;
      for (let i: i32 = n - 1; i >= 0; i--) {
        if (i == lastEven || i == lastOdd) continue;
        const w = <u32>load<u8>(WEIGHTS + <usize>i);
        if ((i & 1) == 0) s1 = encodeSymbol(CT_W, s1, w);
        else s2 = encodeSymbol(CT_W, s2, w);
      }
      addBits(s2, <u32>log);
      addBits(s1, <u32>log);
      o = bitsClose();
      const size = <i32>(o - TREE) - 1;
      if (size < 128) fse = size + 1;
      if (fse < direct) {
        store<u8>(TREE, <u8>size);
        return fse;
      }
    }
  }
  if (direct == 0x7fffffff) return 0;
  store<u8>(TREE, <u8>(127 + maxSym));
  for (let s: i32 = 0; s < maxSym; s += 2) {
    const hi = <u32>load<u8>(WEIGHTS + <usize>s);
    const lo = s + 1 < maxSym ? <u32>load<u8>(WEIGHTS + <usize>(s + 1)) : 0;
    store<u8>(TREE + 1 + <usize>(s >> 1), <u8>((hi << 4) | lo));
  }
  return direct;
}

/** One Huffman stream of the literals [from, to) at `out`; returns its end. */
function huffmanStream(out: usize, from: usize, to: usize): usize {
  bitsStart(out);
  let bb = bitBuf;
  let bc = bitCount;
  let o = op;
  let p = to;
  while (p > from) {
    p--;
    const s = <usize>load<u8>(p);
    bb |= (<u64>load<u16>(HUF_CODE + (s << 1))) << bc;
    bc += <u32>load<u8>(HUF_LEN + s);
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
  return bitsClose();
}

/** The literals section for `n` literals at LITS, at `out`; returns its end. */
function writeLiterals(out: usize, n: i32): usize {
  let maxSym: i32 = 0;
  let minSym: i32 = 0;
  if (n >= 64) {
    memory.fill(LIT_FREQ, 0, 4 * 256);
    let p = LITS;
    const end = LITS + <usize>n;
    for (; p < end; p++) {
      const at = LIT_FREQ + (<usize>load<u8>(p) << 2);
      store<u32>(at, load<u32>(at) + 1);
    }
    maxSym = 255;
    while (load<u32>(LIT_FREQ + (<usize>maxSym << 2)) == 0) maxSym--;
    while (load<u32>(LIT_FREQ + (<usize>minSym << 2)) == 0) minSym++;
  }
  // one byte value only cannot happen (every value's first occurrence is a literal, so the
  // input would be that byte repeated: an RLE block), and a Huffman code needs two
  if (n >= 64 && minSym < maxSym) {
    const maxBits = huffmanLengths(LIT_FREQ, 256, MAX_HUF_BITS, HUF_LEN);
    let bits: u64 = 0;
    for (let s: i32 = 0; s <= maxSym; s++)
      bits += <u64>load<u32>(LIT_FREQ + (<usize>s << 2)) * <u64>load<u8>(HUF_LEN + <usize>s);
    const single = n < 256;
    huffmanCodes(maxBits);
    const tree = writeTree(maxSym, maxBits);
    // worth it only when clearly smaller than the raw bytes (as zstd: by n/64 + 2)
    const estimate: i64 = <i64>tree + (single ? 0 : 6 + 4) + <i64>((bits + 7) >> 3) + 1;
    if (tree != 0 && estimate < <i64>(n - (n >> 6) - 2)) {
      const hsize: usize = single || n < 1024 ? 3 : n < 16384 ? 4 : 5;
      let o = out + hsize;
      memory.copy(o, TREE, <usize>tree);
      o += <usize>tree;
      if (single) o = huffmanStream(o, LITS, LITS + <usize>n);
      else {
        const seg = <usize>((n + 3) >> 2);
        const jump = o;
        o += 6;
        let from = LITS;
        for (let i: i32 = 0; i < 4; i++) {
          const to = i < 3 ? from + seg : LITS + <usize>n;
          const start = o;
          o = huffmanStream(o, from, to);
          if (i < 3) store<u16>(jump + (<usize>i << 1), <u16>(o - start));
          from = to;
        }
      }
      const comp = <u64>(o - out - hsize);
      if (comp < <u64>n) {
        const format: u64 = single ? 0 : hsize == 3 ? 1 : hsize == 4 ? 2 : 3;
        const shift: u64 = hsize == 3 ? 14 : hsize == 4 ? 18 : 22;
        const h: u64 = 2 | (format << 2) | (<u64>n << 4) | (comp << shift);
        store<u16>(out, <u16>h);
        store<u8>(out + 2, <u8>(h >> 16));
        if (hsize >= 4) store<u8>(out + 3, <u8>(h >> 24));
        if (hsize == 5) store<u8>(out + 4, <u8>(h >> 32));
        return o;
      }
    }
  }
  writeRawHeader(out, n);
  const h = headerSize(n);
  memory.copy(out + <usize>h, LITS, <usize>n);
  return out + <usize>h + <usize>n;
}

// @ts-ignore: decorator
@inline
function headerSize(n: i32): i32 {
  return n < 32 ? 1 : n < 4096 ? 2 : 3;
}

function writeRawHeader(out: usize, n: i32): void {
  if (n < 32) store<u8>(out, <u8>(<u32>n << 3));
  else if (n < 4096) store<u16>(out, <u16>((1 << 2) | (<u32>n << 4)));
  else {
    const h: u32 = (3 << 2) | (<u32>n << 4);
    store<u16>(out, <u16>h);
    store<u8>(out + 2, <u8>(h >> 16));
  }
}

// ---------------------------------------------------------------------------------------------
// sequences (RFC 8878 3.1.1.3.2)

const MODE_PREDEFINED: u32 = 0;
const MODE_RLE: u32 = 1;
const MODE_FSE: u32 = 2;

let chosenLog: i32 = 0;

/**
 * The cheapest way to code the `nbSeq` codes counted at `freq` (0..maxCode): the predefined
 * distribution `def` (0..defMax, accuracy defLog), one symbol repeated, or a distribution of
 * their own (into `norm`, accuracy chosenLog). Returns the mode.
 */
function chooseMode(
  freq: usize,
  maxCode: i32,
  nbSeq: i32,
  def: usize,
  defMax: i32,
  defLog: i32,
  norm: usize,
  maxLog: i32,
): u32 {
  let distinct: i32 = 0;
  for (let s: i32 = 0; s <= maxCode; s++) if (load<u32>(freq + (<usize>s << 2)) != 0) distinct++;
  if (distinct == 1 && nbSeq > 2) return MODE_RLE;
  let predefined: u64 = <u64>-1;
  if (maxCode <= defMax) predefined = fseCost(freq, maxCode, def, defLog);
  if (distinct == 1) return predefined == <u64>-1 ? MODE_RLE : MODE_PREDEFINED;
  const log = tableLogFor(<u32>nbSeq, maxCode, maxLog);
  normalize(freq, maxCode, <u32>nbSeq, log, norm);
  // the description's size: written to the output area past anything in use, then measured
  const descBits: u64 = <u64>(writeNCount(OUT + <usize>OUT_SIZE - 256, norm, maxCode, log) - (OUT + <usize>OUT_SIZE - 256)) << 11;
  const own = fseCost(freq, maxCode, norm, log) + descBits;
  chosenLog = log;
  return own < predefined ? MODE_FSE : MODE_PREDEFINED;
}

/**
 * What the decoder needs for a code coded in `mode` at `o`: the RLE symbol (the only code,
 * maxCode), or the distribution `norm` (whose encoding table is built into `ct`); nothing for
 * the predefined one. Returns the end.
 */
function describe(o: usize, mode: u32, maxCode: i32, norm: usize, log: i32, ct: usize): usize {
  if (mode == MODE_RLE) {
    store<u8>(o, <u8>maxCode);
    return o + 1;
  }
  if (mode != MODE_FSE) return o;
  buildCTable(ct, norm, maxCode, log);
  return writeNCount(o, norm, maxCode, log);
}

function writeSequences(out: usize, nbSeq: i32): usize {
  let o = out;
  if (nbSeq < 128) store<u8>(o++, <u8>nbSeq);
  else if (nbSeq < 0x7f00) {
    store<u8>(o++, <u8>((nbSeq >> 8) + 0x80));
    store<u8>(o++, <u8>nbSeq);
  } else {
    store<u8>(o++, 0xff);
    store<u16>(o, <u16>(nbSeq - 0x7f00));
    o += 2;
  }
  if (nbSeq == 0) return o;
  let llMax: i32 = 35;
  while (load<u32>(LL_FREQ + (<usize>llMax << 2)) == 0) llMax--;
  let mlMax: i32 = 52;
  while (load<u32>(ML_FREQ + (<usize>mlMax << 2)) == 0) mlMax--;
  let ofMax: i32 = 31;
  while (load<u32>(OF_FREQ + (<usize>ofMax << 2)) == 0) ofMax--;
  const llMode = chooseMode(LL_FREQ, llMax, nbSeq, LL_DEFAULT, 35, 6, NORM_LL, LL_MAX_LOG);
  const llLog = chosenLog;
  const ofMode = chooseMode(OF_FREQ, ofMax, nbSeq, OF_DEFAULT, 28, 5, NORM_OF, OF_MAX_LOG);
  const ofLog = chosenLog;
  const mlMode = chooseMode(ML_FREQ, mlMax, nbSeq, ML_DEFAULT, 52, 6, NORM_ML, ML_MAX_LOG);
  const mlLog = chosenLog;
  store<u8>(o++, <u8>((llMode << 6) | (ofMode << 4) | (mlMode << 2)));
  // the descriptions, in the order of the modes: an RLE symbol, or a distribution of its own
  o = describe(o, llMode, llMax, NORM_LL, llLog, CT_LL);
  o = describe(o, ofMode, ofMax, NORM_OF, ofLog, CT_OF);
  o = describe(o, mlMode, mlMax, NORM_ML, mlLog, CT_ML);
  const llT = llMode == MODE_FSE ? CT_LL : CT_LL_DEFAULT;
  const llL: i32 = llMode == MODE_FSE ? llLog : 6;
  const ofT = ofMode == MODE_FSE ? CT_OF : CT_OF_DEFAULT;
  const ofL: i32 = ofMode == MODE_FSE ? ofLog : 5;
  const mlT = mlMode == MODE_FSE ? CT_ML : CT_ML_DEFAULT;
  const mlL: i32 = mlMode == MODE_FSE ? mlLog : 6;
  const llRle = llMode == MODE_RLE;
  const ofRle = ofMode == MODE_RLE;
  const mlRle = mlMode == MODE_RLE;

  // the bitstream, last sequence first: the decoder reads it backwards
  bitsStart(o);
  const last = nbSeq - 1;
  let sLL: u32 = llRle ? 0 : initState(llT, <u32>load<u8>(LL_CODES + <usize>last));
  let sOF: u32 = ofRle ? 0 : initState(ofT, <u32>load<u8>(OF_CODES + <usize>last));
  let sML: u32 = mlRle ? 0 : initState(mlT, <u32>load<u8>(ML_CODES + <usize>last));
  for (let i: i32 = last; i >= 0; i--) {
    const llc = <u32>load<u8>(LL_CODES + <usize>i);
    const mlc = <u32>load<u8>(ML_CODES + <usize>i);
    const ofc = <u32>load<u8>(OF_CODES + <usize>i);
    if (i != last) {
      // the state updates the decoder makes after sequence i: literal length, match length,
      // offset; written in the reverse order
      if (!ofRle) sOF = encodeSymbol(ofT, sOF, ofc);
      if (!mlRle) sML = encodeSymbol(mlT, sML, mlc);
      if (!llRle) sLL = encodeSymbol(llT, sLL, llc);
    }
    // the extra bits the decoder reads for sequence i: offset, match length, literal length
    const ll = load<u32>(SEQ_LL + (<usize>i << 2));
    const llb = <u32>load<u8>(LL_BITS + <usize>llc);
    if (llb != 0) addBits(ll - <u32>load<i32>(LL_BASE + (<usize>llc << 2)), llb);
    const ml = load<u32>(SEQ_ML + (<usize>i << 2));
    const mlb = <u32>load<u8>(ML_BITS + <usize>mlc);
    if (mlb != 0) addBits(ml - <u32>load<i32>(ML_BASE + (<usize>mlc << 2)), mlb);
    if (ofc != 0) addBits(load<u32>(SEQ_OV + (<usize>i << 2)), ofc);
  }
  if (!mlRle) addBits(sML, <u32>mlL);
  if (!ofRle) addBits(sOF, <u32>ofL);
  if (!llRle) addBits(sLL, <u32>llL);
  return bitsClose();
}

// ---------------------------------------------------------------------------------------------
// matches

// @ts-ignore: decorator
@inline
function hash4(p: i32): usize {
  // the 4 bytes at p times a large odd constant: the top bits
  const v: u32 = load<u32>(IN + <usize>p);
  return HASH + (<usize>((v * 2654435761) >> (32 - HASH_BITS)) << 2);
}

let rep1: u32 = 1;
let rep2: u32 = 4;
let rep3: u32 = 8;
let nbSeq: i32 = 0;
let nbLits: i32 = 0;

/** Sequence: `ll` literals from `from`, then `ml` bytes from `offset` back. */
// @ts-ignore: decorator
@inline
function sequence(from: i32, ll: i32, offset: u32, ml: i32): void {
  if (ll != 0) {
    // 8 bytes at a time (LITS and IN have room past the end): memory.copy is a call out of
    // WebAssembly in V8, dear for the short runs between matches
    const d = LITS + <usize>nbLits;
    const s = IN + <usize>from;
    for (let k: usize = 0; k < <usize>ll; k += 8) store<u64>(d + k, load<u64>(s + k));
    nbLits += ll;
  }
  // the offset value: a repeat code where one of the three last offsets is it (RFC 8878
  // 3.1.1.5), the history updated as the decoder updates it
  let ov: u32;
  if (ll != 0 && offset == rep1) ov = 1;
  else if (offset == rep2) {
    ov = ll != 0 ? 2 : 1;
    rep2 = rep1;
    rep1 = offset;
  } else if (offset == rep3) {
    ov = ll != 0 ? 3 : 2;
    rep3 = rep2;
    rep2 = rep1;
    rep1 = offset;
  } else {
    ov = offset + 3;
    rep3 = rep2;
    rep2 = rep1;
    rep1 = offset;
  }
  const i = <usize>nbSeq;
  store<u32>(SEQ_LL + (i << 2), <u32>ll);
  store<u32>(SEQ_ML + (i << 2), <u32>ml);
  const ofc = <u32>highbit(ov);
  store<u32>(SEQ_OV + (i << 2), ov - (1 << ofc));
  const llc = llCode(<u32>ll);
  const mlc = mlCode(<u32>(ml - 3));
  store<u8>(LL_CODES + i, <u8>llc);
  store<u8>(ML_CODES + i, <u8>mlc);
  store<u8>(OF_CODES + i, <u8>ofc);
  let at = LL_FREQ + (<usize>llc << 2);
  store<u32>(at, load<u32>(at) + 1);
  at = ML_FREQ + (<usize>mlc << 2);
  store<u32>(at, load<u32>(at) + 1);
  at = OF_FREQ + (<usize>ofc << 2);
  store<u32>(at, load<u32>(at) + 1);
  nbSeq++;
}

function findSequences(n: i32, b: i32): i32 {
  nbSeq = 0;
  nbLits = 0;
  rep1 = 1;
  rep2 = 4;
  rep3 = 8;
  memory.fill(LL_FREQ, 0, 4 * 64);
  memory.fill(ML_FREQ, 0, 4 * 64);
  memory.fill(OF_FREQ, 0, 4 * 64);
  let anchor: i32 = 0;
  let ip: i32 = 1;
  const limit: i32 = n - 8;
  while (ip < limit) {
    const slot = hash4(ip);
    const cand = load<i32>(slot) - b;
    store<i32>(slot, b + ip);
    const cur = load<u32>(IN + <usize>ip);
    let len: i32 = 0;
    let off: u32 = 0;
    // the last offset first (cheapest to code); right after a match, the one before it (the
    // same cost there: a match cannot follow a match at the last offset)
    const rep = ip > anchor ? rep1 : rep2;
    if (<u32>ip >= rep && load<u32>(IN + <usize>(ip - <i32>rep)) == cur) {
      len = 4 + matchLen(IN + <usize>(ip + 4 - <i32>rep), IN + <usize>(ip + 4), n - ip - 4);
      off = rep;
    }
    if (ip > anchor && <u32>ip >= rep2 && load<u32>(IN + <usize>(ip - <i32>rep2)) == cur) {
      const l = 4 + matchLen(IN + <usize>(ip + 4 - <i32>rep2), IN + <usize>(ip + 4), n - ip - 4);
      if (l > len) {
        len = l;
        off = rep2;
      }
    }
    if (cand >= 0 && load<u32>(IN + <usize>cand) == cur) {
      const l = 4 + matchLen(IN + <usize>(cand + 4), IN + <usize>(ip + 4), n - ip - 4);
      if (l > len + 1) {
        len = l;
        off = <u32>(ip - cand);
      }
    }
    if (len < MIN_MATCH) {
      ip += 1 + ((ip - anchor) >> STEP_SHIFT);
      continue;
    }
    // back over bytes before ip that match too
    while (ip > anchor && <u32>ip > off && load<u8>(IN + <usize>(ip - 1)) == load<u8>(IN + <usize>(ip - 1 - <i32>off))) {
      ip--;
      len++;
    }
    sequence(anchor, ip - anchor, off, len);
    const start = ip;
    ip += len;
    anchor = ip;
    // positions inside the match, as zstd's fast strategy: two of them
    if (start + 2 < limit) store<i32>(hash4(start + 2), b + start + 2);
    if (ip - 2 < limit && ip - 2 > start + 2) store<i32>(hash4(ip - 2), b + ip - 2);
  }
  return anchor;
}

// ---------------------------------------------------------------------------------------------
// the frame

function allSame(n: i32): bool {
  const v: u64 = <u64>load<u8>(IN) * 0x0101010101010101;
  let p: i32 = 0;
  for (; p + 8 <= n; p += 8) if (load<u64>(IN + <usize>p) != v) return false;
  for (; p < n; p++) if (load<u8>(IN + <usize>p) != <u8>v) return false;
  return true;
}

/** Compress the `n` bytes at inputPtr() into one zstd frame at outputPtr(); returns its size. */
export function compress(n: i32): i32 {
  if (n < 0 || n > MAX_INPUT) return -1;
  if (!ready) init();
  if (base > 0x7fffffff - 2 * MAX_INPUT) {
    memory.fill(HASH, 0, 4 << HASH_BITS);
    base = 1;
  }
  const b = base;
  base += n + 1;
  store<u64>(IN + <usize>n, 0);
  store<u64>(IN + <usize>n + 8, 0);

  // frame header: magic, descriptor (single segment, content size of 1, 2 or 4 bytes)
  let o = OUT;
  store<u32>(o, 0xfd2fb528);
  o += 4;
  if (n < 256) {
    store<u8>(o, 0x20);
    store<u8>(o + 1, <u8>n);
    o += 2;
  } else if (n < 65792) {
    store<u8>(o, 0x60);
    store<u16>(o + 1, <u16>(n - 256));
    o += 3;
  } else {
    store<u8>(o, 0xa0);
    store<u32>(o + 1, <u32>n);
    o += 5;
  }
  const blockHeader = o;
  if (n > 0 && allSame(n)) {
    const h: u32 = 1 | (1 << 1) | (<u32>n << 3);
    store<u16>(o, <u16>h);
    store<u8>(o + 2, <u8>(h >> 16));
    store<u8>(o + 3, load<u8>(IN));
    return <i32>(o + 4 - OUT);
  }
  let size: i32 = n;
  if (n > 16) {
    const anchor = findSequences(n, b);
    if (anchor < n) {
      memory.copy(LITS + <usize>nbLits, IN + <usize>anchor, <usize>(n - anchor));
      nbLits += n - anchor;
    }
    let q = writeLiterals(blockHeader + 3, nbLits);
    q = writeSequences(q, nbSeq);
    size = <i32>(q - blockHeader - 3);
  }
  if (size < n) {
    const h: u32 = 1 | (2 << 1) | (<u32>size << 3);
    store<u16>(blockHeader, <u16>h);
    store<u8>(blockHeader + 2, <u8>(h >> 16));
    return <i32>(blockHeader + 3 + <usize>size - OUT);
  }
  // raw block
  const h: u32 = 1 | (<u32>n << 3);
  store<u16>(blockHeader, <u16>h);
  store<u8>(blockHeader + 2, <u8>(h >> 16));
  memory.copy(blockHeader + 3, IN, <usize>n);
  return <i32>(blockHeader + 3 + <usize>n - OUT);
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
