/**
 * i386 page tables (Intel SDM vol. 3 §4.3 and §4.4; Linux arch/x86/include/asm/
 * pgtable-2level*.h and pgtable-3level*.h):
 *  - 2-level (non-PAE): 1024 32-bit entries per table; a PDE with PSE maps 4 MiB, its bits 20:13
 *    holding physical bits 39:32 (PSE-36);
 *  - PAE (3-level): a 4-entry page-directory-pointer table, then 512 64-bit entries per table;
 *    a PMD with PSE maps 2 MiB; physical addresses up to 52 bits; NX is bit 63.
 * Linux's PAE swapper_pg_dir is the 4-entry PGD (pud and p4d folded), so the root is its address.
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError } from "../errors.js";
import { joinVa, type PageWalker, TableCache, type Walk } from "./walk.js";

const TWO32 = 4294967296;
const PRESENT = 0x1;
const PSE = 0x80;

export interface I386PagingOptions {
  /** Physical address of swapper_pg_dir (the PGD; with PAE the page-directory-pointer table). */
  root: number;
  pae: boolean;
}

/** Flag names of an x86 entry in crash's order (x86.c, x86_translate_pte). */
export function x86FlagNames(entry: bigint, leafIsLarge = false): string[] {
  if (entry === 0n) return [];
  const lo = Number(entry & 0xffffffffn);
  const hi = Number(entry >> 32n);
  const out: string[] = [];
  const present = (lo & PRESENT) !== 0;
  if (present) out.push("PRESENT");
  if (lo & 0x2) out.push("RW");
  if (lo & 0x4) out.push("USER");
  if (lo & 0x8) out.push("PWT");
  if (lo & 0x10) out.push("PCD");
  if (lo & 0x20) out.push("ACCESSED");
  if (lo & 0x40) out.push("DIRTY");
  if (lo & PSE && present && leafIsLarge) out.push("PSE");
  if (lo & 0x100 && !present) out.push("PROTNONE");
  if (lo & 0x100 && present) out.push("GLOBAL");
  if (hi & 0x80000000) out.push("NX");
  return out;
}

export class I386PageTables implements PageWalker {
  readonly root: number;
  readonly pae: boolean;
  readonly format: string;
  private readonly cache: TableCache;
  /** After translate() returned an address: log2 of its leaf's size (PageWalker.leafShift). */
  leafShift = 12;

  constructor(phys: PhysReader, opts: I386PagingOptions) {
    const align = opts.pae ? 32 : 4096;
    if (!Number.isSafeInteger(opts.root) || opts.root < 0 || opts.root % align !== 0)
      throw new AddressError("physical", opts.root, `page-table root is not ${align}-byte aligned`);
    this.root = opts.root;
    this.pae = opts.pae;
    this.format = opts.pae ? "i386 PAE (3-level)" : "i386 2-level";
    this.cache = new TableCache(phys, opts.pae ? [32, 4096, 4096] : [4096, 4096]);
  }

  get tableReads(): number {
    return this.cache.reads;
  }

  translate(hi: number, lo: number): number {
    if (hi !== 0) return -1; // 32-bit virtual addresses only
    const c = this.cache;
    if (!this.pae) {
      c.entry32(0, this.root, lo >>> 22);
      let e = c.lo;
      if (!(e & PRESENT)) return -1;
      if (e & PSE) {
        this.leafShift = 22;
        return ((e >>> 13) & 0xff) * TWO32 + ((e & 0xffc00000) >>> 0) + (lo & 0x3fffff);
      }
      c.entry32(1, (e & 0xfffff000) >>> 0, (lo >>> 12) & 0x3ff);
      e = c.lo;
      if (!(e & PRESENT)) return -1;
      this.leafShift = 12;
      return ((e & 0xfffff000) >>> 0) + (lo & 0xfff);
    }
    c.entry64(0, this.root, lo >>> 30);
    if (!(c.lo & PRESENT)) return -1;
    c.entry64(1, (c.hi & 0xfffff) * TWO32 + ((c.lo & 0xfffff000) >>> 0), (lo >>> 21) & 0x1ff);
    if (!(c.lo & PRESENT)) return -1;
    if (c.lo & PSE) {
      this.leafShift = 21;
      return (c.hi & 0xfffff) * TWO32 + ((c.lo & 0xffe00000) >>> 0) + (lo & 0x1fffff);
    }
    c.entry64(2, (c.hi & 0xfffff) * TWO32 + ((c.lo & 0xfffff000) >>> 0), (lo >>> 12) & 0x1ff);
    if (!(c.lo & PRESENT)) return -1;
    this.leafShift = 12;
    return (c.hi & 0xfffff) * TWO32 + ((c.lo & 0xfffff000) >>> 0) + (lo & 0xfff);
  }

  walk(va: bigint): Walk {
    const v = BigInt.asUintN(64, va);
    const res: Walk = { virtual: v, steps: [] };
    if (v > 0xffffffffn) {
      res.fault = "not a 32-bit address";
      return res;
    }
    const lo = Number(v);
    const c = this.cache;
    const levels = this.pae ? ["pgd", "pmd", "pte"] : ["pgd", "pte"];
    const shifts = this.pae ? [30, 21, 12] : [22, 12];
    let table = this.root;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      const shift = shifts[i]!;
      const index = this.pae ? (lo >>> shift) & (i === 0 ? 3 : 0x1ff) : (lo >>> shift) & 0x3ff;
      if (this.pae) c.entry64(i, table, index);
      else c.entry32(i, table, index);
      const entry = joinVa(c.hi, c.lo);
      res.steps.push({
        level,
        table,
        index,
        entryAddress: table + index * (this.pae ? 8 : 4),
        raw: entry,
        entry,
      });
      const last = i === levels.length - 1;
      if (!(c.lo & PRESENT)) {
        res.fault = `${level} entry not present`;
        if (last && entry !== 0n) res.leaf = entry;
        return res;
      }
      const large = !last && i > 0 === this.pae && (c.lo & PSE) !== 0;
      if (large || last) {
        let base: number;
        if (!this.pae && large) base = ((c.lo >>> 13) & 0xff) * TWO32 + ((c.lo & 0xffc00000) >>> 0);
        else base = (c.hi & 0xfffff) * TWO32 + ((c.lo & ~((1 << shift) - 1)) >>> 0);
        res.pageSize = 2 ** shift;
        res.pageBase = base;
        res.physical = base + (lo % 2 ** shift);
        res.leaf = entry;
        return res;
      }
      table = (c.hi & 0xfffff) * TWO32 + ((c.lo & 0xfffff000) >>> 0);
    }
    return res;
  }

  flagNames(entry: bigint): string[] {
    return x86FlagNames(entry, true);
  }

  flush(): void {
    this.cache.flush();
  }
}
