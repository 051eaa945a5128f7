/**
 * makedumpfile's flattened format (makedumpfile -F, and what QEMU's dump-guest-memory writes
 * for kdump-zlib/lzo/snappy): a stream that can go through a pipe. makedumpfile.h:
 *
 *   struct makedumpfile_header { char signature[16] = "makedumpfile"; int64 type = 1; int64 version = 1; }
 *     padded to 4096 bytes, then records until one with offset −1:
 *   struct makedumpfile_data_header { int64 offset; int64 buf_size; }  followed by buf_size bytes
 *
 * All integers big-endian whatever the dumped machine. Each record says "these bytes go at this
 * offset of the normal file" (`makedumpfile -R` replays them). FlattenedSource reads the
 * normal file's bytes in place through a sorted index of the records, so every reader of
 * kdump-compressed files works on flattened ones unchanged.
 */
import { decodeText } from "../bytes/cursor.js";
import { checkRange, type SyncByteSource } from "../bytes/source.js";
import { FormatError, hex, LimitError, TruncatedError, UnsupportedError } from "../errors.js";
import type { DumpWarning } from "./types.js";
import { ReadWindow } from "./window.js";

export const FLATTENED_SIGNATURE = "makedumpfile";
export const FLATTENED_HEADER_SIZE = 4096;
const RECORD_HEADER = 16;

export const FLATTENED_LIMITS = {
  /** Records indexed (each costs 24 bytes of index). */
  maxRecords: 1 << 26,
  /** Largest offset of the rebuilt file (2^53 − 1 is the hard bound). */
  maxOffset: Number.MAX_SAFE_INTEGER,
};

/** True if the bytes start with the flattened signature. */
export function isFlattened(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  if (decodeText(head.subarray(0, 12)) !== FLATTENED_SIGNATURE) return false;
  for (let i = 12; i < 16; i++) if (head[i] !== 0) return false;
  return true;
}

export interface FlattenedRecord {
  /** Offset in the rebuilt ("normal") file. */
  offset: number;
  /** Bytes of the record present in the flattened file (less than declared if truncated). */
  length: number;
  /** Where the bytes are in the flattened file. */
  fileOffset: number;
}

/** A big-endian int64 field: a number below 2^53, "neg1" (the end record), or "bad". */
export function readI64BE(b: Uint8Array, at: number): number | "neg1" | "bad" {
  const dv = new DataView(b.buffer, b.byteOffset + at, 8);
  const hi = dv.getInt32(0, false);
  const lo = dv.getUint32(4, false);
  if (hi === -1 && lo === 0xffffffff) return "neg1";
  if (hi < 0 || hi >= 0x20_0000) return "bad";
  return hi * 0x1_0000_0000 + lo;
}

/** Scan the records of a flattened file (in file order). */
export function scanFlattened(
  source: SyncByteSource,
  warnings: DumpWarning[] = [],
): { records: FlattenedRecord[]; ended: boolean } {
  // Progress survives a MissingDataError: in the browser, withData loads the window asked for
  // and runs the opener again, which then continues here instead of rescanning a file larger
  // than the window cache (and thrashing it).
  let st = scans.get(source);
  if (!st) {
    if (source.size < FLATTENED_HEADER_SIZE)
      throw new TruncatedError(0, FLATTENED_HEADER_SIZE, source.size, "flattened header");
    const head = source.readSync(0, 32);
    if (!isFlattened(head)) throw new FormatError("not a flattened dump", 0, `"${FLATTENED_SIGNATURE}"`);
    const type = readI64BE(head, 16);
    const version = readI64BE(head, 24);
    if (type !== 1) throw new UnsupportedError(`flattened header type ${type}`, 16);
    if (version !== 1) throw new UnsupportedError(`flattened header version ${version}`, 24);
    st = { pos: FLATTENED_HEADER_SIZE, records: [], ended: false, done: false, warnings: [] };
    scans.set(source, st);
  }
  if (!st.done) scanFrom(source, st);
  warnings.push(...st.warnings);
  return { records: st.records, ended: st.ended };
}

interface ScanState {
  pos: number;
  records: FlattenedRecord[];
  ended: boolean;
  done: boolean;
  warnings: DumpWarning[];
}
const scans = new WeakMap<SyncByteSource, ScanState>();

function scanFrom(source: SyncByteSource, st: ScanState): void {
  const records = st.records;
  // read record headers through a buffered window: QEMU writes one record per page or so
  const win = new ReadWindow(source, 1 << 20, 1 << 20);
  while (st.pos + RECORD_HEADER <= source.size) {
    const pos = st.pos;
    const buf = win.view(pos, RECORD_HEADER);
    const off = readI64BE(buf, 0);
    if (off === "neg1") {
      st.ended = true;
      break;
    }
    const size = readI64BE(buf, 8);
    if (off === "bad") throw new FormatError("flattened record: bad offset", pos, "0 ≤ offset < 2^53 or −1");
    if (size === "bad" || size === "neg1" || size === 0)
      throw new FormatError(`flattened record: bad size`, pos + 8, "a positive size");
    if (off + size > FLATTENED_LIMITS.maxOffset)
      throw new FormatError(`flattened record: offset ${hex(off)} + size overflows`, pos);
    if (records.length >= FLATTENED_LIMITS.maxRecords)
      throw new LimitError("flattened records", records.length, FLATTENED_LIMITS.maxRecords, pos);
    const dataAt = pos + RECORD_HEADER;
    const avail = Math.min(size, source.size - dataAt);
    if (avail > 0) records.push({ offset: off, length: avail, fileOffset: dataAt });
    if (avail < size) {
      st.warnings.push({
        code: "truncated",
        message: `flattened record at ${hex(pos)} declares ${size} bytes, the file ends after ${Math.max(0, avail)}`,
        offset: pos,
      });
      st.done = true;
      return;
    }
    st.pos = dataAt + size;
  }
  if (!st.ended)
    st.warnings.push({
      code: "truncated",
      message: `flattened stream ends at ${hex(source.size)} without its end record (offset −1): the dump is truncated`,
    });
  st.done = true;
}

