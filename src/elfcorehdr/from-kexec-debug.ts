/**
 * Builder inputs from what a first kernel left as text: `kexec -d -p` output plus /proc/iomem
 * (and, under Xen, the crashkernel region, which dom0's iomem does not show). This is how the
 * real fixtures are rebuilt byte for byte, and what `elfcorehdr build --kexec-debug` uses.
 *
 * What comes from where:
 * - memory: x86 — kexec-tools' reading of /proc/iomem; Xen — kexec -d "MEMORY RANGES" (the
 *   machine map from the hypervisor) with the real-mode IVT trim undone;
 * - crashkernel: given, else iomem "Crash kernel", else the RAM "CRASH MEMORY RANGES" lacks
 *   compared with "MEMORY RANGES" (Xen: dom0's iomem does not show it);
 * - CPU notes: "get_crash_notes_per_cpu" lines; under Xen kexec -d prints none (the hypercall
 *   gives them), so the PT_NOTE lines it printed for them are used;
 * - VMCOREINFO, kernel text, backup destination: their debug lines;
 * - PAGE_OFFSET: p_vaddr - p_paddr of a RAM PT_LOAD line (page_offset_base under KASLR).
 */
import { FormatError } from "../errors.js";
import { crashKernelRegions, type IomemTree, kexecToolsCrashRanges } from "../memmap/iomem.js";
import { crashRegionsFromKexecDebug, type KexecDebug } from "../memmap/kexec-debug.js";
import type { PhysRange } from "../memmap/range.js";
import { type KexecToolsInputs, X86_64_DEFAULT_PAGE_OFFSET, X86_LOWMEM_LIMIT } from "./kexec-tools.js";
import type { CoreArch } from "./types.js";

export interface FromKexecDebugOptions {
  arch?: CoreArch;
  xen?: boolean;
  /** Needed under Xen (and overrides iomem's otherwise). */
  crashKernel?: PhysRange[];
  pageOffset?: bigint;
}

export function kexecToolsInputsFromDebug(
  debug: KexecDebug,
  iomem: IomemTree | undefined,
  opts: FromKexecDebugOptions = {},
): KexecToolsInputs {
  const arch = opts.arch ?? "x86_64";
  const xen = !!opts.xen;
  let memory = debug.memoryRanges;
  let gart: PhysRange | undefined;
  if (!xen) {
    if (!iomem) throw new FormatError("kexec-tools inputs outside Xen need /proc/iomem");
    const k = kexecToolsCrashRanges(iomem, arch === "i386" ? X86_LOWMEM_LIMIT : 0);
    memory = k.ranges;
    gart = k.gart;
  } else if (memory.length > 0 && memory.find((r) => r.type === 0)?.start === 0x400) {
    memory = memory.map((r, i) => (i === memory.findIndex((x) => x.type === 0) ? { ...r, start: 0 } : r));
  }
  let crashKernel =
    opts.crashKernel ?? (iomem ? crashKernelRegions(iomem).map((r) => ({ start: r.start, end: r.end })) : []);
  // kexec -d printed the map before and after the cut: the difference is the region (under
  // Xen the only place dom0 user space sees the hypervisor's kexec_crash_area)
  if (crashKernel.length === 0) crashKernel = crashRegionsFromKexecDebug(debug);
  if (crashKernel.length === 0)
    throw new FormatError(
      'no crashkernel region: iomem has no "Crash kernel" and kexec -d printed no CRASH MEMORY RANGES to compare; give it (elfcorehdr build --crashkernel START-END)',
    );
  const noteLines = debug.phdrs.filter((p) => p.type === 4 && p.label === "Elf header");
  const cpuNotes =
    debug.crashNotes.length > 0
      ? debug.crashNotes.map((n) => ({ address: n.address, size: n.size }))
      : noteLines.map((p) => ({ address: p.paddr, size: p.filesz }));
  const vi = debug.phdrs.find((p) => p.label === "vmcoreinfo header");
  const ram = debug.phdrs.find((p) => p.type === 1 && p.label === "Elf header" && p.paddr === p.offset);
  const pageOffset =
    opts.pageOffset ?? (ram ? BigInt.asUintN(64, ram.vaddr - BigInt(ram.paddr)) : X86_64_DEFAULT_PAGE_OFFSET);
  const inp: KexecToolsInputs = {
    arch,
    memory,
    crashKernel,
    cpuNotes,
    pageOffset,
    xen,
    ...(gart ? { gart } : {}),
    ...(vi ? { vmcoreinfo: { address: vi.paddr, size: vi.filesz } } : {}),
    ...(debug.backupSegment !== undefined ? { backupDestination: debug.backupSegment } : {}),
  };
  if (!xen && debug.kernelText && debug.kernelPaddr !== undefined)
    inp.kernelText = { vaddr: debug.kernelText.vaddr, paddr: debug.kernelPaddr, size: debug.kernelText.size };
  return inp;
}
