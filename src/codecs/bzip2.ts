/**
 * bzip2 decoder (CONFIG_KERNEL_BZIP2: `bzip2 -9` + 4 size bytes; the kernel reads it with
 * lib/decompress_bunzip2.c). Written from the bzip2 format as documented by Joe Tsai's
 * "BZip2 format specification" and bzip2 1.0.8's decompress.c semantics: Huffman-coded MTF/RLE2
 * symbols per 900k block, inverse BWT, RLE1, block and stream CRCs (both checked).
 * Randomised blocks (bzip2 < 0.9.5) are refused.
 */
import { DecompressError, UnsupportedError } from "../errors.js";
import { crc32be } from "./crc.js";
import { type DecodeOptions, OutputBuffer } from "./output.js";

export function isBzip2(b: Uint8Array): boolean {
  return b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68 && b[3]! >= 0x31 && b[3]! <= 0x39;
}

const MAX_GROUPS = 6;
const MAX_ALPHA = 258;
const MAX_CODE_LEN = 20;
const GROUP_SIZE = 50;
const MAX_SELECTORS = 18002;

function fail(detail: string): never {
  throw new DecompressError("bzip2", detail);
}

class BitReader {
  pos: number;
  private acc = 0;
  private n = 0;
  constructor(
    readonly input: Uint8Array,
    pos: number,
  ) {
    this.pos = pos;
  }
  bits(k: number): number {
    while (this.n < k) {
      if (this.pos >= this.input.length) fail("compressed data ends too early");
      this.acc = ((this.acc << 8) | this.input[this.pos++]!) >>> 0;
      this.n += 8;
    }
    this.n -= k;
    const v = (this.acc >>> this.n) & ((1 << k) - 1);
    this.acc &= (1 << this.n) - 1;
    return v;
  }
  bit(): number {
    return this.bits(1);
  }
  /** Drop the bits left in the current byte (streams end byte-aligned). */
  align(): void {
    this.n = 0;
    this.acc = 0;
  }
}

interface Table {
  minLen: number;
  limit: Int32Array;
  base: Int32Array;
  perm: Int32Array;
}

function makeTable(lengths: Uint8Array, alpha: number): Table {
  let minLen = 32;
  let maxLen = 0;
  for (let i = 0; i < alpha; i++) {
    const l = lengths[i]!;
    if (l > maxLen) maxLen = l;
    if (l < minLen) minLen = l;
  }
  const perm = new Int32Array(MAX_ALPHA);
  const base = new Int32Array(MAX_CODE_LEN + 3);
  const limit = new Int32Array(MAX_CODE_LEN + 2).fill(-1);
  let pp = 0;
  for (let i = minLen; i <= maxLen; i++) for (let j = 0; j < alpha; j++) if (lengths[j] === i) perm[pp++] = j;
  for (let i = 0; i < alpha; i++) base[lengths[i]! + 1]!++;
  for (let i = 1; i < base.length; i++) base[i]! += base[i - 1]!;
  let vec = 0;
  for (let i = minLen; i <= maxLen; i++) {
    vec += base[i + 1]! - base[i]!;
    limit[i] = vec - 1;
    vec <<= 1;
  }
  for (let i = minLen + 1; i <= maxLen; i++) base[i] = ((limit[i - 1]! + 1) << 1) - base[i]!;
  // lengths above maxLen never match: limit stays -1 there, caught by the length cap
  for (let i = maxLen + 1; i <= MAX_CODE_LEN + 1; i++) limit[i] = 0x7fffffff;
  return { minLen, limit, base, perm };
}

function decodeSymbol(br: BitReader, t: Table, alpha: number): number {
  let zn = t.minLen;
  let zvec = br.bits(zn);
  while (zvec > t.limit[zn]!) {
    zn++;
    if (zn > MAX_CODE_LEN) fail("bad Huffman code");
    zvec = (zvec << 1) | br.bit();
  }
  const idx = zvec - t.base[zn]!;
  if (idx < 0 || idx >= alpha) fail("bad Huffman code");
  return t.perm[idx]!;
}

