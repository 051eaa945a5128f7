/**
 * Memory maps for the planners (`--memory FILE`): /proc/iomem (the "Crash kernel" reservation
 * when there is one — a kexec -p load — else "System RAM"), or plain lines
 * `START-END [label]` in hex with END inclusive, as iomem writes them.
 */
import { FormatError } from "../errors.js";
import { crashKernelRegions, parseIomem, systemRam } from "../memmap/iomem.js";
import type { MemRegion } from "./kexec.js";

export interface MemoryMap {
  /** Where a kernel may be placed. */
  regions: MemRegion[];
  /** True when the regions are the crashkernel reservation. */
  crash: boolean;
  /** All System RAM (for multiboot RAM size). */
  ram: MemRegion[];
}

export function parseMemoryMap(text: string): MemoryMap {
  if (/^\s*[0-9a-fA-F]+-[0-9a-fA-F]+ : /m.test(text)) {
    const tree = parseIomem(text);
    const ram = systemRam(tree).map((r) => ({ start: r.start, end: r.end + 1, label: "System RAM" }));
    const crash = crashKernelRegions(tree).map((r) => ({ start: r.start, end: r.end + 1, label: r.name }));
    return crash.length ? { regions: crash, crash: true, ram } : { regions: ram, crash: false, ram };
  }
  const regions: MemRegion[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const m = /^(?:0x)?([0-9a-fA-F]+)\s*-\s*(?:0x)?([0-9a-fA-F]+)\s*(.*)$/.exec(line);
    if (!m) throw new FormatError(`memory map line ${i + 1}: expected START-END [label]`);
    const start = Number.parseInt(m[1]!, 16);
    const end = Number.parseInt(m[2]!, 16) + 1;
    if (!Number.isSafeInteger(end) || end <= start)
      throw new FormatError(`memory map line ${i + 1}: bad range`);
    regions.push({ start, end, label: m[3]?.replace(/^:\s*/, "") || "memory" });
  }
  const crash = regions.filter((r) => /crash/i.test(r.label));
  return crash.length
    ? { regions: crash, crash: true, ram: regions }
    : { regions, crash: false, ram: regions };
}
