import { systemSummary } from "../../kernel/summary.js";
import { listTasks } from "../../kernel/tasks.js";
import { psText } from "../../report/ps.js";
import { toJson, type Verb } from "../common.js";
import { VIEW_USAGE, withSingleDumpView } from "../kernel-view.js";

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
        ctx.stdout(psText(list.tasks, pageSize, mem));
        if (list.incomplete) ctx.stderr(`ps: task list incomplete: ${list.incomplete}\n`);
      }
      return list.incomplete ? 1 : 0;
    });
  },
};
