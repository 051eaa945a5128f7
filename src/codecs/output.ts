/**
 * The output side shared by the payload codecs: a growable buffer with a hard ceiling, and
 * optionally a sink that takes the output as it is decoded (streaming: the buffer then holds
 * only what the codec still needs — the LZ77 window, the current block).
 * Kernel images are untrusted input; every decoder takes a maximum output size and throws
 * LimitError past it (a decompression bomb never allocates more than the ceiling, and a
 * streamed one never more than its window).
 */
import { ByteBuffer } from "../bytes/buffer.js";
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
  /**
   * Stream the output: each decoded piece is handed to `sink` in order (a view valid only
   * during the call: copy or write it out) and the result's `data` is empty. Memory is then
   * bounded by the codec's window (DEFLATE 32 KiB, a bzip2/lz4/lzop block, the LZMA
   * dictionary capped at maxOutput) instead of by the output.
   */
  sink?: (chunk: Uint8Array) => void;
}

/** 1 GiB: the largest vmlinux of any distribution is a few hundred MiB with debug info. */
export const DEFAULT_MAX_OUTPUT = 1 << 30;

/** Output piled up past a window before it is moved down: each byte moves at most ~4 times. */
function slideAt(keep: number): number {
  return Math.max(keep >>> 2, 1 << 22);
}

/** A payload codec's output: the shared ByteBuffer with the codec's ceiling and size hint. */
export class OutputBuffer extends ByteBuffer {
  /** The ceiling on the whole output (streamed bytes included). */
  readonly limit: number;
  readonly sink: ((chunk: Uint8Array) => void) | undefined;
  /** Bytes dropped from the front of `buf` after they were streamed. */
  dropped = 0;
  /** buf[0, emitted) has gone to the sink. */
  emitted = 0;

  constructor(
    readonly codec: string,
    opts: DecodeOptions = {},
    initial = 1 << 20,
  ) {
    const max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
    const hint = opts.sizeHint !== undefined && opts.sizeHint > 0 && !opts.sink ? opts.sizeHint : initial;
    super({ initial: hint, max, what: `${codec} output size` });
    this.limit = max;
    this.sink = opts.sink;
  }

  /** Bytes of output so far, streamed ones included. */
  get size(): number {
    return this.dropped + this.pos;
  }

  /** Room left under the ceiling after `pos`. */
  get room(): number {
    return this.limit - this.dropped - this.pos;
  }

  /** Streaming: the most `buf` needs to hold (window + the slide threshold + a step). */
  private capacity = Number.MAX_SAFE_INTEGER;

  /** Streaming with a window of `keep` bytes: size the buffer for it, no doubling past it. */
  setWindow(keep: number, step: number): void {
    if (this.sink) this.capacity = keep + slideAt(keep) + step;
  }

  protected override grow(need: number): void {
    if (this.dropped + need > this.limit) throw new LimitError(this.what, this.dropped + need, this.limit);
    if (need <= this.capacity && this.buf.length * 2 > this.capacity) {
      const next = new Uint8Array(this.capacity);
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
      return;
    }
    super.grow(need);
  }

  /** Append decoded bytes: straight to the sink when streaming. */
  override push(b: Uint8Array): void {
    if (!this.sink) {
      super.push(b);
      return;
    }
    if (b.length > this.room) throw new LimitError(this.what, this.size + b.length, this.limit);
    this.emit();
    this.sink(b);
    this.dropped += b.length;
  }

  /** Streaming: hand buf[emitted, pos) to the sink. */
  emit(): void {
    if (!this.sink || this.emitted >= this.pos) return;
    // the buffer's capacity is reused after a flush, so growth alone no longer checks the
    // ceiling: nothing past it reaches the sink
    if (this.size > this.limit) throw new LimitError(this.what, this.size, this.limit);
    this.sink(this.buf.subarray(this.emitted, this.pos));
    this.emitted = this.pos;
  }

  /**
   * Streaming: emit, then keep only the last `keep` bytes (a window later output refers to),
   * moved to the front once enough has piled up to pay for the move. Returns how far content
   * moved down (callers holding absolute positions subtract it).
   */
  flush(keep = 0): number {
    if (!this.sink) return 0;
    this.emit();
    const drop = this.pos - keep;
    if (drop <= 0 || (keep > 0 && drop < slideAt(keep))) return 0;
    this.buf.copyWithin(0, drop, this.pos);
    this.pos = keep;
    this.emitted = keep;
    this.dropped += drop;
    return drop;
  }

  /** The content when not streaming; when streaming, flushes and returns nothing. */
  override result(): Uint8Array {
    if (!this.sink) return super.result();
    this.flush(0);
    return new Uint8Array(0);
  }
}
