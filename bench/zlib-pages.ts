/**
 * The zlib-compressed page records of a kdump file, for the inflate benchmarks
 * (bench/browser-inflate.ts, bench/inflate-node.ts).
 */
import * as fs from "node:fs";
import { parseKdumpHeader } from "../src/dump/diskdump.js";

/** The zlib-compressed page records of a kdump file (flag bit 0), in descriptor order. */
export function zlibPages(file: string): { pages: Uint8Array[]; pageSize: number } {
  const f = new Uint8Array(fs.readFileSync(file));
  const h = parseKdumpHeader(f);
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const pages: Uint8Array[] = [];
  let at = (1 + h.subHdrSize + h.bitmapBlocks) * h.blockSize;
  // descriptors run until the first that points outside the file (the data follows them)
  for (; at + 24 <= f.length && pages.length < 1 << 22; at += 24) {
    const off = Number(dv.getBigInt64(at, h.littleEndian));
    const size = dv.getUint32(at + 8, h.littleEndian);
    const flags = dv.getUint32(at + 12, h.littleEndian);
    if (off <= 0 || off + size > f.length || size > 2 * h.blockSize) break;
    if (flags & 1) pages.push(f.subarray(off, off + size));
  }
  return { pages, pageSize: h.blockSize };
}
