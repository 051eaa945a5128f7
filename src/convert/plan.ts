/**
 * What a conversion writes, page by page: the input's truthful states (a page the input does
 * not have stays "not dumped", never becomes zeros or "excluded"), then makedumpfile's dump
 * level applied through mem_map (kernel/mem-map.ts). The writers (kdump.ts, elf.ts) take the
 * plan as their page source.
 */
import { pageAlignedBytes } from "../bytes/aligned.js";
import type { Dump } from "../dump/index.js";
import type { PageRun, Utsname } from "../dump/types.js";
import { KdumpkitError, LimitError, MissingDataError } from "../errors.js";
import { kernelOf } from "../kernel/linux.js";
import {
  type ClassifyResult,
  classifyPages,
  DL_EXCLUDE_ZERO,
  EXCLUDED_ZERO,
  EXCLUSION_NAMES,
  type ExclusionName,
  isZeroPage,
  KEEP,
  type KernelMemory,
  needsMemMap,
} from "../kernel/mem-map.js";
import {
  type KdumpPageSource,
  MAX_CONVERT_PFNS,
  PAGE_DUMP,
  PAGE_EXCLUDED,
  PAGE_HOLE,
  PAGE_NOT_DUMPED,
} from "./kdump.js";

/** Output state of a pfn: the kdump writer's page states, so the plan's bytes are its `states`. */
export const OUT_HOLE = PAGE_HOLE;
export const OUT_EXCLUDED = PAGE_EXCLUDED;
export const OUT_DUMP = PAGE_DUMP;
/** Dumped in intent, but the input lacks the bytes (missing / not dumped there). */
export const OUT_NOT_DUMPED = PAGE_NOT_DUMPED;

export interface ConversionStats {
  /** Pages the machine has (in the input's memory map). */
  total: number;
  /** Pages excluded per reason by this conversion (makedumpfile's counting; see mem-map.ts). */
  excluded: Record<ExclusionName, number>;
  /** Pages already excluded in the input. */
  inputExcluded: number;
  /** Pages the input lacks (missing / not dumped): written as not dumped. */
  notDumped: number;
  /** Pages whose struct page could not be read or that lie in no mem_map section: kept. */
  unclassified: number;
  /** Pages excluded for reasons outside makedumpfile's dump-level report (Xen -X), by label. */
  other?: Record<string, number>;
  /** Pages written with data (or as the shared zero page). */
  kept: number;
}

export interface ConversionPlan {
  readonly pageSize: number;
  readonly maxPfn: number;
  /** OUT_* per pfn. */
  readonly state: Uint8Array;
  /** The dump level the output carries: the requested one OR'ed with the input's. */
  readonly dumpLevel: number;
  readonly inputDumpLevel: number;
  readonly filter: ClassifyResult | undefined;
  readonly stats: ConversionStats;
  readonly warnings: string[];
  /** The dump, read page by page (bytes outside the input's ranges read as zeros). */
  readonly dump: Dump;
  /** The kdump header's utsname when the dump has none of its own (a Xen host: dom0's). */
  readonly utsname?: Utsname;
}

export interface PlanOptions {
  /** makedumpfile dump level 0–31 (default 0: keep everything the input has). */
  dumpLevel?: number;
  /** Kernel virtual memory for mem_map (default: the dump's own kernel view). */
  kernel?: KernelMemory;
  onProgress?: (done: number, total: number) => void;
  /**
   * Decide the exclusions another way than from the dump's own mem_map (a Xen host dump: the
   * frame table and dom0's struct pages through the p2m, convert/xen-filter.ts). Gets the
   * input's page states (OUT_*, machine pfns); returns reasons per pfn as classifyPages does.
   */
  filter?: (ctx: { state: Uint8Array; maxPfn: number; dumpLevel: number }) => ExternalFilterResult;
}

/** What a `PlanOptions.filter` returns: classifyPages' result, plus other labelled counts. */
export type ExternalFilterResult = ClassifyResult & { other?: Record<string, number> };

