/**
 * arm64 stage-1 translation tables (Arm ARM D8 "The AArch64 Virtual Memory System Architecture";
 * Linux arch/arm64/include/asm/pgtable-hwdef.h):
 *  - granule 4K, 16K or 64K (2^g bytes); each level resolves g − 3 bits; a table has 2^(g−3)
 *    8-byte descriptors, the top one only as many as the VA size leaves;
 *  - levels = ⌈(VA_BITS − g) / (g − 3)⌉: 4K/39 → 3, 4K/48 → 4, 16K/47 → 3, 64K/42 → 2,
 *    64K/48 and 64K/52 → 3, 4K/52 (LPA2) → 5 (level −1);
 *  - descriptor bits 1:0 — x0 invalid, 11 table (levels < 3) or page (level 3), 01 block
 *    (levels 1 and 2: 1 GiB / 2 MiB with 4K, 32 MiB with 16K, 512 MiB with 64K);
 *  - output address bits 47:g; 52-bit physical addresses put bits 51:48 in descriptor bits
 *    15:12 with 64K pages (FEAT_LPA, Linux CONFIG_ARM64_PA_BITS_52) or bits 51:50 in bits 9:8
 *    with 4K/16K pages (FEAT_LPA2, Linux 6.9+).
 *
 * The table geometry follows the kernel's configured VA_BITS (NUMBER(VA_BITS)): Linux walks
 * swapper_pg_dir with pgd_index() of that size even when the CPU runs with fewer bits
 * (vabits_actual = 64 − TCR_EL1.T1SZ, 52-bit kernels on 48-bit hardware); the addresses that
 * translate are those whose top 64 − vabits_actual bits are all ones (TTBR1, the kernel half).
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError, UnsupportedError } from "../errors.js";
import { joinVa, type PageWalker, TableCache, type Walk } from "./walk.js";

const TWO32 = 4294967296;

export type Arm64Pa52 = "none" | "lpa" | "lpa2";

export interface Arm64PagingOptions {
  /** Physical address of the top-level table (swapper_pg_dir). */
  root: number;
  /** Granule: 4096, 16384 or 65536. */
  pageSize: number;
  /** The kernel's configured VA size (NUMBER(VA_BITS)): the table geometry. */
  vaBits: number;
  /** Bits the CPU translates (64 − NUMBER(TCR_EL1_T1SZ)); default vaBits. */
  activeVaBits?: number;
  /** How 52-bit physical addresses are encoded (default none: bits 47:g). */
  pa52?: Arm64Pa52;
  littleEndian?: boolean;
}

const LEVEL_NAMES: Record<number, string> = { [-1]: "pgd", 0: "pgd", 1: "pud", 2: "pmd", 3: "pte" };

/** Level names as Linux folds them: the top level is always pgd. */
function levelNames(first: number): string[] {
  const out: string[] = [];
  for (let l = first; l <= 3; l++) {
    if (l === first) out.push("pgd");
    else if (first === -1 && l === 0) out.push("p4d");
    else out.push(LEVEL_NAMES[l]!);
  }
  return out;
}

export class Arm64PageTables implements PageWalker {
  readonly root: number;
  readonly format: string;
  readonly granuleShift: number;
  readonly vaBits: number;
  readonly activeVaBits: number;
  /** Number of levels walked (2 to 5). */
  readonly levels: number;
  readonly pa52: Arm64Pa52;
  private readonly cache: TableCache;
  /** After translate() returned an address: log2 of its leaf's size (PageWalker.leafShift). */
  leafShift = 12;
  /** Per level (0 = top): the VA shift of its index and the index mask. */
  private readonly shifts: number[] = [];
  private readonly masks: number[] = [];
  private readonly names: string[];
  /** Top bits that must be ones: hi >>> topShift === topOnes. */
  private readonly topShift: number;
  private readonly topOnes: number;
  /** Output-address mask of bits 47:12 (hi part, lo part; lo refined per page size). */
  private readonly oaHi: number;
  /** Lowest level (0..3 numbering relative to first) at which a block descriptor is legal. */
  private readonly firstBlockLevel: number;

  constructor(phys: PhysReader, opts: Arm64PagingOptions) {
    const g = Math.log2(opts.pageSize);
    if (g !== 12 && g !== 14 && g !== 16)
      throw new UnsupportedError(`arm64 granule of ${opts.pageSize} bytes (4K, 16K or 64K expected)`);
    if (!Number.isInteger(opts.vaBits) || opts.vaBits < 36 || opts.vaBits > 52)
      throw new UnsupportedError(`arm64 VA_BITS ${opts.vaBits} (36 to 52 expected)`);
    const active = opts.activeVaBits ?? opts.vaBits;
    if (!Number.isInteger(active) || active < 33 || active > opts.vaBits)
      throw new UnsupportedError(`arm64 active VA bits ${active} (33 to VA_BITS expected)`);
    if (!Number.isSafeInteger(opts.root) || opts.root < 0 || opts.root % 64 !== 0)
      throw new AddressError("physical", opts.root, "page-table root is not 64-byte aligned");
    this.root = opts.root;
    this.granuleShift = g;
    this.vaBits = opts.vaBits;
    this.activeVaBits = active;
    this.pa52 = opts.pa52 ?? "none";
    const per = g - 3;
    this.levels = Math.ceil((opts.vaBits - g) / per);
    const first = 4 - this.levels;
    this.names = levelNames(first);
    const sizes: number[] = [];
    for (let i = 0; i < this.levels; i++) {
      const shift = g + (this.levels - 1 - i) * per;
      const bits = i === 0 ? opts.vaBits - shift : per;
      this.shifts.push(shift);
      this.masks.push((1 << bits) - 1);
      sizes.push(Math.max(8, 8 << bits));
    }
    // blocks: 4K at levels 1 and 2 (and 0 with LPA2), 16K/64K at level 2 (64K level 1 with LPA)
    const blockFrom = g === 12 ? (this.pa52 === "lpa2" ? 0 : 1) : g === 16 && this.pa52 === "lpa" ? 1 : 2;
    this.firstBlockLevel = blockFrom - first;
    this.topShift = active - 32;
    this.topOnes = 0xffffffff >>> this.topShift;
    this.oaHi = this.pa52 === "lpa2" ? 0x3ffff : 0xffff;
    this.format = `arm64 ${opts.pageSize / 1024}K granule, ${opts.vaBits}-bit VA, ${this.levels} levels`;
    this.cache = new TableCache(phys, sizes, opts.littleEndian ?? true);
  }

