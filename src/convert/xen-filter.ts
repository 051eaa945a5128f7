/**
 * Filtering a Xen host dump (machine memory) as makedumpfile 1.7 does, without debug files:
 * - `-X` (exclude_xen4_user_domain): keep the hypervisor's frames and dom0's, drop the other
 *   domains' and Xen's free frames, decided from Xen's frame table (xen/frame-table.ts);
 * - `-d LEVEL`: dom0's pages classified from dom0's own struct pages (kernel/mem-map.ts), its
 *   VMCOREINFO read from its memory (System.map's vmcoreinfo_data, or found by its text at the
 *   start of a dom0 page), each dom0 pfn then mapped to its machine frame through the p2m, as
 *   makedumpfile's clear_bit_on_2nd_bitmap_for_kernel does with ptom_xen. makedumpfile needs
 *   dom0's debug vmlinux (`-x`) for this; zero pages are found on every machine frame.
 * Pages whose page_info or struct page cannot be read are kept and counted.
 */
import { latin1 } from "../bytes/cursor.js";
import type { Dump } from "../dump/index.js";
import type { Utsname } from "../dump/types.js";
import { FormatError, hex, UnsupportedError } from "../errors.js";
import {
  type ClassifyResult,
  classifyPages,
  DL_EXCLUDE_ZERO,
  EXCLUSION_NAMES,
  type ExclusionName,
  KEEP,
  type KernelMemory,
} from "../kernel/mem-map.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import {
  dom0KernelSpace,
  dom0LayoutFrom,
  dom0PageTables,
  dom0PseudoPhysical,
  dom0ScanOf,
  findDom0Vmcoreinfo,
  openDom0,
} from "../xen/dom0.js";
import { listDomains } from "../xen/domains.js";
import {
  classifyFrames,
  FRAME_KEEP,
  type FrameClassifyResult,
  frameTableInfo,
  isReadFailure,
  type PgcLayout,
  pgcLayoutFor,
  pickledDomainId,
} from "../xen/frame-table.js";
import {
  classifyFramesXen3,
  domainOffsetFor,
  pickledDomainIdV3,
  readWord,
  type XenWordMemory,
  xen3FrameInfo,
} from "../xen/frame-table-v3.js";
import { dom0P2mOf } from "../xen/host.js";
import { isXenHostDump, openXenDump, type XenDump } from "../xen/open.js";
import { type Dom0P2m, Dom0PhysReader } from "../xen/p2m.js";
import type { SymbolTable } from "../xen/symbols.js";
import {
  type ConversionPlan,
  type ExternalFilterResult,
  OUT_DUMP,
  OUT_HOLE,
  planConversion,
} from "./plan.js";

/** Reason byte for a frame dropped by -X (beyond mem-map.ts' EXCLUDED_* codes). */
export const EXCLUDED_XEN_DOMAIN = 8;

/** The labels of `stats.other` for -X's exclusions. */
export const XEN_OTHER_DOMAIN_LABEL = "Xen domU pages (-X)";
export const XEN_FREE_LABEL = "Xen free pages (-X)";

