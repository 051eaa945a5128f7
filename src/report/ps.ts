/** crash's `ps` listing, shared by `kdumpkit ps` and the web app's tasks view. */
import type { TaskInfo } from "../kernel/tasks.js";

/** crash's `ps` line (task.c show_ps_data): '>' marks a task running on a CPU at the crash. */
export function psLine(t: TaskInfo, pageKb: number, totalPages: number): string {
  const rss = (t.rssPages ?? 0) * pageKb;
  const vsz = (t.vmPages ?? 0) * pageKb;
  const mem = totalPages > 0 ? ((t.rssPages ?? 0) * 100) / totalPages : 0;
  const comm = t.mm === 0n ? `[${t.comm}]` : t.comm;
  return `${t.activeCpu !== undefined ? ">" : " "}${String(t.pid).padStart(8)}${String(t.ppid).padStart(8)}${String(t.cpu).padStart(4)}  ${t.task.toString(16).padStart(16, "0")}  ${t.state.padEnd(2)}${mem.toFixed(1).padStart(6)}${String(vsz).padStart(9)}${String(rss).padStart(9)}  ${comm}`;
}

export const PS_HEADER = "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM";

/** The whole listing: the header, then a line per task (`memoryBytes` for %MEM). */
export function psText(tasks: readonly TaskInfo[], pageSize: number, memoryBytes: number): string {
  const lines = [PS_HEADER, ...tasks.map((t) => psLine(t, pageSize / 1024, memoryBytes / pageSize))];
  return `${lines.join("\n")}\n`;
}
