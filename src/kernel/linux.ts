/**
 * The kernel view of an opened dump: its VMCOREINFO, the address space worked out from it and
 * the dump's headers, and the kernel log — what `dmesg`, `vtop`, `rd --virt` and `info` need.
 */
import type { Dump } from "../dump/index.js";
import { FormatError } from "../errors.js";
import { MemoryReader, targetOfArch } from "../symbols/memory.js";
import { kernelSymbols } from "../symbols/sources.js";
import type { KernelSymbolTable } from "../symbols/table.js";
import { findPanicMessage, type PanicMessage } from "./panic.js";
import { type KernelLog, readKernelLog } from "./printk.js";
import { type KernelView, type KernelViewInput, kernelView } from "./view.js";
import { type LoadSegment, requireX86_64, type X86_64Kernel, x86_64Kernel } from "./x86_64.js";

/** The PT_LOADs of an ELF dump (page_offset/phys_base hints); undefined for other formats. */
export function loadSegmentsOf(dump: Dump): LoadSegment[] | undefined {
  if (dump.format !== "elf") return undefined;
  return dump.loads.map((p) => ({ vaddr: p.vaddr, paddr: p.paddr, memsz: p.memsz }));
}

/** The x86_64 kernel address space of a Linux dump. */
export function kernelOf(dump: Dump): X86_64Kernel {
  const vmcoreinfo = dump.vmcoreinfo;
  if (!vmcoreinfo) throw new FormatError("the dump has no VMCOREINFO (needed for kernel addresses)");
  requireX86_64(dump.arch);
  const loads = loadSegmentsOf(dump);
  const hpb = dump.headerPhysBase;
  return x86_64Kernel({
    phys: dump,
    vmcoreinfo,
    maxPhysAddress: dump.maxAddress,
    ...(loads ? { loads } : {}),
    ...(hpb !== undefined ? { headerPhysBase: hpb } : {}),
  });
}

/** The kernel log of a Linux dump. */
export function kernelLogOf(dump: Dump, kernel: X86_64Kernel = kernelOf(dump)): KernelLog {
  return readKernelLog(kernel.space, dump.vmcoreinfo!);
}

/** The panic message (crash's rules) of a Linux dump, or undefined when its log has none. */
export function panicMessageOf(dump: Dump): PanicMessage | undefined {
  return findPanicMessage(kernelLogOf(dump));
}

/**
 * The debuginfo-free view of a Linux dump (kallsyms + BTF from its memory; a System.map,
 * vmlinux or raw BTF may stand in): what tasks, modules, sys and typed reads need.
 */
export function kernelViewOf(
  dump: Dump,
  extra: Omit<KernelViewInput, "memory" | "target" | "vmcoreinfo"> = {},
  kernel: X86_64Kernel = kernelOf(dump),
): KernelView {
  return kernelView({
    memory: kernel.space,
    target: targetOfArch(dump.arch),
    vmcoreinfo: dump.vmcoreinfo!,
    ...extra,
  });
}

/**
 * kallsyms of a Linux dump, read from its memory (what `regs` and the web app name registers
 * with); throws a KdumpkitError when the dump's kallsyms cannot be read.
 */
export function kernelSymbolTableOf(dump: Dump, kernel: X86_64Kernel = kernelOf(dump)): KernelSymbolTable {
  const vmcoreinfo = dump.vmcoreinfo!;
  return kernelSymbols({
    memory: new MemoryReader(kernel.space, targetOfArch(dump.arch)),
    vmcoreinfo,
    kernelOffset: vmcoreinfo.kernelOffset ?? 0n,
  }).table;
}
