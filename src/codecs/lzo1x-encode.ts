/**
 * LZO1X compression (what makedumpfile -l stores per page with liblzo2's lzo1x_1_compress), our
 * own greedy encoder over a 4-byte hash table, emitting the instruction set lzo1x.ts documents
 * (Linux Documentation/staging/lzo.rst). Any LZO1X decoder reads the output (liblzo2,
 * makedumpfile, crash, libkdumpfile); the bytes are not liblzo2's, the format is.
 *
 * One encoder keeps its hash table between calls (reset by generation number, no clearing), so
 * compressing page after page allocates nothing but the output.
 */
import { type PageBatchCompress, type PageBatchExports, pageBatch } from "./page-batch.js";
import { wasmExports } from "./wasm-load.js";
import { LZO1X_ENCODE_WASM } from "./wasm-modules.js";

/** 2^15 entries: faster and smaller than 2^13 or 2^14 (measured: wasm/lzo1x-encode.ts). */
const HASH_BITS = 15;
const MAX_DIST = 49151;

/** Emit the literal run src[from, to) (module functions, not closures: `op` stays a register). */
function literals(out: Uint8Array, op: number, src: Uint8Array, from: number, to: number): number {
  const len = to - from;
  if (len === 0) return op;
  if (op === 0 && len <= 238) out[op++] = 17 + len;
  else if (len <= 3)
    out[op - 2]! |= len; // the SS bits of the previous match
  else if (len <= 18) out[op++] = len - 3;
  else {
    out[op++] = 0;
    op = extra(out, op, len - 18);
  }
  if (len <= 16) for (let i = from; i < to; i++) out[op++] = src[i]!;
  else {
    out.set(src.subarray(from, to), op);
    op += len;
  }
  return op;
}

/** A length beyond an instruction's field: 255 per zero byte, then the rest. */
function extra(out: Uint8Array, op: number, t: number): number {
  while (t > 255) {
    out[op++] = 0;
    t -= 255;
  }
  out[op++] = t;
  return op;
}

export class Lzo1xEncoder {
  private readonly table = new Int32Array(1 << HASH_BITS);
  private readonly gen = new Uint32Array(1 << HASH_BITS);
  private generation = 0;
  private out = new Uint8Array(0);

  /** The worst case: every byte a literal plus run headers and the end marker. */
  static bound(n: number): number {
    return n + Math.ceil(n / 16) + 64 + 3;
  }

  /**
   * Compress `src`; returns a view of the encoder's own buffer (valid until the next call), or
   * into `dst` when given (which must hold `bound(src.length)` bytes).
   */
  compress(src: Uint8Array, dst?: Uint8Array): Uint8Array {
    const n = src.length;
    const need = Lzo1xEncoder.bound(n);
    if (this.out.length < need) this.out = new Uint8Array(need);
    const out: Uint8Array = dst && dst.length >= need ? dst : this.out;
    if (++this.generation === 0xffffffff) {
      this.gen.fill(0);
      this.generation = 1;
    }
    const g = this.generation;
    const table = this.table;
    const gens = this.gen;
    const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    let op = 0;
    let lit = 0; // start of pending literals
    let ip = 0;
    const limit = n - 4;

    while (ip < limit) {
      const v = sv.getUint32(ip, true);
      const h = Math.imul(v, 0x9e3779b1) >>> (32 - HASH_BITS);
      const cand = gens[h] === g ? table[h]! : -1;
      table[h] = ip;
      gens[h] = g;
      const dist = ip - cand;
      if (cand < 0 || dist > MAX_DIST || sv.getUint32(cand, true) !== v) {
        // skip faster through data that does not compress (as lzo1x_1 does)
        ip += 1 + ((ip - lit) >> 5);
        continue;
      }
      let m = 4;
      // a word at a time first: kernel pages hold long runs (zeros, repeated structs)
      while (ip + m + 4 <= n && sv.getUint32(cand + m, true) === sv.getUint32(ip + m, true)) m += 4;
      while (ip + m < n && src[cand + m] === src[ip + m]) m++;
      op = literals(out, op, src, lit, ip);
      if (m <= 8 && dist <= 2048) {
        const d = dist - 1;
        out[op++] = ((m - 1) << 5) | ((d & 7) << 2);
        out[op++] = d >> 3;
      } else if (dist <= 16384) {
        const d = dist - 1;
        if (m <= 33) out[op++] = 32 | (m - 2);
        else {
          out[op++] = 32;
          op = extra(out, op, m - 33);
        }
        out[op++] = (d << 2) & 0xff;
        out[op++] = d >> 6;
      } else {
        const d = dist - 16384;
        const hb = (d >> 11) & 8;
        if (m <= 9) out[op++] = 16 | hb | (m - 2);
        else {
          out[op++] = 16 | hb;
          op = extra(out, op, m - 9);
        }
        out[op++] = (d << 2) & 0xff;
        out[op++] = (d >> 6) & 0xff;
      }
      ip += m;
      lit = ip;
    }
    op = literals(out, op, src, lit, n);
    out[op++] = 0x11;
    out[op++] = 0;
    out[op++] = 0;
    return out.subarray(0, op);
  }
}

interface Lzo1xWasmExports extends PageBatchExports {
  inputPtr(): number;
  outputPtr(): number;
  maxInput(): number;
  compress(n: number): number;
  compressBatch(count: number, pageSize: number, zeroCheck: boolean): number;
}

/**
 * The same encoder (same algorithm, same output bytes) in WebAssembly, ~4× faster
 * (wasm/lzo1x-encode.ts). Inputs beyond its buffer (64 KiB) go to the TypeScript encoder.
 */
export class Lzo1xWasmEncoder {
  private readonly x: Lzo1xWasmExports;
  private readonly input: Uint8Array;
  private readonly max: number;
  private readonly fallback = new Lzo1xEncoder();
  /** Whole batches of pages in one call (src/codecs/page-batch.ts), the same bytes. */
  readonly compressPages: PageBatchCompress;

  private constructor(x: Lzo1xWasmExports) {
    this.x = x;
    this.max = x.maxInput();
    this.input = new Uint8Array(x.memory.buffer, x.inputPtr(), this.max);
    this.compressPages = pageBatch(x, (count, pageSize, zeroCheck) =>
      x.compressBatch(count, pageSize, zeroCheck),
    );
  }

  /** An encoder, or undefined where WebAssembly cannot run (the caller uses Lzo1xEncoder). */
  static create(): Lzo1xWasmEncoder | undefined {
    const x = wasmExports<Lzo1xWasmExports>(LZO1X_ENCODE_WASM);
    return x ? new Lzo1xWasmEncoder(x) : undefined;
  }

  /** Compress `src`; returns a view of the encoder's memory, valid until the next call. */
  compress(src: Uint8Array): Uint8Array {
    if (src.length > this.max) return this.fallback.compress(src);
    this.input.set(src);
    const n = this.x.compress(src.length);
    if (n < 0) throw new Error("LZO1X encoder: input too large");
    return new Uint8Array(this.x.memory.buffer, this.x.outputPtr(), n);
  }
}
