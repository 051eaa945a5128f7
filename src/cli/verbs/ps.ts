import { systemSummary } from "../../kernel/summary.js";
import { listTasks, type TaskInfo } from "../../kernel/tasks.js";
import { toJson, type Verb } from "../common.js";
import { VIEW_USAGE, withSingleDumpView } from "../kernel-view.js";

/** crash's `ps` line (task.c show_ps_data): '>' marks a task running on a CPU at the crash. */
export function psLine(t: TaskInfo, pageKb: number, totalPages: number): string {
  const rss = (t.rssPages ?? 0) * pageKb;
  const vsz = (t.vmPages ?? 0) * pageKb;
  const mem = totalPages > 0 ? ((t.rssPages ?? 0) * 100) / totalPages : 0;
  const comm = t.mm === 0n ? `[${t.comm}]` : t.comm;
  return `${t.activeCpu !== undefined ? ">" : " "}${String(t.pid).padStart(8)}${String(t.ppid).padStart(8)}${String(t.cpu).padStart(4)}  ${t.task.toString(16).padStart(16, "0")}  ${t.state.padEnd(2)}${mem.toFixed(1).padStart(6)}${String(vsz).padStart(9)}${String(rss).padStart(9)}  ${comm}`;
}

export const PS_HEADER = "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM";

export const psVerb: Verb = {
  name: "ps",
  summary: "every task (process list, threads, per-CPU idle tasks) through kallsyms + BTF, like crash's ps",
  usage: `usage: kdumpkit ps DUMP [--json]
  Columns as crash's ps; '>' marks the task each CPU was running; [comm] a kernel thread.
  RSS is the mm's own counters (get_mm_rss), VSZ its total_vm.
${VIEW_USAGE}`,
  run(ctx) {
    return withSingleDumpView(ctx, (v, json) => {
      const list = listTasks(v.view);
      const pageSize = v.view.vmcoreinfo.pageSize ?? 4096;
      const mem = systemSummary(v.view).memoryBytes ?? 0;
      if (json) {
        ctx.stdout(
          `${toJson({ count: list.tasks.length, incomplete: list.incomplete, current: list.current, tasks: list.tasks })}\n`,
        );
      } else {
        const lines = [PS_HEADER, ...list.tasks.map((t) => psLine(t, pageSize / 1024, mem / pageSize))];
        ctx.stdout(`${lines.join("\n")}\n`);
        if (list.incomplete) ctx.stderr(`ps: task list incomplete: ${list.incomplete}\n`);
      }
      return list.incomplete ? 1 : 0;
    });
  },
};
