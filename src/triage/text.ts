/** The triage report as readable text (the CLI's default output). */
import { formatTaskBacktrace } from "../unwind/format.js";
import type { TriageReport } from "./report.js";

export function formatTriage(r: TriageReport): string {
  const out: string[] = [];
  const kv = (k: string, v: string | number | null | undefined) =>
    out.push(`${`${k}:`.padEnd(13)} ${v ?? "-"}`);
  kv("RELEASE", r.release);
  kv("VERSION", r.version);
  kv("MACHINE", r.machine);
  if (r.domain) kv("DOMAIN", r.domain);
  kv("BUILD-ID", r.buildId);
  kv("CRASH TIME", r.crashTimeUtc);
  kv("PANIC", r.panic);
  kv("TAINT", r.taint ? `${r.taint.flags || "(none)"} (0x${r.taint.mask.toString(16)})` : null);
  kv("CRASHING CPU", r.crashingCpu);
  kv("SIGNATURE", r.signature ? `${r.signature.hash}  ${r.signature.title}` : null);
  kv("UNWINDER", r.unwinder);
  if (r.crashing) {
    out.push("", "== crashing task ==");
    out.push(...formatTaskBacktrace(r.crashing));
  }
  if (r.otherCpus.length) {
    out.push("", "== other CPUs ==");
    r.otherCpus.forEach((t, i) => {
      if (i) out.push("");
      out.push(...formatTaskBacktrace(t));
    });
  }
  out.push("", `== blocked (D-state) tasks: ${r.blockedCount} ==`);
  r.blocked.forEach((t, i) => {
    if (i) out.push("");
    out.push(...formatTaskBacktrace(t));
  });
  if (r.blockedCount > r.blocked.length) out.push(`(${r.blockedCount - r.blocked.length} more not shown)`);
  out.push("", `== modules: ${r.modules.length} ==`);
  for (const m of r.modules)
    out.push(
      `${m.name.padEnd(24)} ${m.base.toString(16).padStart(16, "0")} ${String(m.size).padStart(8)}${m.taints ? ` (${m.taints})` : ""}`,
    );
  if (r.notes.length) out.push("", "== not read ==", ...r.notes);
  return `${out.join("\n")}\n`;
}
