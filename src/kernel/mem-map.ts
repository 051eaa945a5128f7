/**
 * Page classification from the kernel's `struct page` array (mem_map), through VMCOREINFO alone:
 * what makedumpfile's dump levels exclude (makedumpfile 1.7 `__exclude_unnecessary_pages`,
 * `page_is_buddy_v2/v3`, `is_cache_page`, `isHugetlb`, `isOffline`, `_exclude_free_page`), our
 * own code written from those rules. Browser-safe: kernel memory comes through the structural
 * `KernelMemory` interface (x86_64 `kernelOf(dump).space`, or any other translated view).
 *
 * The mem_map is found through SPARSEMEM (`mem_section[]` of structs) or SPARSEMEM_EXTREME
 * (`mem_section[]` of pointers to pages of structs, or since 4.15 a pointer to that array), each
 * section's `section_mem_map` encoded as "mem_map − first pfn of the section" with flag bits in
 * its low 5 bits (SECTION_MARKED_PRESENT = bit 0; makedumpfile masks 5 bits for every kernel).
 *
 * struct page arrays are read in 512-page windows (32 KiB for a 64-byte struct page), as
 * makedumpfile's PGMM_CACHED does, not one struct at a time. A window that cannot be read is
 * retried struct by struct; a page whose struct page cannot be read is kept and counted.
 */
import { hex, KdumpkitError, LimitError, MissingDataError, UnsupportedError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";

/** Kernel virtual memory, structurally (the x86_64 kernel space, xlat's views). */
export interface KernelMemory {
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array;
  translate(va: bigint): number;
}

/** makedumpfile's dump level bits (makedumpfile.h DL_EXCLUDE_*). */
export const DL_EXCLUDE_ZERO = 0x01;
export const DL_EXCLUDE_CACHE = 0x02;
export const DL_EXCLUDE_CACHE_PRI = 0x04;
export const DL_EXCLUDE_USER_DATA = 0x08;
export const DL_EXCLUDE_FREE = 0x10;

/** Why a page is left out; 0 = kept. One byte per pfn in `PageFilter.reason`. */
export const KEEP = 0;
export const EXCLUDED_ZERO = 1;
export const EXCLUDED_CACHE = 2;
export const EXCLUDED_CACHE_PRIVATE = 3;
export const EXCLUDED_USER = 4;
export const EXCLUDED_FREE = 5;
export const EXCLUDED_HWPOISON = 6;
export const EXCLUDED_OFFLINE = 7;

/** Category names, indexed by reason code (makedumpfile's report lines in this order). */
export const EXCLUSION_NAMES = [
  "kept",
  "zero",
  "cache",
  "cache-private",
  "user",
  "free",
  "hwpoison",
  "offline",
] as const;
export type ExclusionName = (typeof EXCLUSION_NAMES)[number];

/** One mem_map run: struct pages of [startPfn, endPfn) start at `memMap` (kernel virtual). */
export interface MemMapRun {
  startPfn: number;
  endPfn: number;
  memMap: bigint;
}

export interface MemMapLayout {
  model: "sparsemem" | "sparsemem-extreme" | "flatmem";
  pagesPerSection: number;
  runs: MemMapRun[];
  /** Sections whose mem_section entry could not be read (their pages are kept). */
  unreadableSections: number;
}

/** Bounds: at most 2^28 pfns (1 TiB of 4 KiB pages) and 2^22 sections. */
export const MAX_FILTER_PFNS = 2 ** 28;
const MAX_SECTIONS = 2 ** 22;
const MASK64 = (1n << 64n) - 1n;
/** The host's byte order: struct words are read through a Uint32Array when it is the dump's. */
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Kernel release as a comparable number: 6.1.0 → 0x060100 (makedumpfile KERNEL_VERSION). */
export function kernelVersionOf(vi: Vmcoreinfo): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(vi.osrelease ?? "");
  if (!m) return 0;
  return (Number(m[1]) << 16) | (Number(m[2]) << 8) | Math.min(255, Number(m[3] ?? 0));
}
const KV = (a: number, b: number, c = 0) => (a << 16) | (b << 8) | c;

function isKernelVa(va: bigint, wordSize: number): boolean {
  // the kernel half of the address space: top bit set on 64-bit machines; on 32-bit ones any
  // non-zero address below 4 GiB (3G/1G and 2G/2G splits both occur)
  return wordSize === 8 ? va >= 1n << 63n : va > 0n && va < 1n << 32n;
}

/** Is `e` a read failure of untrusted memory (not a loader retry, not a bug)? */
function isReadFailure(e: unknown): boolean {
  if (e instanceof MissingDataError) return false;
  return e instanceof KdumpkitError || e instanceof RangeError;
}

