/** crash's `bt` listings, shared by `kdumpkit bt` and the web app's backtrace view. */
import type { Dump } from "../dump/dump.js";
import { FormatError } from "../errors.js";
import type { Kernel } from "../kernel/open.js";
import type { SystemMap } from "../kernel/system-map.js";
import { kernelMemoryView } from "../kernel/view.js";
import { X86_64_TARGET } from "../symbols/memory.js";
import { formatTaskBacktrace, taskBacktraceJson } from "../unwind/format.js";
import { LinuxBacktracer, type TaskBacktrace } from "../unwind/linux.js";
import { linuxBacktracer } from "../unwind/open.js";
import type { Dom0View } from "../xen/dom0.js";

/**
 * The backtracer of a Linux dump (kallsyms and BTF from its memory, ORC on x86_64, frame records
 * on arm64 and frame pointers on i386; a System.map stands in for kallsyms; types optional):
 * what bt and triage start from, in the CLI and the web app alike.
 */
export function backtracerOfDump(
  d: Dump,
  kernel: Pick<Kernel, "space">,
  systemMap?: SystemMap,
): LinuxBacktracer {
  return linuxBacktracer(d, kernel.space, systemMap ? { systemMap } : {});
}

/**
 * The backtracer of dom0 inside a Xen host dump (src/xen/dom0.ts openDom0 with its VMCOREINFO):
 * kallsyms, BTF and ORC from dom0's memory through the p2m. It has no CPUs: a PV dom0's vCPU
 * registers at the crash are kept by Xen (struct vcpu), not in the dump's notes, which hold the
 * physical CPUs' (Xen's own) registers; sleeping tasks unwind from their switch frames.
 */
export function backtracerOfDom0(d: Dom0View, systemMap?: SystemMap): LinuxBacktracer {
  if (!d.vmcoreinfo) throw new FormatError(`dom0: ${d.problems.join("; ")}`);
  const info = d.vmcoreinfo.info;
  const view = kernelMemoryView({
    memory: d.space,
    target: X86_64_TARGET,
    vmcoreinfo: info,
    ...(systemMap ? { systemMap } : {}),
  });
  return new LinuxBacktracer(view, [], {
    arch: "x86_64",
    release: info.osrelease,
    noCpus: "dom0's vCPU registers are kept by Xen (struct vcpu), not in the dump's notes",
  });
}

/** The backtraces one after another, a note first when the unwinder is limited. */
export function btText(b: LinuxBacktracer, list: readonly TaskBacktrace[]): string {
  const out: string[] = [];
  if (b.limitation) out.push(`note: ${b.limitation}`);
  list.forEach((t, i) => {
    if (i > 0) out.push("");
    out.push(...formatTaskBacktrace(t));
  });
  return `${out.join("\n")}\n`;
}

/** `kdumpkit bt --json`'s object. */
export function btJson(file: string, b: LinuxBacktracer, list: readonly TaskBacktrace[]) {
  return {
    file,
    orc: b.orc ?? null,
    limitation: b.limitation ?? null,
    backtraces: list.map(taskBacktraceJson),
  };
}
