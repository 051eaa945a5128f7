import { parseArgs } from "node:util";
import { dumpToElf } from "../../convert/elf.js";
import { FlattenedSink, unflatten } from "../../convert/flattened.js";
import { dumpToKdump } from "../../convert/kdump.js";
import type { ByteSink } from "../../convert/sink.js";
import { nodeZlibCompressor } from "../../node/dump.js";
import { outputTarget, progressBar, toJson, UsageError, type Verb } from "../common.js";
import { openDumpArgs } from "../input.js";

export const convertVerb: Verb = {
  name: "convert",
  summary: "convert a dump: flattened → normal kdump, any dump → ELF vmcore or kdump-compressed",
  usage: `usage: kdumpkit convert DUMP [PART…] --to elf|kdump -o OUT [--compress zlib|none] [--flattened] [--json]
  --to kdump    kdump-compressed; a flattened input is reassembled record by record
                (as makedumpfile -R), other inputs are rewritten with zlib pages
  --to elf      ELF vmcore: one PT_LOAD per run of dumped memory, excluded tails as p_memsz
  --compress    page compression of a rewritten kdump file (default zlib)
  --flattened   write the kdump output in makedumpfile's flattened format (-F)
  The output is written to a temp file beside OUT and renamed into place when complete.`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: {
        to: { type: "string" },
        output: { type: "string", short: "o" },
        compress: { type: "string" },
        flattened: { type: "boolean" },
        json: { type: "boolean" },
      },
    });
    if (positionals.length === 0) throw new UsageError("expected a DUMP");
    const to = values.to;
    if (to !== "elf" && to !== "kdump") throw new UsageError("--to must be elf or kdump");
    if (!values.output) throw new UsageError("-o OUT is required");
    const compress = values.compress ?? "zlib";
    if (compress !== "zlib" && compress !== "none") throw new UsageError("--compress must be zlib or none");
    if (values.flattened && to !== "kdump") throw new UsageError("--flattened applies to --to kdump");
    // checked before any work: not an input, not a directory, writable; "-" is stdout
    const target = outputTarget(ctx, values.output, positionals);
    if (!target.seekable && !values.flattened)
      throw new UsageError(
        `-o ${values.output} is not seekable: use --flattened to stream (as makedumpfile -F)`,
      );
    const f = await openDumpArgs(ctx, positionals);
    const out = target.open();
    try {
      const d = f.dump;
      const progress = progressBar(ctx, `writing ${values.output}`);
      let sink: ByteSink = out;
      const flat = values.flattened ? new FlattenedSink(out) : undefined;
      if (flat) sink = flat;
      let method: string;
      let size: number;
      if (to === "kdump" && d.flattened && d.parts === 1 && values.compress === undefined && !flat) {
        method = "reassembled (flattened records replayed)";
        size = unflatten(f.files[0]!.source, sink, progress);
      } else if (to === "kdump") {
        method = `rewritten (${compress} pages)`;
        size = dumpToKdump(d, sink, {
          compress: compress === "none" ? "none" : nodeZlibCompressor,
          onProgress: progress,
        }).size;
      } else {
        method = "ELF vmcore";
        size = dumpToElf(d, sink, { onProgress: progress });
      }
      flat?.close();
      await out.commit(flat ? out.size : size);
      const result = { input: positionals, output: values.output, to, method, size: flat ? out.size : size };
      // the report goes to stderr when the output itself is standard output
      const report = target.name === "-" ? ctx.stderr : ctx.stdout;
      report(values.json ? `${toJson(result)}\n` : `${values.output}: ${method}, ${result.size} bytes\n`);
      return 0;
    } catch (e) {
      out.abort();
      throw e;
    } finally {
      f.close();
    }
  },
};