/** Read a pointer-sized word (unsigned) from kernel memory. */
function readWord(mem: KernelMemory, va: bigint, ws: 4 | 8, le: boolean): bigint {
  const b = mem.read(va & MASK64, ws);
  const dv = new DataView(b.buffer, b.byteOffset, ws);
  return ws === 8 ? dv.getBigUint64(0, le) : BigInt(dv.getUint32(0, le));
}

/**
 * Where the struct pages are: mem_section decoding (SPARSEMEM / SPARSEMEM_EXTREME, as
 * makedumpfile get_mm_sparsemem) or FLATMEM's `mem_map` symbol.
 */
export function memMapLayout(
  mem: KernelMemory,
  vi: Vmcoreinfo,
  opts: { maxPfn: number; pageSize: number; wordSize: 4 | 8; littleEndian: boolean; arch?: string },
): MemMapLayout {
  const { maxPfn, pageSize, wordSize: ws, littleEndian: le } = opts;
  if (!Number.isSafeInteger(maxPfn) || maxPfn < 0 || maxPfn > MAX_FILTER_PFNS)
    throw new LimitError("pfns to classify", maxPfn, MAX_FILTER_PFNS);
  const pageShift = 31 - Math.clz32(pageSize);
  const memSection = vi.symbol("mem_section");
  const sizeSection = vi.size("mem_section");
  const offMap = vi.offset("mem_section.section_mem_map");
  const sizePage = vi.size("page");
  if (sizePage === undefined || sizePage <= 0 || sizePage > 4096)
    throw new UnsupportedError("page classification without a valid SIZE(page) in VMCOREINFO");
  if (memSection === undefined || sizeSection === undefined || offMap === undefined) {
    const flat = vi.symbol("mem_map");
    if (flat === undefined)
      throw new UnsupportedError("page classification: VMCOREINFO has neither mem_section nor mem_map");
    // FLATMEM: mem_map is a pointer to the one array of struct pages
    const base = readWord(mem, flat, ws, le);
    return {
      model: "flatmem",
      pagesPerSection: maxPfn,
      runs: maxPfn > 0 ? [{ startPfn: 0, endPfn: maxPfn, memMap: base }] : [],
      unreadableSections: 0,
    };
  }
  if (sizeSection <= 0 || sizeSection > pageSize || offMap + ws > sizeSection)
    throw new UnsupportedError(`SIZE(mem_section) ${sizeSection} / OFFSET(section_mem_map) ${offMap}`);
  let sectionBits = Number(vi.number("SECTION_SIZE_BITS") ?? -1);
  let physBits = Number(vi.number("MAX_PHYSMEM_BITS") ?? -1);
  // makedumpfile's per-architecture defaults for kernels that did not export them (x86_64 since
  // 2.6.26: 27 and 46, 52 with 5-level paging)
  if (sectionBits < 0 && opts.arch === "x86_64") sectionBits = 27;
  if (physBits < 0 && opts.arch === "x86_64") physBits = vi.number("pgtable_l5_enabled") === 1n ? 52 : 46;
  if (sectionBits <= pageShift || sectionBits > 40 || physBits < sectionBits || physBits > 64)
    throw new UnsupportedError(
      `SPARSEMEM with SECTION_SIZE_BITS ${sectionBits} and MAX_PHYSMEM_BITS ${physBits}`,
    );
  const pfnSectionShift = sectionBits - pageShift;
  const pagesPerSection = 2 ** pfnSectionShift;
  const numSection = Math.ceil(maxPfn / pagesPerSection);
  if (numSection > MAX_SECTIONS) throw new LimitError("memory sections", numSection, MAX_SECTIONS);
  const perRootExtreme = Math.floor(pageSize / sizeSection);
  const nrMemSections = 2 ** Math.min(physBits - sectionBits, 40);
  const len = vi.length("mem_section");
  const extreme = len === undefined || len === Math.ceil(nrMemSections / perRootExtreme);
  const perRoot = extreme ? perRootExtreme : 1;

  const decode = (rootArray: bigint): { runs: MemMapRun[]; unreadable: number } | undefined => {
    const runs: MemMapRun[] = [];
    let unreadable = 0;
    let any = false;
    let roots: bigint[] | undefined;
    if (extreme) {
      const nRoots = Math.ceil(numSection / perRoot);
      roots = [];
      const b = mem.read(rootArray & MASK64, nRoots * ws);
      const dv = new DataView(b.buffer, b.byteOffset, b.length);
      for (let i = 0; i < nRoots; i++)
        roots.push(ws === 8 ? dv.getBigUint64(i * 8, le) : BigInt(dv.getUint32(i * 4, le)));
    }
    for (let nr = 0; nr < numSection; nr++) {
      let section: bigint;
      if (roots) {
        const root = roots[Math.floor(nr / perRoot)]!;
        if (root === 0n) continue;
        section = root + BigInt((nr % perRoot) * sizeSection);
      } else section = rootArray + BigInt(nr * sizeSection);
      if (!isKernelVa(section & MASK64, ws)) continue;
      let map: bigint;
      try {
        map = readWord(mem, section + BigInt(offMap), ws, le);
      } catch (e) {
        if (!isReadFailure(e)) throw e;
        unreadable++;
        continue;
      }
      if ((map & 1n) === 0n) continue; // SECTION_MARKED_PRESENT clear: no mem_map or hot-removed
      const start = nr * pagesPerSection;
      const memMap = ((map & ~0x1fn) + BigInt(start) * BigInt(sizePage)) & (ws === 8 ? MASK64 : 0xffffffffn);
      if (!isKernelVa(memMap, ws)) return undefined; // makedumpfile: this root array is not the one
      any = true;
      runs.push({ startPfn: start, endPfn: Math.min(start + pagesPerSection, maxPfn), memMap });
    }
    return any ? { runs, unreadable } : undefined;
  };
  // SYMBOL(mem_section) is the root array itself in VMCOREINFO; some setups give the address of
  // the pointer to it (SPARSEMEM_EXTREME v2, 4.15+): try the array first, then the pointer
  let got: { runs: MemMapRun[]; unreadable: number } | undefined;
  try {
    got = decode(memSection);
  } catch (e) {
    if (!isReadFailure(e)) throw e;
  }
  if (!got && extreme) {
    try {
      got = decode(readWord(mem, memSection, ws, le));
    } catch (e) {
      if (!isReadFailure(e)) throw e;
    }
  }
  if (!got) throw new UnsupportedError(`mem_section at ${hex(memSection)}: no valid memory section found`);
  return {
    model: extreme ? "sparsemem-extreme" : "sparsemem",
    pagesPerSection,
    runs: got.runs,
    unreadableSections: got.unreadable,
  };
}

