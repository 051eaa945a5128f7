/**
 * dom0's pseudo-physical → machine table, reached from CRASH_INFO's
 * dom0_pfn_to_mfn_frame_list_list: that MFN holds a page of MFNs of "frame list" pages, each
 * holding MFNs of leaf pages, each holding 512 MFNs (Linux arch/x86/xen/p2m.c
 * xen_build_mfn_list_list: p2m_top_mfn → p2m_mid_mfn → p2m leaves; unpopulated parts point to
 * shared "missing" pages full of ~0). Leaf entries carry flag bits: FOREIGN_FRAME_BIT (63)
 * and IDENTITY_FRAME_BIT (62, pfn == mfn for 1:1 I/O ranges).
 *
 * Lookups are lazy (three cached page reads) so that opening a dump costs nothing; `scan`
 * walks the whole table when a listing or a count is wanted. Entries pointing outside the
 * dump become AddressErrors for that pfn only, never a failure of the whole table.
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError, hex, rethrowMissing } from "../errors.js";
import { AddressSpace, type PfnTableMethod } from "../xlat/space.js";

const ENTRIES = 512;
const PAGE = 4096;
const TWO32 = 0x1_0000_0000;
const SPACE = "dom0-physical";
/** 2^40 frames = 2^52 bytes, the x86_64 physical address limit. */
const MAX_MFN_HI = 0x100;

/** One level's page as (lo, hi) uint32 pairs of little-endian 64-bit entries. */
type Page = Uint32Array;

/** Uint32Array uses the host's byte order; x86 dumps are little-endian. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function pageFromBytes(bytes: Uint8Array): Page {
  const copy = bytes.slice();
  if (!HOST_LITTLE_ENDIAN)
    for (let i = 0; i < copy.length; i += 4) {
      const a = copy[i]!;
      const b = copy[i + 1]!;
      copy[i] = copy[i + 3]!;
      copy[i + 1] = copy[i + 2]!;
      copy[i + 2] = b;
      copy[i + 3] = a;
    }
  return new Uint32Array(copy.buffer, 0, copy.length >> 2);
}

export interface P2mEntry {
  pfn: number;
  mfn: number;
  identity: boolean;
  foreign: boolean;
}

export class Dom0P2m {
  private readonly pages = new Map<number, Page | Error>();
  /** Highest pfn the 3-level layout can express. */
  readonly maxPfn = ENTRIES * ENTRIES * ENTRIES;

  constructor(
    readonly mem: PhysReader,
    /** CRASH_INFO dom0_pfn_to_mfn_frame_list_list (an MFN). */
    readonly frameListListMfn: number,
  ) {}

  private page(mfn: number, what: string, pfn: number): Page {
    let p = this.pages.get(mfn);
    if (p === undefined) {
      try {
        p = pageFromBytes(this.mem.readPhys(mfn * PAGE, PAGE));
      } catch (e) {
        rethrowMissing(e);
        p = e instanceof Error ? e : new Error(String(e));
      }
      if (this.pages.size > 4096) this.pages.clear();
      this.pages.set(mfn, p);
    }
    if (p instanceof Error)
      throw new AddressError(
        SPACE,
        pfn * PAGE,
        `p2m ${what} page (mfn ${hex(mfn)}) unreadable: ${p.message}`,
      );
    return p;
  }

  /** Entry i of a page as an MFN, or undefined for ~0 / 0 / out-of-range values. */
  private static entry(p: Page, i: number): { mfn: number; hiFlags: number } | undefined {
    const lo = p[i * 2]!;
    const hi = p[i * 2 + 1]!;
    if (lo === 0xffff_ffff && hi === 0xffff_ffff) return undefined;
    const flags = hi & 0xc000_0000;
    const h = hi & 0x3fff_ffff;
    if (h >= MAX_MFN_HI) return undefined;
    const mfn = h * TWO32 + lo;
    return { mfn, hiFlags: flags };
  }

  /**
   * Entry `i` of the table page at `mfn`: from the cached whole page when the dump holds it,
   * else the 8 bytes alone, so a lookup never fails on an entry off its path (issue 16 point 7).
   */
  private entryOnPath(
    mfn: number,
    i: number,
    what: string,
    pfn: number,
  ): { mfn: number; hiFlags: number } | undefined {
    let page: Page;
    try {
      page = this.page(mfn, what, pfn);
    } catch (whole) {
      rethrowMissing(whole);
      let bytes: Uint8Array;
      try {
        bytes = this.mem.readPhys(mfn * PAGE + i * 8, 8);
      } catch (e) {
        rethrowMissing(e);
        throw whole;
      }
      return Dom0P2m.entry(pageFromBytes(bytes), 0);
    }
    return Dom0P2m.entry(page, i);
  }

  /** The MFN behind `pfn`; throws AddressError naming the level that failed. */
  lookup(pfn: number): P2mEntry {
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= this.maxPfn)
      throw new AddressError(SPACE, pfn * PAGE, "pfn beyond the 3-level p2m");
    const top = Math.floor(pfn / (ENTRIES * ENTRIES));
    const e3 = this.entryOnPath(this.frameListListMfn, top, "frame-list-list", pfn);
    if (!e3 || e3.mfn === 0) throw new AddressError(SPACE, pfn * PAGE, "no p2m frame list (invalid entry)");
    const e2 = this.entryOnPath(e3.mfn, Math.floor(pfn / ENTRIES) % ENTRIES, "frame-list", pfn);
    if (!e2 || e2.mfn === 0) throw new AddressError(SPACE, pfn * PAGE, "no p2m leaf page (invalid entry)");
    const e1 = this.entryOnPath(e2.mfn, pfn % ENTRIES, "leaf", pfn);
    if (!e1) throw new AddressError(SPACE, pfn * PAGE, "p2m entry invalid (~0: not populated)");
    return {
      pfn,
      mfn: e1.mfn,
      foreign: (e1.hiFlags & 0x8000_0000) !== 0,
      identity: (e1.hiFlags & 0x4000_0000) !== 0,
    };
  }

  /** Machine address of a dom0 pseudo-physical address. */
  toMachine(pa: number): number {
    const e = this.lookup(Math.floor(pa / PAGE));
    return e.mfn * PAGE + (pa % PAGE);
  }

  /**
   * Visit the table's valid entries in pfn order (`flags`: the entry's high bits, foreign
   * 0x80000000 and identity 0x40000000); the walk stops when `visit` returns true. Pages of the
   * table that cannot be read are skipped, each named in `gaps`. Bounded by the table's own size
   * (at most 512 frame lists × 512 leaves); no allocation per entry (a 64 GiB dom0 has 16M).
   */
  forEachEntry(
    visit: (pfn: number, mfn: number, flags: number) => boolean | undefined,
    gaps: string[] = [],
  ): void {
    let top: Page;
    try {
      top = this.page(this.frameListListMfn, "frame-list-list", 0);
    } catch (e) {
      rethrowMissing(e);
      gaps.push((e as Error).message);
      return;
    }
    const seenMid = new Set<number>();
    for (let i3 = 0; i3 < ENTRIES; i3++) {
      const e3 = Dom0P2m.entry(top, i3);
      if (!e3 || e3.mfn === 0) continue;
      let mid: Page;
      try {
        mid = this.page(e3.mfn, "frame-list", i3 * ENTRIES * ENTRIES);
      } catch (e) {
        rethrowMissing(e);
        gaps.push((e as Error).message);
        continue;
      }
      // all top slots past the populated range point to the same "missing" page: skip repeats
      if (seenMid.has(e3.mfn)) continue;
      seenMid.add(e3.mfn);
      for (let i2 = 0; i2 < ENTRIES; i2++) {
        const e2 = Dom0P2m.entry(mid, i2);
        if (!e2 || e2.mfn === 0) continue;
        const base = (i3 * ENTRIES + i2) * ENTRIES;
        let leaf: Page;
        try {
          leaf = this.page(e2.mfn, "leaf", base);
        } catch (e) {
          rethrowMissing(e);
          gaps.push((e as Error).message);
          continue;
        }
        for (let i1 = 0; i1 < ENTRIES; i1++) {
          const lo = leaf[i1 * 2]!;
          const hi = leaf[i1 * 2 + 1]!;
          if ((lo === 0xffff_ffff && hi === 0xffff_ffff) || (hi & 0x3fff_ffff) >= MAX_MFN_HI) continue;
          if (visit(base + i1, (hi & 0x3fff_ffff) * TWO32 + lo, (hi & 0xc000_0000) >>> 0)) return;
        }
      }
    }
  }

  /** The whole table: its valid entries, the highest pfn, the pages that could not be read. */
  scan(): { entries: number; highestPfn: number; gaps: string[]; firstMfns: number[] } {
    const gaps: string[] = [];
    let entries = 0;
    let highestPfn = -1;
    const firstMfns: number[] = [];
    this.forEachEntry((pfn, mfn) => {
      entries++;
      highestPfn = pfn;
      if (firstMfns.length < 8) firstMfns.push(mfn);
      return undefined;
    }, gaps);
    return { entries, highestPfn, gaps, firstMfns };
  }
}

