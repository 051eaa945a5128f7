/**
 * Runs of kdump pages decoded in one WebAssembly call (issue 13, the read loop): the LZO1X
 * decoder (wasm/lzo1x-decode.ts) and the inflate (wasm/inflate.ts) each export decodeRun(), which
 * decodes a run of consecutive pages whose file bytes the caller has read into the module's
 * memory with one read, and leaves the pages end to end in the module's memory for the caller to
 * view. Per page that saves a call into the decoder, a copy in and a copy out, views and checks
 * made in JavaScript: on dumpfile.lzo-d31 the JavaScript around each page cost about what the
 * decoding did (README, "Speed (issue 13)"). Each page goes through the same single-page decoder
 * inside the module, so it decodes and fails exactly as alone; a page that fails is read again
 * alone by the caller, for the typed error that names it.
 */
import { markPageAligned } from "../bytes/aligned.js";
import type { PageCodecName } from "./pages.js";
import { wasmExports } from "./wasm-load.js";
import { INFLATE_WASM, LZO1X_DECODE_WASM } from "./wasm-modules.js";

/** RUN_KIND codes (wasm/*.ts decodeRun). */
export const RUN_DECODE = 0;
export const RUN_RAW = 1;
export const RUN_ZERO = 2;

interface RunExports {
  memory: WebAssembly.Memory;
  runInPtr(): number;
  runOutPtr(): number;
  runSrcPtr(): number;
  runLenPtr(): number;
  runKindPtr(): number;
  runMaxPages(): number;
  runInSize(): number;
  runOutSize(): number;
  decodeRun(count: number, pageSize: number): number;
}

/**
 * A decoder of runs of pages of one codec: the caller fills `input` with the run's file bytes
 * and `src`/`len`/`kind` per page, calls decode(), and reads the pages end to end in `output`.
 */
export interface PageRunDecoder {
  readonly codec: PageCodecName;
  /** The file bytes of the run. */
  readonly input: Uint8Array;
  /** The decoded pages, end to end (valid until the next decode). */
  readonly output: Uint8Array;
  /** Per page: offset of its bytes in `input`, their length, and RUN_DECODE/RUN_RAW/RUN_ZERO. */
  readonly src: Int32Array;
  readonly len: Int32Array;
  readonly kind: Uint8Array;
  /** Pages of `pageSize` bytes one run may hold. */
  pagesFor(pageSize: number): number;
  /**
   * Decode the first `count` pages described; returns `count`, or the index of the first page
   * that failed (pages before it are in `output`).
   */
  decode(count: number, pageSize: number): number;
}

/** One module's run decoder: fill `src`/`len`/`kind` and `input`, call decode, read `output`. */
class WasmRunDecoder implements PageRunDecoder {
  /** The file bytes of the run (read straight into the module's memory). */
  readonly input: Uint8Array;
  /** The decoded pages, end to end (valid until the next decode). */
  readonly output: Uint8Array;
  /** Per page: offset of its bytes in `input`, their length, and RUN_DECODE/RUN_RAW/RUN_ZERO. */
  readonly src: Int32Array;
  readonly len: Int32Array;
  readonly kind: Uint8Array;
  readonly maxPages: number;
  private readonly x: RunExports;

  constructor(
    readonly codec: PageCodecName,
    x: RunExports,
  ) {
    this.x = x;
    this.maxPages = x.runMaxPages();
    // the modules' memory is static (no allocator, never grows): these views stay valid
    const buf = x.memory.buffer;
    markPageAligned(buf);
    this.input = new Uint8Array(buf, x.runInPtr(), x.runInSize());
    this.output = new Uint8Array(buf, x.runOutPtr(), x.runOutSize());
    this.src = new Int32Array(buf, x.runSrcPtr(), this.maxPages);
    this.len = new Int32Array(buf, x.runLenPtr(), this.maxPages);
    this.kind = new Uint8Array(buf, x.runKindPtr(), this.maxPages);
  }

  /** Pages of `pageSize` bytes one run may hold. */
  pagesFor(pageSize: number): number {
    return Math.min(this.maxPages, Math.floor(this.output.length / pageSize));
  }

  /**
   * Decode the first `count` pages described; returns `count`, or the index of the first page
   * that failed (pages before it are in `output`).
   */
  decode(count: number, pageSize: number): number {
    const r = this.x.decodeRun(count, pageSize);
    if (r < 0) throw new RangeError(`decodeRun(${count}, ${pageSize}): out of bounds`);
    return r;
  }
}

const made = new Map<PageCodecName, PageRunDecoder | null>();

function make(codec: PageCodecName, b64: string): PageRunDecoder | undefined {
  let d = made.get(codec);
  if (d === undefined) {
    d = null;
    const x = wasmExports<RunExports>(b64);
    if (x) d = new WasmRunDecoder(codec, x);
    made.set(codec, d);
  }
  return d ?? undefined;
}

/** The LZO1X run decoder (made on first use), or undefined where WebAssembly cannot run. */
export function lzoRunDecoder(): PageRunDecoder | undefined {
  return make("lzo", LZO1X_DECODE_WASM);
}

/** The zlib run decoder (made on first use), or undefined where WebAssembly (SIMD) cannot run. */
export function zlibRunDecoder(): PageRunDecoder | undefined {
  return make("zlib", INFLATE_WASM);
}
