/**
 * `elfcorehdr build --explain`: every range of the starting memory list and what became of it
 * (kept as a PT_LOAD, trimmed, split, removed, or not dumped because it is not RAM), every
 * exclusion with the tool quirk it triggered, and every program header with its reason.
 */
import { hex } from "../errors.js";
import { formatRange16, type MemoryRange, RangeType, rangeTypeName } from "../memmap/range.js";
import type { BuiltCoreHeader } from "./types.js";

export interface RangeFate {
  range: MemoryRange;
  typeName: string;
  fate: "not-ram" | "kept" | "changed" | "dropped";
  /** What is left of it in the header (PT_LOAD indexes into phdrs). */
  phdrs: number[];
  text: string;
}

export interface Explanation {
  ranges: RangeFate[];
  exclusions: string[];
  phdrs: string[];
  warnings: string[];
}

export function explainHeader(b: BuiltCoreHeader): Explanation {
  const loads = b.phdrs.map((p, i) => ({ p, i })).filter(({ p }) => p.role === "ram" || p.role === "backup");
  const ranges: RangeFate[] = b.inputRanges.map((r) => {
    const typeName = rangeTypeName(r.type);
    if (r.type !== RangeType.RAM)
      return { range: r, typeName, fate: "not-ram", phdrs: [], text: `not dumped: ${typeName}` };
    const inside = loads.filter(({ p }) => p.paddr >= r.start && p.paddr <= r.end);
    const idx = inside.map(({ i }) => i);
    if (inside.length === 0)
      return { range: r, typeName, fate: "dropped", phdrs: [], text: "not dumped: wholly excluded" };
    const one = inside[0]!.p;
    if (inside.length === 1 && one.paddr === r.start && one.filesz === r.end - r.start + 1)
      return {
        range: r,
        typeName,
        fate: "kept",
        phdrs: idx,
        text:
          one.role === "backup"
            ? `kept whole as PT_LOAD #${idx[0]}, the backup region: its bytes are read from the copy at ${hex(one.offset)}`
            : `kept whole as PT_LOAD #${idx[0]}`,
      };
    const parts = inside.map(({ p, i }) => `#${i} ${hex(p.paddr)}+${hex(p.filesz)}`).join(", ");
    return { range: r, typeName, fate: "changed", phdrs: idx, text: `cut down to ${parts}` };
  });
  const exclusions = b.exclusions.map((e) => {
    const after = e.after.length ? e.after.map((a) => formatRange16(a)).join(" + ") : "nothing";
    return `${e.reason} ${formatRange16(e.excluded)}: ${e.action} ${formatRange16(e.before)} -> ${after}${e.note ? ` [${e.note}]` : ""}`;
  });
  const phdrs = b.phdrs.map(
    (p, i) =>
      `#${i} ${p.type === 4 ? "NOTE" : "LOAD"} paddr ${hex(p.paddr)} size ${hex(p.filesz)} offset ${hex(p.offset)} vaddr ${hex(p.vaddr)}: ${p.why}`,
  );
  return { ranges, exclusions, phdrs, warnings: b.warnings };
}

export function formatExplanation(x: Explanation): string {
  const out: string[] = ["Memory ranges:"];
  for (const r of x.ranges) out.push(`  ${formatRange16(r.range)} ${r.typeName.padEnd(26)} ${r.text}`);
  out.push("Exclusions:");
  if (x.exclusions.length === 0) out.push("  (none touched a range)");
  for (const e of x.exclusions) out.push(`  ${e}`);
  out.push("Program headers:");
  for (const p of x.phdrs) out.push(`  ${p}`);
  for (const w of x.warnings) out.push(`warning: ${w}`);
  return out.join("\n");
}
