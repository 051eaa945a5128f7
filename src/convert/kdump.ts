/**
 * Writing kdump-compressed files, in the layout makedumpfile writes (diskdump_mod.h): header
 * block, kdump_sub_header with its VMCOREINFO/notes blobs, two bitmaps (pages that exist, pages
 * dumped), page descriptors, the shared zero page, then page data. Used by `convert --to kdump`
 * and, with every layout option (versions 1–6, 32-bit packed/padded, big-endian, split parts,
 * single bitmap), by the unit tests that exercise the reader.
 */
import { zlibSync } from "fflate";
import { DUMP_DH_COMPRESSED_ZLIB } from "../codecs/pages.js";
import { KDUMP_SIGNATURE } from "../dump/diskdump.js";
import type { Dump } from "../dump/index.js";
import type { PageRun, Utsname } from "../dump/types.js";
import { FormatError } from "../errors.js";
import type { ByteSink } from "./sink.js";

/** The pages to write: which exist, which are dumped, and their bytes. */
export interface KdumpPageSource {
  readonly pageSize: number;
  readonly maxPfn: number;
  exists(pfn: number): boolean;
  dumpable(pfn: number): boolean;
  readPage(pfn: number, into: Uint8Array): void;
}

export type PageCompressor = { flag: number; fn: (page: Uint8Array) => Uint8Array | undefined };

