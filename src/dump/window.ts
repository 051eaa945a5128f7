import type { SyncByteSource } from "../bytes/source.js";

/**
 * Buffered reads over a source for the dump readers: a read that continues the previous one
 * (sequential page data, consecutive page descriptors) refills a large window; a random read
 * fetches only what it needs, into a small side buffer, so that one read elsewhere (the shared
 * zero page of a kdump file, read between the pages that follow it in the file) does not throw
 * the large window away: on dumpfile.zlib-d31 that read 97 MB through the window for a 17 MB
 * file. A sequential stream's refills start small and double up to the window's size: a short
 * run (a kernel log, a page-table walk) reads and touches the tens of KiB it needs, not a MiB
 * (each page of memory first touched costs a VM ~16 µs: the window's first 1 MiB fill was
 * ~4 ms of `dmesg`). Views returned are valid until the next call.
 */
/** The first sequential refill: 64 KiB (16 pages of 4 KiB compressed to ~1–2 KiB each: a log's worth). */
const FIRST_REFILL = 64 << 10;

export class ReadWindow {
  private buf: Uint8Array;
  private start = 0;
  private len = 0;
  private lastEnd = -1;
  private side: Uint8Array | undefined;
  private sideStart = 0;
  private sideLen = 0;
  private sideEnd = -1;
  /** Bytes the next sequential refill reads (doubles per refill up to windowSize). */
  private refill: number;
  constructor(
    readonly source: SyncByteSource,
    readonly windowSize = 1 << 20,
    readonly minRead = 4096,
  ) {
    this.buf = new Uint8Array(windowSize);
    this.refill = Math.min(windowSize, Math.max(minRead, FIRST_REFILL));
  }
  /** `length` bytes at `offset` (throws TruncatedError past the end of the source). */
  view(offset: number, length: number): Uint8Array {
    if (offset >= this.start && offset + length <= this.start + this.len) {
      this.lastEnd = offset + length;
      return this.buf.subarray(offset - this.start, offset - this.start + length);
    }
    const side = this.side;
    if (side && offset >= this.sideStart && offset + length <= this.sideStart + this.sideLen) {
      this.sideEnd = offset + length;
      return side.subarray(offset - this.sideStart, offset - this.sideStart + length);
    }
    const near = (end: number) => end >= 0 && offset >= end && offset - end < 65536;
    const sequential = near(this.lastEnd) || near(this.sideEnd);
    if (length > this.windowSize) {
      this.lastEnd = offset + length;
      return this.source.readSync(offset, length);
    }
    if (!sequential && this.len > 0 && length <= this.minRead) {
      // a random small read while the window holds a sequential stream: keep the window
      if (!this.side) this.side = new Uint8Array(this.minRead);
      const s = this.side;
      const n = Math.max(length, Math.min(this.minRead, this.source.size - offset));
      this.sideLen = 0;
      this.source.readSync(offset, n, s);
      this.sideStart = offset;
      this.sideLen = n;
      this.sideEnd = offset + length;
      return s.subarray(0, length);
    }
    this.lastEnd = offset + length;
    let want = this.minRead;
    if (sequential) {
      want = this.refill;
      this.refill = Math.min(this.windowSize, this.refill * 2);
    } else this.refill = Math.min(this.windowSize, Math.max(this.minRead, FIRST_REFILL));
    want = Math.max(length, want);
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
    this.refill = Math.min(this.windowSize, Math.max(this.minRead, FIRST_REFILL));
    this.lastEnd = -1;
    this.sideLen = 0;
    this.sideEnd = -1;
  }
}