export interface ClassifyOptions {
  /** makedumpfile dump level, 0–31. */
  dumpLevel: number;
  /** Highest pfn + 1 to consider. */
  maxPfn: number;
  pageSize: number;
  wordSize: 4 | 8;
  littleEndian: boolean;
  arch?: string;
  /**
   * One byte per pfn below maxPfn: nonzero when the dump holds the pfn at all (makedumpfile
   * is_in_segs); holes are never classified. Bytes, not a callback: classification asks once or
   * twice per pfn, and a call each time cost ~2 ms of a cold run over the corpus vmcore's pfns
   * (`convert --dry-run -d 31` 79.7 -> 77.5 ms, median of 21).
   */
  inDump: Uint8Array;
  /** Called with (done, total) runs as classification proceeds. */
  onProgress?: (done: number, total: number) => void;
}

export interface ClassifyResult {
  /** One byte per pfn: KEEP or the EXCLUDED_* reason. */
  reason: Uint8Array;
  /**
   * Pages excluded per reason, counted as makedumpfile counts them (a buddy or compound block
   * counts every pfn it spans, holes inside it included) — its `--message-level` report.
   */
  counts: Record<ExclusionName, number>;
  /** Pages that exist but whose struct page could not be read: kept. */
  unreadable: number;
  /** Pages that exist but lie in no mem_map section: kept. */
  noMemMap: number;
  layout: MemMapLayout | undefined;
  /** How free pages were found. */
  freeMethod: "buddy-mapcount" | "buddy-flag" | "free-lists" | "none";
  warnings: string[];
}

/** Which of the dump level's classes need struct page data. */
export function needsMemMap(dumpLevel: number, vi: Vmcoreinfo | undefined): boolean {
  if (dumpLevel & (DL_EXCLUDE_CACHE | DL_EXCLUDE_CACHE_PRI | DL_EXCLUDE_USER_DATA | DL_EXCLUDE_FREE))
    return true;
  // makedumpfile always drops hwpoison pages when the kernel says how to see them
  return vi?.number("PG_hwpoison") !== undefined;
}

/** A 64-bit flag mask split into 32-bit halves (hot loop: no BigInt). */
function halves(v: bigint | undefined): [number, number] {
  if (v === undefined) return [0, 0];
  const u = BigInt.asUintN(64, v);
  return [Number(u & 0xffffffffn), Number(u >> 32n)];
}

/**
 * Classify every pfn below `maxPfn` for `dumpLevel` (zero pages are not decided here: that needs
 * the page data, see `isZeroPage`). Pages whose struct page cannot be read are kept.
 */