export interface KdumpWriteOptions {
  signature?: string;
  /** Header version (1–6; default 6). */
  version?: number;
  littleEndian?: boolean;
  wordSize?: 4 | 8;
  /** 32-bit sub-header layout: i386 packs 64-bit fields, ARM/MIPS align them (default "pack"). */
  layout32?: "pack" | "pad";
  utsname?: Partial<Utsname>;
  timestamp?: { sec: number; usec: number };
  status?: number;
  nrCpus?: number;
  physBase?: bigint;
  dumpLevel?: number;
  /** Write one part of a split set: the pages of [startPfn, endPfn). */
  split?: { startPfn: number; endPfn: number };
  vmcoreinfo?: Uint8Array;
  notes?: Uint8Array;
  eraseinfo?: Uint8Array;
  /** One bitmap only (the 2.6-era diskdump layout). */
  singleBitmap?: boolean;
  /** "zlib" (makedumpfile -c), "none", or a custom compressor (tests). Default zlib. */
  compress?: "zlib" | "none" | PageCompressor;
  /** Point all-zero pages at one shared zero page (default true, as makedumpfile does). */
  zeroPage?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface KdumpWriteResult {
  size: number;
  dumped: number;
  zero: number;
  compressed: number;
}

const te = new TextEncoder();

function subHeaderSize(o: Required<Pick<KdumpWriteOptions, "wordSize" | "layout32">>): number {
  if (o.wordSize === 8) return 104;
  return o.layout32 === "pad" ? 96 : 80;
}

/** Encode the 64- or 32-bit kdump_sub_header. */
function encodeSubHeader(
  dv: DataView,
  at: number,
  le: boolean,
  ws: 4 | 8,
  pad: boolean,
  f: {
    physBase: bigint;
    dumpLevel: number;
    split: number;
    startPfn: number;
    endPfn: number;
    vmci: [number, number];
    note: [number, number];
    erase: [number, number];
    maxPfn: number;
  },
): void {
  const u64 = (o: number, v: number | bigint) => dv.setBigUint64(at + o, BigInt.asUintN(64, BigInt(v)), le);
  const u32 = (o: number, v: number) => dv.setUint32(at + o, v >>> 0, le);
  if (ws === 8) {
    u64(0, f.physBase);
    u32(8, f.dumpLevel);
    u32(12, f.split);
    u64(16, f.startPfn);
    u64(24, f.endPfn);
    u64(32, f.vmci[0]);
    u64(40, f.vmci[1]);
    u64(48, f.note[0]);
    u64(56, f.note[1]);
    u64(64, f.erase[0]);
    u64(72, f.erase[1]);
    u64(80, f.startPfn);
    u64(88, f.endPfn);
    u64(96, f.maxPfn);
    return;
  }
  const p = pad ? 4 : 0;
  u32(0, Number(BigInt.asUintN(32, f.physBase)));
  u32(4, f.dumpLevel);
  u32(8, f.split);
  u32(12, Math.min(f.startPfn, 0xffffffff));
  u32(16, Math.min(f.endPfn, 0xffffffff));
  u64(20 + p, f.vmci[0]);
  u32(28 + p, f.vmci[1]);
  u64(32 + 2 * p, f.note[0]);
  u32(40 + 2 * p, f.note[1]);
  u64(44 + 3 * p, f.erase[0]);
  u32(52 + 3 * p, f.erase[1]);
  u64(56 + 4 * p, f.startPfn);
  u64(64 + 4 * p, f.endPfn);
  u64(72 + 4 * p, f.maxPfn);
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Write a kdump-compressed file (or one split part) to `sink`. */
export function writeKdump(
  pages: KdumpPageSource,
  sink: ByteSink,
  opts: KdumpWriteOptions = {},
): KdumpWriteResult {
  const bs = pages.pageSize;
  const le = opts.littleEndian ?? true;
  const ws = opts.wordSize ?? 8;
  const layout32 = opts.layout32 ?? "pack";
  const version = opts.version ?? 6;
  const sig = opts.signature ?? KDUMP_SIGNATURE;
  const maxPfn = pages.maxPfn;
  const startPfn = opts.split?.startPfn ?? 0;
  const endPfn = opts.split?.endPfn ?? maxPfn;
  if (version >= 6 || ws === 8) {
    // fine
  } else if (maxPfn > 0xffffffff) throw new FormatError("more than 2^32 pages need header version 6");
  const zeroPage = opts.zeroPage ?? true;
  const compress: PageCompressor | undefined =
    opts.compress === "none"
      ? undefined
      : typeof opts.compress === "object"
        ? opts.compress
        : { flag: DUMP_DH_COMPRESSED_ZLIB, fn: (p) => zlibSync(p, { level: 1 }) };

  // ---- sub-header block(s): struct, then the blobs
  const kdump = sig === KDUMP_SIGNATURE;
  const structSize = subHeaderSize({ wordSize: ws, layout32 });
  let blobAt = bs + structSize;
  const place = (b: Uint8Array | undefined): [number, number] => {
    if (!b || b.length === 0) return [0, 0];
    const at = blobAt;
    blobAt += b.length;
    return [at, b.length];
  };
  const vmci = version >= 3 ? place(opts.vmcoreinfo) : ([0, 0] as [number, number]);
  const note = version >= 4 ? place(opts.notes) : ([0, 0] as [number, number]);
  const erase = version >= 5 ? place(opts.eraseinfo) : ([0, 0] as [number, number]);
  const subHdrBlocks = kdump ? Math.ceil((blobAt - bs) / bs) : 0;

  // ---- bitmaps
  const half = Math.max(1, Math.ceil(Math.ceil(maxPfn / 8) / bs)) * bs;
  const bitmapBytes = opts.singleBitmap ? half : 2 * half;
  const bitmapOff = bs * (1 + subHdrBlocks);
  const bitmap = new Uint8Array(bitmapBytes);
  const dumpOff = opts.singleBitmap ? 0 : half;
  let nDump = 0;
  for (let pfn = 0; pfn < maxPfn; pfn++) {
    const ex = pages.exists(pfn);
    if (ex && !opts.singleBitmap) bitmap[pfn >>> 3]! |= 1 << (pfn & 7);
    if (ex && pfn >= startPfn && pfn < endPfn && pages.dumpable(pfn)) {
      bitmap[dumpOff + (pfn >>> 3)]! |= 1 << (pfn & 7);
      nDump++;
    }
  }
  const descOff = bitmapOff + bitmapBytes;
  const zeroOff = descOff + nDump * 24;
  let dataOff = zeroOff + (zeroPage ? bs : 0);

  // ---- header block
  const head = new Uint8Array(bs);
  const hv = new DataView(head.buffer);
  head.set(te.encode(sig.padEnd(8).slice(0, 8)), 0);
  hv.setInt32(8, version, le);
  const uts = opts.utsname ?? {};
  ["sysname", "nodename", "release", "version", "machine", "domainname"].forEach((k, i) => {
    const v = te.encode((uts as Record<string, string>)[k] ?? "").subarray(0, 64);
    head.set(v, 12 + i * 65);
  });
  const tv = ws === 8 ? 408 : 404;
  const ts = opts.timestamp ?? { sec: 0, usec: 0 };
  if (ws === 8) {
    hv.setBigInt64(tv, BigInt(ts.sec), le);
    hv.setBigInt64(tv + 8, BigInt(ts.usec), le);
  } else {
    hv.setUint32(tv, ts.sec >>> 0, le);
    hv.setUint32(tv + 4, ts.usec >>> 0, le);
  }
  const base = tv + 2 * ws;
  hv.setUint32(base, opts.status ?? (compress ? compress.flag : 0), le);
  hv.setInt32(base + 4, bs, le);
  hv.setInt32(base + 8, subHdrBlocks, le);
  hv.setUint32(base + 12, bitmapBytes / bs, le);
  hv.setUint32(base + 16, Math.min(maxPfn, 0xffffffff), le);
  hv.setInt32(base + 36, opts.nrCpus ?? 1, le);
  sink.write(0, head);

  if (kdump && subHdrBlocks > 0) {
    const sub = new Uint8Array(subHdrBlocks * bs);
    const sv = new DataView(sub.buffer);
    encodeSubHeader(sv, 0, le, ws, layout32 === "pad", {
      physBase: opts.physBase ?? 0n,
      dumpLevel: opts.dumpLevel ?? 0,
      split: opts.split ? 1 : 0,
      startPfn: opts.split ? startPfn : 0,
      endPfn: opts.split ? endPfn : 0,
      vmci,
      note,
      erase,
      maxPfn,
    });
    if (vmci[1]) sub.set(opts.vmcoreinfo!, vmci[0] - bs);
    if (note[1]) sub.set(opts.notes!, note[0] - bs);
    if (erase[1]) sub.set(opts.eraseinfo!, erase[0] - bs);
    sink.write(bs, sub);
  }
  sink.write(bitmapOff, bitmap);
  if (zeroPage) sink.write(zeroOff, new Uint8Array(bs));

  // ---- descriptors and data, buffered
  const page = new Uint8Array(bs);
  const descBuf = new Uint8Array(24 * 4096);
  const dd = new DataView(descBuf.buffer);
  let descN = 0;
  let descAt = descOff;
  const dataBuf = new Uint8Array(1 << 20);
  let dataN = 0;
  let dataAt = dataOff;
  const flushDesc = () => {
    if (descN) sink.write(descAt, descBuf.subarray(0, descN * 24));
    descAt += descN * 24;
    descN = 0;
  };
  const flushData = () => {
    if (dataN) sink.write(dataAt, dataBuf.subarray(0, dataN));
    dataAt += dataN;
    dataN = 0;
  };
  const desc = (offset: number, size: number, flags: number) => {
    const o = descN * 24;
    dd.setBigUint64(o, BigInt(offset), le);
    dd.setUint32(o + 8, size, le);
    dd.setUint32(o + 12, flags, le);
    dd.setBigUint64(o + 16, 0n, le);
    if (++descN === 4096) flushDesc();
  };
  let done = 0;
  let zero = 0;
  let compressed = 0;
  for (let pfn = startPfn; pfn < endPfn; pfn++) {
    if (!(bitmap[dumpOff + (pfn >>> 3)]! & (1 << (pfn & 7)))) continue;
    pages.readPage(pfn, page);
    if (zeroPage && isZero(page)) {
      desc(zeroOff, bs, 0);
      zero++;
    } else {
      let data: Uint8Array = page;
      let flags = 0;
      const c = compress?.fn(page);
      if (c && c.length < bs) {
        data = c;
        flags = compress!.flag;
        compressed++;
      }
      if (dataN + data.length > dataBuf.length) flushData();
      desc(dataOff, data.length, flags);
      dataBuf.set(data, dataN);
      dataN += data.length;
      dataOff += data.length;
    }
    done++;
    if ((done & 1023) === 0) opts.onProgress?.(done, nDump);
  }
  flushDesc();
  flushData();
  opts.onProgress?.(nDump, nDump);
  return { size: dataOff, dumped: nDump, zero, compressed };
}

/** Binary search: the index of the last range starting at or before `addr`. */
function rangeAt(map: PageRun[], addr: number): number {
  let lo = 0;
  let hi = map.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid]!.start <= addr) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

/**
 * A Dump as pages to write: a page exists when any of it is in the memory map, and is dumped
 * when any of it has bytes (present or zero); bytes not in the dump read as zeros.
 */
export function dumpPages(dump: Dump): KdumpPageSource {
  const ps = dump.pageSize;
  const map = dump.memoryMap();
  const maxPfn = Math.ceil(dump.maxAddress / ps);
  const code = new Uint8Array(maxPfn);
  for (const r of map) {
    const v = r.state === "present" || r.state === "zero" ? 2 : 1;
    const last = Math.ceil(r.end / ps);
    for (let p = Math.floor(r.start / ps); p < last; p++) if (code[p]! < v) code[p] = v;
  }
  return {
    pageSize: ps,
    maxPfn,
    exists: (pfn) => code[pfn]! > 0,
    dumpable: (pfn) => code[pfn] === 2,
    readPage(pfn, into) {
      const a = pfn * ps;
      try {
        dump.readPhys(a, ps, into);
        return;
      } catch {
        // a page only partly in the dump: take the parts that are, zeros elsewhere
      }
      into.fill(0);
      for (let i = Math.max(0, rangeAt(map, a)); i < map.length && map[i]!.start < a + ps; i++) {
        const r = map[i]!;
        if (r.state !== "present" && r.state !== "zero") continue;
        const s = Math.max(a, r.start);
        const e = Math.min(a + ps, r.end);
        if (e > s) dump.readPhys(s, e - s, into.subarray(s - a, e - a));
      }
    },
  };
}

/** Convert any Dump to kdump-compressed, keeping its identity (utsname, notes, VMCOREINFO). */
export function dumpToKdump(dump: Dump, sink: ByteSink, opts: KdumpWriteOptions = {}): KdumpWriteResult {
  const vmci = dump.vmcoreinfo ? te.encode(dump.vmcoreinfo.text) : undefined;
  const notesBytes = encodeNoteBlob(dump);
  const uts: Partial<Utsname> = dump.utsname ?? {
    sysname: "Linux",
    release: dump.kernelRelease ?? "",
    machine: dump.arch === "arm64" ? "aarch64" : (dump.arch ?? ""),
  };
  return writeKdump(dumpPages(dump), sink, {
    littleEndian: dump.littleEndian,
    wordSize: dump.wordSize,
    utsname: uts,
    timestamp: { sec: dump.crashTime ?? 0, usec: 0 },
    nrCpus: dump.cpuCount ?? 1,
    physBase: dump.vmcoreinfo?.numberU64("phys_base") ?? dump.headerPhysBase ?? 0n,
    vmcoreinfo: vmci,
    notes: notesBytes,
    ...opts,
  });
}

/** The dump's notes as one blob (Elf_Nhdr records, 4-byte padding). */
export function encodeNoteBlob(dump: Dump): Uint8Array | undefined {
  if (dump.notes.length === 0) return undefined;
  let size = 0;
  const parts = dump.notes.map((n) => {
    const name = n.name.length ? te.encode(`${n.name}\0`) : new Uint8Array(0);
    const len = 12 + ((name.length + 3) & ~3) + ((n.desc.length + 3) & ~3);
    size += len;
    return { n, name, len };
  });
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const { n, name, len } of parts) {
    dv.setUint32(at, name.length, dump.littleEndian);
    dv.setUint32(at + 4, n.desc.length, dump.littleEndian);
    dv.setUint32(at + 8, n.type, dump.littleEndian);
    out.set(name, at + 12);
    out.set(n.desc, at + 12 + ((name.length + 3) & ~3));
    at += len;
  }
  return out;
}
