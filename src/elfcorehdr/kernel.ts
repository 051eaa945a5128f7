/**
 * The ELF core header the kernel builds itself for kexec_file_load (`kexec -s -p`):
 * crash_prepare_elf64_headers() (kernel/kexec_file.c up to v6.6, kernel/crash_core.c since)
 * fed by the architecture's prepare_elf_headers():
 * - x86 (arch/x86/kernel/crash.c): RAM = walk_system_ram_res() ("System RAM*" resources), minus
 *   the low 1 MiB (always reserved since v5.8 — no backup region any more), crashk_res,
 *   crashk_low_res (and crashk_cma ranges, v6.16+); kernel map on x86_64 only;
 * - arm64 (arch/arm64/kernel/machine_kexec_file.c): RAM = memblock ranges, minus crashk_res and
 *   crashk_low_res; kernel map always.
 * Layout: one PT_NOTE per present CPU (v6.5 and older) or per possible CPU (v6.6+, CPU hotplug
 * support) with p_filesz = sizeof(note_buf_t), the VMCOREINFO PT_NOTE
 * (VMCOREINFO_NOTE_SIZE), the kernel-text PT_LOAD (p_vaddr = _text, p_paddr = __pa_symbol(_text),
 * size _end - _text: NOT page-rounded, unlike kexec-tools), one PT_LOAD per range with
 * p_vaddr = __va(paddr). ELF64 always. The buffer is sized for num_possible_cpus() + 1 +
 * nr_ranges + 1 phdrs (the kernel-text slot is counted even where it is not used) and rounded
 * up to 4 KiB.
 * Note flags: the kernel leaves p_flags 0 and p_align 0 everywhere except PT_LOAD (RWX).
 *
 * Thread 002's era (x86, v3.17 until the backup region was removed, v5.8): the low 1 MiB was
 * not cut; instead the first "System RAM" resource below 640 KiB (determine_backup_region(),
 * walk_system_ram_res(0, 640K-1)) was copied by purgatory to image->arch.backup_load_addr, and
 * the RAM PT_LOAD that matches it exactly (mstart == backup_src_start && size ==
 * backup_src_sz) got p_offset = backup_load_addr (prepare_elf64_ram_headers_callback()).
 */
import { EM_386, EM_AARCH64, EM_X86_64, PF_R, PF_W, PF_X, PT_LOAD } from "../elf/types.js";
import { FormatError, hex } from "../errors.js";
import { type ExclusionEvent, excludeRegion } from "../memmap/exclude.js";
import {
  checkPhysRange,
  formatRange16,
  type MemoryRange,
  type PhysRange,
  sortedDisjoint,
} from "../memmap/range.js";
import { alignUp, layoutCoreHeader } from "./encode.js";
import { type BuiltCoreHeader, type CoreArch, type CorePhdr, type NoteRegion, notePhdr } from "./types.js";

/** ELF_CORE_HEADER_ALIGN in include/linux/crash_core.h. */
export const KERNEL_CORE_HEADER_ALIGN = 4096;
/** VMCOREINFO_NOTE_SIZE (include/linux/crash_core.h): note header + name + 4 KiB data + end. */
export const VMCOREINFO_NOTE_SIZE = 12 + 12 + 4096 + 12;

export interface KernelInputs {
  arch: CoreArch;
  /** "System RAM" resources (memmap/iomem.ts systemRam) or the DTB's memory. */
  systemRam: MemoryRange[];
  /** crashk_res, crashk_low_res (and CMA ranges). */
  crashKernel: PhysRange[];
  /** One per present (≤ v6.5) or possible (v6.6+) CPU: per_cpu_ptr_to_phys(crash_notes), sizeof(note_buf_t). */
  cpuNotes: NoteRegion[];
  /** num_possible_cpus(), which sizes the buffer; default cpuNotes.length. */
  possibleCpus?: number;
  /** paddr_vmcoreinfo_note(), VMCOREINFO_NOTE_SIZE. */
  vmcoreinfo: NoteRegion;
  /** _text, __pa_symbol(_text), _end - _text. Required on x86_64 and arm64. */
  kernelText?: { vaddr: bigint; paddr: number; size: number };
  /** PAGE_OFFSET (page_offset_base on x86_64 with KASLR). */
  pageOffset: bigint;
  /** arm64 PHYS_OFFSET (memstart_addr): __va(p) = (p - PHYS_OFFSET) | PAGE_OFFSET. */
  physOffset?: number;
  /**
   * Kernel version ("X.Y", or "current"): picks crash_exclude_mem_range()'s behaviour ("6.1"
   * stops at the first range a region touches, v5.x–v6.8; later kernels handle every overlap)
   * and, up to v5.7 on x86, the backup region instead of the low-1-MiB cut. Default "current".
   */
  kernelVersion?: string;
  /** x86, v3.17–v5.7: image->arch.backup_load_addr, where purgatory copied the backup region. */
  backupDestination?: number;
  littleEndian?: boolean;
}

/** What differs between kernel generations of the kexec_file_load header. */
export interface KernelHeaderRules {
  exclusion: "kernel" | "kernel-6.1";
  /** x86: the low 1 MiB is cut out (v5.8+) — before, the backup region stood in for it. */
  lowMiBCut: boolean;
  backupRegion: boolean;
}

