import { FormatError, TruncatedError } from "../errors.js";
import { ByteBuffer } from "./buffer.js";

const TWO32 = 0x1_0000_0000;

/**
 * A synchronous, bounds-checked reader over a byte array. Positions are relative to the
 * array; `base` is the file offset of byte 0, used only in error messages.
 * 64-bit values: `u64()` returns a bigint (edges), `u64n()` a number checked < 2^53
 * (offsets, sizes, physical addresses), `u64hi()`/`u64lo()`-style access through `hiLo()`
 * for hot paths.
 */
export class Cursor {
  readonly view: DataView;
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    public littleEndian = true,
    readonly base = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.length;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  /** Throw TruncatedError unless `n` bytes are available at `at` (default: current position). */
  need(n: number, at = this.pos, what?: string): void {
    if (at < 0 || n < 0 || at + n > this.bytes.length) {
      throw new TruncatedError(this.base + at, n, this.bytes.length - at, what);
    }
  }
  seek(pos: number): this {
    if (pos < 0 || pos > this.bytes.length)
      throw new TruncatedError(this.base + pos, 0, this.bytes.length - pos);
    this.pos = pos;
    return this;
  }
  skip(n: number): this {
    this.need(n);
    this.pos += n;
    return this;
  }
  u8(at?: number): number {
    const p = at ?? this.pos;
    this.need(1, p);
    if (at === undefined) this.pos += 1;
    return this.view.getUint8(p);
  }
  u16(at?: number): number {
    const p = at ?? this.pos;
    this.need(2, p);
    if (at === undefined) this.pos += 2;
    return this.view.getUint16(p, this.littleEndian);
  }
  i16(at?: number): number {
    const p = at ?? this.pos;
    this.need(2, p);
    if (at === undefined) this.pos += 2;
    return this.view.getInt16(p, this.littleEndian);
  }
  u32(at?: number): number {
    const p = at ?? this.pos;
    this.need(4, p);
    if (at === undefined) this.pos += 4;
    return this.view.getUint32(p, this.littleEndian);
  }
  i32(at?: number): number {
    const p = at ?? this.pos;
    this.need(4, p);
    if (at === undefined) this.pos += 4;
    return this.view.getInt32(p, this.littleEndian);
  }
  /** 64-bit unsigned as bigint. */
  u64(at?: number): bigint {
    const p = at ?? this.pos;
    this.need(8, p);
    if (at === undefined) this.pos += 8;
    return this.view.getBigUint64(p, this.littleEndian);
  }
  i64(at?: number): bigint {
    const p = at ?? this.pos;
    this.need(8, p);
    if (at === undefined) this.pos += 8;
    return this.view.getBigInt64(p, this.littleEndian);
  }
  /** 64-bit unsigned as [hi, lo] uint32 halves (no BigInt: hot paths). */
  hiLo(at?: number): [number, number] {
    const p = at ?? this.pos;
    this.need(8, p);
    if (at === undefined) this.pos += 8;
    const a = this.view.getUint32(p, this.littleEndian);
    const b = this.view.getUint32(p + 4, this.littleEndian);
    return this.littleEndian ? [b, a] : [a, b];
  }
  /** 64-bit unsigned as a number; FormatError if ≥ 2^53 (offsets, sizes, physical addresses). */
  u64n(at?: number, what = "64-bit value"): number {
    const p = at ?? this.pos;
    const [hi, lo] = this.hiLo(at);
    if (hi >= 0x20_0000)
      throw new FormatError(`${what} does not fit in 53 bits`, this.base + p, "a value < 2^53");
    return hi * TWO32 + lo;
  }
  /** Word of `size` bytes (4 or 8) as bigint. */
  word(size: 4 | 8, at?: number): bigint {
    return size === 8 ? this.u64(at) : BigInt(this.u32(at));
  }
  /** Word of `size` bytes as a number checked < 2^53. */
  wordn(size: 4 | 8, at?: number, what?: string): number {
    return size === 8 ? this.u64n(at, what) : this.u32(at);
  }
  /** `n` raw bytes (a view, not a copy). */
  take(n: number, at?: number): Uint8Array {
    const p = at ?? this.pos;
    this.need(n, p);
    if (at === undefined) this.pos += n;
    return this.bytes.subarray(p, p + n);
  }
  /** A NUL-terminated string within `max` bytes (or to the end), decoded as latin1-safe UTF-8. */
  cstring(at?: number, max = this.bytes.length): string {
    const p = at ?? this.pos;
    this.need(0, p);
    const end = Math.min(this.bytes.length, p + max);
    let e = p;
    while (e < end && this.bytes[e] !== 0) e++;
    if (at === undefined) this.pos = Math.min(e + 1, this.bytes.length);
    return decodeText(this.bytes.subarray(p, e));
  }
  /** A fixed-size field holding a NUL-padded string. */
  fixedString(n: number, at?: number): string {
    const b = this.take(n, at);
    let e = 0;
    while (e < b.length && b[e] !== 0) e++;
    return decodeText(b.subarray(0, e));
  }
}

/** Made on first use: a TextDecoder costs a short CLI run ~1 ms to create at load time. */
let utf8: TextDecoder | undefined;
export function decodeText(b: Uint8Array): string {
  utf8 ??= new TextDecoder("utf-8", { fatal: false });
  return utf8.decode(b);
}

/**
 * Bytes as ISO-8859-1 text: each byte one code point, so strings map back to the same bytes.
 * (TextDecoder("latin1") is windows-1252 in the WHATWG encoding standard: it turns 0x80–0x9f
 * into other characters, which breaks byte-exact log and console text.)
 */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

/** Combine hi/lo halves to a bigint (at the API edge). */
export function hiLoToBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Split a bigint into [hi, lo] uint32 halves. */
export function bigIntToHiLo(v: bigint): [number, number] {
  const m = BigInt.asUintN(64, v);
  return [Number(m >> 32n), Number(m & 0xffff_ffffn)];
}

/** Convert a bigint to a number, throwing if it is not below 2^53. */
export function toSafeNumber(v: bigint, what = "value"): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(`${what} 0x${BigInt.asUintN(64, v).toString(16)} does not fit in 53 bits`);
  }
  return Number(v);
}

/** A growable little/big-endian byte writer (used by the ELF writer and dump writers). */
export class Writer extends ByteBuffer {
  private view: DataView;
  constructor(
    public littleEndian = true,
    initial = 4096,
  ) {
    super({ initial, what: "written size" });
    this.view = new DataView(this.buf.buffer);
  }
  protected override grow(need: number): void {
    // keep everything up to the high-water mark: seek() may have moved pos back
    const pos = this.pos;
    this.pos = this.buf.length;
    super.grow(need);
    this.pos = pos;
    this.view = new DataView(this.buf.buffer);
  }
  get length(): number {
    return this.pos;
  }
  seek(pos: number): this {
    this.reserve(pos);
    this.pos = pos;
    return this;
  }
  u8(v: number): this {
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, v, this.littleEndian);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, this.littleEndian);
    this.pos += 4;
    return this;
  }
  u64(v: bigint | number): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, BigInt(v)), this.littleEndian);
    this.pos += 8;
    return this;
  }
  word(size: 4 | 8, v: bigint | number): this {
    return size === 8 ? this.u64(v) : this.u32(Number(BigInt.asUintN(32, BigInt(v))));
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }
  align(n: number): this {
    const r = this.pos % n;
    return r ? this.zeros(n - r) : this;
  }
  /** The written bytes (a copy trimmed to the high-water mark). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
