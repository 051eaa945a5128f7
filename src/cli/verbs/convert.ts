import { parseArgs } from "node:util";
import type { PageCodecName } from "../../codecs/pages.js";
import { formatReport, writeConversion } from "../../convert/convert.js";
import { FlattenedStreamReader, unflatten } from "../../convert/flattened.js";
import { excludeZeroPages, planConversion } from "../../convert/plan.js";
import type { ByteSink } from "../../convert/sink.js";
import { planXenConversion } from "../../convert/xen-filter.js";
import { DL_EXCLUDE_ZERO } from "../../kernel/mem-map.js";
import { type CompressPool, createCompressPool, defaultWorkers } from "../../node/compress-pool.js";
import type { OutputSink } from "../../node/output.js";
import { isXenHostDump } from "../../xen/open.js";
import type { SymbolTable } from "../../xen/symbols.js";
import {
  outputTarget,
  parseNumber,
  progressBar,
  toJson,
  UsageError,
  type Verb,
  type VerbContext,
} from "../common.js";

import { CODEC_LETTERS, CONVERT_OPTIONS, earlyCompression, MAX_WORKERS } from "../convert-options.js";
import { openDumpArgs } from "../input.js";
import { readSymbolFile } from "../xen-memory.js";

export const convertVerb: Verb = {
  name: "convert",
  summary:
    "filter and compress a dump like makedumpfile (dump levels, zlib/lzo/snappy/zstd, ELF, flattened, split)",
  usage: `usage: kdumpkit convert DUMP [PART…] [--to kdump|elf] [-d LEVEL] [-c|-l|-p|-z] [-E] [-F]
                        [--split N] [--dry-run] [--show-stats] [--message-level N] [--mem-usage]
                        [--workers N] [-X] [--system-map F] [--xen-syms F] [--json] -o OUT|-
       kdumpkit convert -R -o OUT < FLATTENED      (or: -R OUT, as makedumpfile -R OUT)
  makedumpfile's letters, same meanings:
  -d LEVEL      dump level 0–31: 1 zero pages, 2 cache without private, 4 cache with private,
                8 user data, 16 free pages (decided from struct page through VMCOREINFO); the
                output keeps the input's level too (excluded pages stay excluded)
  -c -l -p -z   page compression zlib / lzo / snappy / zstd (--compress NAME|none; default zlib)
  -E            ELF output (same as --to elf): excluded pages as p_memsz > p_filesz
  -F            flattened output (makedumpfile -F), the form that can go to a pipe: -o -
  --split N     N kdump files holding about as many pages each (OUT.1 … OUT.N, or N -o names)
  --dry-run     plan and count, write nothing     --show-stats  print makedumpfile's report
  --message-level N   bit 16: the report (makedumpfile's --message-level)
  --mem-usage   page counts per category at dump level 31, nothing written
  --workers N   compression threads beside this one, which compresses too when they are
                busy (default: CPUs - 1, max 8; 0 = this thread only; at most 64)
  Xen host dumps (machine memory): -d LEVEL filters dom0's pages by dom0's struct pages (its
  VMCOREINFO found in its memory, or through --system-map F, dom0's System.map), mapped to
  machine frames through the p2m; zero pages anywhere. -X keeps only the hypervisor's and
  dom0's frames (Xen's frame table): other domains' and Xen's free frames are dropped.
  --xen-syms F  Xen's symbols, for dumps without VMCOREINFO_XEN
  -R            rebuild a normal kdump file from a flattened stream on standard input
                (makedumpfile -R): records written as they arrive; a stream without its end
                record is an error and nothing is written
  A flattened input is reassembled record by record when no option asks for more (makedumpfile -R).
  Output files are written to a temporary and renamed into place when complete.`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: CONVERT_OPTIONS,
    });
    if (values.R) return rebuildFromStdin(ctx, values, positionals);
    if (positionals.length === 0) throw new UsageError("expected a DUMP");
    const to = values.E ? "elf" : (values.to ?? "kdump");
    if (to !== "elf" && to !== "kdump") throw new UsageError("--to must be elf or kdump");
    const letters = Object.keys(CODEC_LETTERS).filter((k) => values[k as "c"]);
    if (letters.length > 1 || (letters.length && values.compress))
      throw new UsageError("give one of -c, -l, -p, -z, --compress");
    const codecName = letters.length
      ? (CODEC_LETTERS[letters[0] ?? ""] as PageCodecName)
      : (values.compress ?? "zlib");
    if (!["zlib", "lzo", "snappy", "zstd", "none"].includes(codecName))
      throw new UsageError("--compress must be zlib, lzo, snappy, zstd or none");
    if (to === "elf" && (letters.length || values.compress))
      throw new UsageError("ELF output is not compressed (-c/-l/-p/-z apply to kdump output)");
    const dumpLevel = values.d !== undefined ? parseNumber(values.d, "dump level") : 0;
    if (dumpLevel > 31) throw new UsageError("dump level must be 0–31");
    const messageLevel =
      values["message-level"] !== undefined ? parseNumber(values["message-level"], "message level") : 7;
    const flattened = Boolean(values.F || values.flattened);
    const workers =
      values.workers !== undefined ? parseNumber(values.workers, "worker count") : defaultWorkers();
    // each worker is a whole Node isolate (~30 MB): 999 of them ended the process out of memory
    if (workers > MAX_WORKERS) throw new UsageError(`--workers takes 0–${MAX_WORKERS}`);
    const nSplit = values.split !== undefined ? parseNumber(values.split, "split count") : 0;
    if (values.split !== undefined && (nSplit < 2 || nSplit > 256))
      throw new UsageError("--split takes 2–256");
    if (nSplit && to === "elf") throw new UsageError("--split applies to kdump output");
    const memUsage = Boolean(values["mem-usage"]);
    const dryRun = Boolean(values["dry-run"]) || memUsage;
    const outputs = values.output ?? [];
    if (!dryRun && outputs.length === 0) throw new UsageError("-o OUT is required");
    let names = outputs;
    if (nSplit) {
      if (outputs.length === 1) names = Array.from({ length: nSplit }, (_, i) => `${outputs[0]}.${i + 1}`);
      else if (outputs.length !== nSplit) throw new UsageError(`--split ${nSplit} needs one -o or ${nSplit}`);
      if (names.includes("-")) throw new UsageError("--split parts cannot go to standard output");
    } else if (outputs.length > 1) throw new UsageError("one -o (several only with --split)");
    // The compression workers start first when the options already say the dump will be
    // compressed (a codec letter or a dump level rule out replaying a flattened input as it
    // is): a worker's start-up (~50 ms of CPU each: a Node context, then the codec) then runs
    // while this thread checks the outputs, opens the dump and plans, instead of after. The
    // binary's loader has started them already from the same reading of the options
    // (convert-options.ts), and the pool takes those over.
    const compressing = !dryRun && to === "kdump" && codecName !== "none";
    const early = earlyCompression(values, workers);
    let pool: CompressPool | undefined = early ? createCompressPool(early.codec, workers) : undefined;
    let poolClosed: Promise<void> | undefined;
    let f: Awaited<ReturnType<typeof openDumpArgs>> | undefined;
    const sinks: OutputSink[] = [];
    try {
      // checked before any work: not an input, not a directory, writable; "-" is stdout
      const targets = dryRun ? [] : names.map((n) => outputTarget(ctx, n, positionals));
      for (const t of targets)
        if (!t.seekable && !flattened)
          throw new UsageError(`-o ${t.name} is not seekable: use -F to stream (as makedumpfile -F)`);
      const report = targets.some((t) => t.toStdout) ? ctx.stderr : ctx.stdout;

      f = await openDumpArgs(ctx, positionals);
      const d = f.dump;
      const replay =
        to === "kdump" &&
        d.flattened &&
        d.parts === 1 &&
        !flattened &&
        !nSplit &&
        !letters.length &&
        values.compress === undefined &&
        values.d === undefined &&
        !dryRun;
      if (replay) {
        // makedumpfile -R: the records replayed, byte for byte what the producer meant
        const out = targets[0]!.open();
        sinks.push(out);
        const size = unflatten(f.files[0]!.source, out, progressBar(ctx, `writing ${names[0]}`));
        await out.commit(size);
        const result = {
          input: positionals,
          output: names[0],
          to,
          method: "reassembled (flattened records replayed)",
          size,
        };
        report(values.json ? `${toJson(result)}\n` : `${names[0]}: ${result.method}, ${size} bytes\n`);
        return 0;
      }
      if (compressing) pool ??= createCompressPool(codecName as PageCodecName, workers);
      const level = memUsage ? 31 : dumpLevel;
      const onProgress = progressBar(ctx, "excluding unnecessary pages");
      const xenHost = isXenHostDump(d);
      if (values.X && !xenHost)
        throw new UsageError(`-X: ${positionals[0]} is not a Xen host dump (as makedumpfile says)`);
      if (!xenHost && (values["system-map"] !== undefined || values["xen-syms"] !== undefined))
        throw new UsageError("--system-map and --xen-syms apply to Xen host dumps (dom0's System.map)");
      const plan = xenHost
        ? planXenConversion(d, {
            dumpLevel: level,
            excludeDomains: Boolean(values.X),
            ...xenSymbolFiles(values["system-map"], values["xen-syms"]),
            onProgress,
          })
        : planConversion(d, { dumpLevel: level, onProgress });
      if (dryRun) {
        // makedumpfile --dry-run / --mem-usage: everything but the writing; zero pages counted
        if ((plan.dumpLevel & DL_EXCLUDE_ZERO) !== 0)
          excludeZeroPages(plan, progressBar(ctx, "checking zero pages"));
        const text = formatReport(plan, undefined);
        const result = {
          input: positionals,
          dumpLevel: plan.dumpLevel,
          stats: plan.stats,
          warnings: plan.warnings,
        };
        report(values.json ? `${toJson(result)}\n` : text);
        return 0;
      }
      for (const t of targets) sinks.push(t.open());
      const producer = `kdumpkit convert${dumpLevel ? ` -d ${dumpLevel}` : ""}${values.X ? " -X" : ""}${to === "elf" ? " -E" : codecName !== "none" ? ` --compress ${codecName}` : ""}${flattened ? " -F" : ""}${nSplit ? ` --split ${nSplit}` : ""}`;
      const res = await writeConversion(d, plan, sinks as ByteSink[], {
        to,
        flattened,
        producer,
        ...(pool ? { compressor: pool } : {}),
        onProgress: progressBar(ctx, `writing ${names.join(", ")}`),
      });
      // every page is written: the workers end now, their isolates torn down while the output
      // is synced and renamed (at exit, Node waits for each worker's teardown: ~10 ms measured)
      poolClosed = pool?.close();
      pool = undefined;
      for (const [i, s] of sinks.entries()) await s.commit(flattened ? s.size : res.parts[i]!.size);
      const sizes = sinks.map((s, i) => (flattened ? s.size : res.parts[i]!.size));
      const method =
        to === "elf"
          ? "ELF vmcore"
          : `kdump-compressed (${codecName === "none" ? "raw" : codecName} pages${flattened ? ", flattened" : ""})`;
      const result = {
        input: positionals,
        output: nSplit ? names : names[0],
        to,
        method,
        dumpLevel: plan.dumpLevel,
        size: sizes.reduce((a, b) => a + b, 0),
        parts: nSplit ? sizes : undefined,
        pages: { dumped: res.dumped, zero: res.zero, compressed: res.compressed, notDumped: res.notDumped },
        stats: plan.stats,
        warnings: plan.warnings,
      };
      if (values.json) report(`${toJson(result)}\n`);
      else {
        if (values["show-stats"] || messageLevel & 16)
          report(formatReport(plan, { zero: res.zero, bytes: result.size }));
        report(`${names.join(", ")}: ${method}, dump level ${plan.dumpLevel}, ${result.size} bytes\n`);
        for (const w of plan.warnings) ctx.stderr(`warning: ${w}\n`);
        if (res.notDumped)
          ctx.stderr(
            `warning: ${res.notDumped} pages were not in the input: written as not dumped, output marked INCOMPLETE\n`,
          );
      }
      return 0;
    } catch (e) {
      for (const s of sinks) s.abort();
      throw e;
    } finally {
      await (poolClosed ?? pool?.close());
      f?.close();
    }
  },
};

