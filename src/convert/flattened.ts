/**
 * makedumpfile's flattened format, both ways: `unflatten` replays the records of a flattened
 * file into a normal one (what `makedumpfile -R` does), and FlattenedSink writes a flattened
 * stream (what `makedumpfile -F` and QEMU write) from a writer's pieces.
 */
import type { SyncByteSource } from "../bytes/source.js";
import { FLATTENED_HEADER_SIZE, FLATTENED_SIGNATURE, scanFlattened } from "../dump/flattened.js";
import type { DumpWarning } from "../dump/types.js";
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
  /** Write the end record (offset −1). */
  close(): void {
    const h = new Uint8Array(16);
    const dv = new DataView(h.buffer);
    dv.setBigInt64(0, -1n, false);
    dv.setBigInt64(8, -1n, false);
    this.emit(h);
  }
}
