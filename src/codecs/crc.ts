/**
 * Checksums used by the payload containers: CRC-32 (IEEE, reflected: gzip, xz, lzop's
 * optional crc32), CRC-32 in bzip2's non-reflected form, CRC-64 (ECMA-182, reflected: xz),
 * Adler-32 (lzop). Table driven, slicing-by-1; on the 65 MB vmlinux CRC-32 costs ~0.1 s.
 */

const CRC32_TABLE = /* @__PURE__ */ (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Slicing-by-4 tables: T[k][n] = CRC of byte n followed by k zero bytes (3x the speed of 1). */
const CRC32_SLICE = /* @__PURE__ */ (() => {
  const t = new Int32Array(256 * 4);
  t.set(CRC32_TABLE);
  for (let n = 0; n < 256; n++) {
    let c = CRC32_TABLE[n]!;
    for (let k = 1; k < 4; k++) {
      c = CRC32_TABLE[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of data, continuing from `crc` (0 to start). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  const t = CRC32_SLICE;
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

const CRC32_BE_TABLE = /* @__PURE__ */ (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[n] = c;
  }
  return t;
})();

/** bzip2's CRC-32: same polynomial, MSB first, no reflection. */
export function crc32be(data: Uint8Array, start: number, end: number, crc = 0xffffffff): number {
  let c = crc | 0;
  const t = CRC32_BE_TABLE;
  for (let i = start; i < end; i++) {
    const d = data[i]!;
    c = t[((c >>> 24) ^ d) & 0xff]! ^ (c << 8);
  }
  return c >>> 0;
}

/** CRC-64/XZ table as [lo, hi] uint32 pairs (no BigInt in the loop). */
const CRC64_TABLE = /* @__PURE__ */ (() => {
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
})();

/** CRC-64/XZ of data as a bigint. */
export function crc64(data: Uint8Array): bigint {
  const { lo: tl, hi: th } = CRC64_TABLE;
  let l = 0xffffffff;
  let h = 0xffffffff;
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

const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;
const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M64;
const round = (acc: bigint, input: bigint) => (rotl((acc + input * P2) & M64, 31n) * P1) & M64;
const merge = (acc: bigint, v: bigint) => ((acc ^ round(0n, v)) * P1 + P4) & M64;

/**
 * XXH64 (seed 0): zstd's content checksum is its low 32 bits. BigInt arithmetic (~30 MB/s):
 * only used to verify zstd payloads, which fzstd does not check.
 */
export function xxh64(data: Uint8Array): bigint {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = data.length;
  let p = 0;
  let h: bigint;
  if (n >= 32) {
    let v1 = (P1 + P2) & M64;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (M64 + 1n - P1) & M64;
    for (; p + 32 <= n; p += 32) {
      v1 = round(v1, v.getBigUint64(p, true));
      v2 = round(v2, v.getBigUint64(p + 8, true));
      v3 = round(v3, v.getBigUint64(p + 16, true));
      v4 = round(v4, v.getBigUint64(p + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else h = P5;
  h = (h + BigInt(n)) & M64;
  for (; p + 8 <= n; p += 8) h = (rotl(h ^ round(0n, v.getBigUint64(p, true)), 27n) * P1 + P4) & M64;
  if (p + 4 <= n) {
    h = (rotl(h ^ ((BigInt(v.getUint32(p, true)) * P1) & M64), 23n) * P2 + P3) & M64;
    p += 4;
  }
  for (; p < n; p++) h = (rotl(h ^ ((BigInt(data[p]!) * P5) & M64), 11n) * P1) & M64;
  h ^= h >> 33n;
  h = (h * P2) & M64;
  h ^= h >> 29n;
  h = (h * P3) & M64;
  h ^= h >> 32n;
  return h;
}
