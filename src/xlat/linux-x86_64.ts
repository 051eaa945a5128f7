/**
 * The Linux x86_64 kernel virtual address space as three translation methods
 * (Documentation/arch/x86/x86_64/mm.rst):
 *  - kernel text mapping: [__START_KERNEL_map, +KERNEL_IMAGE_SIZE) → va − __START_KERNEL_map + phys_base
 *    (phys_base taken modulo 2^64: with KASLR it is often "negative");
 *  - direct map: [page_offset_base, +2^MAX_PHYSMEM_BITS) → va − page_offset_base;
 *  - everything else (vmalloc, vmemmap, modules, fixmap, cpu_entry_area): the page tables.
 * The linear methods are what crash (x86_64_VTOP) and makedumpfile (vaddr_to_paddr_x86_64) use
 * for those ranges; `vtop` still shows the page-table walk for any address.
 *
 * No I/O of its own: physical reads go through the PhysReader it is given.
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError } from "../errors.js";
import { readVirtual } from "./space.js";
import { splitVa, type X86_64PageTables, type X86_64Walk } from "./x86_64.js";

/** __START_KERNEL_map (arch/x86/include/asm/page_64_types.h). */
export const START_KERNEL_MAP = 0xffffffff80000000n;
/** KERNEL_IMAGE_SIZE with CONFIG_RANDOMIZE_BASE: 1 GiB; modules start right after. */
export const KERNEL_IMAGE_SIZE = 0x40000000;
/** page_offset_base without KASLR (4-level and 5-level paging). */
export const PAGE_OFFSET_4LEVEL = 0xffff888000000000n;
export const PAGE_OFFSET_5LEVEL = 0xff11000000000000n;

const TWO32 = 4294967296;

export type TranslationMethod = "text" | "direct" | "pagetable";

export interface LinuxX86_64Layout {
  /** NUMBER(phys_base) modulo 2^64. */
  physBase: bigint;
  /** page_offset_base (direct-map start); undefined when unknown (then page tables only). */
  pageOffset?: bigint;
  /** Bytes covered by the direct map: the end of RAM (at most 2^MAX_PHYSMEM_BITS). */
  directMapSize: number;
  /**
   * Bytes of the kernel text mapping: NUMBER(KERNEL_IMAGE_SIZE) (1 GiB with KASLR, 512 MiB
   * before 4.x without it); default 1 GiB. At most 2 GiB (the top of the address space).
   */
  textSize?: number;
  /** Page tables, when the root table is known and readable. */
  pageTables?: X86_64PageTables;
}

export interface Translation {
  virtual: bigint;
  physical: number;
  method: TranslationMethod;
}

export class LinuxX86_64Space {
  readonly physBase: bigint;
  readonly pageOffset: bigint | undefined;
  readonly directMapSize: number;
  readonly pageTables: X86_64PageTables | undefined;
  /** phys_base as a signed number: physical = (va − START_KERNEL_MAP) + this. */
  private readonly physBaseSigned: number;
  private readonly poHi: number;
  private readonly poLo: number;
  private readonly pageSize: number;
  /** End of the text mapping as the low half of the address (hi is 0xffffffff there). */
  private readonly textEndLo: number;
  /** Bytes of the kernel text mapping. */
  readonly textSize: number;

  constructor(
    private readonly phys: PhysReader,
    layout: LinuxX86_64Layout,
  ) {
    this.physBase = BigInt.asUintN(64, layout.physBase);
    const signed = BigInt.asIntN(64, this.physBase);
    if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < -BigInt(Number.MAX_SAFE_INTEGER))
      throw new AddressError("physical", this.physBase, "phys_base out of range");
    this.physBaseSigned = Number(signed);
    this.pageOffset = layout.pageOffset === undefined ? undefined : BigInt.asUintN(64, layout.pageOffset);
    [this.poHi, this.poLo] = this.pageOffset === undefined ? [-1, 0] : splitVa(this.pageOffset);
    this.directMapSize = layout.directMapSize;
    this.pageTables = layout.pageTables;
    this.pageSize = phys.pageSize || 4096;
    const ts = layout.textSize ?? KERNEL_IMAGE_SIZE;
    this.textSize = Math.min(Math.max(ts, 0), 0x80000000);
    this.textEndLo = 0x80000000 + this.textSize;
  }

  /** Which method translates this address (hi/lo halves). */
  methodOf(hi: number, lo: number): TranslationMethod {
    if (hi === 0xffffffff && lo >= 0x80000000 && lo < this.textEndLo) return "text";
    if (this.poHi >= 0) {
      const d = (hi - this.poHi) * TWO32 + (lo - this.poLo);
      if (d >= 0 && d < this.directMapSize) return "direct";
    }
    return "pagetable";
  }

  /**
   * Hot path: translate (hi, lo) → physical address, or -1 when not mapped. Throws when a
   * page table needed for the walk is missing from the dump.
   */
  translateHiLo(hi: number, lo: number): number {
    if (hi === 0xffffffff && lo >= 0x80000000 && lo < this.textEndLo) {
      const p = lo - 0x80000000 + this.physBaseSigned;
      return p >= 0 ? p : -1;
    }
    if (this.poHi >= 0) {
      const d = (hi - this.poHi) * TWO32 + (lo - this.poLo);
      if (d >= 0 && d < this.directMapSize) return d;
    }
    return this.pageTables ? this.pageTables.translate(hi, lo) : -1;
  }

  /** Translate one address; throws AddressError when it is not mapped. */
  translate(va: bigint): number {
    const [hi, lo] = splitVa(va);
    const p = this.translateHiLo(hi, lo);
    if (p < 0)
      throw new AddressError(
        "kernel-virtual",
        va,
        this.pageTables ? "not mapped" : "no page tables to translate it",
      );
    return p;
  }

  /** Translate with the method used (for `vtop`/JSON). */
  translateDetailed(va: bigint): Translation {
    const [hi, lo] = splitVa(va);
    return { virtual: BigInt.asUintN(64, va), physical: this.translate(va), method: this.methodOf(hi, lo) };
  }

  /** Batch translation over uint32 halves: out[i] = physical address or -1. */
  translateBatch(hi: Uint32Array, lo: Uint32Array, out: Float64Array): void {
    const n = Math.min(hi.length, lo.length, out.length);
    for (let i = 0; i < n; i++) out[i] = this.translateHiLo(hi[i]!, lo[i]!);
  }

  /** The page-table walk for `vtop` (undefined when the page tables are unknown). */
  walk(va: bigint): X86_64Walk | undefined {
    return this.pageTables?.walk(va);
  }

  /**
   * Read `length` bytes of kernel virtual memory; crosses pages, translating each one.
   * Errors name the virtual address that failed.
   */
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    return readVirtual(this, this.phys, "kernel-virtual", va, length, into);
  }

  /** Read a little-endian u64 as a bigint. */
  readU64(va: bigint): bigint {
    const b = this.read(va, 8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  /** Read a little-endian u32. */
  readU32(va: bigint): number {
    const b = this.read(va, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }
}