export interface XenFilterOptions {
  dumpLevel: number;
  /** makedumpfile -X: keep only the hypervisor's and dom0's frames. */
  excludeDomains?: boolean;
  /** dom0's System.map (vmcoreinfo_data, vmcoreinfo_size, max_pfn). */
  systemMap?: SymbolTable;
  /** xen-syms, for dumps without VMCOREINFO_XEN. */
  xenSyms?: SymbolTable;
  /** count_info's layout, instead of the one of the dump's Xen version (tests, odd builds). */
  pgcLayout?: PgcLayout;
  /** Xen 3.x: makedumpfile's Xen heap [0, xenheap_phys_end) instead of Xen's own start. */
  heapFromZero?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** What the Xen filter found, for reports and tests. */
export interface XenFilterFacts {
  frames?: {
    otherDomain: number;
    free: number;
    unreadable: number;
    layout: string;
    dom0Owner: number;
    /** FRAME_* per machine frame. */
    reason: Uint8Array;
  };
  /** dom0's init_uts_ns (the kdump header's utsname, as makedumpfile -x writes it). */
  utsname?: Utsname;
  dom0?: {
    vmcoreinfoFrom: string;
    osrelease: string | undefined;
    maxPfn: number;
    /** dom0 pfns with a machine frame in the dump (classified). */
    mapped: number;
  };
}

export type XenConversionPlan = ConversionPlan & { xen: XenFilterFacts };

/** dom0's kernel as the filter needs it. */
export interface Dom0Kernel {
  /** dom0 kernel virtual → machine addresses (linear maps through the p2m, then page tables). */
  kernel: KernelMemory;
  info: Vmcoreinfo;
  p2m: Dom0P2m;
  vmcoreinfoFrom: string;
  /** Highest dom0 pfn + 1 (max_pfn, else the p2m's extent). */
  maxPfn: number;
}

const PAGE = 4096;

/** dom0 pfns allowed past the machine's last frame: 4 GiB of 1:1 and ballooned holes. */
const DOM0_PFN_SLACK = 1 << 20;

/** Open dom0's kernel memory and VMCOREINFO from a Xen host dump. */
export function openDom0Kernel(dump: Dump, xen: XenDump, systemMap?: SymbolTable): Dom0Kernel {
  const p2m = dom0P2mOf(xen, dump);
  if (typeof p2m === "string") throw new FormatError(`dom0: ${p2m}`);
  const scan = p2m.scan();
  const phys = new Dom0PhysReader(dump, p2m);
  let info: Vmcoreinfo;
  let from: string;
  if (systemMap) {
    const view = openDom0(dump, p2m, systemMap);
    if (!view.vmcoreinfo) throw new FormatError(`dom0: ${view.problems.join("; ")}`);
    info = view.vmcoreinfo.info;
    from = `vmcoreinfo_data (System.map) at ${hex(view.vmcoreinfo.address)}`;
  } else {
    const sc = dom0ScanOf(dump);
    const found = findDom0Vmcoreinfo(dump, p2m, sc.machineFrames, sc.machineHas);
    info = found.info;
    from = `found in dom0 memory at pfn ${hex(found.pfn)}`;
  }
  // struct pages live in vmemmap: dom0's own page tables are needed (they hold machine frames)
  const layout = dom0LayoutFrom(info, phys, systemMap);
  const pgd = info.symbol("init_top_pgt") ?? info.symbol("swapper_pg_dir") ?? systemMap?.get("init_top_pgt");
  if (pgd === undefined) throw new UnsupportedError("dom0's VMCOREINFO names no top page table");
  const pgdPhys = dom0PseudoPhysical(layout, pgd);
  if (pgdPhys === undefined)
    throw new UnsupportedError(`dom0's top page table ${hex(pgd)} lies outside its linear maps`);
  const kernel = dom0KernelSpace(phys, layout, dom0PageTables(dump, p2m, pgdPhys));
  // makedumpfile get_dom0_mapnr: max_pfn from the kernel, else the p2m's extent
  let maxPfn = scan.highestPfn + 1;
  const maxPfnVar = systemMap?.get("max_pfn");
  if (maxPfnVar !== undefined) {
    try {
      const b = kernel.read(maxPfnVar, 8);
      const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
      if (v > 0n && v <= BigInt(p2m.maxPfn)) maxPfn = Number(v);
    } catch (e) {
      if (!isReadFailure(e)) throw e;
    }
  }
  // dom0's pseudo-physical space follows the machine's memory map (and 1:1 holes below 4 GiB):
  // a p2m reaching far past it is corrupt, and dom0FrameMap allocates a slot per pfn
  const limit = Math.ceil(dump.maxAddress / PAGE) + DOM0_PFN_SLACK;
  if (maxPfn > limit)
    throw new FormatError(
      `dom0's p2m reaches pfn ${hex(maxPfn - 1)}, past the machine's memory (${hex(limit)} frames with 4 GiB of holes): corrupt; give dom0's System.map and max_pfn`,
    );
  return { kernel, info, p2m, vmcoreinfoFrom: from, maxPfn };
}

/**
 * dom0's struct new_utsname at SYMBOL(init_uts_ns) + OFFSET(uts_namespace.name): six 65-byte
 * NUL-terminated strings (include/uapi/linux/utsname.h). makedumpfile -x copies the same into
 * the kdump header; libkdumpfile reads a kdump file's Xen notes only when that utsname is sane
 * (release and version set, sysname "Linux"), so a header without it hides the Xen host.
 * Returns a reason when it cannot be read or does not look like one.
 */
export function dom0Utsname(d0: Pick<Dom0Kernel, "kernel" | "info">): Utsname | string {
  const base = d0.info.symbol("init_uts_ns");
  if (base === undefined) return "no SYMBOL(init_uts_ns) in dom0's VMCOREINFO";
  const at = base + BigInt(d0.info.offset("uts_namespace.name") ?? 0);
  let b: Uint8Array;
  try {
    b = d0.kernel.read(at, 6 * 65);
  } catch (e) {
    if (!isReadFailure(e)) throw e;
    return `cannot read init_uts_ns at ${hex(at)}: ${(e as Error).message}`;
  }
  const f: string[] = [];
  for (let i = 0; i < 6; i++) {
    const field = b.subarray(i * 65, (i + 1) * 65);
    const end = field.indexOf(0);
    if (end < 0) return `init_uts_ns at ${hex(at)}: field ${i} is not NUL-terminated`;
    f.push(latin1(field.subarray(0, end)));
  }
  const [sysname, nodename, release, version, machine, domainname] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (sysname !== "Linux" || !release || (d0.info.osrelease && release !== d0.info.osrelease))
    return `init_uts_ns at ${hex(at)} holds sysname "${sysname}", release "${release}"`;
  return { sysname, nodename, release, version, machine, domainname };
}

/**
 * dom0 pfn → machine frame for every pfn below `maxPfn` whose frame the dump holds (−1 else).
 * Identity (1:1 I/O) and foreign entries are not dom0's RAM: −1 too.
 */
export function dom0FrameMap(
  p2m: Dom0P2m,
  maxPfn: number,
  machineHas: (mfn: number) => boolean,
): Float64Array {
  const out = new Float64Array(maxPfn).fill(-1);
  for (let pfn = 0; pfn < maxPfn; pfn++) {
    try {
      const e = p2m.lookup(pfn);
      if (!e.identity && !e.foreign && machineHas(e.mfn)) out[pfn] = e.mfn;
    } catch (e) {
      if (!isReadFailure(e)) throw e;
    }
  }
  return out;
}

function emptyCounts(): Record<ExclusionName, number> {
  return Object.fromEntries(EXCLUSION_NAMES.map((n) => [n, 0])) as Record<ExclusionName, number>;
}

/** PDX compression of the host as a pfn → pdx function (Xen pfn_to_pdx), or undefined. */
function pfnToPdxOf(xen: XenDump): ((pfn: number) => number) | undefined {
  const pdx = xen.pdx;
  if (!pdx || pdx.holeShift === 0) return undefined;
  const bottom = pdx.bottomMask >> 12n;
  const shift = BigInt(pdx.holeShift);
  return (pfn: number) => {
    const p = BigInt(pfn);
    return Number((p & bottom) | ((p >> shift) & ~bottom));
  };
}

/** Which -X rules a host gets: Xen 3.x's (alloc_bitmap, heap range) or 4.x's (page states). */
function xenGeneration(xen: XenDump): 3 | 4 {
  if (xen.version) return xen.version.major < 4 ? 3 : 4;
  // no CRASH_INFO: makedumpfile takes Xen 3's rules; the layout tells x86_64 3.x apart
  if (xen.arch === "x86_32" || xen.versionRange === "3.x") return 3;
  throw new UnsupportedError("-X needs the Xen version (CRASH_INFO)");
}

/** -X's frame classification, by Xen generation (xen/frame-table.ts, xen/frame-table-v3.ts). */
export function classifyXenFrames(
  xen: XenDump,
  opts: Pick<XenFilterOptions, "xenSyms" | "pgcLayout" | "heapFromZero">,
  maxPfn: number,
  exists: (pfn: number) => boolean,
): FrameClassifyResult & { layout: string; dom0Owner: number; warnings: string[] } {
  const space = xen.space;
  const directMapStart = xen.hypervisor?.directMapStart;
  const vi = xen.vmcoreinfoXen;
  if (!space || directMapStart === undefined)
    throw new FormatError("-X: the hypervisor's address space is unknown (xen_phys_start?)");
  if (!vi) throw new UnsupportedError("-X needs VMCOREINFO_XEN in the dump (its frame table and domains)");
  const warnings: string[] = [];
  const list = listDomains(space, vi);
  if (list.stopped) warnings.push(`Xen domain list: ${list.stopped}`);
  const dom0 = list.domains.find((d) => d.domainId === 0);
  if (xenGeneration(xen) === 3) {
    const version = xen.version ?? { major: 3, minor: 0 };
    const ft = xen3FrameInfo(space, {
      arch: xen.arch,
      version,
      vmcoreinfo: vi,
      ...(opts.xenSyms ? { xenSyms: opts.xenSyms } : {}),
      ...(xen.physStart.value !== undefined ? { xenPhysStart: xen.physStart.value } : {}),
      ...(opts.heapFromZero ? { heapFromZero: true } : {}),
    });
    const owner = dom0 ? pickledDomainIdV3(xen.arch, version, dom0.address, directMapStart) : undefined;
    if (owner === undefined) throw new FormatError("-X: dom0 is not in Xen's domain list");
    const fr = classifyFramesXen3(space, ft, { maxPfn, exists, keepOwners: new Set([owner]) });
    warnings.push(...ft.notes.map((n) => `Xen 3.x -X: ${n}`));
    return { ...fr, layout: `Xen 3.x ${xen.arch} (alloc_bitmap, Xen heap)`, dom0Owner: owner, warnings };
  }
  const x86_32 = xen.arch === "x86_32";
  // validated before anything is read: x86_32 stops at 4.2
  const layout = opts.pgcLayout ?? pgcLayoutFor(xen.version!, xen.arch);
  const ft = frameTableInfo(space, vi, xen.arch);
  // Xen 4.0 still published offsetof(page_info, u) as the _domain offset (fixed in 4.1)
  const dom = domainOffsetFor(xen.version!, ft.offCountInfo, ft.offDomain, x86_32 ? 4 : 8);
  if (dom.corrected) {
    warnings.push(`OFFSET(page_info._domain) ${ft.offDomain} is offsetof(u): _domain read at ${dom.offset}`);
    ft.offDomain = dom.offset;
  }
  // x86_32: virt_to_pdx(d) is the frame of the struct domain in the direct map (as from 3.4)
  const owner = !dom0
    ? undefined
    : x86_32
      ? pickledDomainIdV3("x86_32", xen.version!, dom0.address, directMapStart)
      : pickledDomainId(dom0.address, directMapStart);
  if (owner === undefined) throw new FormatError("-X: dom0 is not in Xen's domain list");
  const heapEndPfn = x86_32 ? xenHeapEndPfn(space, vi, opts.xenSyms, warnings) : undefined;
  const pfnToPdx = x86_32 ? undefined : pfnToPdxOf(xen);
  const fr = classifyFrames(space, ft, {
    maxPfn,
    exists,
    keepOwners: new Set([owner]),
    layout,
    ...(pfnToPdx ? { pfnToPdx } : {}),
    ...(heapEndPfn !== undefined ? { heapEndPfn } : {}),
  });
  return { ...fr, layout: layout.name, dom0Owner: owner, warnings };
}

/**
 * x86_32 Xen 4.0–4.2's heap, [0, xenheap_phys_end) (VMCOREINFO_XEN or --xen-syms); undefined,
 * with a warning, when neither has it: the heap is then only what carries PGC_xen_heap
 * (makedumpfile's rule, which on x86_32 drops the heap's pages shared with a domU).
 */
function xenHeapEndPfn(
  space: XenWordMemory,
  vi: Vmcoreinfo,
  syms: SymbolTable | undefined,
  warnings: string[],
): number | undefined {
  const sym = vi.symbol("xenheap_phys_end") ?? syms?.get("xenheap_phys_end");
  if (sym === undefined) {
    warnings.push(
      "no SYMBOL(xenheap_phys_end) (VMCOREINFO_XEN or --xen-syms): the Xen heap is the frames with PGC_xen_heap",
    );
    return undefined;
  }
  const end = readWord(space, sym, "xenheap_phys_end");
  if (end >= 1n << 36n)
    throw new UnsupportedError(`xenheap_phys_end ${hex(end)} is not an x86_32 PAE machine address`);
  return Number(end >> 12n);
}

/**
 * The filter for planConversion on a Xen host dump (see the file comment). Throws typed errors
 * when what the options ask for cannot be decided (no VMCOREINFO_XEN for -X, no dom0 VMCOREINFO
 * for -d 2–31); at -d 0/1 dom0 is classified only for hwpoison/offline pages, when it can be.
 */
export function xenFilter(
  dump: Dump,
  opts: XenFilterOptions,
  facts: XenFilterFacts,
): (ctx: { state: Uint8Array; maxPfn: number; dumpLevel: number }) => ExternalFilterResult {
  return ({ state, maxPfn, dumpLevel }) => {
    const xen = openXenDump(dump, opts.xenSyms ? { xenSyms: opts.xenSyms } : {});
    const reason = new Uint8Array(maxPfn);
    const result: ExternalFilterResult = {
      reason,
      counts: emptyCounts(),
      unreadable: 0,
      noMemMap: 0,
      layout: undefined,
      freeMethod: "none",
      warnings: [...xen.warnings.map((w) => `Xen: ${w}`)],
    };
    if (opts.excludeDomains) {
      const fr = classifyXenFrames(xen, opts, maxPfn, (p) => state[p] === OUT_DUMP);
      for (let p = 0; p < maxPfn; p++) if (fr.reason[p] !== FRAME_KEEP) reason[p] = EXCLUDED_XEN_DOMAIN;
      result.unreadable += fr.unreadable;
      result.other = { [XEN_OTHER_DOMAIN_LABEL]: fr.otherDomain, [XEN_FREE_LABEL]: fr.free };
      result.warnings.push(...fr.warnings);
      facts.frames = {
        otherDomain: fr.otherDomain,
        free: fr.free,
        unreadable: fr.unreadable,
        layout: fr.layout,
        dom0Owner: fr.dom0Owner,
        reason: fr.reason,
      };
      if (fr.unreadable) result.warnings.push(`${fr.unreadable} frames' page_info could not be read: kept`);
    }
    let d0: Dom0Kernel;
    try {
      d0 = openDom0Kernel(dump, xen, opts.systemMap);
    } catch (e) {
      if (!isReadFailure(e) || (dumpLevel & ~DL_EXCLUDE_ZERO) !== 0) throw e;
      // -d 0/1: only hwpoison/offline pages (and the header's utsname) come from dom0
      result.warnings.push(
        `dom0 not read (${dumpLevel ? "hwpoison/offline pages not looked for, " : ""}no utsname for the header): ${(e as Error).message}`,
      );
      return result;
    }
    const uts = dom0Utsname(d0);
    if (typeof uts === "string") result.warnings.push(`dom0's utsname: ${uts}`);
    else facts.utsname = uts;
    if (dumpLevel === 0) return result;
    const mfnOf = dom0FrameMap(d0.p2m, d0.maxPfn, (m) => m < maxPfn && state[m] !== OUT_HOLE);
    // dom0's pfns backed by a frame the dump holds: the ones classified
    const inDump = new Uint8Array(d0.maxPfn);
    let mapped = 0;
    for (let p = 0; p < d0.maxPfn; p++)
      if (mfnOf[p]! >= 0) {
        inDump[p] = 1;
        mapped++;
      }
    const r: ClassifyResult = classifyPages(d0.kernel, d0.info, {
      dumpLevel,
      maxPfn: d0.maxPfn,
      pageSize: PAGE,
      wordSize: 8,
      littleEndian: true,
      arch: "x86_64",
      inDump,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    for (let p = 0; p < d0.maxPfn; p++) {
      const why = r.reason[p]!;
      if (why === KEEP) continue;
      const m = mfnOf[p]!;
      if (m >= 0 && reason[m] === KEEP) reason[m] = why;
    }
    Object.assign(result.counts, r.counts);
    result.unreadable += r.unreadable;
    result.noMemMap += r.noMemMap;
    result.layout = r.layout;
    result.freeMethod = r.freeMethod;
    result.warnings.push(...r.warnings.map((w) => `dom0: ${w}`));
    facts.dom0 = {
      vmcoreinfoFrom: d0.vmcoreinfoFrom,
      osrelease: d0.info.osrelease,
      maxPfn: d0.maxPfn,
      mapped,
    };
    return result;
  };
}

/** planConversion for a Xen host dump: -X and dom0 filtering (see xenFilter). */
export function planXenConversion(dump: Dump, opts: XenFilterOptions): XenConversionPlan {
  if (!isXenHostDump(dump))
    throw new UnsupportedError("-X applies to Xen host dumps (CRASH_INFO note or VMCOREINFO_XEN)");
  const facts: XenFilterFacts = {};
  const plan = planConversion(dump, {
    dumpLevel: opts.dumpLevel,
    filter: xenFilter(dump, opts, facts),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  return { ...plan, xen: facts, ...(facts.utsname ? { utsname: facts.utsname } : {}) };
}
