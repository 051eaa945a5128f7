/**
 * Cutting regions (the crashkernel reservation, GART, the low 1 MiB …) out of a list of memory
 * ranges, three ways:
 *
 * - `"exact"` (the default): plain interval subtraction with inclusive ends. A range that an
 *   excluded region touches is trimmed, split or removed, whatever the overlap.
 * - `"kexec-tools"`: byte-compatible with kexec-tools' `exclude_region()`
 *   (kexec/arch/i386/crashdump-x86.c, unchanged from 2.0.x to 2.0.29). It tests overlap with
 *   STRICT comparisons (`start < mend && end > mstart`), so
 *     · an excluded region that touches only a range's LAST byte (start == mend) or only its
 *       FIRST byte (end == mstart) leaves the range untouched;
 *     · an excluded region that covers a range exactly turns it into a zero-length range
 *       (start = end + 1), which crash_create_elf64_headers() still emits as a PT_LOAD of size 0;
 *     · an excluded region sticking out below or above a range yields an inverted range (and a
 *       64-bit wrapped size in the header): we refuse those with a FormatError instead of
 *       writing garbage;
 *     · the tail of a split is typed RANGE_RAM whatever the range was, and only the last split of
 *       one call is inserted;
 *     · the list may hold at most CRASH_MAX_MEMORY_RANGES (32768) ranges.
 * - `"kernel"`: the kernel's `crash_exclude_mem_range()` (kernel/crash_core.c since v6.7, with
 *   the multi-range fix of v6.9): inclusive, handles every overlap, removes exact covers.
 *   `"kernel-6.1"` is the older version in kernel/kexec_file.c (v5.x–v6.8), which stops at the
 *   FIRST range the region touches (a region spanning two ranges only cuts the first).
 * - `"kexec-tools-mem-regions"`: kexec-tools' generic mem_regions_exclude() (kexec/mem_regions.c,
 *   used by arm64): inclusive, but only a region lying wholly inside ONE range is cut; any other
 *   overlap is silently ignored.
 *
 * Every change is reported as an ExclusionEvent so `elfcorehdr --explain` can say why.
 */
import { FormatError, hex, LimitError } from "../errors.js";
import {
  checkPhysRange,
  formatRange16,
  KEXEC_MAX_CRASH_RANGES,
  type MemoryRange,
  RangeType,
} from "./range.js";

export type ExclusionMode = "exact" | "kexec-tools" | "kexec-tools-mem-regions" | "kernel" | "kernel-6.1";

export type ExclusionAction =
  | "split"
  | "trim-end"
  | "trim-start"
  | "remove"
  /** kexec-tools: region touches only the range's last or first byte, range left as is. */
  | "untouched-edge"
  /** kexec-tools: exact cover leaves a zero-length range. */
  | "zero-length";

export interface ExclusionEvent {
  action: ExclusionAction;
  /** Why the region is excluded ("crashkernel", "low 1 MiB", "GART" …). */
  reason: string;
  excluded: { start: number; end: number };
  before: MemoryRange;
  /** What is left of the range (0, 1 or 2 ranges). */
  after: MemoryRange[];
  /** Explanation of a tool quirk, when the action differs from exact subtraction. */
  note?: string;
}

export interface ExclusionResult {
  ranges: MemoryRange[];
  events: ExclusionEvent[];
}

/** Remove [start, end] (inclusive) from `ranges` (not modified) according to `mode`. */
export function excludeRegion(
  ranges: readonly MemoryRange[],
  start: number,
  end: number,
  mode: ExclusionMode = "exact",
  reason = "excluded",
): ExclusionResult {
  checkPhysRange({ start, end }, `excluded region (${reason})`);
  switch (mode) {
    case "exact":
      return excludeExact(ranges, start, end, reason);
    case "kexec-tools":
      return excludeKexecTools(ranges, start, end, reason);
    case "kexec-tools-mem-regions":
      return excludeMemRegions(ranges, start, end, reason);
    case "kernel":
      return excludeKernel(ranges, start, end, reason, true);
    case "kernel-6.1":
      return excludeKernel(ranges, start, end, reason, false);
  }
}

function copy(r: MemoryRange): MemoryRange {
  return { start: r.start, end: r.end, type: r.type };
}

function excludeExact(ranges: readonly MemoryRange[], start: number, end: number, reason: string) {
  const out: MemoryRange[] = [];
  const events: ExclusionEvent[] = [];
  for (const r of ranges) {
    if (end < r.start || start > r.end) {
      out.push(copy(r));
      continue;
    }
    const after: MemoryRange[] = [];
    if (start > r.start) after.push({ start: r.start, end: start - 1, type: r.type });
    if (end < r.end) after.push({ start: end + 1, end: r.end, type: r.type });
    const action: ExclusionAction =
      after.length === 2
        ? "split"
        : after.length === 0
          ? "remove"
          : after[0]!.start === r.start
            ? "trim-end"
            : "trim-start";
    events.push({ action, reason, excluded: { start, end }, before: copy(r), after: after.map(copy) });
    out.push(...after);
  }
  return { ranges: out, events };
}

