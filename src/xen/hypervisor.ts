/**
 * The hypervisor's virtual address space as a space of the one engine (src/xlat/space.ts):
 * ranges → methods, built from the layout `openXenHost` worked out of the dump.
 *
 * x86_64 (xen/arch/x86/include/asm/config.h; makedumpfile kvtop_xen_x86_64 resolves the same
 * three ways):
 * 1. the Xen image [XEN_VIRT_START, +1 GiB) → linear, base xen_phys_start;
 * 2. the direct map [DIRECTMAP_VIRT_START, end) → linear, base 0; with PDX compression a frame
 *    table method instead (xen/arch/x86/include/asm/x86_64/page.h directmapoff_to_maddr:
 *    (off & ma_va_bottom_mask) | ((off & ~ma_va_bottom_mask) << pfn_pdx_hole_shift));
 * 3. anything else (vmap, per-domain, fixmap) → the idle page table (SYMBOL(pgd_l4) in
 *    VMCOREINFO_XEN, itself inside the image), x86_64 4-level walker.
 * x86_32 (Xen 3.x; the 32-bit hypervisor was dropped in 4.3): Xen is not relocated, its code,
 * data and heap live in the 12 MiB direct map [0xff000000, 0xffc00000) = machine address +
 * 0xff000000 (xen/include/asm-x86/config.h: IOREMAP_VIRT_END 0, 4 MiB ioremap, 12 MiB
 * direct map below it; makedumpfile's x86 DIRECTMAP_VIRT_START); the rest of
 * [HYPERVISOR_VIRT_START, 4 GiB) through the idle table: PAE 3-level (SYMBOL(pgd_l3)) or,
 * for the non-PAE builds of 3.0–3.1, 2-level (SYMBOL(pgd_l2)).
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError, hex, KdumpkitError } from "../errors.js";
import { I386PageTables } from "../xlat/i386.js";
import { AddressSpace, END_OF_64BIT, type Method, type RangeSpec } from "../xlat/space.js";
import type { PageWalker } from "../xlat/walk.js";
import { X86_64PageTables } from "../xlat/x86_64.js";
import {
  DIRECTMAP_VIRT_END,
  DIRECTMAP_VIRT_START,
  X86_32_DIRECTMAP_VIRT_END,
  X86_32_DIRECTMAP_VIRT_START,
  XEN_IMAGE_WINDOW,
} from "./layout.js";

export interface PdxCompression {
  /** pfn_pdx_hole_shift (0: no compression). */
  holeShift: number;
  /** ma_va_bottom_mask (all ones: no compression). */
  bottomMask: bigint;
}

/** Which hypervisor: x86_64 (Xen 3.x–today) or x86_32 (Xen 3.x, PAE or not). */
export type XenArch = "x86_64" | "x86_32";

export interface XenAddressLayout {
  /** Default x86_64. */
  arch?: XenArch;
  /** x86_64: where the image was relocated to (ignored on x86_32: not relocatable). */
  xenPhysStart: number;
  /** x86_64: the image's virtual start; x86_32: the direct map's (the image lives there). */
  xenVirtStart: bigint;
  directMapStart?: bigint;
  directMapEnd?: bigint;
  /** PDX compression parameters read from the dump (xen-syms needed); absent = none assumed. */
  pdx?: PdxCompression;
  /** VA of the idle page table (SYMBOL(pgd_l4) on x86_64, pgd_l3 or pgd_l2 on x86_32). */
  pgdL4?: bigint;
  /** x86_32: the idle table is PAE (pgd_l3, the default) or 2-level (pgd_l2). */
  pae?: boolean;
}

/**
 * The hypervisor's virtual space: an engine AddressSpace ("xen-virtual", over machine memory).
 * `read`, `translate`, `explain`, `rangeAt(va).id` ("image", "directmap", "pagetable").
 */
export type XenVirtualSpace = AddressSpace;

/** What the setup built, besides the space: the ranges' bounds and the idle-table walker. */
export interface XenHypervisor {
  space: XenVirtualSpace;
  arch: XenArch;
  directMapStart: bigint;
  directMapEnd: bigint;
  /** The idle page table's walker, when pgd_l4/pgd_l3 was known and translated. */
  walker?: PageWalker;
  /** The idle table's virtual address (crash's "PGD DIRECTORY" line). */
  rootVirtual?: bigint;
  /** Why there is no walker. */
  problem?: string;
}

const TWO32 = 4294967296;