/** Decode one block's symbols into tt (low bytes); returns nblock and origPtr. */
function readBlock(br: BitReader, tt: Int32Array, maxBlock: number): { nblock: number; origPtr: number } {
  if (br.bit()) throw new UnsupportedError("bzip2 randomised block (bzip2 < 0.9.5)");
  const origPtr = br.bits(24);
  const inUse16 = br.bits(16);
  const seqToUnseq = new Uint8Array(256);
  let nInUse = 0;
  for (let i = 0; i < 16; i++) {
    if (!(inUse16 & (0x8000 >>> i))) continue;
    const w = br.bits(16);
    for (let j = 0; j < 16; j++) if (w & (0x8000 >>> j)) seqToUnseq[nInUse++] = i * 16 + j;
  }
  if (nInUse === 0) fail("block uses no symbols");
  const alpha = nInUse + 2;
  const nGroups = br.bits(3);
  if (nGroups < 2 || nGroups > MAX_GROUPS) fail(`bad number of Huffman groups ${nGroups}`);
  const nSelectors = br.bits(15);
  if (nSelectors < 1) fail("no selectors");
  const selMtf = new Uint8Array(Math.min(nSelectors, MAX_SELECTORS));
  for (let i = 0; i < nSelectors; i++) {
    let j = 0;
    while (br.bit()) {
      j++;
      if (j >= nGroups) fail("bad selector");
    }
    if (i < MAX_SELECTORS) selMtf[i] = j;
  }
  const pos = [0, 1, 2, 3, 4, 5];
  const selectors = new Uint8Array(selMtf.length);
  for (let i = 0; i < selMtf.length; i++) {
    let v = selMtf[i]!;
    const tmp = pos[v]!;
    while (v > 0) {
      pos[v] = pos[v - 1]!;
      v--;
    }
    pos[0] = tmp;
    selectors[i] = tmp;
  }
  const tables: Table[] = [];
  const lengths = new Uint8Array(MAX_ALPHA);
  for (let t = 0; t < nGroups; t++) {
    let curr = br.bits(5);
    for (let i = 0; i < alpha; i++) {
      for (;;) {
        if (curr < 1 || curr > MAX_CODE_LEN) fail("bad code length");
        if (!br.bit()) break;
        curr += br.bit() ? -1 : 1;
      }
      lengths[i] = curr;
    }
    tables.push(makeTable(lengths, alpha));
  }
  // MTF + RLE2 symbols
  const mtf = new Uint8Array(256);
  for (let i = 0; i < 256; i++) mtf[i] = i;
  const eob = nInUse + 1;
  let nblock = 0;
  let groupLeft = 0;
  let sel = 0;
  let table = tables[0]!;
  let run = 0;
  let runWeight = 1;
  for (;;) {
    if (groupLeft === 0) {
      if (sel >= selectors.length) fail("ran out of selectors");
      const g = selectors[sel++]!;
      table = tables[g]!;
      groupLeft = GROUP_SIZE;
    }
    groupLeft--;
    const sym = decodeSymbol(br, table, alpha);
    if (sym <= 1) {
      run += (sym + 1) * runWeight;
      runWeight *= 2;
      if (run > maxBlock) fail("run longer than the block size");
      continue;
    }
    if (run > 0) {
      if (nblock + run > maxBlock) fail("block larger than its declared size");
      const m0 = mtf[0]!;
      const b = seqToUnseq[m0]!;
      tt.fill(b, nblock, nblock + run);
      nblock += run;
      run = 0;
      runWeight = 1;
    }
    if (sym === eob) break;
    if (nblock >= maxBlock) fail("block larger than its declared size");
    let v = sym - 1;
    const tmp = mtf[v]!;
    while (v > 0) {
      mtf[v] = mtf[v - 1]!;
      v--;
    }
    mtf[0] = tmp;
    tt[nblock++] = seqToUnseq[tmp]!;
  }
  if (origPtr >= nblock) fail(`origPtr ${origPtr} outside a block of ${nblock} bytes`);
  return { nblock, origPtr };
}

