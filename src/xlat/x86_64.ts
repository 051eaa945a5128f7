/**
 * x86_64 4- and 5-level page tables (Intel SDM vol. 3 §4.5; Linux arch/x86/include/asm/
 * pgtable_types.h for the bit names). A pure translation module: it does no I/O itself, it asks
 * for table pages through a PhysReader and keeps one table page per level (drgn's
 * libdrgn/arch_x86_64.c does the same: consecutive lookups mostly share their upper tables).
 *
 * The hot path takes a virtual address as (hi, lo) uint32 halves and returns a physical address
 * as a number: BigInt in a walk costs 6–7× (measured, see /work/shared/DESIGN.md).
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError, KdumpkitError } from "../errors.js";
import { joinVa, type PageWalker, splitVa, type TablePage, TableStore } from "./walk.js";

export { joinVa, splitVa };

export const PTE_PRESENT = 0x1;
export const PTE_RW = 0x2;
export const PTE_USER = 0x4;
export const PTE_PWT = 0x8;
export const PTE_PCD = 0x10;
export const PTE_ACCESSED = 0x20;
export const PTE_DIRTY = 0x40;
/** Page size bit: a 1 GiB page in a PUD entry, 2 MiB in a PMD entry. */
export const PTE_PSE = 0x80;
export const PTE_GLOBAL = 0x100;
/** _PAGE_PROTNONE reuses the GLOBAL bit when PRESENT is clear (Linux). */
export const PTE_PROTNONE = 0x100;
/** NX is bit 63: bit 31 of the high half. */
export const PTE_NX_HI = 0x80000000;

const TWO32 = 4294967296;
/** Table entries are little-endian: on a little-endian host a Uint32Array reads them directly. */
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export type X86_64Level = "pgd" | "p4d" | "pud" | "pmd" | "pte";

export interface X86_64PagingOptions {
  /** Physical address of the top-level table (PML5 with 5 levels, PML4 with 4). */
  root: number;
  /** 5 when the kernel ran with LA57 (VMCOREINFO NUMBER(pgtable_l5_enabled)=1). */
  levels?: 4 | 5;
  /**
   * Memory-encryption bits cleared from every entry before its address is used: AMD SME's
   * C-bit (VMCOREINFO NUMBER(sme_mask), arch/x86/kernel/machine_kexec_64.c) — crash masks it
   * the same way (x86_64.c, machdep->machspec->sme_mask).
   */
  encryptionMask?: bigint;
}

/** One step of a walk, for `vtop`. Entry values are the raw 64-bit table entries. */
export interface X86_64WalkStep {
  level: X86_64Level;
  /** Physical address of the table. */
  table: number;
  index: number;
  /** Physical address of the entry (table + 8 × index). */
  entryAddress: number;
  /** The entry as stored. */
  raw: bigint;
  /** The entry with the encryption mask cleared (what the walk uses, what crash prints). */
  entry: bigint;
}

export interface X86_64Walk {
  virtual: bigint;
  steps: X86_64WalkStep[];
  /** Physical address, when the walk reached a present leaf. */
  physical?: number;
  /** Size of the page that maps it: 4096, 2 MiB or 1 GiB. */
  pageSize?: number;
  /** Physical base of that page. */
  pageBase?: number;
  /** The leaf entry (encryption mask cleared), when one was reached. */
  leaf?: bigint;
  /** Why the walk stopped without a translation. */
  fault?: string;
}

/** Names of the flags set in an entry, in crash's order (x86_64.c, x86_64_translate_pte). */
export function pteFlagNames(entry: bigint): string[] {
  const lo = Number(entry & 0xffffffffn);
  const hi = Number(entry >> 32n);
  if (entry === 0n) return [];
  const out: string[] = [];
  const present = (lo & PTE_PRESENT) !== 0;
  if (present) out.push("PRESENT");
  if (lo & PTE_RW) out.push("RW");
  if (lo & PTE_USER) out.push("USER");
  if (lo & PTE_PWT) out.push("PWT");
  if (lo & PTE_PCD) out.push("PCD");
  if (lo & PTE_ACCESSED) out.push("ACCESSED");
  if (lo & PTE_DIRTY) out.push("DIRTY");
  if (lo & PTE_PSE && present) out.push("PSE");
  if (lo & PTE_PROTNONE && !present) out.push("PROTNONE");
  if (lo & PTE_GLOBAL) out.push("GLOBAL");
  if (hi & PTE_NX_HI) out.push("NX");
  return out;
}

