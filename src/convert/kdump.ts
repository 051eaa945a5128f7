/**
 * Writing kdump-compressed files, in the layout makedumpfile writes (diskdump_mod.h): header
 * block, kdump_sub_header with its VMCOREINFO/notes blobs, two bitmaps (pages that exist, pages
 * dumped), page descriptors, the shared zero page, then page data. Used by `convert --to kdump`
 * and, with every layout option (versions 1–6, 32-bit packed/padded, big-endian, split parts,
 * single bitmap), by the unit tests that exercise the reader.
 */
import type { SyncByteSource } from "../bytes/source.js";
import { isZeroPage } from "../bytes/zero.js";
import type { PageCompressor } from "../codecs/pages.js";
import { DUMP_DH_COMPRESSED_INCOMPLETE, KDUMP_SIGNATURE } from "../dump/diskdump.js";
import type { Dump } from "../dump/index.js";
import type { PageRun, Utsname } from "../dump/types.js";
import { carryNotes } from "../elf/writer.js";
import { FormatError, LimitError, MissingDataError } from "../errors.js";
import { BATCH_ZERO_PAGE } from "./batch.js";
import type { ByteSink } from "./sink.js";

/** The pages to write: which exist, which are dumped, and their bytes. */
export interface KdumpPageSource {
  readonly pageSize: number;
  readonly maxPfn: number;
  exists(pfn: number): boolean;
  dumpable(pfn: number): boolean;
  /**
   * A dumpable page whose bytes the input did not have (missing from a truncated file, or
   * not written by its producer): written with an empty descriptor and the file marked
   * INCOMPLETE, so readers say "not dumped" instead of inventing bytes.
   */
  notDumped?(pfn: number): boolean;
  readPage(pfn: number, into: Uint8Array): void;
  /**
   * Optional: `count` consecutive pages from `pfn` in one read (all dumpable, none not-dumped).
   * One large read instead of one per page: the per-page read was most of the main thread's
   * time in a conversion (measured on the corpus' 423 MB vmcore).
   */
  readPages?(pfn: number, count: number, into: Uint8Array): void;
  /**
   * Optional: where the `count` pages from `pfn` lie as plain bytes in one stretch of one file
   * (all dumpable, none not-dumped), when they do: a compressor that reads that file itself
   * (BatchCompressor.readsFrom) is then given their place instead of their bytes.
   */
  plainBytes?(pfn: number, count: number): { source: SyncByteSource; offset: number } | undefined;
  /**
   * Optional: every pfn's state in a byte (PageStates). The writer then makes its bitmaps in
   * one pass over the bytes instead of three calls a pfn: 131k pfns in a cold process took
   * 7–16 ms of a `convert -c -d 31` of the corpus vmcore, before the first page was read.
   */
  readonly states?: PageStates;
}

/**
 * A page source's states, one byte a pfn (PAGE_HOLE…PAGE_NOT_DUMPED), and the functions whose
 * answers they are: the writer reads the bytes only while the source's exists/dumpable/
 * notDumped are still those functions, so a source made from another with one of them replaced
 * (`{ ...pages, dumpable: … }`) is asked pfn by pfn, as its functions say.
 */
export interface PageStates {
  readonly bytes: Uint8Array;
  readonly exists: KdumpPageSource["exists"];
  readonly dumpable: KdumpPageSource["dumpable"];
  readonly notDumped: KdumpPageSource["notDumped"];
}

/** The state bytes of `pages` when they still answer for its functions, else undefined. */
function stateBytes(pages: KdumpPageSource): Uint8Array | undefined {
  const st = pages.states;
  if (
    !st ||
    st.exists !== pages.exists ||
    st.dumpable !== pages.dumpable ||
    st.notDumped !== pages.notDumped ||
    st.bytes.length < pages.maxPfn
  )
    return undefined;
  return st.bytes;
}

