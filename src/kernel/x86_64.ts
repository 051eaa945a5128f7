/**
 * The address space of an x86_64 Linux dump, built as ranges → methods (src/xlat/space.ts)
 * from what the dump says about itself, from VMCOREINFO and (when the format has them) ELF
 * PT_LOAD headers — no debuginfo needed:
 *  - phys_base: NUMBER(phys_base) (arch/x86/kernel/crash_core_64.c, since 4.x), modulo 2^64;
 *    else from a PT_LOAD of the kernel text mapping (kexec-tools writes one), else the kdump
 *    sub-header's;
 *  - the top page table: SYMBOL(init_top_pgt) (4.13+; VMCOREINFO exports it as swapper_pg_dir
 *    in 6.x) or SYMBOL(init_level4_pgt) before 4.13, a kernel-text address;
 *  - 4 or 5 levels: NUMBER(pgtable_l5_enabled) (4.17+); AMD SME C-bit: NUMBER(sme_mask);
 *  - page_offset_base, vmalloc_base, vmemmap_base (randomised by CONFIG_RANDOMIZE_MEMORY, not in
 *    VMCOREINFO): page_offset_base is p_vaddr − p_paddr of a direct-map PT_LOAD when there is
 *    one (kexec-tools' and the kernel's ELF headers), else the lowest PUD-aligned kernel address
 *    whose tables map physical 0; vmalloc and vmemmap are the first mapped PUDs above the direct
 *    map and above the vmalloc area (arch/x86/mm/kaslr.c, kernel_randomize_memory, places the
 *    three regions in that order, each PUD-aligned, below CPU_ENTRY_AREA_BASE). Without
 *    randomisation (page_offset_base at its fixed value) the fixed bases of mm.rst are used.
 * The ranges, hottest first: kernel text and direct map (linear, as crash's x86_64_VTOP and
 * makedumpfile's vaddr_to_paddr_x86_64 translate them), vmalloc, vmemmap and module space
 * (page tables, named for `vtop`), then the page tables for the rest (fixmap, cpu_entry_area).
 */
import { KdumpkitError, rethrowMissing, UnsupportedError } from "../errors.js";
import {
  CPU_ENTRY_AREA_BASE,
  KERNEL_IMAGE_SIZE,
  MODULES_END,
  PAGE_OFFSET_4LEVEL,
  PAGE_OFFSET_5LEVEL,
  START_KERNEL_MAP,
  VMALLOC_BASE_4LEVEL,
  VMALLOC_BASE_5LEVEL,
  VMALLOC_SIZE_4LEVEL,
  VMALLOC_SIZE_5LEVEL,
  VMEMMAP_BASE_4LEVEL,
  VMEMMAP_BASE_5LEVEL,
} from "../xlat/linux-x86_64.js";
import { AddressSpace, END_OF_64BIT, type RangeSpec } from "../xlat/space.js";
import { splitVa, X86_64PageTables } from "../xlat/x86_64.js";
import type { KernelDumpInput, LoadSegment } from "./open.js";

export type PageOffsetSource = "pt_load" | "page-tables" | "default";

export interface X86_64KernelFacts {
  physBase: bigint;
  physBaseSource: "vmcoreinfo" | "pt_load" | "header";
  /** KERNELOFFSET (KASLR text offset), 0 when absent. */
  kernelOffset: bigint;
  /** Name of the VMCOREINFO symbol the page-table root came from, and its addresses. */
  rootSymbol?: string;
  rootVirtual?: bigint;
  rootPhysical?: number;
  levels: 4 | 5;
  encryptionMask: bigint;
  maxPhysBits: number;
  /** Bytes of the kernel text mapping (NUMBER(KERNEL_IMAGE_SIZE), else 1 GiB). */
  textSize: number;
  /** page_offset_base (crash's KERNEL VIRTUAL BASE) and how it was found. */
  pageOffset?: bigint;
  pageOffsetSource?: PageOffsetSource;
  /** Bytes of the direct map translated linearly (the end of RAM). */
  directMapSize: number;
  /** vmalloc_base and vmemmap_base (crash's KERNEL VMALLOC BASE / KERNEL VMEMMAP BASE). */
  vmallocBase?: bigint;
  vmemmapBase?: bigint;
  regionSource?: "page-tables" | "default";
  /** Discrepancies worth telling the user (e.g. a header phys_base that disagrees). */
  notes: string[];
}