const LEVELS5: X86_64Level[] = ["pgd", "p4d", "pud", "pmd", "pte"];
const LEVELS4: X86_64Level[] = ["pgd", "pud", "pmd", "pte"];

/**
 * A kernel's page tables, read through a PhysReader. `translate(hi, lo)` is the hot path
 * (no allocation, no BigInt); `walk(va)` records every step for display.
 */
export class X86_64PageTables implements PageWalker {
  readonly root: number;
  readonly levels: 4 | 5;
  readonly format: string;
  /** Address bits 12..51 of an entry, minus the encryption bits, as (hi, lo) masks. */
  private readonly maskHi: number;
  private readonly maskLo: number;
  private readonly encHi: number;
  private readonly encLo: number;
  /** The table page of each level in use (its physical address, its views), over a store. */
  private readonly cacheAddr: Float64Array;
  private readonly cacheView: DataView[];
  private readonly cacheU32: Uint32Array[];
  private readonly store: TableStore;
  /** Per level, the last table the dump holds only in part (read entry by entry), or -1. */
  private readonly partialTable = new Float64Array(5).fill(-1);
  /** Per level, the table the last walk read (nextPresent scans it only if it is the cached one). */
  private readonly lastTable = new Float64Array(5).fill(-1);
  private readonly oneEntry = new Uint8Array(8);
  /** The last entry read (avoids returning tuples on the hot path). */
  private eLo = 0;
  private eHi = 0;
  /** Table pages read so far (tests, benchmarks). */
  get tableReads(): number {
    return this.store.reads;
  }
  /** After translate() returned -1: how many levels were passed before the miss. */
  faultDepth = 0;
  /** After translate() returned an address: log2 of its leaf's size (PageWalker.leafShift). */
  leafShift = 12;

  constructor(
    private readonly phys: PhysReader,
    opts: X86_64PagingOptions,
  ) {
    if (!Number.isSafeInteger(opts.root) || opts.root < 0 || opts.root % 4096 !== 0)
      throw new AddressError("physical", opts.root, "page-table root is not a page-aligned address");
    this.root = opts.root;
    this.levels = opts.levels ?? 4;
    this.format = `x86_64 ${this.levels}-level`;
    const enc = BigInt.asUintN(64, opts.encryptionMask ?? 0n);
    this.encHi = Number(enc >> 32n) >>> 0;
    this.encLo = Number(enc & 0xffffffffn) >>> 0;
    this.maskHi = (0x000fffff & ~this.encHi) >>> 0;
    this.maskLo = (0xfffff000 & ~this.encLo) >>> 0;
    this.cacheAddr = new Float64Array(5).fill(-1);
    this.store = new TableStore(phys);
    this.cacheView = [];
    this.cacheU32 = [];
    for (let i = 0; i < 5; i++) {
      const b = new ArrayBuffer(4096);
      this.cacheView.push(new DataView(b));
      this.cacheU32.push(new Uint32Array(b));
    }
  }