/** dom0's System.map and xen-syms for a Xen host dump, read as `xen` reads them. */
function xenSymbolFiles(
  systemMap: string | undefined,
  xenSyms: string | undefined,
): { systemMap?: SymbolTable; xenSyms?: SymbolTable } {
  return {
    ...(systemMap !== undefined ? { systemMap: readSymbolFile(systemMap, "--system-map") } : {}),
    ...(xenSyms !== undefined ? { xenSyms: readSymbolFile(xenSyms, "--xen-syms") } : {}),
  };
}

/** `convert -R`: makedumpfile -R, the flattened stream read from standard input. */
async function rebuildFromStdin(
  ctx: VerbContext,
  values: Record<string, unknown>,
  positionals: string[],
): Promise<number> {
  const outputs = (values.output as string[] | undefined) ?? [];
  const others = [
    "to",
    "compress",
    "c",
    "l",
    "p",
    "z",
    "E",
    "F",
    "flattened",
    "d",
    "split",
    "dry-run",
    "mem-usage",
  ];
  const bad = others.find((k) => values[k] !== undefined);
  if (bad)
    throw new UsageError(
      `-R takes no ${bad.length === 1 ? "-" : "--"}${bad}: it rebuilds the stream as it is`,
    );
  if (outputs.length > 1 || (outputs.length === 1 && positionals.length) || positionals.length > 1)
    throw new UsageError("-R takes one output: -R -o OUT (or -R OUT); the stream comes on standard input");
  const name = outputs[0] ?? positionals[0];
  if (!name) throw new UsageError("-R needs an output: -R -o OUT < FLATTENED");
  if (process.stdin.isTTY)
    throw new UsageError("-R reads a flattened stream from standard input: redirect or pipe it in");
  // `-R out < out` would truncate the stream being read: standard input counts as an input
  const target = outputTarget(ctx, name, ["/dev/stdin"]);
  if (!target.seekable)
    throw new UsageError(`-o ${target.name} is not seekable: -R writes a normal kdump file`);
  const out = target.open();
  try {
    const reader = new FlattenedStreamReader(out);
    for await (const chunk of process.stdin) reader.push(chunk as Uint8Array);
    const size = reader.finish();
    await out.commit(size);
    const result = {
      input: "-",
      output: name,
      to: "kdump",
      method: "reassembled (flattened records replayed from standard input)",
      records: reader.records,
      size,
    };
    ctx.stdout(values.json ? `${toJson(result)}\n` : `${name}: ${result.method}, ${size} bytes\n`);
    return 0;
  } catch (e) {
    out.abort();
    throw e;
  }
}
