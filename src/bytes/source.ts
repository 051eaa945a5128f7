import { hex, MissingDataError, TruncatedError } from "../errors.js";

/**
 * The one I/O boundary of kdumpkit. A source has a size and reads ranges; the read may be
 * synchronous (Node file, memory) or return a promise (Blob, HTTP range).
 */
export interface ByteSource {
  /** Total size in bytes (a safe integer). */
  readonly size: number;
  /** Read exactly `length` bytes at `offset`; throws TruncatedError past the end. */
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
  /** Human-readable name (file name) for messages. */
  readonly name?: string;
}

/**
 * A source that can read synchronously. All decoders are written against this: decoding is
 * synchronous over bytes; async lives only at I/O (see WindowCache + withData for the browser).
 */
export interface SyncByteSource extends ByteSource {
  /**
   * Read exactly `length` bytes at `offset`. When `into` is given the bytes are written there
   * and a view of `into` is returned (no allocation), otherwise the result may be a fresh
   * array or a view the caller must not keep across other reads of the same source.
   */
  readSync(offset: number, length: number, into?: Uint8Array): Uint8Array;
}

export function checkRange(size: number, offset: number, length: number, what?: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new TruncatedError(offset, length, 0, what ?? `read (bad range ${hex(offset)}+${length})`);
  }
  if (offset + length > size) throw new TruncatedError(offset, length, size - offset, what);
}

/** A source over bytes already in memory. */
export class MemorySource implements SyncByteSource {
  readonly size: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly name?: string,
  ) {
    this.size = bytes.length;
  }
  readSync(offset: number, length: number, into?: Uint8Array): Uint8Array {
    checkRange(this.size, offset, length);
    const view = this.bytes.subarray(offset, offset + length);
    if (into) {
      into.set(view);
      return into.subarray(0, length);
    }
    return view;
  }
  read(offset: number, length: number): Uint8Array {
    return this.readSync(offset, length);
  }
}

/** A source over a Blob/File (browser, or Node's Blob). Async only: wrap in WindowCache. */
export class BlobSource implements ByteSource {
  readonly size: number;
  readonly name?: string;
  constructor(readonly blob: Blob) {
    this.size = blob.size;
    this.name = (blob as { name?: string }).name;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    const buf = await this.blob.slice(offset, offset + length).arrayBuffer();
    return new Uint8Array(buf);
  }
}

/**
 * Caches large windows of an async source so that synchronous decoders can run over it.
 * readSync throws MissingDataError for bytes not loaded yet; `withData` loads and retries.
 * Windows are aligned, so the first touch of a region loads the whole window (1–4 MiB
 * windows: a Chromium File.slice read costs ~0.6 ms whatever its size below 64 KiB).
 */
export class WindowCache implements SyncByteSource {
  readonly size: number;
  readonly name?: string;
  private readonly windows = new Map<number, Uint8Array>();
  constructor(
    readonly inner: ByteSource,
    readonly windowSize = 2 * 1024 * 1024,
    readonly maxWindows = 64,
  ) {
    this.size = inner.size;
    this.name = inner.name;
  }
  readSync(offset: number, length: number, into?: Uint8Array): Uint8Array {
    checkRange(this.size, offset, length);
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const w = Math.floor(pos / this.windowSize);
      const win = this.windows.get(w);
      if (!win) throw new MissingDataError(pos, length - done);
      // refresh LRU position
      this.windows.delete(w);
      this.windows.set(w, win);
      const inWin = pos - w * this.windowSize;
      const n = Math.min(length - done, win.length - inWin);
      out.set(win.subarray(inWin, inWin + n), done);
      done += n;
    }
    return out;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    await this.load(offset, length);
    return this.readSync(offset, length);
  }
  /** Load every window that [offset, offset+length) touches. */
  async load(offset: number, length: number): Promise<void> {
    checkRange(this.size, offset, length);
    const first = Math.floor(offset / this.windowSize);
    const last = Math.floor((offset + Math.max(length, 1) - 1) / this.windowSize);
    for (let w = first; w <= last; w++) {
      if (this.windows.has(w)) continue;
      const start = w * this.windowSize;
      const len = Math.min(this.windowSize, this.size - start);
      const bytes = await this.inner.read(start, len);
      this.windows.set(w, bytes);
      while (this.windows.size > this.maxWindows) {
        const oldest = this.windows.keys().next().value as number;
        this.windows.delete(oldest);
      }
    }
  }
}

/**
 * Run a synchronous decoder over a WindowCache, loading what it asks for and retrying
 * (pdf.js's ChunkedStream pattern). Bounded: a decoder that keeps asking for new data more
 * than `maxRounds` times is stopped.
 */
export async function withData<T>(cache: WindowCache, fn: () => T, maxRounds = 100_000): Promise<T> {
  for (let round = 0; round < maxRounds; round++) {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof MissingDataError)) throw e;
      await cache.load(e.offset, Math.min(e.length, cache.size - e.offset));
    }
  }
  throw new Error(`withData: decoder did not finish after ${maxRounds} loads`);
}

/** Make any source synchronous: in-memory sources pass through, others get a WindowCache. */
export function isSync(source: ByteSource): source is SyncByteSource {
  return typeof (source as SyncByteSource).readSync === "function";
}
