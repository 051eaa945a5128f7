import type { SyncByteSource } from "../bytes/source.js";

/**
 * Buffered reads over a source for the dump readers: a read that continues the previous one
 * (sequential page data, consecutive page descriptors) refills a large window; a random read
 * fetches only what it needs. Views returned are valid until the next call.
 */
export class ReadWindow {
  private buf: Uint8Array;
  private start = 0;
  private len = 0;
  private lastEnd = -1;
  constructor(
    readonly source: SyncByteSource,
    readonly windowSize = 1 << 20,
    readonly minRead = 4096,
  ) {
    this.buf = new Uint8Array(windowSize);
  }
  /** `length` bytes at `offset` (throws TruncatedError past the end of the source). */
  view(offset: number, length: number): Uint8Array {
    if (offset >= this.start && offset + length <= this.start + this.len) {
      this.lastEnd = offset + length;
      return this.buf.subarray(offset - this.start, offset - this.start + length);
    }
    const sequential = offset >= this.lastEnd && offset - this.lastEnd < 65536 && this.lastEnd >= 0;
    this.lastEnd = offset + length;
    if (length > this.windowSize) return this.source.readSync(offset, length);
    const want = Math.max(length, sequential ? this.windowSize : this.minRead);
    const n = Math.max(length, Math.min(want, this.source.size - offset));
    // invalid until the read completes: a read that throws half way (MissingDataError from a
    // browser window cache) may have overwritten part of the buffer
    this.len = 0;
    this.source.readSync(offset, n, this.buf);
    this.start = offset;
    this.len = n;
    return this.buf.subarray(0, length);
  }
  /** Forget the buffered bytes. */
  reset(): void {
    this.len = 0;
    this.lastEnd = -1;
  }
}
