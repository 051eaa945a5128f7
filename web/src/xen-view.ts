/**
 * The Xen host view: xen_phys_start and its sources, the console ring, dom0's kernel log and
 * dom0's crash report (`kdumpkit triage --domain 0`).
 */
import type { SyncByteSource } from "../../src/bytes/source.js";
import type { Dump } from "../../src/dump/dump.js";
import { rethrowMissing } from "../../src/errors.js";
import { formatDmesg, readKernelLog } from "../../src/kernel/printk.js";
import { backtracerOfDom0 } from "../../src/report/bt.js";
import { toJson } from "../../src/report/json.js";
import { triageOfDom0 } from "../../src/report/triage.js";
import { xenDetails, xenInfoJson, xenInfoText } from "../../src/report/xen.js";
import { formatTriage } from "../../src/triage/text.js";
import { readConsoleRing } from "../../src/xen/conring.js";
import { type Dom0View, dom0ScanOf, openDom0 } from "../../src/xen/dom0.js";
import { dom0P2mOf } from "../../src/xen/host.js";
import { openXenDump } from "../../src/xen/open.js";
import { SymbolTable } from "../../src/xen/symbols.js";
import type { ViewResult } from "./protocol.js";

export function xenView(
  dump: Dump,
  name: string,
  files: {
    xenSyms?: SyncByteSource | undefined;
    systemMap?: SyncByteSource | undefined;
    iomem?: string | undefined;
  },
): ViewResult {
  const xenSyms = files.xenSyms ? SymbolTable.fromFile(files.xenSyms) : undefined;
  const systemMap = files.systemMap ? SymbolTable.fromFile(files.systemMap) : undefined;
  const x = openXenDump(dump, {
    ...(xenSyms ? { xenSyms } : {}),
    ...(files.iomem !== undefined ? { iomem: files.iomem } : {}),
  });
  let dom0: Dom0View | undefined;
  const dom0View = () => {
    if (dom0) return dom0;
    const p2m = dom0P2mOf(x, dump);
    if (typeof p2m === "string") throw new Error(`dom0: ${p2m}`);
    dom0 = openDom0(dump, p2m, systemMap, dom0ScanOf(dump));
    return dom0;
  };
  const det = xenDetails(x, dump, dom0View);
  const info = xenInfoText(name, x, det.domains, det.extra);
  let consoleText = "";
  if (!xenSyms) consoleText = "(open xen-syms too to read the hypervisor's console ring)\n";
  else if (!x.space) consoleText = `(no hypervisor address space: ${x.physStart.unavailable.join("; ")})\n`;
  else {
    try {
      consoleText = readConsoleRing(x.space, xenSyms).text;
    } catch (e) {
      consoleText = `(console ring: ${(e as Error).message})\n`;
    }
  }
  // dom0's VMCOREINFO through its System.map, else found in dom0's memory
  let dom0Log = "";
  try {
    const v = dom0View();
    if (!v.vmcoreinfo)
      dom0Log = `(dom0: ${v.problems.join("; ")}${systemMap ? "" : "; open dom0's System.map too"})\n`;
    else {
      const log = readKernelLog(v.space, v.vmcoreinfo.info);
      dom0Log = new TextDecoder("latin1").decode(formatDmesg(log));
      // as `kdumpkit dmesg --domain 0` ends a cut log: the records read, then where it was cut
      if (log.incomplete) dom0Log += `(incomplete: the log is cut: ${log.incomplete})\n`;
    }
  } catch (e) {
    rethrowMissing(e);
    dom0Log = `(dom0: ${(e as Error).message})\n`;
  }
  // why dom0 crashed, as `kdumpkit triage DUMP --domain 0` prints it
  let dom0Triage = "";
  try {
    const v = dom0View();
    dom0Triage = v.vmcoreinfo
      ? formatTriage(triageOfDom0(v, backtracerOfDom0(v, x), dump.crashTime))
      : `(dom0: ${v.problems.join("; ")})\n`;
  } catch (e) {
    rethrowMissing(e);
    dom0Triage = `(dom0: ${(e as Error).message})\n`;
  }
  return {
    title: "Xen host",
    text: `${info}\n== console ring ==\n${consoleText}\n== dom0 kernel log ==\n${dom0Log}\n== dom0 crash report ==\n${dom0Triage}`,
    info,
    consoleText,
    dom0Log,
    dom0Triage,
    physStart: x.physStart.value ?? null,
    json: toJson(xenInfoJson(x, det.domains, det.dom0)),
  };
}
