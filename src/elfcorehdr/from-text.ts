/**
 * kexec-tools' x86_64 ELF core header from the text files a user has at hand: the first
 * kernel's /proc/iomem, optionally with its `kexec -d -p` output (CPU notes, VMCOREINFO,
 * kernel text, backup). What the web app builds when such files are dropped; the CLI's
 * `elfcorehdr build` takes the same inputs with every override as options.
 */
import { hex } from "../errors.js";
import { excludeRegion } from "../memmap/index.js";
import { crashKernelRegions, kexecToolsCrashRanges, parseIomem } from "../memmap/iomem.js";
import { parseKexecDebug } from "../memmap/kexec-debug.js";
import { kexecToolsInputsFromDebug } from "./from-kexec-debug.js";
import {
  backupSource,
  buildKexecToolsHeader,
  type KexecToolsInputs,
  X86_64_DEFAULT_PAGE_OFFSET,
} from "./kexec-tools.js";
import { estimateKexecPlacement } from "./live.js";
import type { BuiltCoreHeader } from "./types.js";

export interface TextHeaderInputs {
  /** The first kernel's /proc/iomem. */
  iomem: string;
  /** Its `kexec -d -p …` output, when kept. */
  kexecDebug?: string;
}

/** Build kexec-tools' header (x86_64, kexec_load) and say which values were estimated. */
export function buildHeaderFromText(t: TextHeaderInputs): { built: BuiltCoreHeader; notes: string[] } {
  const notes: string[] = [];
  const iomem = parseIomem(t.iomem);
  let inp: KexecToolsInputs;
  if (t.kexecDebug !== undefined) {
    inp = kexecToolsInputsFromDebug(parseKexecDebug(t.kexecDebug), iomem, { arch: "x86_64" });
  } else {
    const crash = crashKernelRegions(iomem).map((r) => ({ start: r.start, end: r.end }));
    const k = kexecToolsCrashRanges(iomem, 0);
    inp = {
      arch: "x86_64",
      memory: k.ranges,
      crashKernel: crash,
      cpuNotes: [],
      pageOffset: X86_64_DEFAULT_PAGE_OFFSET,
      ...(k.gart ? { gart: k.gart } : {}),
    };
    notes.push("no kexec -d output: no CPU notes, no VMCOREINFO, no kernel text in the header");
    notes.push(
      `PAGE_OFFSET unknown: using kexec-tools' default ${hex(X86_64_DEFAULT_PAGE_OFFSET)} (wrong under KASLR)`,
    );
  }
  if (inp.crashKernel.length === 0) notes.push('iomem has no "Crash kernel" region: nothing is cut out');
  else if (inp.backupDestination === undefined) {
    // where `kexec -p` would put the backup copy: the top of the (last) crashkernel region
    let after = inp.memory;
    for (const c of inp.crashKernel) after = excludeRegion(after, c.start, c.end).ranges;
    const src = backupSource(after);
    const b = estimateKexecPlacement(inp.crashKernel[inp.crashKernel.length - 1]!, src.end - src.start + 1);
    inp.backupDestination = b.backup;
    notes.push(`backup destination estimated at ${hex(b.backup)} (kexec-tools' locate_hole())`);
  }
  return { built: buildKexecToolsHeader(inp), notes };
}
