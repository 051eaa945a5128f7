/**
 * From an opened dump to Xen facts: decode the Xen notes (src/notes), then openXenHost.
 * Works on any dump that exposes its notes (ELF /proc/vmcore, and kdump-compressed files,
 * which keep the ELF notes in their sub-header).
 */

import { archByName } from "../arch/table.js";
import type { PhysReader } from "../dump/types.js";
import type { ElfNote } from "../elf/types.js";
import { hex } from "../errors.js";
import { cpuStates } from "../notes/cpus.js";
import { type DecodedNote, decodeNote } from "../notes/index.js";
import type { NoteContext } from "../notes/types.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { XEN_ELFNOTE_CRASH_INFO } from "../notes/xen.js";
import { type CrashInfoFacts, openXenHost, type XenHost } from "./host.js";
import { readXenU32, type XenArch } from "./hypervisor.js";
import type { SymbolTable } from "./symbols.js";

/** What this module needs of a dump (src/dump Dump satisfies it). */
export interface XenDumpLike extends PhysReader {
  readonly notes: ElfNote[];
  readonly vmcoreinfoXen: Vmcoreinfo | undefined;
  readonly maxAddress: number;
  readonly wordSize: 4 | 8;
  readonly littleEndian: boolean;
  readonly arch: string | undefined;
}

export interface XenOpenOptions {
  xenSyms?: SymbolTable;
  /** dom0's /proc/iomem text (classic xenlinux dom0s list the hypervisor image there). */
  iomem?: string;
  /** Overrides, cross-checked: crash's and makedumpfile's --xen_phys_start, crash's --p2m_mfn. */
  physStart?: number;
  p2mMfn?: number;
  /** Machine address of the VMCOREINFO_XEN note from kexec-tools' header or `kexec -d`. */
  vmcoreinfoXenAddress?: number;
}

/** One physical CPU as the crash notes describe it. */
export interface XenPhysicalCpu {
  cpu: number;
  rip?: bigint;
  rsp?: bigint;
  cr3?: bigint;
  /** rip as symbol+offset (xen-syms given). */
  ripSymbol?: string;
  /** This physical CPU panicked (the one that ran kexec_crash), and how that is known. */
  panicked?: string;
  /**
   * dom0 vCPUs that ran here, from the dom0 CR3 notes find_dom0_cr3() appended to this pCPU's
   * crash notes (thread 001): vCPU number in for_each_vcpu order, and its CR3 as a frame number.
   */
  dom0Vcpus?: { vcpu: number; cr3Mfn: bigint }[];
}

export interface XenDump extends XenHost {
  cpus: XenPhysicalCpu[];
}

/** A Xen host dump: it has a CRASH_INFO note or VMCOREINFO_XEN. */
export function isXenHostDump(d: Pick<XenDumpLike, "notes" | "vmcoreinfoXen">): boolean {
  return (
    d.vmcoreinfoXen !== undefined ||
    d.notes.some((n) => n.name === "Xen" && n.type === XEN_ELFNOTE_CRASH_INFO)
  );
}

function noteContext(d: XenDumpLike): NoteContext {
  return {
    machine: archByName(d.arch)?.eMachine ?? 0,
    class: d.wordSize === 8 ? 64 : 32,
    littleEndian: d.littleEndian,
  };
}

