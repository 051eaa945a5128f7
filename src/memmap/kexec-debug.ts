/**
 * The output of `kexec -d -p` (kexec-tools 2.0.x, x86): its "MEMORY RANGES" and "CRASH MEMORY
 * RANGES" blocks (`start-end (type)` with 16 hex digits, type = RANGE_* number), and the facts
 * it prints while building the crash segments (kexec/arch/i386/crashdump-x86.c,
 * kexec/crashdump-elf.c): crash_notes per CPU, the phdrs it wrote, the kernel text mapping, the
 * backup region and where the backup and the ELF header segments were placed.
 *
 * Notes on what the blocks hold:
 * - "MEMORY RANGES" is get_memory_ranges(): /sys/firmware/memmap (or the Xen machine map) after
 *   fixup, with the first RAM range moved up to 0x400 ("Don't report the interrupt table as
 *   ram", kexec-x86-common.c, REALMODE_IVT_END). The crash path re-reads the map without that
 *   trim, so `undoIvtTrim` puts such a range back at 0.
 * - "CRASH MEMORY RANGES" is the list after the crashkernel (and GART) exclusion, i.e. exactly
 *   the ranges the header's PT_LOADs come from.
 */
import { FormatError, LimitError } from "../errors.js";
import {
  KEXEC_MAX_CRASH_RANGES,
  type MemoryRange,
  type PhysRange,
  parseHexAddress,
  RangeType,
} from "./range.js";

/** One program header as kexec-tools' dbgprintf_phdr printed it. */
export interface KexecDebugPhdr {
  /** "Elf header", "vmcoreinfo header" or "Kernel text Elf header". */
  label: string;
  type: number;
  offset: number;
  paddr: number;
  vaddr: bigint;
  filesz: number;
  memsz: number;
}

export interface KexecDebugSegment {
  index: number;
  bufsz: number;
  mem: number;
  memsz: number;
}

export interface KexecDebug {
  memoryRanges: MemoryRange[];
  crashMemoryRanges: MemoryRange[];
  backupArea?: { start: number; end: number };
  backupSegment?: number;
  elfHeaderSegment?: number;
  /** get_crash_notes_per_cpu lines (absent under Xen, where the hypercall gives them). */
  crashNotes: { address: number; size: number }[];
  phdrs: KexecDebugPhdr[];
  kernelPaddr?: number;
  stextVaddr?: bigint;
  kernelText?: { vaddr: bigint; size: number };
  segments: KexecDebugSegment[];
  /** The capture command line after elfcorehdr= was added. */
  commandLine?: string;
}

const RANGE_LINE = /^([0-9a-f]{16})-([0-9a-f]{16}) \((\d+)\)$/;
const PHDR_LINE =
  /^(Elf header|vmcoreinfo header|Kernel text Elf header): p_type = (\d+), p_offset = 0x([0-9a-f]+) p_paddr = 0x([0-9a-f]+) p_vaddr = 0x([0-9a-f]+) p_filesz = 0x([0-9a-f]+) p_memsz = 0x([0-9a-f]+)$/;

export interface KexecDebugOptions {
  /** Move a first RAM range starting at 0x400 in "MEMORY RANGES" back to 0 (see above). */
  undoIvtTrim?: boolean;
}

function num(s: string, what: string): number {
  return parseHexAddress(s.replace(/^0x/, ""), what);
}

