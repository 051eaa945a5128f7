/**
 * Page codecs: the per-page compressions of kdump-compressed files (makedumpfile's
 * DUMP_DH_COMPRESSED_* flags). One registry so that a faster platform decoder (node:zlib,
 * injected from src/node/) can replace the portable one without the core importing Node.
 */
import { lzo1xDecompress } from "./lzo1x.js";
import { snappyDecompress } from "./snappy.js";
import { zlibDecompress } from "./zlib.js";
import { zstdDecompress } from "./zstd.js";

export type PageCodecName = "zlib" | "lzo" | "snappy" | "zstd";

/**
 * Decompress `src` so that it fills `dst` exactly (a page); throw DecompressError (with
 * `context`, e.g. "pfn 0x1234") otherwise. Returns the number of bytes written.
 */
export type PageDecoder = (src: Uint8Array, dst: Uint8Array, context?: string) => number;

export type PageCodecs = Record<PageCodecName, PageDecoder>;

/** The portable decoders (pure TypeScript / JS; run in the browser). */
export const portablePageCodecs: Readonly<PageCodecs> = Object.freeze({
  zlib: (s: Uint8Array, d: Uint8Array, c?: string) => zlibDecompress(s, d, c, true),
  lzo: (s: Uint8Array, d: Uint8Array, c?: string) => lzo1xDecompress(s, d, c, true),
  snappy: (s: Uint8Array, d: Uint8Array, c?: string) => snappyDecompress(s, d, c, true),
  zstd: (s: Uint8Array, d: Uint8Array, c?: string) => zstdDecompress(s, d, c, true),
});

/** The portable codecs with some replaced (e.g. `{ zlib: nodeZlib }`). */
export function pageCodecs(overrides?: Partial<PageCodecs>): PageCodecs {
  return { ...portablePageCodecs, ...overrides };
}

/** makedumpfile's page_desc.flags bits (diskdump_mod.h). */
export const DUMP_DH_COMPRESSED_ZLIB = 0x1;
export const DUMP_DH_COMPRESSED_LZO = 0x2;
export const DUMP_DH_COMPRESSED_SNAPPY = 0x4;
export const DUMP_DH_COMPRESSED_ZSTD = 0x20;

/** The codec a page descriptor's flags select, or undefined for a raw page. */
export function codecForFlags(flags: number): PageCodecName | undefined {
  if (flags & DUMP_DH_COMPRESSED_ZLIB) return "zlib";
  if (flags & DUMP_DH_COMPRESSED_LZO) return "lzo";
  if (flags & DUMP_DH_COMPRESSED_SNAPPY) return "snappy";
  if (flags & DUMP_DH_COMPRESSED_ZSTD) return "zstd";
  return undefined;
}
