import type { KernelSymbol } from "../../symbols/table.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { dumpArgs } from "../input.js";
import { openView, symbolsWithModules, VIEW_USAGE, viewArgs } from "../kernel-view.js";

interface SymResult {
  query: string;
  address?: bigint;
  name?: string;
  type?: string;
  offset?: bigint;
  size?: bigint;
  module?: string;
  error?: string;
}

/** crash's `sym` line: "ADDRESS (T) name+off [module]". */
function line(r: SymResult): string {
  if (r.error) return `sym: ${r.query}: ${r.error}`;
  const off = r.offset ? `+${r.offset}` : "";
  const mod = r.module ? ` [${r.module}]` : "";
  return `${r.address!.toString(16).padStart(16, "0")} (${r.type}) ${r.name}${off}${mod}`;
}

function result(query: string, s: KernelSymbol, address: bigint, offset: bigint): SymResult {
  return {
    query,
    address,
    name: s.name,
    type: s.type,
    offset,
    size: s.size,
    ...(s.module ? { module: s.module } : {}),
  };
}

export const symVerb: Verb = {
  name: "sym",
  summary: "symbol ↔ address from the dump's own kallsyms (kernel and modules), like crash's sym",
  usage: `usage: kdumpkit sym DUMP ADDRESS|NAME… [--system-map F] [--vmlinux F] [--json]
  ADDRESS  hexadecimal (with or without 0x): the symbol containing it, +offset
  NAME     a kernel or module symbol: its address and type
${VIEW_USAGE}`,
  async run(ctx) {
    const { values, positionals } = viewArgs(ctx);
    const { parts, rest: queries } = dumpArgs(positionals);
    if (queries.length === 0) throw new UsageError("expected DUMP and at least one ADDRESS or NAME");
    const v = await openView(ctx, parts, values);
    try {
      const table = symbolsWithModules(v.view);
      const results: SymResult[] = queries.map((q) => {
        const byName = table.lookupAll(q);
        if (byName.length) return result(q, byName[0]!, byName[0]!.address, 0n);
        if (/^(0x)?[0-9a-f]{1,16}$/i.test(q)) {
          const a = BigInt(q.toLowerCase().startsWith("0x") ? q : `0x${q}`);
          const m = table.resolve(a);
          if (m) return result(q, m.symbol, a, m.offset);
          return { query: q, address: a, error: "no symbol contains this address" };
        }
        return { query: q, error: "no such symbol" };
      });
      if (values.json)
        ctx.stdout(`${toJson({ symbols: table.source, incomplete: table.incomplete, results })}\n`);
      else ctx.stdout(`${results.map(line).join("\n")}\n`);
      return results.some((r) => r.error) ? 1 : 0;
    } finally {
      v.close();
    }
  },
};
