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
import { latin1 } from "../bytes/cursor.js";
import type { PhysReader } from "../dump/types.js";
import { AddressError, FormatError, hex, LimitError, rethrowMissing } from "../errors.js";
import { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { PAGE_OFFSET_4LEVEL as PAGE_OFFSET_L4, START_KERNEL_MAP } from "../xlat/linux-x86_64.js";
import { splitVa, X86_64PageTables } from "../xlat/x86_64.js";
import { type Dom0P2m, Dom0PhysReader } from "./p2m.js";
import type { SymbolTable } from "./symbols.js";

const KERNEL_MAP_SIZE = 1n << 31n;
const DIRECT_MAP_SIZE = 1n << 46n;
const SPACE = "dom0-virtual";
/** VMCOREINFO_BYTES is one page (crash_core.h). */
const VMCOREINFO_MAX = 4096;

export interface Dom0KernelLayout {
  physBase: bigint;
  pageOffset: bigint;
}

/**
 * dom0's own page tables for the rest (vmalloc, stacks, modules): a PV guest's tables hold
 * machine frames (Xen validates them as such), so the walk runs over machine memory from the
 * machine address of swapper_pg_dir and lands on a machine address.
 */
export interface Dom0PageTables {
  machine: PhysReader;
  tables: X86_64PageTables;
}

/** Build dom0's page-table walker from the pseudo-physical address of its top table. */
export function dom0PageTables(machine: PhysReader, p2m: Dom0P2m, rootPhys: number): Dom0PageTables {
  const root = p2m.toMachine(rootPhys - (rootPhys % 4096));
  return { machine, tables: new X86_64PageTables(machine, { root }) };
}

/** dom0 kernel-virtual → pseudo-physical for the two linear maps. */
export class Dom0KernelSpace {
  private readonly scratch = new Uint8Array(8);
  constructor(
    /** dom0 pseudo-physical memory (Dom0PhysReader). */
    readonly phys: PhysReader,
    readonly layout: Dom0KernelLayout = { physBase: 0n, pageOffset: PAGE_OFFSET_L4 },
    readonly pageTables?: Dom0PageTables,
  ) {}

  /** Where `va` lives: dom0 pseudo-physical (linear maps) or machine (page-table walk). */
  translate(va: bigint): { space: "dom0-physical" | "machine"; address: number } {
    const linear = this.linear(va);
    if (linear !== undefined) return { space: "dom0-physical", address: linear };
    if (!this.pageTables)
      throw new AddressError(SPACE, va, "outside the kernel map and direct map, and no page tables given");
    const [hi, lo] = splitVa(va);
    const ma = this.pageTables.tables.translate(hi, lo);
    if (ma < 0) throw new AddressError(SPACE, va, "not mapped in dom0's page tables");
    return { space: "machine", address: ma };
  }

  /** Pseudo-physical address of a linearly mapped `va`; throws for other addresses. */
  toPhys(va: bigint): number {
    const p = this.linear(va);
    if (p === undefined) throw new AddressError(SPACE, va, "outside the kernel map and direct map");
    return p;
  }

  private linear(va: bigint): number | undefined {
    if (va >= START_KERNEL_MAP && va < START_KERNEL_MAP + KERNEL_MAP_SIZE) {
      const pa = BigInt.asUintN(64, va - START_KERNEL_MAP + this.layout.physBase);
      if (pa >= 1n << 52n) throw new AddressError(SPACE, va, `kernel-map address gives ${hex(pa)}`);
      return Number(pa);
    }
    const po = this.layout.pageOffset;
    if (va >= po && va < po + DIRECT_MAP_SIZE) return Number(va - po);
    return undefined;
  }

  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const a = va + BigInt(done);
      const n = Math.min(4096 - Number(a & 0xfffn), length - done);
      const t = this.translate(a);
      const reader = t.space === "machine" ? this.pageTables!.machine : this.phys;
      reader.readPhys(t.address, n, out.subarray(done, done + n));
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
  // Linux < 4.13 (kernel/kexec_core.c): `unsigned char vmcoreinfo_data[VMCOREINFO_BYTES]`,
  // the symbol is the text itself; later (crash_core.c) a pointer to a zeroed page.
  const head = space.read(dataVar, 10);
  const isArray = latin1(head) === "OSRELEASE=";
  const address = isArray ? dataVar : space.readU64(dataVar);
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

/** Everything `--domain 0` needs: pseudo-physical reads, kernel-virtual reads, its VMCOREINFO. */
export interface Dom0View {
  phys: Dom0PhysReader;
  kernel: Dom0KernelSpace;
  vmcoreinfo?: Dom0Vmcoreinfo;
  /** What could not be set up (no System.map, unreadable VMCOREINFO, no page tables). */
  problems: string[];
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Open dom0 inside a host dump. Without System.map only the default linear maps are known
 * (PV dom0: no KASLR, phys_base 0); with it, dom0's VMCOREINFO gives phys_base and the
 * symbols, page_offset_base is read from memory, and swapper_pg_dir enables page-table walks.
 */
export function openDom0(machine: PhysReader, p2m: Dom0P2m, systemMap?: SymbolTable): Dom0View {
  const phys = new Dom0PhysReader(machine, p2m);
  const problems: string[] = [];
  const base = new Dom0KernelSpace(phys);
  if (!systemMap) {
    problems.push("no System.map: dom0 VMCOREINFO not read, default layout, no page-table walks");
    return { phys, kernel: base, problems };
  }
  let vmcoreinfo: Dom0Vmcoreinfo | undefined;
  try {
    vmcoreinfo = readDom0Vmcoreinfo(base, systemMap);
  } catch (e) {
    rethrowMissing(e);
    problems.push(`dom0 VMCOREINFO: ${message(e)}`);
  }
  let layout = base.layout;
  try {
    layout = vmcoreinfo
      ? dom0LayoutFrom(vmcoreinfo.info, base, systemMap)
      : dom0LayoutFrom(new Vmcoreinfo(""), base, systemMap);
  } catch (e) {
    rethrowMissing(e);
    problems.push(`dom0 layout: ${message(e)}`);
  }
  const linear = new Dom0KernelSpace(phys, layout);
  let tables: Dom0PageTables | undefined;
  const pgd = vmcoreinfo?.info.symbol("swapper_pg_dir") ?? systemMap.get("init_top_pgt");
  if (pgd === undefined)
    problems.push("neither SYMBOL(swapper_pg_dir) nor init_top_pgt: no page-table walks");
  else {
    try {
      tables = dom0PageTables(machine, p2m, linear.toPhys(pgd));
    } catch (e) {
      rethrowMissing(e);
      problems.push(`dom0 page tables: ${message(e)}`);
    }
  }
  const view: Dom0View = { phys, kernel: new Dom0KernelSpace(phys, layout, tables), problems };
  if (vmcoreinfo) view.vmcoreinfo = vmcoreinfo;
  return view;
}