function isTextVa(va: bigint): boolean {
  return va >= START_KERNEL_MAP && va < START_KERNEL_MAP + 0x40000000n;
}

/** The kernel half of the canonical address space starts here (4-level: 0xffff800000000000). */
function isKernelHalf(va: bigint): boolean {
  return va >= 0xff00000000000000n;
}

/** phys_base from a PT_LOAD of the text mapping: p_paddr − (p_vaddr − __START_KERNEL_map). */
function physBaseFromLoads(loads: readonly LoadSegment[]): bigint | undefined {
  for (const l of loads) {
    if (l.vaddr !== 0n && isTextVa(l.vaddr))
      return BigInt.asUintN(64, BigInt(l.paddr) - (l.vaddr - START_KERNEL_MAP));
  }
  return undefined;
}

/** page_offset_base from direct-map PT_LOADs: every such segment must agree. */
function pageOffsetFromLoads(loads: readonly LoadSegment[]): bigint | undefined {
  let found: bigint | undefined;
  for (const l of loads) {
    if (l.vaddr === 0n || isTextVa(l.vaddr) || !isKernelHalf(l.vaddr) || l.memsz === 0) continue;
    const po = BigInt.asUintN(64, l.vaddr - BigInt(l.paddr));
    if (found === undefined) found = po;
    else if (found !== po) return undefined;
  }
  return found;
}

/**
 * Find the direct map by walking the page tables: the lowest PUD-aligned kernel-half address
 * whose probes (physical 0x1000, 1 MiB, 2 MiB) translate to themselves. The text mapping's
 * PGD slot (511) is skipped: it maps the kernel image, not physical 0.
 */
export function findDirectMap(pt: X86_64PageTables): bigint | undefined {
  const probes = [0x1000, 0x100000, 0x200000];
  const pudLevel = pt.levels === 5 ? 2 : 1;
  // corrupt tables with every entry "present" must not turn this into minutes of walking
  let budget = 1 << 18;
  const check = (hi: number, lo: number): boolean => {
    let ok = 0;
    for (const p of probes) {
      let r: number;
      try {
        r = pt.translate(hi, (lo + p) >>> 0);
      } catch (e) {
        if (e instanceof KdumpkitError) continue;
        throw e;
      }
      if (r === p) ok++;
      else if (r >= 0) return false;
    }
    return ok >= 2;
  };
  // returns [hi, lo] of the found base, or undefined
  const visit = (level: number, hi: number): [number, number] | undefined => {
    const top = level === 0;
    const first = top ? 256 : 0;
    const last = top ? 510 : 511;
    for (let i = first; i <= last; i++) {
      if (--budget < 0) return undefined;
      let h: number;
      let l = 0;
      if (level === pudLevel) {
        h = (hi | (i >>> 2)) >>> 0;
        l = ((i & 3) << 30) >>> 0;
      } else if (pt.levels === 5 && level === 0) h = (0xfe000000 | (i << 16)) >>> 0;
      else if (level === 0) h = (0xffff0000 | (i << 7)) >>> 0;
      else h = (hi | (i << 7)) >>> 0; // p4d level with 5-level paging
      let r: number;
      try {
        r = pt.translate(h, l);
      } catch (e) {
        if (e instanceof KdumpkitError) continue;
        throw e;
      }
      if (r < 0 && pt.faultDepth <= level) continue; // this level's entry is not present
      if (level === pudLevel) {
        if (check(h, l)) return [h, l];
      } else {
        const found = visit(level + 1, h);
        if (found) return found;
      }
    }
    return undefined;
  };
  const found = visit(0, 0);
  if (!found) return undefined;
  return (BigInt(found[0]) << 32n) | BigInt(found[1]);
}

