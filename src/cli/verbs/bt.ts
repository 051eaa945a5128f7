import { parseArgs } from "node:util";
import type { TaskInfo } from "../../kernel/tasks.js";
import { formatTaskBacktrace, taskBacktraceJson } from "../../unwind/format.js";
import type { LinuxBacktracer, TaskBacktrace } from "../../unwind/linux.js";
import { linuxBacktracer } from "../../unwind/open.js";
import { toJson, UsageError, type Verb, type VerbContext } from "../common.js";
import { type KernelDump, loadSystemMap, openKernelDump } from "../kernel-open.js";

/**
 * `kdumpkit bt DUMP [-a] [PID|TASK]`: kernel backtraces from the dump alone (kallsyms, BTF and
 * ORC in its memory on x86_64, frame records on arm64, frame pointers on i386), in crash's `bt`
 * layout.
 */

export interface OpenedBacktracer {
  dump: KernelDump;
  bt: LinuxBacktracer;
  close(): void;
}

/** Open a dump and its backtracer (shared by bt and triage). */
export function openBacktracer(ctx: VerbContext, file: string, systemMap?: string): OpenedBacktracer {
  const dump = openKernelDump(ctx, file);
  try {
    const bt = linuxBacktracer(
      dump.dump,
      dump.kernel.space,
      systemMap ? { systemMap: loadSystemMap(systemMap, dump) } : {},
    );
    return { dump, bt, close: () => dump.close() };
  } catch (e) {
    dump.close();
    throw e;
  }
}

function findTask(bt: LinuxBacktracer, arg: string): TaskInfo {
  const tasks = bt.tasks.tasks;
  if (/^\d+$/.test(arg)) {
    const pid = Number(arg);
    const t = tasks.find((x) => x.pid === pid);
    if (t) return t;
    if (!/^[0-9a-f]{9,16}$/i.test(arg)) throw new UsageError(`no task with PID ${pid}`);
  }
  if (/^(0x)?[0-9a-f]+$/i.test(arg)) {
    const a = BigInt(arg.startsWith("0x") ? arg : `0x${arg}`);
    const t = tasks.find((x) => x.task === a);
    if (t) return t;
    throw new UsageError(`no task at ${arg}`);
  }
  throw new UsageError(`bad PID or task address: ${arg}`);
}

export const btVerb: Verb = {
  name: "bt",
  summary: "kernel backtraces (ORC / frame records from the dump, no debuginfo), crash's layout",
  usage: `usage: kdumpkit bt DUMP [-a] [PID|TASK] [--system-map F] [--json]
  (no argument)  the task that panicked (or CPU 0's)
  -a             the task running on every CPU, from each CPU's saved registers
  PID|TASK       a task by PID or task_struct address (sleeping tasks unwind from their switch frame)
  --system-map F symbols from this System.map when the dump's kallsyms cannot be read
  --json         machine-readable output`,
  run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: {
        all: { type: "boolean", short: "a" },
        json: { type: "boolean" },
        "system-map": { type: "string" },
      },
    });
    const file = positionals[0];
    if (!file || positionals.length > 2) throw new UsageError("expected DUMP [PID|TASK]");
    if (values.all && positionals[1]) throw new UsageError("-a and a task are exclusive");
    const o = openBacktracer(ctx, file, values["system-map"]);
    try {
      const b = o.bt;
      let list: TaskBacktrace[];
      if (values.all) {
        const cpus = b.cpus.map((c) => c.cpu);
        list = cpus.map((c) => b.cpu(c));
      } else if (positionals[1]) {
        list = [b.task(findTask(b, positionals[1]))];
      } else {
        list = [b.cpu(b.panicCpu() ?? b.cpus[0]?.cpu ?? 0)];
      }
      if (values.json) {
        ctx.stdout(
          `${toJson({
            file,
            orc: b.orc ?? null,
            limitation: b.limitation ?? null,
            backtraces: list.map(taskBacktraceJson),
          })}\n`,
        );
        return 0;
      }
      const out: string[] = [];
      if (b.limitation) out.push(`note: ${b.limitation}`);
      list.forEach((t, i) => {
        if (i > 0) out.push("");
        out.push(...formatTaskBacktrace(t));
      });
      ctx.stdout(`${out.join("\n")}\n`);
      return 0;
    } finally {
      o.close();
    }
  },
};