function excludeKexecTools(ranges: readonly MemoryRange[], start: number, end: number, reason: string) {
  if (ranges.length > KEXEC_MAX_CRASH_RANGES)
    throw new LimitError("kexec-tools crash memory ranges", ranges.length, KEXEC_MAX_CRASH_RANGES);
  const list = ranges.map(copy);
  const events: ExclusionEvent[] = [];
  let temp: MemoryRange | undefined;
  let tidx = -1;
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    const mstart = r.start;
    const mend = r.end;
    const before = copy(r);
    if (start < mend && end > mstart) {
      if (start !== mstart && end !== mend) {
        r.end = start - 1;
        temp = { start: end + 1, end: mend, type: RangeType.RAM };
        tidx = i + 1;
        events.push({
          action: "split",
          reason,
          excluded: { start, end },
          before,
          after: [copy(r), copy(temp)],
        });
      } else if (start !== mstart) {
        r.end = start - 1;
        events.push({ action: "trim-end", reason, excluded: { start, end }, before, after: [copy(r)] });
      } else {
        r.start = end + 1;
        const zero = r.start === mend + 1;
        events.push({
          action: zero ? "zero-length" : "trim-start",
          reason,
          excluded: { start, end },
          before,
          after: [copy(r)],
          ...(zero
            ? {
                note: "kexec-tools exclude_region() turns an exactly covered range into a zero-length one (start = end + 1); it is still written as a PT_LOAD of size 0",
              }
            : {}),
        });
      }
      if (r.end < r.start - 1 || (temp && temp.end < temp.start))
        throw new FormatError(
          `kexec-tools exclude_region() would leave an inverted range when excluding ${hex(start)}-${hex(end)} (${reason}) from ${formatRange16(before)}: the region is not contained in the range, and kexec-tools would write a PT_LOAD with a wrapped 64-bit size`,
        );
    } else if ((start === mend || end === mstart) && start <= mend && end >= mstart) {
      events.push({
        action: "untouched-edge",
        reason,
        excluded: { start, end },
        before,
        after: [copy(r)],
        note: `kexec-tools exclude_region() compares strictly: a region touching only the ${start === mend ? "last" : "first"} byte of a range leaves it untouched (that byte stays in the dump)`,
      });
    }
  }
  if (temp && tidx >= 0) {
    if (list.length === KEXEC_MAX_CRASH_RANGES)
      throw new LimitError(
        "kexec-tools crash memory ranges after a split",
        list.length + 1,
        KEXEC_MAX_CRASH_RANGES,
      );
    list.splice(tidx, 0, temp);
  }
  return { ranges: list, events };
}

function excludeMemRegions(ranges: readonly MemoryRange[], start: number, end: number, reason: string) {
  const list = ranges.map(copy);
  const events: ExclusionEvent[] = [];
  const excluded = { start, end };
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    const before = copy(r);
    if (r.start <= start && r.end >= end) {
      if (r.start === start && r.end === end) {
        list.splice(i, 1);
        i--;
        events.push({ action: "remove", reason, excluded, before, after: [] });
      } else if (r.start === start) {
        r.start = end + 1;
        events.push({ action: "trim-start", reason, excluded, before, after: [copy(r)] });
      } else if (r.end === end) {
        r.end = start - 1;
        events.push({ action: "trim-end", reason, excluded, before, after: [copy(r)] });
      } else {
        // mem_regions_add() appends the tail; callers sort afterwards (mem_regions_sort).
        const tail: MemoryRange = { start: end + 1, end: before.end, type: RangeType.RAM };
        r.end = start - 1;
        list.push(tail);
        events.push({ action: "split", reason, excluded, before, after: [copy(r), copy(tail)] });
        break;
      }
    } else if (start <= r.end && end >= r.start) {
      events.push({
        action: "untouched-edge",
        reason,
        excluded,
        before,
        after: [copy(r)],
        note: "kexec-tools mem_regions_exclude() only cuts a region lying wholly inside one range; this partial overlap is left in the dump",
      });
    }
  }
  return { ranges: list, events };
}

function excludeKernel(
  ranges: readonly MemoryRange[],
  mstart: number,
  mend: number,
  reason: string,
  multi: boolean,
) {
  const list = ranges.map(copy);
  const events: ExclusionEvent[] = [];
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (mstart > r.end || mend < r.start) continue;
    const pStart = Math.max(mstart, r.start);
    const pEnd = Math.min(mend, r.end);
    const before = copy(r);
    if (pStart === r.start && pEnd === r.end) {
      list.splice(i, 1);
      events.push({ action: "remove", reason, excluded: { start: mstart, end: mend }, before, after: [] });
      if (multi) {
        i--;
        continue;
      }
      break;
    }
    if (pStart > r.start && pEnd < r.end) {
      const tail: MemoryRange = { start: pEnd + 1, end: r.end, type: r.type };
      r.end = pStart - 1;
      list.splice(i + 1, 0, tail);
      events.push({
        action: "split",
        reason,
        excluded: { start: mstart, end: mend },
        before,
        after: [copy(r), copy(tail)],
      });
      // A region strictly inside one range cannot touch another.
      break;
    }
    if (pStart !== r.start) {
      r.end = pStart - 1;
      events.push({
        action: "trim-end",
        reason,
        excluded: { start: mstart, end: mend },
        before,
        after: [copy(r)],
      });
    } else {
      r.start = pEnd + 1;
      events.push({
        action: "trim-start",
        reason,
        excluded: { start: mstart, end: mend },
        before,
        after: [copy(r)],
      });
    }
    if (!multi) break;
  }
  return { ranges: list, events };
}

/** Apply several exclusions in order, collecting events. */
export function excludeRegions(
  ranges: readonly MemoryRange[],
  regions: readonly { start: number; end: number; reason: string }[],
  mode: ExclusionMode = "exact",
): ExclusionResult {
  let cur: MemoryRange[] = [...ranges];
  const events: ExclusionEvent[] = [];
  for (const reg of regions) {
    const res = excludeRegion(cur, reg.start, reg.end, mode, reg.reason);
    cur = res.ranges;
    events.push(...res.events);
  }
  return { ranges: cur, events };
}
