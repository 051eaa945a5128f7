/**
 * makedumpfile's flattened format, both ways: `unflatten` replays the records of a flattened
 * file into a normal one (what `makedumpfile -R` does), and FlattenedSink writes a flattened
 * stream (what `makedumpfile -F` and QEMU write) from a writer's pieces.
 */
import type { SyncByteSource } from "../bytes/source.js";
import {
  FLATTENED_HEADER_SIZE,
  FLATTENED_LIMITS,
  FLATTENED_SIGNATURE,
  isFlattened,
  readI64BE,
  scanFlattened,
} from "../dump/flattened.js";
import type { DumpWarning } from "../dump/types.js";
import { FormatError, hex, TruncatedError, UnsupportedError } from "../errors.js";
import type { ByteSink } from "./sink.js";

/**
 * Copy every record of a flattened file to its offset in `sink`, in stream order (a later
 * record overwrites an earlier one, as with makedumpfile -R). Returns the rebuilt size.
 */
export function unflatten(
  source: SyncByteSource,
  sink: ByteSink,
  onProgress?: (done: number, total: number) => void,
  warnings: DumpWarning[] = [],
): number {
  const { records } = scanFlattened(source, warnings);
  const buf = new Uint8Array(1 << 20);
  let size = 0;
  let done = 0;
  const total = records.reduce((n, r) => n + r.length, 0);
  for (const r of records) {
    for (let at = 0; at < r.length; at += buf.length) {
      const n = Math.min(buf.length, r.length - at);
      sink.write(r.offset + at, source.readSync(r.fileOffset + at, n, buf));
    }
    size = Math.max(size, r.offset + r.length);
    done += r.length;
    onProgress?.(done, total);
  }
  return size;
}

/** Writes a flattened stream: header, then one record per write, then the end record on close. */
export class FlattenedSink implements ByteSink {
  private pos = 0;
  constructor(private readonly out: ByteSink) {
    const head = new Uint8Array(FLATTENED_HEADER_SIZE);
    head.set(new TextEncoder().encode(FLATTENED_SIGNATURE));
    const dv = new DataView(head.buffer);
    dv.setBigInt64(16, 1n, false); // type: TYPE_FLAT_HEADER
    dv.setBigInt64(24, 1n, false); // version: VERSION_FLAT_HEADER
    this.emit(head);
  }
  private emit(b: Uint8Array): void {
    this.out.write(this.pos, b);
    this.pos += b.length;
  }
  write(offset: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const h = new Uint8Array(16);
    const dv = new DataView(h.buffer);
    dv.setBigInt64(0, BigInt(offset), false);
    dv.setBigInt64(8, BigInt(bytes.length), false);
    this.emit(h);
    this.emit(bytes);
  }
  turn(): Promise<void> | undefined {
    return this.out.turn?.();
  }
  /** Write the end record (offset −1). */
  close(): void {
    const h = new Uint8Array(16);
    const dv = new DataView(h.buffer);
    dv.setBigInt64(0, -1n, false);
    dv.setBigInt64(8, -1n, false);
    this.emit(h);
  }
}

/**
 * `makedumpfile -R` over a stream: chunks of a flattened stream (standard input) are pushed in
 * as they come and each record's bytes go to their offset in `sink` at once, so memory stays
 * at one chunk whatever the dump's size. `finish` checks the stream ended with the end record
 * (a stream cut short is an error: the rebuilt file would lack pages silently) and returns the
 * rebuilt size. The same bounds as the file reader (scanFlattened): offsets and sizes below
 * 2^53, positive sizes, a known header.
 */
export class FlattenedStreamReader {
  /** Bytes of the stream consumed (header, record headers and data). */
  pos = 0;
  /** Size of the rebuilt file so far. */
  size = 0;
  records = 0;
  private head = new Uint8Array(FLATTENED_HEADER_SIZE);
  private headLen = 0;
  private rec = new Uint8Array(16);
  private recLen = 0;
  /** Data bytes of the current record still to come, and where they go. */
  private left = 0;
  private at = 0;
  private ended = false;
  constructor(private readonly sink: ByteSink) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.ended)
        throw new FormatError(
          "flattened stream: data after the end record",
          this.pos + i,
          "the end of the stream",
        );
      if (this.headLen < FLATTENED_HEADER_SIZE) {
        const n = Math.min(FLATTENED_HEADER_SIZE - this.headLen, chunk.length - i);
        this.head.set(chunk.subarray(i, i + n), this.headLen);
        this.headLen += n;
        i += n;
        if (this.headLen === FLATTENED_HEADER_SIZE) this.checkHeader();
        continue;
      }
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - i);
        this.sink.write(this.at, chunk.subarray(i, i + n));
        this.at += n;
        this.left -= n;
        i += n;
        continue;
      }
      const n = Math.min(16 - this.recLen, chunk.length - i);
      this.rec.set(chunk.subarray(i, i + n), this.recLen);
      this.recLen += n;
      i += n;
      if (this.recLen === 16) this.startRecord(this.pos + i - 16);
    }
    this.pos += chunk.length;
  }

  private checkHeader(): void {
    if (!isFlattened(this.head)) throw new FormatError("not a flattened dump", 0, `"${FLATTENED_SIGNATURE}"`);
    const type = readI64BE(this.head, 16);
    const version = readI64BE(this.head, 24);
    if (type !== 1) throw new UnsupportedError(`flattened header type ${type}`, 16);
    if (version !== 1) throw new UnsupportedError(`flattened header version ${version}`, 24);
  }

  private startRecord(pos: number): void {
    this.recLen = 0;
    const off = readI64BE(this.rec, 0);
    if (off === "neg1") {
      this.ended = true;
      return;
    }
    const size = readI64BE(this.rec, 8);
    if (off === "bad") throw new FormatError("flattened record: bad offset", pos, "0 ≤ offset < 2^53 or −1");
    if (size === "bad" || size === "neg1" || size === 0)
      throw new FormatError("flattened record: bad size", pos + 8, "a positive size");
    if (off + size > FLATTENED_LIMITS.maxOffset)
      throw new FormatError(`flattened record: offset ${hex(off)} + size overflows`, pos);
    this.records++;
    this.at = off;
    this.left = size;
    this.size = Math.max(this.size, off + size);
  }

  /** The rebuilt size; a TruncatedError when the stream stopped before its end record. */
  finish(): number {
    if (this.headLen < FLATTENED_HEADER_SIZE)
      throw new TruncatedError(0, FLATTENED_HEADER_SIZE, this.headLen, "flattened header");
    if (this.left > 0) throw new TruncatedError(this.pos, this.left, 0, "flattened record data");
    if (!this.ended)
      throw new TruncatedError(this.pos, 16, this.recLen, "flattened end record (the stream was cut short)");
    return this.size;
  }
}
