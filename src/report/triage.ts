/** The triage report of a Linux dump, shared by `kdumpkit triage` and the web app. */
import type { Dump } from "../dump/dump.js";
import { KdumpkitError, rethrowMissing } from "../errors.js";
import { panicMessageOf } from "../kernel/linux.js";
import { findPanicMessage } from "../kernel/panic.js";
import { readKernelLog } from "../kernel/printk.js";
import { type TriageReport, triageReport } from "../triage/report.js";
import type { LinuxBacktracer } from "../unwind/linux.js";
import type { Dom0View } from "../xen/dom0.js";

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

/**
 * The report of dom0 inside a Xen host dump: dom0's memory answers everything but the CPUs'
 * backtraces (see backtracerOfDom0); the panic line from dom0's own log.
 */
export function triageOfDom0(d: Dom0View, bt: LinuxBacktracer, crashTime?: number): TriageReport {
  let panic: string | undefined;
  try {
    if (d.vmcoreinfo) panic = findPanicMessage(readKernelLog(d.space, d.vmcoreinfo.info))?.message;
  } catch (e) {
    rethrowMissing(e);
    if (!(e instanceof KdumpkitError)) throw e;
  }
  const input: Parameters<typeof triageReport>[1] = {};
  if (crashTime !== undefined) input.crashTime = crashTime;
  if (panic !== undefined) input.panic = panic;
  return {
    ...triageReport(bt, input),
    domain: "dom0 of a Xen host dump (the hypervisor: kdumpkit xen info|dmesg)",
  };
}
