/**
 * A byte buffer flushed to a sink in large chunks: listings of 100k+ entries (symbols of a
 * debug vmlinux, program headers of a QEMU paging dump) are written as bytes, without one
 * string per line for the garbage collector to chase.
 */

const HEX = new TextEncoder().encode("0123456789abcdef");
const enc = new TextEncoder();

/** Hex digits needed for a uint32 (at least 1). */
function digits32(v: number): number {
  let n = 1;
  while (n < 8 && v >>> (4 * n) !== 0) n++;
  return n;
}

export class ByteOut {
  private buf = new Uint8Array(1 << 20);
  private pos = 0;
  constructor(private readonly sink: (chunk: Uint8Array) => void) {}
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(n * 2);
  }
  flush(): void {
    if (this.pos) this.sink(this.buf.slice(0, this.pos));
    this.pos = 0;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }
  ascii(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }
  spaces(n: number): void {
    this.room(n);
    for (let i = 0; i < n; i++) this.buf[this.pos++] = 0x20;
  }
  /** A non-negative integer below 2^32 in decimal (no string made). */
  dec(v: number): void {
    this.decPad(v, 0);
  }
  /** A non-negative integer below 2^32 in decimal, right-aligned with spaces in `width`. */
  decPad(v: number, width: number): void {
    let n = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
    const w = n > width ? n : width;
    this.room(w);
    const end = this.pos + w;
    for (let i = this.pos; i < end - n; i++) this.buf[i] = 0x20;
    for (let i = end - 1, t = v; i >= end - n; i--, t = Math.floor(t / 10)) this.buf[i] = 0x30 + (t % 10);
    this.pos = end;
  }
  /** `width` hex digits of a uint32 (zero padded). */
  hex32(v: number, width: number): void {
    this.room(width);
    for (let i = width - 1; i >= 0; i--) {
      this.buf[this.pos + i] = HEX[v & 0xf]!;
      v >>>= 4;
    }
    this.pos += width;
  }
  /** A 64-bit value from halves: zero padded to `pad` digits, or minimal when pad is 0. */
  hex64(hi: number, lo: number, pad: number): void {
    if (pad) {
      if (pad > 8) this.hex32(hi, pad - 8);
      this.hex32(lo, 8);
      return;
    }
    if (hi) {
      this.ascii(hi.toString(16));
      this.hex32(lo, 8);
    } else this.ascii(lo.toString(16));
  }
  /** A 64-bit value from halves in at least `width` hex digits (printf's %0<width>lx). */
  hexMin(hi: number, lo: number, width: number): void {
    const n = hi ? 8 + digits32(hi) : digits32(lo);
    const w = n > width ? n : width;
    if (w > 8) this.hex32(hi, w - 8);
    this.hex32(lo, w > 8 ? 8 : w);
  }
  /**
   * A size as readelf prints it (binutils print_vma DEC_5): decimal right-aligned in 5
   * columns below 100000, else 0x-prefixed hex.
   */
  size5(hi: number, lo: number): void {
    if (hi === 0 && lo < 100_000) {
      this.decPad(lo, 5);
      return;
    }
    this.ascii("0x");
    this.hex64(hi, lo, 0);
  }
  /** A NUL-terminated name from a string table, raw bytes (JSON-escaped when asked). */
  cstr(tab: Uint8Array, at: number, json: boolean): void {
    let e = at;
    while (e < tab.length && tab[e] !== 0) e++;
    if (!json) {
      // a byte loop, not tab.subarray: one view object per symbol kept the GC busy
      this.room(e - at);
      const buf = this.buf;
      let p = this.pos;
      for (let i = at; i < e; i++) buf[p++] = tab[i]!;
      this.pos = p;
      return;
    }
    let plain = true;
    for (let i = at; i < e; i++) {
      const c = tab[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
        plain = false;
        break;
      }
    }
    if (plain) {
      this.room(e - at);
      const buf = this.buf;
      let p = this.pos;
      for (let i = at; i < e; i++) buf[p++] = tab[i]!;
      this.pos = p;
    } else this.bytes(enc.encode(JSON.stringify(new TextDecoder().decode(tab.subarray(at, e))).slice(1, -1)));
  }
}
