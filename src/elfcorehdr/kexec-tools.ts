/**
 * The ELF core header `kexec -p` builds (kexec_load path), after kexec-tools 2.0.x:
 * load_crashdump_segments() in kexec/arch/i386/crashdump-x86.c (x86_64, i386, Xen dom0) and
 * kexec/arch/arm64/crashdump-arm64.c, and crash_create_elf{32,64}_headers() in
 * kexec/crashdump-elf.c. Program headers, in this order:
 *   1. one PT_NOTE per CPU at its crash_notes (p_offset = p_paddr = address, p_vaddr 0);
 *      under Xen one per PHYSICAL CPU (the hypercall's notes, machine addresses);
 *   2. a PT_NOTE for VMCOREINFO (VMCOREINFO_XEN under Xen);
 *   3. the kernel-text PT_LOAD (x86_64 and arm64; never under Xen: "Kernel not entity mapped");
 *   4. one PT_LOAD per RAM range left after excluding the crashkernel region(s) (and GART),
 *      p_vaddr = PAGE_OFFSET + paddr; on x86 the range found by get_backup_area() — the first
 *      RAM range ending at or below 0xa0000 — keeps its p_paddr but its p_offset points to the
 *      backup copy in the crashkernel area (purgatory copies it there at crash time).
 * The buffer is sized for EVERY range of the list (reserved ones too) plus the notes and
 * rounded up to 1 KiB; phdrs fill only the front.
 */
import { EM_386, EM_AARCH64, EM_X86_64, PF_R, PF_W, PF_X, PT_LOAD } from "../elf/types.js";
import { FormatError, hex } from "../errors.js";
import { type ExclusionEvent, type ExclusionMode, excludeRegion } from "../memmap/exclude.js";
import {
  checkPhysRange,
  formatRange16,
  type MemoryRange,
  type PhysRange,
  RangeType,
  sortedDisjoint,
} from "../memmap/range.js";
import { alignUp, ehdrSize, layoutCoreHeader, phdrSize } from "./encode.js";
import {
  type BuiltCoreHeader,
  type CoreArch,
  type CorePhdr,
  type NoteRegion,
  notePhdr,
  type XenStartNoteInput,
} from "./types.js";
import { xenStartNote } from "./xen-start-note.js";

/** ELF_CORE_HEADER_ALIGN in kexec-tools (kexec/crashdump.h): 1 KiB, for memmap= granularity. */
export const KEXEC_CORE_HEADER_ALIGN = 1024;
/** x86 BACKUP_SRC_START/END defaults when no low RAM range is found (crashdump-x86.h). */
const BACKUP_SRC_DEFAULT = { start: 0, end: 0x9ffff };
/** i386: X86_MAXMEM = -PAGE_OFFSET - VMALLOC_RESERVE = 0x38000000 (crashdump-x86.h). */
export const X86_LOWMEM_LIMIT = 0x38000000;
/** kexec-tools' default x86_64 PAGE_OFFSET (X86_64_PAGE_OFFSET, kernels >= 4.20, no KASLR). */
export const X86_64_DEFAULT_PAGE_OFFSET = 0xffff888000000000n;
/** i386 PAGE_OFFSET (X86_PAGE_OFFSET, 3G/1G split). */
export const X86_PAGE_OFFSET = 0xc0000000n;

export interface KexecToolsInputs {
  arch: CoreArch;
  /** ELF class; default as kexec-tools' get_core_type(): 64 on x86_64/arm64, i386 64 only if RAM ends above 4 GiB. */
  elfClass?: 32 | 64;
  littleEndian?: boolean;
  /**
   * The memory list kexec-tools starts from, BEFORE exclusion: x86 — every typed range of
   * /proc/iomem (memmap/iomem.ts kexecToolsCrashRanges); Xen — the machine memory map
   * (xc_get_machine_memory_map, `kexec -d`'s MEMORY RANGES with the IVT trim undone);
   * arm64 — the "System RAM" ranges.
   */
  memory: MemoryRange[];
  /** Crashkernel reservation(s) to cut out. */
  crashKernel: PhysRange[];
  /** The GART aperture from iomem, cut out too (x86). */
  gart?: PhysRange;
  /** crash_notes per CPU in CPU order (a missing CPU is simply absent). */
  cpuNotes: NoteRegion[];
  /**
   * CPUs kexec-tools counted (sysconf(_SC_NPROCESSORS_CONF), or Xen's physical CPUs); sizes
   * the buffer. Default: cpuNotes.length.
   */
  configuredCpus?: number;
  vmcoreinfo?: NoteRegion;
  /** Kernel text mapping: p_vaddr (_stext region aligned down to 1 MiB), p_paddr ("Kernel code"), size. */
  kernelText?: { vaddr: bigint; paddr: number; size: number };
  /** PAGE_OFFSET (page_offset_base under KASLR). */
  pageOffset: bigint;
  /** arm64 PHYS_OFFSET (phys_to_virt = p - phys_offset + page_offset). */
  physOffset?: number;
  /** x86: where add_buffer() placed the backup segment ("Created backup segment at"). */
  backupDestination?: number;
  xen?: boolean;
  xenStartNote?: XenStartNoteInput;
  /** Reproduce exclude_region()'s strict comparisons (byte-compatible); default: exact. */
  compat?: boolean;
  /** i386 lowmem limit; default X86_LOWMEM_LIMIT. PT_LOADs reaching above get p_vaddr = -1. */
  lowmemLimit?: number;
}

