/**
 * ELF vmcores: /proc/vmcore copies (kexec_load and kexec_file_load headers), makedumpfile -E,
 * QEMU dump-guest-memory (p_vaddr 0 without paging, e_ehsize 8, PN_XNUM — the ELF reader
 * tolerates those), ELF32 cores, Xen host vmcores (p_paddr = machine addresses).
 *
 * Physical memory is what the PT_LOADs say by p_paddr: [p_paddr, +p_filesz) is in the file at
 * p_offset; [p_paddr + p_filesz, p_paddr + p_memsz) was filtered out (makedumpfile -E writes
 * trailing excluded pages that way, and whole segments with p_filesz 0). Overlapping segments
 * (the kernel-text PT_LOAD of kexec-tools repeats RAM that another PT_LOAD holds; QEMU paging
 * dumps alias pages) resolve to the first segment that holds bytes.
 */

import { pageAlignedBytes } from "../bytes/aligned.js";
import type { SyncByteSource } from "../bytes/source.js";
import { archName } from "../elf/names.js";
import { ElfFile } from "../elf/reader.js";
import type { ElfNote, ProgramHeader } from "../elf/types.js";
import { PT_LOAD } from "../elf/types.js";
import { diagnoseImpossibleHeaders } from "../elfcorehdr/broken.js";
import {
  AddressError,
  ExcludedPageError,
  FormatError,
  hex,
  TruncatedError,
  UnsupportedError,
} from "../errors.js";
import type { DumpBackend, DumpLoadSegment, DumpWarning, PageRun, PageState } from "./types.js";
import { ReadWindow } from "./window.js";

/** One piece of physical memory: file bytes (fileOffset ≥ 0) or a state without bytes. */
export interface ElfExtent {
  start: number;
  end: number;
  /** File offset of `start`, or -1 when the bytes are not in the file. */
  fileOffset: number;
  state: PageState;
  /** Index of the program header it comes from. */
  phdr: number;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function paddrOf(p: ProgramHeader): number {
  if (p.paddr > BigInt(MAX_SAFE - Math.max(p.memsz, p.filesz)))
    throw new FormatError(`PT_LOAD ${p.index}: p_paddr ${hex(p.paddr)} + p_memsz does not fit in 53 bits`);
  return Number(p.paddr);
}

/**
 * Build the non-overlapping, sorted extent map from PT_LOADs. Bytes in the file win over
 * excluded ranges; among segments with bytes, the one listed first wins.
 */
export function buildExtents(loads: ProgramHeader[], fileSize: number, warnings: DumpWarning[]): ElfExtent[] {
  type Iv = { start: number; end: number; off: number; phdr: number };
  const present: Iv[] = [];
  const missing: Iv[] = [];
  const excluded: Iv[] = [];
  for (const p of loads) {
    const start = paddrOf(p);
    const filesz = p.filesz;
    if (filesz > 0) {
      const avail = Math.max(0, Math.min(filesz, fileSize - p.offset));
      if (avail > 0) present.push({ start, end: start + avail, off: p.offset, phdr: p.index });
      if (avail < filesz) missing.push({ start: start + avail, end: start + filesz, off: -1, phdr: p.index });
    }
    if (p.memsz > filesz)
      excluded.push({ start: start + filesz, end: start + p.memsz, off: -1, phdr: p.index });
  }
  const byStart = (a: Iv, b: Iv) => a.start - b.start || a.phdr - b.phdr;
  // 1. bytes in the file: first covering segment wins (stable sort keeps phdr order on ties)
  present.sort(byStart);
  const out: ElfExtent[] = [];
  let covered = -1;
  for (const iv of present) {
    if (iv.end <= covered) continue;
    const s = Math.max(iv.start, covered);
    const off = iv.off + (s - iv.start);
    const last = out[out.length - 1];
    if (
      last &&
      last.end === s &&
      last.fileOffset + (last.end - last.start) === off &&
      last.state === "present"
    ) {
      last.end = iv.end; // contiguous in memory and in the file: one extent (fast sequential reads)
    } else out.push({ start: s, end: iv.end, fileOffset: off, state: "present", phdr: iv.phdr });
    covered = iv.end;
  }
  // 2. ranges without bytes, minus what is already covered, "missing" before "excluded"
  const fill = (ivs: Iv[], state: PageState) => {
    ivs.sort(byStart);
    const taken = out.slice().sort((a, b) => a.start - b.start);
    let ti = 0;
    let cov = -1;
    for (const iv of ivs) {
      let s = Math.max(iv.start, cov);
      while (s < iv.end) {
        while (ti < taken.length && taken[ti]!.end <= s) ti++;
        const t = taken[ti];
        if (t && t.start <= s) {
          s = t.end;
          continue;
        }
        const e = t ? Math.min(iv.end, t.start) : iv.end;
        if (e > s) out.push({ start: s, end: e, fileOffset: -1, state, phdr: iv.phdr });
        s = e;
      }
      cov = Math.max(cov, iv.end);
    }
    out.sort((a, b) => a.start - b.start);
  };
  fill(missing, "missing");
  fill(excluded, "excluded");
  if (missing.length > 0)
    warnings.push({
      code: "truncated",
      message: `the file (${hex(fileSize)} bytes) ends inside PT_LOAD data: memory from ${hex(missing.sort((a, b) => a.start - b.start)[0]!.start)} is missing`,
    });
  return out;
}

export class ElfBackend implements DumpBackend {
  readonly format = "elf" as const;
  readonly pageSize: number;
  readonly littleEndian: boolean;
  readonly wordSize: 4 | 8;
  readonly machine: string;
  readonly notes: ElfNote[];
  readonly vmcoreinfoBytes = undefined;
  readonly utsname = undefined;
  readonly timestamp = undefined;
  readonly nrCpus = undefined;
  readonly warnings: DumpWarning[] = [];
  readonly maxAddress: number;
  readonly extents: ElfExtent[];
  readonly description: string;
  readonly headerPhysBase = undefined;
  readonly dumpLevel = undefined;
  readonly incomplete = false;
  readonly loadSegments: readonly DumpLoadSegment[];
  private readonly starts: Float64Array;
  private last = 0;
  private map: PageRun[] | undefined;
  private readonly window: ReadWindow;
  /** readRun's buffer: page-aligned, a run placed at its file offset modulo 64 (bytes/aligned.ts). */
  private runBuf: Uint8Array | undefined;

