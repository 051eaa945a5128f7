import { parseArgs } from "node:util";
import { openDumpFile } from "../../node/dump.js";
import { dumpInfo, infoText, memoryRuns, panicMessage, producerHint } from "../../report/info.js";
import { progressBar, toJson, UsageError, type Verb } from "../common.js";

export { dumpInfo, memoryRuns, panicMessage, producerHint };

export const infoVerb: Verb = {
  name: "info",
  summary: "what a crash dump holds: format, machine, kernel, CPUs, crash time, memory and page states",
  usage: `usage: kdumpkit info DUMP [PART…] [--map] [--json]
  DUMP      ELF vmcore, kdump-compressed or flattened file (.zst/.gz are decompressed first);
            give every part of a split dump (makedumpfile --split) to open them as one
  --map     list every range of the physical memory map with its page state
  --json    machine-readable output`,
  run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, map: { type: "boolean" } },
    });
    if (positionals.length === 0) throw new UsageError("expected a DUMP");
    const f = openDumpFile(positionals, { onProgress: progressBar(ctx, "decompressing") });
    try {
      const d = f.dump;
      const info = dumpInfo(d);
      if (values.json) {
        const out: Record<string, unknown> = { ...info };
        if (values.map)
          out.map = d
            .memoryMap()
            .map((r) => ({ start: BigInt(r.start), end: BigInt(r.end), state: r.state }));
        ctx.stdout(`${toJson(out)}\n`);
        return 0;
      }
      ctx.stdout(infoText(d, info, values.map ?? false));
      return 0;
    } finally {
      f.close();
    }
  },
};