/**
 * The p2m as the engine's frame-table method: pfn → mfn. A pfn the table does not populate,
 * or whose table pages the dump lacks, throws the p2m's AddressError (naming the level), so a
 * read or `explain` says why rather than "not mapped".
 */
export function p2mMethod(p2m: Dom0P2m, pfnOffset = 0): PfnTableMethod {
  return { kind: "pfn", pageShift: 12, lookup: (pfn: number) => p2m.lookup(pfn + pfnOffset).mfn };
}

/** dom0's pseudo-physical space: one range [0, 2^39) whose method is the p2m. */
export function dom0PhysicalSpace(machine: PhysReader, p2m: Dom0P2m): AddressSpace {
  return new AddressSpace(
    SPACE,
    machine,
    [{ id: "p2m", name: "p2m", start: 0n, end: BigInt(p2m.maxPfn * PAGE), method: p2mMethod(p2m) }],
    { pointerSize: 8 },
  );
}

/** dom0's pseudo-physical memory as a PhysReader (the `--domain 0 --phys` view): the engine's p2m space. */
export class Dom0PhysReader implements PhysReader {
  readonly pageSize = PAGE;
  readonly space: AddressSpace;
  constructor(
    readonly machine: PhysReader,
    readonly p2m: Dom0P2m,
  ) {
    this.space = dom0PhysicalSpace(machine, p2m);
  }
  readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
    if (!Number.isSafeInteger(addr) || addr < 0)
      throw new AddressError(SPACE, addr, "bad pseudo-physical address");
    return this.space.read(BigInt(addr), length, into);
  }
}