  constructor(
    readonly source: SyncByteSource,
    readonly elf: ElfFile = ElfFile.parse(source),
    pageSize?: number,
  ) {
    const h = elf.header;
    if (h.type !== 4) this.warnings.push({ code: "not-core", message: `ELF type ${h.type} is not ET_CORE` });
    for (const w of elf.warnings) this.warnings.push({ code: w.code, message: w.message, offset: w.offset });
    // an impossible program header (read as empty): say what the numbers mean and who wrote them
    for (const pr of diagnoseImpossibleHeaders(elf))
      for (const line of [...pr.evidence, ...(pr.likelyCause ? [`most likely: ${pr.likelyCause}`] : [])])
        this.warnings.push({ code: "impossible-header", message: `program header ${pr.index}: ${line}` });
    if (elf.rawCoreHeader)
      throw new UnsupportedError("a bare ELF core header (elfcorehdr): it describes memory but holds none");
    this.littleEndian = h.littleEndian;
    this.wordSize = h.class === 64 ? 8 : 4;
    this.machine = archName(h.machine, h.class);
    this.notes = elf.notes();
    this.pageSize = pageSize ?? 4096;
    const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
    this.description = `ELF${h.class} vmcore`;
    this.loadSegments = loads.map((p) => ({
      vaddr: p.vaddr,
      paddr: p.paddr,
      memsz: p.memsz,
      filesz: p.filesz,
      offset: p.offset,
    }));
    this.extents = buildExtents(loads, source.size, this.warnings);
    this.window = new ReadWindow(source, 1 << 20);
    this.starts = Float64Array.from(this.extents, (e) => e.start);
    this.maxAddress = this.extents.reduce((m, e) => Math.max(m, e.end), 0);
  }

  /** Index of the extent holding `addr`, or -1. */
  private find(addr: number): number {
    const ex = this.extents;
    const l = ex[this.last];
    if (l && addr >= l.start && addr < l.end) return this.last;
    const nx = ex[this.last + 1];
    if (nx && addr >= nx.start && addr < nx.end) return ++this.last;
    const st = this.starts;
    let lo = 0;
    let hi = st.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (st[mid]! <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi >= 0 && addr < ex[hi]!.end) {
      this.last = hi;
      return hi;
    }
    return -1;
  }

