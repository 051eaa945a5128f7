/**
 * The views that need the kernel's own structures (kallsyms, BTF, ORC read from the dump's
 * memory, no debuginfo): backtraces (crash's `bt -a`), tasks (`ps`) and the triage report,
 * through the same library code and renderers as the CLI's verbs. A chunk of its own: loaded
 * when one of these views is first shown.
 */
import type { Dump } from "../../src/dump/dump.js";
import type { Kernel } from "../../src/kernel/open.js";
import { systemSummary } from "../../src/kernel/summary.js";
import type { SystemMap } from "../../src/kernel/system-map.js";
import { hasTypes } from "../../src/kernel/view.js";
import { backtracerOfDump, btJson, btText } from "../../src/report/bt.js";
import { toJson } from "../../src/report/json.js";
import { psText } from "../../src/report/ps.js";
import { triageOfDump } from "../../src/report/triage.js";
import { triageJson } from "../../src/triage/report.js";
import { formatTriage } from "../../src/triage/text.js";
import type { LinuxBacktracer } from "../../src/unwind/linux.js";
import type { ViewResult } from "./protocol.js";

export interface KernelInput {
  dump: Dump;
  kernel: Kernel;
  systemMap: SystemMap | undefined;
  /** The dump's file name(s), as the CLI prints FILE. */
  name: string;
}

// one backtracer per opened dump: building it reads kallsyms, BTF and the module list
let cached: { dump: Dump; bt: LinuxBacktracer } | undefined;
function backtracer(k: KernelInput): LinuxBacktracer {
  if (cached?.dump !== k.dump) cached = { dump: k.dump, bt: backtracerOfDump(k.dump, k.kernel, k.systemMap) };
  return cached.bt;
}

/** `kdumpkit bt -a`: the task on every CPU from its saved registers. */
export function btView(k: KernelInput): ViewResult {
  const b = backtracer(k);
  const list = b.cpuNumbers().map((c) => b.cpu(c));
  return { title: "Backtraces", text: btText(b, list), json: toJson(btJson(k.name, b, list)) };
}

/** `kdumpkit ps`. */
export function tasksView(k: KernelInput): ViewResult {
  const b = backtracer(k);
  const list = b.tasks;
  const pageSize = b.view.vmcoreinfo.pageSize ?? 4096;
  const mem = hasTypes(b.view) ? (systemSummary(b.view).memoryBytes ?? 0) : 0;
  return {
    title: "Tasks",
    text: psText(list.tasks, pageSize, mem),
    json: toJson({
      count: list.tasks.length,
      incomplete: list.incomplete,
      current: list.current,
      tasks: list.tasks,
    }),
    ...(list.incomplete ? { warnings: [`task list incomplete: ${list.incomplete}`] } : {}),
  };
}

/** `kdumpkit triage`. */
export function triageView(k: KernelInput): ViewResult {
  const r = triageOfDump(k.dump, backtracer(k));
  return { title: "Triage", text: formatTriage(r), json: toJson({ file: k.name, ...triageJson(r) }) };
}