export function classifyPages(
  mem: KernelMemory | undefined,
  vi: Vmcoreinfo | undefined,
  o: ClassifyOptions,
): ClassifyResult {
  const { maxPfn, dumpLevel, inDump } = o;
  if (!Number.isSafeInteger(maxPfn) || maxPfn < 0 || maxPfn > MAX_FILTER_PFNS)
    throw new LimitError("pfns to classify", maxPfn, MAX_FILTER_PFNS);
  if (inDump.length < maxPfn) throw new RangeError(`inDump holds ${inDump.length} pfns, not ${maxPfn}`);
  if (!Number.isInteger(dumpLevel) || dumpLevel < 0 || dumpLevel > 31)
    throw new UnsupportedError(`dump level ${dumpLevel} (0–31)`);
  const reason = new Uint8Array(maxPfn);
  const counts = Object.fromEntries(EXCLUSION_NAMES.map((n) => [n, 0])) as Record<ExclusionName, number>;
  const result: ClassifyResult = {
    reason,
    counts,
    unreadable: 0,
    noMemMap: 0,
    layout: undefined,
    freeMethod: "none",
    warnings: [],
  };
  if (!needsMemMap(dumpLevel, vi)) return result;
  if (!vi || !mem)
    throw new UnsupportedError(
      `dump level ${dumpLevel} needs the kernel's VMCOREINFO and memory (struct page) to classify pages`,
    );
  const layout = memMapLayout(mem, vi, o);
  result.layout = layout;
  if (layout.unreadableSections)
    result.warnings.push(
      `${layout.unreadableSections} mem_section entries could not be read: their pages are kept`,
    );

  const ws = o.wordSize;
  const le = o.littleEndian;
  const sz = vi.size("page")!;
  const kver = kernelVersionOf(vi);
  const off = (f: string) => vi.offset(`page.${f}`);
  const offFlags = off("flags") ?? 0;
  const offMapping = off("mapping");
  const offMapcount = off("_mapcount");
  const offPrivate = off("private");
  const offHead = off("compound_head");
  if (offMapping === undefined || off("_refcount") === undefined)
    throw new UnsupportedError("page classification without OFFSET(page.mapping) / OFFSET(page._refcount)");
  const fits = (o2: number | undefined, n: number) => o2 === undefined || (o2 >= 0 && o2 + n <= sz);
  if (![offFlags, offMapping, offMapcount, offPrivate, offHead].every((x) => fits(x, ws)))
    throw new UnsupportedError(`struct page field offsets beyond SIZE(page) ${sz}`);

  // compound order / destructor live in the first tail page (makedumpfile: since 6.3 as
  // folio._folio_order/_folio_dtor relative to the folio's second page; 4.4–6.2 page.compound_*;
  // before 4.4 in the tail's lru.prev / lru.next)
  const folioOrder = vi.offset("folio._folio_order");
  const folioDtor = vi.offset("folio._folio_dtor");
  const lru = off("lru");
  let orderOff =
    folioOrder !== undefined
      ? folioOrder - sz
      : (off("compound_order") ??
        (kver < KV(4, 4) && lru !== undefined ? lru + (vi.offset("list_head.prev") ?? ws) : 0));
  let dtorOff =
    folioDtor !== undefined
      ? folioDtor - sz
      : (off("compound_dtor") ??
        (kver < KV(4, 4) && lru !== undefined ? lru + (vi.offset("list_head.next") ?? 0) : 0));
  if (!fits(orderOff, 2)) orderOff = 0;
  if (!fits(dtorOff, ws)) dtorOff = 0;
  const orderU8 = kver >= KV(4, 16);
  const dtorWidth = kver >= KV(4, 16) ? 1 : kver >= KV(4, 4) ? 2 : ws;

  const num = (n: string) => vi.number(n);
  const bit = (n: string): number => {
    // makedumpfile's test_bit tests bit (nr & 31) of the flags word's low half; a missing
    // NUMBER means "never" here (makedumpfile would test bit 31)
    const v = num(n);
    return v === undefined ? 0 : 1 << Number(v & 31n);
  };
  const PG_lru = bit("PG_lru");
  const PG_private = bit("PG_private");
  const PG_swapcache = bit("PG_swapcache");
  const hasSwapBacked = num("PG_swapbacked") !== undefined;
  const PG_swapbacked = bit("PG_swapbacked");
  const PG_slab = bit("PG_slab");
  const PG_hwpoison = bit("PG_hwpoison");
  const PG_buddy = bit("PG_buddy");
  const PG_hugetlb =
    num("PG_hugetlb") !== undefined ? halves(1n << BigInt.asUintN(6, num("PG_hugetlb")!)) : undefined;
  const [headLo, headHi] = halves(num("PG_head_mask"));
  const i32 = (n: string): number | undefined => {
    const v = num(n);
    return v === undefined ? undefined : Number(BigInt.asIntN(32, v));
  };
  const BUDDY = i32("PAGE_BUDDY_MAPCOUNT_VALUE");
  const OFFLINE = i32("PAGE_OFFLINE_MAPCOUNT_VALUE");
  const SLAB = i32("PAGE_SLAB_MAPCOUNT_VALUE");
  const HUGETLB_MC = i32("PAGE_HUGETLB_MAPCOUNT_VALUE");
  const UNACCEPTED = i32("PAGE_UNACCEPTED_MAPCOUNT_VALUE");
  const hugetlbDtor = num("HUGETLB_PAGE_DTOR");
  // as a number for the 1- and 2-byte destructor ids (no BigInt per compound head)
  const hugetlbDtorNum =
    hugetlbDtor !== undefined && hugetlbDtor <= 0xffffn ? Number(hugetlbDtor) : undefined;
  const freeHugePage = vi.symbol("free_huge_page");
  const freeAreaLen = vi.length("zone.free_area");
  // buddy detection (makedumpfile setup_page_is_buddy): _mapcount == PAGE_BUDDY_MAPCOUNT_VALUE
  // (2.6.38+), PG_buddy (2.6.17–2.6.37), else walk the zones' free lists
  let buddy: "mapcount" | "flag" | undefined;
  if (offPrivate !== undefined) {
    if (BUDDY !== undefined && offMapcount !== undefined) buddy = "mapcount";
    else if (num("PG_buddy") !== undefined) buddy = "flag";
  }
  const excludeFree = (dumpLevel & DL_EXCLUDE_FREE) !== 0;
  if (excludeFree)
    result.freeMethod =
      buddy === "mapcount" ? "buddy-mapcount" : buddy === "flag" ? "buddy-flag" : "free-lists";

  // counted per reason code here, into `counts` (a record keyed by name) at the end: a keyed
  // increment of that record per excluded pfn was a large part of a cold classification
  const tally = new Float64Array(EXCLUSION_NAMES.length);
  // single pfns apart, in int32 (at most one per pfn < 2^28): an element of a Float64Array is a
  // heap number each time it is read until the loop is optimised
  const singles = new Int32Array(EXCLUSION_NAMES.length);
  const excludeRange = (from: number, to: number, r: number) => {
    const end = Math.min(to, maxPfn);
    for (let p = from; p < end; p++) if (reason[p] === KEEP && inDump[p]) reason[p] = r;
    if (end > from) tally[r]! += end - from; // makedumpfile counts every pfn of the block (exclude_range)
  };

  // mark pfns outside any mem_map run (kept, counted)
  const covered = new Uint8Array(maxPfn);
  for (const r of layout.runs) covered.fill(1, r.startPfn, Math.min(r.endPfn, maxPfn));
  for (let p = 0; p < maxPfn; p++) if (!covered[p] && inDump[p]) result.noMemMap++;

  const WINDOW = 512; // makedumpfile PGMM_CACHED
  // struct pages are read CHUNK windows at a time (one read of 256 KiB of 64-byte structs
  // instead of eight); a chunk that fails is read again window by window, then struct by
  // struct, so what can be read is the same
  const CHUNK = 8;
  const buf = new Uint8Array(CHUNK * WINDOW * sz);
  const dv = new DataView(buf.buffer);
  const ok = new Uint8Array(CHUNK * WINDOW);
  // the words through a Uint32Array where the host's byte order is the dump's and every field
  // is 4-aligned (x86_64, arm64): no DataView call per field on 131k struct pages
  const direct =
    le === HOST_LE &&
    sz % 4 === 0 &&
    [offFlags, offMapping, offMapcount ?? 0, offPrivate ?? 0, offHead ?? 0].every((x) => x % 4 === 0);
  // The halves are read as *signed* 32-bit words: every use is a bit test (or the buddy order,
  // checked for sign), and an unsigned word of 2^31 or more (a kernel pointer's low half, in
  // `mapping` and `compound_head`) is a heap number until the loop is optimised (~0.7 MB of
  // garbage over the corpus vmcore's 131k struct pages, measured with heap sampling).
  const s32v = new Int32Array(buf.buffer, 0, buf.length >>> 2);
  const lo = direct
    ? (at: number) => s32v[(at >>> 2) + (ws === 8 && !le ? 1 : 0)]!
    : (at: number) => (ws === 8 ? dv.getInt32(at + (le ? 0 : 4), le) : dv.getInt32(at, le));
  const hi = direct
    ? (at: number) => (ws === 8 ? s32v[(at >>> 2) + (le ? 1 : 0)]! : 0)
    : (at: number) => (ws === 8 ? dv.getInt32(at + (le ? 4 : 0), le) : 0);
  const s32 = direct ? (at: number) => s32v[at >>> 2]! : (at: number) => dv.getInt32(at, le);
  // The struct's hot fields as word indexes (direct): the classification loop runs interpreted
  // on a dump this size, and a call per field (lo/hi/s32) over the corpus vmcore's 26k classified
  // struct pages cost `-l -d 31` 133.6 -> 130.7 ms, `--dry-run -d 31` 75.8 -> 74.6 (median of
  // 21); -1: a field the kernel lacks (a 32-bit flags word has no high half). Other layouts, and
  // the next struct's fields of a compound head, go through the calls.
  const loWord = (off: number) => (off >>> 2) + (ws === 8 && !le ? 1 : 0);
  const W_FLAGS_LO = loWord(offFlags);
  const W_FLAGS_HI = ws === 8 ? (offFlags >>> 2) + (le ? 1 : 0) : -1;
  const W_MAPCOUNT = offMapcount !== undefined ? offMapcount >>> 2 : -1;
  const W_HEAD = offHead !== undefined ? loWord(offHead) : -1;
  const W_MAPPING = loWord(offMapping);
  const readStructs = (va: bigint, from: number, n: number): void => {
    try {
      mem.read(va, n * sz, buf.subarray(from * sz, (from + n) * sz));
      ok.fill(1, from, from + n);
    } catch (e) {
      if (!isReadFailure(e)) throw e;
      if (n > WINDOW) {
        for (let i = 0; i < n; i += WINDOW)
          readStructs(va + BigInt(i * sz), from + i, Math.min(WINDOW, n - i));
        return;
      }
      // one struct at a time: keep what can be read
      for (let i = 0; i < n; i++) {
        try {
          mem.read(va + BigInt(i * sz), sz, buf.subarray((from + i) * sz, (from + i + 1) * sz));
          ok[from + i] = 1;
        } catch (e2) {
          if (!isReadFailure(e2)) throw e2;
          ok[from + i] = 0;
        }
      }
    }
  };
  let skipUntil = 0;
  let runsDone = 0;
  for (const run of layout.runs) {
    // c0: the pfn at buf's start; cEnd: the end of what buf holds (chunks start on a window)
    let c0 = run.startPfn;
    let cEnd = run.startPfn;
    for (let w0 = run.startPfn; w0 < run.endPfn; ) {
      const wEnd = Math.min(run.endPfn, (Math.floor(w0 / WINDOW) + 1) * WINDOW);
      const n = wEnd - w0;
      if (wEnd <= skipUntil) {
        w0 = wEnd;
        continue;
      }
      if (wEnd > cEnd) {
        c0 = w0;
        cEnd = Math.min(run.endPfn, (Math.floor(w0 / WINDOW) + CHUNK) * WINDOW);
        readStructs(run.memMap + BigInt((w0 - run.startPfn) * sz), 0, cEnd - w0);
      }
      const base = w0 - c0;
      for (let i = 0; i < n; i++) {
        const pfn = w0 + i;
        if (pfn < skipUntil) {
          // inside a block already excluded (a free buddy block, a compound page): on to its end
          // at once, not a pfn at a time (75k of the corpus vmcore's 102k pfns in mem_map runs;
          // `--dry-run -d 31` 74.6 -> 72.9 ms, median of 21)
          i = Math.min(n, skipUntil - w0) - 1;
          continue;
        }
        if (!inDump[pfn]) continue;
        const bi = base + i;
        if (!ok[bi]) {
          result.unreadable++;
          continue;
        }
        const at = bi * sz;
        const wi = at >>> 2;
        const fLo = direct ? s32v[wi + W_FLAGS_LO]! : lo(at + offFlags);
        const fHi = direct ? (W_FLAGS_HI < 0 ? 0 : s32v[wi + W_FLAGS_HI]!) : hi(at + offFlags);
        const mapcount = W_MAPCOUNT < 0 ? 0 : direct ? s32v[wi + W_MAPCOUNT]! : s32(at + offMapcount!);
        let order = 0;
        let hugetlb = false;
        // a head's order and destructor are in the next struct page; makedumpfile reads them only
        // when that struct is in the same 512-page window (a real head never sits at its end)
        if (pfn % WINDOW < WINDOW - 1 && i + 1 < n && ok[bi + 1] && ((fLo & headLo) | (fHi & headHi)) !== 0) {
          const nx = at + sz;
          if (HUGETLB_MC !== undefined || PG_hugetlb) {
            // 6.6+: order in the low byte of folio._flags_1; hugetlb by PG_hugetlb (6.6–6.8) or
            // the head's _mapcount page type (6.9+)
            order = lo(nx + offFlags) & 0xff;
            if (HUGETLB_MC !== undefined) hugetlb = mapcount === HUGETLB_MC;
            else if (PG_hugetlb)
              hugetlb = ((lo(nx + offFlags) & PG_hugetlb[0]) | (hi(nx + offFlags) & PG_hugetlb[1])) !== 0;
          } else {
            if (orderOff) order = orderU8 ? buf[nx + orderOff]! : dv.getUint16(nx + orderOff, le);
            if (dtorOff) {
              if (dtorWidth === 1 || dtorWidth === 2) {
                const d = dtorWidth === 1 ? buf[nx + dtorOff]! : dv.getUint16(nx + dtorOff, le);
                hugetlb = d === hugetlbDtorNum;
              } else {
                // before 4.4 the destructor was a function pointer: free_huge_page
                const d =
                  ws === 8 ? dv.getBigUint64(nx + dtorOff, le) : BigInt(dv.getUint32(nx + dtorOff, le));
                hugetlb =
                  (hugetlbDtor !== undefined && d === hugetlbDtor) ||
                  (freeHugePage !== undefined && d === freeHugePage);
              }
            }
          }
          if (order >= ws * 8 || order > 30 || pfn % (1 << order) !== 0) order = 0; // invalid order
        }
        // a tail page (compound_head bit 0): excluded with its head, or kept
        if (W_HEAD >= 0 && ((direct ? s32v[wi + W_HEAD]! : lo(at + offHead!)) & 1) !== 0) continue;
        const slab = (SLAB !== undefined && mapcount === SLAB) || (fLo & PG_slab) !== 0;
        const anon = ((direct ? s32v[wi + W_MAPPING]! : lo(at + offMapping)) & 1) !== 0 && !slab;
        let r = KEEP;
        // shifts, not `2 **`: Math.pow's result is a heap number until the loop is optimised
        // (one per struct page); order and privLo are checked ≤ 30 above
        let nr = 1 << order;
        if (
          excludeFree &&
          buddy &&
          (buddy === "mapcount" ? !slab && mapcount === BUDDY : (fLo & PG_buddy) !== 0)
        ) {
          const privLo = lo(at + offPrivate!);
          const privHi = hi(at + offPrivate!);
          const limit = freeAreaLen ?? 31;
          if (privHi !== 0 || privLo < 0 || privLo >= limit || privLo > 30) {
            result.warnings.push(
              `invalid free page order at pfn ${hex(pfn)}: ${privHi || privLo < 0 ? "huge" : privLo} (kept)`,
            );
            continue;
          }
          nr = 1 << privLo;
          r = EXCLUDED_FREE;
        } else if (excludeFree && UNACCEPTED !== undefined && mapcount === UNACCEPTED && freeAreaLen) {
          nr = 2 ** (freeAreaLen - 1);
          r = EXCLUDED_FREE;
        } else {
          const cache =
            (fLo & PG_lru) !== 0 ||
            ((!hasSwapBacked || (fLo & PG_swapbacked) !== 0) && (fLo & PG_swapcache) !== 0);
          const priv = (fLo & PG_private) !== 0;
          if (dumpLevel & DL_EXCLUDE_CACHE && cache && !priv && !anon) r = EXCLUDED_CACHE;
          else if (dumpLevel & DL_EXCLUDE_CACHE_PRI && cache && !anon)
            r = priv ? EXCLUDED_CACHE_PRIVATE : EXCLUDED_CACHE;
          else if (dumpLevel & DL_EXCLUDE_USER_DATA && (anon || hugetlb)) r = EXCLUDED_USER;
          else if ((fLo & PG_hwpoison) !== 0) r = EXCLUDED_HWPOISON;
          else if (OFFLINE !== undefined && !slab && mapcount === OFFLINE) r = EXCLUDED_OFFLINE;
          else continue;
        }
        if (nr === 1) {
          if (reason[pfn] === KEEP) reason[pfn] = r;
          singles[r]!++;
        } else {
          excludeRange(pfn, pfn + nr, r);
          skipUntil = pfn + nr;
        }
      }
      w0 = wEnd;
    }
    o.onProgress?.(++runsDone, layout.runs.length);
  }
  if (excludeFree && !buddy) excludeFreeLists(mem, vi, layout, o, excludeRange, result);
  for (const [r, n] of EXCLUSION_NAMES.entries()) counts[n] += tally[r]! + singles[r]!;
  return result;
}