function machineOf(arch: CoreArch): number {
  return arch === "x86_64" ? EM_X86_64 : arch === "i386" ? EM_386 : EM_AARCH64;
}

/** get_backup_area(): the first RAM range that ends at or below 0xa0000, else 0-0x9ffff. */
export function backupSource(ranges: readonly MemoryRange[]): PhysRange & { found: boolean } {
  for (const r of ranges) {
    if (r.type !== RangeType.RAM || r.end > 0xa0000) continue;
    return { start: r.start, end: r.end, found: true };
  }
  return { ...BACKUP_SRC_DEFAULT, found: false };
}

export function buildKexecToolsHeader(inp: KexecToolsInputs): BuiltCoreHeader {
  const warnings: string[] = [];
  const x86 = inp.arch === "x86_64" || inp.arch === "i386";
  const xen = !!inp.xen;
  if (xen && !x86) throw new FormatError("Xen mode needs an x86 architecture");
  const mode: ExclusionMode = inp.compat ? (x86 ? "kexec-tools" : "kexec-tools-mem-regions") : "exact";
  for (const r of inp.memory) checkPhysRange(r, "memory range");
  // Typed ranges may nest (a "reserved" child inside System RAM), RAM may not overlap RAM:
  // it would be dumped twice under two PT_LOADs.
  sortedDisjoint(
    inp.memory.filter((r) => r.type === RangeType.RAM),
    "System RAM ranges",
  );

  // Xen: get_crash_memory_ranges_xen() qsorts the machine map by start (compare_ranges).
  let ranges: MemoryRange[] = inp.memory.map((r) => ({ ...r }));
  if (xen || inp.arch === "arm64") ranges.sort((a, b) => a.start - b.start);
  const inputRanges = ranges.map((r) => ({ ...r }));
  const lowmemLimit = inp.arch === "i386" ? (inp.lowmemLimit ?? X86_LOWMEM_LIMIT) : 0;

  const exclusions: ExclusionEvent[] = [];
  const excludedRegions: (PhysRange & { reason: string })[] = [];
  const cut = (reg: PhysRange, reason: string) => {
    const res = excludeRegion(ranges, reg.start, reg.end, mode, reason);
    ranges = res.ranges;
    exclusions.push(...res.events);
    excludedRegions.push({ start: reg.start, end: reg.end, reason });
  };
  inp.crashKernel.forEach((c, i) => {
    cut(c, inp.crashKernel.length > 1 ? `crashkernel reservation ${i + 1}` : "crashkernel reservation");
  });
  if (inp.gart) cut(inp.gart, "GART aperture");

  const cls: 32 | 64 =
    inp.elfClass ??
    (inp.arch === "i386" ? (ranges.length && ranges[ranges.length - 1]!.end > 0xffffffff ? 64 : 32) : 64);
  const le = inp.littleEndian ?? true;
  const pageOffset = inp.pageOffset;
  const backup = x86 && inp.backupDestination !== undefined ? backupSource(ranges) : undefined;
  if (backup && !backup.found)
    warnings.push(
      "no RAM range ends below 640 KiB: kexec-tools assumes a 0-0x9ffff backup source, which no PT_LOAD matches",
    );

  // phys_to_virt(): paddr + page_offset (arm64: minus PHYS_OFFSET), in the width of the
  // kexec-tools build (unsigned long: 32 bits on i386).
  const toVirt = (paddr: number): bigint => {
    let v = BigInt(paddr) - BigInt(inp.physOffset ?? 0) + pageOffset;
    v = BigInt.asUintN(inp.arch === "i386" ? 32 : 64, v);
    return v;
  };

  const phdrs: CorePhdr[] = [];
  inp.cpuNotes.forEach((n, cpu) => {
    phdrs.push(
      notePhdr(
        "cpu-note",
        n.address,
        n.size,
        xen
          ? `crash notes of physical CPU ${cpu} (Xen hypercall, machine address)`
          : `crash_notes of CPU ${cpu} (/sys/devices/system/cpu/cpu${cpu}/crash_notes)`,
        cpu,
      ),
    );
  });
  if (inp.vmcoreinfo) {
    phdrs.push(
      notePhdr(
        "vmcoreinfo",
        inp.vmcoreinfo.address,
        inp.vmcoreinfo.size,
        xen ? "VMCOREINFO_XEN (Xen's own vmcoreinfo note)" : "VMCOREINFO note (/sys/kernel/vmcoreinfo)",
      ),
    );
  }
  let startNote: { phdr: CorePhdr; bytes: Uint8Array; noteAt: number } | undefined;
  if (inp.xenStartNote) {
    // the descriptor is kexec-tools' unsigned long: 4 bytes in an i386 build
    startNote = { ...xenStartNote(inp.xenStartNote, le, warnings, inp.arch === "i386" ? 4 : 8), noteAt: 0 };
    phdrs.push(startNote.phdr);
  }
  const kernText = inp.kernelText && inp.kernelText.size > 0 && !xen ? inp.kernelText : undefined;
  if (inp.kernelText && xen)
    warnings.push("kernel text ignored under Xen (kexec-tools: kernel not identity mapped)");
  if (kernText) {
    phdrs.push({
      role: "kernel-text",
      type: PT_LOAD,
      flags: PF_R | PF_W | PF_X,
      offset: kernText.paddr,
      vaddr: kernText.vaddr,
      paddr: kernText.paddr,
      filesz: kernText.size,
      memsz: kernText.size,
      align: 0,
      why: `kernel text mapping (${hex(kernText.vaddr)}, physical "Kernel code" ${hex(kernText.paddr)}); the same bytes appear again in a RAM PT_LOAD`,
    });
  }
  for (const r of ranges) {
    if (r.type !== RangeType.RAM) continue;
    // crash_create_elf64_headers: `if (!mstart && !mend) continue;`
    if (r.start === 0 && r.end === 0) continue;
    const size = r.end - r.start + 1;
    const isBackup = backup && r.start === backup.start && size === backup.end - backup.start + 1;
    let vaddr = toVirt(r.start);
    let why = `System RAM ${formatRange16(r)}`;
    if (lowmemLimit && r.end > lowmemLimit - 1) {
      vaddr = cls === 64 ? 0xffffffffffffffffn : 0xffffffffn; // "HIGHMEM has a virtual address of -1"
      why += " (highmem: p_vaddr -1)";
    }
    if (size === 0) why += " — zero-length, left by kexec-tools' exclude_region() on an exact cover";
    phdrs.push({
      role: isBackup ? "backup" : "ram",
      type: PT_LOAD,
      flags: PF_R | PF_W | PF_X,
      offset: isBackup ? inp.backupDestination! : r.start,
      vaddr,
      paddr: r.start,
      filesz: size,
      memsz: size,
      align: 0,
      why: isBackup
        ? `backup region ${formatRange16(r)}: the capture kernel reuses low memory, so purgatory copies it to ${hex(inp.backupDestination!)} at crash time and p_offset points there`
        : why,
    });
  }
  const kern = kernText ? 1 : 0;
  const nrCpus = inp.configuredCpus ?? inp.cpuNotes.length;
  let sz = ehdrSize(cls) + (nrCpus + (inp.vmcoreinfo ? 1 : 0) + kern + ranges.length) * phdrSize(cls);
  if (startNote) {
    // Plan B (thread 000's crashdump-elf.c): the buffer grows by one phdr plus the note, and
    // the note is written at bufp once every phdr is out — right after the LAST program
    // header written, not after the space reserved for absent CPUs. The phdr keeps p_paddr 0;
    // only p_offset is patched, to the note's offset, then += elfcorehdr after add_buffer().
    sz += phdrSize(cls) + startNote.bytes.length;
    const noteAt = ehdrSize(cls) + phdrs.length * phdrSize(cls);
    startNote.phdr.offset = inp.xenStartNote!.elfcorehdrAddress + noteAt;
    startNote.phdr.paddr = 0;
    startNote.noteAt = noteAt;
    sz = Math.max(sz, noteAt + startNote.bytes.length);
  }
  const segmentSize = alignUp(sz, KEXEC_CORE_HEADER_ALIGN);
  const { segment, header } = layoutCoreHeader(cls, le, machineOf(inp.arch), phdrs, segmentSize);
  if (startNote) segment.set(startNote.bytes, startNote.noteAt);
  return {
    flavour: "kexec-tools",
    elfClass: cls,
    littleEndian: le,
    machine: machineOf(inp.arch),
    phdrs,
    segment,
    header,
    inputRanges,
    crashRanges: ranges,
    exclusions,
    excludedRegions,
    warnings,
  };
}