  /**
   * Read entry `index` of the table at `table` (level slot `slot`) into eHi/eLo. The whole
   * table page is fetched and kept when the dump has all of it; when it does not (an ELF
   * segment ending inside it, its other entries filtered out) only the entry on the path is
   * read, so a walk never fails on an entry it does not need (issue 16 point 7: translating 0
   * failed on the excluded entry 1 of a top table whose entry 0 alone was in the dump).
   */
  private readEntry(slot: number, table: number, index: number): void {
    this.lastTable[slot] = table;
    if (this.cacheAddr[slot] !== table) {
      if (this.partialTable[slot] === table) {
        this.readOneEntry(table, index);
        return;
      }
      this.cacheAddr[slot] = -1;
      let page: TablePage;
      try {
        page = this.store.get(table, 4096);
      } catch (e) {
        // data not loaded yet (browser windows) is fetched and retried, never worked around
        if (!(e instanceof KdumpkitError)) throw e;
        this.partialTable[slot] = table;
        this.readOneEntry(table, index);
        return;
      }
      this.cacheU32[slot] = page.u32;
      this.cacheView[slot] = page.view;
      this.cacheAddr[slot] = table;
    }
    if (HOST_LE) {
      const u = this.cacheU32[slot]!;
      this.eLo = u[index << 1]!;
      this.eHi = u[(index << 1) + 1]!;
    } else {
      const view = this.cacheView[slot]!;
      this.eLo = view.getUint32(index << 3, true);
      this.eHi = view.getUint32((index << 3) + 4, true);
    }
  }

  /** Entry `index` alone, of a table the dump does not hold whole (errors name the entry). */
  private readOneEntry(table: number, index: number): void {
    const b = this.phys.readPhys(table + index * 8, 8, this.oneEntry);
    this.eLo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    this.eHi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  }

  /** Physical address held in the last entry, for a page of 2^shift bytes. */
  private entryAddress(shift: number): number {
    const loMask = (this.maskLo & ~((1 << shift) - 1)) >>> 0;
    return (this.eHi & this.maskHi) * TWO32 + ((this.eLo & loMask) >>> 0);
  }

  /**
   * Translate a virtual address given as uint32 halves. Returns the physical address, or -1
   * when the address is not mapped (an entry on the way is not present) or not canonical.
   * Throws (AddressError/ExcludedPageError from the reader) when a table page is not in the dump.
   */
  translate(hi: number, lo: number): number {
    // canonical form: bits 63..47 (4 levels) or 63..56 (5 levels) all equal
    if (this.levels === 4) {
      const top = hi >>> 15;
      if (top !== 0 && top !== 0x1ffff) return -1;
    } else {
      const top = hi >>> 24;
      if (top !== 0 && top !== 0xff) return -1;
    }
    let table = this.root;
    let slot = 0;
    this.faultDepth = 0;
    if (this.levels === 5) {
      this.readEntry(slot++, table, (hi >>> 16) & 0x1ff);
      if (!(this.eLo & PTE_PRESENT)) return -1;
      this.faultDepth = slot;
      table = this.entryAddress(12);
    }
    this.readEntry(slot++, table, (hi >>> 7) & 0x1ff);
    if (!(this.eLo & PTE_PRESENT)) return -1;
    this.faultDepth = slot;
    table = this.entryAddress(12);
    this.readEntry(slot++, table, ((hi & 0x7f) << 2) | (lo >>> 30));
    if (!(this.eLo & PTE_PRESENT)) return -1;
    this.faultDepth = slot;
    if (this.eLo & PTE_PSE) {
      this.leafShift = 30;
      return (
        (this.eHi & this.maskHi) * TWO32 + ((this.eLo & this.maskLo & 0xc0000000) >>> 0) + (lo & 0x3fffffff)
      );
    }
    table = this.entryAddress(12);
    this.readEntry(slot++, table, (lo >>> 21) & 0x1ff);
    if (!(this.eLo & PTE_PRESENT)) return -1;
    this.faultDepth = slot;
    if (this.eLo & PTE_PSE) {
      this.leafShift = 21;
      return (
        (this.eHi & this.maskHi) * TWO32 + ((this.eLo & this.maskLo & 0xffe00000) >>> 0) + (lo & 0x1fffff)
      );
    }
    table = this.entryAddress(12);
    this.readEntry(slot, table, (lo >>> 12) & 0x1ff);
    if (!(this.eLo & PTE_PRESENT)) return -1;
    this.leafShift = 12;
    return (this.eHi & this.maskHi) * TWO32 + ((this.eLo & this.maskLo) >>> 0) + (lo & 0xfff);
  }

