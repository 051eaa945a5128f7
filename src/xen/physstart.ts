/**
 * xen_phys_start: the machine address Xen relocated its image to. Each source is kept with
 * its name so that `xen info` can say where the value came from, and cross-checked:
 * - "crash-info": CRASH_INFO v2 (x86: 8 common words + xen_phys_start + p2m list list);
 * - "xen-note-0x1000003": a "Xen" note of type 0x1000003 holding one word (the Plan-B note
 *   issue 6 describes for hypervisors whose CRASH_INFO lacks the field; none in our corpus);
 * - "iomem": dom0's /proc/iomem "Hypervisor code and data" start − the image offset of the
 *   version (0 for 3.2–3.3, 1 MiB for 3.4–4.8, 2 MiB from 4.9: layout.ts xenIomemOffset) —
 *   only classic xenlinux dom0 kernels publish that resource;
 * - "page-tables": from VMCOREINFO_XEN alone: XEN_VIRT_START by makedumpfile's heuristic
 *   (domain_list & ~(1 GiB − 1)), then the 2 MiB-aligned machine address below 4 GiB at
 *   which the idle page table (SYMBOL(pgd_l4)) maps its own virtual address onto itself.
 */
import type { PhysReader } from "../dump/types.js";
import { hex, rethrowMissing } from "../errors.js";
import { findResources, type IomemResource, parseIomem } from "../memmap/iomem.js";
import { splitVa, X86_64PageTables } from "../xlat/x86_64.js";
import {
  type XenVersion,
  xenIomemOffset,
  xenIomemOffsetRange,
  xenPhysStartFromIomemStart,
} from "./layout.js";

export type XenPhysStartSource =
  | "given"
  | "crash-info"
  | "xen-note-0x1000003"
  | "vmcoreinfo-address"
  | "iomem"
  | "page-tables";

export interface XenPhysStartCandidate {
  source: XenPhysStartSource;
  value: number;
  /** How it was derived, for the listing. */
  detail: string;
}

export interface XenPhysStartFinding {
  /** The value used (absent when no source gave one). */
  value?: number;
  source?: XenPhysStartSource;
  candidates: XenPhysStartCandidate[];
  /** Sources that gave a different value than the one used. */
  disagreements: string[];
  /** Sources tried that gave nothing, with why. */
  unavailable: string[];
}

/**
 * Preference when sources disagree: a value the user gave (crash/makedumpfile's
 * --xen_phys_start), then what Xen wrote about itself, then what memory shows.
 */
const PRIORITY: XenPhysStartSource[] = [
  "given",
  "crash-info",
  "xen-note-0x1000003",
  "vmcoreinfo-address",
  "page-tables",
  "iomem",
];

export function decidePhysStart(
  candidates: XenPhysStartCandidate[],
  unavailable: string[] = [],
): XenPhysStartFinding {
  const sorted = [...candidates].sort((a, b) => PRIORITY.indexOf(a.source) - PRIORITY.indexOf(b.source));
  const chosen = sorted[0];
  const finding: XenPhysStartFinding = { candidates: sorted, disagreements: [], unavailable };
  if (!chosen) return finding;
  finding.value = chosen.value;
  finding.source = chosen.source;
  for (const c of sorted.slice(1)) {
    if (c.value !== chosen.value)
      finding.disagreements.push(
        `${c.source} says ${hex(c.value)}, ${chosen.source} says ${hex(chosen.value)}`,
      );
  }
  return finding;
}

/**
 * From /proc/iomem text. With the version known, one candidate; without it both offsets are
 * possible and both are returned (the cross-check picks the one another source confirms).
 */
