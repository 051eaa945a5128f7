/**
 * Checksums used by the payload containers: CRC-32 (IEEE, reflected: gzip, xz, lzop's
 * optional crc32), CRC-32 in bzip2's non-reflected form, CRC-64 (ECMA-182, reflected: xz),
 * Adler-32 (lzop). Table driven, slicing-by-1; on the 65 MB vmlinux CRC-32 costs ~0.1 s.
 * The tables are built on first use: module evaluation is on every CLI run's path.
 */

let CRC32_TABLE_: ReturnType<typeof make_CRC32_TABLE> | undefined;
function make_CRC32_TABLE() {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}
function crc32table() {
  if (!CRC32_TABLE_) CRC32_TABLE_ = make_CRC32_TABLE();
  return CRC32_TABLE_;
}

/** Slicing-by-4 tables: T[k][n] = CRC of byte n followed by k zero bytes (3x the speed of 1). */
let CRC32_SLICE_: ReturnType<typeof make_CRC32_SLICE> | undefined;
function make_CRC32_SLICE() {
  const t = new Int32Array(256 * 4);
  const base = crc32table();
  t.set(base);
  for (let n = 0; n < 256; n++) {
    let c = base[n]!;
    for (let k = 1; k < 4; k++) {
      c = base[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
}
function crc32slice() {
  if (!CRC32_SLICE_) CRC32_SLICE_ = make_CRC32_SLICE();
  return CRC32_SLICE_;
}

/** CRC-32 (IEEE 802.3) of data, continuing from `crc` (0 to start). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  const t = crc32slice();
  const n = data.length;
  let i = 0;
  const n4 = n - (n & 3);
  for (; i < n4; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < n; i++) {
    const d = data[i]!;
    c = t[(c ^ d) & 0xff]! ^ (c >>> 8);
  }
  return ~c >>> 0;
}

let CRC32_BE_TABLE_: ReturnType<typeof make_CRC32_BE_TABLE> | undefined;
function make_CRC32_BE_TABLE() {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[n] = c;
  }
  return t;
}
function crc32betable() {
  if (!CRC32_BE_TABLE_) CRC32_BE_TABLE_ = make_CRC32_BE_TABLE();
  return CRC32_BE_TABLE_;
}

/** bzip2's CRC-32: same polynomial, MSB first, no reflection. */
export function crc32be(data: Uint8Array, start: number, end: number, crc = 0xffffffff): number {
  let c = crc | 0;
  const t = crc32betable();
  for (let i = start; i < end; i++) {
    const d = data[i]!;
    c = t[((c >>> 24) ^ d) & 0xff]! ^ (c << 8);
  }
  return c >>> 0;
}

/** CRC-64/XZ table as [lo, hi] uint32 pairs (no BigInt in the loop). */
let CRC64_TABLE_: ReturnType<typeof make_CRC64_TABLE> | undefined;
function make_CRC64_TABLE() {
  const lo = new Uint32Array(256);
  const hi = new Uint32Array(256);
  // polynomial 0xC96C5795D7870F42 (reflected ECMA-182)
  const pLo = 0xd7870f42;
  const pHi = 0xc96c5795;
  for (let n = 0; n < 256; n++) {
    let l = n;
    let h = 0;
    for (let k = 0; k < 8; k++) {
      const bit = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (bit) {
        l = (l ^ pLo) >>> 0;
        h = (h ^ pHi) >>> 0;
      }
    }
    lo[n] = l;
    hi[n] = h;
  }
  return { lo, hi };
}
function crc64table() {
  if (!CRC64_TABLE_) CRC64_TABLE_ = make_CRC64_TABLE();
  return CRC64_TABLE_;
}

/** CRC-64/XZ of data as a bigint, continuing from `crc` (0n to start). */
export function crc64(data: Uint8Array, crc = 0n): bigint {
  const { lo: tl, hi: th } = crc64table();
  let l = ~Number(crc & 0xffffffffn) >>> 0;
  let h = ~Number(crc >> 32n) >>> 0;
  for (let i = 0; i < data.length; i++) {
    const idx = (l ^ data[i]!) & 0xff;
    l = (((l >>> 8) | (h << 24)) ^ tl[idx]!) >>> 0;
    h = ((h >>> 8) ^ th[idx]!) >>> 0;
  }
  return (BigInt(~h >>> 0) << 32n) | BigInt(~l >>> 0);
}

/** Adler-32 (lzop's default checksum). */
export function adler32(data: Uint8Array, start = 0, end = data.length, adler = 1): number {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  let i = start;
  while (i < end) {
    const n = Math.min(end, i + 5552);
    for (; i < n; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * XXH64 (seed 0), zstd's content checksum (its low 32 bits). 64-bit lanes as uint32 halves
 * (BigInt arithmetic ran at ~45 MB/s on a 65 MB vmlinux; this at several hundred MB/s).
 */
const P1H = 0x9e3779b1;
const P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d;
const P2L = 0x27d4eb4f;
const P3H = 0x165667b1;
const P3L = 0x9e3779f9;
const P4H = 0x85ebca77;
const P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f;
const P5L = 0x165667c5;

/** Result registers of the 64-bit helpers (no allocation per operation). */
let RH = 0;
let RL = 0;

function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  RL = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  RH =
    (a1 * b1 +
      (p01 >>> 16) +
      (p10 >>> 16) +
      Math.floor(mid / 65536) +
      Math.imul(al, bh) +
      Math.imul(ah, bl)) >>>
    0;
}

function add64(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  RL = lo >>> 0;
  RH = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Rotate left by r, 0 < r < 32. */
function rotl64(h: number, l: number, r: number): void {
  RH = ((h << r) | (l >>> (32 - r))) >>> 0;
  RL = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** acc = rotl(acc + input * P2, 31) * P1 */
function round64(ah: number, al: number, ih: number, il: number): void {
  mul64(ih, il, P2H, P2L);
  add64(ah, al, RH, RL);
  rotl64(RH, RL, 31);
  mul64(RH, RL, P1H, P1L);
}

/** acc = (acc ^ round(0, v)) * P1 + P4 */
function merge64(ah: number, al: number, vh: number, vl: number): void {
  round64(0, 0, vh, vl);
  mul64((ah ^ RH) >>> 0, (al ^ RL) >>> 0, P1H, P1L);
  add64(RH, RL, P4H, P4L);
}

/**
 * XXH64 (seed 0) over data given in pieces: the 32-byte stripes go through the four lanes as
 * they arrive, a partial stripe waits in `tail` (zstd's content checksum of a streamed frame).
 */
export class Xxh64 {
  private readonly v = new Uint32Array(8);
  private readonly tail = new Uint8Array(32);
  private tailLen = 0;
  private total = 0;

  constructor() {
    const v = this.v;
    add64(P1H, P1L, P2H, P2L);
    v[0] = RH;
    v[1] = RL;
    v[2] = P2H;
    v[3] = P2L;
    // 0 - P1
    add64(~P1H >>> 0, ~P1L >>> 0, 0, 1);
    v[6] = RH;
    v[7] = RL;
  }

  private stripes(d: Uint8Array, p: number, end: number): number {
    const v = this.v;
    const u32 = (q: number) => (d[q]! | (d[q + 1]! << 8) | (d[q + 2]! << 16) | (d[q + 3]! << 24)) >>> 0;
    let v1h = v[0]!;
    let v1l = v[1]!;
    let v2h = v[2]!;
    let v2l = v[3]!;
    let v3h = v[4]!;
    let v3l = v[5]!;
    let v4h = v[6]!;
    let v4l = v[7]!;
    for (; p + 32 <= end; p += 32) {
      round64(v1h, v1l, u32(p + 4), u32(p));
      v1h = RH;
      v1l = RL;
      round64(v2h, v2l, u32(p + 12), u32(p + 8));
      v2h = RH;
      v2l = RL;
      round64(v3h, v3l, u32(p + 20), u32(p + 16));
      v3h = RH;
      v3l = RL;
      round64(v4h, v4l, u32(p + 28), u32(p + 24));
      v4h = RH;
      v4l = RL;
    }
    v[0] = v1h;
    v[1] = v1l;
    v[2] = v2h;
    v[3] = v2l;
    v[4] = v3h;
    v[5] = v3l;
    v[6] = v4h;
    v[7] = v4l;
    return p;
  }

  update(data: Uint8Array): this {
    this.total += data.length;
    let p = 0;
    if (this.tailLen > 0) {
      const n = Math.min(32 - this.tailLen, data.length);
      this.tail.set(data.subarray(0, n), this.tailLen);
      this.tailLen += n;
      p = n;
      if (this.tailLen < 32) return this;
      this.stripes(this.tail, 0, 32);
      this.tailLen = 0;
    }
    p = this.stripes(data, p, data.length);
    this.tail.set(data.subarray(p), 0);
    this.tailLen = data.length - p;
    return this;
  }

  digest(): bigint {
    const v = this.v;
    const n = this.total;
    const data = this.tail;
    const end = this.tailLen;
    const u32 = (p: number) =>
      (data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24)) >>> 0;
    let hh: number;
    let hl: number;
    if (n >= 32) {
      rotl64(v[0]!, v[1]!, 1);
      let th = RH;
      let tl = RL;
      rotl64(v[2]!, v[3]!, 7);
      add64(th, tl, RH, RL);
      th = RH;
      tl = RL;
      rotl64(v[4]!, v[5]!, 12);
      add64(th, tl, RH, RL);
      th = RH;
      tl = RL;
      rotl64(v[6]!, v[7]!, 18);
      add64(th, tl, RH, RL);
      merge64(RH, RL, v[0]!, v[1]!);
      merge64(RH, RL, v[2]!, v[3]!);
      merge64(RH, RL, v[4]!, v[5]!);
      merge64(RH, RL, v[6]!, v[7]!);
      hh = RH;
      hl = RL;
    } else {
      hh = P5H;
      hl = P5L;
    }
    add64(hh, hl, Math.floor(n / 2 ** 32), n >>> 0);
    hh = RH;
    hl = RL;
    let p = 0;
    for (; p + 8 <= end; p += 8) {
      round64(0, 0, u32(p + 4), u32(p));
      rotl64((hh ^ RH) >>> 0, (hl ^ RL) >>> 0, 27);
      mul64(RH, RL, P1H, P1L);
      add64(RH, RL, P4H, P4L);
      hh = RH;
      hl = RL;
    }
    if (p + 4 <= end) {
      mul64(0, u32(p), P1H, P1L);
      rotl64((hh ^ RH) >>> 0, (hl ^ RL) >>> 0, 23);
      mul64(RH, RL, P2H, P2L);
      add64(RH, RL, P3H, P3L);
      hh = RH;
      hl = RL;
      p += 4;
    }
    for (; p < end; p++) {
      mul64(0, data[p]!, P5H, P5L);
      rotl64((hh ^ RH) >>> 0, (hl ^ RL) >>> 0, 11);
      mul64(RH, RL, P1H, P1L);
      hh = RH;
      hl = RL;
    }
    // avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32
    hl = (hl ^ (hh >>> 1)) >>> 0;
    mul64(hh, hl, P2H, P2L);
    hh = RH;
    hl = (RL ^ ((RL >>> 29) | (RH << 3))) >>> 0;
    hh = (hh ^ (hh >>> 29)) >>> 0;
    mul64(hh, hl, P3H, P3L);
    hh = RH;
    hl = (RL ^ RH) >>> 0;
    return (BigInt(hh) << 32n) | BigInt(hl);
  }
}

export function xxh64(data: Uint8Array): bigint {
  return new Xxh64().update(data).digest();
}
