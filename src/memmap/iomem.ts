/**
 * /proc/iomem as the tree it is. Each line is `start-end : name` with both ends inclusive, in
 * hex, 8 digits on 32-bit-wide machines and more when needed; two spaces of indentation per
 * nesting level (kernel/resource.c r_show: "%*s%0*llx-%0*llx : %s", depth * 2). Names are
 * matched case-sensitively, as kexec-tools does: Xen dom0 kernels write "Hypervisor code and
 * data", Hyper-V "Hypervisor Code and Data" (both listed in HYPERVISOR_NAMES).
 *
 * Unprivileged readers see every address as 0 (kernel ≥ 4.15, CAP_SYS_ADMIN missing):
 * parseIomem reports that instead of returning a map of zeros.
 */
import { FormatError, hex, LimitError } from "../errors.js";
import { KEXEC_MAX_CRASH_RANGES, type MemoryRange, parseHexAddress, RangeType } from "./range.js";

export interface IomemResource {
  start: number;
  end: number;
  name: string;
  /** Nesting depth (0 = top level). */
  depth: number;
  /** 1-based line number in the text. */
  line: number;
  children: IomemResource[];
}

export interface IomemTree {
  /** Top-level resources in file order. */
  roots: IomemResource[];
  /** Every resource in file (pre-)order. */
  all: IomemResource[];
}

/** Names of the hypervisor image resource: Xen (arch/x86/xen) and Hyper-V spellings. */
export const HYPERVISOR_NAMES = ["Hypervisor code and data", "Hypervisor Code and Data"] as const;
/** The crashkernel reservation(s). x86 names the low one "Crash kernel" too; some trees say "(low)". */
export const CRASH_KERNEL_NAMES = ["Crash kernel", "Crash kernel (low)"] as const;

/** Bound on lines we accept: a real iomem has hundreds, a big NUMA box a few thousand. */
export const MAX_IOMEM_LINES = 1 << 20;

/** Thrown when /proc/iomem was read without privilege: every address reads as zero. */
export class IomemHiddenError extends FormatError {
  constructor() {
    super("/proc/iomem shows every address as 0: it was read without CAP_SYS_ADMIN (run as root)");
  }
}

const LINE = /^( *)([0-9a-fA-F]+)-([0-9a-fA-F]+) : (.*)$/;

export function parseIomem(text: string): IomemTree {
  const lines = text.split("\n");
  if (lines.length > MAX_IOMEM_LINES)
    throw new LimitError("/proc/iomem lines", lines.length, MAX_IOMEM_LINES);
  const roots: IomemResource[] = [];
  const all: IomemResource[] = [];
  const stack: IomemResource[] = [];
  let nonZero = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, "");
    if (raw.trim() === "") continue;
    const m = LINE.exec(raw);
    if (!m)
      throw new FormatError(
        `/proc/iomem line ${i + 1}: not "start-end : name": ${JSON.stringify(raw.slice(0, 80))}`,
      );
    const indent = m[1]!.length;
    if (indent % 2 !== 0)
      throw new FormatError(`/proc/iomem line ${i + 1}: odd indentation (${indent} spaces)`);
    const depth = indent / 2;
    const start = parseHexAddress(m[2]!, `/proc/iomem line ${i + 1}`);
    const end = parseHexAddress(m[3]!, `/proc/iomem line ${i + 1}`);
    if (end < start)
      throw new FormatError(`/proc/iomem line ${i + 1}: inverted range ${hex(start)}-${hex(end)} (${m[4]})`);
    if (start !== 0 || end !== 0) nonZero = true;
    const res: IomemResource = { start, end, name: m[4]!, depth, line: i + 1, children: [] };
    if (depth > stack.length)
      throw new FormatError(
        `/proc/iomem line ${i + 1}: nested ${depth} levels deep under a depth-${stack.length - 1} entry`,
      );
    stack.length = depth;
    const parent = stack[depth - 1];
    const siblings = parent ? parent.children : roots;
    const prev = siblings[siblings.length - 1];
    if (nonZero) {
      if (parent && (start < parent.start || end > parent.end))
        throw new FormatError(
          `/proc/iomem line ${i + 1}: ${res.name} ${hex(start)}-${hex(end)} lies outside its parent ${parent.name} ${hex(parent.start)}-${hex(parent.end)}`,
        );
      if (prev && start <= prev.end)
        throw new FormatError(
          `/proc/iomem line ${i + 1}: ${res.name} ${hex(start)}-${hex(end)} overlaps or precedes ${prev.name} ${hex(prev.start)}-${hex(prev.end)}`,
        );
    }
    siblings.push(res);
    all.push(res);
    stack.push(res);
  }
  if (all.length > 0 && !nonZero) throw new IomemHiddenError();
  return { roots, all };
}