const PUD_SIZE = 1n << 30n;
const alignUp = (v: bigint, a: bigint) => ((v + a - 1n) / a) * a;

/**
 * The first PUD-aligned address in [from, to) whose PUD entry is present, skipping whole
 * top-level (and p4d) slots that are not; the text mapping's slot is never reached (to lies
 * below it). Bounded: garbage tables give up after `budget` probes.
 */
export function firstMappedPud(
  pt: X86_64PageTables,
  from: bigint,
  to: bigint,
  budget = 1 << 14,
): bigint | undefined {
  const pudLevel = pt.levels === 5 ? 2 : 1;
  // counted in PUDs (1 GiB) as plain numbers, not BigInt (a cold search of ~1,500 probes in
  // BigInt was most of dmesg's kernel set-up); a not-present entry's table is scanned at once
  // for the next present entry (one table page, not a translate per slot)
  // the PUDs one entry covers at each level down to the PUD entries: pgd (, p4d), pud
  const spans = pt.levels === 5 ? [2 ** 18, 2 ** 9, 1] : [2 ** 9, 1];
  let g = Number((from + PUD_SIZE - 1n) >> 30n);
  const end = Number((to + PUD_SIZE - 1n) >> 30n);
  while (g < end && budget-- > 0) {
    const hi = Math.floor(g / 4) >>> 0;
    const lo = (g % 4) * 0x40000000;
    let r: number;
    try {
      r = pt.translate(hi, lo);
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
      r = -2; // a table the dump lacks: nothing to find below this level
    }
    if (r >= 0 || pt.faultDepth > pudLevel) return BigInt(g) << 30n;
    const depth = Math.min(pt.faultDepth, pudLevel);
    const span = spans[depth]!;
    const table = span * 512;
    const next = r === -1 ? pt.nextPresent(depth, (Math.floor(g / span) % 512) + 1) : -2;
    if (next >= 0) g = Math.floor(g / table) * table + next * span;
    else if (next === -1) g = (Math.floor(g / table) + 1) * table;
    else g = (Math.floor(g / span) + 1) * span;
  }
  return undefined;
}

/** A setup's result: the facts, the space and its page tables (composed by openKernel). */
export interface X86_64Setup {
  facts: X86_64KernelFacts;
  space: AddressSpace;
  walker?: X86_64PageTables;
}

