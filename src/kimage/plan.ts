/**
 * What every load planner returns: per segment where its bytes come from and where they go,
 * how many are copied and zeroed and with which operation, every overlap that matters, the
 * memory footprint and the entry point in each address mode. Addresses are bigints here: one
 * plan mixes file offsets, physical and (64-bit) virtual addresses.
 */

import type { ElfFile } from "../elf/reader.js";
import { PT_LOAD } from "../elf/types.js";
import { LimitError } from "../errors.js";

export type AddressSpace = "file" | "physical" | "virtual" | "guest-physical";

/**
 * PT_LOADs a planner accepts: the planners compare every pair of segments for overlaps, so an
 * image with 200k program headers ran for minutes. A kernel has a handful (kexec-tools caps
 * a load at KEXEC_SEGMENT_MAX = 16 segments); 4096 pairs up in well under a second.
 */
export const MAX_PLAN_SEGMENTS = 4096;

/** Refuse an ELF with more PT_LOADs than a planner can compare pairwise. */
export function checkPlanSegments(elf: ElfFile): void {
  let n = 0;
  for (const p of elf.programHeaders) if (p.type === PT_LOAD) n++;
  if (n > MAX_PLAN_SEGMENTS) throw new LimitError("PT_LOAD segments to plan", n, MAX_PLAN_SEGMENTS);
}

/** [start, end) in one address space. */
export interface AddrRange {
  space: AddressSpace;
  start: bigint;
  end: bigint;
}

export interface PlannedSegment {
  /** Program header index (or a name for non-ELF pieces such as "setup" or "kernel"). */
  index: number;
  label: string;
  source: AddrRange;
  /** Primary destination (the loader's own address space). */
  dest: AddrRange;
  /** The same destination in other modes (e.g. virtual for a physical loader). */
  alsoAt?: AddrRange[];
  copied: number;
  zeroed: number;
  /** How the loader moves the bytes: "memcpy", "memmove", "load" (from file), "none". */
  op: string;
  warnings: string[];
}

export type OverlapKind =
  /** A segment's source and destination overlap: harmless or not by the copy's direction. */
  | "source-dest"
  /** Moving one segment overwrites the not-yet-moved source of a later segment. */
  | "clobbers-later-source"
  /** Two destinations overlap: the later copy wins. */
  | "dest-dest"
  /** A destination overlaps something that must stay (another region, the image itself). */
  | "reserved";

export interface Overlap {
  kind: OverlapKind;
  /** Segment indexes involved (a = the one being moved). */
  a: number;
  b?: number;
  range: AddrRange;
  bytes: number;
  /** Why it matters, in one sentence. */
  note: string;
  /** True when it corrupts the image with the loader's actual copy routine. */
  corrupts: boolean;
  /**
   * Source-dest overlaps: the source bytes a copy in the routine's direction overwrites before
   * reading them (absent when none are), and why the overlap is harmless when it is.
   */
  clobbered?: AddrRange;
  harmless?: string;
}

export interface EntryPoint {
  mode: string;
  address: bigint;
}

export interface LoadPlan {
  loader: "decompressor" | "xen" | "kexec" | "multiboot";
  /** One line: what was planned and with which assumptions. */
  summary: string;
  segments: PlannedSegment[];
  overlaps: Overlap[];
  footprint: AddrRange & { size: number };
  /** A second footprint worth contrasting (e.g. the naive vaddr span for Xen). */
  naiveFootprint?: AddrRange & { size: number; note: string };
  entry: EntryPoint[];
  /** Other regions to draw (memory map, output buffer, crashkernel). */
  regions: Array<AddrRange & { label: string }>;
  /** Lines the real loader prints for this image, reproduced (e.g. Xen's dom0 builder). */
  console: string[];
  warnings: string[];
  /** Reasons the loader would refuse this image; empty when it loads. */
  errors: string[];
}

export function intersect(a: AddrRange, b: AddrRange): AddrRange | undefined {
  if (a.space !== b.space) return undefined;
  const start = a.start > b.start ? a.start : b.start;
  const end = a.end < b.end ? a.end : b.end;
  return start < end ? { space: a.space, start, end } : undefined;
}

export function rangeSize(r: AddrRange): number {
  return Number(r.end - r.start);
}