export function parseKexecDebug(text: string, opts: KexecDebugOptions = {}): KexecDebug {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const out: KexecDebug = {
    memoryRanges: [],
    crashMemoryRanges: [],
    crashNotes: [],
    phdrs: [],
    segments: [],
  };
  const segs = new Map<number, Partial<KexecDebugSegment>>();
  let sawMemory = false;
  let sawCrash = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "MEMORY RANGES" || line === "CRASH MEMORY RANGES") {
      const crash = line === "CRASH MEMORY RANGES";
      if (crash ? sawCrash : sawMemory) continue; // kexec prints each once; keep the first
      const list = readRangeBlock(lines, i + 1, line);
      if (crash) {
        out.crashMemoryRanges = list;
        sawCrash = true;
      } else {
        out.memoryRanges = list;
        sawMemory = true;
      }
      continue;
    }
    let m = /^get_backup_area: ([0-9a-f]+)-([0-9a-f]+) : /.exec(line);
    if (m) {
      out.backupArea = { start: num(m[1]!, "get_backup_area"), end: num(m[2]!, "get_backup_area") };
      continue;
    }
    m = /^Created backup segment at 0x([0-9a-f]+)$/.exec(line);
    if (m) {
      out.backupSegment = num(m[1]!, "backup segment");
      continue;
    }
    m = /^Created elf header segment at 0x([0-9a-f]+)$/.exec(line);
    if (m) {
      out.elfHeaderSegment = num(m[1]!, "elf header segment");
      continue;
    }
    m = /crash_notes addr = ([0-9a-f]+), size = (\d+)$/.exec(line);
    if (m) {
      out.crashNotes.push({ address: num(m[1]!, "crash_notes"), size: Number(m[2]) });
      continue;
    }
    m = PHDR_LINE.exec(line);
    if (m) {
      out.phdrs.push({
        label: m[1]!,
        type: Number(m[2]),
        offset: num(m[3]!, "p_offset"),
        paddr: num(m[4]!, "p_paddr"),
        vaddr: BigInt(`0x${m[5]}`),
        filesz: num(m[6]!, "p_filesz"),
        memsz: num(m[7]!, "p_memsz"),
      });
      continue;
    }
    m = /^kernel load physical addr start = 0x([0-9a-f]+)$/.exec(line);
    if (m) {
      out.kernelPaddr = num(m[1]!, "kernel load physical addr");
      continue;
    }
    m = /^kernel symbol _stext vaddr = ([0-9a-f]+)$/.exec(line);
    if (m) {
      out.stextVaddr = BigInt(`0x${m[1]}`);
      continue;
    }
    m = /^kernel vaddr = 0x([0-9a-f]+) size = 0x([0-9a-f]+)$/.exec(line);
    if (m) {
      out.kernelText = { vaddr: BigInt(`0x${m[1]}`), size: num(m[2]!, "kernel size") };
      continue;
    }
    m = /^segment\[(\d+)\]\.(bufsz|mem|memsz)\s*= 0x([0-9a-f]+)$/.exec(line);
    if (m) {
      const idx = Number(m[1]);
      const s = segs.get(idx) ?? { index: idx };
      s[m[2] as "bufsz" | "mem" | "memsz"] = num(m[3]!, `segment[${idx}]`);
      segs.set(idx, s);
      continue;
    }
    if (line === "Command line after adding elfcorehdr" && i + 1 < lines.length) {
      out.commandLine = lines[i + 1]!;
    }
  }
  if (!sawMemory && !sawCrash && out.phdrs.length === 0)
    throw new FormatError('not kexec -d output: no "MEMORY RANGES" block and no program header lines');
  out.segments = [...segs.values()]
    .filter(
      (s): s is KexecDebugSegment => s.bufsz !== undefined && s.mem !== undefined && s.memsz !== undefined,
    )
    .sort((a, b) => a.index - b.index);
  if (opts.undoIvtTrim) {
    const first = out.memoryRanges.find((r) => r.type === RangeType.RAM);
    if (first && first.start === 0x400) first.start = 0;
  }
  return out;
}

/**
 * Parse `start-end (type)` lines (a kexec -d block, or a file of such lines) until the first
 * line that is not one. Exported for `--memory FILE` holding just such lines.
 */
export function readRangeBlock(lines: readonly string[], from: number, what: string): MemoryRange[] {
  const list: MemoryRange[] = [];
  for (let j = from; j < lines.length; j++) {
    const m = RANGE_LINE.exec(lines[j]!.trim());
    if (!m) break;
    const start = num(m[1]!, what);
    const end = num(m[2]!, what);
    if (end < start - 1) throw new FormatError(`${what} line ${j + 1}: inverted range ${m[1]}-${m[2]}`);
    list.push({ start, end, type: Number(m[3]) });
    if (list.length > KEXEC_MAX_CRASH_RANGES) throw new LimitError(what, list.length, KEXEC_MAX_CRASH_RANGES);
  }
  return list;
}

/** Is this text a plain list of kexec-style `start-end (type)` lines? */
export function isKexecRangeList(text: string): boolean {
  const first = text.split("\n").find((l) => l.trim() !== "");
  return first !== undefined && RANGE_LINE.test(first.trim());
}

/**
 * The crashkernel region(s) `kexec -d` implies: the RAM of "MEMORY RANGES" that "CRASH MEMORY
 * RANGES" no longer holds (kexec-tools cut exactly these out: crashk_res, crashk_low_res, and
 * outside Xen the GART aperture). Under Xen this is the only place dom0's user space shows the
 * hypervisor's kexec_crash_area. Empty when either block is missing.
 */
export function crashRegionsFromKexecDebug(debug: KexecDebug): PhysRange[] {
  const ram = (rs: MemoryRange[]) =>
    rs
      .filter((r) => r.type === RangeType.RAM && r.end >= r.start)
      .map((r) => ({ start: r.start, end: r.end }))
      .sort((a, b) => a.start - b.start);
  const before = ram(debug.memoryRanges);
  const after = ram(debug.crashMemoryRanges);
  if (!before.length || !after.length) return [];
  const out: PhysRange[] = [];
  for (const r of before) {
    let at = r.start;
    for (const c of after) {
      if (c.end < at || c.start > r.end) continue;
      if (c.start > at) out.push({ start: at, end: c.start - 1 });
      at = Math.max(at, c.end + 1);
      if (at > r.end) break;
    }
    if (at <= r.end) out.push({ start: at, end: r.end });
  }
  // below 1 MiB the lists differ by trims that are not cuts (the real-mode IVT, x86's first
  // page): a crashkernel reservation is never placed there
  return out.filter((h) => h.end >= 0x100000);
}
