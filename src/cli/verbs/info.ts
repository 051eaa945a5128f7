import { parseArgs } from "node:util";
import { dumpInfo, infoJson, infoText } from "../../report/info.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { openDumpArgs } from "../input.js";

export const infoVerb: Verb = {
  name: "info",
  summary: "what a crash dump holds: format, machine, kernel, CPUs, crash time, memory and page states",
  usage: `usage: kdumpkit info DUMP [PART…] [--map] [--json]
  DUMP      ELF vmcore, kdump-compressed or flattened file (.zst/.gz are decompressed first);
            give every part of a split dump (makedumpfile --split) to open them as one
  --map     list every range of the physical memory map with its page state
  --json    machine-readable output`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, map: { type: "boolean" } },
    });
    if (positionals.length === 0) throw new UsageError("expected a DUMP");
    const f = await openDumpArgs(ctx, positionals);
    try {
      const d = f.dump;
      const info = dumpInfo(d);
      ctx.stdout(
        values.json
          ? `${toJson(infoJson(d, info, values.map ?? false))}\n`
          : infoText(d, info, values.map ?? false),
      );
      return 0;
    } finally {
      f.close();
    }
  },
};