/** Resources with exactly this name (case-sensitive), in file order. */
export function findResources(tree: IomemTree, name: string): IomemResource[] {
  return tree.all.filter((r) => r.name === name);
}

/** Crashkernel reservations ("Crash kernel", "Crash kernel (low)"), lowest first. */
export function crashKernelRegions(tree: IomemTree): IomemResource[] {
  return tree.all
    .filter((r) => (CRASH_KERNEL_NAMES as readonly string[]).includes(r.name))
    .sort((a, b) => a.start - b.start);
}

/** The kernel image's "Kernel code" resource (its start is where _text/_stext lives physically). */
export function kernelCode(tree: IomemTree): IomemResource | undefined {
  return tree.all.find((r) => r.name === "Kernel code");
}

/** Xen's or Hyper-V's hypervisor image resource, if dom0's iomem shows one. */
export function hypervisorImage(tree: IomemTree): IomemResource | undefined {
  return tree.all.find((r) => (HYPERVISOR_NAMES as readonly string[]).includes(r.name));
}

/**
 * RAM as the kernel's walk_system_ram_res() sees it (kexec_file's source of PT_LOADs): every
 * resource whose name begins with "System RAM" — "System RAM", "System RAM (kmem)",
 * "System RAM (virtio_mem)" — at any depth, in address order, as RANGE_RAM.
 */
export function systemRam(tree: IomemTree): MemoryRange[] {
  return tree.all
    .filter((r) => r.name.startsWith("System RAM"))
    .map((r) => ({ start: r.start, end: r.end, type: RangeType.RAM }))
    .sort((a, b) => a.start - b.start);
}

export interface KexecIomemRanges {
  /** Ranges in file order with kexec-tools' types (RAM, reserved, ACPI, NVS, PMEM, PRAM). */
  ranges: MemoryRange[];
  /** The "GART" aperture, which kexec-tools excludes too. */
  gart?: { start: number; end: number };
}

/**
 * What kexec-tools' get_crash_memory_ranges() (crashdump-x86.c) takes from /proc/iomem: every
 * line at any depth (sscanf skips the indentation), typed by name — strstr "System RAM" anywhere
 * in the name, "ACPI Tables", "ACPI Non-volatile Storage", "Persistent Memory (legacy)",
 * "Persistent Memory", "reserved"/"Reserved" exactly; "GART" is remembered for exclusion; the
 * rest is ignored. i386 splits ranges at the lowmem limit (segregate_lowmem_region).
 * kexec-tools silently stops at 32768 ranges; we fail instead.
 */
export function kexecToolsCrashRanges(tree: IomemTree, lowmemLimit = 0): KexecIomemRanges {
  const ranges: MemoryRange[] = [];
  let gart: { start: number; end: number } | undefined;
  for (const r of tree.all) {
    let type: number;
    const n = r.name;
    if (n.includes("System RAM")) type = RangeType.RAM;
    else if (n === "ACPI Tables") type = RangeType.ACPI;
    else if (n === "ACPI Non-volatile Storage") type = RangeType.ACPI_NVS;
    else if (n === "Persistent Memory (legacy)") type = RangeType.PRAM;
    else if (n === "Persistent Memory") type = RangeType.PMEM;
    else if (n === "reserved" || n === "Reserved") type = RangeType.RESERVED;
    else if (n === "GART") {
      gart = { start: r.start, end: r.end };
      continue;
    } else continue;
    if (lowmemLimit && lowmemLimit > r.start && lowmemLimit < r.end) {
      ranges.push({ start: r.start, end: lowmemLimit - 1, type });
      ranges.push({ start: lowmemLimit, end: r.end, type });
    } else ranges.push({ start: r.start, end: r.end, type });
    if (ranges.length > KEXEC_MAX_CRASH_RANGES)
      throw new LimitError(
        "crash memory ranges in /proc/iomem (kexec-tools stops silently)",
        ranges.length,
        KEXEC_MAX_CRASH_RANGES,
      );
  }
  return gart ? { ranges, gart } : { ranges };
}

/** Render a tree back in /proc/iomem form (8 hex digits minimum, as a 64-bit kernel prints). */
export function formatIomem(tree: IomemTree, width = 8): string {
  return tree.all
    .map(
      (r) =>
        `${"  ".repeat(r.depth)}${r.start.toString(16).padStart(width, "0")}-${r.end.toString(16).padStart(width, "0")} : ${r.name}`,
    )
    .join("\n");
}
