/**
 * Memory facts Xen prints on its console at boot (xen/arch/x86/e820.c print_e820_memory_map,
 * xen/arch/x86/setup.c and common/kexec.c): the "Xen-e820 RAM map:" block
 * (` [start, end] (type)` with inclusive ends) and the crashkernel line
 * "Kdump: 160MB (163840kB) at 0x1fcdd000". Under Xen, dom0's /proc/iomem shows neither the
 * machine map nor the crashkernel region (kexec-tools asks the hypervisor), so a saved console
 * log is the text source for both.
 */
import { FormatError } from "../errors.js";
import { type MemoryRange, type PhysRange, parseHexAddress, RangeType } from "./range.js";

export interface XenConsoleMemory {
  e820: MemoryRange[];
  crashKernel?: PhysRange;
  /** "New Xen image base address: 0x…" (Xen relocated itself; = xen_phys_start). */
  xenImageBase?: number;
}

const E820_TYPES: Record<string, number> = {
  usable: RangeType.RAM,
  reserved: RangeType.RESERVED,
  "ACPI data": RangeType.ACPI,
  "ACPI NVS": RangeType.ACPI_NVS,
  unusable: RangeType.RESERVED,
  "persistent (type 7)": RangeType.PMEM,
};

export function parseXenConsoleMemory(text: string): XenConsoleMemory {
  const lines = text.split("\n");
  const out: XenConsoleMemory = { e820: [] };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (/\(XEN\) Xen-e820 RAM map:/.test(line) && out.e820.length === 0) {
      for (let j = i + 1; j < lines.length; j++) {
        const m = /\(XEN\)\s+\[([0-9a-f]+), ([0-9a-f]+)\] \(([^)]+)\)/.exec(lines[j]!);
        if (!m) break;
        out.e820.push({
          start: parseHexAddress(m[1]!, "Xen e820"),
          end: parseHexAddress(m[2]!, "Xen e820"),
          type: E820_TYPES[m[3]!] ?? RangeType.RESERVED,
        });
      }
      continue;
    }
    let m = /\(XEN\) Kdump: (\d+)MB \((\d+)kB\) at 0x([0-9a-f]+)/.exec(line);
    if (m) {
      const start = parseHexAddress(m[3]!, "Xen Kdump line");
      out.crashKernel = { start, end: start + Number(m[2]) * 1024 - 1 };
      continue;
    }
    m = /\(XEN\) New Xen image base address: 0x([0-9a-f]+)/.exec(line);
    if (m) out.xenImageBase = parseHexAddress(m[1]!, "Xen image base");
  }
  if (out.e820.length === 0 && !out.crashKernel)
    throw new FormatError("no Xen-e820 RAM map and no Kdump line: not a Xen boot log");
  return out;
}