export function openXenDump(d: XenDumpLike, opts: XenOpenOptions = {}): XenDump {
  const ctx = noteContext(d);
  const decoded: (DecodedNote | undefined)[] = d.notes.map((n) => decodeNote(n, ctx));
  let crashInfo: CrashInfoFacts | undefined;
  let crashInfoProblem: string | undefined;
  let physStartNote: number | undefined;
  for (const x of decoded) {
    if (!x) continue;
    if (x.kind === "xen-crash-info" && !crashInfo) crashInfo = x;
    else if (x.kind === "malformed" && x.expected === "xen-crash-info") crashInfoProblem = x.message;
    else if (x.kind === "xen-phys-start" && physStartNote === undefined) physStartNote = x.xenPhysStart;
  }
  // the hypervisor's word size, from CRASH_INFO (kexec-tools may wrap a 32-bit Xen in ELF64
  // headers), else the dump's machine
  const arch: XenArch =
    (crashInfo?.wordSize ?? (d.arch === "i386" || (d.arch === undefined && d.wordSize === 4) ? 4 : 8)) === 4
      ? "x86_32"
      : "x86_64";
  const host = openXenHost({
    mem: d,
    arch,
    ...(crashInfo ? { crashInfo } : {}),
    ...(crashInfoProblem ? { crashInfoProblem } : {}),
    ...(physStartNote !== undefined ? { physStartNote } : {}),
    ...(d.vmcoreinfoXen ? { vmcoreinfoXen: d.vmcoreinfoXen } : {}),
    ...(opts.iomem !== undefined ? { iomem: opts.iomem } : {}),
    ...(opts.xenSyms ? { xenSyms: opts.xenSyms } : {}),
    ...(opts.physStart !== undefined ? { physStartGiven: opts.physStart } : {}),
    ...(opts.p2mMfn !== undefined ? { p2mMfnGiven: opts.p2mMfn } : {}),
    ...(opts.vmcoreinfoXenAddress !== undefined ? { vmcoreinfoXenAddress: opts.vmcoreinfoXenAddress } : {}),
    maxAddress: d.maxAddress,
  });
  const cpus: XenPhysicalCpu[] = cpuStates(decoded).map((s) => {
    const reg = (name: string) => s.registers.find((r) => r.name === name)?.value;
    const c: XenPhysicalCpu = { cpu: s.cpu };
    const rip = reg("rip") ?? reg("eip");
    const rsp = reg("rsp") ?? reg("esp");
    const cr3 = reg("cr3");
    if (rip !== undefined) c.rip = rip;
    if (rsp !== undefined) c.rsp = rsp;
    if (cr3 !== undefined) c.cr3 = cr3;
    if (rip !== undefined && opts.xenSyms) {
      const s2 = opts.xenSyms.symbolize(rip);
      if (s2) c.ripSymbol = s2;
    }
    return c;
  });
  // dom0 CR3 notes follow the PRSTATUS of the physical CPU the vCPU ran on
  let pcpu = -1;
  let vcpu = 0;
  for (const x of decoded) {
    if (x?.kind === "prstatus") pcpu++;
    else if (x?.kind === "xen-kdump-cr3" && pcpu >= 0) {
      const c = cpus.find((k) => k.cpu === pcpu);
      if (c) c.dom0Vcpus = [...(c.dom0Vcpus ?? []), { vcpu: vcpu++, cr3Mfn: x.mfn }];
    }
  }
  // which physical CPU panicked: kexec_crash_save_cpu()'s static crashing_cpu (common/kexec.c,
  // set by cmpxchg from -1 by the first CPU to crash), else x86 crash.c's crashing_cpu
  if (host.space && opts.xenSyms) {
    for (const [name, what] of [
      ["kexec.c#crashing_cpu.1", "common/kexec.c crashing_cpu"],
      ["crashing_cpu.1", "common/kexec.c crashing_cpu"],
      ["crash.c#crashing_cpu", "arch/x86/crash.c crashing_cpu"],
      ["crashing_cpu", "crashing_cpu"],
    ] as const) {
      const va = opts.xenSyms.get(name);
      if (va === undefined) continue;
      try {
        const n = readXenU32(host.space, va);
        const c = cpus.find((k) => k.cpu === n);
        if (c) {
          c.panicked = `${what} (xen-syms) = ${n}`;
          break;
        }
      } catch {
        // unreadable: try the next source
      }
    }
  }
  return { ...host, cpus };
}

/** "name+0xoff" for an address. */
export function formatSymbolOffset(name: string, offset: bigint): string {
  return offset === 0n ? name : `${name}+${hex(offset)}`;
}
