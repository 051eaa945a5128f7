import { parseArgs } from "node:util";
import { triageJson } from "../../triage/report.js";
import { formatTriage } from "../../triage/text.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { dumpArgs } from "../input.js";
import { openBacktracer } from "./bt.js";

/** `kdumpkit triage DUMP`: why did it crash, from the dump alone (one report per dump). */
export const triageVerb: Verb = {
  name: "triage",
  summary: "crash report: panic, crashing task and backtraces, blocked tasks, modules, signature",
  usage: `usage: kdumpkit triage DUMP [--system-map F] [--domain 0] [--json]
  --system-map F symbols from this System.map when the dump's kallsyms cannot be read
  --domain 0     a Xen host dump's dom0 through the p2m (taken by itself on such a dump; its
                 VMCOREINFO through --system-map, else found in dom0's memory)
  --json         one JSON document (addresses as "0x…" strings)`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, "system-map": { type: "string" }, domain: { type: "string" } },
    });
    const { parts, rest } = dumpArgs(positionals);
    if (rest.length)
      throw new UsageError(`unexpected argument '${rest[0]}' (expected a DUMP or its split parts)`);
    const file = parts.join(" ");
    const o = await openBacktracer(ctx, parts, values["system-map"], values.domain);
    try {
      const r = o.triage();
      ctx.stdout(values.json ? `${toJson({ file, ...triageJson(r) })}\n` : formatTriage(r));
      return 0;
    } finally {
      o.close();
    }
  },
};
