/**
 * Hypervisor virtual → machine addresses on x86_64:
 * 1. the Xen image [XEN_VIRT_START, +1 GiB) → va − XEN_VIRT_START + xen_phys_start;
 * 2. the direct map [DIRECTMAP_VIRT_START, end) → machine address, undoing PDX compression
 *    when Xen used it (xen/arch/x86/include/asm/x86_64/page.h directmapoff_to_maddr:
 *    (off & ma_va_bottom_mask) | ((off & ~ma_va_bottom_mask) << pfn_pdx_hole_shift));
 * 3. anything else (vmap, per-domain, fixmap) by a walk of the idle page table
 *    (SYMBOL(pgd_l4) in VMCOREINFO_XEN, itself inside the image).
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError, hex } from "../errors.js";
import { splitVa, X86_64PageTables } from "../xlat/x86_64.js";
import { DIRECTMAP_VIRT_END, DIRECTMAP_VIRT_START, XEN_IMAGE_WINDOW } from "./layout.js";

export interface PdxCompression {
  /** pfn_pdx_hole_shift (0: no compression). */
  holeShift: number;
  /** ma_va_bottom_mask (all ones: no compression). */
  bottomMask: bigint;
}

export interface XenAddressLayout {
  xenPhysStart: number;
  xenVirtStart: bigint;
  directMapStart?: bigint;
  directMapEnd?: bigint;
  /** PDX compression parameters read from the dump (xen-syms needed); absent = none assumed. */
  pdx?: PdxCompression;
  /** VA of the idle page table (SYMBOL(pgd_l4)), for addresses outside the linear ranges. */
  pgdL4?: bigint;
}

export type XenTranslationMethod = "image" | "directmap" | "page-table";

const SPACE = "xen-virtual";
const MASK64 = (1n << 64n) - 1n;

export class XenVirtualSpace {
  readonly directMapStart: bigint;
  readonly directMapEnd: bigint;
  private pageTables: X86_64PageTables | undefined;
  private readonly scratch = new Uint8Array(8);
  private readonly scratchView = new DataView(this.scratch.buffer);

  constructor(
    readonly mem: PhysReader,
    readonly layout: XenAddressLayout,
  ) {
    this.directMapStart = layout.directMapStart ?? DIRECTMAP_VIRT_START;
    this.directMapEnd = layout.directMapEnd ?? DIRECTMAP_VIRT_END;
  }

  /** Which linear range (if any) covers `va`. */
  methodFor(va: bigint): XenTranslationMethod {
    const { xenVirtStart } = this.layout;
    if (va >= xenVirtStart && va < xenVirtStart + XEN_IMAGE_WINDOW) return "image";
    if (va >= this.directMapStart && va < this.directMapEnd) return "directmap";
    return "page-table";
  }

  /** Machine address of `va`; throws AddressError when it cannot be translated. */
  toMachine(va: bigint): number {
    const method = this.methodFor(va);
    if (method === "image") return Number(va - this.layout.xenVirtStart) + this.layout.xenPhysStart;
    if (method === "directmap") {
      let off = va - this.directMapStart;
      const pdx = this.layout.pdx;
      if (pdx && pdx.holeShift > 0) {
        off = (off & pdx.bottomMask) | (((off & ~pdx.bottomMask) << BigInt(pdx.holeShift)) & MASK64);
      }
      if (off >= 1n << 52n)
        throw new AddressError(SPACE, va, "direct-map offset beyond 52-bit machine space");
      return Number(off);
    }
    if (this.layout.pgdL4 === undefined)
      throw new AddressError(SPACE, va, "outside the image and direct map, and no pgd_l4 to walk");
    const [hi, lo] = splitVa(va);
    const ma = this.idlePageTables()!.translate(hi, lo);
    if (ma < 0) throw new AddressError(SPACE, va, "not mapped in the idle page table (pgd_l4)");
    return ma;
  }

  /** The idle page table (SYMBOL(pgd_l4)) for walks and `vtop`, when known. */
  idlePageTables(): X86_64PageTables | undefined {
    if (this.layout.pgdL4 === undefined) return undefined;
    this.pageTables ??= new X86_64PageTables(this.mem, { root: this.toMachine(this.layout.pgdL4) & ~0xfff });
    return this.pageTables;
  }

  /** Read `length` bytes at `va`, page by page (pages of one VA range need not be contiguous). */
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const a = va + BigInt(done);
      const inPage = 4096 - Number(a & 0xfffn);
      const n = Math.min(inPage, length - done);
      const ma = this.toMachine(a);
      this.mem.readPhys(ma, n, out.subarray(done, done + n));
      done += n;
    }
    return out;
  }

  readU64(va: bigint): bigint {
    this.read(va, 8, this.scratch);
    return this.scratchView.getBigUint64(0, true);
  }

  readU32(va: bigint): number {
    this.read(va, 4, this.scratch);
    return this.scratchView.getUint32(0, true);
  }

  describe(va: bigint): string {
    const ma = this.toMachine(va);
    return `${hex(va)} -> ${hex(ma)} (${this.methodFor(va)})`;
  }
}