/** The direct map under PDX compression as a frame-table method (page frames, 4 KiB). */
function pdxMethod(pdx: PdxCompression): Method {
  const mask = BigInt.asUintN(64, pdx.bottomMask);
  const shift = pdx.holeShift;
  // ma_va_bottom_mask is (PAGE_SIZE << pfn_pdx_bottom_shift) − 1: low ones, then numbers do
  const lowOnes = mask >= 0xfffn && (mask & (mask + 1n)) === 0n;
  const keep = lowOnes ? Number((mask + 1n) >> 12n) : 0;
  return {
    kind: "pfn",
    pageShift: 12,
    lookup: lowOnes
      ? (pdxIndex: number) => {
          const low = pdxIndex % keep;
          const f = low + (pdxIndex - low) * 2 ** shift;
          return Number.isSafeInteger(f) ? f : -1;
        }
      : (pdxIndex: number) => {
          const off = BigInt(pdxIndex) << 12n;
          const ma = (off & mask) | (BigInt.asUintN(64, (off & ~mask) << BigInt(shift)) & ~0xfffn);
          return ma < 1n << 52n ? Number(ma >> 12n) : -1;
        },
  };
}

/** Build the hypervisor's space from its layout (the setup function of `openXenHost`). */
export function xenHypervisorSpace(mem: PhysReader, layout: XenAddressLayout): XenHypervisor {
  const arch = layout.arch ?? "x86_64";
  const x32 = arch === "x86_32";
  const directMapStart = layout.directMapStart ?? (x32 ? X86_32_DIRECTMAP_VIRT_START : DIRECTMAP_VIRT_START);
  const directMapEnd = layout.directMapEnd ?? (x32 ? X86_32_DIRECTMAP_VIRT_END : DIRECTMAP_VIRT_END);
  const linear: RangeSpec[] = [];
  if (!x32) {
    if (!Number.isSafeInteger(layout.xenPhysStart) || layout.xenPhysStart < 0)
      throw new AddressError("physical", layout.xenPhysStart, "xen_phys_start out of range");
    linear.push({
      id: "image",
      name: "Xen image",
      start: layout.xenVirtStart,
      end: layout.xenVirtStart + XEN_IMAGE_WINDOW,
      method: { kind: "linear", base: layout.xenPhysStart },
    });
  }
  const pdx = layout.pdx && layout.pdx.holeShift > 0 ? layout.pdx : undefined;
  linear.push({
    id: "directmap",
    name: x32 ? "direct map (Xen code, data, heap)" : "direct map",
    start: directMapStart,
    end: directMapEnd,
    method: pdx ? pdxMethod(pdx) : { kind: "linear", base: 0 },
  });
  const pointerSize = x32 ? 4 : 8;
  const out: XenHypervisor = { space: undefined!, arch, directMapStart, directMapEnd };
  let walker: PageWalker | undefined;
  if (layout.pgdL4 !== undefined) {
    out.rootVirtual = layout.pgdL4;
    // the idle table lies in the image (x86_64) or the direct map (x86_32): a linear range
    const p = new AddressSpace("xen-virtual", mem, linear, { pointerSize }).translateHiLo(
      Number(layout.pgdL4 >> 32n),
      Number(layout.pgdL4 & 0xffffffffn),
    );
    try {
      if (p < 0) throw new AddressError("xen-virtual", layout.pgdL4, "idle page table outside the image");
      walker = x32
        ? new I386PageTables(mem, { root: p, pae: layout.pae ?? true })
        : new X86_64PageTables(mem, { root: p - (p % 4096) });
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      out.problem = `idle page table at ${hex(layout.pgdL4)}: ${e.message}`;
    }
  } else out.problem = "no idle page table symbol (pgd_l4): addresses outside the linear ranges fail";
  const ranges = [...linear];
  if (walker) {
    out.walker = walker;
    ranges.push({
      id: "pagetable",
      name: "idle page table",
      start: 0n,
      end: x32 ? BigInt(TWO32) : END_OF_64BIT,
      method: { kind: "pagetable", walker },
    });
  }
  out.space = new AddressSpace("xen-virtual", mem, ranges, { pointerSize, ...(walker ? { walker } : {}) });
  return out;
}

/** A little-endian word of the hypervisor (4 bytes on x86_32, 8 on x86_64) at `va`. */
export function readXenWord(
  space: { read(va: bigint, n: number): Uint8Array; pointerSize: 4 | 8 },
  va: bigint,
): bigint {
  return space.pointerSize === 4 ? BigInt(readXenU32(space, va)) : readXenU64(space, va);
}

export function readXenU64(space: { read(va: bigint, n: number): Uint8Array }, va: bigint): bigint {
  const b = space.read(va, 8);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

export function readXenU32(space: { read(va: bigint, n: number): Uint8Array }, va: bigint): number {
  const b = space.read(va, 4);
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}