/**
 * Resolve overlapping records (a later record overwrites an earlier one, as makedumpfile -R
 * replaying them would) into sorted, disjoint pieces.
 */
export function indexRecords(records: FlattenedRecord[]): FlattenedRecord[] {
  const sorted = records
    .map((r, i) => ({ ...r, seq: i }))
    .sort((a, b) => a.offset - b.offset || a.seq - b.seq);
  let overlap = false;
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.offset < sorted[i - 1]!.offset + sorted[i - 1]!.length) {
      overlap = true;
      break;
    }
  if (!overlap) return sorted.map(({ offset, length, fileOffset }) => ({ offset, length, fileOffset }));
  // Painter's algorithm, latest first: keep only the parts not yet covered.
  const pieces: FlattenedRecord[] = []; // sorted, disjoint
  const findFirstEndingAfter = (x: number) => {
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (pieces[m]!.offset + pieces[m]!.length <= x) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    let s = r.offset;
    const end = r.offset + r.length;
    let k = findFirstEndingAfter(s);
    const add: FlattenedRecord[] = [];
    while (s < end) {
      const p = pieces[k];
      if (p && p.offset <= s) {
        s = p.offset + p.length;
        k++;
        continue;
      }
      const e = p ? Math.min(end, p.offset) : end;
      if (e > s) add.push({ offset: s, length: e - s, fileOffset: r.fileOffset + (s - r.offset) });
      s = e;
    }
    if (add.length) {
      for (const a of add) pieces.push(a);
      pieces.sort((a, b) => a.offset - b.offset);
    }
  }
  return pieces;
}

/**
 * The rebuilt file, read in place. Bytes no record wrote read as zeros (makedumpfile -R leaves
 * them as holes) up to the end of the last record; reads past that throw TruncatedError.
 */
export class FlattenedSource implements SyncByteSource {
  readonly size: number;
  readonly name?: string;
  readonly records: FlattenedRecord[];
  /** The stream ended with its end record (not truncated). */
  readonly ended: boolean;
  readonly warnings: DumpWarning[] = [];
  private readonly starts: Float64Array;
  private last = 0;

  constructor(readonly inner: SyncByteSource) {
    this.name = inner.name;
    const { records, ended } = scanFlattened(inner, this.warnings);
    this.ended = ended;
    this.records = indexRecords(records);
    this.starts = Float64Array.from(this.records, (r) => r.offset);
    this.size = this.records.reduce((m, r) => Math.max(m, r.offset + r.length), 0);
  }

  /** Index of the last record starting at or before `off` (or −1). */
  private floor(off: number): number {
    const l = this.records[this.last];
    if (l && l.offset <= off && off < l.offset + l.length) return this.last;
    const st = this.starts;
    let lo = 0;
    let hi = st.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (st[mid]! <= off) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }

  readSync(offset: number, length: number, into?: Uint8Array): Uint8Array {
    checkRange(this.size, offset, length);
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    let i = this.floor(offset);
    const recs = this.records;
    while (done < length) {
      const pos = offset + done;
      while (i + 1 < recs.length && recs[i + 1]!.offset <= pos) i++;
      const r = i >= 0 ? recs[i] : undefined;
      if (r && pos < r.offset + r.length) {
        const n = Math.min(length - done, r.offset + r.length - pos);
        this.inner.readSync(r.fileOffset + (pos - r.offset), n, out.subarray(done, done + n));
        done += n;
        this.last = i;
        continue;
      }
      // a gap no record wrote: zeros up to the next record
      const nextStart = i + 1 < recs.length ? recs[i + 1]!.offset : offset + length;
      const n = Math.min(length - done, nextStart - pos);
      out.fill(0, done, done + n);
      done += n;
    }
    return out;
  }

  read(offset: number, length: number): Uint8Array {
    return this.readSync(offset, length);
  }

  /**
   * How many bytes from `offset` (up to `length`) records really wrote. In a stream that ended
   * properly, unwritten gaps are holes (zeros, as makedumpfile -R leaves them); in a truncated
   * one they are data the producer never got to write, so kdump readers call them missing.
   */
  available(offset: number, length: number): number {
    if (this.ended) return Math.max(0, Math.min(length, this.size - offset));
    let done = 0;
    let i = this.floor(offset);
    const recs = this.records;
    while (done < length) {
      const pos = offset + done;
      while (i + 1 < recs.length && recs[i + 1]!.offset <= pos) i++;
      const r = i >= 0 ? recs[i] : undefined;
      if (!r || pos >= r.offset + r.length) break;
      done += Math.min(length - done, r.offset + r.length - pos);
    }
    return done;
  }
}
