/**
 * zlib streams (RFC 1950/1951) for dump pages from our WebAssembly deflate encoder
 * (wasm/deflate-encode.ts, assembled into wasm-modules.ts): one complete stream per page, as
 * makedumpfile -c writes with compress2(), readable by any inflate (zlib's uncompress in
 * makedumpfile, crash and libkdumpfile; node:zlib; fflate).
 */
import { type PageBatchCompress, type PageBatchExports, pageBatch } from "./page-batch.js";
import { wasmExports } from "./wasm-load.js";
import { DEFLATE_ENCODE_WASM } from "./wasm-modules.js";

interface DeflateWasmExports extends PageBatchExports {
  inputPtr(): number;
  outputPtr(): number;
  maxInput(): number;
  compress(n: number, level: number): number;
  compressBatch(count: number, pageSize: number, zeroCheck: boolean, level: number): number;
}

/** The encoder's settings: 1 greedy (4 candidates), 2 lazy (8), 3 lazy (32). */
export type DeflateWasmLevel = 1 | 2 | 3;

export class DeflateWasmEncoder {
  private readonly x: DeflateWasmExports;
  private readonly input: Uint8Array;
  /** The output area (the module's memory never grows: its buffers are static). */
  private readonly output: Uint8Array;
  /** The largest input one call takes (64 KiB): larger pages need another encoder. */
  readonly maxInput: number;
  readonly level: DeflateWasmLevel;
  /** Whole batches of pages in one call (src/codecs/page-batch.ts), the same streams. */
  readonly compressPages: PageBatchCompress;

  private constructor(x: DeflateWasmExports, level: DeflateWasmLevel) {
    this.x = x;
    this.level = level;
    this.maxInput = x.maxInput();
    this.input = new Uint8Array(x.memory.buffer, x.inputPtr(), this.maxInput);
    // OUT_SIZE of wasm/deflate-encode.ts: a stored stream (the longest) with its headers
    this.output = new Uint8Array(x.memory.buffer, x.outputPtr(), this.maxInput + 32);
    this.compressPages = pageBatch(x, (count, pageSize, zeroCheck) =>
      x.compressBatch(count, pageSize, zeroCheck, level),
    );
  }

  /** An encoder, or undefined where WebAssembly cannot run (the caller uses another deflate). */
  static create(level: DeflateWasmLevel): DeflateWasmEncoder | undefined {
    const x = wasmExports<DeflateWasmExports>(DEFLATE_ENCODE_WASM);
    return x ? new DeflateWasmEncoder(x, level) : undefined;
  }

  /**
   * `src` as one zlib stream: a view of the encoder's memory, valid until the next call.
   * Inputs longer than maxInput are refused (RangeError).
   */
  compress(src: Uint8Array): Uint8Array {
    if (src.length > this.maxInput)
      throw new RangeError(`deflate encoder: ${src.length} bytes, more than ${this.maxInput}`);
    this.input.set(src);
    return this.output.subarray(0, this.x.compress(src.length, this.level));
  }
}
