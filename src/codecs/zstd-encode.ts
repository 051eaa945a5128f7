/**
 * zstd frames (RFC 8878) for dump pages from our WebAssembly encoder (wasm/zstd-encode.ts,
 * assembled into wasm-modules.ts): one frame per page, as makedumpfile -z writes with
 * ZSTD_compressCCtx at level 1, readable by any zstd decoder (libzstd in makedumpfile, crash and
 * libkdumpfile; fzstd; the zstd command). On the 15,259 non-zero pages of the fixture kdump's
 * `-d 31` it writes 16.88 MB against libzstd level 1's 16.92 MB, at ~21 µs a page against
 * ~28 µs for libzstd compiled to WebAssembly (@bokuweb/zstd-wasm, one context kept).
 */
import { type PageBatchCompress, type PageBatchExports, pageBatch } from "./page-batch.js";
import { wasmExports } from "./wasm-load.js";
import { ZSTD_ENCODE_WASM } from "./wasm-modules.js";

interface ZstdWasmExports extends PageBatchExports {
  inputPtr(): number;
  outputPtr(): number;
  maxInput(): number;
  compress(n: number): number;
  compressBatch(count: number, pageSize: number, zeroCheck: boolean): number;
}

export class ZstdWasmEncoder {
  private readonly x: ZstdWasmExports;
  private readonly input: Uint8Array;
  /** The output area (the module's memory never grows: its buffers are static). */
  private readonly output: Uint8Array;
  /** The largest input one call takes (64 KiB). */
  readonly maxInput: number;
  /** Whole batches of pages in one call (src/codecs/page-batch.ts), the same frames. */
  readonly compressPages: PageBatchCompress;

  private constructor(x: ZstdWasmExports) {
    this.x = x;
    this.maxInput = x.maxInput();
    this.input = new Uint8Array(x.memory.buffer, x.inputPtr(), this.maxInput);
    // a frame with a raw block (the longest kept) and its headers
    this.output = new Uint8Array(x.memory.buffer, x.outputPtr(), this.maxInput + 32);
    this.compressPages = pageBatch(x, (count, pageSize, zeroCheck) =>
      x.compressBatch(count, pageSize, zeroCheck),
    );
  }

  /** An encoder, or undefined where WebAssembly cannot run. */
  static create(): ZstdWasmEncoder | undefined {
    const x = wasmExports<ZstdWasmExports>(ZSTD_ENCODE_WASM);
    return x ? new ZstdWasmEncoder(x) : undefined;
  }

  /**
   * `src` as one zstd frame: a view of the encoder's memory, valid until the next call. Inputs
   * longer than maxInput are refused (RangeError).
   */
  compress(src: Uint8Array): Uint8Array {
    if (src.length > this.maxInput)
      throw new RangeError(`zstd encoder: ${src.length} bytes, more than ${this.maxInput}`);
    this.input.set(src);
    return this.output.subarray(0, this.x.compress(src.length));
  }
}
