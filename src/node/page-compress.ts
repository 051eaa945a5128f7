/**
 * Page compressors for `convert` on Node, shared by the main thread and the compression
 * workers (compress-worker.ts). Choices measured on the corpus' 6.1 vmcore (CPU per 4 KiB page
 * of kernel text, the hardest pages): node:zlib ≈ 42–52 µs at level 1, ~20% more at the level 5
 * used (ZLIB_LEVEL; fflate ≈ 137 µs); zstd through our WebAssembly encoder ≈ 21 µs (libzstd
 * level 1 compiled to WebAssembly, @bokuweb/zstd-wasm, was ~28 µs with one context kept and
 * wrote 0.3% more); our LZO1X in WebAssembly ≈ 8–9 µs
 * (the TypeScript build of it 12–19 µs); our snappy ≈ 10 µs.
 */
import { createRequire } from "node:module";
import { DeflateWasmEncoder } from "../codecs/deflate-encode.js";
import { Lzo1xEncoder, Lzo1xWasmEncoder } from "../codecs/lzo1x-encode.js";
import type { PageBatchCompress } from "../codecs/page-batch.js";
import {
  DUMP_DH_COMPRESSED_LZO,
  DUMP_DH_COMPRESSED_SNAPPY,
  DUMP_DH_COMPRESSED_ZLIB,
  DUMP_DH_COMPRESSED_ZSTD,
  type PageCodecName,
} from "../codecs/pages.js";
import { SnappyEncoder } from "../codecs/snappy-encode.js";
import { ZstdWasmEncoder } from "../codecs/zstd-encode.js";
import { UnsupportedError } from "../errors.js";
import type { ZlibHandle } from "./dump.js";

// node:zlib is loaded on first use: the WebAssembly encoders need none of it, and a compression
// worker's start-up is on the critical path of `convert` (it loads streams and a native binding)
let zlibModule: typeof import("node:zlib") | undefined;
function zlib(): typeof import("node:zlib") {
  zlibModule ??= createRequire(import.meta.url)("node:zlib") as typeof import("node:zlib");
  return zlibModule;
}

export const COMPRESS_FLAGS: Record<PageCodecName, number> = {
  zlib: DUMP_DH_COMPRESSED_ZLIB,
  lzo: DUMP_DH_COMPRESSED_LZO,
  snappy: DUMP_DH_COMPRESSED_SNAPPY,
  zstd: DUMP_DH_COMPRESSED_ZSTD,
};

/** A page compressor; `pages`, where there is one, compresses whole batches (convert/batch.ts). */
type Compress = ((page: Uint8Array) => Uint8Array) & { pages?: PageBatchCompress };

/**
 * A page compressor for `codec` (async: the zstd WASM module instantiates asynchronously).
 * Each call returns bytes valid until the next call.
 */
export async function pageCompressor(codec: PageCodecName): Promise<Compress> {
  switch (codec) {
    case "zlib": {
      // node:zlib's deflate, built on first use (a deflate state is ~256 KiB and a stream object)
      let nativeFn: ((p: Uint8Array) => Uint8Array) | undefined;
      const native = (p: Uint8Array) => {
        nativeFn ??= reusedDeflate() ?? ((q: Uint8Array) => zlib().deflateSync(q, { level: ZLIB_LEVEL }));
        return nativeFn(p);
      };
      // our WebAssembly deflate (greedy setting: smaller than makedumpfile's zlib level 1 and
      // cheaper than node:zlib level 5); node:zlib where WebAssembly cannot run, and for pages
      // beyond its 64 KiB input
      const e = DeflateWasmEncoder.create(1);
      if (!e) return native;
      return Object.assign((p: Uint8Array) => (p.length <= e.maxInput ? e.compress(p) : native(p)), {
        pages: e.compressPages,
      });
    }
    case "lzo": {
      // the WebAssembly build of our encoder (same bytes, ~4× faster); the TypeScript one where
      // WebAssembly cannot run
      const w = Lzo1xWasmEncoder.create();
      if (w) return Object.assign((p: Uint8Array) => w.compress(p), { pages: w.compressPages });
      const e = new Lzo1xEncoder();
      return (p) => e.compress(p);
    }
    case "snappy": {
      const e = new SnappyEncoder();
      return (p) => e.compress(p);
    }
    case "zstd": {
      // our WebAssembly encoder (wasm/zstd-encode.ts): level-1-like frames, no larger than
      // libzstd's level 1 and ~25% cheaper than libzstd compiled to WebAssembly
      const w = ZstdWasmEncoder.create();
      if (w)
        return Object.assign(
          (p: Uint8Array) => (p.length <= w.maxInput ? w.compress(p) : zstdFallback()(p)),
          {
            pages: w.compressPages,
          },
        );
      return zstdFallback();
    }
  }
}

