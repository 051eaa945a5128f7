/**
 * A small synthetic machine for the dump tests: which pages exist, which are dumped, their
 * bytes; plus minimal encoders that produce valid lzo1x / snappy / zstd page streams (the
 * library only decodes these; real lzo pages are covered by the real-dump tests).
 */
import {
  DUMP_DH_COMPRESSED_LZO,
  DUMP_DH_COMPRESSED_SNAPPY,
  DUMP_DH_COMPRESSED_ZSTD,
} from "../../../src/codecs/pages.js";
import { fflateZlibCompressor } from "../../../src/codecs/portable.js";
import type { KdumpPageSource, PageCompressor } from "../../../src/convert/kdump.js";
import type { Dump, PageRun } from "../../../src/dump/index.js";

export interface Machine extends KdumpPageSource {
  /** Expected bytes of a dumped page. */
  page(pfn: number): Uint8Array;
}

/**
 * pfns 0..maxPfn−1: holes at pfn % 17 === 5, excluded at pfn % 7 === 3, zero pages at
 * pfn % 11 === 4, uniform pages (one byte repeated: compressible by the tiny encoders) at
 * pfn % 2 === 0, the rest pseudo-random.
 */
export function machine(maxPfn = 300, pageSize = 4096): Machine {
  const page = (pfn: number) => {
    const b = new Uint8Array(pageSize);
    if (pfn % 11 === 4) return b;
    if (pfn % 2 === 0) return b.fill((pfn * 7 + 1) & 0xff || 1);
    let x = (pfn * 2654435761) >>> 0 || 1;
    for (let i = 0; i < pageSize; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      b[i] = x & 0xff;
    }
    return b;
  };
  return {
    pageSize,
    maxPfn,
    exists: (pfn) => pfn % 17 !== 5,
    dumpable: (pfn) => pfn % 17 !== 5 && pfn % 7 !== 3,
    readPage: (pfn, into) => into.set(page(pfn)),
    page,
  };
}

function uniformByte(p: Uint8Array): number | undefined {
  const v = p[0]!;
  for (let i = 1; i < p.length; i++) if (p[i] !== v) return undefined;
  return v;
}

/** lzo1x: one literal, then a distance-1 match over the rest (001LLLLL long form), end marker. */
export function lzoUniform(p: Uint8Array): Uint8Array | undefined {
  const v = uniformByte(p);
  if (v === undefined) return undefined;
  const out = [18, v, 0x20];
  let rest = p.length - 1 - 33; // 001 00000: length 33 + 255·zeros + byte
  while (rest > 255) {
    out.push(0);
    rest -= 255;
  }
  out.push(rest, 0, 0, 0x11, 0, 0);
  return Uint8Array.from(out);
}

/** snappy: varint length, one literal, copies of 64 bytes at offset 1. */
export function snappyUniform(p: Uint8Array): Uint8Array | undefined {
  const v = uniformByte(p);
  if (v === undefined) return undefined;
  const out: number[] = [];
  let n = p.length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n, 0, v);
  let rest = p.length - 1;
  while (rest > 0) {
    const len = Math.min(64, rest);
    out.push(((len - 1) << 2) | 2, 1, 0);
    rest -= len;
  }
  return Uint8Array.from(out);
}

/** zstd: one frame with a single RLE block (single segment, 2-byte content size). */
export function zstdUniform(p: Uint8Array): Uint8Array | undefined {
  const v = uniformByte(p);
  if (v === undefined || p.length < 256 || p.length > 65791) return undefined;
  const fcs = p.length - 256;
  const bh = 1 | (1 << 1) | (p.length << 3);
  return Uint8Array.from([
    0x28,
    0xb5,
    0x2f,
    0xfd,
    0x60,
    fcs & 0xff,
    fcs >> 8,
    bh & 0xff,
    (bh >> 8) & 0xff,
    bh >> 16,
    v,
  ]);
}

export const COMPRESSORS: Record<string, PageCompressor | "none"> = {
  none: "none",
  zlib: fflateZlibCompressor,
  lzo: { flag: DUMP_DH_COMPRESSED_LZO, fn: lzoUniform },
  snappy: { flag: DUMP_DH_COMPRESSED_SNAPPY, fn: snappyUniform },
  zstd: { flag: DUMP_DH_COMPRESSED_ZSTD, fn: zstdUniform },
};

/**
 * The memory map a dump should report, found pfn by pfn through `stateAt` (the definition
 * `memoryMap()` summarises in one pass): runs of equal states, holes not listed.
 */
export function mapByPages(d: Dump): PageRun[] {
  const out: PageRun[] = [];
  const ps = d.pageSize;
  const pages = Math.ceil(d.maxAddress / ps);
  for (let pfn = 0; pfn < pages; pfn++) {
    const st = d.stateAt(pfn * ps);
    const last = out[out.length - 1];
    if (st === undefined) continue;
    if (last && last.end === pfn * ps && last.state === st) last.end += ps;
    else out.push({ start: pfn * ps, end: (pfn + 1) * ps, state: st });
  }
  return out;
}
