import { parseArgs } from "node:util";
import {
  hexAddresses,
  renderSpaceVtop,
  renderVtop,
  type SpaceVtopResult,
  spaceVtopJson,
  type VtopResult,
  vtopResult,
} from "../../report/vtop.js";
import { toJson, UsageError, type Verb, type VerbContext } from "../common.js";
import { dumpArgs } from "../input.js";
import { loadSystemMap, openKernelArgs, resolveAddress } from "../kernel-open.js";
import { isXenMemory, XEN_OPTION_NAMES } from "../xen-args.js";
import type { XenValues } from "../xen-memory.js";

export const vtopVerb: Verb = {
  name: "vtop",
  summary: "translate a kernel virtual address, showing every page-table step (crash's vtop)",
  usage: `usage: kdumpkit vtop DUMP ADDRESS|SYMBOL… [--system-map FILE] [--json]
  ADDRESS        kernel virtual address (hex, with or without 0x)
  SYMBOL         a VMCOREINFO symbol (init_top_pgt, prb, …) or, with --system-map, any symbol
  --system-map F the kernel's System.map; KASLR's KERNELOFFSET is applied to it
Xen host dumps (see "kdumpkit xen"):
       kdumpkit vtop DUMP (--xen-virt [--xen-syms F] | --machine | --domain 0 (--phys|--virt)
                 [--system-map F]) ADDRESS|SYMBOL…`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        phys: { type: "boolean", short: "p" },
        virt: { type: "boolean" },
        ...XEN_OPTION_NAMES,
      },
    });
    const { parts, rest: addrs } = dumpArgs(positionals);
    if (addrs.length === 0) throw new UsageError("expected DUMP [PART…] and at least one ADDRESS");
    // the same engine (explain) and the same renderer for a Linux kernel and every Xen space
    if (isXenMemory(ctx.args)) return xenVtop(ctx, parts, addrs, values);
    if (values.phys)
      throw new UsageError("--phys is for Xen's --domain 0 (a Linux vtop takes virtual addresses)");
    const dump = await openKernelArgs(ctx, parts);
    try {
      const map = values["system-map"] !== undefined ? loadSystemMap(values["system-map"], dump) : undefined;
      const k = dump.kernel;
      const results: VtopResult[] = [];
      for (const a of addrs) {
        const { address, symbol } = resolveAddress(a, dump, map);
        results.push(vtopResult(k.space.explain(address), symbol));
      }
      if (values.json)
        ctx.stdout(
          `${toJson({ facts: hexAddresses(k.x86_64 ?? k.i386 ?? k.arm64 ?? k.facts), results: results.map(hexAddresses) })}\n`,
        );
      else ctx.stdout(results.map((r) => renderVtop(r, k)).join("\n"));
      return results.some((r) => r.physical === undefined) ? 1 : 0;
    } finally {
      dump.close();
    }
  },
};

async function xenVtop(
  ctx: VerbContext,
  parts: readonly string[],
  addrs: string[],
  values: XenValues & { json?: boolean | undefined },
): Promise<number> {
  const m = (await import("../xen-memory.js")).openXenMemory(parts, values);
  try {
    const results: SpaceVtopResult[] = addrs.map((a) => {
      const { address, symbol } = m.resolve(a);
      const e = m.memory.space.explain(address);
      return { ...vtopResult(e, symbol), space: m.memory.name, ...m.memory.addresses(e) };
    });
    if (values.json) {
      // one address: the result itself (as `xen vtop --json` always printed); several: a list
      const out = results.map(spaceVtopJson);
      ctx.stdout(`${toJson(out.length === 1 ? out[0] : { results: out })}\n`);
    } else ctx.stdout(results.map((r) => renderSpaceVtop(r, m.memory.vtop)).join("\n"));
    return results.some((r) => r.physical === undefined) ? 1 : 0;
  } finally {
    m.close();
  }
}
