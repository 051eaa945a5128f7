/**
 * The triage report of a Linux dump: everything "why did it crash" needs, from the dump alone
 * — release and build, crash time, panic line, the crashing CPU's task and backtrace, the other
 * CPUs' backtraces, blocked (D-state) tasks and their stacks, modules and taint, and a
 * deduplication signature. One plain object (addresses as bigint), deterministic across KASLR
 * in everything but the addresses themselves.
 */
import { KdumpkitError, MissingDataError } from "../errors.js";
import { type SystemSummary, systemSummary } from "../kernel/summary.js";
import { hasTypes, type KernelMemoryView } from "../kernel/view.js";
import { taskBacktraceJson } from "../unwind/format.js";
import type { LinuxBacktracer, TaskBacktrace } from "../unwind/linux.js";
import { type CrashSignature, crashSignature } from "./signature.js";

/** Blocked tasks shown with their stacks (the rest are counted). */
export const MAX_BLOCKED = 64;

export interface TriageInput {
  /** Seconds since the epoch (VMCOREINFO CRASHTIME or the dump header). */
  crashTime?: number;
  buildId?: string;
  /** The panic line from the kernel log. */
  panic?: string;
}

export interface TriageReport {
  /** Whose kernel this is when the dump holds more than one (a Xen host dump's dom0). */
  domain: string | null;
  release: string | null;
  version: string | null;
  machine: string | null;
  buildId: string | null;
  crashTime: number | null;
  crashTimeUtc: string | null;
  panic: string | null;
  taint: { mask: bigint; flags: string } | null;
  crashingCpu: number | null;
  crashing: TaskBacktrace | null;
  otherCpus: TaskBacktrace[];
  blocked: TaskBacktrace[];
  blockedCount: number;
  modules: { name: string; base: bigint; size: number; taints: string }[];
  signature: CrashSignature | null;
  unwinder: string;
  /** What could not be read, and why. */
  notes: string[];
}

/**
 * What a view without types can still say: init_uts_ns from VMCOREINFO (SYMBOL(init_uts_ns),
 * OFFSET(uts_namespace.name)) holds struct new_utsname, whose layout is user ABI — six
 * 65-byte strings sysname, nodename, release, version, machine, domainname
 * (include/uapi/linux/utsname.h).
 */
function untypedSummary(view: KernelMemoryView): SystemSummary {
  const why = view.sources.skipped.map((x) => `${x.source}: ${x.reason}`).join("; ") || "none found";
  const sum: SystemSummary = { missing: [{ field: "summary", reason: `no kernel types (BTF): ${why}` }] };
  const vi = view.vmcoreinfo;
  const base = vi.symbol("init_uts_ns");
  if (base === undefined) return sum;
  const at = (i: number) => view.mem.add(base, (vi.offset("uts_namespace.name") ?? 0) + i * 65);
  try {
    sum.nodename = view.mem.cstring(at(1), 65);
    sum.release = view.mem.cstring(at(2), 65);
    sum.version = view.mem.cstring(at(3), 65);
    sum.machine = view.mem.cstring(at(4), 65);
  } catch (e) {
    if (e instanceof MissingDataError) throw e;
    if (!(e instanceof KdumpkitError)) throw e;
    sum.missing.push({ field: "uts", reason: e.message });
  }
  return sum;
}

export function triageReport(bt: LinuxBacktracer, input: TriageInput = {}): TriageReport {
  const notes: string[] = [];
  const view = bt.view;
  const sum: SystemSummary = hasTypes(view)
    ? systemSummary(view, input.panic !== undefined ? { panic: input.panic } : {})
    : untypedSummary(view);
  for (const m of sum.missing) notes.push(`${m.field}: ${m.reason}`);
  const panicCpu = bt.panicCpu();
  const cpus = bt.cpuNumbers();
  // a panicking CPU without saved registers (a Xen dom0) still names its task
  const crashingCpu = panicCpu !== undefined && cpus.includes(panicCpu) ? panicCpu : undefined;
  const crashing = crashingCpu !== undefined ? bt.cpu(crashingCpu) : undefined;
  const otherCpus = cpus.filter((c) => c !== crashingCpu).map((c) => bt.cpu(c));
  const bare = cpus.filter((c) => !bt.cpus.some((x) => x.cpu === c));
  if (bt.noCpus !== undefined && bare.length) notes.push(`CPU ${bare.join(", ")}: ${bt.noCpus}`);
  let blocked: TaskBacktrace[] = [];
  let blockedCount = 0;
  try {
    const list = bt.tasks;
    if (list.incomplete) notes.push(`task list: ${list.incomplete}`);
    const d = list.tasks.filter((t) => t.state === "UN" && t.activeCpu === undefined);
    blockedCount = d.length;
    blocked = d.slice(0, MAX_BLOCKED).map((t) => bt.task(t));
  } catch (e) {
    if (!(e instanceof KdumpkitError)) throw e;
    notes.push(`tasks: ${e.message}`);
  }
  if (bt.modules.incomplete) notes.push(`modules: ${bt.modules.incomplete}`);
  const sig = crashing ? crashSignature(crashing.backtrace.frames) : undefined;
  const ct = input.crashTime;
  return {
    domain: null,
    release: sum.release ?? bt.view.vmcoreinfo.osrelease ?? null,
    version: sum.version ?? null,
    machine: sum.machine ?? null,
    buildId: input.buildId ?? bt.view.vmcoreinfo.buildId ?? null,
    crashTime: ct ?? null,
    crashTimeUtc: ct !== undefined ? new Date(ct * 1000).toISOString() : null,
    panic: input.panic ?? sum.panic ?? null,
    taint: sum.taintMask !== undefined ? { mask: sum.taintMask, flags: sum.taints ?? "" } : null,
    crashingCpu: crashingCpu ?? null,
    crashing: crashing ?? null,
    otherCpus,
    blocked,
    blockedCount,
    modules: bt.modules.modules.map((m) => ({ name: m.name, base: m.base, size: m.size, taints: m.taints })),
    signature: sig ?? null,
    unwinder: bt.unwinder,
    notes,
  };
}

/** The report as JSON-ready data (backtraces flattened to frames). */
export function triageJson(r: TriageReport): Record<string, unknown> {
  return {
    ...r,
    crashing: r.crashing ? taskBacktraceJson(r.crashing) : null,
    otherCpus: r.otherCpus.map(taskBacktraceJson),
    blocked: r.blocked.map(taskBacktraceJson),
  };
}
