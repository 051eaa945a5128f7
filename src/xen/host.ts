/**
 * A Xen host dump put together: which Xen (version), where it lives (xen_phys_start,
 * XEN_VIRT_START, direct map and PDX), and a hypervisor address space to read through. Every
 * value carries where it came from; disagreements between sources are reported, not hidden.
 * Inputs are values (decoded notes, texts): the caller opens files and decodes notes.
 */
import { latin1 } from "../bytes/cursor.js";
import type { PhysReader } from "../dump/types.js";
import { hex, KdumpkitError, rethrowMissing } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { resolveXenCrashInfoStrings, type XenCrashInfo } from "../notes/xen.js";
import { splitVa } from "../xlat/walk.js";
import {
  type PdxCompression,
  readXenU32,
  readXenU64,
  type XenAddressLayout,
  type XenArch,
  type XenHypervisor,
  type XenVirtualSpace,
  xenHypervisorSpace,
} from "./hypervisor.js";
import {
  compareXenVersion,
  DIRECTMAP_VIRT_END_BIGMEM,
  DIRECTMAP_VIRT_START,
  DIRECTMAP_VIRT_START_BIGMEM,
  versionRangeForVirtStart,
  X86_32_DIRECTMAP_VIRT_END,
  X86_32_DIRECTMAP_VIRT_START,
  type XenVersion,
  xenVirtStartFor,
  xenVirtStartFromSymbol,
} from "./layout.js";
import { Dom0P2m } from "./p2m.js";
import {
  decidePhysStart,
  physStartFromIomem,
  physStartFromPageTables,
  physStartFromVmcoreinfoAddress,
  type XenPhysStartCandidate,
  type XenPhysStartFinding,
} from "./physstart.js";
import type { SymbolTable } from "./symbols.js";

/** CRASH_INFO as src/notes decodes it. */
export type CrashInfoFacts = XenCrashInfo;

export interface XenHostInput {
  /** Machine memory. */
  mem: PhysReader;
  /** The hypervisor's architecture (default x86_64; openXenDump derives it from the notes). */
  arch?: XenArch;
  crashInfo?: CrashInfoFacts;
  /** Why CRASH_INFO could not be used (malformed note), for the listing. */
  crashInfoProblem?: string;
  /** xen_phys_start from a "Xen" 0x1000003 note. */
  physStartNote?: number;
  /** xen_phys_start given by the user (still cross-checked against the other sources). */
  physStartGiven?: number;
  /** Machine address of the VMCOREINFO_XEN note as kexec-tools' header recorded it. */
  vmcoreinfoXenAddress?: number;
  /** dom0's p2m root MFN given by the user, for dumps whose CRASH_INFO lacks it (v0). */
  p2mMfnGiven?: number;
  vmcoreinfoXen?: Vmcoreinfo;
  /** dom0's /proc/iomem text. */
  iomem?: string;
  xenSyms?: SymbolTable;
  /** Highest machine address + 1 (bounds the page-table scan). */
  maxAddress?: number;
}

export interface XenHost {
  /** x86_64, or x86_32 (Xen 3.x: not relocated, image in the direct map, PAE idle table). */
  arch: XenArch;
  version?: XenVersion & { source: string };
  /** Build strings CRASH_INFO points at (xen_changeset, xen_compiler, xen_compile_date/time). */
  build?: { changeset?: string; compiler?: string; compileDate?: string; compileTime?: string };
  /** Version range implied by XEN_VIRT_START when CRASH_INFO gives no version. */
  versionRange?: string;
  physStart: XenPhysStartFinding;
  xenVirtStart?: bigint;
  xenVirtStartSource?: string;
  pdx?: PdxCompression & { source: string };
  /**
   * The hypervisor's virtual space (engine AddressSpace over machine memory): present when
   * xen_phys_start (x86_64) and XEN_VIRT_START are known.
   */
  space?: XenVirtualSpace;
  /** The space's setup: direct-map bounds, the idle-table walker and its root. */
  hypervisor?: XenHypervisor;
  p2mFrameListListMfn?: number;
  vmcoreinfoXen?: Vmcoreinfo;
  /** Cross-checks that passed ("…: ok") and problems noticed. */
  checks: string[];
  warnings: string[];
}

/**
 * Up to `length` bytes at a machine address, stopping early at the end of what the dump holds
 * (a version string can sit just before a hole; src/notes' reader asks for 256 bytes).
 */
