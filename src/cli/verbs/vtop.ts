import { parseArgs } from "node:util";
import { hexAddresses, renderVtop, type VtopResult, vtopOf } from "../../report/vtop.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { dumpArgs } from "../input.js";
import { loadSystemMap, openKernelArgs, resolveAddress } from "../kernel-open.js";
import { isXenMemory } from "../xen-args.js";

export const vtopVerb: Verb = {
  name: "vtop",
  summary: "translate a kernel virtual address, showing every page-table step (crash's vtop)",
  usage: `usage: kdumpkit vtop DUMP ADDRESS|SYMBOL… [--system-map FILE] [--json]
  ADDRESS        kernel virtual address (hex, with or without 0x)
  SYMBOL         a VMCOREINFO symbol (init_top_pgt, prb, …) or, with --system-map, any symbol
  --system-map F the kernel's System.map; KASLR's KERNELOFFSET is applied to it
Xen host dumps (see "kdumpkit xen"):
       kdumpkit vtop DUMP (--xen-virt [--xen-syms F] | --domain 0 (--phys|--virt)
                 [--system-map F]) ADDRESS|SYMBOL`,
  async run(ctx) {
    // Xen host dumps: handled by src/cli/verbs/xen.ts
    if (isXenMemory(ctx.args)) return import("./xen.js").then((x) => x.runXenVtop(ctx, ctx.args));
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { "system-map": { type: "string" }, json: { type: "boolean" } },
    });
    const { parts, rest: addrs } = dumpArgs(positionals);
    if (addrs.length === 0) throw new UsageError("expected DUMP [PART…] and at least one ADDRESS");
    const dump = await openKernelArgs(ctx, parts);
    try {
      const map = values["system-map"] !== undefined ? loadSystemMap(values["system-map"], dump) : undefined;
      const k = dump.kernel;
      const results: VtopResult[] = [];
      let failed = 0;
      for (const a of addrs) {
        const { address, symbol } = resolveAddress(a, dump, map);
        const r = vtopOf(k, address, symbol);
        if (r.physical === undefined) failed++;
        results.push(r);
      }
      if (values.json)
        ctx.stdout(
          `${toJson({ facts: hexAddresses(k.x86_64 ?? k.i386 ?? k.arm64 ?? k.facts), results: results.map(hexAddresses) })}\n`,
        );
      else ctx.stdout(results.map((r) => renderVtop(r, k)).join("\n"));
      return failed ? 1 : 0;
    } finally {
      dump.close();
    }
  },
};
