/**
 * zlib page decompression in WebAssembly (wasm/inflate.ts, assembled into wasm-modules.ts): one
 * complete zlib stream per page (makedumpfile -c, QEMU kdump-zlib), whole input and output in
 * the module's memory, checked as strictly as zlib (header, codes, distances, lengths, Adler-32).
 * Per 4 KiB page of the fixtures' dumps it is faster than node:zlib's reused handle and than
 * fflate (README, "Speed (issue 13)").
 */
import { DecompressError } from "../errors.js";
import { wasmExports } from "./wasm-load.js";
import { INFLATE_WASM } from "./wasm-modules.js";

interface InflateWasmExports {
  memory: WebAssembly.Memory;
  inputPtr(): number;
  outputPtr(): number;
  maxInput(): number;
  maxOutput(): number;
  errorAt(): number;
  inflate(n: number, cap: number): number;
}

/** What each negative result of the module's inflate() means (zlib's wording where it has one). */
const MESSAGES: Record<number, string> = {
  [-1]: "incorrect header check",
  [-2]: "invalid window size",
  [-3]: "stream needs a preset dictionary",
  [-4]: "invalid block type",
  [-5]: "invalid stored block lengths",
  [-6]: "too many length or distance symbols",
  [-7]: "invalid code lengths set",
  [-8]: "invalid bit length repeat",
  [-9]: "invalid code -- missing end-of-block",
  [-10]: "invalid literal/lengths set",
  [-11]: "invalid distances set",
  [-12]: "invalid literal/length code",
  [-13]: "invalid distance code",
  [-14]: "invalid distance too far back",
  [-15]: "output overrun",
  [-16]: "unexpected end of file",
  [-17]: "incorrect data check (Adler-32 mismatch)",
};

export class InflateWasm {
  private readonly x: InflateWasmExports;
  private readonly input: Uint8Array;
  private readonly output: Uint8Array;
  /** The largest stream and output one call takes (larger ones: use another inflate). */
  readonly maxInput: number;
  readonly maxOutput: number;

  private constructor(x: InflateWasmExports) {
    this.x = x;
    this.maxInput = x.maxInput();
    this.maxOutput = x.maxOutput();
    // the module's memory is static (no allocator): these views stay valid
    this.input = new Uint8Array(x.memory.buffer, x.inputPtr(), this.maxInput);
    this.output = new Uint8Array(x.memory.buffer, x.outputPtr(), this.maxOutput);
  }

  /** An instance, or undefined where WebAssembly cannot run. */
  static create(): InflateWasm | undefined {
    const x = wasmExports<InflateWasmExports>(INFLATE_WASM);
    return x ? new InflateWasm(x) : undefined;
  }

  /**
   * Decompress the zlib stream `src` into `dst` (at most maxInput/maxOutput bytes); returns the
   * bytes produced. With `exact`, the stream must fill `dst` exactly. Errors are
   * DecompressError naming `context` and the input offset.
   */
  decompress(src: Uint8Array, dst: Uint8Array, context?: string, exact = false): number {
    if (src.length > this.maxInput || dst.length > this.maxOutput)
      throw new RangeError(`InflateWasm takes ≤ ${this.maxInput} bytes in, ≤ ${this.maxOutput} out`);
    this.input.set(src);
    // one byte of room past `dst` in exact mode: a stream that goes on is caught as too long
    const cap = exact && dst.length < this.maxOutput ? dst.length + 1 : dst.length;
    const n = this.x.inflate(src.length, cap);
    if (n < 0) {
      const what = MESSAGES[n] ?? `error ${n}`;
      const at = this.x.errorAt();
      if (n === -15)
        throw new DecompressError(
          "zlib",
          `produces more than ${dst.length} bytes (input offset ${at})`,
          context,
        );
      throw new DecompressError("zlib", `${what} at input offset ${at}`, context);
    }
    if (n > dst.length) throw new DecompressError("zlib", `produces more than ${dst.length} bytes`, context);
    if (exact && n !== dst.length)
      throw new DecompressError("zlib", `produced ${n} bytes, expected ${dst.length}`, context);
    dst.set(n === this.output.length ? this.output : this.output.subarray(0, n));
    return n;
  }
}
