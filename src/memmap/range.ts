/**
 * Physical memory ranges the way kexec-tools and the kernel keep them: `start` and `end` are
 * both INCLUSIVE (struct memory_range / struct range), so a range always holds at least one
 * byte and the top of a 64-bit space is representable. Sizes are `end - start + 1`.
 * Addresses are numbers validated < 2^53 (see BRIEF: physical addresses are numbers).
 */
import { FormatError, hex, LimitError } from "../errors.js";

/** kexec-tools' range types (kexec/kexec.h RANGE_*), with the numbers `kexec -d` prints. */
export const RangeType = {
  RAM: 0,
  RESERVED: 1,
  ACPI: 2,
  ACPI_NVS: 3,
  UNCACHED: 4,
  PMEM: 6,
  PRAM: 11,
} as const;
export type RangeTypeNumber = (typeof RangeType)[keyof typeof RangeType];

const typeNames: Record<number, string> = {
  0: "System RAM",
  1: "Reserved",
  2: "ACPI Tables",
  3: "ACPI Non-volatile Storage",
  4: "Uncached",
  6: "Persistent Memory",
  11: "Persistent Memory (legacy)",
};

export function rangeTypeName(t: number): string {
  return typeNames[t] ?? `type ${t}`;
}

export interface PhysRange {
  /** First byte. */
  start: number;
  /** Last byte (inclusive). */
  end: number;
}

export interface MemoryRange extends PhysRange {
  type: number;
}

/** Largest physical address we accept: numbers must stay exact (< 2^53). */
export const MAX_PHYS_ADDR = Number.MAX_SAFE_INTEGER;

/** kexec-tools' CRASH_MAX_MEMORY_RANGES (kexec/arch/i386/crashdump-x86.h): 32768. */
export const KEXEC_MAX_CRASH_RANGES = 32768;

export function rangeSize(r: PhysRange): number {
  return r.end - r.start + 1;
}

/** Validate one range: integers, start <= end, below 2^53. `what` names it in errors. */
export function checkPhysRange(r: PhysRange, what: string): void {
  if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.start < 0 || r.end < 0)
    throw new LimitError(`${what}: address`, r.end, MAX_PHYS_ADDR);
  if (r.end < r.start) throw new FormatError(`${what}: inverted range ${hex(r.start)}-${hex(r.end)}`);
}

/** Parse a hex address as printed by /proc/iomem or kexec -d (no 0x), checking < 2^53. */
export function parseHexAddress(s: string, what: string): number {
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) throw new FormatError(`${what}: bad hex address "${s}"`);
  const v = Number.parseInt(s, 16);
  if (!Number.isSafeInteger(v))
    throw new LimitError(`${what}: address 0x${s}`, BigInt(`0x${s}`), MAX_PHYS_ADDR);
  return v;
}

/** "0000000000100000-000000001ffdcfff" style (kexec -d), 16 digits each. */
export function formatRange16(r: PhysRange): string {
  return `${r.start.toString(16).padStart(16, "0")}-${r.end.toString(16).padStart(16, "0")}`;
}

/** Sorted copy; throws FormatError when two ranges overlap (`what` names the list). */
export function sortedDisjoint<T extends PhysRange>(ranges: readonly T[], what: string): T[] {
  const out = [...ranges].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 0; i < out.length; i++) {
    checkPhysRange(out[i]!, what);
    if (i > 0 && out[i]!.start <= out[i - 1]!.end)
      throw new FormatError(
        `${what}: overlapping ranges ${formatRange16(out[i - 1]!)} and ${formatRange16(out[i]!)}`,
      );
  }
  return out;
}