/**
 * Free pages from the zones' free lists, for kernels without buddy marks in struct page (before
 * 2.6.17), as makedumpfile `_exclude_free_page`: every online node's zones, every order, every
 * migrate type; a list entry is a struct page's `lru`. Bounded: a list longer than the machine has
 * pages, or one that leaves the mem_map, stops with a warning.
 */
function excludeFreeLists(
  mem: KernelMemory,
  vi: Vmcoreinfo,
  layout: MemMapLayout,
  o: ClassifyOptions,
  excludeRange: (from: number, to: number, r: number) => void,
  result: ClassifyResult,
): void {
  const ws = o.wordSize;
  const le = o.littleEndian;
  const need = (v: number | undefined, what: string): number => {
    if (v === undefined) throw new UnsupportedError(`free pages by free lists without ${what} in VMCOREINFO`);
    return v;
  };
  const sizeZone = need(vi.size("zone"), "SIZE(zone)");
  const sizeFreeArea = need(vi.size("free_area"), "SIZE(free_area)");
  const offZones = need(vi.offset("pglist_data.node_zones"), "OFFSET(pglist_data.node_zones)");
  const offNrZones = need(vi.offset("pglist_data.nr_zones"), "OFFSET(pglist_data.nr_zones)");
  const offSpanned = need(vi.offset("zone.spanned_pages"), "OFFSET(zone.spanned_pages)");
  const offFreeArea = need(vi.offset("zone.free_area"), "OFFSET(zone.free_area)");
  const offFreeList = need(vi.offset("free_area.free_list"), "OFFSET(free_area.free_list)");
  const offNext = vi.offset("list_head.next") ?? 0;
  const offLru = need(vi.offset("page.lru"), "OFFSET(page.lru)");
  const orders = Math.min(need(vi.length("zone.free_area"), "LENGTH(zone.free_area)"), 20);
  const types = Math.min(vi.length("free_area.free_list") ?? 1, 16);
  const sizeListHead = vi.size("list_head") ?? 2 * ws;
  const sizePage = vi.size("page")!;
  const pgdats: bigint[] = [];
  const nodeData = vi.symbol("node_data");
  const contig = vi.symbol("contig_page_data");
  if (nodeData !== undefined) {
    const n = Math.min(vi.length("node_data") ?? 1, 1024);
    for (let i = 0; i < n; i++) {
      try {
        const p = readWord(mem, nodeData + BigInt(i * ws), ws, le);
        if (p !== 0n) pgdats.push(p);
      } catch (e) {
        if (!isReadFailure(e)) throw e;
      }
    }
  } else if (contig !== undefined) pgdats.push(contig);
  else throw new UnsupportedError("free pages by free lists without node_data or contig_page_data");
  const runs = layout.runs;
  const pfnOfPage = (page: bigint): number | undefined => {
    for (const r of runs) {
      if (page < r.memMap) continue;
      const idx = (page - r.memMap) / BigInt(sizePage);
      if (idx < BigInt(r.endPfn - r.startPfn) && (page - r.memMap) % BigInt(sizePage) === 0n)
        return r.startPfn + Number(idx);
    }
    return undefined;
  };
  let budget = o.maxPfn + 1024;
  for (const pgdat of pgdats) {
    let nrZones: number;
    try {
      const b = mem.read(pgdat + BigInt(offNrZones), 4);
      nrZones = Math.min(new DataView(b.buffer, b.byteOffset, 4).getInt32(0, le), 8);
    } catch (e) {
      if (!isReadFailure(e)) throw e;
      result.warnings.push(`node at ${hex(pgdat)}: nr_zones unreadable, its free pages are kept`);
      continue;
    }
    for (let z = 0; z < nrZones; z++) {
      const zone = pgdat + BigInt(offZones + z * sizeZone);
      try {
        if (readWord(mem, zone + BigInt(offSpanned), ws, le) === 0n) continue;
        for (let order = 0; order < orders; order++)
          for (let t = 0; t < types; t++) {
            const head = zone + BigInt(offFreeArea + order * sizeFreeArea + offFreeList + t * sizeListHead);
            let cur = readWord(mem, head + BigInt(offNext), ws, le);
            while (cur !== head && cur !== 0n) {
              if (--budget < 0) throw new LimitError("free list entries", o.maxPfn + 1024, o.maxPfn + 1024);
              const pfn = pfnOfPage(cur - BigInt(offLru));
              if (pfn === undefined) {
                result.warnings.push(
                  `free list of zone ${hex(zone)} order ${order} leaves mem_map at ${hex(cur)}`,
                );
                break;
              }
              excludeRange(pfn, pfn + 2 ** order, EXCLUDED_FREE);
              cur = readWord(mem, cur + BigInt(offNext), ws, le);
            }
          }
      } catch (e) {
        if (!isReadFailure(e)) throw e;
        result.warnings.push(
          `zone at ${hex(zone)}: ${(e as Error).message}; the rest of its free pages are kept`,
        );
      }
    }
  }
}

/** Is the page all zeros (makedumpfile is_zero_page)? Word-wise when aligned. */
export { isZeroPage } from "../bytes/zero.js";