/** Rules for a kernel version: "current", or "X.Y" from v3.17 (kexec_file_load's arrival). */
export function kernelHeaderRules(version: string | undefined): KernelHeaderRules {
  if (version === undefined || version === "current")
    return { exclusion: "kernel", lowMiBCut: true, backupRegion: false };
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) throw new FormatError(`kernel version ${version}: expected MAJOR.MINOR or "current"`);
  const v = Number(m[1]) * 1000 + Number(m[2]);
  if (v < 3017)
    throw new FormatError(`Linux ${version} has no kexec_file_load (v3.17+): the header is kexec-tools'`);
  if (v <= 5007) return { exclusion: "kernel-6.1", lowMiBCut: false, backupRegion: true };
  return { exclusion: v <= 6008 ? "kernel-6.1" : "kernel", lowMiBCut: true, backupRegion: false };
}

/** The backup region of v3.17–v5.7: the first System RAM resource below 640 KiB, clipped. */
export function kernelBackupSource(systemRam: readonly PhysRange[]): PhysRange | undefined {
  for (const r of [...systemRam].sort((a, b) => a.start - b.start)) {
    if (r.start >= 0xa0000) break;
    return { start: r.start, end: Math.min(r.end, 0x9ffff) };
  }
  return undefined;
}

export function buildKernelHeader(inp: KernelInputs): BuiltCoreHeader {
  const warnings: string[] = [];
  const rules = kernelHeaderRules(inp.kernelVersion);
  const x86 = inp.arch === "x86_64" || inp.arch === "i386";
  if (inp.backupDestination !== undefined && !(rules.backupRegion && x86))
    throw new FormatError(
      `the kernel's own header has a backup region only on x86 in Linux 3.17–5.7 (kernel version ${inp.kernelVersion ?? "current"}, ${inp.arch})`,
    );
  const machine = inp.arch === "x86_64" ? EM_X86_64 : inp.arch === "i386" ? EM_386 : EM_AARCH64;
  const needKernelMap = inp.arch !== "i386";
  if (needKernelMap && !inp.kernelText)
    throw new FormatError(
      `the kernel's ${inp.arch} core header needs the kernel text (_text, __pa_symbol(_text), _end - _text)`,
    );
  let ranges = sortedDisjoint(inp.systemRam, "System RAM");
  const inputRanges = ranges.map((r) => ({ ...r }));
  const mode = rules.exclusion;
  const exclusions: ExclusionEvent[] = [];
  const excludedRegions: (PhysRange & { reason: string })[] = [];
  const cut = (r: PhysRange, reason: string) => {
    checkPhysRange(r, reason);
    const res = excludeRegion(ranges, r.start, r.end, mode, reason);
    ranges = res.ranges;
    exclusions.push(...res.events);
    excludedRegions.push({ ...r, reason });
  };
  if (x86 && rules.lowMiBCut)
    cut({ start: 0, end: 0xfffff }, "low 1 MiB (always reserved on x86 since v5.8)");
  const backup = x86 && rules.backupRegion ? kernelBackupSource(inputRanges) : undefined;
  if (x86 && rules.backupRegion && inp.backupDestination === undefined)
    warnings.push(
      "no backup destination given: the backup region's PT_LOAD keeps p_offset = p_paddr (the kernel pointed it at backup_load_addr)",
    );
  inp.crashKernel.forEach((c, i) => {
    cut(c, i === 0 ? "crashk_res" : i === 1 ? "crashk_low_res" : `crashkernel range ${i + 1}`);
  });

  const phdrs: CorePhdr[] = [];
  inp.cpuNotes.forEach((n, cpu) => {
    phdrs.push(notePhdr("cpu-note", n.address, n.size, `crash_notes of CPU ${cpu}`, cpu));
  });
  phdrs.push(
    notePhdr(
      "vmcoreinfo",
      inp.vmcoreinfo.address,
      inp.vmcoreinfo.size,
      "VMCOREINFO note (paddr_vmcoreinfo_note())",
    ),
  );
  if (needKernelMap && inp.kernelText) {
    const k = inp.kernelText;
    phdrs.push({
      role: "kernel-text",
      type: PT_LOAD,
      flags: PF_R | PF_W | PF_X,
      offset: k.paddr,
      vaddr: k.vaddr,
      paddr: k.paddr,
      filesz: k.size,
      memsz: k.size,
      align: 0,
      why: `kernel image _text..._end at ${hex(k.vaddr)} (physical ${hex(k.paddr)})`,
    });
  }
  for (const r of ranges) {
    const size = r.end - r.start + 1;
    const isBackup =
      backup !== undefined &&
      inp.backupDestination !== undefined &&
      r.start === backup.start &&
      size === backup.end - backup.start + 1;
    phdrs.push({
      role: isBackup ? "backup" : "ram",
      type: PT_LOAD,
      flags: PF_R | PF_W | PF_X,
      offset: isBackup ? inp.backupDestination! : r.start,
      vaddr: BigInt.asUintN(64, BigInt(r.start) - BigInt(inp.physOffset ?? 0) + inp.pageOffset),
      paddr: r.start,
      filesz: size,
      memsz: size,
      align: 0,
      why: isBackup
        ? `backup region ${formatRange16(r)}: purgatory copied it to ${hex(inp.backupDestination!)} and p_offset points there (x86, v3.17–v5.7)`
        : `System RAM ${formatRange16(r)}`,
    });
  }
  const nrPhdr = Math.max(inp.possibleCpus ?? 0, inp.cpuNotes.length) + 1 + ranges.length + 1;
  const size = alignUp(64 + nrPhdr * 56, KERNEL_CORE_HEADER_ALIGN);
  const { segment, header } = layoutCoreHeader(64, inp.littleEndian ?? true, machine, phdrs, size);
  return {
    flavour: "kernel",
    elfClass: 64,
    littleEndian: inp.littleEndian ?? true,
    machine,
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
