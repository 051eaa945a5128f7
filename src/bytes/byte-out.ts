/**
 * A byte buffer handed to a sink in large chunks: listings of 100k+ entries (symbols of a
 * debug vmlinux, program headers of a QEMU paging dump) are written as bytes, without one
 * string per line for the garbage collector to chase.
 *
 * Hot loops write into `buf` themselves (a local copy of `buf` and `pos`, one bounds check per
 * record through `reserve`), so that V8 optimises one loop instead of a call per field.
 */

/** ASCII hex digits, indexed by nibble. */
export const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");

/** Hex digits needed for a 64-bit value given as uint32 halves (at least 1). */
export function hexDigits(hi: number, lo: number): number {
  if (hi !== 0) return 16 - (Math.clz32(hi) >> 2);
  return lo === 0 ? 1 : 8 - (Math.clz32(lo) >> 2);
}

/**
 * Write the low `w` hex digits (w ≤ 16) of the 64-bit value hi:lo at `p`, zero padded;
 * returns the position after them.
 */
export function putHex(buf: Uint8Array, p: number, hi: number, lo: number, w: number): number {
  let e = p + w;
  const end = e;
  for (let i = w < 8 ? w : 8; i > 0; i--) {
    buf[--e] = HEX_DIGITS[lo & 0xf]!;
    lo >>>= 4;
  }
  for (let i = w - 8; i > 0; i--) {
    buf[--e] = HEX_DIGITS[hi & 0xf]!;
    hi >>>= 4;
  }
  return end;
}

/** Write a uint32 in decimal right-aligned in `width` columns (spaces before); returns the end. */
export function putDecPad(buf: Uint8Array, p: number, v: number, width: number): number {
  let n = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
  const end = p + (n > width ? n : width);
  let i = end;
  for (let t = v; n > 0; n--, t = Math.floor(t / 10)) buf[--i] = 0x30 + (t % 10);
  while (i > p) buf[--i] = 0x20;
  return end;
}

/**
 * A decimal counter kept as ASCII digits (the entry index of a listing): incrementing it costs
 * a digit or two, where formatting the number again costs a division per digit.
 */
export class DecimalCounter {
  /** The digits, right-aligned, spaces before them. */
  readonly digits = new Uint8Array(16).fill(0x20);
  /** How many digits the value has. */
  length = 1;
  constructor() {
    this.digits[15] = 0x30;
  }
  increment(): void {
    const d = this.digits;
    let j = 15;
    while (d[j] === 0x39) d[j--] = 0x30;
    if (d[j] === 0x20) {
      d[j] = 0x31;
      this.length++;
    } else d[j]!++;
  }
}

const enc = new TextEncoder();
const EMPTY = new Uint8Array(0);

export class ByteOut {
  /** The current chunk; bytes below `pos` are written. */
  buf: Uint8Array;
  pos = 0;
  constructor(
    private readonly sink: (chunk: Uint8Array) => void,
    private readonly chunkSize = 1 << 18,
  ) {
    this.buf = new Uint8Array(chunkSize);
  }
  /**
   * Make room for `n` more bytes: hands the written bytes to the sink (when they don't fit) and
   * returns the buffer to write into from `pos`.
   */
  reserve(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, this.chunkSize));
    }
    return this.buf;
  }
  /**
   * Hands the written bytes to the sink. The sink owns the chunk (callers collect chunks): the
   * next bytes go to a new buffer rather than a copy of this one (none after the `last` flush).
   */
  flush(last = false): void {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = last ? EMPTY : new Uint8Array(this.chunkSize);
    this.pos = 0;
    this.sink(chunk);
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length).set(b, this.pos);
    this.pos += b.length;
  }
  /** A string of ASCII (or Latin-1) characters, one byte each. */
  ascii(s: string): void {
    const buf = this.reserve(s.length);
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }
  /** Any string, as UTF-8. */
  text(s: string): void {
    this.bytes(enc.encode(s));
  }
}