export function readMachineBytes(mem: PhysReader, addr: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = Math.min(length - done, 4096 - ((addr + done) % 4096));
    try {
      mem.readPhys(addr + done, n, out.subarray(done, done + n));
    } catch (e) {
      rethrowMissing(e);
      if (done === 0) throw e;
      break;
    }
    done += n;
  }
  return out.subarray(0, done);
}

function errText(e: unknown): string {
  return e instanceof KdumpkitError || e instanceof Error ? e.message : String(e);
}

export function openXenHost(input: XenHostInput): XenHost {
  const checks: string[] = [];
  const warnings: string[] = [];
  const ci = input.crashInfo;
  const vi = input.vmcoreinfoXen;
  const arch: XenArch = input.arch ?? "x86_64";
  const x32 = arch === "x86_32";
  const host: XenHost = {
    arch,
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
  // VMCOREINFO_XEN first; xen-syms stands in for dumps without it (a QEMU dump of a Xen host)
  const domainList = vi?.symbol("domain_list") ?? input.xenSyms?.get("domain_list");
  // x86_32: the image is in the direct map, no 1 GiB window to round down to
  const byHeuristic =
    domainList === undefined
      ? undefined
      : x32
        ? domainList >= X86_32_DIRECTMAP_VIRT_START && domainList < X86_32_DIRECTMAP_VIRT_END
          ? X86_32_DIRECTMAP_VIRT_START
          : undefined
        : xenVirtStartFromSymbol(domainList);
  if (x32 && domainList !== undefined && byHeuristic === undefined)
    warnings.push(`domain_list ${hex(domainList)} is outside the x86_32 direct map`);
  if (x32 && !version) {
    host.xenVirtStart = X86_32_DIRECTMAP_VIRT_START;
    host.xenVirtStartSource = "x86_32 Xen 3.x layout (direct map)";
  } else if (version) {
    host.xenVirtStart = xenVirtStartFor(version, arch);
    host.xenVirtStartSource = `Xen ${version.major}.${version.minor}${x32 ? " x86_32" : ""} layout`;
    if (byHeuristic !== undefined) {
      if (byHeuristic === host.xenVirtStart)
        checks.push("XEN_VIRT_START by version = domain_list & ~(1 GiB-1): ok");
      else {
        // a symbol of the running image beats a table of layouts (vendor builds move things)
        warnings.push(
          `XEN_VIRT_START ${hex(host.xenVirtStart)} by version, but domain_list ${hex(domainList!)} lies in the image at ${hex(byHeuristic)}: using the latter`,
        );
        host.xenVirtStart = byHeuristic;
        host.xenVirtStartSource = "domain_list & ~(1 GiB - 1) (makedumpfile heuristic)";
      }
    }
  } else if (byHeuristic !== undefined) {
    host.xenVirtStart = byHeuristic;
    host.xenVirtStartSource = `domain_list & ~(1 GiB - 1) (makedumpfile heuristic; from ${vi?.symbol("domain_list") !== undefined ? "VMCOREINFO_XEN" : "xen-syms"})`;
    const range = x32 ? undefined : versionRangeForVirtStart(byHeuristic);
    if (range) host.versionRange = range;
  }

  // --- xen_phys_start from every source ---
  const candidates: XenPhysStartCandidate[] = [];
  const unavailable: string[] = [];
  if (x32) unavailable.push("x86_32: Xen is not relocated (its image is in the direct map at 0xff000000)");
  else if (ci) {
    if (ci.version >= 2 && ci.xenPhysStart !== undefined)
      candidates.push({
        source: "crash-info",
        value: ci.xenPhysStart,
        detail: "CRASH_INFO v2 xen_phys_start",
      });
    else unavailable.push(`crash-info: CRASH_INFO v${ci.version} has no xen_phys_start (v2 needed)`);
  } else if (input.crashInfoProblem)
    unavailable.push(`crash-info: CRASH_INFO unusable (${input.crashInfoProblem})`);
  else unavailable.push("crash-info: no CRASH_INFO note");
  if (input.physStartGiven !== undefined)
    candidates.push({ source: "given", value: input.physStartGiven, detail: "given on the command line" });
  const note = input.physStartNote;
  if (note !== undefined) {
    if (note % 4096 === 0 && note < 2 ** 52)
      candidates.push({ source: "xen-note-0x1000003", value: note, detail: 'note "Xen" type 0x1000003' });
    else unavailable.push(`xen-note-0x1000003: ${hex(note)} is not a page-aligned machine address`);
  }
  if (input.vmcoreinfoXenAddress !== undefined) {
    const sym = input.xenSyms?.get("vmcoreinfo_data");
    if (sym === undefined || host.xenVirtStart === undefined)
      unavailable.push("vmcoreinfo-address: needs xen-syms (vmcoreinfo_data) and XEN_VIRT_START");
    else {
      const at = input.vmcoreinfoXenAddress;
      const r = physStartFromVmcoreinfoAddress(at, sym, host.xenVirtStart);
      if (typeof r === "string") unavailable.push(`vmcoreinfo-address: ${r}`);
      else candidates.push(r);
      // the note's own header should be there: namesz, descsz, type, "VMCOREINFO_XEN\0"
      try {
        const b = input.mem.readPhys(at, 27);
        const name = latin1(b.subarray(12, 26));
        if (name === "VMCOREINFO_XEN") checks.push(`VMCOREINFO_XEN note header found at ${hex(at)}: ok`);
        else warnings.push(`no VMCOREINFO_XEN note header at ${hex(at)} in this dump`);
      } catch (e) {
        rethrowMissing(e);
        warnings.push(`cannot read ${hex(at)} to confirm the VMCOREINFO_XEN note: ${errText(e)}`);
      }
    }
  }
  // SYMBOL(pgd_l4) is idle_pg_table (xen/arch/x86/crash.c); on x86_32 pgd_l3 is the PAE
  // idle_pg_table_l3 and pgd_l2 the non-PAE idle_pg_table
  const pgdL3 = x32 ? (vi?.symbol("pgd_l3") ?? input.xenSyms?.get("idle_pg_table_l3")) : undefined;
  const pgdL4 = x32
    ? (pgdL3 ?? vi?.symbol("pgd_l2") ?? input.xenSyms?.get("idle_pg_table"))
    : (vi?.symbol("pgd_l4") ?? input.xenSyms?.get("idle_pg_table"));
  if (x32) {
    // nothing to find: not relocated
  } else if (pgdL4 !== undefined && host.xenVirtStart !== undefined) {
    const r = physStartFromPageTables(input.mem, pgdL4, host.xenVirtStart, input.maxAddress);
    if (typeof r === "string") unavailable.push(`page-tables: ${r}`);
    else candidates.push(r);
  } else
    unavailable.push(
      "page-tables: neither VMCOREINFO_XEN's SYMBOL(pgd_l4) nor xen-syms' idle_pg_table, or XEN_VIRT_START unknown",
    );
  if (input.iomem !== undefined && !x32) {
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
  if ((x32 || host.physStart.value !== undefined) && host.xenVirtStart !== undefined) {
    const layout: XenAddressLayout = {
      arch,
      xenPhysStart: x32 ? 0 : host.physStart.value!,
      xenVirtStart: host.xenVirtStart,
      ...(pgdL4 !== undefined ? { pgdL4 } : {}),
      ...(x32 ? { pae: pgdL4 === undefined || pgdL4 === pgdL3 } : {}),
    };
    let hv = xenHypervisorSpace(input.mem, layout);
    const syms = input.xenSyms;
    if (syms && !x32) {
      // xen-syms: confirm the image mapping with Xen's own xen_phys_start variable, and read
      // the PDX compression parameters (xen/arch/x86/x86_64/mm.c, common/pdx.c)
      const var_ = syms.get("xen_phys_start");
      if (var_ !== undefined) {
        try {
          const v = Number(readXenU64(hv.space, var_));
          if (v === host.physStart.value) checks.push("xen_phys_start variable in the image: ok");
          else
            warnings.push(
              `the image's xen_phys_start variable holds ${hex(v)}, not ${hex(host.physStart.value!)}`,
            );
        } catch (e) {
          rethrowMissing(e);
          warnings.push(`cannot read the xen_phys_start variable: ${errText(e)}`);
        }
      }
      const shiftVar = syms.get("pfn_pdx_hole_shift");
      const maskVar = syms.get("ma_va_bottom_mask");
      if (shiftVar !== undefined && maskVar !== undefined) {
        try {
          const holeShift = readXenU32(hv.space, shiftVar);
          const bottomMask = readXenU64(hv.space, maskVar);
          if (holeShift < 64) {
            host.pdx = { holeShift, bottomMask, source: "xen-syms pfn_pdx_hole_shift/ma_va_bottom_mask" };
            if (holeShift > 0) {
              layout.pdx = { holeShift, bottomMask };
              hv = xenHypervisorSpace(input.mem, layout);
            }
          } else warnings.push(`pfn_pdx_hole_shift ${holeShift} is impossible; PDX compression ignored`);
        } catch (e) {
          rethrowMissing(e);
          warnings.push(`cannot read PDX parameters: ${errText(e)}`);
        }
      }
    }
    // Which direct map (normal or CONFIG_BIGMEM)? Ask the idle page table where the image's
    // own first machine page is mapped; with PDX compression off the offset is the address.
    const tables = hv.walker;
    if (tables && !x32 && !(host.pdx && host.pdx.holeShift > 0)) {
      const probe = (base: bigint): boolean => {
        const [hi, lo] = splitVa(base + BigInt(layout.xenPhysStart));
        try {
          return tables.translate(hi, lo) === layout.xenPhysStart;
        } catch (e) {
          rethrowMissing(e);
          return false;
        }
      };
      if (probe(DIRECTMAP_VIRT_START))
        checks.push(`direct map at ${hex(DIRECTMAP_VIRT_START)}: ok (idle page table)`);
      else if (probe(DIRECTMAP_VIRT_START_BIGMEM)) {
        checks.push(
          `direct map at ${hex(DIRECTMAP_VIRT_START_BIGMEM)} (CONFIG_BIGMEM), per the idle page table`,
        );
        hv = xenHypervisorSpace(input.mem, {
          ...layout,
          directMapStart: DIRECTMAP_VIRT_START_BIGMEM,
          directMapEnd: DIRECTMAP_VIRT_END_BIGMEM,
        });
      } else warnings.push("the idle page table maps xen_phys_start in neither direct map layout");
    }
    if (hv.problem && pgdL4 !== undefined) warnings.push(hv.problem);
    host.space = hv.space;
    host.hypervisor = hv;
  }

  // --- the version's extra string and build strings, through CRASH_INFO's machine addresses ---
  if (ci && version) {
    const strings = resolveXenCrashInfoStrings(ci, (addr, length) =>
      readMachineBytes(input.mem, addr, length),
    );
    if (strings.extraVersion !== undefined) version.extra = strings.extraVersion;
    else warnings.push(`cannot read xen_extra_version at ${hex(ci.extraVersionAddr)}`);
    host.version = { ...version, source: "CRASH_INFO" };
    const build: NonNullable<XenHost["build"]> = {};
    if (strings.changeset !== undefined) build.changeset = strings.changeset;
    if (strings.compiler !== undefined) build.compiler = strings.compiler;
    if (strings.compileDate !== undefined) build.compileDate = strings.compileDate;
    if (strings.compileTime !== undefined) build.compileTime = strings.compileTime;
    if (Object.keys(build).length) host.build = build;
    if (host.xenVirtStart !== undefined && compareXenVersion(version, 3, 0) < 0)
      warnings.push(`Xen ${version.major}.${version.minor} predates x86 kdump support`);
    if (x32 && compareXenVersion(version, 4, 3) >= 0)
      warnings.push(`Xen ${version.major}.${version.minor} has no x86_32 hypervisor (removed in 4.3)`);
  }

  if (input.p2mMfnGiven !== undefined) {
    host.p2mFrameListListMfn = input.p2mMfnGiven;
    const fromNote = ci?.dom0PfnToMfnFrameListList;
    if (fromNote !== undefined && fromNote !== input.p2mMfnGiven)
      warnings.push(`p2m mfn given as ${hex(input.p2mMfnGiven)}, CRASH_INFO says ${hex(fromNote)}`);
  } else if (ci?.dom0PfnToMfnFrameListList !== undefined)
    host.p2mFrameListListMfn = ci.dom0PfnToMfnFrameListList;
  return host;
}

/** dom0's p2m for a host, or a reason why there is none. */
export function dom0P2mOf(host: XenHost, mem: PhysReader): Dom0P2m | string {
  const mfn = host.p2mFrameListListMfn;
  if (mfn === undefined) return "CRASH_INFO has no dom0_pfn_to_mfn_frame_list_list (v1 or later needed)";
  if (mfn === 0) return "dom0_pfn_to_mfn_frame_list_list is 0 (dom0 never published its p2m)";
  return new Dom0P2m(mem, mfn);
}
