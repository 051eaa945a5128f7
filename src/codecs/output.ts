/**
 * The output side shared by the payload codecs: a growable buffer with a hard ceiling.
 * Kernel images are untrusted input; every decoder takes a maximum output size and throws
 * LimitError past it (a decompression bomb never allocates more than the ceiling).
 */
import { LimitError } from "../errors.js";

export interface DecodeOptions {
  /** Largest output accepted; LimitError past it. Default DEFAULT_MAX_OUTPUT. */
  maxOutput?: number;
  /**
   * Expected output size (e.g. the 4 size bytes the kernel build appends): the buffer is
   * allocated at this size up front (bounded by maxOutput) instead of grown by doubling.
   */
  sizeHint?: number;
  /** Called now and then with compressed bytes consumed and the input size (progress bars). */
  onProgress?: (done: number, total: number) => void;
}

/** 1 GiB: the largest vmlinux of any distribution is a few hundred MiB with debug info. */
export const DEFAULT_MAX_OUTPUT = 1 << 30;

export class OutputBuffer {
  buf: Uint8Array;
  pos = 0;
  readonly max: number;
  constructor(
    readonly codec: string,
    opts: DecodeOptions = {},
    initial = 1 << 20,
  ) {
    this.max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
    const hint = opts.sizeHint !== undefined && opts.sizeHint > 0 ? opts.sizeHint : initial;
    this.buf = new Uint8Array(Math.max(16, Math.min(hint, this.max)));
  }
  /** Make room for `n` more bytes; LimitError when the total would pass the ceiling. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.max) throw new LimitError(`${this.codec} output size`, need, this.max);
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(Math.min(cap, this.max));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  push(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }
  /** The bytes written (a view when the buffer is exactly full, else a trimmed copy-free view). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
