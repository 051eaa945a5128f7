/**
 * kdump-compressed dumps ("KDUMP   ", makedumpfile and QEMU) and their ancestor "DISKDUMP".
 *
 * Layout (makedumpfile diskdump_mod.h; crash diskdump.c; libkdumpfile diskdump.c), in blocks
 * of `block_size` (= the page size):
 *   block 0             disk_dump_header (utsname, timestamp, status, sizes, nr_cpus)
 *   block 1…            kdump_sub_header (sub_hdr_size blocks): phys_base, split range,
 *                       VMCOREINFO (v3+), ELF notes blob (v4+), eraseinfo (v5+), 64-bit pfns (v6)
 *   bitmap_blocks       two bitmaps of equal size: 1st = pages that exist (RAM), 2nd = pages
 *                       dumped; an old single-bitmap file has only the 2nd (one bit per page,
 *                       LSB first)
 *   page_desc[]         {u64 offset, u32 size, u32 flags, u64 page_flags}, one per dumped page
 *                       in pfn order
 *   page data           the shared zero page first, then each page raw or compressed
 *
 * Quirks handled: 32-bit producers (the header's timeval is 4-byte aligned; the sub-header's
 * 64-bit fields are packed on i386 and padded on ARM/MIPS — told apart as libkdumpfile does, by
 * which layout gives a plausible VMCOREINFO offset), both byte orders, the INCOMPLETE status
 * flag (descriptors left at offset 0, "not-dumped"), truncated files ("missing"), split sets
 * (each part holds the pages of [start_pfn, end_pfn)).
 */
import { archByUname } from "../arch/table.js";
import { addressMod64 } from "../bytes/aligned.js";
import { Cursor, decodeText } from "../bytes/cursor.js";
import type { SyncByteSource } from "../bytes/source.js";
import { type PageRunDecoder, RUN_DECODE, RUN_RAW, RUN_ZERO } from "../codecs/page-run.js";
import { codecForFlags, type PageCodecName, type PageCodecs } from "../codecs/pages.js";
import type { ElfNote } from "../elf/types.js";
import {
  AddressError,
  DecompressError,
  ExcludedPageError,
  FormatError,
  hex,
  LimitError,
  MissingDataError,
  TruncatedError,
  UnsupportedError,
} from "../errors.js";
import { BATCH_CODECS, type PageBatch, queueCompressed, queueCopy } from "./batch.js";
import { DESC_COUNT_CHUNK, descCounter } from "./desc-count.js";
import {
  type DumpBackend,
  type DumpLoadSegment,
  type DumpWarning,
  type MemorySummary,
  noPages,
  PAGE_STATES,
  type PageRun,
  type PageState,
  type Utsname,
} from "./types.js";
import { ReadWindow } from "./window.js";

export const KDUMP_SIGNATURE = "KDUMP   ";
export const DISKDUMP_SIGNATURE = "DISKDUMP";

/** disk_dump_header.status bits (makedumpfile diskdump_mod.h). */
export const DUMP_DH_COMPRESSED_INCOMPLETE = 0x8;
export const DUMP_DH_EXCLUDED_VMEMMAP = 0x10;

const PAGE_DESC_SIZE = 24;
/** Compressed pages this small are looked up by content before decoding (see readPage). */
const TINY_STREAM = 96;
const UTS_FIELD = 65;
/** Bounds for values read from the file. */
export const KDUMP_LIMITS = {
  minBlockSize: 512,
  maxBlockSize: 1 << 20,
  /** Both bitmaps together: 512 MiB, i.e. 2^31 pages each (8 TiB of 4 KiB pages). */
  maxBitmapBytes: 1 << 29,
  maxSubHeaderBlocks: 1 << 16,
  maxNotesBytes: 64 << 20,
  maxVmcoreinfoBytes: 16 << 20,
  maxSplitParts: 4096,
};

export interface KdumpHeader {
  signature: string;
  version: number;
  utsname: Utsname;
  /** Seconds and microseconds. */
  timestamp: { sec: number; usec: number };
  status: number;
  blockSize: number;
  subHdrSize: number;
  bitmapBlocks: number;
  /** The 32-bit max_mapnr of the main header (obsolete since v6, see maxMapnr64). */
  maxMapnr: number;
  totalRamBlocks: number;
  deviceBlocks: number;
  writtenBlocks: number;
  currentCpu: number;
  nrCpus: number;
  littleEndian: boolean;
  /** Word size of the producer's header layout. */
  wordSize: 4 | 8;
}

export interface KdumpSubHeader {
  layout: "64" | "32pack" | "32pad";
  physBase: bigint;
  dumpLevel: number;
  split: number;
  startPfn: number;
  endPfn: number;
  offsetVmcoreinfo: number;
  sizeVmcoreinfo: number;
  offsetNote: number;
  sizeNote: number;
  offsetEraseinfo: number;
  sizeEraseinfo: number;
  /** v6 only. */
  maxMapnr64?: number;
}

// machines outside the architecture table (src/arch/table.ts) whose word size is still known
const OTHER_64 = /^(alpha)$/;
const OTHER_32 = /^(s390|mips|mipsel|riscv32|sh.*|sparc)$/;

