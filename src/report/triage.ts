/** The triage report of a Linux dump, shared by `kdumpkit triage` and the web app. */
import type { Dump } from "../dump/dump.js";
import { KdumpkitError } from "../errors.js";
import { panicMessageOf } from "../kernel/linux.js";
import { type TriageReport, triageReport } from "../triage/report.js";
import type { LinuxBacktracer } from "../unwind/linux.js";

/** The report from the backtracer plus what the dump says (crash time, the log's panic line). */
export function triageOfDump(d: Dump, bt: LinuxBacktracer): TriageReport {
  let panic: string | undefined;
  try {
    panic = panicMessageOf(d)?.message;
  } catch (e) {
    // a dump whose log cannot be read still gets its report, without the panic line
    if (!(e instanceof KdumpkitError)) throw e;
  }
  const input: Parameters<typeof triageReport>[1] = {};
  if (d.crashTime !== undefined) input.crashTime = d.crashTime;
  if (panic !== undefined) input.panic = panic;
  return triageReport(bt, input);
}
