/**
 * What a dump holds (`kdumpkit info` and the web app's overview): format, producer, machine,
 * kernel, crash time, memory ranges with their page states.
 */
import { type Dump, PAGE_STATES, type PageRun, summaryOfMap } from "../dump/dump.js";
import { hex, KdumpkitError, rethrowMissing } from "../errors.js";
import { KERNEL_ARCHES, openKernel, textMappingLog } from "../kernel/open.js";
import { findPanicMessage } from "../kernel/panic.js";
import { counted } from "./text.js";

/** Contiguous memory (whatever the page states) with pages per state, like makedumpfile's summary. */
export function memoryRuns(map: PageRun[], pageSize: number) {
  return summaryOfMap(map, pageSize).ranges;
}

/** Who most likely wrote the dump (the Dump's producer attribute). */
export function producerHint(d: Dump): string {
  return d.producer;
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/**
 * The panic message from the kernel log (crash's patterns), when the dump is a Linux dump
 * (x86_64, i386, arm64) with VMCOREINFO. When the log cannot be read (a dump cut before it, excluded pages),
 * `unavailable` says why instead of the line silently missing.
 */
export function panicInfo(d: Dump): { message?: string; unavailable?: string } {
  if (!KERNEL_ARCHES.has(d.arch ?? "") || !d.vmcoreinfo || d.vmcoreinfoXen) return {};
  try {
    // the text mapping first: the direct map's search is not needed for a log in the image
    const log = textMappingLog(d, () => openKernel(d));
    const m = findPanicMessage(log)?.message;
    if (m !== undefined) return { message: m };
    // no panic line among the records read: say so when the log is cut (it may be in the rest)
    return log.incomplete
      ? { unavailable: `not among the records read: the log is cut: ${log.incomplete}` }
      : {};
  } catch (e) {
    rethrowMissing(e);
    const why = e instanceof KdumpkitError ? `${e.name}: ${e.message}` : String((e as Error)?.message ?? e);
    return { unavailable: `could not read the kernel log (${why})` };
  }
}

/** The panic message, or undefined (see panicInfo for why it may be missing). */
export function panicMessage(d: Dump): string | undefined {
  return panicInfo(d).message;
}

function panicFields(d: Dump): { panic: string | undefined; panicUnavailable?: string } {
  const p = panicInfo(d);
  return p.unavailable ? { panic: undefined, panicUnavailable: p.unavailable } : { panic: p.message };
}

export function dumpInfo(d: Dump) {
  // counted without building the memory map where the dump can (--map builds it)
  const mem = d.memorySummary();
  return {
    format: d.format,
    description: d.description,
    producer: d.producer,
    flattened: d.flattened,
    parts: d.parts,
    arch: d.arch,
    ...(d.archFrom ? { archFrom: d.archFrom } : {}),
    littleEndian: d.littleEndian,
    wordSize: d.wordSize,
    pageSize: d.pageSize,
    kernelRelease: d.kernelRelease,
    utsname: d.utsname,
    cpus: d.cpuCount,
    crashTime: d.crashTime,
    ...panicFields(d),
    xen: d.vmcoreinfoXen !== undefined,
    physBase: d.vmcoreinfo?.numberU64("phys_base"),
    headerPhysBase: d.headerPhysBase,
    dumpLevel: d.dumpLevel,
    incomplete: d.incomplete,
    inputIncomplete: d.inputIncomplete,
    maxAddress: d.maxAddress,
    // ranges: END is the last byte (inclusive) in text and JSON alike, as /proc/iomem prints
    memory: mem.ranges.map((r) => ({
      start: BigInt(r.start),
      end: BigInt(r.end - 1),
      size: BigInt(r.end - r.start),
      pages: r.pages,
    })),
    pages: mem.pages,
    firstMissing: mem.firstMissing,
    notes: d.notes.map((n) => ({ name: n.name, type: n.type, size: n.desc.length })),
    warnings: d.warnings,
  };
}

export type DumpInfo = ReturnType<typeof dumpInfo>;

/** `kdumpkit info --json`; `withMap` adds every run of the memory map (--map). */
export function infoJson(d: Dump, info: DumpInfo, withMap: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...info };
  if (withMap)
    out.map = d.memoryMap().map((r) => ({
      start: BigInt(r.start),
      end: BigInt(r.end - 1),
      size: BigInt(r.end - r.start),
      state: r.state,
    }));
  return out;
}