/** A pfn's state in KdumpPageSource.states: not in the machine's memory map. */
export const PAGE_HOLE = 0;
/** In the memory map, not written (excluded by a filter or by the input). */
export const PAGE_EXCLUDED = 1;
/** Written. */
export const PAGE_DUMP = 2;
/** Written as "not dumped": dumpable, but the input lacks its bytes. */
export const PAGE_NOT_DUMPED = 3;

export type { PageCompressor } from "../codecs/pages.js";

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
  /**
   * Page compression: a compressor (codecs/portable.ts fflateZlibCompressor, or node:zlib's
   * from src/node/dump.ts, as makedumpfile -c writes) or none (the default).
   */
  compress?: "none" | PageCompressor;
  /**
   * Point all-zero pages at one shared zero page (default true; makedumpfile does it at dump
   * levels with bit 1, and compresses each zero page on its own otherwise).
   */
  zeroPage?: boolean;
  /** Mark the output INCOMPLETE (DUMP_DH_COMPRESSED_INCOMPLETE) even if no page is not-dumped. */
  incomplete?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface KdumpWriteResult {
  size: number;
  /** Pages in the 2nd bitmap (with data, zero, or not dumped). */
  dumped: number;
  zero: number;
  compressed: number;
  /** Pages written with an empty descriptor (not in the input). */
  notDumped: number;
}

/**
 * Compresses pages in batches, possibly elsewhere (worker threads): `pages` holds `count`
 * pages end to end; the result gives each page's compressed size (convert/batch.ts
 * compressBatch: 0 = store it raw, negative = all zeros, looked for only when `zeroCheck`) and
 * the compressed bytes end to end. Results are consumed in submission order.
 */
/** Pages of a batch still to be read: `length` bytes of `source` at `offset`, to `at` in the batch. */
export interface BatchRead {
  at: number;
  length: number;
  source: SyncByteSource;
  offset: number;
  /** The first page's pfn (for errors). */
  pfn: number;
}

