/**
 * `convert` as a library call: plan (input states + dump level), then write kdump-compressed
 * (optionally flattened, optionally split) or ELF. Compression is injected (a BatchCompressor:
 * Node passes worker threads, tests pass a synchronous one), so this stays browser-safe.
 */
import type { Dump } from "../dump/index.js";
import { DL_EXCLUDE_ZERO, EXCLUSION_NAMES } from "../kernel/mem-map.js";
import { dumpToElfTurning } from "./elf.js";
import { FlattenedSink } from "./flattened.js";
import { type BatchCompressor, kdumpIdentity, storeBatches, writeKdumpPipelined } from "./kdump.js";
import { type ConversionPlan, excludeZeroPages, planMemoryMap, planPages, splitRanges } from "./plan.js";
import type { ByteSink } from "./sink.js";

/** The note every kdumpkit output carries: who wrote it and from what (name "KDUMPKIT"). */
export const PRODUCER_NOTE_NAME = "KDUMPKIT";
export const PRODUCER_NOTE_TYPE = 1;

export interface ConvertOptions {
  to: "kdump" | "elf";
  /** Page compression for kdump output; undefined: raw pages. */
  compressor?: BatchCompressor;
  /** Write makedumpfile's flattened format (kdump output only). */
  flattened?: boolean;
  /** The producer text recorded in the KDUMPKIT note (e.g. "kdumpkit 0.1.0 convert -d 31 -c"). */
  producer?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ConvertedPart {
  size: number;
  startPfn?: number;
  endPfn?: number;
}

export interface ConvertResult {
  parts: ConvertedPart[];
  /** Pages written as the shared zero page (dump level bit 1), or excluded as zero (ELF). */
  zero: number;
  /** Pages stored compressed. */
  compressed: number;
  /** Pages in the output's dumpable set. */
  dumped: number;
  notDumped: number;
  /** Bytes written, all parts. */
  bytes: number;
}

/** The producer note's text: the producer, the dump level, and what the input lacked. */
export function producerNote(
  plan: ConversionPlan,
  producer: string,
): { name: string; type: number; desc: Uint8Array } {
  const lines = [producer, `dump-level=${plan.dumpLevel}`];
  if (plan.stats.notDumped > 0) lines.push(`input-incomplete=${plan.stats.notDumped} pages not in the input`);
  return {
    name: PRODUCER_NOTE_NAME,
    type: PRODUCER_NOTE_TYPE,
    desc: new TextEncoder().encode(`${lines.join("\n")}\n`),
  };
}

/**
 * Write the plan to `sinks` (one per split part; one for a single file). Flattened sinks get
 * the end record; committing the sinks is the caller's job.
 */
export async function writeConversion(
  dump: Dump,
  plan: ConversionPlan,
  sinks: ByteSink[],
  opts: ConvertOptions,
): Promise<ConvertResult> {
  const extraNotes = [producerNote(plan, opts.producer ?? "kdumpkit convert")];
  if (opts.to === "elf") {
    if (sinks.length !== 1) throw new Error("ELF output is one file");
    let zero = 0;
    // makedumpfile decides zero pages before an ELF's headers (exclude_zero_pages)
    if (plan.dumpLevel & DL_EXCLUDE_ZERO) zero = excludeZeroPages(plan, opts.onProgress);
    const flat = opts.flattened ? new FlattenedSink(sinks[0]!) : undefined;
    const size = await dumpToElfTurning(dump, flat ?? sinks[0]!, {
      map: planMemoryMap(plan),
      extraNotes,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    flat?.close();
    return {
      parts: [{ size }],
      zero,
      compressed: 0,
      dumped: plan.stats.kept,
      notDumped: plan.stats.notDumped,
      bytes: size,
    };
  }
  const identity = {
    ...kdumpIdentity(dump, extraNotes),
    ...(plan.utsname && !dump.utsname?.release ? { utsname: plan.utsname } : {}),
  };
  const pages = planPages(plan);
  const ranges = sinks.length > 1 ? splitRanges(plan, sinks.length) : [undefined];
  const result: ConvertResult = { parts: [], zero: 0, compressed: 0, dumped: 0, notDumped: 0, bytes: 0 };
  // batch buffers, shared by the parts of a split set
  const buffers: Uint8Array[] = [];
  for (const [i, range] of ranges.entries()) {
    const flat = opts.flattened ? new FlattenedSink(sinks[i]!) : undefined;
    const sink = flat ?? sinks[i]!;
    const wopts = {
      ...identity,
      dumpLevel: plan.dumpLevel,
      // makedumpfile points zero pages at one shared page only when it excludes them (bit 1)
      zeroPage: (plan.dumpLevel & DL_EXCLUDE_ZERO) !== 0,
      ...(range ? { split: range } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      buffers,
    };
    // pages stored as they are go through the same pipelined writer (the zero check in
    // batches, and the sink's turns: ByteSink.turn)
    const r = await writeKdumpPipelined(pages, sink, opts.compressor ?? storeBatches, wopts);
    flat?.close();
    result.parts.push({ size: r.size, ...(range ?? {}) });
    result.zero += r.zero;
    result.compressed += r.compressed;
    result.dumped += r.dumped;
    result.notDumped += r.notDumped;
    result.bytes += r.size;
  }
  return result;
}

/** makedumpfile's `--message-level 16` report (print_report), with kdumpkit's extra lines. */
export function formatReport(
  plan: ConversionPlan,
  res: Pick<ConvertResult, "zero" | "bytes"> | undefined,
): string {
  const h = (n: number) => `0x${n.toString(16).padStart(16, "0")}`;
  const e = { ...plan.stats.excluded };
  // a kdump output's zero pages are counted while writing (they stay in its bitmap, pointing at
  // the shared zero page); an ELF's are excluded in the plan already
  const zeroAtWrite = res && plan.stats.excluded.zero === 0 ? res.zero : 0;
  e.zero += zeroAtWrite;
  // makedumpfile's counters (a buddy block counts all its pfns); "remaining" is what is really
  // written with data, so the lines may not add up where a block spans a hole
  const excluded = EXCLUSION_NAMES.slice(1).reduce((n, k) => n + e[k], 0);
  const original = plan.stats.total;
  const remaining = plan.stats.kept - zeroAtWrite;
  const lines = [
    `Original pages  : ${h(original)}`,
    `  Excluded pages   : ${h(excluded)}`,
    `    Pages filled with zero  : ${h(e.zero)}`,
    `    Non-private cache pages : ${h(e.cache)}`,
    `    Private cache pages     : ${h(e["cache-private"])}`,
    `    User process data pages : ${h(e.user)}`,
    `    Free pages              : ${h(e.free)}`,
    `    Hwpoison pages          : ${h(e.hwpoison)}`,
    `    Offline pages           : ${h(e.offline)}`,
  ];
  for (const [label, n] of Object.entries(plan.stats.other ?? {}))
    lines.push(`    ${`${label}`.padEnd(24)}: ${h(n)}`);
  if (plan.stats.inputExcluded) lines.push(`    Excluded in the input   : ${h(plan.stats.inputExcluded)}`);
  lines.push(`  Remaining pages  : ${h(remaining)}`);
  if (plan.stats.notDumped)
    lines.push(`    Not in the input (written as not dumped) : ${h(plan.stats.notDumped)}`);
  if (plan.stats.unclassified)
    lines.push(`    Kept unclassified (struct page unreadable) : ${h(plan.stats.unclassified)}`);
  if (original > 0)
    lines.push(`  (The number of pages is reduced to ${Math.floor((remaining * 100) / original)}%.)`);
  lines.push(
    `Memory Hole     : ${h(plan.maxPfn - original)}`,
    "--------------------------------------------------",
    `Total pages     : ${h(plan.maxPfn)}`,
  );
  if (res) lines.push(`Write bytes     : ${res.bytes}`);
  return `${lines.join("\n")}\n`;
}