/** Work out the address space of an x86_64 Linux dump. */
export function x86_64Kernel(input: KernelDumpInput, opts: { searchRegions?: boolean } = {}): X86_64Setup {
  const vi = input.vmcoreinfo;
  const notes: string[] = [];
  let physBase = vi.numberU64("phys_base");
  let physBaseSource: X86_64KernelFacts["physBaseSource"] = "vmcoreinfo";
  const fromLoads = input.loads ? physBaseFromLoads(input.loads) : undefined;
  if (physBase === undefined && fromLoads !== undefined) {
    physBase = fromLoads;
    physBaseSource = "pt_load";
  }
  if (physBase === undefined && input.headerPhysBase !== undefined) {
    physBase = BigInt.asUintN(64, input.headerPhysBase);
    physBaseSource = "header";
  }
  if (physBase === undefined)
    throw new UnsupportedError(
      "x86_64 dump without NUMBER(phys_base) in VMCOREINFO nor a kernel-text PT_LOAD",
    );
  if (input.headerPhysBase !== undefined && BigInt.asUintN(64, input.headerPhysBase) !== physBase)
    // QEMU 7.2 parses the guest's signed decimal NUMBER(phys_base) as hex (dump/dump.c)
    notes.push(
      `dump header phys_base 0x${BigInt.asUintN(64, input.headerPhysBase).toString(16)} disagrees with VMCOREINFO 0x${physBase.toString(16)}; using VMCOREINFO`,
    );
  if (fromLoads !== undefined && fromLoads !== physBase && physBaseSource === "vmcoreinfo")
    notes.push(`kernel-text PT_LOAD implies phys_base 0x${fromLoads.toString(16)}`);
  // the text mapping's linear base: phys_base as a signed number (often "negative" with KASLR)
  const physBaseSigned = BigInt.asIntN(64, physBase);
  if (physBaseSigned > BigInt(Number.MAX_SAFE_INTEGER) || physBaseSigned < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new UnsupportedError(`phys_base 0x${physBase.toString(16)} out of range`);

  const levels: 4 | 5 = vi.number("pgtable_l5_enabled") === 1n ? 5 : 4;
  const encryptionMask = vi.numberU64("sme_mask") ?? 0n;
  const mpb = vi.number("MAX_PHYSMEM_BITS");
  const maxPhysBits = mpb !== undefined && mpb > 0n && mpb <= 52n ? Number(mpb) : levels === 5 ? 52 : 46;
  const kernelOffset = vi.kernelOffset ?? 0n;
  // NUMBER(KERNEL_IMAGE_SIZE) (4.x+): the text mapping's extent; modules start right after it
  const kis = vi.number("KERNEL_IMAGE_SIZE");
  const textSize = kis !== undefined && kis > 0n && kis <= 0x80000000n ? Number(kis) : KERNEL_IMAGE_SIZE;
  const textEnd = START_KERNEL_MAP + BigInt(textSize);

  // the root table is a kernel-text address: the text mapping's linear method gives it
  let rootSymbol: string | undefined;
  let rootVirtual: bigint | undefined;
  for (const name of ["init_top_pgt", "swapper_pg_dir", "init_level4_pgt"]) {
    const v = vi.symbol(name);
    if (v !== undefined) {
      rootSymbol = name;
      rootVirtual = v;
      break;
    }
  }
  let walker: X86_64PageTables | undefined;
  let rootPhysical: number | undefined;
  if (rootVirtual !== undefined && rootVirtual >= START_KERNEL_MAP && rootVirtual < textEnd) {
    const p = rootVirtual - START_KERNEL_MAP + physBaseSigned;
    try {
      if (p < 0n || p > BigInt(Number.MAX_SAFE_INTEGER))
        throw new UnsupportedError(`${rootSymbol} at physical ${p} (phys_base wrong?)`);
      rootPhysical = Number(p);
      walker = new X86_64PageTables(input.phys, { root: rootPhysical, levels, encryptionMask });
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
      notes.push(`page-table root ${rootSymbol}: ${e.message}`);
    }
  } else notes.push("no page-table root (SYMBOL(init_top_pgt)/swapper_pg_dir) in VMCOREINFO");

  // searchRegions false (textMappingLog): no page-table search for the direct map, vmalloc and
  // vmemmap, whose ranges are then left out
  const search = opts.searchRegions ?? true;
  let pageOffset = input.loads ? pageOffsetFromLoads(input.loads) : undefined;
  let pageOffsetSource: PageOffsetSource | undefined = pageOffset !== undefined ? "pt_load" : undefined;
  if (pageOffset === undefined && walker && search) {
    pageOffset = findDirectMap(walker);
    if (pageOffset !== undefined) pageOffsetSource = "page-tables";
  }
  const fixedPageOffset = levels === 5 ? PAGE_OFFSET_5LEVEL : PAGE_OFFSET_4LEVEL;
  if (pageOffset === undefined && kernelOffset === 0n && !walker) {
    // no KASLR and nothing to walk: the fixed base of the kernel that was built without it
    pageOffset = fixedPageOffset;
    pageOffsetSource = "default";
    notes.push("page_offset_base assumed (no KASLR, no page tables)");
  }

  let directMapSize = 2 ** maxPhysBits;
  let ramEnd = input.maxPhysAddress;
  if (ramEnd === undefined && input.loads?.length)
    ramEnd = input.loads.reduce((m, l) => Math.max(m, Number(l.paddr) + l.memsz), 0);
  if (ramEnd !== undefined && ramEnd > 0 && ramEnd < directMapSize) directMapSize = ramEnd;

  // vmalloc and vmemmap: fixed without memory randomisation, else the first mapped PUDs above
  // the direct map and above the vmalloc area
  const vmallocSize = levels === 5 ? VMALLOC_SIZE_5LEVEL : VMALLOC_SIZE_4LEVEL;
  let vmallocBase: bigint | undefined;
  let vmemmapBase: bigint | undefined;
  let regionSource: X86_64KernelFacts["regionSource"];
  if (pageOffset === fixedPageOffset) {
    vmallocBase = levels === 5 ? VMALLOC_BASE_5LEVEL : VMALLOC_BASE_4LEVEL;
    vmemmapBase = levels === 5 ? VMEMMAP_BASE_5LEVEL : VMEMMAP_BASE_4LEVEL;
    regionSource = "default";
  } else if (pageOffset !== undefined && walker && search) {
    vmallocBase = firstMappedPud(walker, pageOffset + BigInt(directMapSize), CPU_ENTRY_AREA_BASE);
    if (vmallocBase !== undefined)
      vmemmapBase = firstMappedPud(walker, vmallocBase + vmallocSize, CPU_ENTRY_AREA_BASE);
    regionSource = "page-tables";
    if (vmemmapBase === undefined) notes.push("vmalloc/vmemmap bases not found in the page tables");
  }

  const ranges: RangeSpec[] = [
    {
      id: "text",
      name: "kernel text mapping",
      start: START_KERNEL_MAP,
      end: textEnd,
      method: { kind: "linear", base: Number(physBaseSigned) },
    },
  ];
  if (pageOffset !== undefined && directMapSize > 0) {
    const end = pageOffset + BigInt(directMapSize);
    ranges.push({
      id: "direct",
      name: "direct map",
      start: pageOffset,
      end: end > END_OF_64BIT ? END_OF_64BIT : end,
      method: { kind: "linear", base: 0 },
    });
  }
  if (walker) {
    const method = { kind: "pagetable", walker } as const;
    if (vmallocBase !== undefined)
      ranges.push({
        id: "vmalloc",
        name: "vmalloc area",
        start: vmallocBase,
        end:
          vmallocBase + vmallocSize < CPU_ENTRY_AREA_BASE ? vmallocBase + vmallocSize : CPU_ENTRY_AREA_BASE,
        method,
      });
    if (vmemmapBase !== undefined) {
      // struct page of every pfn: max pfn × SIZE(page), to the next PUD
      const pages = BigInt(Math.ceil((ramEnd ?? 2 ** maxPhysBits) / (input.phys.pageSize || 4096)));
      const size = alignUp(pages * BigInt(vi.size("page") ?? 64), PUD_SIZE);
      const end = vmemmapBase + size;
      ranges.push({
        id: "vmemmap",
        name: "virtual memory map (vmemmap)",
        start: vmemmapBase,
        end: end < CPU_ENTRY_AREA_BASE ? end : CPU_ENTRY_AREA_BASE,
        method,
      });
    }
    if (textEnd < MODULES_END)
      ranges.push({ id: "modules", name: "module mapping space", start: textEnd, end: MODULES_END, method });
    ranges.push({ id: "pagetable", name: "page tables", start: 0n, end: END_OF_64BIT, method });
  }
  const facts: X86_64KernelFacts = {
    physBase,
    physBaseSource,
    kernelOffset,
    levels,
    encryptionMask,
    maxPhysBits,
    textSize,
    directMapSize,
    notes,
  };
  if (rootSymbol !== undefined) facts.rootSymbol = rootSymbol;
  if (rootVirtual !== undefined) facts.rootVirtual = rootVirtual;
  if (rootPhysical !== undefined) facts.rootPhysical = rootPhysical;
  if (pageOffset !== undefined) facts.pageOffset = pageOffset;
  if (pageOffsetSource !== undefined) facts.pageOffsetSource = pageOffsetSource;
  if (vmallocBase !== undefined) facts.vmallocBase = vmallocBase;
  if (vmemmapBase !== undefined) facts.vmemmapBase = vmemmapBase;
  if (regionSource !== undefined && vmallocBase !== undefined) facts.regionSource = regionSource;
  const space = new AddressSpace("kernel-virtual", input.phys, ranges, {
    ...(walker ? { walker } : {}),
    pointerSize: 8,
  });
  return { facts, space, ...(walker ? { walker } : {}) };
}
