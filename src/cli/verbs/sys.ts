import { KdumpkitError } from "../../errors.js";
import { taintString } from "../../kernel/modules.js";
import { type SystemSummary, systemSummary } from "../../kernel/summary.js";
import { listTasks } from "../../kernel/tasks.js";
import { toJson, type Verb } from "../common.js";
import { VIEW_USAGE, withSingleDumpView } from "../kernel-view.js";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** date(1)'s default layout in UTC, as crash prints DATE. */
export function crashDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** crash's uptime: "[N days, ]HH:MM:SS". */
export function crashUptime(s: number): string {
  const days = Math.floor(s / 86400);
  const p = (n: number) => String(n).padStart(2, "0");
  const hms = `${p(Math.floor((s % 86400) / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
  return days ? `${days} day${days > 1 ? "s" : ""}, ${hms}` : hms;
}

/** crash's memory size: "511.5 MB", "2 GB". */
export function crashMemory(bytes: number): string {
  const units = ["KB", "MB", "GB", "TB"];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const t = v.toFixed(1).replace(/\.0$/, "");
  return `${t} ${units[u]}`;
}

export function renderSys(s: SystemSummary, dumpfile: string, kernel: string): string {
  const rows: [string, string | undefined][] = [
    ["KERNEL", kernel],
    ["DUMPFILE", dumpfile],
    [
      "CPUS",
      s.cpus === undefined
        ? undefined
        : `${s.cpus}${s.cpusOnline !== undefined && s.cpusOnline < s.cpus ? ` [OFFLINE: ${s.cpus - s.cpusOnline}]` : ""}`,
    ],
    ["DATE", s.crashTime !== undefined ? crashDate(s.crashTime) : undefined],
    ["UPTIME", s.uptimeSeconds !== undefined ? crashUptime(s.uptimeSeconds) : undefined],
    ["LOAD AVERAGE", s.loadAverage?.join(", ")],
    ["TASKS", s.tasks?.toString()],
    ["NODENAME", s.nodename],
    ["RELEASE", s.release],
    ["VERSION", s.version],
    ["MACHINE", s.machine !== undefined && s.mhz ? `${s.machine}  (${s.mhz} Mhz)` : s.machine],
    ["MEMORY", s.memoryBytes !== undefined ? crashMemory(s.memoryBytes) : undefined],
    ["PANIC", s.panic !== undefined ? `"${s.panic}"` : undefined],
    ["TAINT", s.taintMask ? `${taintString(s.taintMask)} (0x${s.taintMask.toString(16)})` : undefined],
  ];
  return `${rows
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k.padStart(12)}: ${v}`)
    .join("\n")}\n`;
}

export const sysVerb: Verb = {
  name: "sys",
  summary: "system summary (release, CPUs, crash time, uptime, load, memory, panic, taint), like crash's sys",
  usage: `usage: kdumpkit sys DUMP [--json]
${VIEW_USAGE}`,
  run(ctx) {
    return withSingleDumpView(ctx, (v, json, file) => {
      let panic: string | undefined;
      try {
        panic = v.panic();
      } catch (e) {
        if (!(e instanceof KdumpkitError)) throw e;
      }
      let tasks: number | undefined;
      try {
        tasks = listTasks(v.view).tasks.length;
      } catch (e) {
        if (!(e instanceof KdumpkitError)) throw e;
      }
      const s = systemSummary(v.view, {
        ...(panic !== undefined ? { panic } : {}),
        ...(tasks !== undefined ? { tasks } : {}),
      });
      const kernel = `(none: ${v.view.sources.symbols} + BTF from ${v.view.sources.types})`;
      if (json) ctx.stdout(`${toJson({ ...s, sources: v.view.sources })}\n`);
      else ctx.stdout(renderSys(s, file, kernel));
      return 0;
    });
  },
};
