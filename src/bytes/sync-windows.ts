import { checkRange, type SyncByteSource } from "./source.js";

/**
 * A synchronous source over a synchronous range reader, with an LRU of aligned windows: what
 * the web app's worker wraps around a File (FileReaderSync), an OPFS file (sync access handle)
 * or an HTTP URL (synchronous range requests, allowed in workers). Memory stays bounded by
 * windowSize × maxWindows whatever the file's size; a decoder never waits or retries.
 */
export class SyncWindowCache implements SyncByteSource {
  private readonly windows = new Map<number, Uint8Array>();
  constructor(
    readonly size: number,
    private readonly readRange: (offset: number, length: number) => Uint8Array,
    readonly name?: string,
    readonly windowSize = 1 << 20,
    readonly maxWindows = 64,
  ) {}
  private window(w: number): Uint8Array {
    let win = this.windows.get(w);
    if (win) {
      this.windows.delete(w);
      this.windows.set(w, win);
      return win;
    }
    const start = w * this.windowSize;
    win = this.readRange(start, Math.min(this.windowSize, this.size - start));
    this.windows.set(w, win);
    while (this.windows.size > this.maxWindows)
      this.windows.delete(this.windows.keys().next().value as number);
    return win;
  }
  readSync(offset: number, length: number, into?: Uint8Array): Uint8Array {
    checkRange(this.size, offset, length);
    // one window: a view, no copy (callers must not keep it across reads, per SyncByteSource)
    const w0 = Math.floor(offset / this.windowSize);
    const in0 = offset - w0 * this.windowSize;
    if (!into && in0 + length <= this.windowSize) return this.window(w0).subarray(in0, in0 + length);
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const w = Math.floor(pos / this.windowSize);
      const win = this.window(w);
      const inWin = pos - w * this.windowSize;
      const n = Math.min(length - done, win.length - inWin);
      out.set(win.subarray(inWin, inWin + n), done);
      done += n;
    }
    return out;
  }
  read(offset: number, length: number): Uint8Array {
    return this.readSync(offset, length).slice();
  }
  /** Forget every window (memory back to nothing). */
  clear(): void {
    this.windows.clear();
  }
}