/** `kdumpkit info`'s text; `withMap` adds every run of the memory map (--map). */
export function infoText(d: Dump, info: DumpInfo, withMap: boolean): string {
  const L: string[] = [];
  const row = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== "") L.push(`${`${k}:`.padEnd(15)}${v}`);
  };
  row("format", info.description);
  row("written by", `${info.producer} (likely)`);
  row(
    "architecture",
    `${d.arch ?? "unknown"} (${d.littleEndian ? "little" : "big"}-endian, ${d.wordSize * 8}-bit${d.archFrom ? `; from the ${d.archFrom}` : ""})`,
  );
  row("page size", d.pageSize);
  if (d.vmcoreinfoXen) row("hypervisor", "Xen host dump (VMCOREINFO_XEN): addresses are machine addresses");
  row("kernel", d.kernelRelease);
  if (d.utsname?.version) row("version", d.utsname.version);
  row("CPUs", d.cpuCount);
  if (d.crashTime !== undefined)
    row(
      "crash time",
      `${new Date(d.crashTime * 1000).toISOString().replace("T", " ").replace(".000Z", " UTC")} (${d.crashTime})`,
    );
  if (info.panic) row("panic", info.panic);
  else if (info.panicUnavailable) row("panic", `(not read: ${info.panicUnavailable})`);
  if (info.physBase !== undefined) row("phys_base", `${hex(info.physBase)} (VMCOREINFO)`);
  else if (info.headerPhysBase !== undefined) row("phys_base", `${hex(info.headerPhysBase)} (kdump header)`);
  if (info.dumpLevel !== undefined) row("dump level", info.dumpLevel);
  if (info.incomplete)
    row(
      "status",
      info.inputIncomplete !== undefined
        ? `INCOMPLETE (its input lacked pages: ${info.inputIncomplete}, written as not dumped)`
        : "INCOMPLETE (the producer stopped writing)",
    );
  // an ELF output has no INCOMPLETE flag: kdumpkit's note says what its input lacked
  else if (info.inputIncomplete !== undefined)
    row(
      "status",
      `INCOMPLETE (its input lacked pages: ${info.inputIncomplete}; ELF has no "not dumped", they are excluded ranges here)`,
    );
  const ps = d.pageSize;
  const total = Object.values(info.pages).reduce((a, b) => a + b, 0);
  row(
    "memory",
    `${counted(info.memory.length, "range")}, ${counted(total, "page")} (${mib(total * ps)}), up to ${hex(d.maxAddress)}`,
  );
  for (const r of info.memory) {
    const states = PAGE_STATES.filter((s) => r.pages[s] > 0).map((s) => `${s} ${r.pages[s]}`);
    L.push(
      `  ${hex(r.start).padStart(14)}-${hex(r.end).padEnd(14)} ${mib(Number(r.size)).padStart(11)}  ${states.join(", ")}`,
    );
  }
  row("pages", PAGE_STATES.map((s) => `${s} ${info.pages[s]}`).join(", "));
  if (info.firstMissing)
    row(
      "truncated",
      `data missing from pfn ${hex(info.firstMissing.pfn)} (physical ${hex(info.firstMissing.address)})`,
    );
  if (withMap) {
    L.push("memory map:");
    for (const r of d.memoryMap())
      L.push(
        `  ${hex(r.start).padStart(14)}-${hex(r.end - 1).padEnd(14)} ${counted((r.end - r.start) / ps, "page ", "pages").padStart(15)}  ${r.state}`,
      );
  }
  for (const w of d.warnings) L.push(`warning: ${w.message}`);
  return `${L.join("\n")}\n`;
}