  get tableReads(): number {
    return this.cache.reads;
  }

  /** Index of (hi, lo) at level i. */
  private index(i: number, hi: number, lo: number): number {
    const s = this.shifts[i]!;
    const v = s >= 32 ? hi >>> (s - 32) : (lo >>> s) | (hi << (32 - s));
    return v & this.masks[i]!;
  }

  /** Output address of the descriptor in cache (hi, lo), bits below 2^shift cleared. */
  private outputAddress(shift: number): number {
    const c = this.cache;
    let hi = c.hi & this.oaHi;
    if (this.pa52 === "lpa") hi |= ((c.lo >>> 12) & 0xf) << 16;
    else if (this.pa52 === "lpa2") hi = (hi & 0x3ffff) | (((c.lo >>> 8) & 3) << 18);
    let lo: number;
    if (shift >= 32) {
      hi &= ~((1 << (shift - 32)) - 1);
      lo = 0;
    } else lo = (c.lo & ~((1 << shift) - 1)) >>> 0;
    return hi * TWO32 + lo;
  }

  translate(hi: number, lo: number): number {
    if (hi >>> this.topShift !== this.topOnes) return -1;
    const c = this.cache;
    let table = this.root;
    const last = this.levels - 1;
    for (let i = 0; i <= last; i++) {
      c.entry64(i, table, this.index(i, hi, lo));
      const d = c.lo & 3;
      if (!(d & 1)) return -1;
      const s = this.shifts[i]!;
      if (i === last) {
        if (d !== 3) return -1;
        this.leafShift = s;
        return this.outputAddress(s) + (lo & ((1 << s) - 1));
      }
      if (d === 1) {
        if (i < this.firstBlockLevel) return -1;
        const off = s >= 32 ? (hi & ((1 << (s - 32)) - 1)) * TWO32 + lo : (lo & ((1 << s) - 1)) >>> 0;
        this.leafShift = s;
        return this.outputAddress(s) + off;
      }
      table = this.outputAddress(this.granuleShift);
    }
    return -1;
  }

  walk(va: bigint): Walk {
    const v = BigInt.asUintN(64, va);
    const res: Walk = { virtual: v, steps: [] };
    const hi = Number(v >> 32n);
    const lo = Number(v & 0xffffffffn);
    if (hi >>> this.topShift !== this.topOnes) {
      res.fault = `not a kernel (TTBR1) address for ${this.activeVaBits}-bit VAs`;
      return res;
    }
    const c = this.cache;
    let table = this.root;
    const last = this.levels - 1;
    for (let i = 0; i <= last; i++) {
      const index = this.index(i, hi, lo);
      c.entry64(i, table, index);
      const entry = joinVa(c.hi, c.lo);
      const level = this.names[i]!;
      res.steps.push({ level, table, index, entryAddress: table + index * 8, raw: entry, entry });
      const d = c.lo & 3;
      const s = this.shifts[i]!;
      if (!(d & 1)) {
        res.fault = `${level} entry not valid`;
        if (i === last && entry !== 0n) res.leaf = entry;
        return res;
      }
      const block = i < last && d === 1;
      if (block && i < this.firstBlockLevel) {
        res.fault = `${level} block descriptor not allowed at this level`;
        return res;
      }
      if (i === last && d !== 3) {
        res.fault = `${level} descriptor reserved (bits 1:0 = 01)`;
        return res;
      }
      if (block || i === last) {
        const base = this.outputAddress(s);
        res.pageSize = 2 ** s;
        res.pageBase = base;
        res.physical = base + Number(v & ((1n << BigInt(s)) - 1n));
        res.leaf = entry;
        return res;
      }
      table = this.outputAddress(this.granuleShift);
    }
    return res;
  }

  /** Descriptor fields by name (crash's arm64 vtop prints a similar list). */
  flagNames(entry: bigint): string[] {
    if (entry === 0n) return [];
    const lo = Number(entry & 0xffffffffn);
    const hi = Number(entry >> 32n);
    const out: string[] = [];
    if (lo & 1) out.push("VALID");
    out.push(lo & 2 ? "PAGE" : "BLOCK");
    out.push(`ATTRINDX(${(lo >>> 2) & 7})`);
    if (lo & 0x20) out.push("NS");
    if (lo & 0x40) out.push("USER");
    out.push(lo & 0x80 ? "RDONLY" : "RW");
    if (this.pa52 !== "lpa2") out.push(`SH(${(lo >>> 8) & 3})`);
    if (lo & 0x400) out.push("AF");
    if (lo & 0x800) out.push("NG");
    if (hi & (1 << 19)) out.push("DBM");
    if (hi & (1 << 20)) out.push("CONT");
    if (hi & (1 << 21)) out.push("PXN");
    if (hi & (1 << 22)) out.push("UXN");
    return out;
  }

  flush(): void {
    this.cache.flush();
  }
}
