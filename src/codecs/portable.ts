/**
 * The portable page codecs: everything in TypeScript/JS, runs in the browser. zlib via fflate,
 * zstd via fzstd, lzo and snappy from this folder.
 */
import { zlibSync } from "fflate";
import { builtinPageCodecs, DUMP_DH_COMPRESSED_ZLIB, type PageCodecs, type PageCompressor } from "./pages.js";
import { zlibDecompress } from "./zlib.js";
import { zstdDecompress } from "./zstd.js";

export const portablePageCodecs: Readonly<PageCodecs> = Object.freeze({
  ...builtinPageCodecs,
  zlib: (s: Uint8Array, d: Uint8Array, c?: string) => zlibDecompress(s, d, c, true),
  zstd: (s: Uint8Array, d: Uint8Array, c?: string) => zstdDecompress(s, d, c, true),
});

/** The portable codecs with some replaced (e.g. `{ zlib: nodeZlib }`). */
export function pageCodecs(overrides?: Partial<PageCodecs>): PageCodecs {
  return { ...portablePageCodecs, ...overrides };
}

/** zlib page compression as makedumpfile -c writes it (compress2), via fflate, level 1. */
export const fflateZlibCompressor: PageCompressor = {
  flag: DUMP_DH_COMPRESSED_ZLIB,
  fn: (p) => zlibSync(p, { level: 1 }),
};
