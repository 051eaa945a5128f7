/**
 * The kernel view of an opened dump: its VMCOREINFO, the address space worked out from it and
 * the dump's headers, and the kernel log — what `dmesg`, `vtop`, `rd --virt` and `info` need.
 */
import type { Dump } from "../dump/index.js";
import { MemoryReader, targetOfArch } from "../symbols/memory.js";
import { kernelSymbols } from "../symbols/sources.js";
import type { KernelSymbolTable } from "../symbols/table.js";
import { type Kernel, openKernel } from "./open.js";
import { findPanicMessage, type PanicMessage } from "./panic.js";
import { type KernelLog, readKernelLog } from "./printk.js";
import { type KernelView, type KernelViewInput, kernelView } from "./view.js";

/** The kernel address space of a Linux dump (the same as openKernel). */
export function kernelOf(dump: Dump): Kernel {
  return openKernel(dump);
}

/** The kernel log of a Linux dump. */
export function kernelLogOf(dump: Dump, kernel: Pick<Kernel, "space"> = openKernel(dump)): KernelLog {
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
  kernel: Pick<Kernel, "space"> = openKernel(dump),
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
export function kernelSymbolTableOf(
  dump: Dump,
  kernel: Pick<Kernel, "space"> = openKernel(dump),
): KernelSymbolTable {
  const vmcoreinfo = dump.vmcoreinfo!;
  return kernelSymbols({
    memory: new MemoryReader(kernel.space, targetOfArch(dump.arch)),
    vmcoreinfo,
    kernelOffset: vmcoreinfo.kernelOffset ?? 0n,
  }).table;
}
