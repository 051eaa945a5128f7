/**
 * The model shared by the ELF core header builders: what goes in (values, no I/O) and what
 * comes out (program headers with the reason each exists, the bytes, an explanation).
 */
import { PT_NOTE } from "../elf/types.js";
import type { ExclusionEvent } from "../memmap/exclude.js";
import type { MemoryRange, PhysRange } from "../memmap/range.js";

export type CoreArch = "x86_64" | "i386" | "arm64";

/** A note buffer in the crashed kernel's (or Xen's) memory: crash_notes of one CPU, VMCOREINFO. */
export interface NoteRegion {
  /** Physical (machine, under Xen) address. */
  address: number;
  /** Bytes reserved for it (p_filesz = p_memsz). */
  size: number;
}

export type PhdrRole = "cpu-note" | "vmcoreinfo" | "xen-start-note" | "kernel-text" | "backup" | "ram";

export interface CorePhdr {
  role: PhdrRole;
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: number;
  filesz: number;
  memsz: number;
  align: number;
  /** CPU number for cpu-note. */
  cpu?: number;
  /** Why this header exists, for --explain. */
  why: string;
}

/**
 * A PT_NOTE as both tools write it for memory the capture kernel reads notes from: p_offset =
 * p_paddr = the note buffer's physical (machine) address, p_vaddr 0, flags 0, align 0.
 */
export function notePhdr(role: PhdrRole, address: number, size: number, why: string, cpu?: number): CorePhdr {
  const p: CorePhdr = {
    role,
    type: PT_NOTE,
    flags: 0,
    offset: address,
    vaddr: 0n,
    paddr: address,
    filesz: size,
    memsz: size,
    align: 0,
    why,
  };
  if (cpu !== undefined) p.cpu = cpu;
  return p;
}

export interface BuiltCoreHeader {
  flavour: "kexec-tools" | "kernel";
  elfClass: 32 | 64;
  littleEndian: boolean;
  machine: number;
  phdrs: CorePhdr[];
  /**
   * The buffer the tool hands over: kexec-tools sizes it for every memory range (RAM or not)
   * plus the notes and rounds up to 1 KiB (ELF_CORE_HEADER_ALIGN); the kernel rounds up to 4 KiB.
   * The rest is zero (and holds the Xen start note when asked for).
   */
  segment: Uint8Array;
  /** ELF header + program headers only: what a reader cuts at elfcorehdr= (e_phoff + e_phnum·e_phentsize). */
  header: Uint8Array;
  /** The memory list the builder started from (sorted as the tool sorts it). */
  inputRanges: MemoryRange[];
  /** Memory ranges after the exclusions, the PT_LOADs' source. */
  crashRanges: MemoryRange[];
  /** Every exclusion applied, with its effect. */
  exclusions: ExclusionEvent[];
  /** Regions excluded, for drawing (crashkernel, GART, low 1 MiB). */
  excludedRegions: (PhysRange & { reason: string })[];
  warnings: string[];
}

/** The Xen hypervisor start note of the 2008 kexec-tools "Plan B" proposal. */
export interface XenStartNoteInput {
  /** Start of "Hypervisor code and data" in dom0's /proc/iomem. */
  iomemStart: number;
  /**
   * Xen version that produced that iomem line, to turn it into xen_phys_start: Xen 3.2–3.3
   * report xen_phys_start itself, 3.4–4.8
   * report xen_phys_start + 1 MiB, Xen >= 4.9 xen_phys_start + 2 MiB (XEN_IMG_OFFSET). Leave
   * it out to write the iomem value unchanged, as the 2008 patch did (and be 1 or 2 MiB off).
   */
  xenVersion?: { major: number; minor: number };
  /** Physical address where the elfcorehdr segment will be loaded (the note lives inside it). */
  elfcorehdrAddress: number;
}
