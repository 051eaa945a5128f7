/** crash's `bt` listings, shared by `kdumpkit bt` and the web app's backtrace view. */
import type { Dump } from "../dump/dump.js";
import type { Kernel } from "../kernel/open.js";
import type { SystemMap } from "../kernel/system-map.js";
import { formatTaskBacktrace, taskBacktraceJson } from "../unwind/format.js";
import type { LinuxBacktracer, TaskBacktrace } from "../unwind/linux.js";
import { linuxBacktracer } from "../unwind/open.js";

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
