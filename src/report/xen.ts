/**
 * A Xen host dump as `kdumpkit xen info` shows it (shared with the web app): version, build,
 * xen_phys_start with every source, CPUs, domains, VMCOREINFO_XEN, dom0's p2m and kernel.
 */
import type { PhysReader } from "../dump/types.js";
import { hex, rethrowMissing } from "../errors.js";
import type { Dom0View } from "../xen/dom0.js";
import { listDomains, type XenDomainList } from "../xen/domains.js";
import { dom0P2mOf } from "../xen/host.js";
import { formatXenVersion } from "../xen/layout.js";
import type { XenDump } from "../xen/open.js";
import { counted } from "./text.js";

export interface XenDetails {
  domains: XenDomainList | string;
  /** Lines about dom0 for the text listing. */
  extra: string[];
  /** The same for JSON. */
  dom0: Record<string, unknown>;
}

/**
 * The domain list, dom0's p2m and dom0's kernel (its VMCOREINFO found through System.map when
 * one was given, else in dom0's memory): what `xen info` adds to the XenDump. Best effort:
 * failures become text.
 */
export function xenDetails(x: XenDump, machine: PhysReader, dom0View: () => Dom0View): XenDetails {
  let domains: XenDomainList | string;
  if (!x.space || !x.vmcoreinfoXen) domains = "no hypervisor address space or no VMCOREINFO_XEN";
  else {
    try {
      domains = listDomains(x.space, x.vmcoreinfoXen);
    } catch (e) {
      rethrowMissing(e);
      domains = (e as Error).message;
    }
  }
  const extra: string[] = [];
  const dom0: Record<string, unknown> = {};
  const p2m = dom0P2mOf(x, machine);
  if (typeof p2m === "string") extra.push(`  dom0 p2m:        ${p2m}`);
  else {
    const scan = p2m.scan();
    dom0.p2m = {
      frameListListMfn: BigInt(p2m.frameListListMfn),
      pages: scan.entries,
      highestPfn: BigInt(Math.max(0, scan.highestPfn)),
      gaps: scan.gaps,
    };
    extra.push(
      `  dom0 p2m:        frame-list-list mfn ${hex(p2m.frameListListMfn)}: ${counted(scan.entries, "page")} (${((scan.entries * 4096) / 2 ** 20).toFixed(0)} MiB), highest pfn ${hex(Math.max(0, scan.highestPfn))}${scan.gaps.length ? `, ${counted(scan.gaps.length, "unreadable p2m page")}` : ""}`,
    );
    for (const g of scan.gaps.slice(0, 8)) extra.push(`    gap: ${g}`);
    const view = dom0View();
    if (view.vmcoreinfo) {
      const vi = view.vmcoreinfo;
      dom0.osrelease = vi.info.osrelease;
      dom0.vmcoreinfo = vi.info.text;
      dom0.vmcoreinfoVia = vi.via;
      extra.push(
        `  dom0 kernel:     ${vi.info.osrelease} (VMCOREINFO at ${hex(vi.address)}, ${vi.size} bytes, found ${vi.via === "memory" ? "in dom0's memory" : "via System.map"})`,
      );
    }
    for (const p of view.problems) extra.push(`  dom0: ${p}`);
    dom0.problems = view.problems;
  }
  return { domains, extra, dom0 };
}

/** `kdumpkit xen info --json`'s object. */
export function xenInfoJson(x: XenDump, domains: XenDomainList | string, dom0: Record<string, unknown>) {
  const {
    space: _space,
    hypervisor: _hypervisor,
    vmcoreinfoXen,
    physStart,
    p2mFrameListListMfn,
    ...rest
  } = x;
  return {
    ...rest,
    physStart: {
      ...physStart,
      value: physStart.value !== undefined ? BigInt(physStart.value) : undefined,
      candidates: physStart.candidates.map((c) => ({ ...c, value: BigInt(c.value) })),
    },
    ...(p2mFrameListListMfn !== undefined ? { p2mFrameListListMfn: BigInt(p2mFrameListListMfn) } : {}),
    vmcoreinfoXen: vmcoreinfoXen?.text,
    domains: typeof domains === "string" ? { error: domains } : domains,
    dom0,
  };
}

export function xenInfoText(
  file: string,
  x: XenDump,
  domains: XenDomainList | string,
  extra: string[],
): string {
  const out: string[] = [`Xen host dump: ${file}`];
  const v = x.version;
  out.push(
    `  Xen version:     ${v ? `${formatXenVersion(v)} (${v.source})` : x.versionRange ? `${x.versionRange} (from XEN_VIRT_START)` : "unknown"}`,
  );
  if (x.build?.compiler) out.push(`  compiled by:     ${x.build.compiler}`);
  if (x.build?.compileDate) out.push(`  compiled on:     ${x.build.compileDate}`);
  const ps = x.physStart;
  out.push(
    `  xen_phys_start:  ${ps.value !== undefined ? `${hex(ps.value)} from ${ps.source}` : "not found"}`,
  );
  for (const c of ps.candidates)
    out.push(
      `    ${c.source.padEnd(20)} ${hex(c.value).padEnd(12)} ${c.value === ps.value ? "agrees " : "DIFFERS"}  ${c.detail}`,
    );
  for (const u of ps.unavailable) out.push(`    ${u}`);
  out.push(
    `  XEN_VIRT_START:  ${x.xenVirtStart !== undefined ? `${hex(x.xenVirtStart)} (${x.xenVirtStartSource})` : "unknown"}`,
  );
  if (x.hypervisor)
    out.push(
      `  direct map:      ${hex(x.hypervisor.directMapStart)}-${hex(x.hypervisor.directMapEnd)}, PDX ${x.pdx ? `hole shift ${x.pdx.holeShift} (${x.pdx.source})` : "not read (needs --xen-syms): none assumed"}`,
    );
  out.push(...extra);
  if (x.cpus.length) {
    out.push("Physical CPUs:");
    for (const c of x.cpus)
      out.push(
        `  CPU ${c.cpu}: RIP ${c.rip !== undefined ? hex(c.rip) : "?"}${c.ripSymbol ? ` <${c.ripSymbol}>` : ""}  RSP ${c.rsp !== undefined ? hex(c.rsp) : "?"}  CR3 ${c.cr3 !== undefined ? hex(c.cr3) : "?"}${c.panicked ? `  PANICKED (${c.panicked})` : ""}${(c.dom0Vcpus ?? []).map((v) => `\n      ran dom0 vCPU ${v.vcpu} (its CR3: pfn ${hex(v.cr3Mfn)})`).join("")}`,
      );
    if (!x.cpus.some((c) => c.panicked))
      out.push("  which CPU panicked: unknown (needs --xen-syms for crashing_cpu)");
  }
  out.push("Domains (domain_list):");
  if (typeof domains === "string") out.push(`  ${domains}`);
  else {
    for (const d of domains.domains) out.push(`  d${d.domainId}  struct domain at ${hex(d.address)}`);
    if (domains.stopped) out.push(`  (walk stopped: ${domains.stopped})`);
  }
  if (x.vmcoreinfoXen) {
    out.push("VMCOREINFO_XEN:");
    for (const l of x.vmcoreinfoXen.text.split("\n")) if (l) out.push(`  ${l}`);
  }
  for (const c of x.checks) out.push(`check: ${c}`);
  for (const w of x.warnings) out.push(`warning: ${w}`);
  return `${out.join("\n")}\n`;
}