  stateAt(addr: number): PageState | undefined {
    const i = this.find(addr);
    return i < 0 ? undefined : this.extents[i]!.state;
  }

  firstAddress(): number | undefined {
    return this.extents[0]?.start;
  }

  memoryMap(): PageRun[] {
    if (this.map) return this.map;
    const out: PageRun[] = [];
    for (const e of this.extents) {
      const last = out[out.length - 1];
      if (last && last.end === e.start && last.state === e.state) last.end = e.end;
      else out.push({ start: e.start, end: e.end, state: e.state });
    }
    this.map = out;
    return out;
  }

  /** DumpBackend.plainBytes: PT_LOAD file bytes, wholly inside one extent. */
  plainBytes(addr: number, length: number): { source: SyncByteSource; offset: number } | undefined {
    const i = this.find(addr);
    if (i < 0) return undefined;
    const e = this.extents[i]!;
    if (e.state !== "present" || length < 0 || addr + length > e.end) return undefined;
    return { source: this.source, offset: e.fileOffset + (addr - e.start) };
  }

  /**
   * DumpBackend.readRun: the file bytes of physical [addr, addr + maxPages pages) up to the end
   * of the extent holding `addr` (an extent ending inside a page gives that page's bytes up to
   * its end), in one read into a buffer of this backend placed so that its address and the file
   * offset are equal modulo 64: a Node file's read then copies once at full speed where a
   * caller's plain buffer took a second copy (vmcore.elf-d31's 73 MB: ~23 ms before). Undefined
   * when `addr` holds no file bytes (read() says why).
   */
  readRun(addr: number, maxPages: number, _zeroExcluded: boolean): Uint8Array | undefined {
    if (!(maxPages >= 1)) return undefined;
    const i = this.find(addr);
    if (i < 0) return undefined;
    const e = this.extents[i]!;
    if (e.state !== "present") return undefined;
    const n = Math.min(Math.floor(maxPages) * this.pageSize, e.end - addr, 64 << 20);
    const off = e.fileOffset + (addr - e.start);
    const at = off % 64;
    let buf = this.runBuf;
    if (!buf || buf.length < n + 64) {
      buf = pageAlignedBytes(n + 64) ?? new Uint8Array(n + 64);
      this.runBuf = buf;
    }
    return this.source.readSync(off, n, buf.subarray(at, at + n));
  }

  nextDumpable(addr: number): number | undefined {
    const ex = this.extents;
    const i = this.find(addr);
    if (i >= 0 && ex[i]!.state === "present") return addr;
    // the first extent with bytes starting after addr (extents are sorted and disjoint)
    let lo = 0;
    let hi = ex.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ex[mid]!.start <= addr) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo; j < ex.length; j++) if (ex[j]!.state === "present") return ex[j]!.start;
    return undefined;
  }

  read(addr: number, out: Uint8Array, zeroExcluded: boolean): void {
    const len = out.length;
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const i = this.find(a);
      if (i < 0) {
        // name the hole; say where memory resumes when it does
        const next = this.extents.find((e) => e.start > a);
        throw new AddressError(
          "physical",
          a,
          `not in the dump (no PT_LOAD${next ? `; next memory at ${hex(next.start)}` : ""})`,
        );
      }
      const e = this.extents[i]!;
      const n = Math.min(len - done, e.end - a);
      if (e.state === "present") {
        const off = e.fileOffset + (a - e.start);
        // small reads go through a window (sequential page-by-page reads cost one read per
        // MiB); large ones straight into the caller's buffer
        if (n <= 65536) out.set(this.window.view(off, n), done);
        else this.source.readSync(off, n, out.subarray(done, done + n));
      } else if (e.state === "missing") {
        const pfn = Math.floor(a / this.pageSize);
        throw new TruncatedError(
          this.source.size,
          n,
          0,
          `data of physical ${hex(a)} (pfn ${hex(pfn)}, PT_LOAD ${e.phdr}: the file ends before it)`,
        );
      } else if (zeroExcluded) out.fill(0, done, done + n);
      else
        throw new ExcludedPageError(
          "physical",
          a,
          Math.floor(a / this.pageSize),
          "excluded (p_memsz > p_filesz)",
        );
      done += n;
    }
  }
}
