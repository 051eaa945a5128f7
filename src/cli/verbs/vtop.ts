import { parseArgs } from "node:util";
import { KdumpkitError, rethrowMissing } from "../../errors.js";
import type { X86_64KernelFacts } from "../../kernel/x86_64.js";
import type { TranslationMethod } from "../../xlat/linux-x86_64.js";
import { pteFlagNames, splitVa, type X86_64Walk } from "../../xlat/x86_64.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { dumpArgs } from "../input.js";
import { loadSystemMap, openKernelArgs, resolveAddress } from "../kernel-open.js";
import { isXenMemory } from "../xen-args.js";

const h = (v: number | bigint) => v.toString(16);

/** crash's mkstring(CENTER|LJUST or RJUST): pad both sides, the odd space right or left. */
function center(s: string, width: number, rjust = false): string {
  if (s.length >= width) return s;
  const left = rjust ? Math.ceil((width - s.length) / 2) : Math.floor((width - s.length) / 2);
  return " ".repeat(left) + s + " ".repeat(width - s.length - left);
}

export interface VtopResult {
  virtual: bigint;
  symbol?: string;
  physical?: number;
  method?: TranslationMethod;
  walk?: X86_64Walk;
  error?: string;
}

/** crash's `vtop` layout for a kernel address (x86_64.c: x86_64_kvtop, x86_64_translate_pte). */
export function renderVtop(r: VtopResult, facts: X86_64KernelFacts): string {
  const lines: string[] = [];
  lines.push(`${"VIRTUAL".padEnd(16)}  ${"PHYSICAL".padEnd(16)}`);
  const physText = r.physical !== undefined ? h(r.physical) : "(not mapped)";
  lines.push(`${h(r.virtual).padStart(16, "0").padEnd(16)}  ${physText.padEnd(16)}`);
  lines.push("");
  const w = r.walk;
  if (!w) {
    lines.push(r.error ? `(no page-table walk: ${r.error})` : "(page tables unknown)");
    return `${lines.join("\n")}\n`;
  }
  if (facts.rootVirtual !== undefined) lines.push(`PGD DIRECTORY: ${h(facts.rootVirtual)}`);
  for (const s of w.steps) {
    if (s.level === "pgd") lines.push(`PAGE DIRECTORY: ${h(s.entry)}`);
    else lines.push(`   ${s.level.toUpperCase()}: ${h(s.entryAddress)} => ${h(s.entry)}`);
  }
  if (w.physical !== undefined && w.pageBase !== undefined) {
    const size = w.pageSize === 1 << 30 ? "  (1GB)" : w.pageSize === 1 << 21 ? "  (2MB)" : "";
    lines.push(`  PAGE: ${h(w.pageBase)}${size}`);
    lines.push("");
  } else if (w.fault) lines.push(`  (${w.fault})`);
  if (w.leaf !== undefined) {
    const pte = h(w.leaf);
    const phys = h(w.pageBase ?? 0);
    const l1 = Math.max(pte.length, 3);
    const l2 = Math.max(phys.length, 8);
    lines.push(`${center("PTE", l1)}  ${center("PHYSICAL", l2)}  FLAGS`);
    const flags = pteFlagNames(w.leaf);
    lines.push(
      `${center(pte, l1, true)}  ${center(phys, l2, true)}  (${flags.length ? flags.join("|") : "no mapping"})`,
    );
  }
  if (r.physical !== undefined && w.physical !== undefined && w.physical !== r.physical)
    lines.push(
      "",
      `NOTE: the page tables map it to ${h(w.physical)}, the ${r.method} mapping to ${h(r.physical)}`,
    );
  return `${lines.join("\n")}\n`;
}

/** Physical addresses as bigints so that JSON shows them in hex like the virtual ones. */
const ADDRESS_KEYS = new Set(["physical", "table", "entryAddress", "pageBase", "rootPhysical"]);
function hexAddresses<T>(v: T): T {
  if (Array.isArray(v)) return v.map(hexAddresses) as T;
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      o[k] = ADDRESS_KEYS.has(k) && typeof x === "number" ? BigInt(x) : hexAddresses(x);
    return o as T;
  }
  return v;
}

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
      const { space, facts } = dump.kernel;
      const results: VtopResult[] = [];
      let failed = 0;
      for (const a of addrs) {
        const { address, symbol } = resolveAddress(a, dump, map);
        const r: VtopResult = { virtual: BigInt.asUintN(64, address) };
        if (symbol) r.symbol = symbol;
        const [hi, lo] = splitVa(address);
        const p = space.translateHiLo(hi, lo);
        if (p >= 0) {
          r.physical = p;
          r.method = space.methodOf(hi, lo);
        } else failed++;
        try {
          const w = space.walk(address);
          if (w) r.walk = w;
        } catch (e) {
          rethrowMissing(e);
          if (!(e instanceof KdumpkitError)) throw e;
          r.error = e.message;
        }
        results.push(r);
      }
      if (values.json)
        ctx.stdout(`${toJson({ facts: hexAddresses(facts), results: results.map(hexAddresses) })}\n`);
      else ctx.stdout(results.map((r) => renderVtop(r, facts)).join("\n"));
      return failed ? 1 : 0;
    } finally {
      dump.close();
    }
  },
};
