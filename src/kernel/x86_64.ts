/**
 * What an x86_64 Linux dump says about its own address space, from VMCOREINFO and (when the
 * format has them) ELF PT_LOAD headers — no debuginfo needed:
 *  - phys_base: NUMBER(phys_base) (arch/x86/kernel/crash_core_64.c, since 4.x), modulo 2^64;
 *    else from a PT_LOAD of the kernel text mapping (kexec-tools writes one);
 *  - the top page table: SYMBOL(init_top_pgt) (4.13+; VMCOREINFO exports it as swapper_pg_dir
 *    in 6.x) or SYMBOL(init_level4_pgt) before 4.13, a kernel-image address;
 *  - 4 or 5 levels: NUMBER(pgtable_l5_enabled) (4.17+);
 *  - AMD SME C-bit: NUMBER(sme_mask);
 *  - page_offset_base (randomised by KASLR, not in VMCOREINFO): p_vaddr − p_paddr of a direct-map
 *    PT_LOAD when there is one (kexec-tools' and the kernel's ELF headers), else found by walking
 *    the page tables for the lowest PUD-aligned kernel address that maps physical address 0
 *    (KASLR aligns it to PUD_SIZE: arch/x86/mm/kaslr.c, kernel_randomize_memory).
 */
import type { PhysReader } from "../dump/types.js";
import { KdumpkitError, UnsupportedError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { LinuxX86_64Space, PAGE_OFFSET_4LEVEL, START_KERNEL_MAP } from "../xlat/linux-x86_64.js";
import { X86_64PageTables } from "../xlat/x86_64.js";

/** A loadable segment of the dump (ELF PT_LOAD), for page_offset/phys_base discovery. */
export interface LoadSegment {
  vaddr: bigint;
  paddr: bigint | number;
  memsz: number;
}

/** What kernel/ needs from an opened dump: physical reads, VMCOREINFO, PT_LOADs when any. */
export interface KernelDumpInput {
  phys: PhysReader;
  vmcoreinfo: Vmcoreinfo;
  /** The dump's PT_LOAD segments (ELF formats); absent for kdump-compressed files. */
  loads?: readonly LoadSegment[];
  /** phys_base from the dump header (kdump sub-header), used only when VMCOREINFO has none. */
  headerPhysBase?: bigint;
  /**
   * One past the highest physical address of the machine (kdump max_mapnr × page size, the
   * end of the last PT_LOAD). Bounds the direct map: with KASLR the vmalloc area can start
   * less than 2^MAX_PHYSMEM_BITS above page_offset_base, so the linear method must stop at RAM.
   */
  maxPhysAddress?: number;
  /** The lowest physical address of RAM the dump describes (arm64: where the linear map starts). */
  ramStart?: number;
}

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
  pageOffset?: bigint;
  pageOffsetSource?: PageOffsetSource;
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

export interface X86_64Kernel {
  facts: X86_64KernelFacts;
  space: LinuxX86_64Space;
}

/** Work out the address space of an x86_64 Linux dump. */
export function x86_64Kernel(input: KernelDumpInput): X86_64Kernel {
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

  const levels: 4 | 5 = vi.number("pgtable_l5_enabled") === 1n ? 5 : 4;
  const encryptionMask = vi.numberU64("sme_mask") ?? 0n;
  const mpb = vi.number("MAX_PHYSMEM_BITS");
  const maxPhysBits = mpb !== undefined && mpb > 0n && mpb <= 52n ? Number(mpb) : levels === 5 ? 52 : 46;
  const kernelOffset = vi.kernelOffset ?? 0n;

  // a provisional space (text mapping only) to find the root table's physical address
  const textOnly = new LinuxX86_64Space(input.phys, { physBase, directMapSize: 0 });
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
  let pageTables: X86_64PageTables | undefined;
  let rootPhysical: number | undefined;
  if (rootVirtual !== undefined && isTextVa(rootVirtual)) {
    try {
      rootPhysical = textOnly.translate(rootVirtual);
      pageTables = new X86_64PageTables(input.phys, { root: rootPhysical, levels, encryptionMask });
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      notes.push(`page-table root ${rootSymbol}: ${e.message}`);
    }
  } else notes.push("no page-table root (SYMBOL(init_top_pgt)/swapper_pg_dir) in VMCOREINFO");

  let pageOffset = input.loads ? pageOffsetFromLoads(input.loads) : undefined;
  let pageOffsetSource: PageOffsetSource | undefined = pageOffset !== undefined ? "pt_load" : undefined;
  if (pageOffset === undefined && pageTables) {
    pageOffset = findDirectMap(pageTables);
    if (pageOffset !== undefined) pageOffsetSource = "page-tables";
  }
  if (pageOffset === undefined && kernelOffset === 0n && !pageTables) {
    // no KASLR and nothing to walk: the fixed base of the kernel that was built without it
    pageOffset = levels === 5 ? 0xff11000000000000n : PAGE_OFFSET_4LEVEL;
    pageOffsetSource = "default";
    notes.push("page_offset_base assumed (no KASLR, no page tables)");
  }

  let directMapSize = 2 ** maxPhysBits;
  let ramEnd = input.maxPhysAddress;
  if (ramEnd === undefined && input.loads?.length)
    ramEnd = input.loads.reduce((m, l) => Math.max(m, Number(l.paddr) + l.memsz), 0);
  if (ramEnd !== undefined && ramEnd > 0 && ramEnd < directMapSize) directMapSize = ramEnd;
  // NUMBER(KERNEL_IMAGE_SIZE) (4.x+): the text mapping's extent; modules start right after it
  const kis = vi.number("KERNEL_IMAGE_SIZE");
  const textSize = kis !== undefined && kis > 0n && kis <= 0x80000000n ? Number(kis) : undefined;
  const space = new LinuxX86_64Space(input.phys, {
    physBase,
    ...(textSize !== undefined ? { textSize } : {}),
    ...(pageOffset !== undefined ? { pageOffset } : {}),
    directMapSize,
    ...(pageTables ? { pageTables } : {}),
  });
  const facts: X86_64KernelFacts = {
    physBase,
    physBaseSource,
    kernelOffset,
    levels,
    encryptionMask,
    maxPhysBits,
    notes,
  };
  if (rootSymbol !== undefined) facts.rootSymbol = rootSymbol;
  if (rootVirtual !== undefined) facts.rootVirtual = rootVirtual;
  if (rootPhysical !== undefined) facts.rootPhysical = rootPhysical;
  if (pageOffset !== undefined) facts.pageOffset = pageOffset;
  if (pageOffsetSource !== undefined) facts.pageOffsetSource = pageOffsetSource;
  return { facts, space };
}

/** Throw a clear error for dumps of other architectures (kernel/ knows x86_64 only so far). */
export function requireX86_64(arch: string | undefined): void {
  if (arch !== undefined && arch !== "x86_64")
    throw new UnsupportedError(`kernel virtual addresses on ${arch} (x86_64 only so far)`);
}
