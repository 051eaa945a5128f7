/** crash's `bt` listings, shared by `kdumpkit bt` and the web app's backtrace view. */
import type { Dump } from "../dump/dump.js";
import { FormatError, KdumpkitError, rethrowMissing } from "../errors.js";
import type { Kernel } from "../kernel/open.js";
import type { SystemMap } from "../kernel/system-map.js";
import { kernelMemoryView } from "../kernel/view.js";
import { X86_64_TARGET } from "../symbols/memory.js";
import { formatTaskBacktrace, taskBacktraceJson } from "../unwind/format.js";
import { LinuxBacktracer, type TaskBacktrace } from "../unwind/linux.js";
import { linuxBacktracer } from "../unwind/open.js";
import type { PtRegs } from "../unwind/x86_64.js";
import type { Dom0View } from "../xen/dom0.js";
import { listDomains } from "../xen/domains.js";
import { type Dom0VcpuRegisters, dom0VcpuRegisters, type LazyGuestFrame } from "../xen/guest-regs.js";
import type { XenDump } from "../xen/open.js";

/**
 * The backtracer of a Linux dump (kallsyms and BTF from its memory, ORC on x86_64, frame records
 * on arm64 and frame pointers on i386; a System.map stands in for kallsyms; types optional):
 * what bt and triage start from, in the CLI and the web app alike.
 */
export function backtracerOfDump(
  d: Dump,
  kernel: Pick<Kernel, "space">,
  systemMap?: SystemMap,
): LinuxBacktracer {
  return linuxBacktracer(d, kernel.space, systemMap ? { systemMap } : {});
}

/**
 * The backtracer of dom0 inside a Xen host dump (src/xen/dom0.ts openDom0 with its VMCOREINFO):
 * kallsyms, BTF and ORC from dom0's memory through the p2m. The dump's notes hold the physical
 * CPUs' (Xen's own) registers; a dom0 vCPU that was running on one at the crash has its
 * registers in the guest frame at the top of that CPU's Xen stack (src/xen/guest-regs.ts, given
 * the host). The others' lie in Xen's struct vcpu: their running tasks are named without a
 * backtrace, the panicking one unwound from panic()'s frame on its stack (LinuxBacktracer);
 * sleeping tasks unwind from their switch frames.
 */
export function backtracerOfDom0(d: Dom0View, host?: XenDump, systemMap?: SystemMap): LinuxBacktracer {
  if (!d.vmcoreinfo) throw new FormatError(`dom0: ${d.problems.join("; ")}`);
  const info = d.vmcoreinfo.info;
  const view = kernelMemoryView({
    memory: d.space,
    target: X86_64_TARGET,
    vmcoreinfo: info,
    ...(systemMap ? { systemMap } : {}),
  });
  let found: Dom0VcpuRegisters[] = [];
  let lazy: LazyGuestFrame[] = [];
  let why = "dom0's vCPU registers are kept by Xen (struct vcpu), not in the dump's notes";
  const space = host?.space;
  const vi = host?.vmcoreinfoXen;
  if (host && space && vi) {
    try {
      const dom0 = listDomains(space, vi).domains.find((x) => x.domainId === 0);
      if (dom0) {
        const offId = vi.offset("domain.domain_id");
        const domainId = (d: bigint) => {
          try {
            const b = space.read(d + BigInt(offId ?? 0), 2);
            return b[0]! | (b[1]! << 8);
          } catch (e) {
            rethrowMissing(e);
            return undefined;
          }
        };
        const r = dom0VcpuRegisters(
          space,
          host.cpus,
          dom0.address,
          offId !== undefined ? domainId : undefined,
        );
        found = r.found;
        lazy = r.lazy;
        if (r.found.length || r.lazy.length)
          why = "not running on a physical CPU at the crash: its registers are kept by Xen (struct vcpu)";
      }
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
    }
  }
  const bt = new LinuxBacktracer(view, [], { arch: "x86_64", release: info.osrelease, noCpus: why });
  // a guest kernel frame (kernel selectors) whose rip is not dom0's kernel text is corrupt: the
  // vCPU then falls back as if no frame were found
  const isText = (r: PtRegs) => r.rip !== undefined && bt.ctx.isText(r.rip);
  for (const f of found)
    if (isText(f.regs))
      bt.addCpu({ cpu: f.vcpu, regs: f.regs, source: `Xen guest frame on physical CPU ${f.pcpu}` });
  // an idle physical CPU's frame: the dom0 vCPU whose stacks hold its rsp (and only that one)
  for (const f of lazy) {
    const cpu = f.regs.rsp !== undefined && isText(f.regs) ? bt.cpuOfStack(f.regs.rsp) : undefined;
    if (cpu !== undefined)
      bt.addCpu({ cpu, regs: f.regs, source: `Xen guest frame left on idle physical CPU ${f.pcpu}` });
  }
  return bt;
}

/** The backtraces one after another, a note first when the unwinder is limited. */
export function btText(b: LinuxBacktracer, list: readonly TaskBacktrace[]): string {
  const out: string[] = [];
  if (b.limitation) out.push(`note: ${b.limitation}`);
  list.forEach((t, i) => {
    if (i > 0) out.push("");
    out.push(...formatTaskBacktrace(t));
  });
  return `${out.join("\n")}\n`;
}

/** `kdumpkit bt --json`'s object. */
export function btJson(file: string, b: LinuxBacktracer, list: readonly TaskBacktrace[]) {
  return {
    file,
    orc: b.orc ?? null,
    limitation: b.limitation ?? null,
    backtraces: list.map(taskBacktraceJson),
  };
}
