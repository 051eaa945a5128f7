/**
 * The one growable byte buffer: capacity doubles as bytes are appended, optionally up to a hard
 * ceiling (untrusted sizes — a decompression bomb, a corrupt length — end in a LimitError
 * naming what grew, never in an allocation the input chose). Payload codecs write `buf[pos++]`
 * directly in their hot loops after `ensure`; the ELF/dump `Writer`, the printk formatter, the
 * in-memory sink and the compression worker build on it too.
 */
import { LimitError } from "../errors.js";

export interface ByteBufferOptions {
  /** Initial capacity in bytes (default 64 KiB; clamped to `max`). */
  initial?: number;
  /** Largest size allowed; growing past it throws LimitError (default: 2^31 − 1, an array's limit). */
  max?: number;
  /** What the bytes are, for the LimitError ("gzip output size"). */
  what?: string;
}

const ARRAY_MAX = 0x7fffffff;

export class ByteBuffer {
  /** The storage; bytes [0, pos) are the content. Replaced when the buffer grows. */
  buf: Uint8Array<ArrayBuffer>;
  /** Bytes written so far (the write position). */
  pos = 0;
  readonly max: number;
  readonly what: string;

  constructor(opts: ByteBufferOptions = {}) {
    this.max = Math.min(opts.max ?? ARRAY_MAX, ARRAY_MAX);
    this.what = opts.what ?? "buffer size";
    this.buf = new Uint8Array(Math.max(16, Math.min(opts.initial ?? 1 << 16, this.max)));
  }

  /** Make room for `n` more bytes after `pos`. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }

  /** Make the capacity at least `end` bytes (content [0, pos) is kept). */
  reserve(end: number): void {
    if (end > this.buf.length) this.grow(end);
  }

  /** Reallocate to hold `need` bytes: doubling, capped at `max`. Subclasses refresh their views. */
  protected grow(need: number): void {
    if (!(need <= this.max)) throw new LimitError(this.what, need, this.max);
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(Math.min(cap, this.max));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Append bytes. */
  push(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Append a string's UTF-16 code units as bytes (callers pass ASCII/latin1 text). */
  ascii(s: string): void {
    this.ensure(s.length);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** The content as a view (valid until the next write). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** The content as a copy of its own. */
  copy(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.pos);
  }
}