  /**
   * After a translate() that stopped at a not-present entry of level slot `slot` (faultDepth
   * === slot): the first index ≥ `from` of that same table whose entry is present, or −1 when
   * none is, or −2 when the table is not held whole (read entry by entry: probe instead).
   * A search for the next mapped region (KASLR's vmalloc/vmemmap bases) reads one table page
   * instead of translating each of its 512 slots.
   */
  nextPresent(slot: number, from: number): number {
    if (slot < 0 || slot > 4 || this.cacheAddr[slot]! < 0 || this.cacheAddr[slot] !== this.lastTable[slot])
      return -2;
    const u = this.cacheU32[slot]!;
    const view = this.cacheView[slot]!;
    for (let i = Math.max(0, from); i < 512; i++) {
      const lo = HOST_LE ? u[i << 1]! : view.getUint32(i << 3, true);
      if (lo & PTE_PRESENT) return i;
    }
    return -1;
  }

  /**
   * Translate many addresses at once: `hi[i]`, `lo[i]` → `out[i]` (physical address or -1).
   * Sorting the input by address makes the per-level cache hit almost always.
   */
  translateBatch(hi: Uint32Array, lo: Uint32Array, out: Float64Array): void {
    const n = Math.min(hi.length, lo.length, out.length);
    for (let i = 0; i < n; i++) out[i] = this.translate(hi[i]!, lo[i]!);
  }

  /** Walk with every step recorded (for `vtop`). Slow path: BigInt is fine here. */
  walk(va: bigint): X86_64Walk {
    const v = BigInt.asUintN(64, va);
    const [hi, lo] = splitVa(v);
    const res: X86_64Walk = { virtual: v, steps: [] };
    const canonicalBits = this.levels === 5 ? 57 : 48;
    if (BigInt.asUintN(64, BigInt.asIntN(canonicalBits, v)) !== v) {
      res.fault = `not canonical for ${this.levels}-level paging`;
      return res;
    }
    const names = this.levels === 5 ? LEVELS5 : LEVELS4;
    const indexes =
      this.levels === 5
        ? [
            (hi >>> 16) & 0x1ff,
            (hi >>> 7) & 0x1ff,
            ((hi & 0x7f) << 2) | (lo >>> 30),
            (lo >>> 21) & 0x1ff,
            (lo >>> 12) & 0x1ff,
          ]
        : [(hi >>> 7) & 0x1ff, ((hi & 0x7f) << 2) | (lo >>> 30), (lo >>> 21) & 0x1ff, (lo >>> 12) & 0x1ff];
    let table = this.root;
    for (let i = 0; i < names.length; i++) {
      const level = names[i]!;
      const index = indexes[i]!;
      this.readEntry(i, table, index);
      const raw = joinVa(this.eHi, this.eLo);
      const entry = joinVa(this.eHi & ~this.encHi, this.eLo & ~this.encLo);
      res.steps.push({ level, table, index, entryAddress: table + index * 8, raw, entry });
      if (!(this.eLo & PTE_PRESENT)) {
        res.fault = `${level} entry not present`;
        if (level === "pte" && entry !== 0n) res.leaf = entry;
        return res;
      }
      const large = (level === "pud" || level === "pmd") && (this.eLo & PTE_PSE) !== 0;
      if (large || level === "pte") {
        const shift = level === "pud" ? 30 : level === "pmd" ? 21 : 12;
        const size = 2 ** shift;
        const base = this.entryAddress(shift);
        res.pageSize = size;
        res.pageBase = base;
        res.physical = base + Number(v & BigInt(size - 1));
        res.leaf = entry;
        return res;
      }
      table = this.entryAddress(12);
    }
    return res;
  }

  flagNames(entry: bigint): string[] {
    return pteFlagNames(entry);
  }

  /** Forget cached table pages (after the underlying memory changed: tests only). */
  flush(): void {
    this.cacheAddr.fill(-1);
    this.store.clear();
    this.partialTable.fill(-1);
  }
}