/** The input dump's dump level (kdump sub-header), 0 when unknown. */
export function inputDumpLevel(dump: Dump): number {
  const l = dump.dumpLevel ?? 0;
  return Number.isInteger(l) && l >= 0 && l <= 31 ? l : 0;
}

/** Plan the conversion of `dump` at `dumpLevel`. */
export function planConversion(dump: Dump, opts: PlanOptions = {}): ConversionPlan {
  const ps = dump.pageSize;
  const maxPfn = Math.ceil(dump.maxAddress / ps);
  if (maxPfn > MAX_CONVERT_PFNS)
    throw new LimitError("pages to convert (highest physical address / page size)", maxPfn, MAX_CONVERT_PFNS);
  const state = new Uint8Array(maxPfn);
  // a page with any byte present is dumped; else one the input lacks is not-dumped
  // precedence of a pfn's states (a page split between ranges): indexed by OUT_* value
  const rank = new Uint8Array(4);
  rank[OUT_EXCLUDED] = 1;
  rank[OUT_NOT_DUMPED] = 2;
  rank[OUT_DUMP] = 3;
  const code = (s: PageRun["state"]) =>
    s === "present" || s === "zero" ? OUT_DUMP : s === "excluded" ? OUT_EXCLUDED : OUT_NOT_DUMPED;
  const mark = (p: number, v: number, rv: number) => {
    if ((rank[state[p] ?? 0] ?? 0) < rv) state[p] = v;
  };
  let prevEnd = 0;
  for (const r of dump.memoryMap()) {
    const v = code(r.state);
    const rv = rank[v] ?? 0;
    const first = Math.floor(r.start / ps);
    const last = Math.min(Math.ceil(r.end / ps), maxPfn);
    // the ranges are sorted and do not overlap (Dump.memoryMap), so a page wholly inside this
    // one is in no other: it takes this state, filled at once (one loop a pfn cost a cold
    // process ~3–6 ms on the corpus vmcore's 131k pfns); the one or two pages it shares with
    // its neighbours precede by rank, and so does every page of a range out of order
    const inStart = Math.ceil(r.start / ps);
    const inEnd = Math.min(Math.floor(r.end / ps), maxPfn);
    const inOrder = r.start >= prevEnd;
    prevEnd = Math.max(prevEnd, r.end);
    if (inOrder && inStart < inEnd) {
      for (let p = first; p < inStart; p++) mark(p, v, rv);
      state.fill(v, inStart, inEnd);
      for (let p = inEnd; p < last; p++) mark(p, v, rv);
    } else for (let p = first; p < last; p++) mark(p, v, rv);
  }
  const requested = opts.dumpLevel ?? 0;
  const inLevel = inputDumpLevel(dump);
  const warnings: string[] = [];
  let filter: ClassifyResult | undefined;
  const vi = dump.vmcoreinfo;
  const classify = () =>
    classifyPages(opts.kernel ?? kernelOf(dump).space, vi, {
      dumpLevel: requested,
      maxPfn,
      pageSize: ps,
      wordSize: dump.wordSize,
      littleEndian: dump.littleEndian,
      ...(dump.arch ? { arch: dump.arch } : {}),
      // (OUT_HOLE is 0: every other state is a pfn the dump holds)
      inDump: state,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  let other: Record<string, number> | undefined;
  if (opts.filter) {
    const r = opts.filter({ state, maxPfn, dumpLevel: requested });
    filter = r;
    other = r.other;
  } else if (needsMemMap(requested, vi) && (requested & ~DL_EXCLUDE_ZERO) !== 0) filter = classify();
  else if (needsMemMap(requested, vi)) {
    // -d 0/1 on a kernel that names PG_hwpoison: makedumpfile still drops hwpoison and
    // offline pages; do the same when the kernel view can be had, else keep them
    try {
      filter = classify();
    } catch (e) {
      if (e instanceof MissingDataError || !(e instanceof KdumpkitError)) throw e;
      warnings.push(`hwpoison/offline pages not looked for: ${e.message}`);
    }
  }
  const stats: ConversionStats = {
    total: 0,
    excluded: Object.fromEntries(EXCLUSION_NAMES.map((n) => [n, 0])) as Record<ExclusionName, number>,
    inputExcluded: 0,
    notDumped: 0,
    unclassified: 0,
    kept: 0,
    ...(other ? { other } : {}),
  };
  if (filter) {
    Object.assign(stats.excluded, filter.counts);
    stats.unclassified = filter.unreadable + filter.noMemMap;
    warnings.push(...filter.warnings.slice(0, 20));
    if (filter.warnings.length > 20) warnings.push(`… ${filter.warnings.length - 20} more warnings`);
  }
  countStates(state, filter?.reason, stats);
  return {
    pageSize: ps,
    maxPfn,
    state,
    dumpLevel: requested | inLevel,
    inputDumpLevel: inLevel,
    filter,
    stats,
    warnings,
    dump,
  };
}

/** Four pfns of one state, as a 32-bit word of state bytes (the same in either byte order). */
const FOUR = 0x01010101;

/** Does a 32-bit word hold no zero byte (four reasons, none of them KEEP)? */
function noZeroByte(w: number): boolean {
  return ((w - FOUR) & ~w & 0x80808080) === 0;
}

/**
 * Apply the filter's reasons to `state` (a dumped page it excludes becomes OUT_EXCLUDED) and
 * count the states into `stats`, in one pass with local counters: this runs once over every
 * pfn of a cold process, and counting into the stats object's properties cost ~10 ms for the
 * corpus vmcore's 131k pfns (its spread literal makes it a dictionary object). Four pfns at a
 * time where they are alike (runs of holes, of kept pages, of pages the filter drops), byte by
 * byte where they are not: the loop runs interpreted, and a pfn at a time it took 4-5 ms of
 * the corpus vmcore's `-l -d 31` (markers in the bundle).
 */
export function countStates(state: Uint8Array, reason: Uint8Array | undefined, stats: ConversionStats): void {
  let total = 0;
  let notDumped = 0;
  let kept = 0;
  let inputExcluded = 0;
  const n = state.length;
  const bytes = (from: number, to: number) => {
    for (let p = from; p < to; p++) {
      let s = state[p]!;
      if (s === OUT_HOLE) continue;
      total++;
      const keep = reason === undefined || reason[p] === KEEP;
      if (!keep && s >= OUT_DUMP) state[p] = s = OUT_EXCLUDED;
      if (s === OUT_NOT_DUMPED) notDumped++;
      else if (s === OUT_DUMP) kept++;
      else if (keep) inputExcluded++;
    }
  };
  let p = 0;
  const aligned =
    (state.byteOffset & 3) === 0 &&
    (reason === undefined || ((reason.byteOffset & 3) === 0 && reason.length >= n));
  if (aligned && KEEP === 0 && OUT_HOLE === 0) {
    const words = n >>> 2;
    const sw = new Uint32Array(state.buffer, state.byteOffset, words);
    const rw = reason && new Uint32Array(reason.buffer, reason.byteOffset, words);
    const DUMP4 = OUT_DUMP * FOUR;
    const EXCL4 = OUT_EXCLUDED * FOUR;
    for (let w = 0; w < words; w++) {
      const s = sw[w]!;
      if (s === 0) continue;
      const r = rw ? rw[w]! : 0;
      if (s === DUMP4 && r === 0) {
        total += 4;
        kept += 4;
      } else if (s === DUMP4 && noZeroByte(r)) {
        total += 4;
        sw[w] = EXCL4;
      } else if (s === EXCL4 && r === 0) {
        total += 4;
        inputExcluded += 4;
      } else bytes(w << 2, (w << 2) + 4);
    }
    p = words << 2;
  }
  bytes(p, n);
  stats.total += total;
  stats.notDumped += notDumped;
  stats.kept += kept;
  stats.inputExcluded += inputExcluded;
}

/** Read one page of the plan's dump: bytes outside the input's ranges read as zeros. */
export function readPlanPage(plan: ConversionPlan, pfn: number, into: Uint8Array): void {
  const { dump, pageSize: ps } = plan;
  const a = pfn * ps;
  try {
    dump.readPhys(a, ps, into);
    return;
  } catch (e) {
    if (e instanceof MissingDataError || !(e instanceof KdumpkitError)) throw e;
  }
  // a page only partly in the dump (a RAM range ending mid-page): its parts, zeros elsewhere
  into.fill(0, 0, ps);
  for (const r of dump.memoryMap()) {
    if (r.end <= a || r.start >= a + ps) continue;
    if (r.state !== "present" && r.state !== "zero") continue;
    const s = Math.max(a, r.start);
    const e = Math.min(a + ps, r.end);
    dump.readPhys(s, e - s, into.subarray(s - a, e - a));
  }
}

/**
 * Decide zero pages ahead of writing (for ELF output, whose program headers must be final
 * before the data, as makedumpfile's exclude_zero_pages does): reads every dumped page once.
 */
export function excludeZeroPages(
  plan: ConversionPlan,
  onProgress?: (done: number, total: number) => void,
): number {
  const ps = plan.pageSize;
  // runs of dumped pages read at once (planPages' readPages: one read, a page only partly in
  // the dump page by page), not a read a page: per-page reads through the dump were most of
  // this pass's JavaScript on the corpus vmcore (~21k pages for -E -d 31)
  const RUN = Math.max(1, Math.floor((1 << 20) / ps));
  const buf = pageAlignedBytes(RUN * ps) ?? new Uint8Array(RUN * ps);
  const source = planPages(plan);
  const st = plan.state;
  let n = 0;
  let done = 0;
  const total = plan.stats.kept;
  for (let p = 0; p < plan.maxPfn; p++) {
    if (st[p] !== OUT_DUMP) continue;
    let len = 1;
    while (len < RUN && p + len < plan.maxPfn && st[p + len] === OUT_DUMP) len++;
    source.readPages!(p, len, buf.subarray(0, len * ps));
    for (let i = 0; i < len; i++) {
      if (isZeroPage(buf.subarray(i * ps, (i + 1) * ps))) {
        st[p + i] = OUT_EXCLUDED;
        if (plan.filter) plan.filter.reason[p + i] = EXCLUDED_ZERO;
        n++;
      }
      if ((++done & 4095) === 0) onProgress?.(done, total);
    }
    p += len - 1;
  }
  plan.stats.excluded.zero += n;
  plan.stats.kept -= n;
  return n;
}

/** The plan as a kdump page source. */
export function planPages(plan: ConversionPlan): KdumpPageSource {
  const st = plan.state;
  const exists = (pfn: number) => st[pfn] !== OUT_HOLE;
  const dumpable = (pfn: number) => st[pfn] === OUT_DUMP || st[pfn] === OUT_NOT_DUMPED;
  const notDumped = (pfn: number) => st[pfn] === OUT_NOT_DUMPED;
  return {
    pageSize: plan.pageSize,
    maxPfn: plan.maxPfn,
    states: { bytes: st, exists, dumpable, notDumped },
    exists,
    dumpable,
    notDumped,
    readPage: (pfn, into) => readPlanPage(plan, pfn, into),
    plainBytes: (pfn, count) => plan.dump.plainBytes(pfn * plan.pageSize, count * plan.pageSize),
    readPages: (pfn, count, into) => {
      try {
        plan.dump.readPhys(pfn * plan.pageSize, count * plan.pageSize, into);
      } catch (e) {
        if (e instanceof MissingDataError || !(e instanceof KdumpkitError)) throw e;
        // a page of the run only partly in the dump: page by page (zeros where it has none)
        for (let i = 0; i < count; i++)
          readPlanPage(plan, pfn + i, into.subarray(i * plan.pageSize, (i + 1) * plan.pageSize));
      }
    },
  };
}

/**
 * makedumpfile -E cuts a run of excluded pages out of its ELF output only when the run is at
 * least this many pages long (PFN_EXCLUDED in write_elf_pages_cyclic): a shorter run followed by
 * kept pages is written with its bytes. ELF cannot tell an excluded page from a zero page (both
 * are p_memsz > p_filesz), so cutting every run made a -d 31 output of the corpus vmcore lose
 * the zero pages of the printk ring's unused part: `makedumpfile --dump-dmesg` and our `dmesg`
 * then failed on it, while both read makedumpfile's own -E output.
 */
export const ELF_PFN_EXCLUDED = 256;

/**
 * The output memory map for an ELF writer: the input's byte ranges (sub-page precision kept),
 * cut where the plan excludes pages; pages the input lacks stay "missing" (no bytes). As
 * makedumpfile -E does, a run of fewer than ELF_PFN_EXCLUDED pages the plan excludes, followed
 * by kept bytes, stays in the output with the input's bytes.
 */
export function planMemoryMap(plan: ConversionPlan): PageRun[] {
  const ps = plan.pageSize;
  // `filtered`: excluded by the plan (the input has the bytes), not by the input
  const runs: (PageRun & { filtered: boolean })[] = [];
  const push = (start: number, end: number, state: PageRun["state"], filtered: boolean) => {
    if (end <= start) return;
    const last = runs[runs.length - 1];
    if (last && last.end === start && last.state === state && last.filtered === filtered) last.end = end;
    else runs.push({ start, end, state, filtered });
  };
  for (const r of plan.dump.memoryMap()) {
    if (r.state !== "present" && r.state !== "zero") {
      push(r.start, r.end, r.state, false);
      continue;
    }
    for (let a = r.start; a < r.end; ) {
      const pfn = Math.floor(a / ps);
      const e = Math.min(r.end, (pfn + 1) * ps);
      const kept = plan.state[pfn] === OUT_DUMP;
      push(a, e, kept ? "present" : "excluded", !kept);
      a = e;
    }
  }
  const out: PageRun[] = [];
  for (const [i, r] of runs.entries()) {
    const next = runs[i + 1];
    const state =
      r.filtered &&
      r.end - r.start < ELF_PFN_EXCLUDED * ps &&
      next !== undefined &&
      next.start === r.end &&
      next.state === "present"
        ? "present"
        : r.state;
    const last = out[out.length - 1];
    if (last && last.end === r.start && last.state === state) last.end = r.end;
    else out.push({ start: r.start, end: r.end, state });
  }
  return out;
}

/**
 * Parts of a split set start at multiples of 64 pfns: crash (diskdump.c read_dump_header)
 * counts a part's dumpable pages a 64-bit bitmap word at a time from `start_pfn >> 6`, so a part
 * starting elsewhere is read with wrong page positions (seen: "invalid kernel virtual address"
 * on the corpus' vmcore split in 2 at pfn 54396).
 */
const SPLIT_ALIGN = 64;

/** Split the dumped pages into `n` pfn ranges holding about as many pages each (--split). */
export function splitRanges(plan: ConversionPlan, n: number): { startPfn: number; endPfn: number }[] {
  const st = plan.state;
  let total = 0;
  for (let p = 0; p < plan.maxPfn; p++) if (st[p] === OUT_DUMP || st[p] === OUT_NOT_DUMPED) total++;
  const per = Math.ceil(total / n);
  const out: { startPfn: number; endPfn: number }[] = [];
  let start = 0;
  let c = 0;
  for (let p = 0; p < plan.maxPfn && out.length < n - 1; p++) {
    if (st[p] === OUT_DUMP || st[p] === OUT_NOT_DUMPED) c++;
    if (c >= per) {
      const end = Math.min(plan.maxPfn, Math.ceil((p + 1) / SPLIT_ALIGN) * SPLIT_ALIGN);
      out.push({ startPfn: start, endPfn: end });
      start = end;
      p = end - 1;
      c = 0;
    }
  }
  out.push({ startPfn: start, endPfn: plan.maxPfn });
  while (out.length < n) out.push({ startPfn: plan.maxPfn, endPfn: plan.maxPfn });
  return out;
}