export function physStartFromIomem(text: string, version?: XenVersion): XenPhysStartCandidate[] | string {
  let res: IomemResource | undefined;
  try {
    // Xen's spelling only: Hyper-V's "Hypervisor Code and Data" is another hypervisor
    res = findResources(parseIomem(text), "Hypervisor code and data")[0];
  } catch (e) {
    rethrowMissing(e);
    return `iomem unreadable: ${(e as Error).message}`;
  }
  if (!res) return 'no "Hypervisor code and data" resource in iomem (pvops dom0 kernels do not publish one)';
  const start = res.start;
  const at = `iomem "Hypervisor code and data" at ${hex(start)} (line ${res.line})`;
  const candidate = (v: { major: number; minor: number }, label: string): XenPhysStartCandidate | string => {
    const r = xenPhysStartFromIomemStart(start, v);
    if (typeof r === "string") return r;
    const off = start - r;
    return { source: "iomem", value: r, detail: `${at} − ${off ? `${off >> 20} MiB` : "0"} (${label})` };
  };
  if (version) {
    const c = candidate(version, `Xen ${version.major}.${version.minor}`);
    return typeof c === "string" ? c : [c];
  }
  // newest layout first; the cross-check keeps the one another source confirms
  const out: XenPhysStartCandidate[] = [];
  for (const v of [
    { major: 4, minor: 9 },
    { major: 3, minor: 4 },
    { major: 3, minor: 2 },
  ]) {
    const c = candidate(v, xenIomemOffsetRange(xenIomemOffset(v)));
    if (typeof c !== "string") out.push(c);
  }
  return out.length ? out : `${at} lies below every Xen image offset`;
}

/**
 * From where Xen's VMCOREINFO_XEN note lies in machine memory — the "vmcoreinfo header"
 * p_paddr kexec-tools wrote (its ELF core header, or `kexec -d` output): Xen answers the
 * KEXEC_RANGE_MA_VMCOREINFO query with __pa(vmcoreinfo_data) (common/kexec.c), a static of
 * the image whose address xen-syms gives. /proc/vmcore merges the notes and loses p_paddr,
 * so this needs the header or the kexec log from the first kernel.
 */
export function physStartFromVmcoreinfoAddress(
  noteMachineAddress: number,
  vmcoreinfoData: bigint,
  xenVirtStart: bigint,
): XenPhysStartCandidate | string {
  const off = vmcoreinfoData - xenVirtStart;
  if (off < 0n || off >= 1n << 30n)
    return `vmcoreinfo_data ${hex(vmcoreinfoData)} is not inside the image at ${hex(xenVirtStart)}`;
  const value = noteMachineAddress - Number(off);
  if (value < 0 || value % 4096 !== 0)
    return `VMCOREINFO_XEN at ${hex(noteMachineAddress)} gives ${hex(value)}, not a page-aligned address`;
  return {
    source: "vmcoreinfo-address",
    value,
    detail: `VMCOREINFO_XEN note at ${hex(noteMachineAddress)} (kexec header) − vmcoreinfo_data offset ${hex(off)}`,
  };
}

/** Bound of the scan: Xen 4.x relocates its image below 4 GiB (setup.c, l2_identmap limit). */
const SCAN_LIMIT = 0x1_0000_0000;
const SCAN_STEP = 0x20_0000;

/**
 * Find xen_phys_start from page tables alone: for each 2 MiB-aligned candidate P (highest
 * first, as Xen's relocation picks the top of usable memory), read the idle L4 table where it
 * would lie (P + pgd_l4 − XEN_VIRT_START) and accept P if walking pgd_l4's own VA through it
 * lands on that same machine address. A false match needs a page table that maps itself at
 * exactly the guessed place.
 */
export function physStartFromPageTables(
  mem: PhysReader,
  pgdL4: bigint,
  xenVirtStart: bigint,
  maxAddress = SCAN_LIMIT,
): XenPhysStartCandidate | string {
  const off = pgdL4 - xenVirtStart;
  if (off < 0n || off >= 1n << 30n)
    return `pgd_l4 ${hex(pgdL4)} is not inside the image at ${hex(xenVirtStart)}`;
  const offN = Number(off);
  if (offN % 4096 !== 0) return `pgd_l4 ${hex(pgdL4)} is not page aligned`;
  const [hi, lo] = splitVa(pgdL4);
  const limit = Math.min(maxAddress, SCAN_LIMIT);
  for (let p = Math.floor((limit - 1) / SCAN_STEP) * SCAN_STEP; p >= 0; p -= SCAN_STEP) {
    const l4 = p + offN;
    try {
      if (new X86_64PageTables(mem, { root: l4 }).translate(hi, lo) === l4)
        return {
          source: "page-tables",
          value: p,
          detail: `idle page table (pgd_l4 ${hex(pgdL4)}) maps itself at ${hex(l4)}; XEN_VIRT_START ${hex(xenVirtStart)}`,
        };
    } catch (e) {
      rethrowMissing(e);
      // not present / not in the dump: try the next candidate
    }
  }
  return `no 2 MiB-aligned address below ${hex(limit)} holds a self-mapping idle page table`;
}
