/**
 * Page codecs: the per-page compressions of kdump-compressed files (makedumpfile's
 * DUMP_DH_COMPRESSED_* flags). One registry so that a faster platform decoder (node:zlib,
 * injected from src/node/) can replace the portable one without the core importing Node; the
 * portable zlib (fflate) and zstd (fzstd) decoders live in codecs/portable.ts so that a Node
 * process that does not use them does not pay for loading them (~60 ms measured).
 */
import { lzo1xPage } from "./lzo1x-wasm.js";
import { lzoRunDecoder, type PageRunDecoder } from "./page-run.js";
import { snappyDecompress } from "./snappy.js";

export type PageCodecName = "zlib" | "lzo" | "snappy" | "zstd";

/**
 * Decompress `src` so that it fills `dst` exactly (a page); throw DecompressError (with
 * `context`, e.g. "pfn 0x1234") otherwise. Returns the number of bytes written.
 */
export type PageDecoder = (src: Uint8Array, dst: Uint8Array, context?: string) => number;

export type PageCodecs = Record<PageCodecName, PageDecoder> & {
  /**
   * Decoders of whole runs of pages in one call (codecs/page-run.ts), by codec, where one gives
   * the same pages and failures as the page decoder: the kdump reader uses them for reads of
   * many pages (undefined from the function: WebAssembly cannot run here).
   */
  runs?: Partial<Record<PageCodecName, () => PageRunDecoder | undefined>>;
};

/**
 * The decoders of this package (no dependencies, cheap to load): lzo in WebAssembly where it
 * runs (lzo1x-wasm.ts), else TypeScript, like snappy.
 */
export const builtinPageCodecs = Object.freeze({
  lzo: lzo1xPage,
  snappy: (s: Uint8Array, d: Uint8Array, c?: string) => snappyDecompress(s, d, c, true),
  runs: Object.freeze({ lzo: lzoRunDecoder }),
});

/** A page compressor for the kdump writer: the page_desc flag it sets and the function. */
export type PageCompressor = { flag: number; fn: (page: Uint8Array) => Uint8Array | undefined };

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