function readUts(c: Cursor, at: number): Utsname {
  const f = (i: number) => c.fixedString(UTS_FIELD, at + i * UTS_FIELD);
  return { sysname: f(0), nodename: f(1), release: f(2), version: f(3), machine: f(4), domainname: f(5) };
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** The header fields at the offsets of one layout (32: timeval of 2×4 bytes at 404; 64: 2×8 at 408). */
function headerAt(c: Cursor, wordSize: 4 | 8, signature: string, version: number, uts: Utsname): KdumpHeader {
  const tv = wordSize === 8 ? 408 : 404;
  const base = tv + 2 * wordSize;
  const sec = wordSize === 8 ? Number(c.i64(tv)) : c.u32(tv);
  const usec = wordSize === 8 ? Number(c.i64(tv + 8)) : c.u32(tv + 4);
  return {
    signature,
    version,
    utsname: uts,
    timestamp: { sec, usec },
    status: c.u32(base),
    blockSize: c.i32(base + 4),
    subHdrSize: c.i32(base + 8),
    bitmapBlocks: c.u32(base + 12),
    maxMapnr: c.u32(base + 16),
    totalRamBlocks: c.u32(base + 20),
    deviceBlocks: c.u32(base + 24),
    writtenBlocks: c.u32(base + 28),
    currentCpu: c.u32(base + 32),
    nrCpus: c.i32(base + 36),
    littleEndian: c.littleEndian,
    wordSize,
  };
}

function plausible(h: KdumpHeader): boolean {
  const bs = h.blockSize;
  if (!isPow2(bs) || bs < KDUMP_LIMITS.minBlockSize || bs > KDUMP_LIMITS.maxBlockSize) return false;
  if (h.subHdrSize < 0 || h.subHdrSize > KDUMP_LIMITS.maxSubHeaderBlocks) return false;
  // the bitmap must cover max_mapnr (v6 writes the low 32 bits there; it still fits or is 0)
  return 8 * h.bitmapBlocks * bs >= h.maxMapnr || h.version >= 6;
}

/** True if the bytes start with a kdump-compressed or diskdump signature. */
export function isKdump(head: Uint8Array): boolean {
  const sig = decodeText(head.subarray(0, 8));
  return sig === KDUMP_SIGNATURE || sig === DISKDUMP_SIGNATURE;
}

/**
 * Decode the main header: signature, byte order (by which order gives a sane block size) and
 * word size (by utsname.machine when it names an architecture, else by which layout is sane).
 */
export function parseKdumpHeader(bytes: Uint8Array): KdumpHeader {
  if (bytes.length < 8) throw new TruncatedError(0, 8, bytes.length, "kdump signature");
  const signature = decodeText(bytes.subarray(0, 8));
  if (signature !== KDUMP_SIGNATURE && signature !== DISKDUMP_SIGNATURE)
    throw new FormatError(
      "not a kdump-compressed file",
      0,
      `"${KDUMP_SIGNATURE}" or "${DISKDUMP_SIGNATURE}"`,
    );
  if (bytes.length < 464) throw new TruncatedError(0, 464, bytes.length, "kdump header");
  const candidates: KdumpHeader[] = [];
  for (const le of [true, false]) {
    const c = new Cursor(bytes, le, 0);
    const version = c.i32(8);
    const uts = readUts(c, 12);
    for (const ws of [8, 4] as const) candidates.push(headerAt(c, ws, signature, version, uts));
  }
  const sane = candidates.filter(plausible);
  if (sane.length === 0)
    throw new FormatError("kdump header: no byte order/layout gives a sane block size and bitmap", 8);
  const machine = sane[0]!.utsname.machine;
  const want =
    archByUname(machine)?.pointerSize ??
    (OTHER_64.test(machine) ? 8 : OTHER_32.test(machine) ? 4 : undefined);
  const pick =
    (want && sane.find((h) => h.wordSize === want)) || sane.find((h) => h.wordSize === 4) || sane[0]!;
  if (pick.version < 0 || pick.version > 1000)
    throw new FormatError(`kdump header version ${pick.version}`, 8);
  return pick;
}

/** Decode kdump_sub_header (block 1) in the producer's layout. */
export function parseKdumpSubHeader(bytes: Uint8Array, h: KdumpHeader): KdumpSubHeader {
  const c = new Cursor(bytes, h.littleEndian, h.blockSize);
  const v = h.version;
  const n = (x: bigint, what: string): number => {
    if (x > BigInt(Number.MAX_SAFE_INTEGER))
      throw new FormatError(`kdump sub-header ${what} ${hex(x)} too large`, h.blockSize);
    return Number(x);
  };
  if (h.wordSize === 8) {
    const u = (at: number) => (bytes.length >= at + 8 ? c.u64(at) : 0n);
    const s: KdumpSubHeader = {
      layout: "64",
      physBase: u(0),
      dumpLevel: v >= 1 && bytes.length >= 12 ? c.i32(8) : 0,
      split: v >= 2 && bytes.length >= 16 ? c.i32(12) : 0,
      startPfn: v >= 2 ? n(u(16), "start_pfn") : 0,
      endPfn: v >= 2 ? n(u(24), "end_pfn") : 0,
      offsetVmcoreinfo: v >= 3 ? n(u(32), "offset_vmcoreinfo") : 0,
      sizeVmcoreinfo: v >= 3 ? n(u(40), "size_vmcoreinfo") : 0,
      offsetNote: v >= 4 ? n(u(48), "offset_note") : 0,
      sizeNote: v >= 4 ? n(u(56), "size_note") : 0,
      offsetEraseinfo: v >= 5 ? n(u(64), "offset_eraseinfo") : 0,
      sizeEraseinfo: v >= 5 ? n(u(72), "size_eraseinfo") : 0,
    };
    if (v >= 6) {
      if (s.split) {
        s.startPfn = n(u(80), "start_pfn_64");
        s.endPfn = n(u(88), "end_pfn_64");
      }
      s.maxMapnr64 = n(u(96), "max_mapnr_64");
    }
    return s;
  }
  // 32-bit producers: packed (i386) or 64-bit fields aligned to 8 (ARM, MIPS).
  const u32 = (at: number) => (bytes.length >= at + 4 ? c.u32(at) : 0);
  const u64 = (at: number) => (bytes.length >= at + 8 ? c.u64(at) : 0n);
  const payload = h.blockSize * (1 + h.subHdrSize);
  const decode = (pad: boolean): KdumpSubHeader => {
    const p = pad ? 4 : 0;
    const s: KdumpSubHeader = {
      layout: pad ? "32pad" : "32pack",
      physBase: BigInt(u32(0)),
      dumpLevel: v >= 1 && bytes.length >= 8 ? c.i32(4) : 0,
      split: v >= 2 && bytes.length >= 12 ? c.i32(8) : 0,
      startPfn: v >= 2 ? u32(12) : 0,
      endPfn: v >= 2 ? u32(16) : 0,
      offsetVmcoreinfo: v >= 3 ? n(u64(20 + p), "offset_vmcoreinfo") : 0,
      sizeVmcoreinfo: v >= 3 ? u32(28 + p) : 0,
      offsetNote: v >= 4 ? n(u64(32 + 2 * p), "offset_note") : 0,
      sizeNote: v >= 4 ? u32(40 + 2 * p) : 0,
      offsetEraseinfo: v >= 5 ? n(u64(44 + 3 * p), "offset_eraseinfo") : 0,
      sizeEraseinfo: v >= 5 ? u32(52 + 3 * p) : 0,
    };
    if (v >= 6) {
      const at = 56 + 4 * p;
      if (s.split) {
        s.startPfn = n(u64(at), "start_pfn_64");
        s.endPfn = n(u64(at + 8), "end_pfn_64");
      }
      s.maxMapnr64 = n(u64(at + 16), "max_mapnr_64");
    }
    return s;
  };
  if (v < 3) return decode(false); // identical up to version 2
  // Which layout puts every blob (VMCOREINFO, notes, eraseinfo) inside the sub-header blocks?
  // (libkdumpfile checks VMCOREINFO only; a file without it needs the notes to decide.)
  const blobOk = (off: number, size: number) =>
    (off === 0 && size === 0) || (off >= h.blockSize && off + size <= payload);
  const score = (x: KdumpSubHeader) =>
    Number(blobOk(x.offsetVmcoreinfo, x.sizeVmcoreinfo)) +
    Number(blobOk(x.offsetNote, x.sizeNote)) +
    Number(blobOk(x.offsetEraseinfo, x.sizeEraseinfo));
  const attempt = (padded: boolean) => {
    try {
      return decode(padded);
    } catch {
      return undefined; // a 64-bit field out of range in this layout
    }
  };
  const pack = attempt(false);
  const pad = attempt(true);
  if (pack && pad) return score(pad) > score(pack) ? pad : pack;
  return pack ?? pad ?? decode(false);
}

const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * A bitmap of pfns (LSB first within each byte) with an O(1) rank over 64-bit blocks. The
 * rank table is built on the first rank() (the 1st bitmap never needs one): a short run pays
 * for one popcount pass at most, in the interpreter.
 */
export class PfnBitmap {
  readonly words: Uint32Array;
  /** Set bits before each 64-bit block (built on first use). */
  private ranks: Uint32Array | undefined;
  private total = 0;
  readonly bits: number;
  constructor(bytes: Uint8Array) {
    const nWords = Math.ceil(bytes.length / 4);
    const words = new Uint32Array(nWords);
    if (HOST_LE) {
      // LSB-first bytes are little-endian words: one copy
      new Uint8Array(words.buffer).set(bytes);
    } else {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const full = bytes.length >> 2;
      for (let i = 0; i < full; i++) words[i] = dv.getUint32(i * 4, true);
      for (let b = full * 4; b < bytes.length; b++) words[full]! |= bytes[b]! << (8 * (b & 3));
    }
    this.words = words;
    this.bits = bytes.length * 8;
  }
  /** Number of set bits. */
  get count(): number {
    this.rankTable();
    return this.total;
  }
  private rankTable(): Uint32Array {
    if (this.ranks) return this.ranks;
    const words = this.words;
    const nWords = words.length;
    const nBlocks = (nWords + 1) >> 1;
    const ranks = new Uint32Array(nBlocks + 1);
    let acc = 0;
    for (let b = 0; b < nBlocks; b++) {
      ranks[b] = acc;
      const lo = words[2 * b]!;
      const hi = 2 * b + 1 < nWords ? words[2 * b + 1]! : 0;
      // holes and excluded RAM are whole words of 0 or 1: no popcount
      acc += lo === 0 ? 0 : lo === 0xffff_ffff ? 32 : popcount32(lo);
      acc += hi === 0 ? 0 : hi === 0xffff_ffff ? 32 : popcount32(hi);
    }
    ranks[nBlocks] = acc;
    this.total = acc;
    this.ranks = ranks;
    return ranks;
  }
  get(pfn: number): boolean {
    if (pfn < 0 || pfn >= this.bits) return false;
    return ((this.words[pfn >>> 5]! >>> (pfn & 31)) & 1) === 1;
  }
  /** Number of set bits below `pfn`: one table lookup and at most two popcounts. */
  rank(pfn: number): number {
    const ranks = this.rankTable();
    if (pfn <= 0) return 0;
    if (pfn >= this.bits) return this.total;
    const w = pfn >>> 5;
    let r = ranks[w >>> 1]!;
    if (w & 1) r += popcount32(this.words[w - 1]!);
    const bit = pfn & 31;
    if (bit) r += popcount32(this.words[w]! & ((1 << bit) - 1));
    return r;
  }
  /** The first set bit in [from, to), or `to` when there is none: a word at a time. */
  firstSet(from: number, to: number): number {
    const end = Math.min(to, this.bits);
    let pfn = Math.max(0, from);
    while (pfn < end) {
      const w = this.words[pfn >>> 5]! >>> (pfn & 31);
      if (w === 0) {
        pfn = (pfn | 31) + 1;
        continue;
      }
      const at = pfn + (31 - Math.clz32(w & -w));
      return at < end ? at : to;
    }
    return to;
  }
}

/** Runs of equal page states, pfn by pfn (holes end a run and are not listed). */
class RunCollector {
  private readonly out: PageRun[] = [];
  private runStart = -1;
  private runState: PageState | undefined;
  constructor(private readonly pageSize: number) {}
  add(pfn: number, st: PageState | undefined): void {
    if (st === this.runState && (this.runStart >= 0 || st === undefined)) return;
    if (this.runState !== undefined)
      this.out.push({ start: this.runStart * this.pageSize, end: pfn * this.pageSize, state: this.runState });
    this.runState = st;
    this.runStart = st === undefined ? -1 : pfn;
  }
  finish(end: number): PageRun[] {
    this.add(end, undefined);
    return this.out;
  }
}

/**
 * KdumpBackend.memorySummary's ranges: stretches of pfns with a state (in the 1st bitmap or
 * dumpable), walked a bitmap word at a time.
 */
class SummaryCollector {
  private readonly ranges: MemorySummary["ranges"] = [];
  private readonly total = noPages();
  /** The open range's pages (start −1: none open). */
  pages = noPages();
  private start = -1;
  /** Raw descriptors read here (64 KiB: 2,730 descriptors a read). */
  readonly scratch = new Uint8Array(PAGE_DESC_SIZE * 2730);
  constructor(private readonly pageSize: number) {}

  /**
   * Pfns [from, to), dumpable where `d` has them (no `d`: outside every part), excluded where
   * `m` has them and `d` does not, else holes. `descs(f, n)` classifies the descriptors of
   * this segment's dumpable pfns f … f+n−1 (numbered from `from`) into `pages`; false stops.
   */
  segment(
    d: Uint32Array | undefined,
    m: Uint32Array | undefined,
    from: number,
    to: number,
    descs?: (first: number, count: number) => boolean,
  ): boolean {
    let idx = 0; // dumpable pfns seen in this segment
    let mark = 0; // … of which classified
    const dLen = d ? d.length : 0;
    const mLen = m ? m.length : 0;
    const fullWords = Math.floor(to / 32); // words below this one lie wholly below `to`
    for (let pfn = from; pfn < to; ) {
      if ((pfn & 31) === 0) {
        // whole words at once while they change nothing: all in a state (the open range goes
        // on, counted by popcounts) or none while no range is open (the same sums as below)
        let ww = pfn >>> 5;
        let dumpable = 0;
        let excluded = 0;
        while (ww < fullWords) {
          const dw = d !== undefined && ww < dLen ? d[ww]! : 0;
          const mw = m !== undefined && ww < mLen ? m[ww]! : 0;
          const has = dw | mw;
          if (has === -1) {
            if (this.start < 0) this.start = ww * 32;
            dumpable += dw === 0 ? 0 : (dw | 0) === -1 ? 32 : popcount32(dw);
            const em = mw & ~dw;
            excluded += em === 0 ? 0 : em === -1 ? 32 : popcount32(em);
          } else if (has !== 0 || this.start >= 0) break;
          ww++;
        }
        idx += dumpable;
        this.pages.excluded += excluded;
        pfn = ww * 32;
        if (pfn >= to) break;
      }
      const w = pfn >>> 5;
      const dw = d && w < d.length ? d[w]! : 0;
      const mw = m && w < m.length ? m[w]! : 0;
      const wordEnd = Math.min((w + 1) * 32, to);
      const bit = pfn & 31;
      const has = dw | mw;
      const on = (has >>> bit) & 1;
      const other = (on ? ~has : has) >>> bit;
      const next = other === 0 ? wordEnd : Math.min(wordEnd, pfn + 31 - Math.clz32(other & -other));
      if (on) {
        if (this.start < 0) this.start = pfn;
        const len = next - pfn;
        const mask = len === 32 ? -1 : ((1 << len) - 1) << bit;
        const dm = dw & mask;
        const em = mw & ~dw & mask;
        idx += dm === 0 ? 0 : dm === -1 ? 32 : popcount32(dm);
        this.pages.excluded += em === 0 ? 0 : em === -1 ? 32 : popcount32(em);
      } else if (this.start >= 0) {
        if (idx > mark && !descs!(mark, idx - mark)) return false;
        mark = idx;
        this.close(pfn);
      }
      pfn = next;
    }
    // a range open at the segment's end may go on in the next one: its descriptors now
    if (idx > mark && !descs!(mark, idx - mark)) return false;
    return true;
  }

  private close(end: number): void {
    const ps = this.pageSize;
    this.ranges.push({ start: this.start * ps, end: end * ps, pages: this.pages });
    for (const s of PAGE_STATES) this.total[s] += this.pages[s];
    this.pages = noPages();
    this.start = -1;
  }

  finish(end: number): MemorySummary {
    if (this.start >= 0) this.close(end);
    return { ranges: this.ranges, pages: this.total, firstMissing: undefined };
  }
}

/** Runs of pfns [from, to) outside every part: excluded where the 1st bitmap has them. */
function mapOutside(runs: RunCollector, mem: PfnBitmap | undefined, from: number, to: number): void {
  for (let pfn = from; pfn < to; ) {
    const m = mem && pfn < mem.bits ? mem.words[pfn >>> 5]! : 0;
    if ((pfn & 31) === 0 && pfn + 32 <= to && (m === 0 || m === 0xffff_ffff)) {
      runs.add(pfn, m === 0 ? undefined : "excluded");
      pfn += 32;
      continue;
    }
    runs.add(pfn, (m >>> (pfn & 31)) & 1 ? "excluded" : undefined);
    pfn++;
  }
}

/** Bytes really present from `offset` (a truncated flattened source has unwritten gaps). */
function availableBytes(source: SyncByteSource, offset: number, length: number): number {
  const s = source as SyncByteSource & { available?: (o: number, l: number) => number };
  return s.available ? s.available(offset, length) : Math.max(0, Math.min(length, source.size - offset));
}

/** Descriptors decoded a block at a time (sequential reads touch each block once). */
const DESC_BLOCK = 512;
/** Descriptor states classified at once by memoryMap (bytes of scratch). */
const DESC_CHUNK = 1 << 16;
/** memoryMap's descriptor state codes (descStates), and the code of an offset past 2^53. */
const DESC_STATES: readonly PageState[] = ["missing", "not-dumped", "zero", "present"];
const DESC_BAD_OFFSET = 4;

export class DescTable {
  private block = -1;
  private n = 0;
  /**
   * File offset of each page's data (NaN: does not fit in 53 bits). A plain array, not a
   * Float64Array: its small integers (files under 1 GiB) load unboxed in the interpreter, where
   * a short run's memoryMap classifies every descriptor (a Float64Array load allocates a heap
   * number each: 0.3 MB of garbage for 21k descriptors).
   */
  readonly offset: number[] = new Array<number>(DESC_BLOCK).fill(0);
  readonly size = new Uint32Array(DESC_BLOCK);
  readonly flags = new Uint32Array(DESC_BLOCK);
  private readonly raw = new Uint8Array(DESC_BLOCK * PAGE_DESC_SIZE);
  private readonly dv = new DataView(this.raw.buffer);
  /** `raw` as 32-bit words when the host reads the file's byte order natively. */
  private readonly words: Uint32Array | undefined;
  constructor(
    readonly source: SyncByteSource,
    readonly descOffset: number,
    readonly count: number,
    readonly littleEndian: boolean,
  ) {
    this.words = littleEndian === HOST_LE ? new Uint32Array(this.raw.buffer) : undefined;
  }
  /** Descriptors decoded in the current block (slots 0 … loaded−1). */
  get loaded(): number {
    return this.n;
  }
  /** Slot of descriptor `idx` in the arrays, or −1 when it lies past the end of the file. */
  slot(idx: number): number {
    const b = Math.floor(idx / DESC_BLOCK);
    if (b !== this.block) this.load(b);
    const i = idx - b * DESC_BLOCK;
    return i < this.n ? i : -1;
  }
  private load(b: number): void {
    // the block becomes current only once read: a MissingDataError (browser window not loaded)
    // must leave nothing half-decoded behind for the retry
    this.block = -1;
    this.n = 0;
    const first = b * DESC_BLOCK;
    const at = this.descOffset + first * PAGE_DESC_SIZE;
    const want = Math.min(DESC_BLOCK, this.count - first);
    let avail = Math.max(0, Math.min(want, Math.floor((this.source.size - at) / PAGE_DESC_SIZE)));
    if (avail > 0)
      avail = Math.floor(availableBytes(this.source, at, avail * PAGE_DESC_SIZE) / PAGE_DESC_SIZE);
    if (avail <= 0) {
      this.block = b;
      return;
    }
    try {
      this.source.readSync(at, avail * PAGE_DESC_SIZE, this.raw);
    } catch (e) {
      if (e instanceof TruncatedError) {
        this.block = b;
        return;
      }
      throw e;
    }
    if (this.words) {
      // the host's byte order is the file's: the words as they are (a short run decodes each
      // descriptor once, before V8 optimises anything: no DataView call per field)
      const u = this.words;
      for (let i = 0, o = 0; i < avail; i++, o += PAGE_DESC_SIZE / 4) {
        const hi = u[o + 1]!;
        // hi 0 (a file under 4 GiB): the low word alone, a small integer the interpreter does
        // not box (a short run decodes its descriptors before V8 optimises this loop, and
        // boxing every offset was 0.7 MB of garbage for `info` on a 21k-page dump)
        this.offset[i] = hi === 0 ? u[o]! : hi >= 0x20_0000 ? Number.NaN : hi * 0x1_0000_0000 + u[o]!;
        this.size[i] = u[o + 2]!;
        this.flags[i] = u[o + 3]!;
      }
      this.n = avail;
      this.block = b;
      return;
    }
    const dv = this.dv;
    const le = this.littleEndian;
    for (let i = 0; i < avail; i++) {
      const o = i * PAGE_DESC_SIZE;
      const lo = dv.getUint32(le ? o : o + 4, le);
      const hi = dv.getUint32(le ? o + 4 : o, le);
      this.offset[i] = hi >= 0x20_0000 ? Number.NaN : hi * 0x1_0000_0000 + lo;
      this.size[i] = dv.getUint32(o + 8, le);
      this.flags[i] = dv.getUint32(o + 12, le);
    }
    this.n = avail;
    this.block = b;
  }
}

/** One file of a kdump (a whole dump, or one part of a split set). */
export interface KdumpPart {
  source: SyncByteSource;
  header: KdumpHeader;
  sub: KdumpSubHeader | undefined;
  /** Pages that exist (1st bitmap); undefined for a single-bitmap file. */
  memory: PfnBitmap | undefined;
  /** Pages dumped (2nd bitmap). */
  dumpable: PfnBitmap;
  /** One past the highest pfn of the machine (max_mapnr, v6: max_mapnr_64), within the bitmap. */
  maxPfn: number;
  /** File offset of page_desc[0]. */
  descOffset: number;
  startPfn: number;
  endPfn: number;
  /** rank(startPfn): descriptors of this part are numbered from here. */
  rankBase: number;
  /** Descriptors in this part. */
  numDumpable: number;
  /** File offset of the shared zero page, if the file has one. */
  zeroPageOffset: number | undefined;
  window: ReadWindow;
  descs: DescTable;
  /** The source may hold unwritten gaps (a truncated flattened stream). */
  gappy: boolean;
}

interface PageDesc {
  offset: number;
  size: number;
  flags: number;
}

/** Open one kdump file: headers, bitmaps, rank index. */
export function openKdumpPart(source: SyncByteSource, warnings: DumpWarning[]): KdumpPart {
  const headBytes = source.readSync(0, Math.min(source.size, 4096)).slice();
  const header = parseKdumpHeader(headBytes);
  const bs = header.blockSize;
  let sub: KdumpSubHeader | undefined;
  if (header.signature === KDUMP_SIGNATURE && header.version >= 1 && header.subHdrSize > 0) {
    const len = Math.min(bs * header.subHdrSize, 4096, Math.max(0, source.size - bs));
    if (len < 8) throw new TruncatedError(bs, 8, Math.max(0, source.size - bs), "kdump sub-header");
    sub = parseKdumpSubHeader(source.readSync(bs, len).slice(), header);
  }
  let maxPfn = header.maxMapnr;
  if (sub?.maxMapnr64 !== undefined && sub.maxMapnr64 > 0) maxPfn = sub.maxMapnr64;
  const bitmapOffset = bs * (1 + header.subHdrSize);
  const bitmapBytes = header.bitmapBlocks * bs;
  if (bitmapBytes > KDUMP_LIMITS.maxBitmapBytes)
    throw new LimitError("kdump bitmap bytes", bitmapBytes, KDUMP_LIMITS.maxBitmapBytes, 436);
  if (bitmapOffset + bitmapBytes > source.size)
    throw new TruncatedError(bitmapOffset, bitmapBytes, source.size - bitmapOffset, "kdump page bitmaps");
  // Two bitmaps when there are at least twice the blocks one needs (crash's dump_is_partial;
  // makedumpfile always writes two, the 2.6-era diskdump one). libkdumpfile's bit-granular
  // test takes a small single-bitmap file for a two-bitmap one.
  const blocksNeeded = Math.ceil(Math.ceil(maxPfn / 8) / bs);
  const two = header.bitmapBlocks >= 2 * blocksNeeded && header.bitmapBlocks % 2 === 0;
  const half = two ? bitmapBytes / 2 : bitmapBytes;
  const bits = source.readSync(bitmapOffset, bitmapBytes);
  const memory = two ? new PfnBitmap(bits.subarray(0, half)) : undefined;
  const dumpable = new PfnBitmap(bits.subarray(two ? half : 0, two ? 2 * half : half));
  if (maxPfn > dumpable.bits) {
    warnings.push({
      code: "bitmap-short",
      message: `max_mapnr ${hex(maxPfn)} exceeds the bitmap's ${hex(dumpable.bits)} bits`,
    });
    maxPfn = dumpable.bits;
  }
  let startPfn = 0;
  let endPfn = maxPfn;
  if (sub?.split) {
    startPfn = Math.min(sub.startPfn, maxPfn);
    endPfn = Math.min(Math.max(sub.endPfn, startPfn), maxPfn);
  }
  const rankBase = dumpable.rank(startPfn);
  const numDumpable = dumpable.rank(endPfn) - rankBase;
  const descOffset = bitmapOffset + bitmapBytes;
  const part: KdumpPart = {
    source,
    header,
    maxPfn,
    sub,
    memory,
    dumpable,
    descOffset,
    startPfn,
    endPfn,
    rankBase,
    numDumpable,
    zeroPageOffset: undefined,
    window: new ReadWindow(source, 1 << 20),
    descs: new DescTable(source, descOffset, numDumpable, header.littleEndian),
    gappy: (source as { ended?: boolean }).ended === false,
  };
  // makedumpfile and QEMU write the one shared zero page first in the data area.
  const zeroAt = descOffset + numDumpable * PAGE_DESC_SIZE;
  if (zeroAt + bs <= source.size) {
    try {
      const z = source.readSync(zeroAt, bs);
      if (z.every((b) => b === 0)) part.zeroPageOffset = zeroAt;
    } catch (e) {
      // a truncated flattened file may not hold it; then no page is reported as "zero"
      // (a browser window not loaded yet must still reach withData)
      if (e instanceof MissingDataError) throw e;
    }
  }
  return part;
}

/** Read the VMCOREINFO blob (v3+) and the notes blob (v4+) of a kdump file. */
function readBlobs(
  part: KdumpPart,
  warnings: DumpWarning[],
): { vmcoreinfo?: Uint8Array; notes?: Uint8Array } {
  const s = part.sub;
  const out: { vmcoreinfo?: Uint8Array; notes?: Uint8Array } = {};
  if (!s) return out;
  const grab = (off: number, size: number, what: string, limit: number): Uint8Array | undefined => {
    if (!off || !size) return undefined;
    if (size > limit) {
      warnings.push({
        code: `${what}-too-large`,
        message: `${what} of ${size} bytes exceeds ${limit}; ignored`,
        offset: off,
      });
      return undefined;
    }
    try {
      return part.source.readSync(off, size).slice();
    } catch (e) {
      if (e instanceof MissingDataError) throw e;
      warnings.push({ code: `${what}-unreadable`, message: `${what}: ${(e as Error).message}`, offset: off });
      return undefined;
    }
  };
  out.vmcoreinfo = grab(s.offsetVmcoreinfo, s.sizeVmcoreinfo, "vmcoreinfo", KDUMP_LIMITS.maxVmcoreinfoBytes);
  out.notes = grab(s.offsetNote, s.sizeNote, "notes", KDUMP_LIMITS.maxNotesBytes);
  return out;
}

export interface KdumpOpenOptions {
  codecs: PageCodecs;
  parseNotes: (bytes: Uint8Array, littleEndian: boolean, baseOffset: number) => ElfNote[];
}

/** A kdump-compressed dump (one file or a split set) as a DumpBackend. */
export class KdumpBackend implements DumpBackend {
  readonly format: "kdump" | "diskdump";
  readonly pageSize: number;
  readonly littleEndian: boolean;
  readonly wordSize: 4 | 8;
  readonly machine: string | undefined;
  readonly notes: ElfNote[] = [];
  readonly vmcoreinfoBytes: Uint8Array | undefined;
  readonly utsname: Utsname;
  readonly timestamp: number | undefined;
  readonly nrCpus: number | undefined;
  readonly warnings: DumpWarning[] = [];
  readonly maxAddress: number;
  readonly maxPfn: number;
  readonly header: KdumpHeader;
  readonly sub: KdumpSubHeader | undefined;
  /** Parts sorted by start pfn. */
  readonly parts: KdumpPart[];
  readonly incomplete: boolean;
  readonly loadSegments: readonly DumpLoadSegment[] = [];
  private readonly pageShift: number;
  private map: PageRun[] | undefined;
  private readonly codecs: PageCodecs;
  private scratch: Uint8Array;

  constructor(sources: SyncByteSource[], opts: KdumpOpenOptions) {
    if (sources.length === 0) throw new FormatError("no kdump files given");
    if (sources.length > KDUMP_LIMITS.maxSplitParts)
      throw new LimitError("split parts", sources.length, KDUMP_LIMITS.maxSplitParts);
    this.codecs = opts.codecs;
    const parts = sources.map((s) => openKdumpPart(s, this.warnings));
    const first = parts[0]!;
    for (const p of parts.slice(1)) {
      if (
        p.header.blockSize !== first.header.blockSize ||
        p.header.littleEndian !== first.header.littleEndian
      )
        throw new FormatError(
          `split part ${p.source.name ?? "?"} does not match the first part's page size/byte order`,
        );
    }
    if (parts.length > 1) {
      if (parts.some((p) => !p.sub?.split))
        throw new FormatError(
          "several files given but not all are parts of a split dump (sub-header split = 0)",
        );
      parts.sort((a, b) => a.startPfn - b.startPfn);
      for (let i = 1; i < parts.length; i++)
        if (parts[i]!.startPfn < parts[i - 1]!.endPfn)
          throw new FormatError(`split parts overlap at pfn ${hex(parts[i]!.startPfn)}`);
    } else if (first.sub?.split) {
      this.warnings.push({
        code: "split-part",
        message: `this file is one part of a split dump (pfns ${hex(first.startPfn)}–${hex(first.endPfn)}); open all parts together`,
      });
    }
    this.parts = parts;
    this.header = first.header;
    this.sub = first.sub;
    this.format = first.header.signature === KDUMP_SIGNATURE ? "kdump" : "diskdump";
    this.pageSize = first.header.blockSize;
    this.pageShift = 31 - Math.clz32(this.pageSize);
    this.littleEndian = first.header.littleEndian;
    this.wordSize = first.header.wordSize;
    this.utsname = first.header.utsname;
    this.machine = this.utsname.machine || undefined;
    this.timestamp = first.header.timestamp.sec || undefined;
    this.nrCpus = first.header.nrCpus > 0 ? first.header.nrCpus : undefined;
    this.maxPfn = Math.max(...parts.map((p) => p.maxPfn));
    this.maxAddress = this.maxPfn * this.pageSize;
    this.incomplete = parts.some((p) => (p.header.status & DUMP_DH_COMPRESSED_INCOMPLETE) !== 0);
    if (this.incomplete)
      this.warnings.push({
        code: "incomplete",
        message:
          "the producer marked this dump INCOMPLETE (it stopped writing, e.g. disk full): pages it did not write read as not-dumped",
      });
    const blobs = readBlobs(first, this.warnings);
    this.vmcoreinfoBytes = blobs.vmcoreinfo;
    if (blobs.notes) this.notes = opts.parseNotes(blobs.notes, this.littleEndian, first.sub!.offsetNote);
    this.scratch = new Uint8Array(this.pageSize * 2);
    const covered = parts.reduce((n, p) => n + (p.endPfn - p.startPfn), 0);
    if (parts.length > 1 && covered < this.maxPfn)
      this.warnings.push({
        code: "split-gap",
        message: "the split parts do not cover every pfn: a part is missing",
      });
  }

  get description(): string {
    const h = this.header;
    const what = this.format === "kdump" ? "kdump-compressed" : "diskdump";
    const layout = { "64": "64-bit", "32pad": "32-bit padded", "32pack": "32-bit packed" } as const;
    const sub = this.sub ? `, ${layout[this.sub.layout]} sub-header` : "";
    return `${what} (${JSON.stringify(h.signature)} v${h.version}, ${h.wordSize * 8}-bit header${sub})`;
  }

  get headerPhysBase(): bigint | undefined {
    return this.sub?.physBase;
  }

  get dumpLevel(): number | undefined {
    return this.sub?.dumpLevel;
  }

  private partFor(pfn: number): KdumpPart | undefined {
    const ps = this.parts;
    if (ps.length === 1) return pfn >= ps[0]!.startPfn && pfn < ps[0]!.endPfn ? ps[0] : undefined;
    let lo = 0;
    let hi = ps.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = ps[mid]!;
      if (pfn < p.startPfn) hi = mid - 1;
      else if (pfn >= p.endPfn) lo = mid + 1;
      else return p;
    }
    return undefined;
  }

  /** Does the machine have RAM at this pfn (1st bitmap)? */
  private exists(pfn: number): boolean {
    const m = this.parts[0]!.memory;
    if (m) return m.get(pfn);
    const p = this.partFor(pfn);
    return p ? p.dumpable.get(pfn) : false;
  }

  private descOf(part: KdumpPart, pfn: number): PageDesc | "missing" {
    const t = part.descs;
    const i = t.slot(part.dumpable.rank(pfn) - part.rankBase);
    if (i < 0) return "missing";
    const offset = t.offset[i]!;
    if (Number.isNaN(offset))
      throw new FormatError(`page descriptor of pfn ${hex(pfn)}: offset does not fit in 53 bits`);
    const d = this.desc;
    d.offset = offset;
    d.size = t.size[i]!;
    d.flags = t.flags[i]!;
    return d;
  }
  /** Reused by descOf (no allocation per page). */
  private readonly desc: PageDesc = { offset: 0, size: 0, flags: 0 };

  private classify(part: KdumpPart, d: PageDesc | "missing"): PageState {
    if (d === "missing") return "missing";
    if (d.offset === 0 || d.size === 0) return "not-dumped";
    if (d.offset + d.size > part.source.size) return "missing";
    if (part.gappy && availableBytes(part.source, d.offset, d.size) < d.size) return "missing";
    if (d.flags === 0 && d.offset === part.zeroPageOffset && d.size === this.pageSize) return "zero";
    return "present";
  }

  stateAt(addr: number): PageState | undefined {
    const pfn = Math.floor(addr / this.pageSize);
    return this.pfnState(pfn);
  }

  pfnState(pfn: number): PageState | undefined {
    if (pfn < 0 || pfn >= this.maxPfn) return undefined;
    const part = this.partFor(pfn);
    if (part?.dumpable.get(pfn)) return this.classify(part, this.descOf(part, pfn));
    return this.exists(pfn) ? "excluded" : undefined;
  }

  firstAddress(): number | undefined {
    if (this.map) return this.map[0]?.start;
    // the first pfn with a state (see pfnState): in the 1st bitmap or dumpable in its part
    const mem = this.parts[0]!.memory;
    let first = mem ? mem.firstSet(0, this.maxPfn) : this.maxPfn;
    for (const p of this.parts) {
      const to = Math.min(p.endPfn, first);
      const f = p.dumpable.firstSet(p.startPfn, to);
      if (f < to) first = f;
    }
    return first < this.maxPfn ? first * this.pageSize : undefined;
  }

  /**
   * Every pfn's state as runs. Same states as pfnState, found in one pass: words of holes and
   * of excluded RAM (-d 31 leaves ~90% of a machine's pages out) are taken 32 pfns at a time,
   * and the descriptors of dumpable pfns are read in file order (their index counts up instead
   * of a rank per pfn): `info` on a 21k-page dump spent 160 M instructions here pfn by pfn.
   */
  memoryMap(): PageRun[] {
    if (this.map) return this.map;
    const runs = new RunCollector(this.pageSize);
    const mem = this.parts[0]!.memory;
    const max = this.maxPfn;
    let pfn = 0;
    // parts are sorted and do not overlap; outside them only the 1st bitmap speaks
    for (const part of this.parts) {
      const from = Math.min(part.startPfn, max);
      if (from > pfn) mapOutside(runs, mem, pfn, from);
      pfn = Math.max(pfn, from);
      const to = Math.min(part.endPfn, max);
      if (to > pfn) this.mapPart(runs, part, mem, pfn, to);
      pfn = Math.max(pfn, to);
    }
    if (max > pfn) mapOutside(runs, mem, pfn, max);
    this.map = runs.finish(max);
    return this.map;
  }

  /**
   * memoryMap() summed per contiguous range (Dump.memorySummary), without the map: the ranges
   * are the stretches of pfns in the 1st bitmap or dumpable, found a bitmap word at a time;
   * the excluded pages of a stretch are a popcount, and its dumpable pfns' descriptors are
   * consecutive in the file, so they are classified straight from their raw words in file
   * order (no run per page: `info` on dumpfile.zlib-d31 spent ~45 M instructions and ~500
   * page faults building 21k pages' runs it then summed). Undefined (the caller builds the
   * map) where the map is built already or a page may be missing: a truncated or gappy file,
   * descriptors past its end, an offset past 2^53 (the map's error), a byte order other than
   * the host's.
   */
  memorySummary(): MemorySummary | undefined {
    if (this.map || !HOST_LE) return undefined;
    for (const p of this.parts)
      if (p.gappy || !p.header.littleEndian || p.descOffset + p.numDumpable * PAGE_DESC_SIZE > p.source.size)
        return undefined;
    const s = new SummaryCollector(this.pageSize);
    const mem = this.parts[0]!.memory;
    const max = this.maxPfn;
    let pfn = 0;
    // the segments of memoryMap()
    for (const part of this.parts) {
      const from = Math.min(part.startPfn, max);
      if (from > pfn) s.segment(undefined, mem?.words, pfn, from);
      pfn = Math.max(pfn, from);
      const to = Math.min(part.endPfn, max);
      if (to > pfn) {
        const first = part.dumpable.rank(pfn) - part.rankBase;
        if (
          !s.segment(part.dumpable.words, mem?.words, pfn, to, (f, n) =>
            this.countDescs(part, first + f, n, s),
          )
        )
          return undefined;
      }
      pfn = Math.max(pfn, to);
    }
    if (max > pfn) s.segment(undefined, mem?.words, pfn, max);
    return s.finish(max);
  }

  /**
   * Add the states of descriptors [first, first + count) of `part` to the collector's open
   * range (descStates' rules); false at a descriptor that is missing or has a bad offset.
   */
  private countDescs(part: KdumpPart, first: number, count: number, s: SummaryCollector): boolean {
    const fileSize = part.source.size;
    const zero = part.zeroPageOffset ?? -1;
    const ps = this.pageSize;
    const wasm = descCounter();
    if (wasm) {
      // the raw descriptors read straight into the module's memory and counted there
      for (let k = 0; k < count; ) {
        const n = Math.min(DESC_COUNT_CHUNK, count - k);
        part.source.readSync(part.descOffset + (first + k) * PAGE_DESC_SIZE, n * PAGE_DESC_SIZE, wasm.buf);
        const c = wasm.count(n, fileSize, zero, ps);
        if (!c) return false;
        s.pages["not-dumped"] += c[0];
        s.pages.zero += c[1];
        s.pages.present += n - c[0] - c[1];
        k += n;
      }
      return true;
    }
    const per = PAGE_DESC_SIZE / 4;
    const buf = s.scratch;
    const u = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
    const chunk = Math.floor(buf.length / PAGE_DESC_SIZE);
    let notDumped = 0;
    let zeros = 0;
    let present = 0;
    for (let k = 0; k < count; ) {
      const n = Math.min(chunk, count - k);
      part.source.readSync(part.descOffset + (first + k) * PAGE_DESC_SIZE, n * PAGE_DESC_SIZE, buf);
      for (let i = 0, o = 0; i < n; i++, o += per) {
        const hi = u[o + 1]!;
        if (hi >= 0x20_0000) return false; // past 2^53: the map names the pfn
        // hi 0: the low word alone, a small integer the interpreter does not box (DescTable.load)
        const off = hi === 0 ? u[o]! : hi * 0x1_0000_0000 + u[o]!;
        const size = u[o + 2]!;
        if (off === 0 || size === 0) notDumped++;
        else if (off + size > fileSize)
          return false; // missing: the map finds the first one
        else if (u[o + 3] === 0 && off === zero && size === ps) zeros++;
        else present++;
      }
      k += n;
    }
    s.pages.present += present;
    s.pages.zero += zeros;
    s.pages["not-dumped"] += notDumped;
    return true;
  }

  /** The runs of pfns [from, to) of `part` (see memoryMap). */
  private mapPart(
    runs: RunCollector,
    part: KdumpPart,
    mem: PfnBitmap | undefined,
    from: number,
    to: number,
  ): void {
    const dw = part.dumpable.words;
    const dumpBits = part.dumpable.bits;
    const mw = mem?.words;
    const memBits = mem?.bits ?? 0;
    const first = part.dumpable.rank(from) - part.rankBase;
    const count = part.dumpable.rank(to) - part.rankBase - first;
    // the states of the dumpable pfns' descriptors, a chunk at a time in file order
    const codes = new Uint8Array(Math.min(count, DESC_CHUNK));
    let codesAt = 0;
    let codesEnd = 0;
    let idx = first;
    // a word at a time: each pfn is dumpable (D), excluded (E: RAM, not dumped) or a hole (H);
    // a stretch of E or H is one run boundary at most, only D pfns are looked at one by one
    for (let pfn = from; pfn < to; ) {
      const w = pfn >>> 5;
      const d = pfn < dumpBits ? dw[w]! : 0; // (bits past a bitmap's end are zero in its last word)
      const m = mw && pfn < memBits ? mw[w]! : 0;
      const wordEnd = Math.min((w + 1) * 32, to);
      while (pfn < wordEnd) {
        const bit = pfn & 31;
        if ((d >>> bit) & 1) {
          if (idx >= codesEnd) {
            codesAt = idx;
            codesEnd = Math.min(first + count, idx + codes.length);
            this.descStates(part, codesAt, codesEnd - codesAt, codes);
          }
          const c = codes[idx - codesAt]!;
          if (c === DESC_BAD_OFFSET)
            throw new FormatError(`page descriptor of pfn ${hex(pfn)}: offset does not fit in 53 bits`);
          runs.add(pfn, DESC_STATES[c]);
          idx++;
          pfn++;
          continue;
        }
        // E or H: the stretch ends at the next pfn of another class
        const excluded = ((m >>> bit) & 1) === 1;
        const same = excluded ? m & ~d : ~m & ~d;
        const other = ~same >>> bit;
        runs.add(pfn, excluded ? "excluded" : undefined);
        pfn = other === 0 ? wordEnd : Math.min(wordEnd, pfn + 31 - Math.clz32(other & -other));
      }
    }
  }

  /**
   * classify(descOf(…)) of descriptors [first, first + count) of `part` into `out` (indexes
   * of DESC_STATES, or DESC_BAD_OFFSET), in one loop over the decoded blocks: a short run
   * (info) classifies every descriptor once, mostly before V8 has optimised anything.
   */
  private descStates(part: KdumpPart, first: number, count: number, out: Uint8Array): void {
    const t = part.descs;
    const fileSize = part.source.size;
    const zero = part.zeroPageOffset ?? -1;
    const ps = this.pageSize;
    for (let k = 0; k < count; ) {
      const idx = first + k;
      const s0 = t.slot(idx);
      const len = Math.min(DESC_BLOCK - (idx % DESC_BLOCK), count - k);
      const valid = s0 < 0 ? 0 : Math.min(len, t.loaded - s0);
      const offs = t.offset;
      const sizes = t.size;
      const flags = t.flags;
      for (let j = 0; j < valid; j++) {
        const off = offs[s0 + j]!;
        const size = sizes[s0 + j]!;
        let c: number;
        if (Number.isNaN(off)) c = DESC_BAD_OFFSET;
        else if (off === 0 || size === 0)
          c = 1; // not-dumped
        else if (off + size > fileSize)
          c = 0; // missing
        else if (part.gappy && availableBytes(part.source, off, size) < size) c = 0;
        else if (flags[s0 + j] === 0 && off === zero && size === ps)
          c = 2; // zero
        else c = 3; // present
        out[k + j] = c;
      }
      out.fill(0, k + valid, k + len); // past the end of the file: missing
      k += len;
    }
  }

  /** Decode page `pfn` into `dst` (pageSize bytes). */
  readPage(
    pfn: number,
    dst: Uint8Array,
    zeroExcluded: boolean,
    addr = pfn * this.pageSize,
    dstZeroed = false,
  ): void {
    const codec = this.locate(pfn, dst, zeroExcluded, addr, dstZeroed);
    if (codec === undefined) return;
    const data = this.located;
    const out = dst.length === this.pageSize ? dst : dst.subarray(0, this.pageSize);
    // Tiny streams are nearly always the same page (all zeros, or one byte repeated): makedumpfile
    // below -d 1 compresses each zero page on its own. Decoding a 41-byte zlib stream into 4 KiB
    // costs ~12 µs through node:zlib, a copy ~0.3 µs: keep the last few decodes by content
    // (lzo decodes such a page in under 1 µs: not worth the lookup).
    if (this.sameAsLastTiny(codec, data)) {
      out.set(this.lastTinyPage!);
      return;
    }
    const key = this.tinyKey(codec, data);
    if (key !== undefined) {
      const hit = this.tiny.get(key);
      if (hit) {
        this.noteLastTiny(codec, data, hit);
        out.set(hit);
        return;
      }
    }
    const decoder = this.codecs[codec];
    if (!decoder) throw new UnsupportedError(`${codec} page compression`);
    try {
      // no context string per page (a hex string per page was a tenth of the JS time): added
      // when the decoder throws
      decoder(data, out);
    } catch (e) {
      if (e instanceof DecompressError && e.context) throw e;
      const detail = e instanceof DecompressError ? e.detail : (e as Error).message;
      throw new DecompressError(e instanceof DecompressError ? e.codec : codec, detail, `pfn ${hex(pfn)}`);
    }
    if (key !== undefined) this.rememberTiny(key, out);
  }

  /** The cache key of a tiny zlib/zstd stream (see readPage), else undefined. */
  tinyKey(codec: PageCodecName, data: Uint8Array): string | undefined {
    if (data.length > TINY_STREAM || (codec !== "zlib" && codec !== "zstd")) return undefined;
    return `${codec}:${String.fromCharCode.apply(null, data as unknown as number[])}`;
  }

  /**
   * The last tiny stream served from the cache, by bytes: a run of zero pages compressed one by
   * one (makedumpfile -d 0) repeats one stream, and comparing ≤ 96 bytes costs far less than
   * the cache key (a string per page was ~10% of reading a 155k-page -d 0 dump).
   */
  private lastTinyRaw = new Uint8Array(TINY_STREAM);
  private lastTinyLen = -1;
  private lastTinyCodec: PageCodecName | undefined;
  private lastTinyPage: Uint8Array | undefined;

  private sameAsLastTiny(codec: PageCodecName, data: Uint8Array): boolean {
    const n = data.length;
    if (n !== this.lastTinyLen || codec !== this.lastTinyCodec) return false;
    const r = this.lastTinyRaw;
    for (let i = 0; i < n; i++) if (r[i] !== data[i]) return false;
    return true;
  }

  private noteLastTiny(codec: PageCodecName, data: Uint8Array, page: Uint8Array): void {
    this.lastTinyRaw.set(data);
    this.lastTinyLen = data.length;
    this.lastTinyCodec = codec;
    this.lastTinyPage = page;
  }

  /** Keep the decoded page of a tiny stream (its key from tinyKey). */
  rememberTiny(key: string, page: Uint8Array): void {
    if (this.tiny.has(key)) return;
    if (this.tiny.size >= 16) this.tiny.delete(this.tiny.keys().next().value as string);
    this.tiny.set(key, page.slice(0, this.pageSize));
  }

  /**
   * Gather `count` pages from `pfn` into `b` for decoding elsewhere (dump/batch.ts): each page
   * is checked as readPage checks it; raw, zero and (with zeroExcluded) excluded pages are put
   * in place, tiny streams found in the cache copied, compressed pages queued (a repeat of a
   * tiny stream within the batch as a copy). Stops at the first page readPage would throw for
   * and returns that error (the pages before it are gathered); `b.count` says how many.
   * `tinyKeys[i]` receives the cache key of queued tiny page i, to remember once decoded.
   */
  gatherPages(
    pfn: number,
    count: number,
    b: PageBatch,
    zeroExcluded: boolean,
    tinyKeys: (string | undefined)[],
  ): Error | undefined {
    const ps = this.pageSize;
    b.count = 0;
    b.todo = 0;
    b.rawLen = 0;
    b.start = pfn * ps;
    tinyKeys.length = 0;
    let seen: Map<string, number> | undefined;
    for (let i = 0; i < count; i++) {
      const dst = b.out.subarray(i * ps, i * ps + ps);
      let codec: PageCodecName | undefined;
      try {
        codec = this.locate(pfn + i, dst, zeroExcluded, (pfn + i) * ps);
      } catch (e) {
        if (e instanceof MissingDataError) throw e;
        return e as Error;
      }
      b.count = i + 1;
      if (codec === undefined) continue;
      const data = this.located;
      if (this.sameAsLastTiny(codec, data)) {
        dst.set(this.lastTinyPage!);
        continue;
      }
      const key = this.tinyKey(codec, data);
      if (key !== undefined) {
        const hit = this.tiny.get(key);
        if (hit) {
          this.noteLastTiny(codec, data, hit);
          dst.set(hit);
          continue;
        }
        seen ??= new Map();
        const first = seen.get(key);
        if (first !== undefined) {
          queueCopy(b, i, first);
          continue;
        }
        seen.set(key, i);
        tinyKeys[i] = key;
      }
      if (!this.codecs[codec]) return new UnsupportedError(`${codec} page compression`);
      queueCompressed(b, i, BATCH_CODECS.indexOf(codec), data);
    }
    return undefined;
  }

  /** Compressed bytes of the page locate() last returned a codec for (valid until the next read). */
  private located: Uint8Array = new Uint8Array(0);

  /**
   * Check page `pfn` (throwing what readPage throws for it) and put it into `dst` when that
   * needs no decoding (excluded with zeroExcluded, the shared zero page, a raw page): returns
   * undefined then; else the codec, with the compressed bytes in `this.located`. A zero page
   * is not written when `dstZeroed` says `dst` holds zeros already.
   */
  private locate(
    pfn: number,
    dst: Uint8Array,
    zeroExcluded: boolean,
    addr: number,
    dstZeroed = false,
  ): PageCodecName | undefined {
    if (pfn < 0 || pfn >= this.maxPfn)
      throw new AddressError("physical", addr, `beyond the dumped memory (max pfn ${hex(this.maxPfn)})`);
    const part = this.partFor(pfn);
    if (!part?.dumpable.get(pfn)) {
      const only = this.parts.length === 1 ? this.parts[0]! : undefined;
      if (!part && only?.sub?.split)
        // one part of a `makedumpfile --split` set opened alone: the page is in another file
        throw new AddressError(
          "physical",
          addr,
          `pfn ${hex(pfn)} is held by another part of this split dump (this file holds pfns ${hex(only.startPfn)}–${hex(only.endPfn)}); give every part`,
        );
      if (!this.exists(pfn)) {
        if (this.parts.length > 1 && !part)
          throw new AddressError("physical", addr, `pfn ${hex(pfn)} is in no part of this split dump`);
        throw new AddressError("physical", addr, `not in the dump (memory hole, pfn ${hex(pfn)})`);
      }
      if (zeroExcluded) {
        dst.fill(0, 0, this.pageSize);
        return undefined;
      }
      throw new ExcludedPageError("physical", addr, pfn);
    }
    const d = this.descOf(part, pfn);
    if (d === "missing")
      throw new TruncatedError(
        part.descOffset,
        PAGE_DESC_SIZE,
        0,
        `page descriptor of pfn ${hex(pfn)} (dump truncated)`,
      );
    if (d.offset === 0 || d.size === 0) {
      if (zeroExcluded) {
        dst.fill(0, 0, this.pageSize);
        return undefined;
      }
      throw new ExcludedPageError("physical", addr, pfn, "page not written (dump incomplete)");
    }
    const codec = codecForFlags(d.flags);
    if (codec === undefined && d.size !== this.pageSize)
      throw new FormatError(
        `page descriptor of pfn ${hex(pfn)}: raw page of ${d.size} bytes (page size ${this.pageSize})`,
      );
    if (d.size > 2 * this.pageSize)
      throw new FormatError(
        `page descriptor of pfn ${hex(pfn)}: compressed size ${d.size} exceeds twice the page size`,
      );
    if (d.offset < part.descOffset)
      throw new FormatError(
        `page descriptor of pfn ${hex(pfn)}: data offset ${hex(d.offset)} lies inside the headers`,
      );
    if (d.offset + d.size > part.source.size)
      throw new TruncatedError(d.offset, d.size, part.source.size - d.offset, `page data of pfn ${hex(pfn)}`);
    if (part.gappy) {
      const have = availableBytes(part.source, d.offset, d.size);
      if (have < d.size)
        throw new TruncatedError(
          d.offset,
          d.size,
          have,
          `page data of pfn ${hex(pfn)} (flattened stream truncated)`,
        );
    }
    if (codec === undefined && d.offset === part.zeroPageOffset) {
      // the shared zero page (checked to be zeros at open): read from the start of the data
      // area between the pages that follow it, it would cost a seek in the window
      if (!dstZeroed) dst.fill(0, 0, this.pageSize);
      return undefined;
    }
    const data = part.window.view(d.offset, d.size);
    if (codec === undefined) {
      dst.set(data);
      return undefined;
    }
    this.located = data;
    return codec;
  }
  /** Decoded pages of tiny compressed streams, by codec and content. */
  private readonly tiny = new Map<string, Uint8Array>();

  /** The run decoder per codec (undefined: not looked up yet; null: none). */
  private readonly runDecoders = new Map<PageCodecName, PageRunDecoder | null>();

  private runDecoder(codec: PageCodecName): PageRunDecoder | undefined {
    let d = this.runDecoders.get(codec);
    if (d === undefined) {
      d = this.codecs.runs?.[codec]?.() ?? null;
      this.runDecoders.set(codec, d);
    }
    return d ?? undefined;
  }

  /**
   * DumpBackend.readRun: consecutive pages of one part decoded by one run decoder call
   * (codecs/page-run.ts). The descriptors are those of consecutive dumpable pfns, so they are
   * consecutive in the table (one rank for the run); each is checked as locate() checks it, and
   * the run ends before the first page that locate() would treat otherwise (a throw, another
   * codec, a page beyond what the run's buffers hold): that page is left to read(). The pages'
   * bytes are read from the file with one read into the decoder's memory: they lie end to end in
   * pfn order in makedumpfile's files; a run whose bytes spread wider than the decoder's input
   * buffer ends early.
   */
  readRun(addr: number, maxPages: number, zeroExcluded: boolean): Uint8Array | undefined | null {
    const ps = this.pageSize;
    const pfn = addr / ps;
    // a flattened stream with gaps: read() says which pages the gaps hold
    if (this.parts.some((p) => p.gappy)) return null;
    // raw and zero pages go through whichever decoder there is; the run's codec decides the rest
    let dec = this.anyRunDecoder();
    if (!dec) return null;
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= this.maxPfn) return undefined;
    const part = this.partFor(pfn);
    if (!part) return undefined;
    // room for the run's bytes placed at their file offset modulo 64 (below)
    const inCap = dec.input.length - 63;
    const end = Math.min(pfn + Math.min(Math.floor(maxPages), dec.pagesFor(ps)), part.endPfn, this.maxPfn);
    const dumpable = part.dumpable;
    const t = part.descs;
    const fileSize = part.source.size;
    const zeroAt = part.zeroPageOffset ?? -1;
    let codecSet = false;
    let runFlags = -1;
    let idx = -1;
    let slot = 0;
    let slotEnd = 0;
    let lo = 0;
    let hi = -1;
    let n = 0;
    const kinds = this.runKinds;
    const offs = this.runOffs;
    const lens = this.runLens;
    for (let p = pfn; p < end; p++) {
      let kind = RUN_ZERO;
      let off = 0;
      let size = 0;
      if (!dumpable.get(p)) {
        // excluded or a hole: zeros only when asked for and the machine has RAM there
        if (!zeroExcluded || !this.exists(p)) break;
      } else {
        // the descriptor's slot: looked up once per block of the table, then counted on
        if (slot >= slotEnd) {
          if (idx < 0) idx = dumpable.rank(p) - part.rankBase;
          slot = t.slot(idx);
          if (slot < 0) break;
          slotEnd = t.loaded;
        }
        const i = slot++;
        idx++;
        off = t.offset[i]!;
        size = t.size[i]!;
        if (Number.isNaN(off)) break;
        if (off === 0 || size === 0) {
          if (!zeroExcluded) break;
        } else {
          if (size > 2 * ps || off < part.descOffset || off + size > fileSize) break;
          const flags = t.flags[i]!;
          // the run's compressed pages share one codec: its flags, once seen, need no lookup
          if (flags === runFlags) kind = RUN_DECODE;
          else {
            const codec = codecForFlags(flags);
            if (codec === undefined) {
              if (size !== ps) break;
              if (off !== zeroAt) kind = RUN_RAW;
            } else {
              if (!codecSet) {
                const d = this.runDecoder(codec);
                if (!d || d.codec !== codec) break;
                dec = d;
                codecSet = true;
                runFlags = flags;
              } else if (dec.codec !== codec) break;
              kind = RUN_DECODE;
            }
          }
          if (kind !== RUN_ZERO) {
            // the file bytes of the run must fit the decoder's input buffer
            const nlo = hi < 0 ? off : Math.min(lo, off);
            const nhi = hi < 0 ? off + size : Math.max(hi, off + size);
            if (nhi - nlo > inCap) break;
            lo = nlo;
            hi = nhi;
          }
        }
      }
      kinds[n] = kind;
      offs[n] = off;
      lens[n] = size;
      n++;
    }
    if (n === 0) return undefined;
    // the run's bytes go where their address equals the file offset modulo 64 when the input's
    // address is known (a WebAssembly memory): the kernel then copies at full speed straight
    // into it, with no staging copy (src/bytes/aligned.ts)
    let shift = 0;
    const at = addressMod64(dec.input);
    if (at !== undefined) shift = (((lo - at) % 64) + 64) % 64;
    if (hi > lo) part.source.readSync(lo, hi - lo, dec.input.subarray(shift, shift + hi - lo));
    const src = dec.src;
    const len = dec.len;
    const kind = dec.kind;
    const base = lo - shift;
    for (let k = 0; k < n; k++) {
      const kd = kinds[k]!;
      kind[k] = kd;
      src[k] = kd === RUN_ZERO ? 0 : offs[k]! - base;
      len[k] = lens[k]!;
    }
    const done = dec.decode(n, ps);
    // a page that failed: read() reads it alone for its typed error
    return done > 0 ? dec.output.subarray(0, done * ps) : undefined;
  }
  /** readRun's per-page offsets and lengths before the run's start offset is known. */
  private readonly runOffs: number[] = [];
  private readonly runLens: number[] = [];
  private readonly runKinds: number[] = [];

  nextDumpable(addr: number): number | undefined {
    const ps = this.pageSize;
    const from = Math.max(0, Math.ceil(addr / ps));
    for (const p of this.parts) {
      if (p.endPfn <= from) continue;
      const to = Math.min(p.endPfn, this.maxPfn);
      const f = p.dumpable.firstSet(Math.max(from, p.startPfn), to);
      if (f < to) return f * ps;
    }
    return undefined;
  }

  /** Some run decoder, for runs without compressed pages (raw, zero). */
  private anyRunDecoder(): PageRunDecoder | undefined {
    for (const d of this.runDecoders.values()) if (d) return d;
    // none made yet: the codec of the dump's pages decides (the header says nothing of it)
    const codec = this.firstCodec();
    return this.runDecoder(codec) ?? this.runDecoder("lzo") ?? this.runDecoder("zlib");
  }

  /**
   * The codec of the first compressed page among the first descriptors (a dump's first pages
   * are often stored raw), lzo when none of them is compressed: the decoder made for runs of
   * raw and zero pages is then the one the compressed pages need, not a second module.
   */
  private firstCodec(): PageCodecName {
    const part = this.parts[0]!;
    const t = part.descs;
    for (let k = 0; k < Math.min(256, part.numDumpable); k++) {
      const i = t.slot(k);
      if (i < 0) break;
      const c = codecForFlags(t.flags[i]!);
      if (c) return c;
    }
    return "lzo";
  }

  read(addr: number, out: Uint8Array, zeroExcluded: boolean, outZeroed = false): void {
    const ps = this.pageSize;
    let done = 0;
    const len = out.length;
    while (done < len) {
      const a = addr + done;
      const pfn = Math.floor(a / ps);
      const inPage = a - pfn * ps;
      const n = Math.min(len - done, ps - inPage);
      if (n === ps)
        this.readPage(pfn, n === len ? out : out.subarray(done, done + ps), zeroExcluded, a, outZeroed);
      else {
        const page = this.scratch.subarray(0, ps);
        this.readPage(pfn, page, zeroExcluded, a);
        out.set(page.subarray(inPage, inPage + n), done);
      }
      done += n;
    }
  }

  /** Counts of pages by state (holes not counted) and the pfn span. */
  pageCounts(): Record<PageState, number> {
    const c: Record<PageState, number> = { present: 0, zero: 0, excluded: 0, "not-dumped": 0, missing: 0 };
    for (const r of this.memoryMap()) c[r.state] += (r.end - r.start) >> this.pageShift;
    return c;
  }
}
