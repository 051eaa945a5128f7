/**
 * dom0 (a PV Linux guest) inside a Xen host dump. Its kernel addresses are pseudo-physical:
 * - kernel text/data [__START_KERNEL_map, +1 GiB) → va − 0xffffffff80000000 + phys_base
 *   (PV dom0 has no KASLR; phys_base is 0 unless VMCOREINFO says otherwise);
 * - the direct map [page_offset_base, +64 TiB) → va − page_offset_base
 *   (page_offset_base is 0xffff888000000000 for 4-level paging without KASLR);
 * and pseudo-physical → machine goes through the p2m (Dom0P2m).
 *
 * The Xen kdump carries no VMCOREINFO for dom0, but dom0 keeps its own text in memory
 * (kernel/crash_core.c: `unsigned char *vmcoreinfo_data`, a zeroed page, and
 * `size_t vmcoreinfo_size`): with System.map's addresses of those two variables we read it
 * through the p2m and hand it to the ordinary Linux readers.
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError, FormatError, hex, LimitError } from "../errors.js";
import { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import type { SymbolTable } from "./symbols.js";

export const START_KERNEL_MAP = 0xffffffff80000000n;
export const PAGE_OFFSET_L4 = 0xffff888000000000n;
const KERNEL_MAP_SIZE = 1n << 31n;
const DIRECT_MAP_SIZE = 1n << 46n;
const SPACE = "dom0-virtual";
/** VMCOREINFO_BYTES is one page (crash_core.h). */
const VMCOREINFO_MAX = 4096;

export interface Dom0KernelLayout {
  physBase: bigint;
  pageOffset: bigint;
}

/** dom0 kernel-virtual → pseudo-physical for the two linear maps. */
export class Dom0KernelSpace {
  private readonly scratch = new Uint8Array(8);
  constructor(
    /** dom0 pseudo-physical memory (Dom0PhysReader). */
    readonly phys: PhysReader,
    readonly layout: Dom0KernelLayout = { physBase: 0n, pageOffset: PAGE_OFFSET_L4 },
  ) {}

  toPhys(va: bigint): number {
    if (va >= START_KERNEL_MAP && va < START_KERNEL_MAP + KERNEL_MAP_SIZE) {
      const pa = BigInt.asUintN(64, va - START_KERNEL_MAP + this.layout.physBase);
      if (pa >= 1n << 52n) throw new AddressError(SPACE, va, `kernel-map address gives ${hex(pa)}`);
      return Number(pa);
    }
    const po = this.layout.pageOffset;
    if (va >= po && va < po + DIRECT_MAP_SIZE) return Number(va - po);
    throw new AddressError(
      SPACE,
      va,
      "outside the kernel map and direct map (page-table walk not done here)",
    );
  }

  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const a = va + BigInt(done);
      const n = Math.min(4096 - Number(a & 0xfffn), length - done);
      this.phys.readPhys(this.toPhys(a), n, out.subarray(done, done + n));
      done += n;
    }
    return out;
  }

  readU64(va: bigint): bigint {
    this.read(va, 8, this.scratch);
    return new DataView(this.scratch.buffer).getBigUint64(0, true);
  }
}

export interface Dom0Vmcoreinfo {
  /** Where the text lies (value of vmcoreinfo_data). */
  address: bigint;
  size: number;
  info: Vmcoreinfo;
}

/** Read dom0's VMCOREINFO text through System.map's vmcoreinfo_data / vmcoreinfo_size. */
export function readDom0Vmcoreinfo(space: Dom0KernelSpace, systemMap: SymbolTable): Dom0Vmcoreinfo {
  const dataVar = systemMap.require("vmcoreinfo_data", "dom0's VMCOREINFO");
  const sizeVar = systemMap.require("vmcoreinfo_size", "dom0's VMCOREINFO");
  const address = space.readU64(dataVar);
  const sizeRaw = space.readU64(sizeVar);
  if (address === 0n)
    throw new FormatError("dom0's vmcoreinfo_data is NULL (crash_save_vmcoreinfo_init not run)");
  if (sizeRaw === 0n || sizeRaw > BigInt(VMCOREINFO_MAX))
    throw new LimitError("dom0 vmcoreinfo_size", sizeRaw, VMCOREINFO_MAX);
  const size = Number(sizeRaw);
  const text = space.read(address, size);
  const info = Vmcoreinfo.fromBytes(text);
  if (!info.osrelease) throw new FormatError(`dom0 VMCOREINFO at ${hex(address)} has no OSRELEASE line`);
  return { address, size, info };
}

/**
 * The layout VMCOREINFO implies: NUMBER(phys_base) (signed, taken mod 2^64) and
 * page_offset_base read from memory when SYMBOL(page_offset_base)… is not exported —
 * System.map gives the variable's address, whose value is the direct map's base.
 */
export function dom0LayoutFrom(
  info: Vmcoreinfo,
  space: Dom0KernelSpace,
  systemMap?: SymbolTable,
): Dom0KernelLayout {
  const physBase = info.numberU64("phys_base") ?? 0n;
  let pageOffset = PAGE_OFFSET_L4;
  const pobVar = systemMap?.get("page_offset_base");
  if (pobVar !== undefined) {
    const probe = new Dom0KernelSpace(space.phys, { physBase, pageOffset });
    const v = probe.readU64(pobVar);
    if (v >= 0xff00_0000_0000_0000n) pageOffset = v;
  }
  return { physBase, pageOffset };
}
