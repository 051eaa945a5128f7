/**
 * LZO1X page decoding in WebAssembly (wasm/lzo1x-decode.ts, assembled into wasm-modules.ts):
 * the same checks as the TypeScript decoder (lzo1x.ts) in the same order, failing with the same
 * DecompressError (the module returns the check's code and offsets, lzoError words them).
 * ~4× cheaper per page than the TypeScript decoder (README, "Speed (issue 13)"). The TypeScript
 * decoder stays for where WebAssembly cannot run (a page's Content-Security-Policy without
 * 'wasm-unsafe-eval') and for buffers larger than the module's (64 KiB out, 128 KiB in).
 */
import { lzo1xDecompress, lzoError } from "./lzo1x.js";
import { wasmExports } from "./wasm-load.js";
import { LZO1X_DECODE_WASM } from "./wasm-modules.js";

interface Lzo1xDecodeExports {
  memory: WebAssembly.Memory;
  inputPtr(): number;
  outputPtr(): number;
  maxInput(): number;
  maxOutput(): number;
  errorPtr(): number;
  decompress(inLen: number, outLen: number, exact: number): number;
}

export class Lzo1xWasmDecoder {
  private readonly x: Lzo1xDecodeExports;
  private readonly input: Uint8Array;
  private readonly output: Uint8Array;
  private readonly maxIn: number;
  private readonly maxOut: number;
  /** A failure's input offset, output offset and match distance (wasm/lzo1x-decode.ts). */
  private readonly err: Int32Array;
  /** The output region's first `pageLen` bytes, kept for the page size in use (no view per page). */
  private page: Uint8Array;

  private constructor(x: Lzo1xDecodeExports) {
    this.x = x;
    this.maxIn = x.maxInput();
    this.maxOut = x.maxOutput();
    // the module's memory never grows (static buffers): these views stay valid
    this.input = new Uint8Array(x.memory.buffer, x.inputPtr(), this.maxIn);
    this.output = new Uint8Array(x.memory.buffer, x.outputPtr(), this.maxOut);
    this.page = this.output.subarray(0, 0);
    this.err = new Int32Array(x.memory.buffer, x.errorPtr(), 3);
  }

  /** A decoder, or undefined where WebAssembly cannot run (the caller uses lzo1xDecompress). */
  static create(): Lzo1xWasmDecoder | undefined {
    const x = wasmExports<Lzo1xDecodeExports>(LZO1X_DECODE_WASM);
    return x ? new Lzo1xWasmDecoder(x) : undefined;
  }

  /** lzo1xDecompress's contract: decompress `src` into `dst`, return the bytes written. */
  decompress(src: Uint8Array, dst: Uint8Array, context?: string, exact = false): number {
    const outLen = dst.length;
    if (src.length > this.maxIn || outLen > this.maxOut) return lzo1xDecompress(src, dst, context, exact);
    this.input.set(src);
    const n = this.x.decompress(src.length, outLen, exact ? 1 : 0);
    if (n < 0) throw lzoError(-n, this.err[0]!, this.err[1]!, this.err[2]!, outLen, context);
    if (n === outLen) {
      if (this.page.length !== n) this.page = this.output.subarray(0, n);
      dst.set(this.page);
    } else dst.set(this.output.subarray(0, n));
    return n;
  }
}

let decoder: Lzo1xWasmDecoder | null | undefined;

/**
 * An LZO1X page: through the WebAssembly decoder (made on first use: a dump without lzo pages
 * does not compile it), else the TypeScript one. Same contract and errors as lzo1xDecompress.
 */
export function lzo1xPage(src: Uint8Array, dst: Uint8Array, context?: string): number {
  if (decoder === undefined) decoder = Lzo1xWasmDecoder.create() ?? null;
  return decoder ? decoder.decompress(src, dst, context, true) : lzo1xDecompress(src, dst, context, true);
}