export interface BatchCompressor {
  /** page_desc.flags of a compressed page. */
  readonly flag: number;
  /**
   * Batches worth having in flight at once (default 4: keeps workers busy). 1 for a compressor
   * on the writer's thread, whose result may then be a view valid until its next call.
   */
  readonly inFlight?: number;
  /**
   * `reads`: pages of the batch not read yet, to be read into `pages` from their file first
   * (given only for sources this compressor reads itself: readsFrom).
   */
  compress(
    pages: Uint8Array,
    count: number,
    pageSize: number,
    zeroCheck: boolean,
    reads?: BatchRead[],
  ): Promise<{ sizes: Int32Array; data: Uint8Array; pages: Uint8Array }>;
  /**
   * Whether this compressor reads pages of `source` itself (its worker threads then read their
   * batches' pages, in parallel, instead of the writer's thread): the writer then passes such
   * pages as `reads`. Default: no.
   */
  readsFrom?(source: SyncByteSource): boolean;
  /** The writer is done with a result's `data`: its buffer may be reused. */
  release?(result: { sizes: Int32Array; data: Uint8Array; pages: Uint8Array }): void;
  /**
   * A buffer of `bytes` for the pages of batches (the writer reads pages into it, hands it to
   * compress and reuses it once the batch is written), of the kind this compressor takes best:
   * page-aligned shared memory that its workers read as it is (compress-pool.ts). Default: a
   * plain Uint8Array.
   */
  allocate?(bytes: number): Uint8Array;
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

/** Headers and bitmaps of a kdump-compressed file (or split part); the pages come after. */
function layoutKdump(pages: KdumpPageSource, sink: ByteSink, opts: KdumpWriteOptions) {
  const bs = pages.pageSize;
  const le = opts.littleEndian ?? true;
  const ws = opts.wordSize ?? 8;
  const layout32 = opts.layout32 ?? "pack";
  const version = opts.version ?? 6;
  const sig = opts.signature ?? KDUMP_SIGNATURE;
  const maxPfn = pages.maxPfn;
  const startPfn = opts.split?.startPfn ?? 0;
  const endPfn = opts.split?.endPfn ?? maxPfn;
  if (!Number.isSafeInteger(maxPfn) || maxPfn < 0 || maxPfn > MAX_CONVERT_PFNS)
    throw new LimitError("pages to write", maxPfn, MAX_CONVERT_PFNS);
  if (version < 6 && maxPfn > 0xffffffff) throw new FormatError("more than 2^32 pages need header version 6");
  const zeroPage = opts.zeroPage ?? true;
  const compress: PageCompressor | undefined = typeof opts.compress === "object" ? opts.compress : undefined;

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
  let incomplete = opts.incomplete ?? false;
  const states = stateBytes(pages);
  if (states) {
    const r = bitmapsFromStates(states, maxPfn, startPfn, endPfn, bitmap, dumpOff, !opts.singleBitmap);
    nDump = r.nDump;
    incomplete ||= r.incomplete;
  } else
    for (let pfn = 0; pfn < maxPfn; pfn++) {
      const ex = pages.exists(pfn);
      if (ex && !opts.singleBitmap) bitmap[pfn >>> 3]! |= 1 << (pfn & 7);
      if (ex && pfn >= startPfn && pfn < endPfn && pages.dumpable(pfn)) {
        bitmap[dumpOff + (pfn >>> 3)]! |= 1 << (pfn & 7);
        nDump++;
        if (!incomplete && pages.notDumped?.(pfn)) incomplete = true;
      }
    }
  const descOff = bitmapOff + bitmapBytes;
  const zeroOff = descOff + nDump * 24;
  const dataOff = zeroOff + (zeroPage ? bs : 0);

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
  hv.setUint32(
    base,
    (opts.status ?? (compress ? compress.flag : 0)) | (incomplete ? DUMP_DH_COMPRESSED_INCOMPLETE : 0),
    le,
  );
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

  const emit = new PageEmitter(sink, { le, bs, descOff, zeroOff, dataOff });
  return { pages, bitmap, dumpOff, startPfn, endPfn, nDump, zeroPage, emit, bitmapOff, sink, opts };
}

/**
 * The kdump bitmaps from a page source's state bytes (KdumpPageSource.states): the first bitmap
 * (when `both`) marks every pfn in the memory map, the second, at `dumpOff`, the dumpable pfns
 * of [startPfn, endPfn). A byte of bits at a time, with local counters; a byte whose eight
 * pfns are alike (holes, excluded, or dumped and all inside or all outside the range) from
 * two 32-bit words of states, the others pfn by pfn: the loop runs interpreted, and a pfn at a
 * time it took ~3.6 ms of the corpus vmcore's `-l -d 31` (markers in the bundle).
 */
export function bitmapsFromStates(
  st: Uint8Array,
  maxPfn: number,
  startPfn: number,
  endPfn: number,
  bitmap: Uint8Array,
  dumpOff: number,
  both: boolean,
): { nDump: number; incomplete: boolean } {
  let nDump = 0;
  let notDumped = 0;
  // whole bytes read as words: 8 pfns below maxPfn and within the array (the bitmap starts
  // zeroed, layoutKdump: a byte of holes is left as it is)
  const wordBytes = (st.byteOffset & 3) === 0 && PAGE_HOLE === 0 ? Math.min(maxPfn, st.length) >>> 3 : 0;
  const sw = wordBytes ? new Uint32Array(st.buffer, st.byteOffset, wordBytes * 2) : new Uint32Array(0);
  const DUMP4 = PAGE_DUMP * 0x01010101;
  const EXCL4 = PAGE_EXCLUDED * 0x01010101;
  for (let b = 0; b * 8 < maxPfn; b++) {
    const p0 = b * 8;
    if (b < wordBytes) {
      const w = sw[2 * b]!;
      if (w === sw[2 * b + 1]) {
        if (w === 0) continue;
        if (w === EXCL4) {
          if (both) bitmap[b] = 0xff;
          continue;
        }
        if (w === DUMP4) {
          if (p0 + 8 <= startPfn || p0 >= endPfn) {
            if (both) bitmap[b] = 0xff;
            continue;
          }
          if (p0 >= startPfn && p0 + 8 <= endPfn) {
            if (both) bitmap[b] = 0xff;
            bitmap[dumpOff + b] = 0xff;
            nDump += 8;
            continue;
          }
        }
      }
    }
    const end = Math.min(p0 + 8, maxPfn);
    let exist = 0;
    let dump = 0;
    for (let p = p0; p < end; p++) {
      const s = st[p]!;
      if (s === PAGE_HOLE) continue;
      exist |= 1 << (p - p0);
      if (s >= PAGE_DUMP && p >= startPfn && p < endPfn) {
        dump |= 1 << (p - p0);
        nDump++;
        if (s === PAGE_NOT_DUMPED) notDumped++;
      }
    }
    if (both) bitmap[b] = exist;
    bitmap[dumpOff + b] = dump;
  }
  return { nDump, incomplete: notDumped > 0 };
}

/** Descriptors and page data, buffered into large writes. */
class PageEmitter {
  private readonly descBuf = new Uint8Array(24 * 4096);
  private readonly dd = new DataView(this.descBuf.buffer);
  private descN = 0;
  private descAt: number;
  private readonly dataBuf = new Uint8Array(1 << 20);
  private dataN = 0;
  private dataAt: number;
  dataOff: number;
  zero = 0;
  compressed = 0;
  notDumped = 0;
  done = 0;
  constructor(
    private readonly sink: ByteSink,
    private readonly l: { le: boolean; bs: number; descOff: number; zeroOff: number; dataOff: number },
  ) {
    this.descAt = l.descOff;
    this.dataAt = l.dataOff;
    this.dataOff = l.dataOff;
  }
  private flushDesc(): void {
    if (this.descN) this.sink.write(this.descAt, this.descBuf.subarray(0, this.descN * 24));
    this.descAt += this.descN * 24;
    this.descN = 0;
  }
  private flushData(): void {
    if (this.dataN) this.sink.write(this.dataAt, this.dataBuf.subarray(0, this.dataN));
    this.dataAt += this.dataN;
    this.dataN = 0;
  }
  private desc(offset: number, size: number, flags: number): void {
    const o = this.descN * 24;
    const dd = this.dd;
    const le = this.l.le;
    // the 64-bit offset as two words (offsets are < 2^53): a BigInt per page made garbage
    const lo = offset >>> 0;
    const hi = (offset - lo) / 0x100000000;
    dd.setUint32(o, le ? lo : hi, le);
    dd.setUint32(o + 4, le ? hi : lo, le);
    dd.setUint32(o + 8, size, le);
    dd.setUint32(o + 12, flags, le);
    dd.setUint32(o + 16, 0, le);
    dd.setUint32(o + 20, 0, le);
    this.done++;
    if (++this.descN === 4096) this.flushDesc();
  }
  zeroPage(): void {
    this.desc(this.l.zeroOff, this.l.bs, 0);
    this.zero++;
  }
  /** A page the input did not hold: offset 0, size 0 (readers: not dumped). */
  missing(): void {
    this.desc(0, 0, 0);
    this.notDumped++;
  }
  /**
   * Pages `from`…`to − 1` of a batch, compressed (`flags`), whose bytes lie end to end in
   * `bytes`, `sizes[i]` bytes each: what data() does page by page (the same descriptors, the
   * same flushes), with one copy per stretch instead of a view and a copy per page.
   */
  dataRun(bytes: Uint8Array, sizes: Int32Array, from: number, to: number, flags: number): void {
    let start = 0;
    let pending = 0;
    for (let i = from; i < to; i++) {
      const n = sizes[i]!;
      if (this.dataN + pending + n > this.dataBuf.length) {
        this.dataBuf.set(bytes.subarray(start, start + pending), this.dataN);
        this.dataN += pending;
        start += pending;
        pending = 0;
        this.flushData();
      }
      this.desc(this.dataOff, n, flags);
      this.dataOff += n;
      pending += n;
    }
    this.dataBuf.set(bytes.subarray(start, start + pending), this.dataN);
    this.dataN += pending;
    this.compressed += to - from;
  }
  data(bytes: Uint8Array, flags: number): void {
    if (flags) this.compressed++;
    if (this.dataN + bytes.length > this.dataBuf.length) this.flushData();
    this.desc(this.dataOff, bytes.length, flags);
    this.dataBuf.set(bytes, this.dataN);
    this.dataN += bytes.length;
    this.dataOff += bytes.length;
  }
  finish(): void {
    this.flushDesc();
    this.flushData();
  }
}

/** Write a kdump-compressed file (or one split part) to `sink`, compressing on this thread. */
export function writeKdump(
  pages: KdumpPageSource,
  sink: ByteSink,
  opts: KdumpWriteOptions = {},
): KdumpWriteResult {
  const k = layoutKdump(pages, sink, opts);
  const compress: PageCompressor | undefined = typeof opts.compress === "object" ? opts.compress : undefined;
  const bs = pages.pageSize;
  const page = new Uint8Array(bs);
  const { emit, bitmap, dumpOff } = k;
  for (let pfn = k.startPfn; pfn < k.endPfn; pfn++) {
    if (!(bitmap[dumpOff + (pfn >>> 3)]! & (1 << (pfn & 7)))) continue;
    if (pages.notDumped?.(pfn)) emit.missing();
    else {
      pages.readPage(pfn, page);
      if (k.zeroPage && isZeroPage(page)) emit.zeroPage();
      else {
        const c = compress?.fn(page);
        if (c && c.length < bs) emit.data(c, compress!.flag);
        else emit.data(page, 0);
      }
    }
    if ((emit.done & 1023) === 0) opts.onProgress?.(emit.done, k.nDump);
  }
  return finishKdump(k);
}

function finishKdump(k: ReturnType<typeof layoutKdump>): KdumpWriteResult {
  k.emit.finish();
  k.opts.onProgress?.(k.nDump, k.nDump);
  return {
    size: k.emit.dataOff,
    dumped: k.nDump,
    zero: k.emit.zero,
    compressed: k.emit.compressed,
    notDumped: k.emit.notDumped,
  };
}

/**
 * Write a kdump-compressed file with compression in batches that may run elsewhere (worker
 * threads): this thread reads pages and finds not-dumped ones; up to `inFlight` batches are
 * compressed at once and their results written in page order.
 */
export async function writeKdumpPipelined(
  pages: KdumpPageSource,
  sink: ByteSink,
  compressor: BatchCompressor,
  opts: KdumpWriteOptions & {
    batchPages?: number;
    inFlight?: number;
    /**
     * Batch buffers to take before allocating, and where every buffer goes back at the end:
     * the parts of a split set share them (each part would otherwise allocate its own).
     */
    buffers?: Uint8Array[];
  } = {},
): Promise<KdumpWriteResult> {
  const k = layoutKdump(pages, sink, { ...opts, status: opts.status ?? compressor.flag });
  const bs = pages.pageSize;
  const batchPages = opts.batchPages ?? 128;
  const inFlight = Math.max(1, opts.inFlight ?? compressor.inFlight ?? 4);
  const { emit, bitmap, dumpOff } = k;
  // per batch: the order of entries (0 = the batch's next page, 2 = not dumped)
  type Pending = {
    kinds: Uint8Array;
    n: number;
    result: Promise<{ sizes: Int32Array; data: Uint8Array; pages: Uint8Array }>;
  };
  const queue: Pending[] = [];
  const free: Uint8Array[] = opts.buffers ?? [];
  const drain = async () => {
    const p = queue.shift()!;
    const r = await p.result;
    const sizes = r.sizes;
    const kinds = p.kinds;
    let ci = 0;
    let at = 0;
    for (let i = 0; i < p.n; i++) {
      if (kinds[i] === 2) {
        emit.missing();
        continue;
      }
      const sz = sizes[ci]!;
      if (sz < 0) emit.zeroPage();
      else if (sz > 0 && sz < bs) {
        // compressed pages in a row: their bytes are end to end in r.data
        let end = at + sz;
        let cj = ci + 1;
        while (i + 1 < p.n && kinds[i + 1] !== 2 && sizes[cj]! > 0 && sizes[cj]! < bs) {
          end += sizes[cj++]!;
          i++;
        }
        emit.dataRun(r.data.subarray(at, end), sizes, ci, cj, compressor.flag);
        at = end;
        ci = cj;
        continue;
      } else emit.data(r.pages.subarray(ci * bs, (ci + 1) * bs), 0);
      ci++;
    }
    free.push(r.pages);
    compressor.release?.(r);
    opts.onProgress?.(emit.done, k.nDump);
    // the sink's write-behind finishes only when the event loop turns: with lzo on this thread
    // the loop never did, and commit's fsync waited for the whole file (`-l -d 31`: 16.5 ms against 4)
    const turn = sink.turn?.();
    if (turn) await turn;
  };
  const allocate = (n: number) => compressor.allocate?.(n) ?? new Uint8Array(n);
  // a buffer of the batch size from `free` (one of another size is dropped), else a new one
  const take = () => {
    for (let b = free.pop(); b; b = free.pop()) if (b.length === batchPages * bs) return b;
    return allocate(batchPages * bs);
  };
  let buf: Uint8Array = take();
  let kinds = new Uint8Array(batchPages * 4);
  let count = 0; // pages in buf
  let n = 0; // entries in kinds
  // the batch's pages the compressor reads itself (readsFrom), not read here
  let reads: BatchRead[] = [];
  const submit = async () => {
    if (n === 0) return;
    const result = compressor.compress(buf, count, bs, k.zeroPage, reads.length ? reads : undefined);
    reads = [];
    // awaited by drain in page order, maybe batches later: a failure before then must not be an
    // unhandled rejection, which ends Node at once (a stack trace, no clean-up, seen when a
    // worker's encoder could not get its WebAssembly memory)
    result.catch(() => {});
    queue.push({ kinds, n, result });
    buf = take();
    kinds = new Uint8Array(batchPages * 4);
    count = 0;
    n = 0;
    while (queue.length >= inFlight) await drain();
  };
  const dumped = (pfn: number) => (bitmap[dumpOff + (pfn >>> 3)]! & (1 << (pfn & 7))) !== 0;
  for (let pfn = k.startPfn; pfn < k.endPfn; pfn++) {
    if (!dumped(pfn)) continue;
    if (pages.notDumped?.(pfn)) kinds[n++] = 2;
    else {
      // a run of consecutive dumped pages read at once, straight into the batch (one large
      // read, no copy: the reading thread is what limits a fast codec), or, where they are
      // plain bytes of a file the compressor reads itself, left for its worker to read (this
      // thread then only writes); zero pages are found by the compressor
      const room = Math.min(batchPages - count, kinds.length - n);
      let len = 1;
      while (len < room && pfn + len < k.endPfn && dumped(pfn + len) && !pages.notDumped?.(pfn + len)) len++;
      const at = pages.plainBytes && compressor.readsFrom ? pages.plainBytes(pfn, len) : undefined;
      if (at && compressor.readsFrom!(at.source))
        reads.push({ at: count * bs, length: len * bs, source: at.source, offset: at.offset, pfn });
      else {
        const slot = buf.subarray(count * bs, (count + len) * bs);
        if (pages.readPages) pages.readPages(pfn, len, slot);
        else for (let i = 0; i < len; i++) pages.readPage(pfn + i, slot.subarray(i * bs, (i + 1) * bs));
      }
      n += len; // kinds[…] stay 0: fresh arrays
      count += len;
      pfn += len - 1;
    }
    if (count === batchPages || n === kinds.length) await submit();
  }
  await submit();
  while (queue.length) await drain();
  free.push(buf);
  return finishKdump(k);
}

/**
 * A BatchCompressor that stores every page as it is (flag 0: the header says uncompressed),
 * finding the zero pages when asked: writeKdumpPipelined's `--compress none`, on this thread.
 */
export const storeBatches: BatchCompressor = {
  flag: 0,
  inFlight: 1,
  compress: async (pages, count, pageSize, zeroCheck) => {
    const sizes = new Int32Array(count);
    if (zeroCheck)
      for (let i = 0; i < count; i++)
        if (isZeroPage(pages.subarray(i * pageSize, (i + 1) * pageSize))) sizes[i] = BATCH_ZERO_PAGE;
    return { sizes, data: new Uint8Array(0), pages };
  },
};

/** 2^28 pages: 1 TiB of 4 KiB pages. */
export const MAX_CONVERT_PFNS = 2 ** 28;

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
  // one state byte per pfn here, one bit per pfn in each kdump bitmap: bound it
  if (maxPfn > MAX_CONVERT_PFNS)
    throw new LimitError("pages to convert (highest physical address / page size)", maxPfn, MAX_CONVERT_PFNS);
  const code = new Uint8Array(maxPfn);
  for (const r of map) {
    const v = r.state === "present" || r.state === "zero" ? 2 : 1;
    const last = Math.ceil(r.end / ps);
    for (let p = Math.floor(r.start / ps); p < last; p++) if (code[p]! < v) code[p] = v;
  }
  const exists = (pfn: number) => code[pfn]! > 0;
  const dumpable = (pfn: number) => code[pfn] === 2;
  return {
    pageSize: ps,
    maxPfn,
    states: { bytes: code, exists, dumpable, notDumped: undefined },
    exists,
    dumpable,
    readPage(pfn, into) {
      const a = pfn * ps;
      try {
        dump.readPhys(a, ps, into);
        return;
      } catch (e) {
        // a page only partly in the dump: take the parts that are, zeros elsewhere
        if (e instanceof MissingDataError) throw e;
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

/** A dump's identity as kdump header options (utsname, time, CPUs, phys_base, VMCOREINFO, notes). */
export function kdumpIdentity(
  dump: Dump,
  extraNotes: { name: string; type: number; desc: Uint8Array }[] = [],
): KdumpWriteOptions {
  const vmci = dump.vmcoreinfo ? te.encode(dump.vmcoreinfo.text) : undefined;
  const notesBytes = encodeNoteBlob(dump, extraNotes);
  const uts: Partial<Utsname> = dump.utsname ?? {
    sysname: "Linux",
    release: dump.kernelRelease ?? "",
    machine: dump.arch === "arm64" ? "aarch64" : (dump.arch ?? ""),
  };
  return {
    littleEndian: dump.littleEndian,
    wordSize: dump.wordSize,
    utsname: uts,
    timestamp: { sec: dump.crashTime ?? 0, usec: 0 },
    nrCpus: dump.cpuCount ?? 1,
    physBase: dump.vmcoreinfo?.numberU64("phys_base") ?? dump.headerPhysBase ?? 0n,
    vmcoreinfo: vmci,
    notes: notesBytes,
  };
}

/** Convert any Dump to kdump-compressed, keeping its identity (utsname, notes, VMCOREINFO). */
export function dumpToKdump(dump: Dump, sink: ByteSink, opts: KdumpWriteOptions = {}): KdumpWriteResult {
  return writeKdump(dumpPages(dump), sink, { ...kdumpIdentity(dump), ...opts });
}

/** The dump's notes (and `extra`) as one blob (Elf_Nhdr records, 4-byte padding). */
export function encodeNoteBlob(
  dump: Dump,
  extra: { name: string; type: number; desc: Uint8Array }[] = [],
): Uint8Array | undefined {
  const all = carryNotes(dump.notes, extra);
  if (all.length === 0) return undefined;
  let size = 0;
  const parts = all.map((n) => {
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
