/**
 * The page codecs of Node (node:zlib's inflate through one reused handle for single pages, the
 * WebAssembly run decoders for runs of zlib and lzo pages, zstd, the built-in lzo/snappy): a
 * module of their own so that the decode-ahead worker (decode-worker.ts) loads
 * only these, not the dump readers.
 */
import { createRequire } from "node:module";
import { lzoRunDecoder, zlibRunDecoder } from "../codecs/page-run.js";
import {
  builtinPageCodecs,
  DUMP_DH_COMPRESSED_ZLIB,
  type PageCodecs,
  type PageCompressor,
} from "../codecs/pages.js";
import { DecompressError } from "../errors.js";
import { rawInflateHandle } from "./zlib-handle.js";

/**
 * node:zlib, loaded at the first zlib page: loading it (and the streams it loads) is ~7 M
 * instructions and ~115 fresh pages, which a run over an lzo or ELF dump need not pay. (Our
 * WebAssembly inflate for a short run's first pages instead was measured and dropped: its
 * instance touched ~550 more pages and cost ~35 M more instructions, as `info` measured, than
 * loading node:zlib.)
 */
let zlibModule: typeof import("node:zlib") | undefined;
/** zlib.h's Z_FINISH (node:zlib's constants.Z_FINISH). */
const Z_FINISH = 4;
function zlib(): typeof import("node:zlib") {
  zlibModule ??= createRequire(import.meta.url)("node:zlib") as typeof import("node:zlib");
  return zlibModule;
}

/** The native handle under a node:zlib stream (internal: present in Node 10–24, checked). */
export interface ZlibHandle {
  writeSync(
    flush: number,
    src: Uint8Array,
    srcOff: number,
    srcLen: number,
    dst: Uint8Array,
    dstOff: number,
    dstLen: number,
  ): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

/** One inflate state reused for every page, and its scratch output (a page and one byte). */
let inflater:
  | { handle: ZlibHandle; state: Uint32Array; out: Uint8Array; page: Uint8Array }
  | null
  | undefined;
let inflateError: string | undefined;

const onInflateError = (message: string): void => {
  inflateError = message;
};

/**
 * The reused inflate handle: the zlib binding's own (zlib-handle.ts: node:zlib's module and
 * streams are not loaded), else the handle under a node:zlib stream, else null (inflateSync).
 */
function makeInflater(
  binding?: () => unknown,
): { handle: ZlibHandle; state: Uint32Array; out: Uint8Array; page: Uint8Array } | null {
  const raw = binding ? rawInflateHandle(onInflateError, binding) : rawInflateHandle(onInflateError);
  if (raw) return { ...raw, out: new Uint8Array(0), page: new Uint8Array(0) };
  const engine = zlib().createInflate() as unknown as { _handle?: ZlibHandle; _writeState?: Uint32Array };
  const handle = engine._handle;
  const state = engine._writeState;
  if (!(handle && typeof handle.writeSync === "function" && typeof handle.reset === "function" && state))
    return null;
  handle.onerror = onInflateError;
  return { handle, state, out: new Uint8Array(0), page: new Uint8Array(0) };
}

/**
 * Tests: forget the inflate handle and make the next one from `binding` (a stand-in for
 * `process.binding("zlib")`; a function that throws or returns junk forces the fallbacks), or
 * with `null`, from node:zlib's stream handle only, or with `"none"`, no handle (inflateSync).
 */
export function resetPageInflaterForTest(binding?: (() => unknown) | null | "none"): void {
  if (binding === "none") {
    inflater = null;
    return;
  }
  inflater = makeInflater(binding === null ? () => undefined : binding);
}

function pageInflater(size: number) {
  inflater ??= makeInflater();
  if (inflater && inflater.out.length !== size + 1) {
    inflater.out = new Uint8Array(size + 1);
    inflater.page = inflater.out.subarray(0, size);
  }
  return inflater;
}

/**
 * node:zlib for kdump pages, through one reused inflate state writing straight into a scratch
 * page (Node's own zlib, Chromium's SIMD fork). Measured on Node 20 per 4 KiB page:
 * inflateSync 9.4 µs (a new z_stream, a Transform object and an output Buffer per call),
 * the reused handle 2.9 µs, fflate 25 µs. The output buffer is one byte larger than the page
 * so that a stream that does not end exactly at the page's end is caught: too long fills the
 * spare byte, too short or cut ends in zlib's "unexpected end of file". Falls back to
 * inflateSync where the handle is not there (another runtime).
 */
export function nodeZlibPage(src: Uint8Array, dst: Uint8Array, context?: string): number {
  const inf = pageInflater(dst.length);
  if (!inf) return inflateSyncPage(src, dst, context);
  inflateError = undefined;
  inf.handle.writeSync(Z_FINISH, src, 0, src.length, inf.out, 0, inf.out.length);
  const availOut = inf.state[0]!;
  inf.handle.reset();
  if (inflateError !== undefined) throw new DecompressError("zlib", inflateError, context);
  if (availOut !== 1)
    throw new DecompressError(
      "zlib",
      availOut === 0
        ? `produces more than ${dst.length} bytes`
        : `produced ${dst.length + 1 - availOut} bytes, expected ${dst.length}`,
      context,
    );
  dst.set(inf.page);
  return dst.length;
}

function inflateSyncPage(src: Uint8Array, dst: Uint8Array, context?: string): number {
  let out: Buffer;
  try {
    out = zlib().inflateSync(src);
  } catch (e) {
    throw new DecompressError("zlib", (e as Error).message, context);
  }
  if (out.length !== dst.length)
    throw new DecompressError("zlib", `produced ${out.length} bytes, expected ${dst.length}`, context);
  dst.set(out);
  return out.length;
}

/**
 * zstd pages: node:zlib's zstd where Node has it (22.15+), else fzstd loaded on the first zstd
 * page (without an output buffer: see codecs/zstd.ts for why).
 */
let zstdImpl: ((src: Uint8Array) => Uint8Array) | undefined;
export function lazyZstdPage(src: Uint8Array, dst: Uint8Array, context?: string): number {
  if (!zstdImpl) {
    const native = (zlib() as { zstdDecompressSync?: (b: Uint8Array) => Uint8Array }).zstdDecompressSync;
    zstdImpl = native
      ? (b) => native(b)
      : (createRequire(import.meta.url)("fzstd") as typeof import("fzstd")).decompress;
  }
  let out: Uint8Array;
  try {
    out = zstdImpl(src);
  } catch (e) {
    throw new DecompressError("zstd", (e as Error).message, context);
  }
  if (out.length !== dst.length)
    throw new DecompressError("zstd", `produced ${out.length} bytes, expected ${dst.length}`, context);
  dst.set(out);
  return out.length;
}

/** Page codecs for Node: node:zlib, the built-in lzo/snappy, fzstd on demand. */
export const nodePageCodecs: PageCodecs = {
  ...builtinPageCodecs,
  zlib: nodeZlibPage,
  zstd: lazyZstdPage,
  // runs of zlib pages through our WebAssembly inflate, in place in the module's memory (fewer
  // instructions and less CPU a page than node:zlib's reused handle since the inflate session of
  // issue 13: README, "Speed (issue 13)"); single pages keep node:zlib
  runs: { lzo: lzoRunDecoder, zlib: zlibRunDecoder },
};

/** zlib page compression through node:zlib (level 1, as fast as makedumpfile -c allows). */
export const nodeZlibCompressor: PageCompressor = {
  flag: DUMP_DH_COMPRESSED_ZLIB,
  fn: (p) => zlib().deflateSync(p, { level: 1 }),
};
