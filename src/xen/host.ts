/**
 * A Xen host dump put together: which Xen (version), where it lives (xen_phys_start,
 * XEN_VIRT_START, direct map and PDX), and a hypervisor address space to read through. Every
 * value carries where it came from; disagreements between sources are reported, not hidden.
 * Inputs are values (decoded notes, texts): the caller opens files and decodes notes.
 */
import type { PhysReader } from "../dump/types.js";
import { hex, KdumpkitError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { splitVa } from "../xlat/x86_64.js";
import { type PdxCompression, XenVirtualSpace } from "./hypervisor.js";
import {
  compareXenVersion,
  DIRECTMAP_VIRT_END_BIGMEM,
  DIRECTMAP_VIRT_START,
  DIRECTMAP_VIRT_START_BIGMEM,
  versionRangeForVirtStart,
  type XenVersion,
  xenVirtStartForVersion,
  xenVirtStartFromSymbol,
} from "./layout.js";
import { Dom0P2m } from "./p2m.js";
import {
  decidePhysStart,
  physStartFromIomem,
  physStartFromPageTables,
  type XenPhysStartCandidate,
  type XenPhysStartFinding,
} from "./physstart.js";
import type { SymbolTable } from "./symbols.js";

/** The CRASH_INFO fields used here (field names of src/notes/xen.ts XenCrashInfo). */
export interface CrashInfoFacts {
  version: 0 | 1 | 2;
  majorVersion: number;
  minorVersion: number;
  extraVersionAddr: number;
  changesetAddr?: number;
  compilerAddr?: number;
  compileDateAddr?: number;
  compileTimeAddr?: number;
  xenPhysStart?: number;
  dom0PfnToMfnFrameListList?: number;
}

export interface XenHostInput {
  /** Machine memory. */
  mem: PhysReader;
  crashInfo?: CrashInfoFacts;
  /** Why CRASH_INFO could not be used (malformed note), for the listing. */
  crashInfoProblem?: string;
  /** xen_phys_start from a "Xen" 0x1000003 note. */
  physStartNote?: number;
  vmcoreinfoXen?: Vmcoreinfo;
  /** dom0's /proc/iomem text. */
  iomem?: string;
  xenSyms?: SymbolTable;
  /** Highest machine address + 1 (bounds the page-table scan). */
  maxAddress?: number;
}

export interface XenHost {
  version?: XenVersion & { source: string };
  /** Build strings CRASH_INFO points at (xen_changeset, xen_compiler, xen_compile_date/time). */
  build?: { changeset?: string; compiler?: string; compileDate?: string; compileTime?: string };
  /** Version range implied by XEN_VIRT_START when CRASH_INFO gives no version. */
  versionRange?: string;
  physStart: XenPhysStartFinding;
  xenVirtStart?: bigint;
  xenVirtStartSource?: string;
  pdx?: PdxCompression & { source: string };
  /** Present when xen_phys_start and XEN_VIRT_START are known. */
  space?: XenVirtualSpace;
  p2mFrameListListMfn?: number;
  vmcoreinfoXen?: Vmcoreinfo;
  /** Cross-checks that passed ("…: ok") and problems noticed. */
  checks: string[];
  warnings: string[];
}

const MAX_VERSION_STRING = 64;

/** A NUL-terminated string at a machine address (CRASH_INFO's version strings). */
export function readMachineString(mem: PhysReader, addr: number, max = MAX_VERSION_STRING): string {
  const bytes = new Uint8Array(max);
  // read up to the end of the page first, then further only if needed
  const first = Math.min(max, 4096 - (addr % 4096));
  mem.readPhys(addr, first, bytes.subarray(0, first));
  let end = bytes.subarray(0, first).indexOf(0);
  if (end < 0 && first < max) {
    mem.readPhys(addr + first, max - first, bytes.subarray(first));
    end = bytes.indexOf(0);
  }
  return new TextDecoder("latin1").decode(bytes.subarray(0, end < 0 ? max : end));
}

function errText(e: unknown): string {
  return e instanceof KdumpkitError || e instanceof Error ? e.message : String(e);
}

export function openXenHost(input: XenHostInput): XenHost {
  const checks: string[] = [];
  const warnings: string[] = [];
  const ci = input.crashInfo;
  const vi = input.vmcoreinfoXen;
  const host: XenHost = {
    physStart: { candidates: [], disagreements: [], unavailable: [] },
    checks,
    warnings,
  };
  if (vi) host.vmcoreinfoXen = vi;
  if (input.crashInfoProblem) warnings.push(`CRASH_INFO: ${input.crashInfoProblem}`);

  // --- version (numbers now; the extra string once an address space is known) ---
  let version: XenVersion | undefined;
  if (ci) version = { major: ci.majorVersion, minor: ci.minorVersion };

  // --- XEN_VIRT_START: by version, cross-checked with makedumpfile's domain_list heuristic ---
  const domainList = vi?.symbol("domain_list");
  const byHeuristic = domainList !== undefined ? xenVirtStartFromSymbol(domainList) : undefined;
  if (version) {
    host.xenVirtStart = xenVirtStartForVersion(version);
    host.xenVirtStartSource = `Xen ${version.major}.${version.minor} layout`;
    if (byHeuristic !== undefined) {
      if (byHeuristic === host.xenVirtStart)
        checks.push("XEN_VIRT_START by version = domain_list & ~(1 GiB-1): ok");
      else
        warnings.push(
          `XEN_VIRT_START ${hex(host.xenVirtStart)} by version, but domain_list ${hex(domainList!)} suggests ${hex(byHeuristic)}`,
        );
    }
  } else if (byHeuristic !== undefined) {
    host.xenVirtStart = byHeuristic;
    host.xenVirtStartSource = "SYMBOL(domain_list) & ~(1 GiB - 1) (makedumpfile heuristic)";
    const range = versionRangeForVirtStart(byHeuristic);
    if (range) host.versionRange = range;
  }

  // --- xen_phys_start from every source ---
  const candidates: XenPhysStartCandidate[] = [];
  const unavailable: string[] = [];
  if (ci) {
    if (ci.version >= 2 && ci.xenPhysStart !== undefined)
      candidates.push({
        source: "crash-info",
        value: ci.xenPhysStart,
        detail: "CRASH_INFO v2 xen_phys_start",
      });
    else unavailable.push(`crash-info: CRASH_INFO v${ci.version} has no xen_phys_start (v2 needed)`);
  } else unavailable.push("crash-info: no CRASH_INFO note");
  if (input.physStartNote !== undefined)
    candidates.push({
      source: "xen-note-0x1000003",
      value: input.physStartNote,
      detail: 'note "Xen" type 0x1000003',
    });
  const pgdL4 = vi?.symbol("pgd_l4");
  if (pgdL4 !== undefined && host.xenVirtStart !== undefined) {
    const r = physStartFromPageTables(input.mem, pgdL4, host.xenVirtStart, input.maxAddress);
    if (typeof r === "string") unavailable.push(`page-tables: ${r}`);
    else candidates.push(r);
  } else unavailable.push("page-tables: VMCOREINFO_XEN lacks SYMBOL(pgd_l4) or XEN_VIRT_START is unknown");
  if (input.iomem !== undefined) {
    const r = physStartFromIomem(input.iomem, version);
    if (typeof r === "string") unavailable.push(`iomem: ${r}`);
    else if (r.length === 1) candidates.push(r[0]!);
    else {
      // version unknown: keep the reading another source confirms, else the >= 4.9 one
      const confirmed = r.find((c) => candidates.some((o) => o.value === c.value));
      candidates.push(confirmed ?? r[0]!);
    }
  }
  host.physStart = decidePhysStart(candidates, unavailable);
  for (const c of host.physStart.candidates.slice(1))
    if (c.value === host.physStart.value)
      checks.push(`xen_phys_start: ${c.source} agrees with ${host.physStart.source}`);

  // --- the address space ---
  if (host.physStart.value !== undefined && host.xenVirtStart !== undefined) {
    const layout = {
      xenPhysStart: host.physStart.value,
      xenVirtStart: host.xenVirtStart,
      ...(pgdL4 !== undefined ? { pgdL4 } : {}),
    };
    let space = new XenVirtualSpace(input.mem, layout);
    const syms = input.xenSyms;
    if (syms) {
      // xen-syms: confirm the image mapping with Xen's own xen_phys_start variable, and read
      // the PDX compression parameters (xen/arch/x86/x86_64/mm.c, common/pdx.c)
      const var_ = syms.get("xen_phys_start");
      if (var_ !== undefined) {
        try {
          const v = Number(space.readU64(var_));
          if (v === host.physStart.value) checks.push("xen_phys_start variable in the image: ok");
          else
            warnings.push(
              `the image's xen_phys_start variable holds ${hex(v)}, not ${hex(host.physStart.value)}`,
            );
        } catch (e) {
          warnings.push(`cannot read the xen_phys_start variable: ${errText(e)}`);
        }
      }
      const shiftVar = syms.get("pfn_pdx_hole_shift");
      const maskVar = syms.get("ma_va_bottom_mask");
      if (shiftVar !== undefined && maskVar !== undefined) {
        try {
          const holeShift = space.readU32(shiftVar);
          const bottomMask = space.readU64(maskVar);
          if (holeShift < 64) {
            host.pdx = { holeShift, bottomMask, source: "xen-syms pfn_pdx_hole_shift/ma_va_bottom_mask" };
            if (holeShift > 0)
              space = new XenVirtualSpace(input.mem, { ...layout, pdx: { holeShift, bottomMask } });
          } else warnings.push(`pfn_pdx_hole_shift ${holeShift} is impossible; PDX compression ignored`);
        } catch (e) {
          warnings.push(`cannot read PDX parameters: ${errText(e)}`);
        }
      }
    }
    // Which direct map (normal or CONFIG_BIGMEM)? Ask the idle page table where the image's
    // own first machine page is mapped; with PDX compression off the offset is the address.
    const tables = space.idlePageTables();
    if (tables && !(host.pdx && host.pdx.holeShift > 0)) {
      const probe = (base: bigint): boolean => {
        const [hi, lo] = splitVa(base + BigInt(layout.xenPhysStart));
        try {
          return tables.translate(hi, lo) === layout.xenPhysStart;
        } catch {
          return false;
        }
      };
      if (probe(DIRECTMAP_VIRT_START))
        checks.push(`direct map at ${hex(DIRECTMAP_VIRT_START)}: ok (idle page table)`);
      else if (probe(DIRECTMAP_VIRT_START_BIGMEM)) {
        checks.push(
          `direct map at ${hex(DIRECTMAP_VIRT_START_BIGMEM)} (CONFIG_BIGMEM), per the idle page table`,
        );
        space = new XenVirtualSpace(input.mem, {
          ...layout,
          ...(host.pdx ? { pdx: host.pdx } : {}),
          directMapStart: DIRECTMAP_VIRT_START_BIGMEM,
          directMapEnd: DIRECTMAP_VIRT_END_BIGMEM,
        });
      } else warnings.push("the idle page table maps xen_phys_start in neither direct map layout");
    }
    host.space = space;
  }

  // --- the version's extra string, through CRASH_INFO's machine address ---
  if (ci && version) {
    try {
      version.extra = readMachineString(input.mem, ci.extraVersionAddr);
    } catch (e) {
      warnings.push(`cannot read xen_extra_version at ${hex(ci.extraVersionAddr)}: ${errText(e)}`);
    }
    host.version = { ...version, source: "CRASH_INFO" };
    const build: NonNullable<XenHost["build"]> = {};
    const fields = [
      ["changeset", ci.changesetAddr],
      ["compiler", ci.compilerAddr],
      ["compileDate", ci.compileDateAddr],
      ["compileTime", ci.compileTimeAddr],
    ] as const;
    for (const [key, addr] of fields) {
      if (addr === undefined || addr === 0) continue;
      try {
        build[key] = readMachineString(input.mem, addr, 128);
      } catch (e) {
        warnings.push(
          `cannot read xen_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} at ${hex(addr)}: ${errText(e)}`,
        );
      }
    }
    if (Object.keys(build).length) host.build = build;
    if (host.xenVirtStart !== undefined && compareXenVersion(version, 3, 0) < 0)
      warnings.push(`Xen ${version.major}.${version.minor} predates x86_64 kdump support`);
  }

  if (ci?.dom0PfnToMfnFrameListList !== undefined) host.p2mFrameListListMfn = ci.dom0PfnToMfnFrameListList;
  return host;
}

/** dom0's p2m for a host, or a reason why there is none. */
export function dom0P2mOf(host: XenHost, mem: PhysReader): Dom0P2m | string {
  const mfn = host.p2mFrameListListMfn;
  if (mfn === undefined) return "CRASH_INFO has no dom0_pfn_to_mfn_frame_list_list (v1 or later needed)";
  if (mfn === 0) return "dom0_pfn_to_mfn_frame_list_list is 0 (dom0 never published its p2m)";
  return new Dom0P2m(mem, mfn);
}