let zstdFallbackFn: ((p: Uint8Array) => Uint8Array) | undefined;

/**
 * Where our encoder cannot run (no WebAssembly) or for pages over 64 KiB: node:zlib's zstd
 * (Node ≥ 22.15) at level 1, as makedumpfile -z.
 */
function zstdFallback(): (p: Uint8Array) => Uint8Array {
  if (zstdFallbackFn) return zstdFallbackFn;
  const native = (zlib() as unknown as { zstdCompressSync?: (b: Uint8Array, o?: object) => Uint8Array })
    .zstdCompressSync;
  if (!native)
    throw new UnsupportedError(
      "zstd compression here: our WebAssembly encoder could not start (no WebAssembly, or no address space for its memory: ulimit -v?) and node:zlib has zstd only from Node 22.15",
    );
  const params = {
    params: { [(zlib().constants as Record<string, number>).ZSTD_c_compressionLevel ?? 100]: 1 },
  };
  zstdFallbackFn = (p) => native(p, params);
  return zstdFallbackFn;
}

/**
 * makedumpfile -c calls compress2(Z_BEST_SPEED) with the system's zlib. Node's bundled zlib
 * (Chromium's) writes level-1 streams ~4% larger than Debian's zlib 1.2/1.3 on kernel pages, so
 * level 1 would make a larger file. Measured on the 15,250 non-zero pages the corpus' 6.1 vmcore
 * keeps at -d 31 (bytes of page data; makedumpfile's file holds ~17.00 MB): level 1 17.66 MB,
 * 2 17.28, 3 17.14, 4 17.13, 5 16.72 MB, 6 16.64 MB; memLevel 9 or windowBits 12 change less
 * than 0.2%. Level 5 is the cheapest that is no larger, at ~20% more CPU than level 1.
 */
const ZLIB_LEVEL = 5;

/** zlib.h's Z_FINISH (node:zlib's constants would load the module for one number). */
const Z_FINISH = 4;

/** The same native handle as inflate's (src/node/dump.ts), here under a deflate stream. */
type DeflateHandle = ZlibHandle;

/**
 * One deflate state (ZLIB_LEVEL, zlib's defaults otherwise: the bytes deflateSync writes) reused
 * for every page through the handle node:zlib itself drives (as src/node/dump.ts does for
 * inflate): zlib.deflateSync builds a z_stream, a Transform and a Buffer per call, a fixed cost
 * per 4 KiB page. The output buffer is one page: a page whose stream does not fit is stored raw
 * anyway, so then the page-sized view is returned (the callers' "did not shrink"). Undefined
 * where the handle is not there (another runtime): deflateSync then.
 */
function reusedDeflate(): ((p: Uint8Array) => Uint8Array) | undefined {
  const engine = zlib().createDeflate({ level: ZLIB_LEVEL }) as unknown as {
    _handle?: DeflateHandle;
    _writeState?: Uint32Array;
  };
  const handle = engine._handle;
  const state = engine._writeState;
  if (!handle || typeof handle.writeSync !== "function" || typeof handle.reset !== "function" || !state)
    return undefined;
  let failed: string | undefined;
  handle.onerror = (message) => {
    failed = message;
  };
  let out = new Uint8Array(0);
  return (p) => {
    if (out.length !== p.length) out = new Uint8Array(p.length);
    failed = undefined;
    handle.writeSync(Z_FINISH, p, 0, p.length, out, 0, out.length);
    const availOut = state[0]!;
    const availIn = state[1]!;
    handle.reset();
    if (failed !== undefined) throw new Error(`zlib deflate: ${failed}`);
    // not finished within one page (availOut 0, or input left): store the page raw
    if (availOut === 0 || availIn !== 0) return out;
    return out.subarray(0, out.length - availOut);
  };
}
