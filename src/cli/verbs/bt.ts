import { parseArgs } from "node:util";
import type { TaskInfo } from "../../kernel/tasks.js";
import { backtracerOfDom0, backtracerOfDump, btJson, btText } from "../../report/bt.js";
import { triageOfDom0, triageOfDump } from "../../report/triage.js";
import type { TriageReport } from "../../triage/report.js";
import type { LinuxBacktracer, TaskBacktrace } from "../../unwind/linux.js";
import { isXenHostDump } from "../../xen/open.js";
import { toJson, UsageError, type Verb, type VerbContext } from "../common.js";
import { dumpArgs } from "../input.js";
import { type KernelDump, loadSystemMap, openKernelArgs } from "../kernel-open.js";
import { openXenSession } from "../xen-memory.js";

/**
 * `kdumpkit bt DUMP [-a] [PID|TASK]`: kernel backtraces from the dump alone (kallsyms, BTF and
 * ORC in its memory on x86_64, frame records on arm64, frame pointers on i386), in crash's `bt`
 * layout.
 */

export interface OpenedBacktracer {
  bt: LinuxBacktracer;
  /** The triage report of what was opened. */
  triage(): TriageReport;
  close(): void;
}

/**
 * Open a dump and its backtracer (shared by bt and triage); with `domain` "0", dom0 of a Xen
 * host dump (its VMCOREINFO through the System.map, else found in dom0's memory). A Xen host
 * dump given without `domain` (it has no Linux VMCOREINFO of its own) is opened as its dom0,
 * and the triage report says so (DOMAIN).
 */
export async function openBacktracer(
  ctx: VerbContext,
  parts: readonly string[],
  systemMap?: string,
  domain?: string,
): Promise<OpenedBacktracer> {
  if (domain !== undefined) {
    if (domain !== "0") throw new UsageError(`--domain ${domain}: only dom0 is reachable in a host dump`);
    const s = openXenSession(parts, systemMap ? { systemMap } : {});
    try {
      const d = s.dom0();
      const bt = backtracerOfDom0(d, s.xen);
      const crashTime = s.file.dump.crashTime;
      return { bt, triage: () => triageOfDom0(d, bt, crashTime), close: () => s.close() };
    } catch (e) {
      s.close();
      throw e;
    }
  }
  const dump: KernelDump = await openKernelArgs(ctx, parts);
  if (!dump.dump.vmcoreinfo && isXenHostDump(dump.dump)) {
    // its report says DOMAIN: dom0 (triageOfDom0)
    dump.close();
    return openBacktracer(ctx, parts, systemMap, "0");
  }
  try {
    const bt = backtracerOfDump(
      dump.dump,
      dump.kernel,
      systemMap ? loadSystemMap(systemMap, dump) : undefined,
    );
    return { bt, triage: () => triageOfDump(dump.dump, bt), close: () => dump.close() };
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
  usage: `usage: kdumpkit bt DUMP [-a] [PID|TASK] [--system-map F] [--domain 0] [--json]
  (no argument)  the task that panicked (or CPU 0's)
  -a             the task running on every CPU, from each CPU's saved registers
  PID|TASK       a task by PID or task_struct address (sleeping tasks unwind from their switch frame)
  --system-map F symbols from this System.map when the dump's kallsyms cannot be read
  --domain 0     a Xen host dump's dom0 through the p2m (taken by itself on such a dump): vCPUs
                 from the register frames Xen left on its CPUs' stacks, else named (the panicking
                 one unwound from panic()'s frame); sleeping tasks from their switch frames
  --json         machine-readable output`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: {
        all: { type: "boolean", short: "a" },
        json: { type: "boolean" },
        "system-map": { type: "string" },
        domain: { type: "string" },
      },
    });
    const { parts, rest } = dumpArgs(positionals);
    const file = parts.join(" ");
    const taskArg = rest[0];
    if (rest.length > 1) throw new UsageError("expected DUMP [PART…] [PID|TASK]");
    if (values.all && taskArg) throw new UsageError("-a and a task are exclusive");
    const o = await openBacktracer(ctx, parts, values["system-map"], values.domain);
    try {
      const b = o.bt;
      let list: TaskBacktrace[];
      if (values.all) {
        list = b.cpuNumbers().map((c) => b.cpu(c));
      } else if (taskArg) {
        list = [b.task(findTask(b, taskArg))];
      } else {
        list = [b.cpu(b.panicCpu() ?? b.cpuNumbers()[0] ?? 0)];
      }
      ctx.stdout(values.json ? `${toJson(btJson(file, b, list))}\n` : btText(b, list));
      return 0;
    } finally {
      o.close();
    }
  },
};
