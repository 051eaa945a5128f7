/**
 * dom0 (a PV Linux guest) inside a Xen host dump, as spaces of the one engine
 * (src/xlat/space.ts):
 * - dom0 pseudo-physical: one range whose method is the p2m (pfn → mfn, p2m.ts);
 * - dom0 kernel virtual, over machine memory:
 *   kernel text [__START_KERNEL_map, +KERNEL_IMAGE_SIZE) → p2m(pfn + phys_base/4 KiB) (PV dom0 has no KASLR;
 *   phys_base is 0 unless its VMCOREINFO says otherwise);
 *   direct map [page_offset_base, +64 TiB) → p2m(pfn) (0xffff888000000000 for 4-level
 *   paging without KASLR, else read from memory);
 *   everything else → dom0's own page tables: a PV guest's tables hold machine frames (Xen
 *   validates them as such), so the x86_64 walker runs over machine memory from the machine
 *   address of swapper_pg_dir (crash's vtop on a dom0 shows the same "[machine]" entries).
 *
 * The Xen kdump carries no VMCOREINFO for dom0, but dom0 keeps its own text in memory
 * (kernel/crash_core.c: `unsigned char *vmcoreinfo_data`, a zeroed page, and
 * `size_t vmcoreinfo_size`): with System.map's addresses of those two variables we read it
 * through the p2m and hand it to the ordinary Linux readers. `openDom0` is the openKernel of
 * dom0: one call gives the translated kernel view with its symbols.
 */
