/**
 * The backtracer of an opened Linux dump: its kernel memory (any architecture's address space),
 * kallsyms from that memory (or a System.map / vmlinux standing in), BTF when the kernel has it
 * reachable, and each CPU's saved registers. Types are optional here: without them the CPUs'
 * backtraces still unwind (Debian's arm64 and 686-pae kernels have no data symbols in kallsyms,
 * so neither BTF nor the task list can be found), and tasks/modules say why they are missing.
 */
import type { Dump } from "../dump/index.js";
import { FormatError } from "../errors.js";
import { type KernelViewInput, kernelMemoryView } from "../kernel/view.js";
import { targetOfArch, type VirtualMemory } from "../symbols/memory.js";
import { cpuRegistersOf, LinuxBacktracer } from "./linux.js";

export function linuxBacktracer(
  dump: Dump,
  memory: VirtualMemory,
  extra: Omit<KernelViewInput, "memory" | "target" | "vmcoreinfo"> = {},
): LinuxBacktracer {
  const vmcoreinfo = dump.vmcoreinfo;
  if (!vmcoreinfo) throw new FormatError("the dump has no VMCOREINFO (needed for kernel symbols)");
  const view = kernelMemoryView({ memory, target: targetOfArch(dump.arch), vmcoreinfo, ...extra });
  return new LinuxBacktracer(view, cpuRegistersOf(dump), { arch: dump.arch, release: vmcoreinfo.osrelease });
}
