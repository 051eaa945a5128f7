import { parseArgs } from "node:util";
import { triageOfDump } from "../../report/triage.js";
import { triageJson } from "../../triage/report.js";
import { formatTriage } from "../../triage/text.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { openBacktracer } from "./bt.js";

/** `kdumpkit triage DUMP`: why did it crash, from the dump alone (one report per dump). */
export const triageVerb: Verb = {
  name: "triage",
  summary: "crash report: panic, crashing task and backtraces, blocked tasks, modules, signature",
  usage: `usage: kdumpkit triage DUMP [--system-map F] [--json]
  --system-map F symbols from this System.map when the dump's kallsyms cannot be read
  --json         one JSON document (addresses as "0x…" strings)`,
  run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, "system-map": { type: "string" } },
    });
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError("expected exactly one DUMP");
    const o = openBacktracer(ctx, file, values["system-map"]);
    try {
      const r = triageOfDump(o.dump.dump, o.bt);
      ctx.stdout(values.json ? `${toJson({ file, ...triageJson(r) })}\n` : formatTriage(r));
      return 0;
    } finally {
      o.close();
    }
  },
};