import { latin1 } from "../bytes/cursor.js";
import type { Dump } from "../dump/index.js";
import type { PhysReader } from "../dump/types.js";
import { AddressError, FormatError, hex, KdumpkitError, LimitError, rethrowMissing } from "../errors.js";
import type { Kernel, KernelFacts } from "../kernel/open.js";
import { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import {
  KERNEL_IMAGE_SIZE,
  PAGE_OFFSET_4LEVEL as PAGE_OFFSET_L4,
  START_KERNEL_MAP,
} from "../xlat/linux-x86_64.js";
import { AddressSpace, END_OF_64BIT, type RangeSpec } from "../xlat/space.js";
import { X86_64PageTables } from "../xlat/x86_64.js";
import { isReadFailure } from "./frame-table.js";
import { type Dom0P2m, Dom0PhysReader, p2mMethod } from "./p2m.js";
import type { SymbolTable } from "./symbols.js";

const DIRECT_MAP_SIZE = 1n << 46n;
const SPACE = "dom0-virtual";
/** VMCOREINFO_BYTES is one page (crash_core.h). */
const VMCOREINFO_MAX = 4096;

export interface Dom0KernelLayout {
  physBase: bigint;
  pageOffset: bigint;
  /** Bytes of the kernel text mapping (NUMBER(KERNEL_IMAGE_SIZE)); modules lie beyond. Absent: 1 GiB. */
  textSize?: number;
}

const DEFAULT_LAYOUT: Dom0KernelLayout = { physBase: 0n, pageOffset: PAGE_OFFSET_L4 };

function textEnd(layout: Dom0KernelLayout): bigint {
  return START_KERNEL_MAP + BigInt(layout.textSize ?? KERNEL_IMAGE_SIZE);
}

/**
 * dom0's page-table walker from the pseudo-physical address of its top table: the root's
 * machine address through the p2m; the walk itself reads machine memory.
 */
export function dom0PageTables(machine: PhysReader, p2m: Dom0P2m, rootPhys: number): X86_64PageTables {
  const root = p2m.toMachine(rootPhys - (rootPhys % 4096));
  return new X86_64PageTables(machine, { root });
}

/**
 * dom0's kernel virtual space over machine memory: the two linear maps composed with the p2m
 * (frame-table methods), then the page tables when a walker is given.
 */
export function dom0KernelSpace(
  phys: Dom0PhysReader,
  layout: Dom0KernelLayout = DEFAULT_LAYOUT,
  walker?: X86_64PageTables,
): AddressSpace {
  const pb = BigInt.asIntN(64, layout.physBase);
  if (pb % 4096n !== 0n || pb >= 1n << 52n || pb <= -(1n << 52n))
    throw new AddressError(
      SPACE,
      START_KERNEL_MAP,
      `phys_base ${hex(layout.physBase)} is not a page-aligned address`,
    );
  const ranges: RangeSpec[] = [
    {
      id: "text",
      name: "kernel text mapping",
      start: START_KERNEL_MAP,
      end: textEnd(layout),
      method: p2mMethod(phys.p2m, Number(pb / 4096n)),
    },
    {
      id: "direct",
      name: "direct map",
      start: layout.pageOffset,
      end: layout.pageOffset + DIRECT_MAP_SIZE,
      method: p2mMethod(phys.p2m),
    },
  ];
  if (walker)
    ranges.push({
      id: "pagetable",
      name: "page tables",
      start: 0n,
      end: END_OF_64BIT,
      method: { kind: "pagetable", walker },
    });
  return new AddressSpace(SPACE, phys.machine, ranges, { pointerSize: 8, ...(walker ? { walker } : {}) });
}

/** dom0 pseudo-physical address of a `va` in one of the linear maps, else undefined. */
export function dom0PseudoPhysical(layout: Dom0KernelLayout, va: bigint): number | undefined {
  const v = BigInt.asUintN(64, va);
  if (v >= START_KERNEL_MAP) {
    if (v >= textEnd(layout)) return undefined; // modules, fixmap: the page tables decide
    return Number(BigInt.asIntN(64, v - START_KERNEL_MAP + layout.physBase));
  }
  if (v >= layout.pageOffset && v < layout.pageOffset + DIRECT_MAP_SIZE) return Number(v - layout.pageOffset);
  return undefined;
}

function readU64(space: { read(va: bigint, n: number): Uint8Array }, va: bigint): bigint {
  const b = space.read(va, 8);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

export interface Dom0Vmcoreinfo {
  /** Where the text lies (value of vmcoreinfo_data). */
  address: bigint;
  size: number;
  info: Vmcoreinfo;
  /** How it was found: "System.map" (vmcoreinfo_data) or "memory" (a look through dom0's pages). */
  via: "System.map" | "memory";
}

/** Read dom0's VMCOREINFO text through System.map's vmcoreinfo_data / vmcoreinfo_size. */
export function readDom0Vmcoreinfo(
  space: { read(va: bigint, n: number): Uint8Array },
  systemMap: SymbolTable,
): Dom0Vmcoreinfo {
  const dataVar = systemMap.require("vmcoreinfo_data", "dom0's VMCOREINFO");
  const sizeVar = systemMap.require("vmcoreinfo_size", "dom0's VMCOREINFO");
  // Linux < 4.13 (kernel/kexec_core.c): `unsigned char vmcoreinfo_data[VMCOREINFO_BYTES]`,
  // the symbol is the text itself; later (crash_core.c) a pointer to a zeroed page.
  const head = space.read(dataVar, 10);
  const isArray = latin1(head) === "OSRELEASE=";
  const address = isArray ? dataVar : readU64(space, dataVar);
  const sizeRaw = readU64(space, sizeVar);
  if (address === 0n)
    throw new FormatError("dom0's vmcoreinfo_data is NULL (crash_save_vmcoreinfo_init not run)");
  if (sizeRaw === 0n || sizeRaw > BigInt(VMCOREINFO_MAX))
    throw new LimitError("dom0 vmcoreinfo_size", sizeRaw, VMCOREINFO_MAX);
  const size = Number(sizeRaw);
  const text = space.read(address, size);
  const info = Vmcoreinfo.fromBytes(text);
  if (!info.osrelease) throw new FormatError(`dom0 VMCOREINFO at ${hex(address)} has no OSRELEASE line`);
  return { address, size, info, via: "System.map" };
}

/**
 * The layout VMCOREINFO implies: NUMBER(phys_base) (signed, taken mod 2^64) and
 * page_offset_base read from memory when SYMBOL(page_offset_base)… is not exported —
 * System.map gives the variable's address, whose value is the direct map's base.
 */
export function dom0LayoutFrom(
  info: Vmcoreinfo,
  phys: Dom0PhysReader,
  systemMap?: SymbolTable,
): Dom0KernelLayout {
  const physBase = info.numberU64("phys_base") ?? 0n;
  // NUMBER(KERNEL_IMAGE_SIZE) (4.x+): the text mapping's extent; modules start right after it
  const kis = info.number("KERNEL_IMAGE_SIZE");
  const textSize = kis !== undefined && kis > 0n && kis <= 0x80000000n ? Number(kis) : KERNEL_IMAGE_SIZE;
  let pageOffset = PAGE_OFFSET_L4;
  const pobVar = systemMap?.get("page_offset_base");
  if (pobVar !== undefined) {
    const v = readU64(dom0KernelSpace(phys, { physBase, pageOffset, textSize }), pobVar);
    if (v >= 0xff00_0000_0000_0000n) pageOffset = v;
  }
  return { physBase, pageOffset, textSize };
}

/**
 * dom0 opened like a Linux kernel (`openKernel`'s shape: arch, pointerSize, space, walker,
 * facts), plus its pseudo-physical memory and its VMCOREINFO.
 */
export interface Dom0View extends Kernel {
  /** dom0 pseudo-physical memory as a PhysReader (its `space` is the p2m space). */
  phys: Dom0PhysReader;
  /** The pseudo-physical space (one range, the p2m method). */
  physical: AddressSpace;
  /** The kernel virtual space (the same as `space`). */
  kernel: AddressSpace;
  layout: Dom0KernelLayout;
  vmcoreinfo?: Dom0Vmcoreinfo;
  /** What could not be set up (no System.map, unreadable VMCOREINFO, no page tables). */
  problems: string[];
  /** The pseudo-physical address of a linearly mapped `va` (what crash's vtop shows as PHYSICAL). */
  pseudoPhysical(va: bigint): number | undefined;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function view(
  phys: Dom0PhysReader,
  layout: Dom0KernelLayout,
  problems: string[],
  walker?: X86_64PageTables,
  pgd?: { virtual: bigint; machine: number },
  vmcoreinfo?: Dom0Vmcoreinfo,
): Dom0View {
  const space = dom0KernelSpace(phys, layout, walker);
  const facts: KernelFacts = {
    arch: "x86_64",
    pageOffset: layout.pageOffset,
    kernelOffset: vmcoreinfo?.info.kernelOffset ?? 0n,
    notes: problems,
  };
  if (walker) facts.pageTables = `${walker.format} (machine frames)`;
  if (pgd) {
    facts.rootSymbol = "swapper_pg_dir";
    facts.rootVirtual = pgd.virtual;
    facts.rootPhysical = pgd.machine;
  }
  return {
    arch: "x86_64",
    pointerSize: 8,
    space,
    ...(walker ? { walker } : {}),
    facts,
    phys,
    physical: phys.space,
    kernel: space,
    layout,
    ...(vmcoreinfo ? { vmcoreinfo } : {}),
    problems,
    pseudoPhysical: (va) => dom0PseudoPhysical(layout, va),
  };
}

const PAGE = 4096;
const VMCOREINFO_HEAD = "OSRELEASE=";

/** What looking for dom0's VMCOREINFO in its memory needs of the machine. */
export interface Dom0Scan {
  /** The machine's frame count: a p2m mapping more is not dom0's. */
  machineFrames: number;
  /** Does the dump hold this machine frame? (Others are skipped without a read.) */
  machineHas(mfn: number): boolean;
}

/** The scan's bounds for a dump's machine memory. */
export function dom0ScanOf(dump: Pick<Dump, "maxAddress" | "stateAt">): Dom0Scan {
  return {
    machineFrames: Math.ceil(dump.maxAddress / PAGE),
    machineHas: (mfn) => dump.stateAt(mfn * PAGE) === "present",
  };
}

/**
 * dom0's VMCOREINFO found in its memory (no System.map): the kernel's vmcoreinfo_data is a
 * zeroed page beginning "OSRELEASE=". The p2m's valid entries are visited in pfn order and the
 * first bytes of each machine frame the dump holds are read once (identity and foreign entries,
 * and frames the dump lacks, are skipped without a read); the first page whose text parses with
 * SIZE(page) and a top page table is taken. At most `machineFrames` entries are looked at: a p2m
 * mapping more frames than the machine has is not dom0's (a corrupt one walked 134M pfns, each
 * read failing, for hours).
 */
export function findDom0Vmcoreinfo(
  machine: PhysReader,
  p2m: Dom0P2m,
  machineFrames: number,
  machineHas: (mfn: number) => boolean,
): { info: Vmcoreinfo; pfn: number; size: number } {
  const head = new Uint8Array(VMCOREINFO_HEAD.length);
  const page = new Uint8Array(PAGE);
  let found: { info: Vmcoreinfo; pfn: number; size: number } | undefined;
  let looked = 0;
  let absent = 0;
  let tooMany = false;
  p2m.forEachEntry((pfn, mfn, flags) => {
    if (++looked > machineFrames) {
      tooMany = true;
      return true;
    }
    if (flags !== 0) return undefined;
    if (!machineHas(mfn)) {
      absent++;
      return undefined;
    }
    try {
      machine.readPhys(mfn * PAGE, head.length, head);
      if (latin1(head) !== VMCOREINFO_HEAD) return undefined;
      machine.readPhys(mfn * PAGE, PAGE, page);
    } catch (e) {
      if (!isReadFailure(e)) throw e;
      absent++;
      return undefined;
    }
    const end = page.indexOf(0);
    const info = Vmcoreinfo.fromBytes(page.subarray(0, end < 0 ? PAGE : end));
    if (info.size("page") !== undefined && (info.symbol("init_top_pgt") ?? info.symbol("swapper_pg_dir"))) {
      found = { info, pfn, size: end < 0 ? PAGE : end };
      return true;
    }
    return undefined;
  });
  if (found) return found;
  throw new FormatError(
    tooMany
      ? `dom0's VMCOREINFO not found: dom0's p2m maps more than the machine's ${machineFrames} frames (corrupt); give dom0's System.map`
      : `dom0's VMCOREINFO not found: no dom0 page starts with a VMCOREINFO text${absent ? ` (${absent} of dom0's ${looked} frames are not in the dump or cannot be read: cut short, filtered or corrupt)` : ""} (give dom0's System.map)`,
  );
}

/**
 * Open dom0 inside a host dump. dom0's VMCOREINFO comes through System.map's vmcoreinfo_data,
 * or without System.map from a look through dom0's memory when `scan` is given (the page that
 * starts with its text: findDom0Vmcoreinfo). With it, phys_base and the symbols are known,
 * page_offset_base is read from memory (System.map), and swapper_pg_dir enables page-table
 * walks; without it only the default linear maps are (PV dom0: no KASLR, phys_base 0).
 */
export function openDom0(
  machine: PhysReader,
  p2m: Dom0P2m,
  systemMap?: SymbolTable,
  scan?: Dom0Scan,
): Dom0View {
  const phys = new Dom0PhysReader(machine, p2m);
  const problems: string[] = [];
  if (!systemMap && !scan) {
    problems.push("no System.map: dom0 VMCOREINFO not read, default layout, no page-table walks");
    return view(phys, DEFAULT_LAYOUT, problems);
  }
  let vmcoreinfo: Dom0Vmcoreinfo | undefined;
  let foundAt: number | undefined;
  try {
    if (systemMap) vmcoreinfo = readDom0Vmcoreinfo(dom0KernelSpace(phys), systemMap);
    else if (scan) {
      const found = findDom0Vmcoreinfo(machine, p2m, scan.machineFrames, scan.machineHas);
      foundAt = found.pfn;
      vmcoreinfo = { address: 0n, size: found.size, info: found.info, via: "memory" };
    }
  } catch (e) {
    rethrowMissing(e);
    problems.push(`dom0 VMCOREINFO: ${message(e)}`);
  }
  if (!vmcoreinfo) return view(phys, DEFAULT_LAYOUT, problems);
  let layout = DEFAULT_LAYOUT;
  try {
    layout = dom0LayoutFrom(vmcoreinfo.info, phys, systemMap);
  } catch (e) {
    rethrowMissing(e);
    problems.push(`dom0 layout: ${message(e)}`);
  }
  // found by the look through memory: its address in the direct map
  if (foundAt !== undefined) vmcoreinfo.address = layout.pageOffset + BigInt(foundAt * PAGE);
  let walker: X86_64PageTables | undefined;
  let root: { virtual: bigint; machine: number } | undefined;
  const pgd =
    vmcoreinfo.info.symbol("swapper_pg_dir") ??
    vmcoreinfo.info.symbol("init_top_pgt") ??
    systemMap?.get("init_top_pgt");
  if (pgd === undefined)
    problems.push("neither SYMBOL(swapper_pg_dir) nor init_top_pgt: no page-table walks");
  else {
    try {
      const pa = dom0PseudoPhysical(layout, pgd);
      if (pa === undefined)
        throw new AddressError(SPACE, pgd, "swapper_pg_dir outside the kernel map and direct map");
      walker = dom0PageTables(machine, p2m, pa);
      root = { virtual: pgd, machine: walker.root };
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
      problems.push(`dom0 page tables: ${message(e)}`);
    }
  }
  return view(phys, layout, problems, walker, root, vmcoreinfo);
}