/** Inverse BWT + RLE1 of one block into out; returns the output CRC. */
function emitBlock(tt: Int32Array, nblock: number, origPtr: number, out: OutputBuffer): number {
  const cftab = new Int32Array(257);
  for (let i = 0; i < nblock; i++) cftab[(tt[i]! & 0xff) + 1]!++;
  for (let i = 1; i < 257; i++) cftab[i]! += cftab[i - 1]!;
  for (let i = 0; i < nblock; i++) {
    const b = tt[i]! & 0xff;
    tt[cftab[b]!]! |= i << 8;
    cftab[b]!++;
  }
  const start = out.pos;
  let tPos = tt[origPtr]! >>> 8;
  let last = -1;
  let same = 0;
  for (let i = 0; i < nblock; i++) {
    const e = tt[tPos]!;
    const ch = e & 0xff;
    tPos = e >>> 8;
    if (same === 4) {
      // ch is a repeat count for the previous byte
      if (ch > 0) {
        out.ensure(ch);
        out.buf.fill(last, out.pos, out.pos + ch);
        out.pos += ch;
      }
      same = 0;
      last = -1;
      continue;
    }
    if (ch === last) same++;
    else {
      last = ch;
      same = 1;
    }
    if (out.pos >= out.buf.length) out.ensure(1 << 16);
    out.buf[out.pos++] = ch;
  }
  return crc32be(out.buf, start, out.pos) ^ 0xffffffff;
}

export interface Bzip2Result {
  data: Uint8Array;
  /** Input bytes consumed (whole streams). */
  consumed: number;
}

/** Decode concatenated bzip2 streams at input[0]; bytes after the last stream are left. */
export function decodeBzip2(input: Uint8Array, opts: DecodeOptions = {}): Bzip2Result {
  if (!isBzip2(input)) fail("no bzip2 magic BZh1..BZh9");
  const out = new OutputBuffer("bzip2", opts);
  let pos = 0;
  let tt: Int32Array | undefined;
  while (pos + 4 <= input.length && isBzip2(input.subarray(pos, pos + 4))) {
    const level = input[pos + 3]! - 0x30;
    const maxBlock = level * 100000;
    if (!tt || tt.length < maxBlock) tt = new Int32Array(maxBlock);
    const br = new BitReader(input, pos + 4);
    let combined = 0;
    for (;;) {
      const m1 = br.bits(24);
      const m2 = br.bits(24);
      if (m1 === 0x177245 && m2 === 0x385090) {
        const want = ((br.bits(16) << 16) | br.bits(16)) >>> 0;
        if (want !== combined)
          fail(`stream CRC 0x${combined.toString(16)} differs from 0x${want.toString(16)}`);
        br.align();
        break;
      }
      if (m1 !== 0x314159 || m2 !== 0x265359)
        fail(`bad block magic at input offset 0x${br.pos.toString(16)}`);
      const want = ((br.bits(16) << 16) | br.bits(16)) >>> 0;
      tt.fill(0, 0, maxBlock);
      const { nblock, origPtr } = readBlock(br, tt, maxBlock);
      const crc = emitBlock(tt, nblock, origPtr, out) >>> 0;
      if (crc !== want)
        fail(`block CRC 0x${crc.toString(16)} differs from 0x${want.toString(16)} (corrupt data)`);
      combined = (((combined << 1) | (combined >>> 31)) ^ crc) >>> 0;
      out.flush(); // streaming: a block at a time (at most ~46 MB of runs from 900 kB)
    }
    pos = br.pos;
  }
  return { data: out.result(), consumed: pos };
}
