import { parseArgs } from "node:util";
import type { Explanation } from "../../xlat/space.js";
import type { Walk } from "../../xlat/walk.js";
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
  /** The range's id ("text", "direct", "lowmem", "linear", "pagetable") and name. */
  method?: string;
  range?: string;
  walk?: Walk;
  error?: string;
}

/** What renderVtop needs of the kernel: the root's virtual address, the flag names of a leaf. */
export interface VtopContext {
  facts: { rootVirtual?: bigint };
  flagNames(entry: bigint): string[];
  /** 4 on 32-bit kernels: crash prints 8-digit virtual addresses there (VADDR_PRLEN). */
  pointerSize?: 4 | 8;
}

/** A vtop result from the engine's explanation. */
export function vtopResult(e: Explanation, symbol?: string): VtopResult {
  const r: VtopResult = { virtual: e.virtual };
  if (symbol) r.symbol = symbol;
  if (e.physical !== undefined) r.physical = e.physical;
  if (e.physical !== undefined && e.rangeId !== undefined) r.method = e.rangeId;
  if (e.range !== undefined) r.range = e.range;
  if (e.walk) r.walk = e.walk;
  if (e.error !== undefined && !e.walk) r.error = e.error;
  return r;
}

function sizeLabel(size: number | undefined): string {
  if (size === undefined || size <= 65536) return "";
  return size >= 2 ** 30 ? `  (${size / 2 ** 30}GB)` : `  (${size / 2 ** 20}MB)`;
}

/**
 * crash's `vtop` layout for a kernel address (x86_64.c: x86_64_kvtop, x86_64_translate_pte; the
 * same shape for i386 and arm64, with their level names and entry flags).
 */
export function renderVtop(r: VtopResult, ctx: VtopContext): string {
  const lines: string[] = [];
  const vw = ctx.pointerSize === 4 ? 8 : 16;
  lines.push(`${"VIRTUAL".padEnd(vw)}  ${"PHYSICAL".padEnd(vw)}`);
  const physText = r.physical !== undefined ? h(r.physical) : "(not mapped)";
  lines.push(`${h(r.virtual).padStart(vw, "0").padEnd(vw)}  ${physText.padEnd(vw)}`);
  lines.push("");
  const w = r.walk;
  if (!w) {
    lines.push(r.error ? `(no page-table walk: ${r.error})` : "(page tables unknown)");
    return `${lines.join("\n")}\n`;
  }
  if (ctx.facts.rootVirtual !== undefined) lines.push(`PGD DIRECTORY: ${h(ctx.facts.rootVirtual)}`);
  for (const s of w.steps) {
    if (s.level === "pgd") lines.push(`PAGE DIRECTORY: ${h(s.entry)}`);
    else lines.push(`   ${s.level.toUpperCase()}: ${h(s.entryAddress)} => ${h(s.entry)}`);
  }
  if (w.physical !== undefined && w.pageBase !== undefined) {
    lines.push(`  PAGE: ${h(w.pageBase)}${sizeLabel(w.pageSize)}`);
    lines.push("");
  } else if (w.fault) lines.push(`  (${w.fault})`);
  if (w.leaf !== undefined) {
    const pte = h(w.leaf);
    const phys = h(w.pageBase ?? 0);
    const l1 = Math.max(pte.length, 3);
    const l2 = Math.max(phys.length, 8);
    lines.push(`${center("PTE", l1)}  ${center("PHYSICAL", l2)}  FLAGS`);
    const flags = ctx.flagNames(w.leaf);
    lines.push(
      `${center(pte, l1, true)}  ${center(phys, l2, true)}  (${flags.length ? flags.join("|") : "no mapping"})`,
    );
  }
  if (r.physical !== undefined && w.physical !== undefined && w.physical !== r.physical)
    lines.push(
      "",
      `NOTE: the page tables map it to ${h(w.physical)}, the ${r.range ?? r.method} to ${h(r.physical)}`,
    );
  return `${lines.join("\n")}\n`;
}

/** Physical addresses as bigints so that JSON shows them in hex like the virtual ones. */
const ADDRESS_KEYS = new Set(["physical", "table", "entryAddress", "pageBase", "rootPhysical", "pageOffset"]);
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
      const k = dump.kernel;
      const ctx2: VtopContext = {
        facts: k.facts,
        flagNames: (e) => k.walker?.flagNames(e) ?? [],
        pointerSize: k.pointerSize,
      };
      const results: VtopResult[] = [];
      let failed = 0;
      for (const a of addrs) {
        const { address, symbol } = resolveAddress(a, dump, map);
        const r = vtopResult(k.space.explain(address), symbol);
        if (r.physical === undefined) failed++;
        results.push(r);
      }
      if (values.json)
        ctx.stdout(
          `${toJson({ facts: hexAddresses(k.x86_64 ?? k.i386 ?? k.arm64 ?? k.facts), results: results.map(hexAddresses) })}\n`,
        );
      else ctx.stdout(results.map((r) => renderVtop(r, ctx2)).join("\n"));
      return failed ? 1 : 0;
    } finally {
      dump.close();
    }
  },
};
